"""Export the trained model in sherpa-onnx's NeMo CTC layout:
model.onnx (inputs audio_signal [N,80,T] float32, length [N] int64; outputs
logprobs [N,T',11] float32 log-softmax, encoded_lengths [N] int64) with NeMo
metadata, and tokens.txt ("piece id" per line, <blk> last)."""
import os
import time

import onnx
import torch

from model import VOCAB

VERSION = "2"


def write_tokens(out_dir):
    with open(os.path.join(out_dir, "tokens.txt"), "w", encoding="utf-8") as f:
        for i, t in enumerate(VOCAB):
            f.write(f"{t} {i}\n")


def export_onnx(model, out_dir, n_params, opset=17):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    model = model.eval()
    x = torch.randn(1, 80, 200)
    length = torch.tensor([200], dtype=torch.int64)
    torch.onnx.export(
        model, (x, length), path, dynamo=False, opset_version=opset,
        input_names=["audio_signal", "length"], output_names=["logprobs", "encoded_lengths"],
        dynamic_axes={"audio_signal": {0: "N", 2: "T"}, "length": {0: "N"},
                      "logprobs": {0: "N", 1: "T_out"}, "encoded_lengths": {0: "N"}},
        do_constant_folding=True,
    )
    m = onnx.load(path)
    meta = {
        "vocab_size": str(len(VOCAB)),
        "normalize_type": "per_feature",
        "subsampling_factor": "4",
        "model_type": "EncDecCTCModelBPE",
        "is_giga_am": "0",
        "language": "en",
        "model_author": "hark",
        "version": VERSION,
        "comment": (f"hark digits-en v{VERSION}: connected English digits zero-nine, CTC over 10 word "
                    f"pieces + blank, {n_params} params, trained on FSDD train split (CC BY-SA 4.0, "
                    f"Zohar Jackson et al.) + espeak-ng; 80-bin kaldi fbank, per_feature norm; "
                    f"exported {time.strftime('%Y-%m-%d', time.gmtime())}"),
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)
    write_tokens(out_dir)
    return path
