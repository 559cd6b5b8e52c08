#!/usr/bin/env python3
"""The peer for scripts/bench: sherpa-onnx's VAD + offline recognizer on one file.

What a sherpa-onnx user runs on a long file (sherpa-onnx's
python-api-examples/vad-with-non-streaming-asr.py): Silero VAD
(`sherpa_onnx.VoiceActivityDetector`) cuts the 16 kHz samples into speech
segments, each segment is decoded by `OfflineRecognizer.from_nemo_ctc` on the
same model directory with `num_threads` intra-op threads.

Input must be a 16 kHz mono WAV (scripts/bench makes it with ffmpeg; that
conversion is not timed). Reading it with soundfile is timed ("read").
Prints one JSON line on stdout: text, audio seconds and the time split
(load, read, vad, asr, total; seconds of wall clock in this process).

Usage: bench_sherpa.py --model DIR --wav FILE --threads N [--silero PATH]
"""

import argparse
import json
import os
import sys
import time

T0 = time.perf_counter()
import numpy as np  # noqa: E402
import sherpa_onnx  # noqa: E402
import soundfile as sf  # noqa: E402

T_IMPORT = time.perf_counter() - T0

SILERO = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "models", "silero-vad", "silero_vad.onnx")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--wav", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--silero", default=SILERO)
    ap.add_argument("--max-speech", type=float, default=20.0,
                    help="Silero max_speech_duration (s); hark's chunk target is 20 s")
    args = ap.parse_args()

    t = time.perf_counter()
    onnx = os.path.join(args.model, "model.onnx")
    if not os.path.exists(onnx):
        onnx = os.path.join(args.model, "model.int8.onnx")
    rec = sherpa_onnx.OfflineRecognizer.from_nemo_ctc(
        model=onnx,
        tokens=os.path.join(args.model, "tokens.txt"),
        num_threads=args.threads,
        sample_rate=16000,
        feature_dim=80,
        decoding_method="greedy_search",
    )
    cfg = sherpa_onnx.VadModelConfig()
    cfg.silero_vad.model = args.silero
    cfg.silero_vad.threshold = 0.5
    cfg.silero_vad.min_silence_duration = 0.25
    cfg.silero_vad.min_speech_duration = 0.25
    cfg.silero_vad.max_speech_duration = args.max_speech
    cfg.sample_rate = 16000
    # One thread: Silero runs one 32 ms window per call, and a second intra-op
    # thread made it 1.7x slower here (the example's default is 1, too).
    cfg.num_threads = 1
    window = cfg.silero_vad.window_size
    vad = sherpa_onnx.VoiceActivityDetector(cfg, buffer_size_in_seconds=120)
    load = time.perf_counter() - t

    t = time.perf_counter()
    samples, rate = sf.read(args.wav, dtype="float32", always_2d=True)
    if rate != 16000:
        sys.exit(f"bench_sherpa: {args.wav}: {rate} Hz, want 16000")
    samples = np.ascontiguousarray(samples.mean(axis=1))
    read = time.perf_counter() - t

    t_vad = t_asr = 0.0
    texts = []

    def drain():
        nonlocal t_asr
        while not vad.empty():
            seg = vad.front
            t1 = time.perf_counter()
            s = rec.create_stream()
            s.accept_waveform(16000, seg.samples)
            rec.decode_stream(s)
            texts.append(s.result.text.strip())
            t_asr += time.perf_counter() - t1
            vad.pop()

    for i in range(0, len(samples), window):
        t1 = time.perf_counter()
        vad.accept_waveform(samples[i:i + window])
        t_vad += time.perf_counter() - t1
        drain()
    t1 = time.perf_counter()
    vad.flush()
    t_vad += time.perf_counter() - t1
    drain()

    print(json.dumps({
        "text": " ".join(x for x in texts if x),
        "segments": len(texts),
        "audio_s": len(samples) / 16000,
        "import": T_IMPORT,
        "load": load,
        "read": read,
        "vad": t_vad,
        "asr": t_asr,
        "total": time.perf_counter() - T0,
    }))


if __name__ == "__main__":
    main()
