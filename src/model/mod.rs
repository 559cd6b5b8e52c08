//! Models: find a model directory, build per-worker recognizers, decode.
//!
//! A model family (one file each: [`nemo_ctc`], ...) implements [`Family`]:
//! it knows its directory layout and metadata and builds [`Recognizer`]s —
//! chunk of 16 kHz samples in, timed tokens out. [`words`] turns tokens into
//! words for every family. Adding a family means adding a file and a line in
//! [`load`]; the pipeline never changes.
//!
//! May import: `model::*` submodules only.

pub mod builtin;
pub mod ctc;
pub mod features;
pub mod nemo_ctc;
pub mod runtime;
pub mod silero_vad;
pub mod tokens;
pub mod whisper;

use std::path::Path;

/// Errors from loading or running a model. All map to exit code 5.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model directory or one of its files is missing or unreadable.
    #[error("model missing: {0}")]
    Missing(String),
    /// The model files are present but not a valid model of a known layout.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// The ONNX Runtime library could not be found or loaded.
    #[error("{0}")]
    Runtime(String),
    /// Running the model failed.
    #[error("inference failed: {0}")]
    Inference(String),
}

/// A recognised token with times relative to the start of its chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedToken {
    /// The piece text; a leading `▁` starts a new word.
    pub piece: String,
    /// Start time in seconds.
    pub start: f64,
    /// End time in seconds.
    pub end: f64,
    /// Posterior probability of the piece, 0..=1.
    pub confidence: f32,
}

/// A word assembled from tokens, times relative to its chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    /// The word text.
    pub text: String,
    /// Start time in seconds.
    pub start: f64,
    /// End time in seconds.
    pub end: f64,
    /// Confidence: the lowest confidence of its tokens.
    pub confidence: f32,
}

/// How a family wants long audio cut (seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChunkLimits {
    /// Preferred chunk length: cut at the first good pause after this.
    pub target_secs: f64,
    /// Hard maximum chunk length.
    pub max_secs: f64,
}

/// What the rest of hark needs to know about a loaded model.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    /// Family name, e.g. `nemo_ctc`.
    pub family: &'static str,
    /// Where the model came from (a directory, or `built-in digits-en`).
    pub origin: String,
    /// Languages the model declares (`language` metadata); empty if unknown.
    pub languages: Vec<String>,
    /// How to chunk audio for this model.
    pub chunking: ChunkLimits,
}

/// Turns 16 kHz mono samples into timed tokens. One per worker thread.
pub trait Recognizer: Send {
    /// Recognises one chunk; times in the result are relative to its start.
    fn recognize(&mut self, samples: &[f32]) -> Result<Vec<TimedToken>, ModelError>;
}

/// A loaded model family: metadata plus a factory for recognizers.
pub trait Family: Send + Sync {
    /// Metadata about the model.
    fn info(&self) -> &ModelInfo;
    /// Builds a recognizer whose ONNX sessions use `intra_threads` threads.
    fn recognizer(&self, intra_threads: usize) -> Result<Box<dyn Recognizer>, ModelError>;
}

/// Loads the model in `dir`, detecting its family from the files present.
pub fn load(dir: &Path) -> Result<Box<dyn Family>, ModelError> {
    if !dir.is_dir() {
        return Err(ModelError::Missing(format!(
            "{}: not a directory (set --model or HARK_MODEL to a model directory)",
            dir.display()
        )));
    }
    let has = |name: &str| dir.join(name).is_file();
    let any_with = |needle: &str| {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().contains(needle))
            })
            .unwrap_or(false)
    };
    if has("model.onnx") || has("model.int8.onnx") {
        return Ok(Box::new(nemo_ctc::NemoCtc::from_dir(dir)?));
    }
    let family = if any_with("joiner") {
        "a transducer (encoder/decoder/joiner)"
    } else if any_with("encoder") && any_with("decoder") {
        "Whisper-style encoder/decoder"
    } else {
        ""
    };
    if family.is_empty() {
        Err(ModelError::Missing(format!(
            "{}: no model.onnx or model.int8.onnx (expected a sherpa-onnx NeMo CTC directory: model.onnx + tokens.txt)",
            dir.display()
        )))
    } else {
        Err(ModelError::Invalid(format!(
            "{}: looks like {family} model, which this build of hark cannot run yet; use a NeMo CTC model directory",
            dir.display()
        )))
    }
}

/// Where an installed default model lives (the container puts one here).
pub const INSTALLED_DIR: &str = "/opt/hark/model";

/// Loads the model in `dir`, or the default: [`INSTALLED_DIR`] when it
/// exists, else the built-in digits model.
pub fn load_or_default(dir: Option<&Path>) -> Result<Box<dyn Family>, ModelError> {
    match dir {
        Some(dir) => load(dir),
        None if Path::new(INSTALLED_DIR).is_dir() => load(Path::new(INSTALLED_DIR)),
        None => Ok(Box::new(builtin::load()?)),
    }
}

/// Joins SentencePiece tokens into words (a `▁` starts a new word).
pub fn words(tokens: &[TimedToken]) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    for t in tokens {
        let starts_word = t.piece.starts_with(tokens::WORD_START) || out.is_empty();
        let text = t.piece.replace(tokens::WORD_START, " ");
        let trimmed = text.trim();
        if starts_word || text.starts_with(' ') {
            if trimmed.is_empty() {
                continue;
            }
            out.push(Word {
                text: trimmed.to_string(),
                start: t.start,
                end: t.end,
                confidence: t.confidence,
            });
        } else if let Some(w) = out.last_mut() {
            w.text.push_str(trimmed);
            w.end = t.end;
            w.confidence = w.confidence.min(t.confidence);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(piece: &str, start: f64, end: f64, c: f32) -> TimedToken {
        TimedToken {
            piece: piece.into(),
            start,
            end,
            confidence: c,
        }
    }

    #[test]
    fn words_join_pieces_at_word_starts() {
        let w = words(&[
            tok("▁he", 0.0, 0.1, 0.9),
            tok("llo", 0.1, 0.2, 0.8),
            tok("▁world", 0.3, 0.5, 0.95),
            tok("▁", 0.5, 0.6, 0.5),
        ]);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].text, "hello");
        assert_eq!((w[0].start, w[0].end), (0.0, 0.2));
        assert!((w[0].confidence - 0.8).abs() < 1e-6);
        assert_eq!(w[1].text, "world");
    }

    #[test]
    fn missing_dir_is_a_model_error() {
        let e = load(Path::new("/nonexistent/model"))
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("/nonexistent/model"));
    }
}
