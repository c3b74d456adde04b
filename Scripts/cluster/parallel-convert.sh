#!/usr/bin/env bash
# GNU parallel on one or more machines: N shards, each a separate audiodq process.
#   Scripts/cluster/parallel-convert.sh IN OUT [SHARDS [SEED]] [-- PARALLEL_OPTIONS...]
# SHARDS defaults to 4, SEED to 0. Everything after "--" goes to GNU parallel, after the script's
# own "-j SHARDS", so it can override it; e.g. "-- --sshloginfile hosts" spreads the shards over
# the hosts listed there (IN and OUT must then be the same absolute paths on every host, on a
# filesystem with flock and atomic rename, and audiodq, or $AUDIODQ, on each host's PATH).
# Paths may contain spaces or shell characters. The exit code is GNU parallel's: the number of
# failed shards (0 when all succeeded); a shard that fails can be rerun alone with
# audiodq convert IN OUT --shard I/N (finished files are skipped).
set -euo pipefail
usage() { echo "parallel-convert: $*" >&2; echo "usage: parallel-convert.sh IN OUT [SHARDS [SEED]] [-- PARALLEL_OPTIONS...]" >&2; exit 64; }
positional=()
while (($#)) && [[ $1 != -- ]]; do positional+=("$1"); shift; done
(($#)) && shift   # the "--"; what remains goes to parallel
((${#positional[@]} >= 2 && ${#positional[@]} <= 4)) || usage "expected IN OUT [SHARDS [SEED]]"
in=${positional[0]}; out=${positional[1]}; n=${positional[2]:-4}; seed=${positional[3]:-0}
[[ $n =~ ^[1-9][0-9]*$ ]] || usage "SHARDS must be a positive integer, not '$n'"
[[ $seed =~ ^[0-9]+$ ]] || usage "SEED must be a non-negative integer, not '$seed'"
bin=${AUDIODQ:-audiodq}
command -v parallel >/dev/null || { echo "parallel-convert: GNU parallel is not installed (apt-get install parallel)" >&2; exit 1; }
# --quote: parallel passes each word below as one argument (it would otherwise join them and let
# the shell split the paths again); {} is still replaced by the shard index
seq 0 $((n - 1)) | parallel --will-cite --quote --halt never -j "$n" "$@" \
  "$bin" convert "$in" "$out" --shard "{}/$n" --jobs 1 --seed "$seed" --quiet
