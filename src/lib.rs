//! hark: offline, one-shot batch speech transcription.
//!
//! Data flows one way through the stages, one module each:
//!
//! ```text
//! input → audio (decode, mix, resample) → chunk (pauses) → model (features,
//! ONNX session, decoder) → transcript (json-v2, txt, srt, vtt) → output
//! ```
//!
//! [`pipeline`] is the only module that knows every stage; [`exit`] holds the
//! exit-code table; [`error`] wraps each stage's error into one type.

pub mod audio;
pub mod exit;
pub mod license;
