#!/usr/bin/env python3
"""Convert a CTranslate2 Whisper model (the faster-whisper layout) to ONNX
files in sherpa-onnx's Whisper layout and hark's own, with numpy and
onnx.helper only.

Input: a directory with CTranslate2's `model.bin`, `config.json` and
`vocabulary.txt` (or `vocabulary.json`). Output, for NAME (`tiny.en`, `base`):

  NAME-encoder.onnx  mel [N, n_mels, T] -> n_layer_cross_k, n_layer_cross_v
                     [n_text_layer, N, T/2, n_text_state]; all model metadata
  NAME-decoder.onnx  tokens, self K/V caches [n_text_layer, N, n_text_ctx,
                     n_text_state], cross K/V, offset -> logits, new caches,
                     and (hark's addition, last) cross_attn
  NAME-tokens.txt    `base64(token bytes) id` per regular token (tiktoken ranks)
  NAME-decoder.hark.onnx
                     hark's layout: tokens, past self K/V [n_text_layer, N, P,
                     n_text_state] (growing, P may be 0), cross K/V [.., 1,
                     T, ..] (once for the whole batch: the beams of one
                     window) -> logits of the last position, present self
                     K/V, cross_attn
  NAME-decoder.hark.int8.onnx, NAME-encoder.int8.onnx
                     the same with int8 linear layers (per-column scales,
                     ONNX Runtime's com.microsoft DynamicQuantizeMatMul)
  README.md          model card

The graphs compute what openai-whisper's `Whisper` module computes, in fp32,
with the inputs, outputs, dtypes, shapes and encoder metadata that
sherpa-onnx's `scripts/whisper/export-onnx.py` (opset 17) writes, so that
`sherpa_onnx.OfflineRecognizer.from_whisper` loads them. hark's additions do
not change any of that: an extra last decoder output, extra metadata keys,
and the encoder's self-attention as one ONNX Runtime contrib op
(`com.microsoft` MultiHeadAttention: flash attention on CPU, a third of the
unfused graph's activation memory, and faster; the same results within
2e-4). sherpa-onnx runs them, as it runs on the full ONNX Runtime. hark's
layout files use contrib ops wherever they pay and are for hark (and
onnxruntime) only.

CTranslate2 `model.bin` (version 6): u32 version, string spec name (u16 length
including the NUL, then bytes), u32 revision, u32 number of variables; each
variable: string name, u8 rank, u32 dims[rank], u8 dtype (0 f32, 1 i8, 2 i16,
3 i32, 4 f16, 5 bf16), u32 byte count, data; then u32 number of aliases and
(alias, target) string pairs. The file is parsed to its last byte.

Deterministic: the same input gives byte-identical output files.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONVERTER = "convert_ct2 3"
OPSET = 17
IR_VERSION = 8  # what torch's opset-17 export writes; loads in older runtimes too
MS_DOMAIN = "com.microsoft"  # ONNX Runtime's contrib ops


class Quant:
    """Symmetric int8 weights, one scale per output column (per channel).

    bits 7 (weights in [-64, 63]) is onnxruntime.quantization's reduce_range:
    u8 x s8 products summed in pairs cannot saturate int16 on CPUs without
    VNNI, so the int8 files give the same results on every x86 machine."""

    def __init__(self, bits=7):
        self.bits = bits
        self.qmax = 2 ** (bits - 1) - 1

    def weights(self, w):
        """w [in, out] float -> (int8 [in, out], float32 scale [out])."""
        w = np.asarray(w, np.float32)
        amax = np.abs(w).max(axis=0)
        scale = np.where(amax > 0, amax / self.qmax, 1.0).astype(np.float32)
        q = np.clip(np.rint(w / scale), -self.qmax, self.qmax).astype(np.int8)
        return q, scale

# ---------------------------------------------------------------------------
# CTranslate2 model.bin


class Ct2Error(Exception):
    pass


_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bf16"}


def read_ct2_model(path):
    """Returns (spec_name, revision, {name: ndarray}, {alias: target})."""
    data = Path(path).read_bytes()
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(data):
            raise Ct2Error(f"{path}: truncated at byte {pos} (wanted {n} more)")
        b = data[pos : pos + n]
        pos += n
        return b

    def u8():
        return take(1)[0]

    def u16():
        return struct.unpack("<H", take(2))[0]

    def u32():
        return struct.unpack("<I", take(4))[0]

    def string():
        n = u16()
        b = take(n)
        if n == 0 or b[-1] != 0:
            raise Ct2Error(f"{path}: string at byte {pos - n} is not NUL-terminated")
        return b[:-1].decode("utf-8")

    version = u32()
    if version != 6:
        raise Ct2Error(f"{path}: model.bin version {version}, this converter reads version 6")
    spec = string()
    revision = u32()
    variables = {}
    for _ in range(u32()):
        name = string()
        rank = u8()
        dims = tuple(u32() for _ in range(rank))
        dtype = u8()
        nbytes = u32()
        raw = take(nbytes)
        if dtype not in _DTYPES:
            raise Ct2Error(f"{path}: variable {name}: unknown dtype {dtype}")
        if _DTYPES[dtype] == "bf16":
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, np.dtype(_DTYPES[dtype]).newbyteorder("<"))
        if arr.size != math.prod(dims):
            raise Ct2Error(f"{path}: variable {name}: {nbytes} bytes for dims {dims}")
        variables[name] = arr.reshape(dims)
    aliases = {}
    for _ in range(u32()):
        alias = string()
        aliases[alias] = string()
    if pos != len(data):
        raise Ct2Error(f"{path}: {len(data) - pos} bytes left after the aliases")
    return spec, revision, variables, aliases


class Weights:
    """The model's variables by name; records which ones the mapping used."""

    def __init__(self, variables, aliases):
        self.v = variables
        self.aliases = aliases
        self.used = set()

    def has(self, name):
        return name in self.v

    def f32(self, name):
        if name not in self.v:
            raise Ct2Error(f"model.bin has no variable {name}")
        a = self.v[name]
        if a.dtype not in (np.float16, np.float32):
            raise Ct2Error(f"{name} is {a.dtype}: quantized CTranslate2 models are not supported")
        self.used.add(name)
        return np.ascontiguousarray(a.astype(np.float32))

    def scalar(self, name):
        if name not in self.v or self.v[name].ndim != 0:
            raise Ct2Error(f"model.bin has no scalar {name}")
        self.used.add(name)
        return int(self.v[name])

    def unused(self):
        return sorted(set(self.v) - self.used)


