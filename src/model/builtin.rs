//! The built-in model: `models/digits-en`, compiled into the binary so hark
//! transcribes spoken digits with no model directory at all.
//!
//! Imports: `model::{nemo_ctc, tokens}`.

use super::nemo_ctc::NemoCtc;
use super::runtime::Source;
use super::tokens::Tokens;
use super::ModelError;

/// What `--model` falls back to, as shown in logs and errors.
pub const NAME: &str = "built-in digits-en";

const MODEL: &[u8] = include_bytes!("../../models/digits-en/model.onnx");
const TOKENS: &str = include_str!("../../models/digits-en/tokens.txt");

/// Loads the built-in digits model.
pub fn load() -> Result<NemoCtc, ModelError> {
    let tokens = Tokens::parse(TOKENS, "built-in digits-en/tokens.txt")?;
    NemoCtc::from_parts(Source::Static(MODEL), tokens, NAME.to_string())
}
