//! Where the time goes: per-stage wall-clock totals for logs and benchmarks.
//!
//! Stages add their elapsed time with [`Stage::time`]; totals are summed over
//! all worker threads. [`summary`] renders one line, which `-v` logs and
//! `scripts/bench` parses.
//!
//! Imports nothing from the rest of hark.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A pipeline stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Container demuxing and codec decoding.
    Decode,
    /// Down-mixing and resampling to 16 kHz.
    Resample,
    /// Voice-activity detection and chunking.
    Vad,
    /// Filterbank features.
    Features,
    /// ONNX Runtime inference and token decoding (CTC models).
    Inference,
    /// Whisper's encoder.
    Encoder,
    /// Whisper's decoder steps.
    Decoder,
    /// Word times (Whisper alignment) and words.
    Align,
    /// Speaker embeddings and clustering (`diarization: "speaker"`).
    Diarize,
    /// Building and writing the transcript.
    Output,
}

const STAGES: [(Stage, &str); 10] = [
    (Stage::Decode, "decode"),
    (Stage::Resample, "resample"),
    (Stage::Vad, "vad"),
    (Stage::Features, "features"),
    (Stage::Inference, "inference"),
    (Stage::Encoder, "encoder"),
    (Stage::Decoder, "decoder"),
    (Stage::Align, "align"),
    (Stage::Diarize, "diarize"),
    (Stage::Output, "output"),
];

static NANOS: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];

impl Stage {
    fn index(self) -> usize {
        STAGES.iter().position(|(s, _)| *s == self).unwrap_or(0)
    }

    /// Runs `f`, adding its duration to this stage.
    pub fn time<T>(self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.add(t.elapsed().as_nanos() as u64);
        out
    }

    /// Adds `nanos` to this stage.
    pub fn add(self, nanos: u64) {
        NANOS[self.index()].fetch_add(nanos, Ordering::Relaxed);
    }

    /// Total seconds spent in this stage so far.
    pub fn seconds(self) -> f64 {
        NANOS[self.index()].load(Ordering::Relaxed) as f64 / 1e9
    }
}

/// `decode=0.123s resample=... output=...` (CPU-seconds summed over threads).
pub fn summary() -> String {
    STAGES
        .iter()
        .map(|(s, name)| format!("{name}={:.3}s", s.seconds()))
        .collect::<Vec<_>>()
        .join(" ")
}
