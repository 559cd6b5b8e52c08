#!/usr/bin/env python3
"""Prove that models/digits-en is a valid sherpa-onnx NeMo CTC model and that
training/features.py reproduces sherpa-onnx's front end.

    python training/sherpa_check.py --model models/digits-en

1. Front-end probe: hand-built ONNX "models" in the same NeMo CTC layout
   that emit a token at frame t iff normalised feature bin b exceeds a
   threshold c (subsampling 1, alternating tokens so CTC never merges
   frames; sherpa's timestamps are then exactly the frames above c). For
   8 bins x 5 thresholds x 8 WAVs we compare those frame sets with the same
   decision computed from features.py, for each front-end variant. A correct
   front end differs only on frames whose value is within float rounding of
   the threshold.
2. Model agreement: the real model through sherpa-onnx vs through
   onnxruntime + features.py, on connected-digit strings from the FSDD TEST
   split (indices 0-4) written as 16 kHz 16-bit WAV files.
3. With --hark BIN: the same WAV files through the hark binary
   (`BIN --license L --model DIR --input X --output-format txt`), compared
   word for word with sherpa-onnx (and with the reference). Set
   ORT_DYLIB_PATH for hark as usual.

    python training/sherpa_check.py --model models/digits-en \
        --hark ./target/debug/hark --license tests/fixtures/license/valid.json
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import onnxruntime as ort
import sherpa_onnx
import soundfile as sf
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import features as F  # noqa: E402
from eval import test_strings  # noqa: E402
from infer import Recognizer, edit_distance  # noqa: E402

PROBE_BINS = [0, 5, 10, 20, 40, 60, 75, 79]
PROBE_THRESHOLDS = [-1.0, -0.3, 0.0, 0.4, 1.2]


def build_probe(path, b, c):
    """NeMo-CTC-layout ONNX (subsampling 1, vocab a/b/blank) that emits a
    token at frame t iff normalised feature x[b, t] > c: token 'a' on even
    frames, 'b' on odd ones, so CTC never merges neighbours and sherpa-onnx's
    timestamps list exactly the frames above the threshold."""
    def cst(n, v, dt=TensorProto.FLOAT):
        return helper.make_tensor(n, dt, np.shape(v), np.ravel(v))
    mk = helper.make_node
    nodes = [
        mk("Gather", ["audio_signal", "bidx"], ["xb"], axis=1),  # [N, T]
        mk("Sub", ["xb", "c"], ["y"]), mk("Mul", ["y", "s"], ["ys"]),
        mk("Shape", ["audio_signal"], ["shp"]), mk("Gather", ["shp", "two"], ["T"], axis=0),
        mk("Range", ["zero64", "T", "one64"], ["r"]), mk("Mod", ["r", "two64"], ["par64"]),
        mk("Cast", ["par64"], ["par"], to=TensorProto.FLOAT),
        mk("Mul", ["par", "big"], ["pen_odd"]), mk("Sub", ["big", "pen_odd"], ["pen_even"]),
        mk("Sub", ["ys", "pen_odd"], ["la"]), mk("Sub", ["ys", "pen_even"], ["lb"]),
        mk("Mul", ["xb", "zerof"], ["lz"]),
        mk("Unsqueeze", ["la", "ax"], ["la3"]), mk("Unsqueeze", ["lb", "ax"], ["lb3"]),
        mk("Unsqueeze", ["lz", "ax"], ["lz3"]),
        mk("Concat", ["la3", "lb3", "lz3"], ["logits"], axis=-1),
        mk("LogSoftmax", ["logits"], ["logprobs"], axis=-1),
        mk("Identity", ["length"], ["encoded_lengths"]),
    ]
    i64 = TensorProto.INT64
    inits = [cst("bidx", np.array(b, np.int64), i64), cst("c", np.float32(c)), cst("s", np.float32(1e4)),
             cst("two", np.array(2, np.int64), i64), cst("zero64", np.array(0, np.int64), i64),
             cst("one64", np.array(1, np.int64), i64), cst("two64", np.array(2, np.int64), i64),
             cst("big", np.float32(1e6)), cst("zerof", np.float32(0)), cst("ax", np.array([-1], np.int64), i64)]
    g = helper.make_graph(
        nodes, "probe",
        [helper.make_tensor_value_info("audio_signal", TensorProto.FLOAT, ["N", 80, "T"]),
         helper.make_tensor_value_info("length", TensorProto.INT64, ["N"])],
        [helper.make_tensor_value_info("logprobs", TensorProto.FLOAT, ["N", "T", 3]),
         helper.make_tensor_value_info("encoded_lengths", TensorProto.INT64, ["N"])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    for k, v in {"vocab_size": "3", "normalize_type": "per_feature", "subsampling_factor": "1",
                 "model_type": "EncDecCTCModelBPE", "is_giga_am": "0"}.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)


def sherpa_decode(rec, samples):
    s = rec.create_stream()
    s.accept_waveform(D.SR, samples)
    rec.decode_stream(s)
    return s.result


def read_wav(path):
    x, sr = sf.read(path, dtype="float32")
    assert sr == D.SR
    return x


def probe_front_end(tmp, n_files=8):
    """Frame-level comparison of sherpa-onnx's features with features.py."""
    tokens = os.path.join(tmp, "probe_tokens.txt")
    with open(tokens, "w", encoding="utf-8") as f:
        f.write("\u2581a 0\n\u2581b 1\n<blk> 2\n")
    rng = np.random.default_rng(99)
    fsdd = D.load_fsdd(D.TEST_INDICES)
    xs = []
    for k in range(n_files):
        digits = [int(d) for d in rng.integers(0, 10, 4)]
        x = D.fsdd_string(fsdd, digits, rng)
        x = D.augment(x, rng, full_band_source=False) if k % 2 else x * 0.3
        # full-band noise floor: keeps every mel bin non-degenerate, so the
        # comparison is not dominated by float rounding in near-constant bins
        x = x + D.colored_noise(len(x), rng, "white") * 3e-3
        p = os.path.join(tmp, f"probe{k}.wav")
        sf.write(p, np.clip(x, -1, 1), D.SR, subtype="PCM_16")
        xs.append(read_wav(p))
    variants = ["hann", "povey"]
    ours = {v: [F.features(x, v) for x in xs] for v in variants}
    stats = {v: [0, 0, 0.0] for v in variants}  # mismatching frames, frames, max |x - c| at a mismatch
    model = os.path.join(tmp, "probe.onnx")
    for b in PROBE_BINS:
        for c in PROBE_THRESHOLDS:
            build_probe(model, b, c)
            rec = sherpa_onnx.OfflineRecognizer.from_nemo_ctc(model=model, tokens=tokens, num_threads=1)
            for i, x in enumerate(xs):
                frames = {int(round(t / 0.01)) for t in sherpa_decode(rec, x).timestamps}
                for v in variants:
                    col = ours[v][i][:, b]
                    mm = sorted(frames ^ set(np.nonzero(col > c)[0].tolist()))
                    st = stats[v]
                    st[0] += len(mm)
                    st[1] += len(col)
                    if mm:
                        bad = [t for t in mm if t < len(col)]
                        st[2] = max(st[2], float(np.max(np.abs(col[bad] - c)))) if bad else float("inf")
    for v in variants:
        m, n, mg = stats[v]
        print(f"front-end probe, features.py variant '{v}': {m}/{n} frame decisions differ from "
              f"sherpa-onnx ({100.0 * m / n:.3f} %), largest |feature - threshold| at a difference {mg:.3f}")
    return stats


