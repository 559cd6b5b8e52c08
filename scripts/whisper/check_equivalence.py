#!/usr/bin/env python3
"""Check a convert_ct2.py conversion against the engines that run the source.

For every audio file: one 30 s window, log-mel computed here exactly as
openai-whisper computes it (numpy), then

  enc     encoder output of the ONNX encoder vs CTranslate2 `Whisper.encode`
          (max abs diff)
  notime  greedy tokens, no timestamps: a small onnxruntime decoding loop over
          the ONNX files (openai-whisper's rules: SuppressBlank, SuppressTokens;
          temperature 0, no fallback) vs faster-whisper's CTranslate2 model
          `generate` on the same mel (beam_size 1, float32)
  time    the same with timestamps (ApplyTimestampRules, max initial 1.0 s)
  fw      faster-whisper's own transcribe() (its own features; greedy, no
          fallback, no VAD, no timestamps): text only, for information
  sherpa  sherpa_onnx.OfflineRecognizer.from_whisper on the converted files
  hark    the notime and time decoding again with hark's decoder layout
          (NAME-decoder.hark.onnx, fp32: must give CT2's tokens too, and the
          sherpa-layout decoder's logits and cross_attn through its growing
          caches) and NAME-decoder.hark.int8.onnx with NAME-encoder.int8.onnx
          (reported: int8 weights change some tokens; WER is
          scripts/bench-whisper's)
  openai  (with --openai) openai-whisper's decode() with the weights loaded
          from CTranslate2 into whisper.model.Whisper

Token mismatches are "explained" when, at the first differing step, the two
candidates' logits (ours) differ by less than --tie (a near-tie that float
rounding can flip); anything else fails. Writes the results into the model
card's Measured section. Exit status: 0 all same or explained, 1 otherwise.
"""

import argparse
import base64
import datetime
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_SAMPLES = 30 * SAMPLE_RATE
N_FRAMES = N_SAMPLES // HOP
AUDIO_EXT = {".wav", ".flac", ".mp3", ".opus", ".ogg", ".m4a"}

# ---------------------------------------------------------------------------
# openai-whisper's front end in numpy


