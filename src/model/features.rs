//! The acoustic front end: 16 kHz samples → 80-bin log-mel filterbank frames.
//!
//! This is the front end sherpa-onnx (2.0.1) uses for NeMo CTC models, i.e.
//! kaldi-native-fbank with `snip_edges = false`, no dither, no DC-offset
//! removal, pre-emphasis 0.97, a periodic Hann window, a 512-point FFT, power
//! spectrum, librosa-style (Slaney) mel filters from 0 Hz to Nyquist with
//! Slaney area normalisation, and `ln(max(energy, f32::EPSILON))`. (It was
//! measured, not read: probe models run through sherpa-onnx showed the Hann
//! window and the full-band filters; see `models/digits-en/README.md`.)
//! Optionally followed by NeMo's `per_feature` normalisation. A golden test
//! (`tests/features_golden.rs`) compares it with kaldi-native-fbank itself.
//!
//! Imports nothing from the rest of hark.

use std::sync::Arc;

use crate::model::mel_scale::{hz_to_mel as mel_slaney, mel_to_hz as inv_mel_slaney};
use realfft::{RealFftPlanner, RealToComplex};

/// Sample rate the front end expects.
pub const SAMPLE_RATE: u32 = 16_000;
/// Frame shift in samples (10 ms).
pub const FRAME_SHIFT: usize = 160;
/// Frame length in samples (25 ms).
pub const FRAME_LENGTH: usize = 400;
const FFT_SIZE: usize = 512;
const PREEMPH: f32 = 0.97;

/// How features are normalised after the log-mel step (NeMo's `normalize_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalize {
    /// No normalisation.
    None,
    /// Per mel bin: subtract the mean over frames, divide by (biased std + 1e-5).
    PerFeature,
}

/// A reusable filterbank extractor (window, mel matrix and FFT plan are built once).
pub struct Fbank {
    num_bins: usize,
    window: Vec<f32>,
    /// Per mel bin: first FFT bin index and its weights.
    mel: Vec<(usize, Vec<f32>)>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl std::fmt::Debug for Fbank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fbank")
            .field("num_bins", &self.num_bins)
            .finish()
    }
}

/// Number of frames for `num_samples` samples (Kaldi, `snip_edges = false`).
pub fn num_frames(num_samples: usize) -> usize {
    (num_samples + FRAME_SHIFT / 2) / FRAME_SHIFT
}

impl Fbank {
    /// Builds an extractor with `num_bins` mel bins (80 for NeMo models).
    pub fn new(num_bins: usize) -> Fbank {
        // kaldi-native-fbank's "hann" is the periodic Hann window (2πi/N).
        let a = 2.0 * std::f64::consts::PI / FRAME_LENGTH as f64;
        let window = (0..FRAME_LENGTH)
            .map(|i| (0.5 - 0.5 * (a * i as f64).cos()) as f32)
            .collect();

        let sample_freq = f64::from(SAMPLE_RATE);
        let low = 0.0f64;
        let high = 0.5 * sample_freq;
        let bin_width = sample_freq / FFT_SIZE as f64;
        let mel_low = mel_slaney(low);
        let mel_high = mel_slaney(high);
        let delta = (mel_high - mel_low) / (num_bins as f64 + 1.0);
        let mut mel = Vec::with_capacity(num_bins);
        for bin in 0..num_bins {
            let left = inv_mel_slaney(mel_low + bin as f64 * delta);
            let center = inv_mel_slaney(mel_low + (bin as f64 + 1.0) * delta);
            let right = inv_mel_slaney(mel_low + (bin as f64 + 2.0) * delta);
            let mut first = None;
            let mut weights = Vec::new();
            for i in 0..=FFT_SIZE / 2 {
                let hz = bin_width * i as f64;
                if hz > left && hz < right {
                    let w = if hz <= center {
                        (hz - left) / (center - left)
                    } else {
                        (right - hz) / (right - center)
                    };
                    first.get_or_insert(i);
                    weights.push((w * 2.0 / (right - left)) as f32);
                }
            }
            mel.push((first.unwrap_or(0), weights));
        }
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        Fbank {
            num_bins,
            window,
            mel,
            fft,
        }
    }

    /// Number of mel bins per frame.
    pub fn num_bins(&self) -> usize {
        self.num_bins
    }

    /// Computes log-mel features, frame-major: `out[frame * num_bins + bin]`.
    pub fn compute(&self, samples: &[f32]) -> Vec<f32> {
        let n = samples.len();
        let frames = num_frames(n);
        let mut out = vec![0.0f32; frames * self.num_bins];
        let mut buf = self.fft.make_input_vec();
        let mut spec = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0.0f32; FFT_SIZE / 2 + 1];
        let mut edge = [0.0f32; FRAME_LENGTH];
        for f in 0..frames {
            // Frame f is centred on sample f*shift + shift/2. Interior frames
            // are read in place; at the edges, out-of-range samples are
            // reflected (Kaldi's snip_edges = false).
            let start = (f * FRAME_SHIFT + FRAME_SHIFT / 2) as i64 - (FRAME_LENGTH / 2) as i64;
            let frame: &[f32] = if start >= 0 && start as usize + FRAME_LENGTH <= n {
                &samples[start as usize..start as usize + FRAME_LENGTH]
            } else {
                for (j, slot) in edge.iter_mut().enumerate() {
                    *slot = samples[reflect(start + j as i64, n as i64)];
                }
                &edge
            };
            preemphasize_and_window(frame, &self.window, &mut buf[..FRAME_LENGTH]);
            // realfft uses its input as scratch: re-zero the padding every frame.
            buf[FRAME_LENGTH..].fill(0.0);
            // The plan and buffers are sized together, so this cannot fail.
            if self
                .fft
                .process_with_scratch(&mut buf, &mut spec, &mut scratch)
                .is_err()
            {
                continue;
            }
            for (p, c) in power.iter_mut().zip(&spec) {
                *p = c.re * c.re + c.im * c.im;
            }
            let row = &mut out[f * self.num_bins..(f + 1) * self.num_bins];
            for (dst, (first, weights)) in row.iter_mut().zip(&self.mel) {
                let e: f32 = weights
                    .iter()
                    .zip(&power[*first..])
                    .map(|(w, p)| w * p)
                    .sum();
                *dst = e.max(f32::EPSILON).ln();
            }
        }
        out
    }
}

