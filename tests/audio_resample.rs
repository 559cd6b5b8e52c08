//! Golden numeric tests for `hark::audio::Resampler`: frequency, gain,
//! timing, length, channel handling and block-size independence.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::PI;

use hark::audio::{Mix, Resampler, TARGET_RATE};

const RATES: [u32; 4] = [8000, 22050, 44100, 48000];

fn sine(rate: u32, freq: f64, amp: f64, secs: f64) -> Vec<f32> {
    let n = (f64::from(rate) * secs).round() as usize;
    (0..n)
        .map(|i| (amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()) as f32)
        .collect()
}

/// Feeds `channels` through a resampler in irregular blocks.
fn run(rate: u32, mix: Mix, channels: &[Vec<f32>], block_sizes: &[usize]) -> Vec<Vec<f32>> {
    let mut r = Resampler::new(rate, channels.len(), mix).expect("resampler");
    let mut out = vec![Vec::new(); r.streams()];
    let n = channels[0].len();
    let (mut pos, mut k) = (0, 0);
    while pos < n {
        let len = block_sizes[k % block_sizes.len()].min(n - pos);
        k += 1;
        let block: Vec<Vec<f32>> = channels
            .iter()
            .map(|c| c[pos..pos + len].to_vec())
            .collect();
        for (o, p) in out.iter_mut().zip(r.process(&block).expect("process")) {
            o.extend(p);
        }
        pos += len;
    }
    for (o, p) in out.iter_mut().zip(r.finish().expect("finish")) {
        o.extend(p);
    }
    out
}

fn expected_len(n: usize, rate: u32) -> usize {
    ((n as f64) * f64::from(TARGET_RATE) / f64::from(rate)).round() as usize
}

/// Least-squares amplitude and phase of `freq` in `x` over `range`, plus the
/// RMS of the residual after removing that sinusoid.
fn fit(x: &[f32], freq: f64, range: std::ops::Range<usize>) -> (f64, f64, f64) {
    let w = 2.0 * PI * freq / f64::from(TARGET_RATE);
    let (mut s, mut c) = (0.0, 0.0);
    for i in range.clone() {
        s += f64::from(x[i]) * (w * i as f64).sin();
        c += f64::from(x[i]) * (w * i as f64).cos();
    }
    let n = range.len() as f64;
    let (a_s, a_c) = (2.0 * s / n, 2.0 * c / n);
    let amp = a_s.hypot(a_c);
    let phase = a_c.atan2(a_s);
    let resid = range
        .map(|i| f64::from(x[i]) - a_s * (w * i as f64).sin() - a_c * (w * i as f64).cos())
        .map(|e| e * e)
        .sum::<f64>();
    (amp, phase, (resid / n).sqrt())
}

#[test]
fn sine_keeps_frequency_gain_phase_and_length() {
    for rate in RATES {
        let x = sine(rate, 1000.0, 0.5, 2.0);
        let out = run(
            rate,
            Mix::Mono,
            std::slice::from_ref(&x),
            &[1000, 333, 4096, 1],
        );
        let y = &out[0];
        let want = expected_len(x.len(), rate);
        assert!(
            y.len().abs_diff(want) <= 1,
            "{rate}: len {} want {want}",
            y.len()
        );
        // Skip the edges (the signal starts and stops abruptly).
        let (amp, phase, resid) = fit(y, 1000.0, 1600..y.len() - 1600);
        let db = 20.0 * (amp / 0.5).log10();
        assert!(db.abs() < 0.1, "{rate}: gain {db:.4} dB");
        // Phase 0 means output sample i is input time i/16000 (1 sample = 0.39 rad).
        assert!(phase.abs() < 0.05, "{rate}: phase {phase:.4} rad");
        assert!(resid < 1e-3, "{rate}: residual rms {resid:e}");
    }
}

#[test]
fn click_at_one_second_lands_at_sample_16000() {
    for rate in RATES {
        let mut x = vec![0.0f32; (rate * 2) as usize];
        x[rate as usize] = 1.0;
        let out = run(rate, Mix::Mono, &[x], &[777, 2048]);
        let y = &out[0];
        let peak = (0..y.len())
            .max_by(|&a, &b| y[a].abs().total_cmp(&y[b].abs()))
            .expect("non-empty");
        assert!(peak.abs_diff(16_000) <= 1, "{rate}: click at {peak}");
        assert_eq!(y.len(), 32_000, "{rate}");
    }
}