def _hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(n_mels=80, sr=SAMPLE_RATE, n_fft=N_FFT):
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=80): Slaney scale and
    norm, float32 (what openai-whisper's assets/mel_filters.npz holds)."""
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights


def log_mel_spectrogram(audio, filters):
    """whisper.log_mel_spectrogram(audio, padding=N_SAMPLES), first 30 s, as
    whisper.transcribe() takes its first window: 30 s of zeros appended,
    torch.stft (center, reflect pad, periodic Hann) without the last frame,
    power, mel, log10 clamped at 1e-10 and at max - 8, (x + 4) / 4."""
    x = np.concatenate([audio.astype(np.float32), np.zeros(N_SAMPLES, np.float32)])
    x = np.pad(x, N_FFT // 2, mode="reflect")
    n = 1 + (len(x) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(x, (n, N_FFT), (x.strides[0] * HOP, x.strides[0]))
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    spec = np.fft.rfft(frames * window, axis=-1)[:-1]
    power = (spec.real**2 + spec.imag**2).astype(np.float32).T  # [201, frames]
    mel = filters @ power
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    log_spec = (log_spec + 4.0) / 4.0
    out = log_spec[:, :N_FRAMES]
    if out.shape[1] < N_FRAMES:
        out = np.pad(out, ((0, 0), (0, N_FRAMES - out.shape[1])))
    return out.astype(np.float32)[None]  # [1, 80, 3000]


# ---------------------------------------------------------------------------
# The converted model in onnxruntime


def session(path_or_bytes, threads):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    return ort.InferenceSession(path_or_bytes, o, providers=["CPUExecutionProvider"])


class OnnxWhisper:
    def __init__(self, model_dir, name, threads=1):
        self.dir = Path(model_dir)
        enc_path = self.dir / f"{name}-encoder.onnx"
        self.encoder = session(str(enc_path), threads)
        self.decoder = session(str(self.dir / f"{name}-decoder.onnx"), threads)
        md = self.encoder.get_modelmeta().custom_metadata_map
        self.md = md

        def ints(k):
            return [int(v) for v in md[k].split(",") if v != ""] if md.get(k) else []

        self.n_layer = int(md["n_text_layer"])
        self.n_ctx = int(md["n_text_ctx"])
        self.width = int(md["n_text_state"])
        self.eot = int(md["eot"])
        self.sot = int(md["sot"])
        self.no_timestamps = int(md["no_timestamps"])
        self.timestamp_begin = self.no_timestamps + 1
        self.transcribe = int(md["transcribe"])
        self.multilingual = md["is_multilingual"] == "1"
        self.sot_sequence = ints("sot_sequence")
        self.suppress = ints("suppress_ids")
        self.suppress_begin = ints("suppress_ids_begin")
        self.lang_tokens = ints("all_language_tokens")
        self.lang_codes = md["all_language_codes"].split(",")
        self.pieces = {}
        for line in (self.dir / f"{name}-tokens.txt").read_text().splitlines():
            b64, i = line.split(" ")
            self.pieces[int(i)] = base64.b64decode(b64)
        # A second encoder session with ln_post's output exposed (for the
        # comparison with CTranslate2's encode, which returns that).
        m = onnx.load(str(enc_path))
        m.graph.output.append(onnx.helper.make_tensor_value_info("audio_features", onnx.TensorProto.FLOAT, None))
        self.features_encoder = session(m.SerializeToString(), threads)

    def text(self, tokens):
        return b"".join(self.pieces.get(t, b"") for t in tokens if t < self.eot).decode("utf-8", "replace")

    def encode(self, mel):
        return self.encoder.run(None, {"mel": mel})

    def audio_features(self, mel):
        return self.features_encoder.run(["audio_features"], {"mel": mel})[0]

    def step(self, tokens, kc, vc, ck, cv, offset):
        return self.decoder.run(
            None,
            {
                "tokens": np.array([tokens], np.int64),
                "in_n_layer_self_k_cache": kc,
                "in_n_layer_self_v_cache": vc,
                "n_layer_cross_k": ck,
                "n_layer_cross_v": cv,
                "offset": np.array([offset], np.int64),
            },
        )

    def run_chunks(self, seq, ck, cv, chunks):
        """Feeds seq in pieces of the given sizes through the KV caches;
        returns the concatenated logits and cross_attn."""
        kc, vc = self.empty_cache()
        logits, attn, offset = [], [], 0
        for n in chunks:
            lg, kc, vc, at = self.step(seq[offset : offset + n], kc, vc, ck, cv, offset)
            logits.append(lg)
            attn.append(at)
            offset += n
        return np.concatenate(logits, axis=1), np.concatenate(attn, axis=2)

    def empty_cache(self):
        z = np.zeros((self.n_layer, 1, self.n_ctx, self.width), np.float32)
        return z, z.copy()

    def prompt(self, language, timestamps):
        p = list(self.sot_sequence)
        if self.multilingual:
            p[1] = self.lang_tokens[self.lang_codes.index(language)]
        if not timestamps:
            p.append(self.no_timestamps)
        return p

    def detect_language(self, ck, cv):
        kc, vc = self.empty_cache()
        logits = self.step([self.sot], kc, vc, ck, cv, 0)[0][0, -1]
        ids = np.array(self.lang_tokens)
        return self.lang_codes[int(np.argmax(logits[ids]))]

    def apply_timestamp_rules(self, logits, sampled):
        """openai-whisper decoding.ApplyTimestampRules (max_initial_timestamp 1.0 s)."""
        tb = self.timestamp_begin
        logits[self.no_timestamps] = -np.inf
        last_ts = len(sampled) >= 1 and sampled[-1] >= tb
        penultimate_ts = len(sampled) < 2 or sampled[-2] >= tb
        if last_ts:
            if penultimate_ts:
                logits[tb:] = -np.inf
            else:
                logits[: self.eot] = -np.inf
        stamps = [t for t in sampled if t >= tb]
        if stamps:
            last = stamps[-1] if (last_ts and not penultimate_ts) else stamps[-1] + 1
            logits[tb:last] = -np.inf
        if not sampled:
            logits[:tb] = -np.inf
            logits[tb + 50 + 1 :] = -np.inf
        lp = logits.astype(np.float64)
        lp = lp - (np.log(np.sum(np.exp(lp - lp.max()))) + lp.max())
        ts = lp[tb:]
        ts_lse = np.log(np.sum(np.exp(ts - ts.max()))) + ts.max() if np.isfinite(ts.max()) else -np.inf
        if ts_lse > lp[:tb].max():
            logits[:tb] = -np.inf

    def greedy(self, ck, cv, prompt, timestamps, max_new=224):
        """Returns (sampled tokens without eot, filtered logits per step)."""
        kc, vc = self.empty_cache()
        logits, kc, vc = self.step(prompt, kc, vc, ck, cv, 0)[:3]
        offset = len(prompt)
        sampled, history = [], []
        for _ in range(max_new):
            lg = logits[0, -1].copy()
            if not sampled:
                lg[self.suppress_begin] = -np.inf
            lg[self.suppress] = -np.inf
            if timestamps:
                self.apply_timestamp_rules(lg, sampled)
            history.append(lg)
            t = int(np.argmax(lg))
            if t == self.eot:
                break
            sampled.append(t)
            logits, kc, vc = self.step([t], kc, vc, ck, cv, offset)[:3]
            offset += 1
        return sampled, history


class HarkWhisper(OnnxWhisper):
    """The same model with hark's decoder layout (growing caches, logits of
    the last position) and optionally another encoder (the int8 one)."""

    def __init__(self, base, decoder_path, encoder_path=None, threads=1):
        self.__dict__.update(base.__dict__)
        self.decoder = session(str(decoder_path), threads)
        if encoder_path is not None:
            self.encoder = session(str(encoder_path), threads)

    def step(self, tokens, kc, vc, ck, cv, offset):
        if kc.shape[2] != offset:
            raise ValueError(f"hark decoder: cache of {kc.shape[2]} positions at offset {offset}")
        lg, kc, vc, at = self.decoder.run(
            None,
            {
                "tokens": np.array([tokens], np.int64),
                "past_self_k": kc,
                "past_self_v": vc,
                "n_layer_cross_k": ck,
                "n_layer_cross_v": cv,
            },
        )
        return lg[:, None, :], kc, vc, at

    def empty_cache(self):
        z = np.zeros((self.n_layer, 1, 0, self.width), np.float32)
        return z, z.copy()


def hark_variants(model_dir, name, base, threads):
    """(label, HarkWhisper, must match CT2) for each hark-layout file present:
    the fp32 decoder (with the fp32 encoder) must give CT2's tokens; the
    int8 decoder with the int8 encoder is reported (quantization changes
    some tokens)."""
    out = []
    d = Path(model_dir)
    if (d / f"{name}-decoder.hark.onnx").is_file():
        out.append(("hark", HarkWhisper(base, d / f"{name}-decoder.hark.onnx", None, threads), True))
    if (d / f"{name}-decoder.hark.int8.onnx").is_file():
        enc = d / f"{name}-encoder.int8.onnx"
        out.append(("hark int8", HarkWhisper(base, d / f"{name}-decoder.hark.int8.onnx", enc if enc.is_file() else None, threads), False))
    return out


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def compare(ours, history, theirs, eot, tie):
    """'same', 'near-tie@i (margin)', or 'DIFF@i (margin)'."""
    i = first_difference(ours, theirs)
    if i is None:
        return "same", True
    a = ours[i] if i < len(ours) else eot
    b = theirs[i] if i < len(theirs) else eot
    lg = history[i] if i < len(history) else None
    margin = float(lg[a] - lg[b]) if lg is not None and np.isfinite(lg[b]) else float("inf")
    ok = margin < tie
    return f"{'near-tie' if ok else 'DIFF'}@{i} ({margin:.3g})", ok


# ---------------------------------------------------------------------------
# A float64 numpy encoder, to tell which fp32 engine is nearer the exact value


def _erf(x):
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: far below the fp32 differences measured.
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-x * x)
    return np.sign(x) * y


def reference_encoder(m, dims, mel):
    def gelu(x):
        return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-5) * p["weight"] + p["bias"]

    def lin(x, p):
        return x @ p["weight"].astype(np.float64).T + p["bias"]

    def conv(x, p, stride):
        xp = np.pad(x, ((0, 0), (1, 1)))
        t = (xp.shape[1] - 3) // stride + 1
        cols = np.stack([xp[:, k : k + stride * (t - 1) + 1 : stride] for k in range(3)], -1)
        return np.einsum("oik,itk->ot", p["weight"].astype(np.float64), cols) + p["bias"][:, None]

    e = m["encoder"]
    H, D = dims["n_audio_head"], dims["n_audio_state"]
    dh = D // H
    x = gelu(conv(mel[0].astype(np.float64), e["conv1"], 1))
    x = gelu(conv(x, e["conv2"], 2)).T + e["positional_embedding"]
    for b in e["blocks"]:
        q, k, v = np.split(lin(ln(x, b["attn_ln"]), b["attn_qkv"]), 3, -1)
        q, k, v = (a.reshape(-1, H, dh).transpose(1, 0, 2) for a in (q, k, v))
        w = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
        w = np.exp(w - w.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        x = x + lin((w @ v).transpose(1, 0, 2).reshape(-1, D), b["attn_out"])
        x = x + lin(gelu(lin(ln(x, b["mlp_ln"]), b["mlp0"])), b["mlp2"])
    return ln(x, e["ln_post"])[None]


# ---------------------------------------------------------------------------
# openai-whisper (optional)


def openai_model(ct2_dir, dims):
    """whisper.model.Whisper with the CTranslate2 weights (the mapping of
    convert_ct2.load_whisper)."""
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    sys.path.insert(0, str(Path(__file__).parent))
    import convert_ct2

    _, _, variables, aliases = convert_ct2.read_ct2_model(Path(ct2_dir) / "model.bin")
    m, d = convert_ct2.load_whisper(convert_ct2.Weights(variables, aliases))
    model = Whisper(ModelDimensions(**d))
    sd = {}
    D = d["n_text_state"]

    def put(prefix, p):
        sd[f"{prefix}.weight"] = p["weight"]
        sd[f"{prefix}.bias"] = p["bias"]

    def attn(prefix, qkv=None, q=None, kv=None, out=None):
        if qkv is not None:
            w, b = qkv["weight"], qkv["bias"]
            sd[f"{prefix}.query.weight"], sd[f"{prefix}.key.weight"], sd[f"{prefix}.value.weight"] = w[:D], w[D : 2 * D], w[2 * D :]
            sd[f"{prefix}.query.bias"], sd[f"{prefix}.value.bias"] = b[:D], b[2 * D :]
        else:
            put(f"{prefix}.query", q)
            sd[f"{prefix}.key.weight"], sd[f"{prefix}.value.weight"] = kv["weight"][:D], kv["weight"][D:]
            sd[f"{prefix}.value.bias"] = kv["bias"][D:]
        put(f"{prefix}.out", out)

    e, dec = m["encoder"], m["decoder"]
    put("encoder.conv1", e["conv1"])
    put("encoder.conv2", e["conv2"])
    sd["encoder.positional_embedding"] = e["positional_embedding"]
    for i, b in enumerate(e["blocks"]):
        p = f"encoder.blocks.{i}"
        put(f"{p}.attn_ln", b["attn_ln"])
        attn(f"{p}.attn", qkv=b["attn_qkv"], out=b["attn_out"])
        put(f"{p}.mlp_ln", b["mlp_ln"])
        put(f"{p}.mlp.0", b["mlp0"])
        put(f"{p}.mlp.2", b["mlp2"])
    put("encoder.ln_post", e["ln_post"])
    sd["decoder.token_embedding.weight"] = dec["token_embedding"]
    sd["decoder.positional_embedding"] = dec["positional_embedding"]
    for i, b in enumerate(dec["blocks"]):
        p = f"decoder.blocks.{i}"
        put(f"{p}.attn_ln", b["attn_ln"])
        attn(f"{p}.attn", qkv=b["attn_qkv"], out=b["attn_out"])
        put(f"{p}.cross_attn_ln", b["cross_attn_ln"])
        attn(f"{p}.cross_attn", q=b["cross_attn_q"], kv=b["cross_attn_kv"], out=b["cross_attn_out"])
        put(f"{p}.mlp_ln", b["mlp_ln"])
        put(f"{p}.mlp.0", b["mlp0"])
        put(f"{p}.mlp.2", b["mlp2"])
    put("decoder.ln", dec["ln"])
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    # alignment_heads is a buffer whisper sets from its own table.
    if unexpected or [k for k in missing if k != "alignment_heads"]:
        raise SystemExit(f"openai-whisper state dict mismatch: missing {missing}, unexpected {unexpected}")
    n_params = sum(p.numel() for p in model.parameters())
    return model.eval(), whisper, torch, n_params


# ---------------------------------------------------------------------------


def audio_files(shared, model_name):
    files = [shared / "audio" / "jfk" / "jfk.wav"]
    files += sorted(p for p in (shared / "audio" / "librispeech").iterdir() if p.suffix in AUDIO_EXT)
    langs = {p: "en" for p in files}
    if model_name != "tiny.en":
        # audio/mfa/SOURCES.md: 13697_11991_000000.opus is Spanish, se10x016-* Swedish.
        mfa = shared / "audio" / "mfa"
        for p in sorted(mfa.iterdir()):
            if p.name.startswith("13697_") and p.suffix in AUDIO_EXT:
                files.append(p)
                langs[p] = "es"
            elif p.name.startswith("se10x016-") and p.suffix in AUDIO_EXT:
                files.append(p)
                langs[p] = "sv"
    return files, langs


def timed(fn, n):
    """Median wall and CPU seconds of n calls (after one warm-up call). With
    one thread the CPU time is the better figure on a loaded machine."""
    fn()
    wall, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def measure_speed(model_dir, name, mel):
    res = {}
    for threads in (1, 2):
        w = OnnxWhisper(model_dir, name, threads)
        wall, cpu = timed(lambda: w.encode(mel), 5)
        res[f"encoder_{threads}t_ms"], res[f"encoder_{threads}t_cpu_ms"] = 1000 * wall, 1000 * cpu
        ck, cv = w.encode(mel)
        kc, vc = w.empty_cache()
        wall, cpu = timed(lambda: w.step([w.sot_sequence[0]], kc, vc, ck, cv, 50), 30)
        res[f"decoder_step_{threads}t_ms"], res[f"decoder_step_{threads}t_cpu_ms"] = 1000 * wall, 1000 * cpu
        for label, h, _ in hark_variants(model_dir, name, w, threads):
            key = label.replace(" ", "_")
            hk, hv = h.encode(mel)
            if label != "hark":
                wall, cpu = timed(lambda: h.encode(mel), 5)
                res[f"{key}_encoder_{threads}t_ms"], res[f"{key}_encoder_{threads}t_cpu_ms"] = 1000 * wall, 1000 * cpu
            rng = np.random.default_rng(0)
            past = rng.standard_normal((w.n_layer, 1, 50, w.width), dtype=np.float32)
            wall, cpu = timed(lambda: h.step([w.sot_sequence[0]], past, past, hk, hv, 50), 30)
            res[f"{key}_decoder_step_{threads}t_ms"], res[f"{key}_decoder_step_{threads}t_cpu_ms"] = 1000 * wall, 1000 * cpu
    res["load_average"] = os.getloadavg()[0]
    return res


def update_card(card, text):
    from convert_ct2 import MEASURED_BEGIN, MEASURED_END

    s = card.read_text(encoding="utf-8")
    pat = re.compile(re.escape(MEASURED_BEGIN) + ".*?" + re.escape(MEASURED_END), re.S)
    s = pat.sub(lambda _: f"{MEASURED_BEGIN}\n{text.rstrip()}\n{MEASURED_END}", s)
    card.write_text(s, encoding="utf-8")


def main():
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", required=True, type=Path)
    ap.add_argument("--name", required=True, help="tiny.en, base")
    ap.add_argument("--ct2-dir", required=True, type=Path, help="the CTranslate2 directory it was converted from")
    ap.add_argument("--shared", type=Path, default=root.parent / "shared")
    ap.add_argument("--openai", action="store_true", help="also decode with openai-whisper (needs torch)")
    ap.add_argument("--tie", type=float, default=0.05, help="logit margin below which a difference is a near-tie")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-card", action="store_true", help="do not write the model card's Measured section")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--speed-only", action="store_true", help="only time the encoder and a decoder step (no card)")
    ap.add_argument("--only", help="only the audio files whose name contains this (implies --no-card)")
    args = ap.parse_args()

    sys.path.insert(0, str(Path(__file__).parent))
    import ctranslate2
    import faster_whisper
    import sherpa_onnx
    from faster_whisper import WhisperModel, decode_audio

    files, langs = audio_files(args.shared, args.name)
    if args.speed_only:
        from faster_whisper import decode_audio as _decode

        speed = measure_speed(args.model_dir, args.name, log_mel_spectrogram(_decode(str(files[0]), sampling_rate=SAMPLE_RATE), mel_filters()))
        print(json.dumps({k: round(v, 1) for k, v in speed.items()}))
        return 0
    if args.only:
        files = [f for f in files if args.only in f.name]
        args.no_card = True
    ours = OnnxWhisper(args.model_dir, args.name, args.threads)
    harks = hark_variants(args.model_dir, args.name, ours, args.threads)
    filters = mel_filters()
    notes = []
    try:  # openai-whisper's own filters, when its assets are installed (no torch needed)
        import importlib.util

        spec = importlib.util.find_spec("whisper")
        if spec and spec.submodule_search_locations:
            npz = Path(list(spec.submodule_search_locations)[0]) / "assets" / "mel_filters.npz"
            if npz.is_file():
                ref = np.load(npz)["mel_80"]
                notes.append(f"mel filters vs openai-whisper's mel_filters.npz: max abs diff {np.abs(ref - filters).max():.2g}")
    except Exception as err:  # informational only
        notes.append(f"mel filters not compared with openai-whisper's: {err}")

    import convert_ct2

    _, _, variables, aliases = convert_ct2.read_ct2_model(args.ct2_dir / "model.bin")
    weights, dims = convert_ct2.load_whisper(convert_ct2.Weights(variables, aliases))
    del variables
    fw = WhisperModel(str(args.ct2_dir), device="cpu", compute_type="float32", cpu_threads=args.threads)
    ct2 = fw.model
    rec = {}

    def recognizer(lang):
        if lang not in rec:
            rec[lang] = sherpa_onnx.OfflineRecognizer.from_whisper(
                encoder=str(args.model_dir / f"{args.name}-encoder.onnx"),
                decoder=str(args.model_dir / f"{args.name}-decoder.onnx"),
                tokens=str(args.model_dir / f"{args.name}-tokens.txt"),
                language=lang if ours.multilingual else "en",
                task="transcribe",
                num_threads=args.threads,
            )
        return rec[lang]

    oa = None
    if args.openai:
        oa_model, whisper, torch, n_params = openai_model(args.ct2_dir, None)
        torch.set_num_threads(max(args.threads, 1))
        notes.append(f"openai-whisper {whisper.__version__}, torch {torch.__version__}: {n_params:,} parameters")
        oa = (oa_model, whisper, torch)

    ct2_suppress = list(ours.suppress)  # = faster-whisper's get_suppressed_tokens(tokenizer, [-1])
    rows, failed = [], False
    for path in files:
        lang = langs[path]
        audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
        if len(audio) > N_SAMPLES:
            notes.append(f"{path.name}: longer than 30 s, only the first window is compared")
        mel = log_mel_spectrogram(audio, filters)
        row = {"file": path.name, "lang": lang, "seconds": round(len(audio) / SAMPLE_RATE, 2)}
        if oa:
            oa_model, whisper, torch = oa
            ref_mel = whisper.log_mel_spectrogram(torch.from_numpy(audio), 80, padding=N_SAMPLES)[:, :N_FRAMES].numpy()
            row["mel_vs_openai"] = float(np.abs(ref_mel - mel[0]).max())

        sv = ctranslate2.StorageView.from_array(mel)
        ct2_feat = np.array(ct2.encode(sv, to_cpu=True))
        our_feat = ours.audio_features(mel)
        ref = reference_encoder(weights, dims, mel)
        row["enc_max_abs_diff"] = float(np.abs(our_feat - ct2_feat).max())
        row["enc_ours_vs_f64"] = float(np.abs(our_feat - ref).max())
        row["enc_ct2_vs_f64"] = float(np.abs(ct2_feat - ref).max())
        row["enc_max_abs"] = float(np.abs(ref).max())
        ck, cv = ours.encode(mel)
        if ours.multilingual:
            row["lang_ours"] = ours.detect_language(ck, cv)
            row["lang_ct2"] = ct2.detect_language(sv)[0][0][0].strip("<|>")

        for ts in (False, True):
            key = "time" if ts else "notime"
            prompt = ours.prompt(lang, ts)
            mine, history = ours.greedy(ck, cv, prompt, ts)
            r = ct2.generate(sv, [prompt], beam_size=1, max_length=448, suppress_blank=True, suppress_tokens=ct2_suppress, max_initial_timestamp_index=50)[0]
            theirs = list(r.sequences_ids[0])
            verdict, ok = compare(mine, history, theirs, ours.eot, args.tie)
            failed |= not ok
            row[f"{key}_ct2"] = verdict
            row[f"{key}_tokens"] = mine
            row[f"{key}_ct2_tokens"] = theirs
            if oa:
                oa_model, whisper, torch = oa
                opts = whisper.DecodingOptions(language=lang, without_timestamps=not ts, fp16=False, temperature=0.0)
                with torch.no_grad():
                    res = whisper.decode(oa_model, torch.from_numpy(mel[0]), opts)
                verdict, ok = compare(mine, history, list(res.tokens), ours.eot, args.tie)
                failed |= not ok
                row[f"{key}_openai"] = verdict
            for label, h, must in harks:
                hk, hv = (ck, cv) if h.encoder is ours.encoder else h.encode(mel)
                hmine, hhistory = h.greedy(hk, hv, prompt, ts)
                verdict, ok = compare(hmine, hhistory, theirs, ours.eot, args.tie)
                if must:
                    failed |= not ok
                row[f"{key}_{label}"] = verdict
                row[f"{key}_{label}_tokens"] = hmine
        row["text"] = ours.text(row["notime_tokens"]).strip()
        for label, _, _ in harks:
            row[f"{label}_text"] = ours.text(row[f"notime_{label}_tokens"]).strip()

        # The decoder on the whole sequence at once (causal mask, offset 0)
        # vs through the caches: the prompt, 3 tokens at an offset, then one
        # at a time. Same logits and cross_attn expected up to float rounding.
        seq = ours.prompt(lang, False) + row["notime_tokens"] + [ours.eot]
        p = len(ours.prompt(lang, False))
        full_lg, full_at = ours.run_chunks(seq, ck, cv, [len(seq)])
        rest = len(seq) - p
        chunks = [p] + ([3] if rest >= 3 else []) + [1] * (rest - 3 if rest >= 3 else rest)
        inc_lg, inc_at = ours.run_chunks(seq, ck, cv, chunks)
        row["kv_logits_max_abs_diff"] = float(np.abs(full_lg - inc_lg).max())
        row["kv_attn_max_abs_diff"] = float(np.abs(full_at - inc_at).max())
        row["attn_row_sum_err"] = float(np.abs(full_at.sum(-1) - 1).max())
        for label, h, must in harks:
            if must:
                # hark's decoder through its growing caches vs the sherpa-layout
                # decoder on the whole sequence: each call's last-position logits.
                kc, vc = h.empty_cache()
                offset, lgs, ats = 0, [], []
                for n in chunks:
                    lg, kc, vc, at = h.step(seq[offset : offset + n], kc, vc, ck, cv, offset)
                    offset += n
                    lgs.append(float(np.abs(lg[0, -1] - full_lg[0, offset - 1]).max()))
                    ats.append(at)
                row[f"{label}_logits_max_abs_diff"] = max(lgs)
                row[f"{label}_attn_max_abs_diff"] = float(np.abs(np.concatenate(ats, axis=2) - full_at).max())
        if oa:
            oa_model, whisper, torch = oa
            qks = [None] * len(oa_model.decoder.blocks)
            hooks = [b.cross_attn.register_forward_hook(lambda _m, _i, outs, i=i: qks.__setitem__(i, outs[-1][0])) for i, b in enumerate(oa_model.decoder.blocks)]
            try:
                from whisper.model import disable_sdpa

                with torch.no_grad(), disable_sdpa():
                    oa_lg = oa_model(torch.from_numpy(mel), torch.tensor([seq]))[0].numpy()
            finally:
                for h in hooks:
                    h.remove()
            # qk comes out of whisper's qkv_attention already scaled.
            heads = [tuple(map(int, x.split(","))) for x in ours.md["alignment_heads"].split(";")]
            oa_at = torch.stack([qks[l][h] for l, h in heads]).float().softmax(dim=-1).numpy()
            row["openai_logits_max_abs_diff"] = float(np.abs(oa_lg - full_lg[0]).max())
            row["openai_attn_max_abs_diff"] = float(np.abs(oa_at - full_at[0]).max())

        segs, _ = fw.transcribe(audio, language=lang if ours.multilingual else "en", beam_size=1, temperature=0.0, condition_on_previous_text=False, without_timestamps=True, vad_filter=False)
        row["fw_text"] = "".join(s.text for s in segs).strip()
        s = recognizer(lang).create_stream()
        s.accept_waveform(SAMPLE_RATE, audio)
        recognizer(lang).decode_stream(s)
        row["sherpa_text"] = s.result.text.strip()
        rows.append(row)
        print(f"{path.name}: notime {row['notime_ct2']}, time {row['time_ct2']}, enc {row['enc_max_abs_diff']:.2g}: {row['text']}", file=sys.stderr)

    speed = measure_speed(args.model_dir, args.name, log_mel_spectrogram(decode_audio(str(files[0]), sampling_rate=SAMPLE_RATE), filters))
    sizes = {p.name: p.stat().st_size for p in sorted(args.model_dir.glob(f"{args.name}-*"))}

    # Report ------------------------------------------------------------------
    def same(a, b):
        return "same" if a == b else "differs"

    cols = ["file", "s", "notime vs CT2", "time vs CT2", "enc max|d| vs CT2", "enc max|d| ours/CT2 vs f64", "kv max|d| logits/attn"]
    if oa:
        cols += ["notime vs openai", "time vs openai", "openai max|d| logits/attn"]
    for label, _, must in harks:
        cols += [f"{label} notime/time vs CT2"] + ([f"{label} max|d| logits/attn vs sherpa layout"] if must else [])
    if ours.multilingual:
        cols += ["lang (ours/CT2)"]
    cols += ["fw transcribe", "sherpa-onnx"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        v = [r["file"], f"{r['seconds']:.1f}", r["notime_ct2"], r["time_ct2"], f"{r['enc_max_abs_diff']:.2g}", f"{r['enc_ours_vs_f64']:.2g}/{r['enc_ct2_vs_f64']:.2g}", f"{r['kv_logits_max_abs_diff']:.2g}/{r['kv_attn_max_abs_diff']:.2g}"]
        if oa:
            v += [r["notime_openai"], r["time_openai"], f"{r['openai_logits_max_abs_diff']:.2g}/{r['openai_attn_max_abs_diff']:.2g}"]
        for label, _, must in harks:
            v += [f"{r[f'notime_{label}']}/{r[f'time_{label}']}"]
            if must:
                v += [f"{r[f'{label}_logits_max_abs_diff']:.2g}/{r[f'{label}_attn_max_abs_diff']:.2g}"]
        if ours.multilingual:
            v += [f"{r['lang_ours']}/{r['lang_ct2']}"]
        v += [same(r["fw_text"], r["text"]), same(r["sherpa_text"], r["text"])]
        lines.append("| " + " | ".join(v) + " |")
    table = "\n".join(lines)
    texts = "\n".join(
        f"- `{r['file']}` ({r['lang']}): ours `{r['text']}`"
        + (f"; faster-whisper `{r['fw_text']}`" if r["fw_text"] != r["text"] else "")
        + (f"; sherpa-onnx `{r['sherpa_text']}`" if r["sherpa_text"] != r["text"] else "")
        + "".join(f"; {label} `{r[f'{label}_text']}`" for label, _, _ in harks if r[f"{label}_text"] != r["text"])
        for r in rows
    )
    hark_summary = "".join(
        f"\n{label} (`{args.name}-decoder.{'hark.int8' if label != 'hark' else 'hark'}.onnx`{', int8 encoder' if label != 'hark' else ''}):"
        f" {sum(r[f'notime_{label}'] == 'same' for r in rows)}/{len(rows)} identical to CT2 without timestamps,"
        f" {sum(r[f'time_{label}'] == 'same' for r in rows)}/{len(rows)} with{'' if must else ' (informational: int8 weights change some tokens)'}."
        for label, _, must in harks
    )
    n_same = sum(r["notime_ct2"] == "same" for r in rows)
    n_same_ts = sum(r["time_ct2"] == "same" for r in rows)
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    summary = f"""Measured {datetime.date.today().isoformat()} by `scripts/check-whisper-conversion{' --openai' if oa else ''} whisper-{args.name}`
({platform.machine()}, {os.cpu_count()} CPUs, {cpu}; onnxruntime {ort.__version__}, faster-whisper
{faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__}, sherpa-onnx {getattr(sherpa_onnx, '__version__', '?')}).

Greedy tokens of one 30 s window (openai-whisper log-mel), this conversion in onnxruntime vs
faster-whisper's CTranslate2 model (float32) on the same mel: {n_same}/{len(rows)} identical without
timestamps, {n_same_ts}/{len(rows)} with timestamps.{hark_summary}
"fw transcribe" is faster-whisper's own
transcribe() (its own features: it pads the log-mel with zeros, openai-whisper pads the audio);
sherpa-onnx computes kaldi-native-fbank features without padding to 30 s.

"enc": ONNX encoder output (ln_post) vs CTranslate2's encode on the same mel, and each vs a float64
numpy encoder on the same weights (outputs reach |x| = {max(r['enc_max_abs'] for r in rows):.1f}): fp32 rounding.
"kv": the decoder on the whole sequence at once vs through its caches (prompt, 3 tokens, then 1 at a
time). Largest error of a cross_attn row sum: {max(r['attn_row_sum_err'] for r in rows):.2g}.

{table}

{texts}

Speed (onnxruntime {ort.__version__}, Python, median wall time, CPU time in brackets; `jfk.wav`
window; load average {speed['load_average']:.1f} on {os.cpu_count()} CPUs while measuring, so compare the 1-thread CPU times):
encoder, one 30 s window: {speed['encoder_1t_ms']:.0f} ms [{speed['encoder_1t_cpu_ms']:.0f} ms] (1 thread), {speed['encoder_2t_ms']:.0f} ms (2 threads);
decoder, one 1-token step at offset 50 with the full {ours.n_ctx}-slot caches in and out:
{speed['decoder_step_1t_ms']:.1f} ms [{speed['decoder_step_1t_cpu_ms']:.1f} ms] (1 thread), {speed['decoder_step_2t_ms']:.1f} ms (2 threads).
"""
    for label, _, _ in harks:
        k = label.replace(" ", "_")
        summary += (f"{label} decoder, one 1-token step after 50 cached positions: {speed[f'{k}_decoder_step_1t_ms']:.1f} ms"
                    f" [{speed[f'{k}_decoder_step_1t_cpu_ms']:.1f} ms] (1 thread), {speed[f'{k}_decoder_step_2t_ms']:.1f} ms (2 threads)")
        if f"{k}_encoder_1t_ms" in speed:
            summary += (f"; int8 encoder {speed[f'{k}_encoder_1t_ms']:.0f} ms [{speed[f'{k}_encoder_1t_cpu_ms']:.0f} ms] (1 thread),"
                        f" {speed[f'{k}_encoder_2t_ms']:.0f} ms (2 threads)")
        summary += ".\n"
    if oa:
        notes.append(f"log-mel here vs openai-whisper's log_mel_spectrogram: max abs diff {max(r['mel_vs_openai'] for r in rows):.2g}")
    if notes:
        summary += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print(summary)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "speed": speed, "sizes": sizes, "notes": notes}, indent=1))
    if not args.no_card:
        update_card(args.model_dir / "README.md", summary)
    if failed:
        print("check_equivalence: FAIL: token differences beyond near-ties (see the table)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
