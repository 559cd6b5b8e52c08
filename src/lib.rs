//! hark: offline, one-shot batch speech transcription.
//!
//! Data flows one way through the stages, one module each:
//!
//! ```text
//! input → audio (decode, mix, resample) → chunk (pauses) → model (features,
//! ONNX session, decoder) → transcript (json-v2, txt, srt, vtt) → output
//! ```
//!
//! [`diarize`] labels speakers (`diarization: "speaker"`) from the
//! recognised words and speaker embeddings. [`pipeline`] runs the stages; [`app`] orders the whole run (options, job
//! config, license, input, model, pipeline, output); [`job_config`] reads the
//! Speechmatics job config; [`exit`] holds the exit-code table; [`error`]
//! wraps each stage's error into one type. [`logging`] is the one printer of
//! stderr (log lines, the error line) and [`progress`] the progress it
//! prints around.

pub mod app;
pub mod audio;
pub mod chunk;
pub mod cli;
pub mod diarize;
pub mod error;
pub mod exit;
pub mod input;
pub mod job_config;
pub mod language;
pub mod license;
pub mod logging;
pub mod model;
pub mod options;
pub mod output;
pub mod pipeline;
pub mod profile;
pub mod progress;
pub mod signals;
pub mod transcript;
