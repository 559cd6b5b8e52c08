//! Golden test: hark's filterbank against kaldi-native-fbank 1.23.0 with the
//! options sherpa-onnx uses for NeMo CTC models (Hann window, 0-8000 Hz), on data written by `scripts/make-fbank-golden`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

use hark::model::features::{num_frames, Fbank};

fn read_fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fbank")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn fbank_matches_kaldi_native_fbank() {
    let samples: Vec<f32> = read_fixture("input.s16le")
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    let expected: Vec<f32> = read_fixture("expected.f32le")
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let fb = Fbank::new(80);
    let got = fb.compute(&samples);
    assert_eq!(num_frames(samples.len()), expected.len() / 80);
    assert_eq!(got.len(), expected.len(), "frame count differs");

    // Tolerance: 1e-3 absolute in log-mel (0.1 % in energy).
    let mut worst = 0.0f32;
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        let d = (g - e).abs();
        let tolerance = 1e-3;
        worst = worst.max(d);
        assert!(
            d < tolerance,
            "frame {} bin {}: hark {g}, kaldi-native-fbank {e}",
            i / 80,
            i % 80
        );
    }
    eprintln!("max abs difference: {worst:e}");
}
