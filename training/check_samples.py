#!/usr/bin/env python3
"""Transcribe samples/*.wav (each channel separately) and tiny/edge inputs
with the exported model via onnxruntime + features.py.

    python training/check_samples.py --model models/digits-en
"""
import argparse
import os
import sys

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
from infer import Recognizer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/digits-en")
    args = ap.parse_args()
    for variant in ["hann", "povey"]:
        rec = Recognizer(args.model, variant=variant)
        for path in ["samples/digits.wav", "samples/digits-stereo.wav"]:
            x, sr = sf.read(path, dtype="float32", always_2d=True)
            for c in range(x.shape[1]):
                words = rec.words(D.resample(x[:, c], sr, D.SR))
                print(f"[{variant}] {path} ch{c}: {' '.join(words)}")
        # edge cases: any T >= 1 must run; silence should give nothing
        for n in [80, 160, 400, 1600]:
            lp = rec.logprobs(np.zeros(n, np.float32))
            print(f"[{variant}] {n} zero samples -> T'={lp.shape[0]}, words={rec.words(np.zeros(n, np.float32))}")
        rng = np.random.default_rng(0)
        nz = (rng.standard_normal(16000 * 5) * 0.01).astype(np.float32)
        print(f"[{variant}] 5 s white noise -> {rec.words(nz)}")


if __name__ == "__main__":
    main()
