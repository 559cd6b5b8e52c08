//! Whisper's front end: one 30 s window of 16 kHz samples → `[n_mels, 3000]`
//! scaled log-mel spectrogram, as openai-whisper's
//! `log_mel_spectrogram(pad_or_trim(audio), n_mels)` computes it.
//!
//! The recipe (openai-whisper `whisper/audio.py`): pad with zeros or trim to
//! 480,000 samples; `torch.stft` with `n_fft` 400, hop 160, the periodic Hann
//! window, `center=True`, `pad_mode="reflect"`; power `|X|²` with the last of
//! the 3001 frames dropped; the Slaney mel filters of
//! `librosa.filters.mel(sr=16000, n_fft=400, n_mels)` (`htk=False`,
//! `norm="slaney"`), computed here for any `n_mels` (80, or 128 for
//! large-v3) and bit-identical to the table openai-whisper ships;
//! `log10(max(x, 1e-10))`; `max(x, max - 8)`; `(x + 4) / 4`. It is not the
//! NeMo fbank of [`crate::model::features`] (no pre-emphasis, 400-point FFT,
//! natural log there), which stays separate.
//!
//! # Padding a chunk shorter than 30 s
//!
//! The audio is zero-padded to 30 s *before* the STFT. For a chunk of
//! `n ≤ 479,800` samples the dynamic-range clamp (`max - 8`) then uses the
//! same maximum as openai-whisper's `transcribe()` on that chunk, and the
//! first [`content_frames`]`(n)` frames are the same values:
//!
//! * openai-whisper `transcribe()` (since v20230307, commit 919a713,
//!   "zero-pad the audio instead of spectrogram") computes the log-mel of the
//!   audio followed by 480,000 zeros, the maximum taken over all of it, and
//!   uses its first `content_frames = n / 160` frames. Every frame that
//!   touches the audio (frames `n/160` to `n/160 + 2` overlap its last
//!   samples too) lies within the first 3000 when `n ≤ 479,800`, so the
//!   maximum is the one this module takes over its 3000 frames.
//! * What fills the frames after those differs between versions: from
//!   v20230307 to v20231117 `transcribe()` sliced 3000 frames of that mel,
//!   i.e. the log-mel of the padding, as here (and as openai-whisper's README
//!   and `transcribe()`'s language detection still do); since v20240927
//!   (commit ba3f3cd, PR #1838) it slices `content_frames` frames and pads
//!   the *mel* with `0.0`.
//! * faster-whisper 0.2.0 to 1.0.3 padded the audio with 30 s of zeros and
//!   sliced like openai-whisper; since 1.1.0 (PR #1106) it pads the audio with
//!   only 160 zeros, so its maximum misses frames `n/160 + 1` (and `+ 2`),
//!   which overlap the audio's tail (a click in the last 30 samples made faster-whisper
//!   1.2.1's maximum 0.95 where openai-whisper's is 1.31), and it pads the
//!   mel with `0.0`.
//!
//! [`WhisperMel::zero_padding`] turns this module's output into the
//! `0.0`-padded window of today's openai-whisper and faster-whisper.
//!
//! A chunk longer than 30 s is trimmed first, so its maximum comes from the
//! first 30 s only (`transcribe()` takes it over the whole file). Past
//! 479,800 samples `transcribe()`'s frames 3000 and 3001 overlap the audio
//! and count towards its maximum but not this one, and past 479,959 the last
//! frame here reflects the window's own last samples where `transcribe()`
//! sees zeros or the audio that follows.
//!
//! # Cost
//!
//! Window, filters, FFT plan and scratch are built once in
//! [`WhisperMel::new`]; a window allocates only its output
//! ([`WhisperMel::compute_into`] not even that). Frames that lie wholly in the
//! zero padding are not transformed. Measured (release build, best of 300
//! on a shared 2-core VM at load ~12, so the medians were 4-5x higher): a full
//! 30 s window takes 4.5 ms with 80 mel bins and 6.9 ms with 128; a 2.3 s
//! chunk 0.4 ms and 0.5 ms.
//!
//! Checked against an independent numpy implementation
//! (`scripts/make-whisper-mel-golden`, `tests/whisper_mel_golden.rs`: max
//! abs difference 1.1e-5), which was itself checked once against
//! openai-whisper 20250625 (3.8e-5; see the script's header).
//!
//! Imports nothing from the rest of hark.

use std::sync::Arc;

