//! Golden test: hark's speaker-encoder front end (`model::speaker::mel`)
//! against librosa 0.11's `melspectrogram` as Resemblyzer calls it, on data
//! written by `scripts/make-speaker-mel-golden`.
//!
//! Tolerance: each value within 1e-3 relative of librosa's, or within 1e-6
//! of the largest value (mel power spans many decades; the quiet stretch
//! and the digital silence sit near zero).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

use hark::model::speaker::mel::{num_frames, SpeakerMel, N_MELS};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/speaker_mel")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn mel_power_matches_librosa() {
    let input: Vec<f32> = fixture("input.s16le")
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    let expected: Vec<f32> = fixture("mel.f32le")
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let meta: serde_json::Value = serde_json::from_slice(&fixture("meta.json")).unwrap();
    assert_eq!(meta["samples"].as_u64().unwrap() as usize, input.len());
    let frames = SpeakerMel::new().frames(&input);
    assert_eq!(frames.len(), num_frames(input.len()));
    assert_eq!(frames.len() * N_MELS, expected.len(), "frame count");
    let peak = expected.iter().copied().fold(0.0f32, f32::max);
    let (mut worst_rel, mut checked) = (0.0f32, 0);
    for (t, frame) in frames.iter().enumerate() {
        for (m, &g) in frame.iter().enumerate() {
            let e = expected[t * N_MELS + m];
            let d = (g - e).abs();
            assert!(
                d <= 1e-3 * e.abs() || d <= 1e-6 * peak,
                "frame {t} mel {m}: hark {g}, librosa {e}"
            );
            if e > 1e-6 * peak {
                worst_rel = worst_rel.max(d / e);
                checked += 1;
            }
        }
    }
    eprintln!("max relative difference {worst_rel:e} over {checked} values");
}
