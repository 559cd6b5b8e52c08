//! Silero VAD (snakers4/silero-vad, MIT): an optional, model-based speech
//! detector for the chunker instead of the built-in energy detector. Loaded
//! from a path (`--vad-model`); hark never bundles it. Whether it helps
//! depends on the audio (measured in `docs/performance.md`).
//!
//! The v5 ONNX export (`silero_vad.onnx`, `silero_vad_16k_op15.onnx`):
//! inputs `input` `[1, 576]` (the previous window's last 64 samples, then a
//! 512-sample window at 16 kHz), `state` `[2, 1, 128]`, `sr` (int64 scalar);
//! outputs `output` `[1, 1]` (speech probability) and `stateN`. This module
//! scores windows; turning scores into per-frame decisions (hysteresis
//! [`THRESHOLD`] / [`NEG_THRESHOLD`], as silero's own
//! `get_speech_timestamps`) is the chunker's `WindowedDetector`.
//!
//! Imports: `model::runtime`.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::Tensor;

use super::runtime::{self, Source};
use super::ModelError;

/// Samples per scored window (32 ms at 16 kHz).
pub const WINDOW: usize = 512;
const CONTEXT: usize = 64;
const STATE: usize = 2 * 128;
const RATE: i64 = 16_000;
/// Speech starts at this probability ...
pub const THRESHOLD: f32 = 0.5;
/// ... and ends below this one.
pub const NEG_THRESHOLD: f32 = 0.35;

/// A validated Silero VAD model file.
#[derive(Clone, Debug)]
pub struct SileroVad {
    path: PathBuf,
}

impl SileroVad {
    /// Opens `path` and checks that it is a Silero v5 VAD model (one window is
    /// run through it).
    pub fn load(path: &Path) -> Result<SileroVad, ModelError> {
        std::fs::File::open(path)
            .map_err(|e| ModelError::Missing(format!("--vad-model {}: {e}", path.display())))?;
        let vad = SileroVad {
            path: path.to_path_buf(),
        };
        vad.session()?.probability(&[0.0; WINDOW]).map_err(|e| {
            ModelError::Invalid(format!(
                "--vad-model {}: not a Silero v5 VAD model: {}",
                path.display(),
                match e {
                    ModelError::Inference(m) => m,
                    other => other.to_string(),
                }
            ))
        })?;
        Ok(vad)
    }

    /// A session for one stream, with its own recurrent state.
    pub fn session(&self) -> Result<SileroSession, ModelError> {
        let env = runtime::environment()?;
        let session = runtime::session(env, &Source::File(self.path.clone()), 1).map_err(|e| {
            ModelError::Invalid(format!(
                "--vad-model {}: not a loadable ONNX model: {e}",
                self.path.display()
            ))
        })?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        if names != ["input", "state", "sr"] && names != ["input", "sr", "state"] {
            return Err(ModelError::Invalid(format!(
                "--vad-model {}: inputs are [{}], not a Silero v5 VAD model (input, state, sr)",
                self.path.display(),
                names.join(", ")
            )));
        }
        Ok(SileroSession {
            session,
            state: vec![0.0; STATE],
            context: vec![0.0; CONTEXT],
        })
    }
}

/// Silero VAD over one stream: scores consecutive windows.
pub struct SileroSession {
    session: Session,
    state: Vec<f32>,
    context: Vec<f32>,
}

impl SileroSession {
    /// Speech probability of the next [`WINDOW`] samples of the stream.
    pub fn probability(&mut self, window: &[f32]) -> Result<f32, ModelError> {
        let err = |e: &dyn std::fmt::Display| ModelError::Inference(format!("Silero VAD: {e}"));
        if window.len() != WINDOW {
            return Err(err(&format!(
                "window of {} samples, want {WINDOW}",
                window.len()
            )));
        }
        let mut input = Vec::with_capacity(CONTEXT + WINDOW);
        input.extend_from_slice(&self.context);
        input.extend_from_slice(window);
        let input = Tensor::from_array((vec![1i64, (CONTEXT + WINDOW) as i64], input))
            .map_err(|e| err(&e))?;
        let state =
            Tensor::from_array((vec![2i64, 1, 128], self.state.clone())).map_err(|e| err(&e))?;
        let sr = Tensor::from_array((Vec::<i64>::new(), vec![RATE])).map_err(|e| err(&e))?;
        let outputs = self
            .session
            .run(ort::inputs!["input" => input, "state" => state, "sr" => sr])
            .map_err(|e| err(&e))?;
        let (_, prob) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| err(&e))?;
        let (_, state) = outputs[1]
            .try_extract_tensor::<f32>()
            .map_err(|e| err(&e))?;
        let (Some(&p), true) = (prob.first(), state.len() == STATE) else {
            return Err(err(&format!(
                "unexpected output sizes {} and {}",
                prob.len(),
                state.len()
            )));
        };
        self.state.copy_from_slice(state);
        self.context.copy_from_slice(&window[WINDOW - CONTEXT..]);
        Ok(p)
    }
}
