#!/usr/bin/env python3
"""Scripts/cross-check-torch.py TRAIN_DIR EVAL_DIR [--steps 200] [--seed 0] [--audiodq BIN]

Evaluates the *same* waveform flow in PyTorch and in audiodq. Trains the reference MainFlow
(../shared/bench/variational_torch.py) with uniform noise for a few steps in PyTorch, scores the
evaluation files with the reference's per-file protocol, writes the weights as an audiodq model
(.dqm: the checkpoint format of Sources/FlowEngine/Checkpoint.swift) and scores them again with
`audiodq eval`. The two bits/sample figures must agree to the noise of one draw of u per file; a
systematic difference would be an accounting difference between the two implementations, not a
training difference. Needs torch (the bench venv) and the reference on PYTHONPATH.
"""
import argparse, glob, json, math, os, struct, subprocess, sys, tempfile, zlib
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench"))
import dqcodes  # noqa: E402
import variational_torch as vt  # noqa: E402

ENCODINGS = {"ulaw": 0, "alaw": 1, "u8": 2, "s8": 3, "s16": 4, "s24": 5}


def write_dqm(path, flow, binCount, encoding, rate, steps):
    """audiodq.model checkpoint: magic, version 1, header JSON, float32 payloads, CRC32."""
    arrays = []
    for s in range(6):
        an, ic, cp = flow.mods[3 * s], flow.mods[3 * s + 1], flow.mods[3 * s + 2]
        p = f"flow.step{s}."
        arrays += [(p + "actnorm.bias", an.bias), (p + "actnorm.logs", an.logs), (p + "invconv.weight", ic.weight)]
        for i, layer in zip((1, 2, 3), (0, 2, 4)):
            arrays += [(p + f"coupling.conv{i}.weight", cp.net[layer].weight), (p + f"coupling.conv{i}.bias", cp.net[layer].bias)]
    arrays.append(("flow.actnorm.initialized", torch.ones(6)))
    header = {"model": "audiodq.model",
              "architecture": {"binCount": binCount, "encoding": encoding, "flow.hidden": 64, "flow.kernelSize": 3,
                               "flow.squeeze": 8, "flow.steps": 6, "method": 0, "sampleRate": rate, "step": steps},
              "arrays": [{"name": n, "shape": list(t.shape)} for n, t in arrays]}
    h = json.dumps(header).encode()
    body = b"FLWCKPT\0" + struct.pack("<II", 1, len(h)) + h
    body += b"".join(t.detach().float().contiguous().numpy().astype("<f4").tobytes() for _, t in arrays)
    open(path, "wb").write(body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train"); ap.add_argument("eval")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encoding", default="u8", choices=sorted(ENCODINGS))
    ap.add_argument("--audiodq", default=".build/release/audiodq")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    train = [dqcodes.read_codes(f) for f in sorted(glob.glob(os.path.join(a.train, "*.wav")))]
    evals = [dqcodes.read_codes(f) for f in sorted(glob.glob(os.path.join(a.eval, "*.wav")))]
    K, rate = train[0][1], train[0][2]
    usable = [torch.from_numpy(c.astype(np.int64)) for c, _, _, _ in train if c.size >= 2048]
    flow = vt.MainFlow()
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
    rng = np.random.default_rng(a.seed)
    for _ in range(a.steps):
        idx = rng.integers(0, len(usable), size=16)
        x = torch.stack([usable[i][o:o + 2048] for i in idx for o in [int(rng.integers(0, usable[i].numel() - 2048 + 1))]])
        loss = vt.neg_elbo_bits(flow, None, x, K, "uniform").mean()
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    tot, n = 0.0, 0
    with torch.no_grad():
        for c, _, _, _ in evals:
            T = (c.size // 16) * 16
            if T == 0:
                continue
            x = torch.from_numpy(c[:T].astype(np.int64)).view(1, T)
            tot += float(vt.neg_elbo_bits(flow, None, x, K, "uniform")[0]) * T
            n += T
    torch_bits = tot / n
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "torch.dqm")
        write_dqm(model, flow, K, ENCODINGS[a.encoding], rate, a.steps)
        r = subprocess.run([a.audiodq, "eval", a.eval, "--model", model, "--json"], check=True, capture_output=True, text=True)
        ours = json.loads(r.stdout)
    print(json.dumps({"steps": a.steps, "seed": a.seed, "samples": n, "torchElboBitsPerSample": torch_bits,
                      "audiodqElboBitsPerSample": ours["elboBitsPerSample"], "audiodqSamples": ours["samples"],
                      "difference": ours["elboBitsPerSample"] - torch_bits}))


if __name__ == "__main__":
    main()
