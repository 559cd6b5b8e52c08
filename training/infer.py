"""ONNX Runtime inference for the exported model, using features.py."""
import os

import numpy as np
import onnxruntime as ort

import features as F


def load_tokens(model_dir):
    toks = {}
    with open(os.path.join(model_dir, "tokens.txt"), encoding="utf-8") as f:
        for line in f:
            piece, i = line.rstrip("\n").rsplit(" ", 1)
            toks[int(i)] = piece
    return toks


class Recognizer:
    def __init__(self, model_dir, model_file="model.onnx", threads=1, variant=F.DEFAULT_VARIANT):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(os.path.join(model_dir, model_file), so,
                                         providers=["CPUExecutionProvider"])
        self.tokens = load_tokens(model_dir)
        self.blank = max(self.tokens)
        self.variant = variant

    def logprobs(self, samples):
        feats = F.features(samples, self.variant)  # [T, 80]
        x = feats.T[None].astype(np.float32)      # [1, 80, T]
        lp, n = self.sess.run(["logprobs", "encoded_lengths"],
                              {"audio_signal": x, "length": np.array([x.shape[2]], np.int64)})
        return lp[0, : int(n[0])]

    def words(self, samples):
        """Greedy CTC decode -> list of words ("zero".."nine")."""
        if F.num_frames(len(samples)) == 0:
            return []
        ids = self.logprobs(samples).argmax(-1)
        out, prev = [], self.blank
        for i in ids.tolist():
            if i != prev and i != self.blank:
                out.append(self.tokens[i].replace("\u2581", ""))
            prev = i
        return out


def edit_distance(a, b):
    """Levenshtein distance between two sequences (O(len(b)) memory)."""
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            cur = d[j]
            d[j] = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev = cur
    return d[len(b)]


def edit_ops(ref, hyp):
    """(substitutions, deletions, insertions) of a minimum edit alignment."""
    n, m = len(ref), len(hyp)
    d = [[(0, 0, 0, 0)] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = (i, 0, i, 0)
    for j in range(1, m + 1):
        d[0][j] = (j, 0, 0, j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            c, s, dl, ins = d[i - 1][j - 1]
            best = (c + (ref[i - 1] != hyp[j - 1]), s + (ref[i - 1] != hyp[j - 1]), dl, ins)
            c, s, dl, ins = d[i - 1][j]
            if c + 1 < best[0]:
                best = (c + 1, s, dl + 1, ins)
            c, s, dl, ins = d[i][j - 1]
            if c + 1 < best[0]:
                best = (c + 1, s, dl, ins + 1)
            d[i][j] = best
    return d[n][m][1:]
