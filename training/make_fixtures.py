#!/usr/bin/env python3
"""Write hark's connected-digit test fixtures from the FSDD TEST split
(indices 0-4, never used for training) into tests/fixtures/digits/.

    python training/make_fixtures.py [--out tests/fixtures/digits] [--check models/digits-en]

- six short files, 16 kHz mono 16-bit PCM WAV, 3-5 digits each: one per
  speaker plus one mixing speakers; `NAME.wav` + `NAME.txt` (reference words,
  space-separated, lower case, one line).
- long-60s.wav: ~60 s of digit strings from all speakers with 0.4-1.5 s
  pauses, 8 kHz mono 8-bit unsigned PCM WAV (to stay small), with
  long-60s.txt (all words) and long-60s.segments.tsv (start, end, text).
Deterministic (seeded). Attribution: FSDD, Zohar Jackson et al., CC BY-SA 4.0.
"""
import argparse
import os
import sys

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402


def load_test_8k():
    out = {s: {d: [] for d in range(10)} for s in D.SPEAKERS}
    for s in D.SPEAKERS:
        for d in range(10):
            for i in D.TEST_INDICES:
                x, sr = sf.read(os.path.join(D.FSDD_DIR, f"{d}_{s}_{i}.wav"), dtype="float32")
                assert sr == 8000
                out[s][d].append(x)
    return out


def compose_sr(clips, rng, sr, pause, edge):
    parts = [np.zeros(int(rng.uniform(*edge) * sr), np.float32)]
    for i, c in enumerate(clips):
        if i:
            parts.append(np.zeros(int(rng.uniform(*pause) * sr), np.float32))
        parts.append(c)
    parts.append(np.zeros(int(rng.uniform(*edge) * sr), np.float32))
    return np.concatenate(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/fixtures/digits")
    ap.add_argument("--seed", type=int, default=31337)
    ap.add_argument("--check", default="", help="model dir: transcribe the fixtures and report")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    fsdd8 = load_test_8k()
    written = []

    plan = [(s, s) for s in D.SPEAKERS] + [("mixed", None)]
    for name, spk in plan:
        n = int(rng.integers(3, 6))
        digits = [int(d) for d in rng.integers(0, 10, n)]
        clips = []
        for d in digits:
            s = spk or D.SPEAKERS[rng.integers(len(D.SPEAKERS))]
            clips.append(fsdd8[s][d][rng.integers(len(D.TEST_INDICES))])
        x8 = compose_sr(clips, rng, 8000, pause=(0.1, 0.35), edge=(0.1, 0.25))
        x = D.resample(x8, 8000, D.SR)
        x = x / max(1.0, float(np.abs(x).max()) / 0.99)
        base = os.path.join(args.out, f"{name}")
        sf.write(base + ".wav", x, D.SR, subtype="PCM_16")
        with open(base + ".txt", "w") as f:
            f.write(" ".join(D.WORDS[d] for d in digits) + "\n")
        written.append((base + ".wav", [D.WORDS[d] for d in digits]))

    # ~60 s long file, 8 kHz 8-bit
    sr = 8000
    parts, segs, words, t = [], [], [], 0.0
    lead = np.zeros(int(0.5 * sr), np.float32)
    parts.append(lead)
    t += len(lead) / sr
    k = 0
    while True:
        spk = D.SPEAKERS[k % len(D.SPEAKERS)]
        k += 1
        digits = [int(d) for d in rng.integers(0, 10, int(rng.integers(3, 8)))]
        clips = [fsdd8[spk][d][rng.integers(len(D.TEST_INDICES))] for d in digits]
        x = compose_sr(clips, rng, sr, pause=(0.05, 0.4), edge=(0.0, 0.0))
        gap = np.zeros(int(rng.uniform(0.4, 1.5) * sr), np.float32)
        if t + (len(x) + len(gap)) / sr > 60.0:
            break
        segs.append((t, t + len(x) / sr, " ".join(D.WORDS[d] for d in digits)))
        words += [D.WORDS[d] for d in digits]
        parts += [x, gap]
        t += (len(x) + len(gap)) / sr
    long = np.concatenate(parts)
    long = np.concatenate([long, np.zeros(int(60.0 * sr) - len(long), np.float32)])
    long = long / max(1.0, float(np.abs(long).max()) / 0.99)
    base = os.path.join(args.out, "long-60s")
    sf.write(base + ".wav", long, sr, subtype="PCM_U8")
    with open(base + ".txt", "w") as f:
        f.write(" ".join(words) + "\n")
    with open(base + ".segments.tsv", "w") as f:
        f.write("start\tend\ttext\n")
        for a, b, txt in segs:
            f.write(f"{a:.3f}\t{b:.3f}\t{txt}\n")
    written.append((base + ".wav", words))

    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"wrote {len(written)} WAVs to {args.out}, {total / 1024:.0f} KiB in total")

    if args.check:
        from infer import Recognizer, edit_ops
        rec = Recognizer(args.check)
        for path, ref in written:
            x = D.load_wav(path)
            hyp = rec.words(x)
            s, d, i = edit_ops(ref, hyp)
            status = "ok" if s + d + i == 0 else f"{s + d + i} errors"
            print(f"  {os.path.basename(path)}: {len(ref)} words, {status}"
                  + ("" if s + d + i == 0 else f"\n    ref: {' '.join(ref)}\n    hyp: {' '.join(hyp)}"))


if __name__ == "__main__":
    main()
