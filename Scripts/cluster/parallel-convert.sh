#!/usr/bin/env bash
# GNU parallel on one or more machines: N shards, each a separate audiodq process.
#   Scripts/cluster/parallel-convert.sh IN OUT [SHARDS] [SEED]
# With --sshloginfile, GNU parallel spreads the same commands over hosts sharing IN and OUT.
set -euo pipefail
in=${1:?corpus folder or manifest}; out=${2:?output folder}; n=${3:-4}; seed=${4:-0}
bin=${AUDIODQ:-audiodq}
command -v parallel >/dev/null || { echo "parallel-convert: GNU parallel is not installed (apt-get install parallel)" >&2; exit 1; }
seq 0 $((n - 1)) | parallel --halt never -j "$n" "$bin" convert "$in" "$out" --shard {}/"$n" --jobs 1 --seed "$seed" -q
