#!/usr/bin/env python3
"""WER of the exported ONNX model on connected-digit strings built from the
FSDD TEST split (indices 0-4) of all five speakers.

    python training/eval.py --model models/digits-en

500 seeded strings of 3-7 digits (100 per speaker, one speaker per string),
pauses 0.05-0.8 s, 0.1-0.5 s leading/trailing silence, 16 kHz; plus one
~60 s concatenation of strings as a long-input check.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
from infer import Recognizer, edit_ops  # noqa: E402


def test_strings(n_per_speaker=100, seed=20251121, min_len=3, max_len=7):
    """[(speaker, digits, audio@16k)], built from FSDD TEST indices only."""
    fsdd = D.load_fsdd(D.TEST_INDICES)
    rng = np.random.default_rng(seed)
    out = []
    for spk in D.SPEAKERS:
        for _ in range(n_per_speaker):
            digits = [int(d) for d in rng.integers(0, 10, int(rng.integers(min_len, max_len + 1)))]
            clips = [fsdd[spk][d][rng.integers(5)] for d in digits]
            out.append((spk, digits, D.compose(clips, rng, pause=(0.05, 0.8), edge=(0.1, 0.5))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/digits-en")
    ap.add_argument("--model-file", default="model.onnx")
    ap.add_argument("--variants", default="hann",
                    help="comma-separated front-end variants of features.py to evaluate "
                         "(hann = sherpa-onnx's front end, the reference; povey = brief's option list)")
    ap.add_argument("--n-per-speaker", type=int, default=100)
    ap.add_argument("--show-errors", type=int, default=10)
    args = ap.parse_args()

    items = test_strings(args.n_per_speaker)
    summary = []
    for variant in args.variants.split(","):
        summary.append((variant, evaluate(Recognizer(args.model, args.model_file, variant=variant), items, args)))
    for variant, wer in summary:
        print(f"WER_OVERALL[{variant}]={wer:.2f}")


def evaluate(rec, items, args):
    stats = {s: [0, 0, 0, 0, 0] for s in D.SPEAKERS}  # words, sub, del, ins, utts-with-error
    shown = 0
    for spk, digits, audio in items:
        ref = [D.WORDS[d] for d in digits]
        hyp = rec.words(audio)
        s, d, i = edit_ops(ref, hyp)
        st = stats[spk]
        st[0] += len(ref); st[1] += s; st[2] += d; st[3] += i; st[4] += (s + d + i) > 0
        if s + d + i and shown < args.show_errors:
            print(f"  error [{spk}] ref: {' '.join(ref)} | hyp: {' '.join(hyp)}")
            shown += 1

    print(f"\nWER on FSDD TEST split (indices 0-4), {len(items)} strings of 3-7 digits, front end '{rec.variant}'")
    print(f"{'speaker':<10} {'words':>6} {'sub':>4} {'del':>4} {'ins':>4} {'WER%':>6} {'SER%':>6}")
    tot = [0, 0, 0, 0, 0]
    for spk in D.SPEAKERS:
        st = stats[spk]
        tot = [a + b for a, b in zip(tot, st)]
        print(f"{spk:<10} {st[0]:>6} {st[1]:>4} {st[2]:>4} {st[3]:>4} {100 * sum(st[1:4]) / st[0]:>6.2f} "
              f"{100 * st[4] / args.n_per_speaker:>6.2f}")
    print(f"{'overall':<10} {tot[0]:>6} {tot[1]:>4} {tot[2]:>4} {tot[3]:>4} {100 * sum(tot[1:4]) / tot[0]:>6.2f} "
          f"{100 * tot[4] / len(items):>6.2f}")

    # long-input check: ~60 s (6000 frames) of consecutive strings, one inference
    rng = np.random.default_rng(7)
    parts, ref = [], []
    for _, digits, audio in items[::7]:
        if sum(len(p) for p in parts) + len(audio) > 60 * D.SR:
            break
        parts.append(audio)
        ref += [D.WORDS[d] for d in digits]
    long = np.concatenate(parts)
    long = np.concatenate([long, np.zeros(max(0, 60 * D.SR - len(long)), np.float32)])
    hyp = rec.words(long)
    s, d, i = edit_ops(ref, hyp)
    print(f"\nlong input: {len(long) / D.SR:.1f} s, {len(ref)} words in one inference: "
          f"WER {100 * (s + d + i) / len(ref):.2f}% (sub {s}, del {d}, ins {i})")
    _ = rng
    print()
    return 100 * sum(tot[1:4]) / tot[0]


if __name__ == "__main__":
    main()
