"""Feature front end shared by training, evaluation and export checks.

This is sherpa-onnx's NeMo CTC front end: kaldi-native-fbank log-mel
filterbank (80 bins, 25 ms / 10 ms, povey window, pre-emphasis 0.97, no
dither, snip_edges=False, librosa-style mel) on float samples in [-1, 1],
followed by per-feature (per mel bin) mean/variance normalisation over the
utterance: x = (x - mean) / (std + 1e-5), std biased (divide by T).

Number of frames for snip_edges=False: T = (num_samples + 80) // 160
(i.e. round(num_samples / 160)), and 0 for an empty input.
"""
import numpy as np
import kaldi_native_fbank as knf

SAMPLE_RATE = 16000
NUM_BINS = 80


def fbank_options() -> "knf.FbankOptions":
    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.frame_opts.frame_length_ms = 25
    opts.frame_opts.frame_shift_ms = 10
    opts.frame_opts.dither = 0
    opts.frame_opts.snip_edges = False
    opts.frame_opts.remove_dc_offset = False
    opts.frame_opts.preemph_coeff = 0.97
    opts.frame_opts.window_type = "povey"
    opts.mel_opts.num_bins = NUM_BINS
    opts.mel_opts.low_freq = 0
    opts.mel_opts.high_freq = -400
    opts.mel_opts.is_librosa = True
    return opts


_OPTS = None


def fbank(samples: np.ndarray) -> np.ndarray:
    """Raw log-mel features, shape [T, 80], float32. samples: float in [-1, 1] at 16 kHz."""
    global _OPTS
    if _OPTS is None:
        _OPTS = fbank_options()
    f = knf.OnlineFbank(_OPTS)
    f.accept_waveform(SAMPLE_RATE, np.ascontiguousarray(samples, dtype=np.float32).tolist())
    f.input_finished()
    n = f.num_frames_ready
    if n == 0:
        return np.zeros((0, NUM_BINS), dtype=np.float32)
    return np.stack([f.get_frame(i) for i in range(n)]).astype(np.float32)


def normalize_per_feature(x: np.ndarray) -> np.ndarray:
    """Per-bin normalisation over frames, x: [T, 80]."""
    mean = x.mean(axis=0, keepdims=True)
    std = np.sqrt(((x - mean) ** 2).mean(axis=0, keepdims=True))
    return ((x - mean) / (std + 1e-5)).astype(np.float32)


def features(samples: np.ndarray) -> np.ndarray:
    """Model input for one utterance: normalised features, shape [T, 80]."""
    return normalize_per_feature(fbank(samples))


def num_frames(num_samples: int) -> int:
    return (num_samples + 80) // 160 if num_samples > 0 else 0