/// Index of sample `s` of a signal of `len` samples, reflected at both ends
/// (`-1 → 0`, `len → len - 1`), as Kaldi pads frames that overhang an edge.
fn reflect(mut s: i64, len: i64) -> usize {
    while s < 0 || s >= len {
        s = if s < 0 { -s - 1 } else { 2 * len - 1 - s };
    }
    s as usize
}

/// `out = window · preemph(frame)`, Kaldi's order: pre-emphasis
/// `x[j] - 0.97 x[j-1]` (and `x[0] - 0.97 x[0]`), then the window. One pass
/// over the frame's samples, written so the compiler can vectorise it; the
/// arithmetic is the same as emphasising in place and then windowing.
fn preemphasize_and_window(frame: &[f32], window: &[f32], out: &mut [f32]) {
    out[0] = (frame[0] - PREEMPH * frame[0]) * window[0];
    for ((o, w), (x, prev)) in out[1..]
        .iter_mut()
        .zip(&window[1..])
        .zip(frame[1..].iter().zip(frame))
    {
        *o = (x - PREEMPH * prev) * w;
    }
}

/// Applies `norm` in place to frame-major features with `num_bins` bins.
pub fn normalize(features: &mut [f32], num_bins: usize, norm: Normalize) {
    if norm == Normalize::None || num_bins == 0 {
        return;
    }
    let frames = features.len() / num_bins;
    if frames == 0 {
        return;
    }
    let mut sum = vec![0.0f64; num_bins];
    let mut sum_sq = vec![0.0f64; num_bins];
    for row in features.chunks_exact(num_bins) {
        for (b, &x) in row.iter().enumerate() {
            sum[b] += f64::from(x);
            sum_sq[b] += f64::from(x) * f64::from(x);
        }
    }
    let n = frames as f64;
    let stats: Vec<(f32, f32)> = sum
        .iter()
        .zip(&sum_sq)
        .map(|(s, sq)| {
            let mean = s / n;
            let var = (sq / n - mean * mean).max(0.0);
            (mean as f32, (1.0 / (var.sqrt() + 1e-5)) as f32)
        })
        .collect();
    for row in features.chunks_exact_mut(num_bins) {
        for (x, (mean, inv)) in row.iter_mut().zip(&stats) {
            *x = (*x - mean) * inv;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_matches_kaldi_snip_edges_false() {
        assert_eq!(num_frames(0), 0);
        assert_eq!(num_frames(79), 0);
        assert_eq!(num_frames(80), 1);
        assert_eq!(num_frames(16000), 100);
        assert_eq!(num_frames(16080), 101);
    }

    #[test]
    fn mel_scale_round_trips() {
        for hz in [0.0f64, 300.0, 999.0, 1000.0, 4000.0, 7600.0] {
            let back = inv_mel_slaney(mel_slaney(hz));
            assert!((back - hz).abs() < 0.05 * hz.max(1.0), "{hz} -> {back}");
        }
    }

    #[test]
    fn tone_energy_lands_in_the_right_mel_bin() {
        let fb = Fbank::new(80);
        let tone: Vec<f32> = (0..16000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin() * 0.5)
            .collect();
        let feats = fb.compute(&tone);
        let row = &feats[50 * 80..51 * 80];
        let (argmax, _) =
            row.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
            );
        // 1 kHz in Slaney mel = 15; bins are spaced mel(8000) / 81 apart.
        let expected = (mel_slaney(1000.0) / (mel_slaney(8000.0) / 81.0)).round() as usize - 1;
        assert!(
            argmax.abs_diff(expected) <= 1,
            "argmax {argmax}, expected {expected}"
        );
    }

    #[test]
    fn per_feature_normalisation_gives_zero_mean_unit_std() {
        let mut f: Vec<f32> = (0..800)
            .map(|i| (i % 13) as f32 * 0.7 + (i / 80) as f32)
            .collect();
        normalize(&mut f, 80, Normalize::PerFeature);
        for b in 0..80 {
            let col: Vec<f32> = f.iter().skip(b).step_by(80).copied().collect();
            let mean: f32 = col.iter().sum::<f32>() / col.len() as f32;
            let var: f32 = col.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / col.len() as f32;
            assert!(mean.abs() < 1e-4);
            assert!((var.sqrt() - 1.0).abs() < 1e-3 || var == 0.0);
        }
    }
}