use crate::model::mel_scale::{hz_to_mel, mel_to_hz};
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// Sample rate the front end expects.
pub const SAMPLE_RATE: u32 = 16_000;
/// FFT size and window length in samples (25 ms).
pub const N_FFT: usize = 400;
/// Frame shift in samples (10 ms).
pub const HOP_LENGTH: usize = 160;
/// Samples in one 30 s window.
pub const N_SAMPLES: usize = 480_000;
/// Frames in one window's spectrogram.
pub const N_FRAMES: usize = N_SAMPLES / HOP_LENGTH;
/// Frequency bins of the one-sided spectrum.
const N_BINS: usize = N_FFT / 2 + 1;
/// `log10` of the smallest mel energy kept (`1e-10`).
const LOG_FLOOR: f32 = -10.0;

/// Number of frames of a window that come from `num_samples` samples of
/// audio rather than padding: openai-whisper's `content_frames`
/// (`num_samples / 160`), at most [`N_FRAMES`].
pub fn content_frames(num_samples: usize) -> usize {
    (num_samples / HOP_LENGTH).min(N_FRAMES)
}

/// Whisper's log-mel front end for one mel size. Build it once per worker
/// and call [`compute`](Self::compute) per 30 s window.
#[derive(Clone)]
pub struct WhisperMel {
    n_mels: usize,
    /// Periodic Hann window, `N_FFT` values.
    window: Vec<f32>,
    /// Dense filters, `[n_mels, N_BINS]` row-major.
    filters: Vec<f32>,
    /// Per mel bin, the range of FFT bins with a non-zero weight.
    support: Vec<(usize, usize)>,
    fft: Arc<dyn RealToComplex<f32>>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
}

impl std::fmt::Debug for WhisperMel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperMel")
            .field("n_mels", &self.n_mels)
            .finish()
    }
}

impl WhisperMel {
    /// Builds the front end for `n_mels` mel bins (80 for Whisper up to
    /// large-v2, 128 for large-v3).
    pub fn new(n_mels: usize) -> WhisperMel {
        // torch.hann_window(400), periodic: 0.5 - 0.5 cos(2πi/N).
        let a = 2.0 * std::f64::consts::PI / N_FFT as f64;
        let window = (0..N_FFT)
            .map(|i| (0.5 - 0.5 * (a * i as f64).cos()) as f32)
            .collect();
        let filters = slaney_filters(n_mels);
        let support = filters
            .chunks_exact(N_BINS)
            .map(|row| {
                let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|&w| w != 0.0).map_or(0, |l| l + 1);
                (first, last.max(first))
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        WhisperMel {
            n_mels,
            window,
            filters,
            support,
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; N_BINS],
            fft,
        }
    }

    /// Number of mel bins.
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// The mel filterbank, `[n_mels, 201]` row-major (FFT bin `j` is
    /// `j * 40` Hz): `librosa.filters.mel(sr=16000, n_fft=400, n_mels)`.
    pub fn filters(&self) -> &[f32] {
        &self.filters
    }

    /// The log-mel spectrogram of one window: `samples` (16 kHz mono, any
    /// length) zero-padded or trimmed to [`N_SAMPLES`], returned row-major
    /// `[n_mels, N_FRAMES]` (`out[mel * 3000 + frame]`). Frames from
    /// [`content_frames`]`(samples.len())` on are padding.
    pub fn compute(&mut self, samples: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        self.compute_into(samples, &mut out);
        out
    }

    /// [`compute`](Self::compute) into `out`, which is resized to
    /// `n_mels * N_FRAMES` (no allocation when it already has that room).
    /// Returns [`content_frames`]`(samples.len())`.
    pub fn compute_into(&mut self, samples: &[f32], out: &mut Vec<f32>) -> usize {
        let samples = &samples[..samples.len().min(N_SAMPLES)];
        let n = samples.len();
        out.clear();
        out.resize(self.n_mels * N_FRAMES, LOG_FLOOR);
        let mut max = LOG_FLOOR;
        for f in 0..N_FRAMES {
            // Frame f covers samples [160 f - 200, 160 f + 200) of the
            // 480,000-sample window, reflected at both of its ends.
            let start = (f * HOP_LENGTH) as i64 - (N_FFT / 2) as i64;
            let end = start + N_FFT as i64;
            if start >= n as i64 && end <= N_SAMPLES as i64 {
                // Wholly in the zero padding: every mel energy is 0 (floor).
                continue;
            }
            if start >= 0 && end <= n as i64 {
                let src = &samples[start as usize..end as usize];
                for ((o, x), w) in self.frame.iter_mut().zip(src).zip(&self.window) {
                    *o = x * w;
                }
            } else {
                for (j, (o, w)) in self.frame.iter_mut().zip(&self.window).enumerate() {
                    let i = reflect(start + j as i64);
                    *o = samples.get(i).map_or(0.0, |x| x * w);
                }
            }
            // The plan and buffers were made together, so this cannot fail;
            // if it did, the frame would stay at the floor.
            if self
                .fft
                .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
                .is_err()
            {
                continue;
            }
            for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
            for (m, (row, &(lo, hi))) in self
                .filters
                .chunks_exact(N_BINS)
                .zip(&self.support)
                .enumerate()
            {
                let e: f32 = row[lo..hi]
                    .iter()
                    .zip(&self.power[lo..hi])
                    .map(|(w, p)| w * p)
                    .sum();
                let v = e.max(1e-10).log10();
                max = max.max(v);
                out[m * N_FRAMES + f] = v;
            }
        }
        let floor = max - 8.0;
        for v in out.iter_mut() {
            *v = (v.max(floor) + 4.0) / 4.0;
        }
        content_frames(n)
    }

