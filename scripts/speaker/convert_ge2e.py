#!/usr/bin/env python3
"""Converts Resemblyzer's GE2E speaker encoder (`resemblyzer/pretrained.pt`
from the PyPI wheel Resemblyzer==0.1.4) to ONNX, with numpy and onnx only.

The checkpoint is PyTorch's legacy (pre-1.6) serialisation: a run of pickles
(magic number, protocol version, system info, the object, the storage keys)
followed by each storage's raw bytes (an int64 element count, then the
data). PyTorch 1.6+ zip checkpoints (`data.pkl` + `data/N`) are read too.
A small `pickle.Unpickler` maps `torch._utils._rebuild_tensor_v2` and the
`torch.*Storage` classes onto numpy, so PyTorch is never imported.

The network (resemblyzer/voice_encoder.py): a 3-layer LSTM (hidden 256) over
40 mel bands, the last layer's final hidden state through Linear(256, 256),
ReLU, then L2 normalisation. Written as ONNX opset 17 with the `LSTM` op
(PyTorch's gate order i, f, g, o reordered to ONNX's i, o, f, c):

    input   mels       float32 [batch, frames, 40]  (mel power, not log)
    output  embedding  float32 [batch, 256]         (L2-normed, >= 0)

Usage: convert_ge2e.py --pt pretrained.pt --out DIR --source SPEC --source-sha256 HEX
Writes DIR/ge2e.onnx and DIR/README.md (the model card).
"""

import argparse
import hashlib
import io
import pathlib
import pickle
import struct
import sys
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N_MELS = 40
HIDDEN = 256
EMBED = 256
LAYERS = 3

DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ByteStorage": np.uint8,
}


class StorageType:
    def __init__(self, name):
        self.dtype = DTYPES.get(name)
        self.name = name


class LazyStorage:
    """A storage named in the pickle; its bytes are filled in later."""

    def __init__(self, key, stype):
        self.key = key
        self.stype = stype
        self.array = None


def rebuild_tensor_v2(storage, offset, size, stride, *_):
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class TorchUnpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor_v2
        if module == "torch" and name.endswith("Storage"):
            return StorageType(name)
        if module == "collections" and name == "OrderedDict":
            import collections

            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, requires_grad, hooks: data
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the checkpoint")

    def persistent_load(self, pid):
        # legacy: ('storage', type, key, location, size, view_metadata)
        # zip:    ('storage', type, key, location, numel)
        if pid[0] != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid[0]!r}")
        stype, key = pid[1], str(pid[2])
        if stype.dtype is None:
            raise pickle.UnpicklingError(f"unsupported storage {stype.name}")
        if key not in self.storages:
            self.storages[key] = LazyStorage(key, stype)
        return self.storages[key]


def materialise(obj):
    if isinstance(obj, tuple) and obj and obj[0] == "tensor":
        _, storage, offset, size, stride = obj
        a = storage.array
        item = a.itemsize
        return np.lib.stride_tricks.as_strided(
            a[offset:], shape=size, strides=tuple(s * item for s in stride)
        ).copy()
    if isinstance(obj, dict):
        return {k: materialise(v) for k, v in obj.items()}
    return obj


def load_legacy(data):
    f = io.BytesIO(data)
    magic = pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C:
        raise ValueError("not a PyTorch legacy checkpoint (bad magic number)")
    protocol = pickle.load(f)
    if protocol != 1001:
        raise ValueError(f"unsupported legacy protocol {protocol}")
    sys_info = pickle.load(f)
    if not sys_info.get("little_endian", True):
        raise ValueError("big-endian checkpoint")
    storages = {}
    obj = TorchUnpickler(f, storages).load()
    keys = pickle.load(f)
    for key in keys:
        st = storages[str(key)]
        (count,) = struct.unpack("<q", f.read(8))
        dt = np.dtype(st.stype.dtype)
        raw = f.read(count * dt.itemsize)
        if len(raw) != count * dt.itemsize:
            raise ValueError(f"storage {key}: truncated")
        st.array = np.frombuffer(raw, dtype=dt.newbyteorder("<"))
    return materialise(obj)


