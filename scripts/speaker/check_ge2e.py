#!/usr/bin/env python3
"""Checks hark's ONNX GE2E encoder (models/speaker-ge2e/ge2e.onnx) against
Resemblyzer's own PyTorch `VoiceEncoder` on real speech.

For each file: Resemblyzer's `embed_utterance(wav, return_partials=True)`
(its partial windows of 160 frames, its librosa mel front end) against
ONNX Runtime on exactly the same mel partials, and the utterance embedding
(L2-normed mean of the partials) both ways. Also hark's 1.5 s windows (150
frames) through both. Fails when a cosine similarity is below MIN_COSINE or
an element differs by more than MAX_ABS.

Run by scripts/check-speaker-conversion (which makes the venv).
Usage: check_ge2e.py MODEL_DIR WAV...
"""
import sys

import numpy as np
import onnxruntime as ort
import torch
from resemblyzer import VoiceEncoder, audio

MIN_COSINE = 0.99999
MAX_ABS = 1e-4


def load(path):
    import librosa

    wav, _ = librosa.load(path, sr=16000, mono=True)
    return wav.astype(np.float32)


def main():
    model_dir, files = sys.argv[1], sys.argv[2:]
    enc = VoiceEncoder(device="cpu", verbose=False)
    sess = ort.InferenceSession(f"{model_dir}/ge2e.onnx", providers=["CPUExecutionProvider"])
    worst_cos, worst_abs, n = 1.0, 0.0, 0
    for path in files:
        wav = load(path)[: 16000 * 60]  # the first minute is plenty
        embed, partials, slices = enc.embed_utterance(wav, return_partials=True)
        # The same mel partials Resemblyzer used.
        _, mel_slices = enc.compute_partial_slices(len(wav), 1.3, 0.75)
        padded = np.pad(wav, (0, max(0, slices[-1].stop - len(wav))))
        mel = audio.wav_to_mel_spectrogram(padded)
        mels = np.array([mel[s] for s in mel_slices], dtype=np.float32)
        got = sess.run(None, {"mels": mels})[0]
        cos = np.sum(got * partials, axis=1)
        raw = got.mean(axis=0)
        utt = raw / np.linalg.norm(raw)
        # hark's windows: 150 frames every 75.
        wins = np.array([mel[i : i + 150] for i in range(0, len(mel) - 150, 75)], dtype=np.float32)
        with torch.no_grad():
            ref150 = enc(torch.from_numpy(wins)).numpy()
        got150 = sess.run(None, {"mels": wins})[0]
        cos150 = np.sum(got150 * ref150, axis=1)
        worst_abs = max(worst_abs, float(np.abs(got - partials).max()), float(np.abs(got150 - ref150).max()))
        worst_cos = min(worst_cos, float(cos.min()), float(cos150.min()), float(utt @ embed))
        n += len(got) + len(got150)
        print(
            f"{path}: {len(got)} partials min cos {cos.min():.7f}, utterance cos {utt @ embed:.7f}; "
            f"{len(got150)} 1.5 s windows min cos {cos150.min():.7f}; max abs {worst_abs:.2e}"
        )
    print(f"check_ge2e: {n} embeddings, worst cosine {worst_cos:.7f} (need >= {MIN_COSINE}), "
          f"worst element difference {worst_abs:.2e} (need <= {MAX_ABS})")
    if worst_cos < MIN_COSINE or worst_abs > MAX_ABS:
        sys.exit("check_ge2e: FAILED")
    print("check_ge2e: ok")


if __name__ == "__main__":
    main()
