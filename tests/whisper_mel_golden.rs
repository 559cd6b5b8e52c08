//! Golden test: hark's Whisper log-mel front end against an independent numpy
//! implementation of openai-whisper's `log_mel_spectrogram(pad_or_trim(x))`
//! (float64 STFT), on data written by `scripts/make-whisper-mel-golden`.
//!
//! Tolerance: 1e-4 absolute on the scaled log-mel ((log10 + 4) / 4), i.e.
//! 4e-4 in log10 or 0.09 % in mel energy; the mel filters must be identical.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

use hark::model::whisper::mel::{content_frames, WhisperMel, N_FRAMES, N_SAMPLES};

const TOLERANCE: f32 = 1e-4;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/whisper_mel")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn f32s(name: &str) -> Vec<f32> {
    fixture(name)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn input() -> Vec<f32> {
    fixture("input.s16le")
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

fn meta() -> serde_json::Value {
    serde_json::from_slice(&fixture("meta.json")).unwrap()
}

/// Compares frames `first..first + width` of `got` (`[n_mels, 3000]`) with
/// `expected` (`[n_mels, width]`); returns the largest difference.
fn compare(what: &str, got: &[f32], expected: &[f32], n_mels: usize, first: usize) -> f32 {
    let width = expected.len() / n_mels;
    assert_eq!(expected.len(), n_mels * width, "{what}: fixture size");
    let mut worst = 0.0f32;
    for m in 0..n_mels {
        for f in 0..width {
            let g = got[m * N_FRAMES + first + f];
            let e = expected[m * width + f];
            let d = (g - e).abs();
            worst = worst.max(d);
            assert!(
                d <= TOLERANCE,
                "{what}: mel {m} frame {}: hark {g}, numpy {e}",
                first + f
            );
        }
    }
    eprintln!("{what}: max abs difference {worst:e}");
    worst
}

fn check_short(n_mels: usize) {
    let meta = meta();
    let case = &meta["cases"][format!("short{n_mels}")];
    let stored = meta["short_frames"].as_u64().unwrap() as usize;
    let padding = case["padding_value"].as_f64().unwrap() as f32;
    let samples = input();
    assert_eq!(samples.len() as u64, meta["samples"].as_u64().unwrap());

    let mut mel = WhisperMel::new(n_mels);
    let mut got = Vec::new();
    let frames = mel.compute_into(&samples, &mut got);
    assert_eq!(got.len(), n_mels * N_FRAMES);
    assert_eq!(frames, samples.len() / 160);
    assert!(frames + 2 < stored, "the fixture covers the tail frames");
    compare(
        &format!("n_mels {n_mels}, 2.3 s"),
        &got,
        &f32s(&format!("short{n_mels}.f32le")),
        n_mels,
        0,
    );
    // The rest of the window is zero padding: all at the clamp floor.
    for m in 0..n_mels {
        for f in stored..N_FRAMES {
            let g = got[m * N_FRAMES + f];
            assert!(
                (g - padding).abs() <= TOLERANCE,
                "mel {m} frame {f}: {g} vs {padding}"
            );
        }
    }
}

#[test]
fn short_chunk_matches_numpy_80_mels() {
    check_short(80);
}

#[test]
fn short_chunk_matches_numpy_128_mels() {
    check_short(128);
}

#[test]
fn chunk_over_30_s_is_trimmed_like_pad_or_trim() {
    let meta = meta();
    let long_len = meta["long_samples"].as_u64().unwrap() as usize;
    let short = input();
    let long: Vec<f32> = short.iter().copied().cycle().take(long_len).collect();
    assert!(long.len() > N_SAMPLES);
    let got = WhisperMel::new(80).compute(&long);
    assert_eq!(content_frames(long.len()), N_FRAMES);
    compare("31 s, head", &got, &f32s("long80_head.f32le"), 80, 0);
    let tail = f32s("long80_tail.f32le");
    compare("31 s, tail", &got, &tail, 80, N_FRAMES - tail.len() / 80);
}

#[test]
fn filters_match_numpy_librosa_formula() {
    for n_mels in [80, 128] {
        let expected = f32s(&format!("filters{n_mels}.f32le"));
        let mel = WhisperMel::new(n_mels);
        let got = mel.filters();
        assert_eq!(got.len(), expected.len());
        let worst = got
            .iter()
            .zip(&expected)
            .map(|(g, e)| (g - e).abs())
            .fold(0.0f32, f32::max);
        // The script's filters are bit-identical to openai-whisper's
        // mel_filters.npz (librosa); allow an ulp for libm differences.
        assert!(
            worst <= 1e-9,
            "n_mels {n_mels}: max abs difference {worst:e}"
        );
        eprintln!("filters {n_mels}: max abs difference {worst:e}");
    }
}
