#!/usr/bin/env python3
"""The peers for scripts/bench-whisper: faster-whisper and sherpa-onnx on Whisper.

Runs inside .venv-bench-whisper (scripts/bench-whisper makes it). One process
per call, so that the caller's /usr/bin/time measures the whole peer (Python
start-up, imports, model load, decoding) the way it measures hark.

  fw      faster_whisper.WhisperModel(CT2 dir, device="cpu", compute_type=...,
          cpu_threads=N).transcribe(path, language="en", beam_size=B,
          temperature=[0.0, 0.2, ..., 1.0] (its default fallback),
          condition_on_previous_text=False, vad_filter=False (its default),
          word_timestamps=...): what a faster-whisper user runs on a file.
          Several --audio may be given (one model load for all of them).
  sherpa  sherpa_onnx.OfflineRecognizer.from_whisper on the sherpa-onnx-layout
          ONNX directory hark reads, with Silero VAD
          (sherpa_onnx.VoiceActivityDetector) cutting the long file first, as
          in sherpa-onnx's python-api-examples/vad-with-non-streaming-asr.py.
          Input: a 16 kHz mono WAV (the caller makes it with ffmpeg; that
          conversion is not timed, reading it with soundfile is).

Prints one JSON object on stdout. On stderr it prints the line
`bench-whisper: first result` the moment the first segment of the first file
is decoded, so that the caller can time start-up (process start -> first
result) the same way for every engine.

Usage: bench_whisper.py fw --ct2 DIR --audio FILE [--audio FILE...] [--compute int8|float32]
                            [--threads N] [--beam B] [--word-timestamps]
       bench_whisper.py sherpa --model DIR --wav FILE16K [--threads N] [--silero PATH]
"""

import argparse
import glob
import json
import os
import sys
import time

T0 = time.perf_counter()

FALLBACK = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]  # faster-whisper's default temperature schedule


def first_result(state):
    if not state.get("first"):
        state["first"] = time.perf_counter() - T0
        print("bench-whisper: first result", file=sys.stderr, flush=True)


def run_fw(args):
    from faster_whisper import WhisperModel

    t_import = time.perf_counter() - T0
    t = time.perf_counter()
    model = WhisperModel(args.ct2, device="cpu", compute_type=args.compute, cpu_threads=args.threads)
    load = time.perf_counter() - t
    kwargs = dict(language="en", task="transcribe", beam_size=args.beam, temperature=FALLBACK,
                  condition_on_previous_text=False, vad_filter=False, word_timestamps=args.word_timestamps)
    state, files = {}, []
    for path in args.audio:
        t = time.perf_counter()
        segments, info = model.transcribe(path, **kwargs)
        segs, words = [], []
        for s in segments:  # a generator: each window is decoded when asked for
            first_result(state)
            segs.append({"start": s.start, "end": s.end, "text": s.text})
            for w in s.words or []:
                words.append({"start": w.start, "end": w.end, "word": w.word.strip(), "p": w.probability})
        files.append({"audio": path, "audio_s": info.duration, "seconds": time.perf_counter() - t,
                      "text": " ".join(s["text"].strip() for s in segs), "segments": segs, "words": words})
    print(json.dumps({"engine": "faster-whisper", "compute_type": args.compute, "cpu_threads": args.threads,
                      "kwargs": kwargs, "import": t_import, "load": load, "first": state.get("first"),
                      "total": time.perf_counter() - T0, "files": files}))


def run_sherpa(args):
    import numpy as np
    import sherpa_onnx
    import soundfile as sf

    t_import = time.perf_counter() - T0
    t = time.perf_counter()

    def one(pattern):
        found = sorted(glob.glob(os.path.join(args.model, pattern)))
        if not found:
            sys.exit(f"bench_whisper: no {pattern} in {args.model}")
        return found[0]

    rec = sherpa_onnx.OfflineRecognizer.from_whisper(
        encoder=one("*encoder.onnx"), decoder=one("*decoder.onnx"), tokens=one("*tokens.txt"),
        language="en", task="transcribe", num_threads=args.threads, decoding_method="greedy_search")
    cfg = sherpa_onnx.VadModelConfig()
    cfg.silero_vad.model = args.silero
    cfg.silero_vad.threshold = 0.5
    cfg.silero_vad.min_silence_duration = 0.25
    cfg.silero_vad.min_speech_duration = 0.25
    cfg.silero_vad.max_speech_duration = args.max_speech  # Whisper's window is 30 s
    cfg.sample_rate = 16000
    cfg.num_threads = 1  # one 32 ms window per call; more threads only cost (scripts/bench_sherpa.py)
    window = cfg.silero_vad.window_size
    vad = sherpa_onnx.VoiceActivityDetector(cfg, buffer_size_in_seconds=120)
    load = time.perf_counter() - t

    t = time.perf_counter()
    samples, rate = sf.read(args.wav, dtype="float32", always_2d=True)
    if rate != 16000:
        sys.exit(f"bench_whisper: {args.wav}: {rate} Hz, want 16000")
    samples = np.ascontiguousarray(samples.mean(axis=1))
    read = time.perf_counter() - t

    t_vad = t_asr = 0.0
    segs, state = [], {}

    def drain():
        nonlocal t_asr
        while not vad.empty():
            seg = vad.front
            t1 = time.perf_counter()
            s = rec.create_stream()
            s.accept_waveform(16000, seg.samples)
            rec.decode_stream(s)
            t_asr += time.perf_counter() - t1
            first_result(state)
            segs.append({"start": seg.start / 16000, "end": (seg.start + len(seg.samples)) / 16000,
                         "text": s.result.text.strip()})
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
    print(json.dumps({"engine": "sherpa-onnx", "num_threads": args.threads, "import": t_import, "load": load,
                      "read": read, "vad": t_vad, "asr": t_asr, "first": state.get("first"),
                      "total": time.perf_counter() - T0,
                      "files": [{"audio": args.wav, "audio_s": len(samples) / 16000, "segments": segs,
                                 "text": " ".join(s["text"] for s in segs if s["text"]), "words": []}]}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fw")
    f.add_argument("--ct2", required=True)
    f.add_argument("--audio", action="append", required=True)
    f.add_argument("--compute", default="int8")
    f.add_argument("--threads", type=int, default=2)
    f.add_argument("--beam", type=int, default=1)
    f.add_argument("--word-timestamps", action="store_true")
    s = sub.add_parser("sherpa")
    s.add_argument("--model", required=True)
    s.add_argument("--wav", required=True)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--silero", required=True)
    s.add_argument("--max-speech", type=float, default=20.0,
                   help="Silero max_speech_duration in s (Whisper decodes at most 30 s at once)")
    args = ap.parse_args()
    run_fw(args) if args.cmd == "fw" else run_sherpa(args)


if __name__ == "__main__":
    main()
