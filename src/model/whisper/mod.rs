//! The Whisper model family (encoder/decoder). So far only its front end,
//! [`mel`]: 16 kHz samples → log-mel spectrogram windows.
//!
//! May import: `model::*` submodules only.

pub mod mel;
