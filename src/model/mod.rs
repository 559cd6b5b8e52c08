//! Models: find a model directory, build per-worker recognizers, decode.
//!
//! A model family (one file each: [`nemo_ctc`], ...) implements [`Family`]:
//! it knows its directory layout and metadata and builds [`Recognizer`]s —
//! chunk of 16 kHz samples in, words and punctuation out. [`words`] holds
//! what every family shares: pieces into words, punctuation split off. Adding a family means adding a file and a line in
//! [`load`]; the pipeline never changes.
//!
//! May import: `model::*` submodules only.

pub mod builtin;
pub mod ctc;
pub mod features;
pub mod mel_scale;
pub mod nemo_ctc;
pub mod runtime;
pub mod silero_vad;
pub mod speaker;
pub mod tokens;
pub mod whisper;
pub mod words;

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

/// How a punctuation mark joins its neighbours (Speechmatics `attaches_to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attach {
    /// Written against the previous word (`,` `.` `?`).
    Previous,
    /// Written against the next word (an opening quote or bracket).
    Next,
    /// Between two words with no spaces (a dash).
    Both,
    /// Free-standing.
    None,
}

/// Whether a recognised item is a word or a punctuation mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordKind {
    /// A word.
    Word,
    /// A punctuation mark; `eos` when it ends a sentence.
    Punctuation {
        /// How it joins its neighbours.
        attaches: Attach,
        /// It ends a sentence (`.` `?` `!`).
        eos: bool,
    },
}

/// A word or punctuation mark, times relative to its chunk: what every
/// family's recognizer returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    /// The text, as the model writes it (cased if the model cases).
    pub text: String,
    /// Start time in seconds.
    pub start: f64,
    /// End time in seconds.
    pub end: f64,
    /// Confidence 0..=1 (for a word: the lowest of its tokens).
    pub confidence: f32,
    /// Word or punctuation.
    pub kind: WordKind,
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
    /// What the model can do beyond transcribing in a given language.
    pub can: Capabilities,
}

/// Optional abilities of a model family; a request for one the loaded model
/// lacks is refused before any audio is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Identifies the spoken language itself ([`Settings::detect`]).
    pub detect_language: bool,
    /// Translates into English ([`Settings::translate`]).
    pub translate: bool,
    /// Can be biased towards given words ([`Settings::vocabulary`]).
    pub vocabulary: bool,
}

/// How a recognizer picks the language of a chunk it identifies itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Detect {
    /// The languages to choose from (codes); empty: any the model knows.
    pub candidates: Vec<String>,
    /// Below this probability the top candidate is "low confidence".
    pub min_confidence: f32,
    /// The language to use for a low-confidence chunk (`None`: the top one).
    pub fallback: Option<String>,
}

/// A chunk's identified language: every candidate's probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// `(code, probability)` over the candidates, most likely first
    /// (probabilities sum to 1 over the candidates).
    pub alternatives: Vec<(String, f32)>,
    /// The most likely language over all the model knows, with its
    /// probability, when candidates were restricted (to tell an
    /// unexpected language).
    pub unrestricted: Option<(String, f32)>,
    /// The language the chunk was transcribed in.
    pub chosen: String,
    /// The top candidate was below [`Detect::min_confidence`].
    pub low_confidence: bool,
}

/// A sentence of a translation, times relative to its chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct Sentence {
    /// Start time in seconds.
    pub start: f64,
    /// End time in seconds.
    pub end: f64,
    /// The translated text.
    pub text: String,
}

/// What a recognizer made of one chunk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recognition {
    /// Words and punctuation, in time order.
    pub words: Vec<Word>,
    /// The language the words are in, when the recognizer chose it
    /// (identification) or was told; `None`: the job's language.
    pub language: Option<String>,
    /// The language identification, when [`Settings::detect`] asked for it
    /// and the chunk held speech.
    pub detection: Option<Detection>,
    /// The English translation, when [`Settings::translate`] asked for it
    /// and the words are not already English (`None`: not made; the
    /// pipeline then takes English words' own sentences).
    pub translation: Option<Vec<Sentence>>,
}

/// Turns 16 kHz mono samples into words and punctuation. One per worker thread.
pub trait Recognizer: Send {
    /// Recognises one chunk; times in the result are relative to its start,
    /// in time order, punctuation marks as their own items.
    fn recognize(&mut self, samples: &[f32]) -> Result<Recognition, ModelError>;
}

/// How a worker's recognizer should run: the same for every family; a
/// family uses what applies to it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// ONNX Runtime intra-op threads per session.
    pub intra_threads: usize,
    /// The language to transcribe (a model that needs to be told, such as
    /// multilingual Whisper); `None` for the model's default.
    pub language: Option<String>,
    /// Beam width for families that search (Whisper); 1 or 0: greedy.
    pub beam_size: usize,
    /// Identify each chunk's language instead of using [`Settings::language`]
    /// (needs [`Capabilities::detect_language`]).
    pub detect: Option<Detect>,
    /// Also translate into English (needs [`Capabilities::translate`]).
    pub translate: bool,
    /// Words and phrases to bias recognition towards, in order of
    /// importance (needs [`Capabilities::vocabulary`]); empty: none.
    pub vocabulary: Vec<String>,
}

/// A loaded model family: metadata plus a factory for recognizers.
pub trait Family: Send + Sync {
    /// Metadata about the model.
    fn info(&self) -> &ModelInfo;
    /// Builds a recognizer (its own ONNX sessions) with `settings`.
    fn recognizer(&self, settings: &Settings) -> Result<Box<dyn Recognizer>, ModelError>;
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
    if any_with("joiner") {
        return Err(ModelError::Invalid(format!(
            "{}: looks like a transducer (encoder/decoder/joiner) model, which this build of hark cannot run; use a Whisper or NeMo CTC model directory",
            dir.display()
        )));
    }
    if let Some(files) = whisper::find(dir) {
        return Ok(Box::new(whisper::Whisper::from_files(
            files,
            dir.display().to_string(),
        )?));
    }
    if any_with("encoder") || any_with("decoder") {
        return Err(ModelError::Missing(format!(
            "{}: an incomplete Whisper directory (want <name>-encoder.onnx, <name>-decoder.onnx and <name>-tokens.txt)",
            dir.display()
        )));
    }
    if has("model.bin") && has("config.json") {
        return Err(ModelError::Invalid(format!(
            "{}: a CTranslate2 (faster-whisper) directory: convert it first with `HARK_CT2_DIR={} scripts/fetch-model NAME`",
            dir.display(),
            dir.display()
        )));
    }
    Err(ModelError::Missing(format!(
        "{}: no model found (expected a Whisper directory from scripts/fetch-model or sherpa-onnx, or a NeMo CTC directory: model.onnx + tokens.txt)",
        dir.display()
    )))
}

/// Where an installed default model lives (the container puts one here).
pub const INSTALLED_DIR: &str = "/opt/hark/model";

/// Where an installed second model for `operating_point: enhanced` lives.
pub const INSTALLED_ENHANCED_DIR: &str = "/opt/hark/model-enhanced";

/// Loads the model in `dir`, or the default: [`INSTALLED_DIR`] when it
/// exists, else the built-in digits model.
pub fn load_or_default(dir: Option<&Path>) -> Result<Box<dyn Family>, ModelError> {
    match dir {
        Some(dir) => load(dir),
        None if Path::new(INSTALLED_DIR).is_dir() => load(Path::new(INSTALLED_DIR)),
        None => Ok(Box::new(builtin::load()?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_dir_is_a_model_error() {
        let e = load(Path::new("/nonexistent/model"))
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("/nonexistent/model"));
    }
}