#[test]
fn per_channel_keeps_channels_apart_and_mono_averages() {
    for rate in RATES {
        let a = sine(rate, 440.0, 0.5, 1.0);
        let b = sine(rate, 1500.0, 0.25, 1.0);
        let per = run(rate, Mix::PerChannel, &[a.clone(), b.clone()], &[1024]);
        assert_eq!(per.len(), 2);
        let mid = 1600..per[0].len() - 1600;
        let (amp_a, _, res_a) = fit(&per[0], 440.0, mid.clone());
        let (amp_b, _, res_b) = fit(&per[1], 1500.0, mid.clone());
        assert!(
            (amp_a - 0.5).abs() < 0.005 && res_a < 1e-3,
            "{rate}: ch0 {amp_a} {res_a}"
        );
        assert!(
            (amp_b - 0.25).abs() < 0.003 && res_b < 1e-3,
            "{rate}: ch1 {amp_b} {res_b}"
        );
        let mono = run(rate, Mix::Mono, &[a, b], &[1024]);
        assert_eq!(mono.len(), 1);
        let (m_a, _, _) = fit(&mono[0], 440.0, mid.clone());
        let (m_b, _, _) = fit(&mono[0], 1500.0, mid);
        assert!((m_a - 0.25).abs() < 0.003, "{rate}: mono 440 Hz amp {m_a}");
        assert!(
            (m_b - 0.125).abs() < 0.002,
            "{rate}: mono 1500 Hz amp {m_b}"
        );
    }
}

#[test]
fn sixteen_khz_passes_through_unchanged() {
    let a = sine(16_000, 440.0, 0.5, 1.0);
    let b = sine(16_000, 660.0, 0.5, 1.0);
    let per = run(16_000, Mix::PerChannel, &[a.clone(), b.clone()], &[100, 7]);
    assert_eq!(per, vec![a.clone(), b.clone()]);
    let mono = run(16_000, Mix::Mono, &[a.clone(), b.clone()], &[4096]);
    let avg: Vec<f32> = a.iter().zip(&b).map(|(x, y)| (x + y) * 0.5).collect();
    assert_eq!(mono[0], avg);
}

#[test]
fn output_does_not_depend_on_block_sizes() {
    let x = sine(44_100, 1234.5, 0.7, 1.3);
    let one = run(44_100, Mix::Mono, std::slice::from_ref(&x), &[x.len()]);
    let many = run(
        44_100,
        Mix::Mono,
        std::slice::from_ref(&x),
        &[1, 10, 100, 1000, 3],
    );
    assert_eq!(one[0].len(), many[0].len());
    let max_diff = one[0]
        .iter()
        .zip(&many[0])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max_diff < 1e-6, "max diff {max_diff}");
}

#[test]
fn short_and_empty_inputs_have_exact_lengths() {
    for rate in [2000, 8000, 11_025, 44_100, 44_101, 48_000, 96_000, 768_000] {
        for n in [0usize, 1, 2, 5, 100, 4410] {
            let out = run(rate, Mix::Mono, &[vec![0.1; n]], &[64]);
            let want = expected_len(n, rate);
            assert!(
                out[0].len().abs_diff(want) <= 1,
                "{rate} Hz, {n} in: {} out",
                out[0].len()
            );
        }
    }
    let mut r = Resampler::new(44_100, 1, Mix::Mono).expect("resampler");
    assert_eq!(r.finish().expect("finish"), vec![Vec::<f32>::new()]);
}

#[test]
fn misuse_is_an_internal_error() {
    assert!(Resampler::new(0, 1, Mix::Mono)
        .expect_err("rate 0")
        .is_internal());
    assert!(Resampler::new(44_100, 0, Mix::Mono)
        .expect_err("0 ch")
        .is_internal());
    let mut r = Resampler::new(44_100, 2, Mix::Mono).expect("resampler");
    let err = r
        .process(&[vec![0.0; 10]])
        .expect_err("wrong channel count");
    assert!(err.is_internal());
}
