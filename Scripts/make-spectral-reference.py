#!/usr/bin/env python3
"""Writes the scipy reference fixture for the SpectralDiagnostics tests.

Deterministic inputs (numpy default_rng(1234)): a noise series n (uniform within-bin noise,
centred) and a code series x (a sine plus a random walk, as bin indices). scipy.signal.welch and
scipy.signal.coherence with the conventions SpectralDiagnostics implements (periodic Hann,
nperseg, 50% overlap, constant detrend, density scaling, one-sided) give the expected values.

Usage: Scripts/make-spectral-reference.py [output.json]
(default: Tests/SpectralDiagnosticsTests/Fixtures/welch_reference.json)
"""
import json
import os
import sys

import numpy as np
import scipy
import scipy.signal as ss

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "Tests", "SpectralDiagnosticsTests", "Fixtures", "welch_reference.json")
    rng = np.random.default_rng(1234)
    fs = 16000.0
    nperseg = 256
    count = 4000  # not a multiple of the hop: the tail that fills no segment must be ignored
    t = np.arange(count)
    walk = np.cumsum(rng.integers(-3, 4, size=count))
    x = np.floor(128 + 40 * np.sin(2 * np.pi * 1000.0 * t / fs) + walk).astype(np.float64)
    n = rng.random(count) - 0.5 + 0.002 * (x - x.mean())  # slightly coupled to x
    kw = dict(fs=fs, window="hann", nperseg=nperseg, noverlap=nperseg // 2,
              detrend="constant", scaling="density", return_onesided=True)
    f, pnn = ss.welch(n, **kw)
    _, pxx = ss.welch(x, **kw)
    _, psum = ss.welch(x + n, **kw)
    ckw = {k: v for k, v in kw.items() if k not in ("scaling", "return_onesided")}
    _, cxy = ss.coherence(n, x, **ckw)
    doc = {
        "generator": "Scripts/make-spectral-reference.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "sampleRate": fs,
        "nperseg": nperseg,
        "noise": n.tolist(),
        "codes": x.tolist(),
        "frequencyHz": f.tolist(),
        "noisePSD": pnn.tolist(),
        "codesPSD": pxx.tolist(),
        "sumPSD": psum.tolist(),
        "coherence": cxy.tolist(),
    }
    with open(out, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")

if __name__ == "__main__":
    main()
