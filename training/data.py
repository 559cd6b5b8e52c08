"""Connected-digit data for hark's digits model: FSDD clips, espeak-ng voices,
composition into digit strings, and augmentation. Everything is seeded.

FSDD (Free Spoken Digit Dataset, Zohar Jackson et al., CC BY-SA 4.0) lives
read-only at ../shared/data/fsdd/recordings/{digit}_{speaker}_{index}.wav
(beside the repository; FSDD_DIR overrides)
(8 kHz). Indices 0-4 are the TEST split and are only used by eval.py /
make_fixtures.py; training uses indices 5-49.
"""
import io
import os
import subprocess
from math import gcd

import numpy as np
import soundfile as sf
from scipy import fft as sfft
from scipy import signal

SR = 16000
FSDD_DIR = os.environ.get(
    "FSDD_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "fsdd", "recordings"),
)
SPEAKERS = ["george", "jackson", "nicolas", "theo", "yweweler"]
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEST_INDICES = range(0, 5)
TRAIN_INDICES = range(5, 50)


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return x.astype(np.float32)
    g = gcd(sr_in, sr_out)
    return signal.resample_poly(x, sr_out // g, sr_in // g).astype(np.float32)


def load_wav(path: str) -> np.ndarray:
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return resample(x.mean(axis=1), sr, SR)


def load_fsdd(indices) -> dict:
    """{speaker: {digit: [clip@16k, ...]}}"""
    out = {s: {d: [] for d in range(10)} for s in SPEAKERS}
    for s in SPEAKERS:
        for d in range(10):
            for i in indices:
                out[s][d].append(load_wav(os.path.join(FSDD_DIR, f"{d}_{s}_{i}.wav")))
    return out


# ---------------------------------------------------------------- espeak-ng
ESPEAK_VOICES = ["en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                 "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
ESPEAK_VARIANTS = ["", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3",
                   "+f4", "+f5", "+klatt", "+klatt2", "+klatt3", "+Alex", "+Andy", "+Annie",
                   "+Belinda", "+Benjamin", "+David", "+Gene", "+Jacky", "+john", "+Linda",
                   "+Michael", "+Mike", "+Robert", "+Steph", "+Tweaky", "+antonio", "+max"]


def espeak(text: str, voice: str, speed: int, pitch: int, gap: int = 0) -> np.ndarray:
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout"]
    if gap:
        cmd += ["-g", str(gap)]
    wav = subprocess.run(cmd + [text], check=True, capture_output=True).stdout
    x, sr = sf.read(io.BytesIO(wav), dtype="float32")
    if x.ndim > 1:
        x = x.mean(axis=1)
    return resample(x, sr, SR)


def trim(x: np.ndarray, thresh_db: float = -40.0) -> np.ndarray:
    """Trim leading/trailing low-energy samples (10 ms hops)."""
    if len(x) == 0:
        return x
    hop = 160
    n = max(1, len(x) // hop)
    e = np.array([np.sqrt(np.mean(x[i * hop:(i + 1) * hop] ** 2) + 1e-12) for i in range(n)])
    ref = e.max()
    on = np.where(20 * np.log10(e / ref + 1e-12) > thresh_db)[0]
    if len(on) == 0:
        return x
    a, b = max(0, on[0] - 1) * hop, min(len(x), (on[-1] + 2) * hop)
    return x[a:b]


def random_voice(rng: np.random.Generator):
    v = ESPEAK_VOICES[rng.integers(len(ESPEAK_VOICES))] + ESPEAK_VARIANTS[rng.integers(len(ESPEAK_VARIANTS))]
    return v, int(rng.integers(110, 211)), int(rng.integers(20, 81))


def _espeak_words_job(args):
    seed, = args
    rng = np.random.default_rng(seed)
    v, s, p = random_voice(rng)
    try:
        return [trim(espeak(w, v, s, p)) for w in WORDS]
    except subprocess.CalledProcessError:
        return None


def _espeak_string_job(args):
    seed, = args
    rng = np.random.default_rng(seed)
    v, s, p = random_voice(rng)
    n = int(rng.integers(1, 9))
    digits = [int(d) for d in rng.integers(0, 10, n)]
    gap = int(rng.choice([0, 0, 2, 5, 10, 20, 40]))
    try:
        return digits, trim(espeak(" ".join(WORDS[d] for d in digits), v, s, p, gap), -50)
    except subprocess.CalledProcessError:
        return None


def build_espeak_bank(seed: int, n_word_sets: int, n_strings: int, pool=None):
    m = pool.map if pool is not None else map
    ws = [r for r in m(_espeak_words_job, [(seed * 100003 + i,) for i in range(n_word_sets)]) if r]
    ss = [r for r in m(_espeak_string_job, [(seed * 100019 + i,) for i in range(n_strings)]) if r]
    return ws, ss


# ---------------------------------------------------------------- composition
def compose(clips, rng, pause=(0.05, 0.8), edge=(0.05, 1.0)) -> np.ndarray:
    parts = [np.zeros(int(rng.uniform(*edge) * SR), np.float32)]
    for i, c in enumerate(clips):
        if i:
            if rng.random() < 0.15:
                gap = rng.uniform(0.0, pause[0])
            else:
                gap = rng.uniform(*pause)
            parts.append(np.zeros(int(gap * SR), np.float32))
        parts.append(c * np.float32(10 ** (rng.uniform(-3, 3) / 20)))
    parts.append(np.zeros(int(rng.uniform(*edge) * SR), np.float32))
    return np.concatenate(parts)


def fsdd_string(fsdd, digits, rng, mix_speakers=False, pause=(0.05, 0.8), edge=(0.05, 1.0)):
    spk = SPEAKERS[rng.integers(len(SPEAKERS))]
    clips = []
    for d in digits:
        s = SPEAKERS[rng.integers(len(SPEAKERS))] if mix_speakers else spk
        lst = fsdd[s][d]
        clips.append(lst[rng.integers(len(lst))])
    return compose(clips, rng, pause, edge)


def active_rms(x: np.ndarray) -> float:
    hop = 160
    n = len(x) // hop
    if n == 0:
        return float(np.sqrt(np.mean(x ** 2) + 1e-12))
    e = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    act = e[e > e.max() * 0.1]
    return float(np.sqrt(np.mean(act ** 2)))


def colored_noise(n: int, rng, kind: str) -> np.ndarray:
    w = rng.standard_normal(n).astype(np.float32)
    if kind == "white":
        return w
    m = sfft.next_fast_len(n, real=True)
    spec = sfft.rfft(w, m)
    f = np.arange(len(spec), dtype=np.float64) + 1.0
    spec = spec / (np.sqrt(f) if kind == "pink" else f)
    y = sfft.irfft(spec, m)[:n].astype(np.float32)
    return y / (np.std(y) + 1e-9)


def augment(x: np.ndarray, rng, full_band_source: bool) -> np.ndarray:
    """Speed, reverb, band-limiting, codec-ish distortion, noise, gain."""
    if rng.random() < 0.5:
        f = rng.uniform(0.85, 1.15)
        x = signal.resample_poly(x, 100, int(round(100 * f))).astype(np.float32)
    if rng.random() < 0.25:
        rt60 = rng.uniform(0.1, 0.6)
        n = int(rt60 * SR)
        t = np.arange(n) / SR
        ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
        ir[0] = 0
        ir = ir / np.sqrt(np.sum(ir ** 2)) * rng.uniform(0.1, 0.7)
        ir[0] = 1.0
        x = signal.oaconvolve(x, ir)[: len(x)].astype(np.float32)
    r = rng.random()
    if full_band_source and r < 0.35:
        # mimic the 8 kHz FSDD domain
        sos = signal.butter(8, rng.uniform(3400, 4000), "low", fs=SR, output="sos")
        x = signal.sosfilt(sos, x).astype(np.float32)
    elif r < 0.55:
        sos = signal.butter(int(rng.integers(2, 9)), rng.uniform(2500, 7800), "low", fs=SR, output="sos")
        x = signal.sosfilt(sos, x).astype(np.float32)
    if rng.random() < 0.2:
        sos = signal.butter(2, rng.uniform(60, 350), "high", fs=SR, output="sos")
        x = signal.sosfilt(sos, x).astype(np.float32)
    if rng.random() < 0.1:
        # 8-bit mu-law round trip
        mu = 255.0
        pk = np.abs(x).max() + 1e-9
        y = np.sign(x / pk) * np.log1p(mu * np.abs(x / pk)) / np.log1p(mu)
        y = np.round(y * 127) / 127
        x = (np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu * pk).astype(np.float32)
    # level: speech active RMS around -26 dBFS, then -20..+6 dB
    x = x / (active_rms(x) + 1e-9) * 0.05
    if rng.random() < 0.65:
        kind = ["white", "pink", "brown"][rng.integers(3)]
        snr = rng.uniform(0, 40) if rng.random() < 0.3 else rng.uniform(10, 40)
        nz = colored_noise(len(x), rng, kind)
        x = x + nz * np.float32(0.05 / 10 ** (snr / 20))
    elif rng.random() < 0.3:
        x = x + rng.standard_normal(len(x)).astype(np.float32) * np.float32(10 ** (rng.uniform(-90, -60) / 20))
    x = x * np.float32(10 ** (rng.uniform(-20, 6) / 20))
    return np.clip(x, -1.0, 1.0).astype(np.float32)