    /// Sets frames `frames..N_FRAMES` of a window from
    /// [`compute`](Self::compute) to `0.0`: the window today's openai-whisper
    /// `transcribe()` (≥ v20240927) and faster-whisper (≥ 1.1) feed the
    /// encoder, which pad the *mel* of a short chunk with zeros. Pass
    /// [`content_frames`]`(samples.len())`.
    pub fn zero_padding(&self, mel: &mut [f32], frames: usize) {
        let frames = frames.min(N_FRAMES);
        for row in mel.chunks_exact_mut(N_FRAMES).take(self.n_mels) {
            row[frames..].fill(0.0);
        }
    }
}

/// Index `i` of the reflect-padded window mapped into `0..N_SAMPLES`
/// (`-1 → 1`, `N_SAMPLES → N_SAMPLES - 2`: torch's `reflect` excludes the
/// edge sample). Frames overhang an end by at most 200 samples, so one
/// reflection suffices.
fn reflect(i: i64) -> usize {
    let last = N_SAMPLES as i64 - 1;
    let r = if i < 0 {
        -i
    } else if i > last {
        2 * last - i
    } else {
        i
    };
    r as usize
}

/// `librosa.filters.mel(sr=16000, n_fft=400, n_mels, fmin=0, fmax=8000,
/// htk=False, norm="slaney", dtype=float32)`, `[n_mels, 201]` row-major,
/// with librosa's arithmetic: triangles in f64 stored as f32, then scaled in
/// place by `2 / (f[i+2] - f[i])` (Slaney area normalisation).
fn slaney_filters(n_mels: usize) -> Vec<f32> {
    let bin_hz = 1.0 / (N_FFT as f64 * (1.0 / f64::from(SAMPLE_RATE)));
    // np.linspace(mel(0), mel(8000), n_mels + 2), then back to Hz.
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(f64::from(SAMPLE_RATE) / 2.0));
    let points = n_mels + 2;
    let step = (hi - lo) / (points - 1) as f64;
    let mel_f: Vec<f64> = (0..points)
        .map(|i| {
            let m = if i + 1 == points {
                hi
            } else {
                i as f64 * step + lo
            };
            mel_to_hz(m)
        })
        .collect();
    let mut filters = vec![0.0f32; n_mels * N_BINS];
    for (i, row) in filters.chunks_exact_mut(N_BINS).enumerate() {
        let (left, center, right) = (mel_f[i], mel_f[i + 1], mel_f[i + 2]);
        let enorm = 2.0 / (right - left);
        for (j, w) in row.iter_mut().enumerate() {
            let hz = j as f64 * bin_hz;
            let lower = -(left - hz) / (center - left);
            let upper = (right - hz) / (right - center);
            let tri = lower.min(upper).max(0.0) as f32;
            *w = (f64::from(tri) * enorm) as f32;
        }
    }
    filters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, secs: f32, amp: f32) -> Vec<f32> {
        let n = (secs * SAMPLE_RATE as f32) as usize;
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * hz * i as f32 / 16_000.0).sin())
            .collect()
    }

    fn at(mel: &[f32], m: usize, f: usize) -> f32 {
        mel[m * N_FRAMES + f]
    }

    #[test]
    fn window_is_periodic_hann() {
        let w = WhisperMel::new(80).window;
        assert_eq!(w.len(), N_FFT);
        assert_eq!(w[0], 0.0);
        assert!((w[N_FFT / 2] - 1.0).abs() < 1e-7);
        // Periodic: symmetric about N/2, not about (N-1)/2.
        assert!((w[1] - w[N_FFT - 1]).abs() < 1e-7);
    }

    #[test]
    fn filters_are_slaney_area_normalised_triangles() {
        for n_mels in [80, 128, 40] {
            let mel = WhisperMel::new(n_mels);
            assert_eq!(mel.filters().len(), n_mels * N_BINS);
            let lo = hz_to_mel(0.0);
            let hi = hz_to_mel(8000.0);
            let step = (hi - lo) / (n_mels + 1) as f64;
            for (i, row) in mel.filters().chunks_exact(N_BINS).enumerate() {
                let left = mel_to_hz(lo + i as f64 * step);
                let right = mel_to_hz(lo + (i + 2) as f64 * step);
                // Slaney norm: each triangle has peak 2 / (right - left), so
                // its area is 1 Hz⁻¹·Hz = 1; sampled every 40 Hz the row sums
                // to about 1 / 40 (exactly where the triangle is wide).
                let peak = row.iter().fold(0.0f32, |a, &b| a.max(b));
                assert!(f64::from(peak) <= 2.0 / (right - left) * (1.0 + 1e-6));
                let area: f64 = row.iter().map(|&w| f64::from(w) * 40.0).sum();
                if right - left > 400.0 {
                    assert!(
                        (area - 1.0).abs() < 0.02,
                        "n_mels {n_mels} row {i}: area {area}"
                    );
                }
                assert!(row.iter().all(|&w| w >= 0.0));
            }
        }
    }

    #[test]
    fn mel_scale_round_trips_and_is_linear_below_1_khz() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-9);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-9);
        for hz in [0.0, 300.0, 999.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6, "{hz}");
        }
    }

    #[test]
    fn silence_and_empty_input_give_the_floor_everywhere() {
        let mut mel = WhisperMel::new(80);
        for samples in [vec![], vec![0.0f32; 16_000]] {
            let out = mel.compute(&samples);
            assert_eq!(out.len(), 80 * N_FRAMES);
            // log10(1e-10) = -10, clamped at max - 8 = -18 (no effect): -1.5.
            assert!(out.iter().all(|&v| v == -1.5));
        }
        assert_eq!(content_frames(0), 0);
    }

    #[test]
    fn padding_of_a_short_chunk_is_the_clamp_floor() {
        let mut mel = WhisperMel::new(80);
        let samples = tone(1000.0, 2.3, 0.5);
        let mut out = Vec::new();
        let frames = mel.compute_into(&samples, &mut out);
        assert_eq!(frames, 230);
        let max = out.iter().fold(f32::MIN, |a, &b| a.max(b));
        let floor = max - 2.0; // (m - 8 + 4) / 4 = (m + 4) / 4 - 2
        assert!(out.iter().all(|&v| v >= floor - 1e-6));
        for m in 0..80 {
            for f in frames + 2..N_FRAMES {
                assert!((at(&out, m, f) - floor).abs() < 1e-6);
            }
        }
        // 1 kHz lands in the mel bin whose centre is nearest 1 kHz.
        let f = 100;
        let best = (0..80)
            .max_by(|&a, &b| at(&out, a, f).total_cmp(&at(&out, b, f)))
            .unwrap_or(0);
        let step = hz_to_mel(8000.0) / 81.0;
        let expected = (hz_to_mel(1000.0) / step).round() as usize - 1;
        assert!(best.abs_diff(expected) <= 1, "{best} vs {expected}");

        mel.zero_padding(&mut out, frames);
        assert!((0..80).all(|m| at(&out, m, frames) == 0.0 && at(&out, m, frames - 1) > floor));
    }

    #[test]
    fn longer_than_30_s_is_trimmed_and_exactly_30_s_is_kept() {
        let mut mel = WhisperMel::new(80);
        let long = tone(440.0, 31.0, 0.3);
        let exact = &long[..N_SAMPLES];
        let a = mel.compute(&long);
        let b = mel.compute(exact);
        assert_eq!(a, b);
        assert_eq!(content_frames(long.len()), N_FRAMES);
        assert_eq!(content_frames(N_SAMPLES), N_FRAMES);
        // The tone fills the whole window: the last frame is not padding.
        let floor = a.iter().fold(f32::MIN, |x, &y| x.max(y)) - 2.0;
        assert!((0..80).any(|m| at(&a, m, N_FRAMES - 1) > floor + 0.5));
    }

    #[test]
    fn a_window_does_not_depend_on_the_previous_one() {
        let mut mel = WhisperMel::new(128);
        let fresh = WhisperMel::new(128).compute(&tone(300.0, 1.0, 0.2));
        let _ = mel.compute(&tone(3000.0, 30.0, 0.9));
        assert_eq!(mel.compute(&tone(300.0, 1.0, 0.2)), fresh);
    }

    #[test]
    fn reflect_excludes_the_edge_sample() {
        assert_eq!(reflect(-1), 1);
        assert_eq!(reflect(-200), 200);
        assert_eq!(reflect(0), 0);
        assert_eq!(reflect(N_SAMPLES as i64), N_SAMPLES - 2);
        assert_eq!(reflect(N_SAMPLES as i64 + 39), N_SAMPLES - 41);
    }
}