# Flags of CTranslate2's WhisperSpec that must have these values for the mapping
# onto openai-whisper's architecture to hold (3 = GELU with erf).
_EXPECTED_FLAGS = {
    "decoder/activation": 3,
    "decoder/alibi": 0,
    "decoder/pre_norm": 1,
    "decoder/scale_embeddings": 0,
    "decoder/start_from_zero_embedding": 0,
}
# Flags that newer CTranslate2 converters add; checked when present.
_OPTIONAL_FLAGS = {
    "decoder/alibi_use_positive_positions": 0,
    "decoder/scale_alibi": 0,
}
# Decoder scalars that do not affect the graph (alignment settings CTranslate2
# reads from config.json at run time instead).
_IGNORED_SCALARS = ("decoder/alignment_heads", "decoder/alignment_layer")


def count_layers(w, prefix):
    n = 0
    while w.has(f"{prefix}/layer_{n}/ffn/linear_0/weight"):
        n += 1
    return n


def load_whisper(w):
    """Maps CTranslate2 WhisperSpec variables onto openai-whisper's modules.

    Linear weights stay [out, in], convolutions [out, in, k]. Self-attention
    `linear_0` is the fused q,k,v projection, cross-attention `linear_0` the
    query and `linear_1` the fused k,v; the key slices of the fused biases are
    zero (Whisper's keys have no bias) and are checked to be.
    """
    for name, want in _EXPECTED_FLAGS.items():
        got = w.scalar(name)
        if got != want:
            raise Ct2Error(f"{name} = {got}, expected {want}: not an openai-whisper model")
    for name, want in _OPTIONAL_FLAGS.items():
        if w.has(name) and w.scalar(name) != want:
            raise Ct2Error(f"{name} = {w.scalar(name)}, expected {want}: not an openai-whisper model")
    for name in _IGNORED_SCALARS:
        if w.has(name):
            w.scalar(name)

    def ln(p):
        return {"weight": w.f32(f"{p}/gamma"), "bias": w.f32(f"{p}/beta")}

    def lin(p):
        return {"weight": w.f32(f"{p}/weight"), "bias": w.f32(f"{p}/bias")}

    def zero_key_bias(name, bias, start, width):
        if np.any(bias[start : start + width] != 0):
            raise Ct2Error(f"{name}: the key bias slice is not zero")

    m = {"encoder": {}, "decoder": {}}
    e = m["encoder"]
    e["conv1"] = lin("encoder/conv1")
    e["conv2"] = lin("encoder/conv2")
    e["positional_embedding"] = w.f32("encoder/position_encodings/encodings")
    e["n_head"] = w.scalar("encoder/num_heads")
    e["blocks"] = []
    for i in range(count_layers(w, "encoder")):
        p = f"encoder/layer_{i}"
        qkv = lin(f"{p}/self_attention/linear_0")
        d = qkv["weight"].shape[1]
        zero_key_bias(f"{p}/self_attention/linear_0/bias", qkv["bias"], d, d)
        e["blocks"].append(
            {
                "attn_ln": ln(f"{p}/self_attention/layer_norm"),
                "attn_qkv": qkv,
                "attn_out": lin(f"{p}/self_attention/linear_1"),
                "mlp_ln": ln(f"{p}/ffn/layer_norm"),
                "mlp0": lin(f"{p}/ffn/linear_0"),
                "mlp2": lin(f"{p}/ffn/linear_1"),
            }
        )
    e["ln_post"] = ln("encoder/layer_norm")

    dec = m["decoder"]
    dec["token_embedding"] = w.f32("decoder/embeddings/weight")
    dec["positional_embedding"] = w.f32("decoder/position_encodings/encodings")
    dec["n_head"] = w.scalar("decoder/num_heads")
    dec["blocks"] = []
    for i in range(count_layers(w, "decoder")):
        p = f"decoder/layer_{i}"
        qkv = lin(f"{p}/self_attention/linear_0")
        d = qkv["weight"].shape[1]
        zero_key_bias(f"{p}/self_attention/linear_0/bias", qkv["bias"], d, d)
        kv = lin(f"{p}/attention/linear_1")
        zero_key_bias(f"{p}/attention/linear_1/bias", kv["bias"], 0, d)
        dec["blocks"].append(
            {
                "attn_ln": ln(f"{p}/self_attention/layer_norm"),
                "attn_qkv": qkv,
                "attn_out": lin(f"{p}/self_attention/linear_1"),
                "cross_attn_ln": ln(f"{p}/attention/layer_norm"),
                "cross_attn_q": lin(f"{p}/attention/linear_0"),
                "cross_attn_kv": kv,
                "cross_attn_out": lin(f"{p}/attention/linear_2"),
                "mlp_ln": ln(f"{p}/ffn/layer_norm"),
                "mlp0": lin(f"{p}/ffn/linear_0"),
                "mlp2": lin(f"{p}/ffn/linear_1"),
            }
        )
    dec["ln"] = ln("decoder/layer_norm")

    proj = w.aliases.get("decoder/projection/weight")
    if proj != "decoder/embeddings/weight":
        # An untied output projection would need its own weight in the graph.
        raise Ct2Error("decoder/projection/weight is not an alias of decoder/embeddings/weight")
    extra = w.unused()
    if extra:
        raise Ct2Error(f"model.bin variables this converter does not map: {', '.join(extra)}")
    unknown = set(w.aliases) - {"decoder/projection/weight"}
    if unknown:
        raise Ct2Error(f"model.bin aliases this converter does not know: {', '.join(sorted(unknown))}")

    dims = {
        "n_mels": e["conv1"]["weight"].shape[1],
        "n_audio_ctx": e["positional_embedding"].shape[0],
        "n_audio_state": e["conv1"]["weight"].shape[0],
        "n_audio_head": e["n_head"],
        "n_audio_layer": len(e["blocks"]),
        "n_vocab": dec["token_embedding"].shape[0],
        "n_text_ctx": dec["positional_embedding"].shape[0],
        "n_text_state": dec["token_embedding"].shape[1],
        "n_text_head": dec["n_head"],
        "n_text_layer": len(dec["blocks"]),
    }
    if dims["n_audio_state"] != dims["n_text_state"]:
        raise Ct2Error("encoder and decoder widths differ")
    return m, {k: int(v) for k, v in dims.items()}


def parameter_count(m):
    """What `sum(p.numel() for p in whisper.model.Whisper.parameters())` gives:
    every weight except the encoder's sinusoidal positional embedding (a
    buffer there) and the bias-free key projections."""
    n = 0

    def add(d):
        nonlocal n
        n += d["weight"].size + d["bias"].size

    e, dec = m["encoder"], m["decoder"]
    add(e["conv1"])
    add(e["conv2"])
    for b in e["blocks"]:
        d = b["attn_qkv"]["weight"].shape[1]
        for k in ("attn_ln", "attn_qkv", "attn_out", "mlp_ln", "mlp0", "mlp2"):
            add(b[k])
        n -= d  # key bias
    add(e["ln_post"])
    n += dec["token_embedding"].size + dec["positional_embedding"].size
    for b in dec["blocks"]:
        d = b["attn_qkv"]["weight"].shape[1]
        for k in b:
            add(b[k])
        n -= 2 * d  # self and cross key biases
    add(dec["ln"])
    return int(n)