def hark_words(hark, license_path, model_dir, wav):
    r = subprocess.run([hark, "--license", license_path, "--model", model_dir, "--input", wav,
                        "--output-format", "txt"], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"hark failed on {wav} (rc {r.returncode}): {r.stderr.strip()[-500:]}")
    return re.sub(r"[^a-z ]", " ", r.stdout.lower()).split()


def model_agreement(model_dir, tmp, n_per_speaker, hark=None, license_path=None, hark_jobs=4,
                    variants=(F.DEFAULT_VARIANT,)):
    rec = sherpa_onnx.OfflineRecognizer.from_nemo_ctc(
        model=os.path.join(model_dir, "model.onnx"), tokens=os.path.join(model_dir, "tokens.txt"), num_threads=1)
    ours = {v: Recognizer(model_dir, variant=v) for v in variants}
    items = test_strings(n_per_speaker, seed=4242)
    agree = {v: 0 for v in ours}
    sherpa_correct = 0
    paths, sherpa_words = [], []
    for k, (spk, digits, audio) in enumerate(items):
        p = os.path.join(tmp, f"s{k:03d}_{spk}.wav")
        sf.write(p, audio, D.SR, subtype="PCM_16")
        x = read_wav(p)
        r = sherpa_decode(rec, x)
        sw = r.text.replace("▁", " ").split()
        paths.append(p)
        sherpa_words.append(sw)
        ref = [D.WORDS[d] for d in digits]
        sherpa_correct += sw == ref
        for v, o in ours.items():
            ow = o.words(x)
            agree[v] += sw == ow
            if sw != ow and v == F.DEFAULT_VARIANT:
                print(f"  disagree [{spk}] sherpa: {' '.join(sw)} | ours: {' '.join(ow)} | ref: {' '.join(ref)}")
    n = len(items)
    for v in ours:
        print(f"model agreement, sherpa-onnx vs onnxruntime+features.py ('{v}'): {agree[v]}/{n} strings identical")
    print(f"sherpa-onnx transcripts exactly correct: {sherpa_correct}/{n}")
    if hark:
        with ThreadPoolExecutor(hark_jobs) as ex:
            hw = list(ex.map(lambda q: hark_words(hark, license_path, model_dir, q), paths))
        same = hark_correct = hark_vs_ours = 0
        words = word_diff = 0
        for (spk, digits, _), sw, h, p in zip(items, sherpa_words, hw, paths):
            ref = [D.WORDS[d] for d in digits]
            same += sw == h
            hark_correct += h == ref
            hark_vs_ours += h == ours[F.DEFAULT_VARIANT].words(read_wav(p))
            words += max(len(sw), 1)
            word_diff += edit_distance(h, sw)
            if sw != h:
                print(f"  hark disagrees [{spk}] sherpa: {' '.join(sw)} | hark: {' '.join(h)} | ref: {' '.join(ref)}")
        print(f"hark vs sherpa-onnx: {same}/{n} strings identical; word-level disagreement "
              f"{word_diff}/{words} sherpa words ({100.0 * word_diff / max(1, words):.2f} %), "
              f"i.e. word agreement {100.0 - 100.0 * word_diff / max(1, words):.2f} %")
        print(f"hark vs onnxruntime+features.py ('{F.DEFAULT_VARIANT}'): {hark_vs_ours}/{n} strings identical")
        print(f"hark transcripts exactly correct: {hark_correct}/{n}")
    return agree, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/digits-en")
    ap.add_argument("--n-per-speaker", type=int, default=20)
    ap.add_argument("--no-probe", action="store_true", help="skip the front-end probe (step 1)")
    ap.add_argument("--variants", default=F.DEFAULT_VARIANT,
                    help="features.py variants for the model-agreement step (e.g. hann,povey)")
    ap.add_argument("--hark", metavar="BIN", default=None,
                    help="also transcribe the agreement WAVs with this hark binary and compare with sherpa-onnx")
    ap.add_argument("--license", default="tests/fixtures/license/valid.json", help="hark --license file")
    ap.add_argument("--hark-jobs", type=int, default=4, help="hark processes run at once")
    args = ap.parse_args()
    print(f"sherpa-onnx {getattr(sherpa_onnx, '__version__', '?')}")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_probe:
            probe_front_end(tmp)
        model_agreement(args.model, tmp, args.n_per_speaker, args.hark, args.license, args.hark_jobs,
                        args.variants.split(","))


if __name__ == "__main__":
    main()
