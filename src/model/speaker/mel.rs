//! The speaker encoder's front end: 16 kHz samples → 40-band mel *power*
//! frames, as Resemblyzer's `audio.wav_to_mel_spectrogram` computes them with
//! librosa's `melspectrogram` defaults: `n_fft` 400 (25 ms), hop 160 (10 ms),
//! a periodic Hann window, centred frames with zero padding (librosa ≥ 0.10),
//! |STFT|², Slaney-scale mel filters from 0 Hz to 8 kHz with Slaney area
//! normalisation, no logarithm. Kept apart from the ASR front ends
//! (`model::features`, `model::whisper::mel`): the three differ in every
//! parameter. A golden test (`tests/speaker_mel_golden.rs`) compares it with
//! librosa itself.
//!
//! Imports nothing from the rest of hark.

use std::sync::Arc;

use crate::model::mel_scale::{hz_to_mel, mel_to_hz};
use realfft::{RealFftPlanner, RealToComplex};

/// Mel bands per frame.
pub const N_MELS: usize = 40;
/// FFT size and window length in samples (25 ms).
pub const N_FFT: usize = 400;
/// Frame shift in samples (10 ms).
pub const HOP: usize = 160;
/// Frames per second.
pub const FRAMES_PER_SEC: f64 = 100.0;
const SAMPLE_RATE: f64 = 16_000.0;

/// One frame of mel power.
pub type Frame = [f32; N_MELS];

/// A reusable extractor (window, filters and FFT plan built once).
pub struct SpeakerMel {
    window: Vec<f32>,
    /// Per mel band: first FFT bin and its weights.
    filters: Vec<(usize, Vec<f32>)>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl std::fmt::Debug for SpeakerMel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakerMel").finish_non_exhaustive()
    }
}

impl Default for SpeakerMel {
    fn default() -> Self {
        Self::new()
    }
}

/// Frames librosa returns for `n` samples (`center=True`).
pub fn num_frames(n: usize) -> usize {
    1 + n / HOP
}

/// librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): [N_MELS][N_FFT/2+1].
fn mel_filters() -> Vec<Vec<f64>> {
    let bins = N_FFT / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins)
        .map(|k| k as f64 * SAMPLE_RATE / N_FFT as f64)
        .collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0));
    let mel_f: Vec<f64> = (0..N_MELS + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (N_MELS + 1) as f64))
        .collect();
    (0..N_MELS)
        .map(|m| {
            let enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
            fft_freqs
                .iter()
                .map(|&f| {
                    let lower = (f - mel_f[m]) / (mel_f[m + 1] - mel_f[m]);
                    let upper = (mel_f[m + 2] - f) / (mel_f[m + 2] - mel_f[m + 1]);
                    lower.min(upper).max(0.0) * enorm
                })
                .collect()
        })
        .collect()
}

impl SpeakerMel {
    /// Builds the window, the filters and the FFT plan.
    pub fn new() -> Self {
        let window = (0..N_FFT)
            .map(|n| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos()) as f32
            })
            .collect();
        let filters = mel_filters()
            .into_iter()
            .map(|row| {
                let first = row.iter().position(|&w| w > 0.0).unwrap_or(0);
                let last = row.iter().rposition(|&w| w > 0.0).unwrap_or(first);
                (first, row[first..=last].iter().map(|&w| w as f32).collect())
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        SpeakerMel {
            window,
            filters,
            fft,
        }
    }

    /// Mel power frames of `samples` (16 kHz mono): [`num_frames`] of them,
    /// frame `t` centred on sample `t * HOP`.
    pub fn frames(&self, samples: &[f32]) -> Vec<Frame> {
        let n = num_frames(samples.len());
        let half = N_FFT / 2;
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f32; N_FFT / 2 + 1];
        let mut out = Vec::with_capacity(n);
        for t in 0..n {
            // Sample index of the frame's first point, in unpadded terms.
            let start = (t * HOP) as isize - half as isize;
            for (i, x) in input.iter_mut().enumerate() {
                let j = start + i as isize;
                let s = if j >= 0 {
                    samples.get(j as usize).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
                *x = s * self.window[i];
            }
            // Sizes come from the plan itself, so this cannot fail.
            if self
                .fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .is_err()
            {
                spectrum.iter_mut().for_each(|c| *c = Default::default());
            }
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
            let mut frame = [0f32; N_MELS];
            for (m, (first, weights)) in self.filters.iter().enumerate() {
                frame[m] = weights
                    .iter()
                    .zip(&power[*first..])
                    .map(|(w, p)| w * p)
                    .sum();
            }
            out.push(frame);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_matches_librosa_centre() {
        assert_eq!(num_frames(0), 1);
        assert_eq!(num_frames(159), 1);
        assert_eq!(num_frames(160), 2);
        assert_eq!(num_frames(16_000), 101);
        assert_eq!(SpeakerMel::new().frames(&[0.0; 1600]).len(), 11);
    }

    #[test]
    fn filters_are_slaney_normalised_triangles() {
        let f = mel_filters();
        assert_eq!(f.len(), N_MELS);
        // Slaney normalisation: each triangle's area (in Hz) is 1.
        for row in &f {
            let area: f64 = row.iter().sum::<f64>() * SAMPLE_RATE / N_FFT as f64;
            assert!((area - 1.0).abs() < 0.2, "area {area}");
        }
    }

    #[test]
    fn a_tone_lands_in_its_band() {
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let frames = SpeakerMel::new().frames(&tone);
        let mid = &frames[50];
        let peak = (0..N_MELS)
            .max_by(|&a, &b| mid[a].total_cmp(&mid[b]))
            .unwrap();
        let centre = |m: usize| {
            let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(8000.0));
            mel_to_hz(lo + (hi - lo) * (m + 1) as f64 / (N_MELS + 1) as f64)
        };
        assert!(
            (centre(peak) - 440.0).abs() < 120.0,
            "peak band {peak} at {} Hz",
            centre(peak)
        );
    }
}