def load_zip(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
        prefix = pkl[: -len("data.pkl")]
        storages = {}
        obj = TorchUnpickler(io.BytesIO(z.read(pkl)), storages).load()
        for key, st in storages.items():
            dt = np.dtype(st.stype.dtype).newbyteorder("<")
            st.array = np.frombuffer(z.read(f"{prefix}data/{key}"), dtype=dt)
    return materialise(obj)


def load_checkpoint(path):
    if zipfile.is_zipfile(path):
        return load_zip(path)
    return load_legacy(pathlib.Path(path).read_bytes())


def reorder(w):
    """PyTorch gates (i, f, g, o) -> ONNX gates (i, o, f, c) along axis 0."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def build(state):
    nodes, inits = [], []

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))

    # [batch, frames, 40] -> [frames, batch, 40]
    nodes.append(helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2]))
    x = "x0"
    for layer in range(LAYERS):
        w_ih = state[f"lstm.weight_ih_l{layer}"]
        w_hh = state[f"lstm.weight_hh_l{layer}"]
        b_ih = state[f"lstm.bias_ih_l{layer}"]
        b_hh = state[f"lstm.bias_hh_l{layer}"]
        init(f"W{layer}", reorder(w_ih)[None])
        init(f"R{layer}", reorder(w_hh)[None])
        init(f"B{layer}", np.concatenate([reorder(b_ih), reorder(b_hh)])[None])
        y, yh = f"y{layer}", f"h{layer}"
        nodes.append(
            helper.make_node(
                "LSTM",
                [x, f"W{layer}", f"R{layer}", f"B{layer}"],
                [y, yh],
                hidden_size=HIDDEN,
                name=f"lstm{layer}",
            )
        )
        # Y: [frames, 1, batch, H] -> [frames, batch, H]
        sq = f"ys{layer}"
        nodes.append(helper.make_node("Squeeze", [y, "axis1"], [sq]))
        x = sq
    # the last layer's final hidden state: [1, batch, H] -> [batch, H]
    nodes.append(helper.make_node("Squeeze", [f"h{LAYERS - 1}", "axis0"], ["hidden"]))
    init("linear_wt", state["linear.weight"].T)
    init("linear_b", state["linear.bias"])
    nodes.append(helper.make_node("MatMul", ["hidden", "linear_wt"], ["lin0"]))
    nodes.append(helper.make_node("Add", ["lin0", "linear_b"], ["lin"]))
    nodes.append(helper.make_node("Relu", ["lin"], ["relu"]))
    nodes.append(helper.make_node("ReduceL2", ["relu"], ["norm"], axes=[-1], keepdims=1))
    nodes.append(helper.make_node("Max", ["norm", "eps"], ["norm_safe"]))
    nodes.append(helper.make_node("Div", ["relu", "norm_safe"], ["embedding"]))
    inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"))
    inits.append(numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"))
    inits.append(numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "eps"))
    graph = helper.make_graph(
        nodes,
        "ge2e",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["batch", "frames", N_MELS])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", EMBED])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="hark scripts/speaker/convert_ge2e.py",
    )
    model.ir_version = 8
    for k, v in {
        "model_type": "ge2e",
        "sample_rate": "16000",
        "n_mels": str(N_MELS),
        "n_fft": "400",
        "hop_length": "160",
        "embedding_dim": str(EMBED),
    }.items():
        e = model.metadata_props.add()
        e.key, e.value = k, v
    onnx.checker.check_model(model, full_check=True)
    return model


CARD = """# speaker-ge2e: Resemblyzer's GE2E speaker encoder, as ONNX

Made by `scripts/fetch-model speaker-ge2e` (converter:
`scripts/speaker/convert_ge2e.py`, numpy + onnx, no PyTorch). Read by hark's
`src/model/speaker.rs` for `diarization: "speaker"`.

- **Source**: PyPI wheel `{source}`, sha256 `{source_sha}`, member
  `resemblyzer/pretrained.pt` (sha256 `{pt_sha}`).
- **Licence**: Apache-2.0 (Resemblyzer, resemble-ai/Resemblyzer; the licence
  text is in the wheel's `Resemblyzer-0.1.4.dist-info/LICENSE`).
- **Model**: GE2E speaker encoder (Wan et al., 2018): LSTM 3 x 256 over 40
  mel bands, last hidden state -> Linear(256, 256) -> ReLU -> L2 norm;
  {params} parameters, trained by Resemble AI (checkpoint step {step}).
- **Input** `mels` float32 [batch, frames, 40]: librosa-style mel *power*
  spectrogram (16 kHz, n_fft 400 = 25 ms, hop 160 = 10 ms, periodic Hann,
  centred with zero padding, Slaney mel filters 0-8000 Hz with Slaney
  normalisation); Resemblyzer uses partials of 160 frames (1.6 s).
- **Output** `embedding` float32 [batch, 256], L2-normed.
- **Checked** against Resemblyzer's own `VoiceEncoder` (PyTorch) on real
  speech by `scripts/check-speaker-conversion`.

| file | sha256 |
|---|---|
| ge2e.onnx | {onnx_sha} |
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--source-sha256", required=True)
    args = ap.parse_args()
    ckpt = load_checkpoint(args.pt)
    state = ckpt["model_state"] if "model_state" in ckpt else ckpt
    want = [f"lstm.{k}_l{i}" for i in range(LAYERS) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    want += ["linear.weight", "linear.bias"]
    missing = [k for k in want if k not in state]
    if missing:
        sys.exit(f"convert_ge2e: checkpoint lacks {missing}")
    if state["lstm.weight_ih_l0"].shape != (4 * HIDDEN, N_MELS):
        sys.exit(f"convert_ge2e: unexpected lstm.weight_ih_l0 shape {state['lstm.weight_ih_l0'].shape}")
    model = build(state)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "ge2e.onnx"
    onnx.save(model, onnx_path)
    sha = lambda p: hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest()
    params = sum(int(state[k].size) for k in want)
    (out / "README.md").write_text(
        CARD.format(
            source=args.source,
            source_sha=args.source_sha256,
            pt_sha=sha(args.pt),
            params=f"{params:,}",
            step=ckpt.get("step", "?") if isinstance(ckpt, dict) else "?",
            onnx_sha=sha(onnx_path),
        )
    )
    print(f"convert_ge2e: wrote {onnx_path} ({params:,} parameters)", file=sys.stderr)


if __name__ == "__main__":
    main()