# ---------------------------------------------------------------------------
# Vocabulary and the special tokens openai-whisper's tokenizer defines


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (as in its encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def read_vocabulary(ct2_dir):
    txt, js = ct2_dir / "vocabulary.txt", ct2_dir / "vocabulary.json"
    if txt.is_file():
        lines = txt.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines, txt
    if js.is_file():
        return json.loads(js.read_text(encoding="utf-8")), js
    raise Ct2Error(f"{ct2_dir}: no vocabulary.txt or vocabulary.json")


def bpe(piece, ranks):
    """tiktoken's byte-pair merge of one pre-tokenized piece (bytes)."""
    if piece in ranks:
        return [ranks[piece]]
    parts = [piece[i : i + 1] for i in range(len(piece))]
    while len(parts) > 1:
        best = None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
    return [ranks[p] for p in parts]


def non_speech_tokens(ranks):
    """openai-whisper Tokenizer.non_speech_tokens. Every string here is one
    piece for Whisper's pre-tokenizer regex (an optional space, then no
    letters, digits or spaces), so the regex split is not needed."""
    symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
    symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
    miscellaneous = set("♩♪♫♬♭♮♯")

    def enc(s):
        return bpe(s.encode("utf-8"), ranks)

    result = {enc(" -")[0], enc(" '")[0]}
    for symbol in symbols + sorted(miscellaneous):
        for tokens in (enc(symbol), enc(" " + symbol)):
            if len(tokens) == 1 or symbol in miscellaneous:
                result.add(tokens[0])
    return sorted(result)


def tokenizer_facts(vocab, dims):
    """Token ids as openai-whisper's tokenizer (get_tokenizer defaults:
    language en, task transcribe for multilingual models) reports them."""
    ids = {}
    for i, t in enumerate(vocab):
        if t.startswith("<|") and t.endswith("|>"):
            ids.setdefault(t, i)

    def need(*names):
        for n in names:
            if n in ids:
                return ids[n]
        raise Ct2Error(f"vocabulary has no {' or '.join(names)}")

    if len(vocab) != dims["n_vocab"]:
        raise Ct2Error(f"vocabulary has {len(vocab)} entries, the embedding {dims['n_vocab']}")
    f = {
        "eot": need("<|endoftext|>"),
        "sot": need("<|startoftranscript|>"),
        "translate": need("<|translate|>"),
        "transcribe": need("<|transcribe|>"),
        "sot_lm": need("<|startoflm|>"),
        "sot_prev": need("<|startofprev|>"),
        # openai-whisper calls it <|nospeech|>; Hugging Face's English-only
        # vocabularies <|nocaptions|> (same id).
        "no_speech": need("<|nospeech|>", "<|nocaptions|>"),
        "no_timestamps": need("<|notimestamps|>"),
        "timestamp_begin": need("<|0.00|>"),
    }
    if f["timestamp_begin"] != f["no_timestamps"] + 1:
        raise Ct2Error("<|0.00|> does not follow <|notimestamps|>")
    langs = list(range(f["sot"] + 1, f["translate"]))
    codes = [vocab[i][2:-2] for i in langs]
    if not all(vocab[i].startswith("<|") and vocab[i].endswith("|>") for i in langs) or not langs:
        raise Ct2Error("the tokens between <|startoftranscript|> and <|translate|> are not all language tokens")
    f["all_language_tokens"] = langs  # ascending id = openai-whisper's LANGUAGES order
    f["all_language_codes"] = codes
    f["is_multilingual"] = int(dims["n_vocab"] >= 51865)
    f["sot_sequence"] = [f["sot"], langs[codes.index("en")], f["transcribe"]] if f["is_multilingual"] else [f["sot"]]

    # Regular tokens (ids below eot) are tiktoken's mergeable ranks.
    dec = {c: b for b, c in bytes_to_unicode().items()}
    regular = []
    for i in range(f["eot"]):
        try:
            regular.append(bytes(dec[c] for c in vocab[i]))
        except KeyError as err:
            raise Ct2Error(f"vocabulary entry {i} {vocab[i]!r} is not GPT-2 byte-level text") from err
    ranks = {}
    for i, b in enumerate(regular):
        ranks.setdefault(b, i)
    f["regular"] = regular
    f["blank_id"] = bpe(b" ", ranks)[0]
    f["non_speech_tokens"] = non_speech_tokens(ranks)
    return f


def tokens_txt(regular):
    # tiktoken's files write the empty token (multilingual rank 50256) as "=".
    return "".join(f"{base64.b64encode(b).decode('ascii') or '='} {i}\n" for i, b in enumerate(regular))


# ---------------------------------------------------------------------------
# Graph building


class Graph:
    """Collects nodes and initializers with deterministic names."""

    def __init__(self, quant=None):
        self.nodes = []
        self.inits = []
        self.consts = {}
        self.count = 0
        # None: fp32 MatMuls; else a Quant: linear layers as int8 DynamicQuantizeMatMul.
        self.quant = quant
        self.domains = set()

    def init(self, name, arr):
        # (np.ascontiguousarray would turn a 0-d array into shape [1])
        self.inits.append(numpy_helper.from_array(np.array(arr, order="C"), name))
        return name

    def const(self, value, dtype=np.int64):
        arr = np.array(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self.consts:
            self.consts[key] = self.init(f"const_{len(self.consts)}", arr)
        return self.consts[key]

    def op(self, op_type, inputs, outputs=1, name=None, domain=None, **attrs):
        self.count += 1
        if isinstance(outputs, int):
            base = name or f"{op_type.lower()}_{self.count}"
            outputs = [base] if outputs == 1 else [f"{base}_{i}" for i in range(outputs)]
        if domain is not None:
            self.domains.add(domain)
            attrs["domain"] = domain
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=f"{op_type}_{self.count}", **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    # building blocks -------------------------------------------------------

    def linear(self, x, p, name):
        """x @ W.T + b, W stored transposed ([in, out]) as MatMul wants it."""
        if self.quant is not None:
            return self.qmatmul(x, p["weight"].T, name, bias=p["bias"])
        w = self.init(f"{name}.weight", p["weight"].T)
        b = self.init(f"{name}.bias", p["bias"])
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def qweight(self, w_in_out, name):
        """Initializers of W [in, out] quantized per output column:
        (int8 weights, float scales)."""
        q, scale = self.quant.weights(w_in_out)
        return self.init(f"{name}.weight_int8", q), self.init(f"{name}.weight_scale", scale)

    def qmatmul(self, x, w_in_out, name, bias=None, weights=None):
        """x @ W (+ bias) with W int8 per output column and x quantized on the
        fly (ONNX Runtime's DynamicQuantizeMatMul: uint8 x int8, int32 sums)."""
        q, scale = weights or self.qweight(w_in_out, name)
        ins = [x, q, scale, ""]
        if bias is not None:
            ins.append(self.init(f"{name}.bias", bias))
        return self.op("DynamicQuantizeMatMul", ins, domain=MS_DOMAIN)

    def layer_norm(self, x, p, name, out=None):
        w = self.init(f"{name}.weight", p["weight"])
        b = self.init(f"{name}.bias", p["bias"])
        return self.op("LayerNormalization", [x, w, b], outputs=[out] if out else 1, axis=-1, epsilon=1e-5)

    def gelu(self, x):
        # The exact (erf) GELU, in the pattern ONNX Runtime fuses into one op.
        s = self.op("Div", [x, self.const(math.sqrt(2.0), np.float32)])
        s = self.op("Add", [self.op("Erf", [s]), self.const(1.0, np.float32)])
        return self.op("Mul", [self.op("Mul", [x, s]), self.const(0.5, np.float32)])

    def heads(self, x, n_head, d_head, perm):
        """[N, S, D] -> [N, H, S, dh] (perm 0,2,1,3) or [N, H, dh, S] (0,2,3,1)."""
        r = self.op("Reshape", [x, self.const([0, 0, n_head, d_head])])
        return self.op("Transpose", [r], perm=perm)

    def attention(self, q, k, v, n_head, d_head, mask=None):
        """softmax(q k^T / sqrt(dh) + mask) v; returns ([N, S, D], weights)."""
        q = self.op("Mul", [q, self.const(d_head**-0.5, np.float32)])
        qk = self.op("MatMul", [self.heads(q, n_head, d_head, [0, 2, 1, 3]), self.heads(k, n_head, d_head, [0, 2, 3, 1])])
        if mask is not None:
            qk = self.op("Add", [qk, mask])
        w = self.op("Softmax", [qk], axis=-1)
        o = self.op("MatMul", [w, self.heads(v, n_head, d_head, [0, 2, 1, 3])])
        o = self.op("Transpose", [o], perm=[0, 2, 1, 3])
        return self.op("Reshape", [o, self.const([0, 0, n_head * d_head])]), w

    def attention_untransposed(self, q, k, v, n_head, d_head):
        """attention() without reshaping k and v into heads: for keys and
        values that are inputs (the encoder's, [N, T, D]) that saves copying
        both on every decoder step, for n_head times the multiplications.

        q [N, n, D] becomes block-diagonal Q [N, D, H * n] (head h's columns
        zero outside its dh rows), so k @ Q is every head's scores at once;
        the weights [N, H * n, T] times v give each head's output in its own
        dh columns, summed over the heads. Returns ([N, n, D], weights
        [N, H, n, T])."""
        D = n_head * d_head
        rows = np.repeat(np.eye(n_head, dtype=np.float32), d_head, axis=0)  # [D, H]: d // dh == h
        q = self.op("Mul", [q, self.const(d_head**-0.5, np.float32)])
        qt = self.op("Unsqueeze", [self.op("Transpose", [q], perm=[0, 2, 1]), self.const([2])])  # [N, D, 1, n]
        qbd = self.op("Mul", [qt, self.const(rows[:, :, None], np.float32)])  # [N, D, H, n]
        qbd = self.op("Reshape", [qbd, self.const([0, D, -1])])  # [N, D, H * n]
        scores = self.op("Transpose", [self.op("MatMul", [k, qbd])], perm=[0, 2, 1])  # [N, H * n, T]
        w = self.op("Softmax", [scores], axis=-1)
        o = self.op("MatMul", [w, v])  # [N, H * n, D]
        o = self.op("Reshape", [o, self.const([0, n_head, -1, D])])  # [N, H, n, D]
        o = self.op("ReduceSum", [self.op("Mul", [o, self.const(rows.T[:, None, :], np.float32)]), self.const([1])], keepdims=0)
        shape = self.op("Concat", [self.op("Shape", [w], start=0, end=1), self.const([n_head, -1]), self.op("Shape", [w], start=2, end=3)], axis=0)
        return o, self.op("Reshape", [w, shape])

    def fused_attention(self, q, k, v, n_head, d_head):
        """softmax(q k^T / sqrt(dh)) v as one com.microsoft MultiHeadAttention
        (q, k, v [N, T, D] -> [N, T, D]). Without a mask or cache, ONNX
        Runtime's CPU kernel runs it as flash attention in blocks sized to the
        L2 cache, so the [N, H, T, T] scores and weights (54 MB each for a
        30 s tiny.en window) are never held whole."""
        return self.op("MultiHeadAttention", [q, k, v], domain=MS_DOMAIN, num_heads=n_head, scale=d_head**-0.5)

    def split3(self, x, d, n):
        return self.op("Split", [x, self.const([d] * n)], outputs=n, axis=-1)


def tensor_info(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def build_encoder(m, dims, quant=None):
    """The encoder graph; with `quant`, its linear layers in int8 (the
    convolutions and attention products stay fp32). Self-attention is one
    fused op (see Graph.fused_attention). Returns (graph, domains)."""
    e, dec = m["encoder"], m["decoder"]
    g = Graph(quant)
    d = dims["n_audio_state"]
    H = dims["n_audio_head"]
    dh = d // H

    def conv(x, p, name, stride):
        w = g.init(f"{name}.weight", p["weight"])
        b = g.init(f"{name}.bias", p["bias"])
        return g.op("Conv", [x, w, b], kernel_shape=[3], pads=[1, 1], strides=[stride])

    x = g.gelu(conv("mel", e["conv1"], "encoder.conv1", 1))
    x = g.gelu(conv(x, e["conv2"], "encoder.conv2", 2))
    x = g.op("Transpose", [x], perm=[0, 2, 1])  # [N, T/2, D]
    # Like sherpa-onnx's export: T may be shorter than 3000 frames.
    n_frames = g.op("Shape", [x], start=1, end=2)
    pos = g.init("encoder.positional_embedding", e["positional_embedding"])
    pos = g.op("Slice", [pos, g.const([0]), n_frames, g.const([0])])
    x = g.op("Add", [x, pos])
    for i, b in enumerate(e["blocks"]):
        p = f"encoder.blocks.{i}"
        h = g.layer_norm(x, b["attn_ln"], f"{p}.attn_ln")
        q, k, v = g.split3(g.linear(h, b["attn_qkv"], f"{p}.attn.qkv"), d, 3)
        a = g.fused_attention(q, k, v, H, dh)
        x = g.op("Add", [x, g.linear(a, b["attn_out"], f"{p}.attn.out")])
        h = g.layer_norm(x, b["mlp_ln"], f"{p}.mlp_ln")
        h = g.linear(g.gelu(g.linear(h, b["mlp0"], f"{p}.mlp.0")), b["mlp2"], f"{p}.mlp.2")
        x = g.op("Add", [x, h])
    af = g.layer_norm(x, e["ln_post"], "encoder.ln_post", out="audio_features")

    ks, vs = [], []
    for i, b in enumerate(dec["blocks"]):
        k, v = g.op("Split", [g.linear(af, b["cross_attn_kv"], f"decoder.blocks.{i}.cross_attn.kv"), g.const([d, d])], outputs=2, axis=-1)
        ks.append(g.op("Unsqueeze", [k, g.const([0])]))
        vs.append(g.op("Unsqueeze", [v, g.const([0])]))
    g.op("Concat", ks, outputs=["n_layer_cross_k"], axis=0)
    g.op("Concat", vs, outputs=["n_layer_cross_v"], axis=0)

    L = dims["n_text_layer"]
    graph = helper.make_graph(
        g.nodes,
        "whisper_encoder",
        [tensor_info("mel", TensorProto.FLOAT, ["n_audio", dims["n_mels"], "T"])],
        [
            tensor_info("n_layer_cross_k", TensorProto.FLOAT, [L, "n_audio", "T", d]),
            tensor_info("n_layer_cross_v", TensorProto.FLOAT, [L, "n_audio", "T", d]),
        ],
        g.inits,
    )
    return graph, g.domains


def build_decoder(m, dims, alignment_heads):
    dec = m["decoder"]
    g = Graph()
    d = dims["n_text_state"]
    H = dims["n_text_head"]
    dh = d // H
    L = dims["n_text_layer"]
    ctx = dims["n_text_ctx"]

    n_tok = g.op("Shape", ["tokens"], start=1, end=2)  # [1]
    end = g.op("Add", ["offset", n_tok])  # [1]: offset + n_tokens
    emb = g.init("decoder.token_embedding.weight", dec["token_embedding"])
    x = g.op("Gather", [emb, "tokens"], axis=0)
    pos = g.init("decoder.positional_embedding", dec["positional_embedding"])
    x = g.op("Add", [x, g.op("Slice", [pos, "offset", end, g.const([0])])])

    # Causal mask [n_tokens, offset + n_tokens]: query at absolute position
    # offset + r sees keys 0 ..= offset + r.
    off_s = g.op("Squeeze", ["offset", g.const([0])])
    end_s = g.op("Squeeze", [end, g.const([0])])
    key_pos = g.op("Unsqueeze", [g.op("Range", [g.const(0), end_s, g.const(1)]), g.const([0])])
    qry_pos = g.op("Unsqueeze", [g.op("Range", [off_s, end_s, g.const(1)]), g.const([1])])
    mask = g.op("Where", [g.op("Greater", [key_pos, qry_pos]), g.const(-np.inf, np.float32), g.const(0.0, np.float32)])

    heads_by_layer = {}
    for layer, head in alignment_heads:
        heads_by_layer.setdefault(layer, []).append(head)

    new_k, new_v, attn = [], [], []
    for i, b in enumerate(dec["blocks"]):
        p = f"decoder.blocks.{i}"
        li = g.const(i)
        h = g.layer_norm(x, b["attn_ln"], f"{p}.attn_ln")
        q, k, v = g.split3(g.linear(h, b["attn_qkv"], f"{p}.attn.qkv"), d, 3)

        def update(cache, new):
            # cache[i] with rows offset .. offset+n_tokens replaced by `new`;
            # returns (rows 0 .. offset+n_tokens, the whole updated cache).
            c = g.op("Gather", [cache, li], axis=0)  # [N, n_text_ctx, D]
            past = g.op("Slice", [c, g.const([0]), "offset", g.const([1])])
            upto = g.op("Concat", [past, new], axis=1)
            rest = g.op("Slice", [c, end, g.const([ctx]), g.const([1])])
            full = g.op("Concat", [upto, rest], axis=1)
            return upto, g.op("Unsqueeze", [full, g.const([0])])

        keys, full_k = update("in_n_layer_self_k_cache", k)
        vals, full_v = update("in_n_layer_self_v_cache", v)
        new_k.append(full_k)
        new_v.append(full_v)
        a, _ = g.attention(q, keys, vals, H, dh, mask)
        x = g.op("Add", [x, g.linear(a, b["attn_out"], f"{p}.attn.out")])

        h = g.layer_norm(x, b["cross_attn_ln"], f"{p}.cross_attn_ln")
        q = g.linear(h, b["cross_attn_q"], f"{p}.cross_attn.q")
        ck = g.op("Gather", ["n_layer_cross_k", li], axis=0)
        cv = g.op("Gather", ["n_layer_cross_v", li], axis=0)
        a, w = g.attention(q, ck, cv, H, dh)
        if i in heads_by_layer:
            attn.append(g.op("Gather", [w, g.const(heads_by_layer[i])], axis=1))
        x = g.op("Add", [x, g.linear(a, b["cross_attn_out"], f"{p}.cross_attn.out")])

        h = g.layer_norm(x, b["mlp_ln"], f"{p}.mlp_ln")
        h = g.linear(g.gelu(g.linear(h, b["mlp0"], f"{p}.mlp.0")), b["mlp2"], f"{p}.mlp.2")
        x = g.op("Add", [x, h])

    x = g.layer_norm(x, dec["ln"], "decoder.ln")
    # logits = x @ token_embedding.T with the one embedding copy (Gemm, transB).
    flat = g.op("Reshape", [x, g.const([-1, d])])
    logits = g.op("Gemm", [flat, emb], transB=1)
    out_shape = g.op("Concat", [g.op("Shape", ["tokens"]), g.const([dims["n_vocab"]])], axis=0)
    g.op("Reshape", [logits, out_shape], outputs=["logits"])
    g.op("Concat", new_k, outputs=["out_n_layer_self_k_cache"], axis=0)
    g.op("Concat", new_v, outputs=["out_n_layer_self_v_cache"], axis=0)
    g.op("Concat", attn, outputs=["cross_attn"], axis=1)

    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    cache = [L, "n_audio", ctx, d]
    cross = [L, "n_audio", "T", d]
    graph = helper.make_graph(
        g.nodes,
        "whisper_decoder",
        [
            tensor_info("tokens", i64, ["n_audio", "n_tokens"]),
            tensor_info("in_n_layer_self_k_cache", f32, cache),
            tensor_info("in_n_layer_self_v_cache", f32, cache),
            tensor_info("n_layer_cross_k", f32, cross),
            tensor_info("n_layer_cross_v", f32, cross),
            tensor_info("offset", i64, [1]),
        ],
        [
            tensor_info("logits", f32, ["n_audio", "n_tokens", dims["n_vocab"]]),
            tensor_info("out_n_layer_self_k_cache", f32, cache),
            tensor_info("out_n_layer_self_v_cache", f32, cache),
            tensor_info("cross_attn", f32, ["n_audio", len(alignment_heads), "n_tokens", "T"]),
        ],
        g.inits,
    )
    return graph


def build_hark_decoder(m, dims, alignment_heads, quant=None):
    """hark's decoder layout: self-attention caches that grow with the
    sequence, logits for the last position only. Returns (graph, domains).

    tokens i64 [N, n], past_self_k/v [L, N, P, D] (P = 0 on the first call;
    the positional embedding starts at P), n_layer_cross_k/v [L, 1, T, D]
    (one window's, shared by the N sequences: its beams) ->
    logits [N, n_vocab] (last position), present_self_k/v [L, N, P + n, D],
    cross_attn [N, heads, n, T] (as build_decoder's). With `quant`, the
    linear layers and the vocabulary projection are int8, and the token
    embedding is read back from the projection's int8 weights (one copy)."""
    dec = m["decoder"]
    g = Graph(quant)
    d = dims["n_text_state"]
    H = dims["n_text_head"]
    dh = d // H

    past = g.op("Shape", ["past_self_k"], start=2, end=3)  # [1]: P
    n_tok = g.op("Shape", ["tokens"], start=1, end=2)  # [1]: n
    end = g.op("Add", [past, n_tok])  # [1]: P + n
    if quant is None:
        emb = g.init("decoder.token_embedding.weight", dec["token_embedding"])
        x = g.op("Gather", [emb, "tokens"], axis=0)
    else:
        # Projection weights [D, n_vocab], one scale per token; the embedding
        # of token t is column t times its scale.
        proj = g.qweight(dec["token_embedding"].T, "decoder.token_embedding")
        cols = g.op("Cast", [g.op("Gather", [proj[0], "tokens"], axis=1)], to=TensorProto.FLOAT)  # [D, N, n]
        x = g.op("Transpose", [cols], perm=[1, 2, 0])
        x = g.op("Mul", [x, g.op("Unsqueeze", [g.op("Gather", [proj[1], "tokens"], axis=0), g.const([-1])])])
    pos = g.init("decoder.positional_embedding", dec["positional_embedding"])
    x = g.op("Add", [x, g.op("Slice", [pos, past, end, g.const([0])])])

    # Causal mask [n, P + n]: query at absolute position P + r sees keys 0 ..= P + r.
    past_s = g.op("Squeeze", [past, g.const([0])])
    end_s = g.op("Squeeze", [end, g.const([0])])
    key_pos = g.op("Unsqueeze", [g.op("Range", [g.const(0), end_s, g.const(1)]), g.const([0])])
    qry_pos = g.op("Unsqueeze", [g.op("Range", [past_s, end_s, g.const(1)]), g.const([1])])
    mask = g.op("Where", [g.op("Greater", [key_pos, qry_pos]), g.const(-np.inf, np.float32), g.const(0.0, np.float32)])

    batch_len = g.op("Shape", ["tokens"])  # [2]: N, n
    q_shape = g.op("Concat", [batch_len, g.const([d])], axis=0)  # [3]: N, n, D

    heads_by_layer = {}
    for layer, head in alignment_heads:
        heads_by_layer.setdefault(layer, []).append(head)

    L = dims["n_text_layer"]
    past_k = g.op("Split", ["past_self_k", g.const([1] * L)], outputs=L, axis=0) if L > 1 else ["past_self_k"]
    past_v = g.op("Split", ["past_self_v", g.const([1] * L)], outputs=L, axis=0) if L > 1 else ["past_self_v"]
    cross_k = g.op("Split", ["n_layer_cross_k", g.const([1] * L)], outputs=L, axis=0) if L > 1 else ["n_layer_cross_k"]
    cross_v = g.op("Split", ["n_layer_cross_v", g.const([1] * L)], outputs=L, axis=0) if L > 1 else ["n_layer_cross_v"]
    squeeze0 = g.const([0])
    new_k, new_v, attn = [], [], []
    for i, b in enumerate(dec["blocks"]):
        p = f"decoder.blocks.{i}"
        h = g.layer_norm(x, b["attn_ln"], f"{p}.attn_ln")
        q, k, v = g.split3(g.linear(h, b["attn_qkv"], f"{p}.attn.qkv"), d, 3)
        # [1, N, P, D] ++ [1, N, n, D] along the sequence: this layer's present.
        pk = g.op("Concat", [past_k[i], g.op("Unsqueeze", [k, squeeze0])], axis=2)
        pv = g.op("Concat", [past_v[i], g.op("Unsqueeze", [v, squeeze0])], axis=2)
        new_k.append(pk)
        new_v.append(pv)
        keys = g.op("Squeeze", [pk, squeeze0])
        vals = g.op("Squeeze", [pv, squeeze0])
        a, _ = g.attention(q, keys, vals, H, dh, mask)
        x = g.op("Add", [x, g.linear(a, b["attn_out"], f"{p}.attn.out")])

        h = g.layer_norm(x, b["cross_attn_ln"], f"{p}.cross_attn_ln")
        q = g.linear(h, b["cross_attn_q"], f"{p}.cross_attn.q")
        ck = g.op("Squeeze", [cross_k[i], squeeze0])
        cv = g.op("Squeeze", [cross_v[i], squeeze0])
        # Every sequence of the batch decodes the same audio (one window's
        # beams): the encoder's keys and values come once, batch 1, and the
        # N x n queries attend to them as one row block.
        a, w = g.attention_untransposed(g.op("Reshape", [q, g.const([1, -1, d])]), ck, cv, H, dh)
        a = g.op("Reshape", [a, q_shape])
        if i in heads_by_layer:
            w = g.op("Gather", [w, g.const(heads_by_layer[i])], axis=1)  # [1, h, N * n, T]
            w = g.op("Reshape", [w, g.op("Concat", [g.const([len(heads_by_layer[i])]), batch_len, g.const([-1])], axis=0)])
            attn.append(g.op("Transpose", [w], perm=[1, 0, 2, 3]))  # [N, h, n, T]
        x = g.op("Add", [x, g.linear(a, b["cross_attn_out"], f"{p}.cross_attn.out")])

        h = g.layer_norm(x, b["mlp_ln"], f"{p}.mlp_ln")
        h = g.linear(g.gelu(g.linear(h, b["mlp0"], f"{p}.mlp.0")), b["mlp2"], f"{p}.mlp.2")
        x = g.op("Add", [x, h])

    # Only the last position goes through the final norm and the projection.
    last = g.op("Slice", [x, g.const([-1]), g.const([np.iinfo(np.int64).max]), g.const([1])])  # [N, 1, D]
    last = g.op("Reshape", [g.layer_norm(last, dec["ln"], "decoder.ln"), g.const([-1, d])])
    if quant is None:
        g.op("Gemm", [last, emb], outputs=["logits"], transB=1)
    else:
        g.op("DynamicQuantizeMatMul", [last, proj[0], proj[1], ""], outputs=["logits"], domain=MS_DOMAIN)
    g.op("Concat", new_k, outputs=["present_self_k"], axis=0)
    g.op("Concat", new_v, outputs=["present_self_v"], axis=0)
    g.op("Concat", attn, outputs=["cross_attn"], axis=1)

    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    graph = helper.make_graph(
        g.nodes,
        "whisper_decoder_hark",
        [
            tensor_info("tokens", i64, ["n_audio", "n_tokens"]),
            tensor_info("past_self_k", f32, [L, "n_audio", "n_past", d]),
            tensor_info("past_self_v", f32, [L, "n_audio", "n_past", d]),
            tensor_info("n_layer_cross_k", f32, [L, 1, "T", d]),
            tensor_info("n_layer_cross_v", f32, [L, 1, "T", d]),
        ],
        [
            tensor_info("logits", f32, ["n_audio", dims["n_vocab"]]),
            tensor_info("present_self_k", f32, [L, "n_audio", "n_present", d]),
            tensor_info("present_self_v", f32, [L, "n_audio", "n_present", d]),
            tensor_info("cross_attn", f32, ["n_audio", len(alignment_heads), "n_tokens", "T"]),
        ],
        g.inits,
    )
    return graph, g.domains


def make_model(graph, metadata, domains=()):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)] + [helper.make_opsetid(dm, 1) for dm in sorted(domains)],
        producer_name="hark",
        producer_version=CONVERTER,
        ir_version=IR_VERSION,
    )
    for k, v in metadata.items():
        p = model.metadata_props.add()
        p.key = k
        p.value = str(v)
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------------------
# Metadata, model card, main


