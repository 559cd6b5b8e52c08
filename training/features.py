"""Feature front end shared by training, evaluation and the sherpa-onnx check.

This is sherpa-onnx's NeMo CTC front end, as measured against sherpa-onnx
2.0.1 by training/sherpa_check.py (frame-level probe, see the model card):

kaldi-native-fbank log-mel filterbank on float samples in [-1, 1] at 16 kHz:
  frame_length_ms=25, frame_shift_ms=10, dither=0, snip_edges=False,
  remove_dc_offset=False, preemph_coeff=0.97, window_type="hann",
  num_bins=80, low_freq=0, high_freq=0 (= Nyquist, 8000 Hz), is_librosa=True
  (knf defaults for the rest: round_to_power_of_two (512-point FFT),
  use_power, use_log_fbank, log floor = float epsilon 1.1920929e-07).
then per-feature (per mel bin) normalisation over the utterance:
  x = (x - mean) / (std + 1e-5), std biased (divide by T).

sherpa-onnx's OfflineRecognizer.from_nemo_ctc forces window "hann" and
high_freq 0 for NeMo CTC models, and hark's Rust front end now computes the
same (knf's "hann" is the periodic Hann window 0.5 - 0.5 cos(2 pi i / 400)).
"hann" is the default everywhere in training/ (train, eval, sherpa_check,
check_samples, make_fixtures). The "povey" variant (povey window,
high_freq=-400, the option list of hark's original brief) is kept only as a
training augmentation: stages 1-2 mixed it in (65 %); stage 3 (v2) trains on
"hann" only.

Number of frames for snip_edges=False: T = (num_samples + 80) // 160
(i.e. round(num_samples / 160), half rounding up), 0 for fewer than 80 samples.
"""
import numpy as np
import kaldi_native_fbank as knf

SAMPLE_RATE = 16000
NUM_BINS = 80
DEFAULT_VARIANT = "hann"


def fbank_options(variant: str = DEFAULT_VARIANT) -> "knf.FbankOptions":
    """variant "hann" (default): sherpa-onnx's and hark's NeMo CTC front end.
    variant "povey": the same with a povey window and high_freq=-400 (the
    option list of hark's original brief); only a training augmentation
    (stages 1-2)."""
    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.frame_opts.frame_length_ms = 25
    opts.frame_opts.frame_shift_ms = 10
    opts.frame_opts.dither = 0
    opts.frame_opts.snip_edges = False
    opts.frame_opts.remove_dc_offset = False
    opts.frame_opts.preemph_coeff = 0.97
    opts.mel_opts.num_bins = NUM_BINS
    opts.mel_opts.low_freq = 0
    opts.mel_opts.is_librosa = True
    if variant == "hann":
        opts.frame_opts.window_type = "hann"
        opts.mel_opts.high_freq = 0
    elif variant == "povey":
        opts.frame_opts.window_type = "povey"
        opts.mel_opts.high_freq = -400
    else:
        raise ValueError(variant)
    return opts


_OPTS = {}


def fbank(samples: np.ndarray, variant: str = DEFAULT_VARIANT) -> np.ndarray:
    """Raw log-mel features, shape [T, 80], float32. samples: float in [-1, 1] at 16 kHz."""
    if variant not in _OPTS:
        _OPTS[variant] = fbank_options(variant)
    f = knf.OnlineFbank(_OPTS[variant])
    f.accept_waveform(SAMPLE_RATE, np.ascontiguousarray(samples, dtype=np.float32))
    f.input_finished()
    n = f.num_frames_ready
    if n == 0:
        return np.zeros((0, NUM_BINS), dtype=np.float32)
    return np.stack([f.get_frame(i) for i in range(n)]).astype(np.float32)


def normalize_per_feature(x: np.ndarray) -> np.ndarray:
    """Per-bin normalisation over frames, x: [T, 80] -> float32 [T, 80]."""
    mean = x.mean(axis=0, keepdims=True)
    std = np.sqrt(((x - mean) ** 2).mean(axis=0, keepdims=True))
    return ((x - mean) / (std + 1e-5)).astype(np.float32)


def features(samples: np.ndarray, variant: str = DEFAULT_VARIANT) -> np.ndarray:
    """Model input for one utterance: normalised features, shape [T, 80]."""
    return normalize_per_feature(fbank(samples, variant))


def num_frames(num_samples: int) -> int:
    return (num_samples + 80) // 160 if num_samples > 0 else 0
