//! Silero VAD (snakers4/silero-vad, MIT): an optional, model-based speech
//! detector for the chunker instead of the built-in energy detector. Loaded
//! from a path (`--vad-model`); hark never bundles it. Whether it helps
//! depends on the audio (measured in `docs/performance.md`).
//!
//! The v5 ONNX export (`silero_vad.onnx`, `silero_vad_16k_op15.onnx`):
//! inputs `input` `[1, 576]` (the previous window's last 64 samples, then a
//! 512-sample window at 16 kHz), `state` `[2, 1, 128]`, `sr` (int64 scalar);
//! outputs `output` `[1, 1]` (speech probability) and `stateN`. Decisions
//! follow silero's own `get_speech_timestamps`: speech starts at a
//! probability ≥ 0.5 and ends below 0.35. Each 10 ms frame takes the
//! decision of the 32 ms window holding its midpoint, so frames are decided
//! up to three frames late, which the chunker allows.
//!
//! Imports: `model::runtime`, `chunk` (the detector interface).

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::Tensor;

use super::runtime::{self, Source};
use super::ModelError;
use crate::chunk::{DetectorError, SpeechDetector, FRAME};

const WINDOW: usize = 512;
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
        let mut probe = vad.detector()?;
        probe.window.resize(WINDOW, 0.0);
        probe.run_window().map_err(|e| {
            ModelError::Invalid(format!(
                "--vad-model {}: not a Silero v5 VAD model: {}",
                path.display(),
                e.0
            ))
        })?;
        Ok(vad)
    }

    /// A detector for one stream, with its own session and state.
    pub fn detector(&self) -> Result<SileroDetector, ModelError> {
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
        Ok(SileroDetector {
            session,
            state: vec![0.0; STATE],
            context: vec![0.0; CONTEXT],
            window: Vec::with_capacity(WINDOW),
            windows_done: 0,
            frames_pushed: 0,
            frames_decided: 0,
            speech: false,
        })
    }
}

/// Silero VAD over one stream.
pub struct SileroDetector {
    session: Session,
    state: Vec<f32>,
    context: Vec<f32>,
    /// Samples of the window being filled.
    window: Vec<f32>,
    windows_done: u64,
    frames_pushed: u64,
    frames_decided: u64,
    /// Inside speech (hysteresis state).
    speech: bool,
}

impl SileroDetector {
    /// Runs the model on the full `window`; returns the speech probability.
    fn run_window(&mut self) -> Result<f32, DetectorError> {
        let err = |e: &dyn std::fmt::Display| DetectorError(format!("Silero VAD: {e}"));
        let mut input = Vec::with_capacity(CONTEXT + WINDOW);
        input.extend_from_slice(&self.context);
        input.extend_from_slice(&self.window);
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
            return Err(DetectorError(format!(
                "Silero VAD: unexpected output sizes {} and {}",
                prob.len(),
                state.len()
            )));
        };
        self.state.copy_from_slice(state);
        self.context
            .copy_from_slice(&self.window[WINDOW - CONTEXT..WINDOW]);
        self.window.clear();
        self.windows_done += 1;
        Ok(p)
    }

    /// Updates the hysteresis with a window's probability, then decides every
    /// pushed frame whose midpoint lies in a finished window.
    fn on_window(&mut self, p: f32, out: &mut Vec<bool>) {
        if p >= THRESHOLD {
            self.speech = true;
        } else if p < NEG_THRESHOLD {
            self.speech = false;
        }
        let done = self.windows_done * WINDOW as u64;
        while self.frames_decided < self.frames_pushed
            && self.frames_decided * FRAME as u64 + FRAME as u64 / 2 < done
        {
            out.push(self.speech);
            self.frames_decided += 1;
        }
    }
}

impl SpeechDetector for SileroDetector {
    fn push(&mut self, frame: &[f32], out: &mut Vec<bool>) -> Result<(), DetectorError> {
        self.frames_pushed += 1;
        let mut rest = frame;
        while !rest.is_empty() {
            let take = (WINDOW - self.window.len()).min(rest.len());
            self.window.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.window.len() == WINDOW {
                let p = self.run_window()?;
                self.on_window(p, out);
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<bool>) -> Result<(), DetectorError> {
        if !self.window.is_empty() {
            self.window.resize(WINDOW, 0.0);
            let p = self.run_window()?;
            self.on_window(p, out);
        }
        // Every pushed frame's midpoint now lies in a finished window.
        while self.frames_decided < self.frames_pushed {
            out.push(self.speech);
            self.frames_decided += 1;
        }
        Ok(())
    }
}