def csv(values):
    return ",".join(str(v) for v in values)


def encoder_metadata(name, dims, tok, config, alignment_heads, source, source_sha256, model_sha256):
    # The keys, order and value formats of sherpa-onnx export-onnx.py ...
    md = {
        "model_type": f"whisper-{name}",
        "version": "1",
        "maintainer": "hark",
        **{k: dims[k] for k in ("n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer", "n_vocab", "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer")},
        "sot_sequence": csv(tok["sot_sequence"]),
        "all_language_tokens": csv(tok["all_language_tokens"]),
        "all_language_codes": ",".join(tok["all_language_codes"]),
        "sot": tok["sot"],
        "sot_index": tok["sot_sequence"].index(tok["sot"]),
        "eot": tok["eot"],
        "blank_id": tok["blank_id"],
        "is_multilingual": tok["is_multilingual"],
        "no_speech": tok["no_speech"],
        "non_speech_tokens": csv(tok["non_speech_tokens"]),
        "transcribe": tok["transcribe"],
        "translate": tok["translate"],
        "sot_prev": tok["sot_prev"],
        "sot_lm": tok["sot_lm"],
        "no_timestamps": tok["no_timestamps"],
    }
    # ... then hark's: the decoder's cross_attn channels (n_alignment_heads is
    # the key sherpa-onnx reads for its 4th decoder output), CTranslate2's
    # config.json, provenance.
    md["n_alignment_heads"] = len(alignment_heads)
    md["alignment_heads"] = ";".join(f"{layer},{head}" for layer, head in alignment_heads)
    for key in ("suppress_ids", "suppress_ids_begin", "lang_ids"):
        if key in config:
            md[key] = csv(config[key])
    md["hark_converter"] = CONVERTER
    md["hark_source"] = source
    md["hark_source_sha256"] = source_sha256
    md["hark_ct2_model_sha256"] = model_sha256
    return md


MIT_LICENSE = """MIT License

Copyright (c) 2022 OpenAI

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

MEASURED_BEGIN = "<!-- measured:begin -->"
MEASURED_END = "<!-- measured:end -->"


def model_card(name, dims, n_params, source, source_sha256, model_sha256, files, alignment_heads):
    rows = "\n".join(f"| `{f}` | {size:,} | `{sha}` |" for f, size, sha in files)
    srcs = "\n".join(f"- `{s}` sha256 `{h}`" for s, h in zip(source.split(","), source_sha256.split(",")))
    return f"""# Whisper {name} (ONNX: sherpa-onnx layout fp32, hark layout fp32 and int8)

OpenAI's Whisper `{name}` weights, converted by hark's
`scripts/whisper/convert_ct2.py` ({CONVERTER}) from the CTranslate2
(faster-whisper) float16 model to ONNX (opset {OPSET}): float32 files in
sherpa-onnx's layout, hark's own decoder layout in float32, and int8 variants
of hark's decoder and of the encoder.
Made by `scripts/fetch-model whisper-{name}`; do not edit (it is regenerated).

## Source
{srcs}
- CTranslate2 `model.bin` sha256 `{model_sha256}`

## Model
- {n_params:,} parameters (as `whisper.model.Whisper` counts them)
- {dims['n_audio_layer']} encoder / {dims['n_text_layer']} decoder layers, width {dims['n_text_state']}, {dims['n_text_head']} heads, {dims['n_mels']} mel bands, vocabulary {dims['n_vocab']}
- Encoder: `mel` f32 [N, {dims['n_mels']}, T] (T = 3000 for 30 s) -> `n_layer_cross_k`, `n_layer_cross_v` f32 [{dims['n_text_layer']}, N, T/2, {dims['n_text_state']}]. All metadata is on the encoder.
- Decoder: `tokens` i64 [N, n], `in_n_layer_self_k_cache`, `in_n_layer_self_v_cache` f32 [{dims['n_text_layer']}, N, {dims['n_text_ctx']}, {dims['n_text_state']}], `n_layer_cross_k`, `n_layer_cross_v`, `offset` i64 [1] -> `logits` f32 [N, n, {dims['n_vocab']}], `out_n_layer_self_k_cache`, `out_n_layer_self_v_cache`, `cross_attn` f32 [N, {len(alignment_heads)}, n, T/2] (softmaxed cross-attention of the alignment heads `{';'.join(f'{l},{h}' for l, h in alignment_heads)}` (layer,head), in that order).
- `{name}-tokens.txt`: `base64(token bytes) id`, one line per regular token (tiktoken ranks), no special tokens.
- `{name}-decoder.hark.onnx` (hark's layout, fp32; ONNX Runtime only): `tokens` i64 [N, n], `past_self_k`, `past_self_v` f32 [{dims['n_text_layer']}, N, P, {dims['n_text_state']}] (P = tokens already decoded, 0 on the first call; the positional embedding starts at P), `n_layer_cross_k`, `n_layer_cross_v` f32 [{dims['n_text_layer']}, 1, T, {dims['n_text_state']}] (one window's, shared by all N sequences, the beams of that window: every query attends to them in one product, and nothing is repeated per beam) -> `logits` f32 [N, {dims['n_vocab']}] (last position only), `present_self_k`, `present_self_v` [{dims['n_text_layer']}, N, P + n, {dims['n_text_state']}], `cross_attn` as above. No fixed-size caches passed in and out, and the vocabulary projection runs for one position.
- `{name}-decoder.hark.int8.onnx`, `{name}-encoder.int8.onnx`: the same graphs with every linear layer (and the decoder's tied vocabulary projection, whose int8 columns also give the token embeddings) in int8: symmetric weights, one scale per output column, {Quant().bits}-bit ([-{Quant().qmax}, {Quant().qmax}], no int16 saturation on CPUs without VNNI), activations quantized per call (ONNX Runtime's `com.microsoft` `DynamicQuantizeMatMul`). Convolutions, attention products, norms and embeddings' positions stay fp32. Both encoders run their self-attention as one `com.microsoft` MultiHeadAttention (ONNX Runtime's CPU flash attention). The int8 encoder has the fp32 encoder's metadata.
- Encoder metadata: the keys of sherpa-onnx's `export-onnx.py` (`model_type` ... `no_timestamps`; language
  lists in token-id order), then hark's: `n_alignment_heads`, `alignment_heads` (`l,h;l,h;...`),
  `suppress_ids`, `suppress_ids_begin`, `lang_ids` (CTranslate2's config.json, comma-separated),
  `hark_converter`, `hark_source`, `hark_source_sha256`, `hark_ct2_model_sha256`.

## Files
| file | bytes | sha256 |
|---|---:|---|
{rows}

## Measured
{MEASURED_BEGIN}
Not measured yet: run `scripts/check-whisper-conversion whisper-{name}` to compare this
conversion with faster-whisper / CTranslate2 and sherpa-onnx and fill this section.
{MEASURED_END}

## Licence of the weights
{MIT_LICENSE}"""


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path, data):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ct2-dir", required=True, type=Path, help="model.bin, config.json, vocabulary.txt|json")
    ap.add_argument("--name", required=True, help="file name prefix and model_type suffix: tiny.en, base, ...")
    ap.add_argument("--out", required=True, type=Path, help="output directory (created)")
    ap.add_argument("--source", default="", help="provenance for the model card, e.g. NAME==VERSION[,NAME==VERSION]")
    ap.add_argument("--source-sha256", default="", help="sha256 of each --source, comma-separated")
    args = ap.parse_args(argv)

    ct2 = args.ct2_dir
    model_bin = ct2 / "model.bin"
    spec, revision, variables, aliases = read_ct2_model(model_bin)
    if spec != "WhisperSpec":
        raise Ct2Error(f"{model_bin}: spec {spec}, not WhisperSpec")
    model_sha256 = sha256_file(model_bin)
    source = args.source or f"ct2-dir:{ct2.name}"
    source_sha256 = args.source_sha256 or model_sha256
    if len(source.split(",")) != len(source_sha256.split(",")):
        raise Ct2Error("--source and --source-sha256 list different numbers of items")

    config = json.loads((ct2 / "config.json").read_text(encoding="utf-8"))
    m, dims = load_whisper(Weights(variables, aliases))
    del variables
    vocab, _ = read_vocabulary(ct2)
    tok = tokenizer_facts(vocab, dims)

    heads = config.get("alignment_heads")
    if heads:
        alignment_heads = sorted((int(l), int(h)) for l, h in heads)
    else:
        # openai-whisper's default: every head of the last half of the layers.
        print("convert_ct2: config.json has no alignment_heads; using all heads of the last half of the layers", file=sys.stderr)
        L, H = dims["n_text_layer"], dims["n_text_head"]
        alignment_heads = [(l, h) for l in range(L // 2, L) for h in range(H)]
    for l, h in alignment_heads:
        if not (0 <= l < dims["n_text_layer"] and 0 <= h < dims["n_text_head"]):
            raise Ct2Error(f"config.json alignment head {l},{h} is out of range")
    if "suppress_ids" in config:
        listed = sorted(i for i in config["suppress_ids"] if i < tok["eot"])
        if listed != tok["non_speech_tokens"]:
            raise Ct2Error("config.json suppress_ids below eot differ from openai-whisper's non_speech_tokens")

    args.out.mkdir(parents=True, exist_ok=True)
    n = args.name
    enc_md = encoder_metadata(n, dims, tok, config, alignment_heads, source, source_sha256, model_sha256)
    quant = Quant()

    def encoder(q):
        graph, domains = build_encoder(m, dims, q)
        return make_model(graph, enc_md, domains).SerializeToString()

    def hark_decoder(q):
        graph, domains = build_hark_decoder(m, dims, alignment_heads, q)
        return make_model(graph, {}, domains).SerializeToString()

    outputs = [
        (f"{n}-encoder.onnx", lambda: encoder(None)),
        (f"{n}-decoder.onnx", lambda: make_model(build_decoder(m, dims, alignment_heads), {}).SerializeToString()),
        (f"{n}-tokens.txt", lambda: tokens_txt(tok["regular"]).encode("utf-8")),
        (f"{n}-decoder.hark.onnx", lambda: hark_decoder(None)),
        (f"{n}-decoder.hark.int8.onnx", lambda: hark_decoder(quant)),
        (f"{n}-encoder.int8.onnx", lambda: encoder(quant)),
    ]
    files = []
    for fname, make in outputs:
        data = make()
        write_atomic(args.out / fname, data)
        files.append((fname, len(data), hashlib.sha256(data).hexdigest()))
        print(f"convert_ct2: wrote {args.out / fname} ({len(data):,} bytes)", file=sys.stderr)
    card = model_card(n, dims, parameter_count(m), source, source_sha256, model_sha256, files, alignment_heads)
    write_atomic(args.out / "README.md", card.encode("utf-8"))
    print(f"convert_ct2: {parameter_count(m):,} parameters", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Ct2Error as err:
        print(f"convert_ct2: error: {err}", file=sys.stderr)
        sys.exit(1)
