//! NeMo CTC models in the sherpa-onnx layout (`EncDecCTCModelBPE` exports).
//!
//! Directory: `model.onnx` (or `model.int8.onnx`) and `tokens.txt` (blank
//! `<blk>` last). ONNX metadata read as sherpa-onnx does: `vocab_size`,
//! `subsampling_factor`, `normalize_type` (`per_feature` or empty), optional
//! `feat_dim` (default 80) and hark's optional `language` (comma-separated).
//! Inputs `audio_signal` `[N, feat_dim, T]` and `length` `[N]`; output 0 is
//! log-probabilities `[N, T', vocab]`.
//!
//! Imports: `model::{features, ctc, tokens, runtime, words}`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use ort::session::Session;
use ort::value::Tensor;

use super::features::{self, Fbank, Normalize};
use super::runtime::{self, Source};
use super::tokens::Tokens;
use super::{
    ctc, words, Capabilities, ChunkLimits, Family, ModelError, ModelInfo, Recognition, Recognizer,
    Settings,
};
use crate::profile::Stage;

/// A loaded NeMo CTC model: its graph, symbol table and metadata.
pub struct NemoCtc {
    info: ModelInfo,
    source: Source,
    tokens: Arc<Tokens>,
    fbank: Arc<Fbank>,
    normalize: Normalize,
    subsampling: usize,
    blank: usize,
    /// The session opened to read the metadata, reused by the first worker.
    probe: Mutex<Option<Session>>,
}

fn inference(e: impl std::fmt::Display) -> ModelError {
    ModelError::Inference(e.to_string())
}

impl NemoCtc {
    /// Loads `model.onnx` (preferred) or `model.int8.onnx` and `tokens.txt` from `dir`.
    pub fn from_dir(dir: &Path) -> Result<NemoCtc, ModelError> {
        let model = ["model.onnx", "model.int8.onnx"]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                ModelError::Missing(format!(
                    "{}: no model.onnx or model.int8.onnx",
                    dir.display()
                ))
            })?;
        // Fail on an unreadable file here, as "missing", before ONNX Runtime sees it.
        std::fs::File::open(&model)
            .map_err(|e| ModelError::Missing(format!("{}: {e}", model.display())))?;
        let tokens = Tokens::load(&dir.join("tokens.txt"))?;
        NemoCtc::from_parts(Source::File(model), tokens, dir.display().to_string())
    }

    /// Builds the model from an ONNX graph and a symbol table; `origin` names it in messages.
    pub fn from_parts(
        source: Source,
        tokens: Tokens,
        origin: String,
    ) -> Result<NemoCtc, ModelError> {
        let env = runtime::environment()?;
        // One probe session validates the graph and reads the metadata.
        let session = runtime::session(env, &source, 1).map_err(|e| {
            ModelError::Invalid(format!("{origin}: not a loadable ONNX model: {e}"))
        })?;
        let meta = session.metadata().map_err(|e| {
            ModelError::Invalid(format!("{origin}: cannot read ONNX metadata: {e}"))
        })?;
        let get = |k: &str| meta.custom(k);
        let num = |k: &str| -> Result<usize, ModelError> {
            let v = get(k).ok_or_else(|| {
                ModelError::Invalid(format!("{origin}: ONNX metadata has no `{k}`"))
            })?;
            v.trim().parse().map_err(|_| {
                ModelError::Invalid(format!(
                    "{origin}: ONNX metadata `{k}` = {v:?} is not a number"
                ))
            })
        };
        if get("is_giga_am").is_some_and(|v| v.trim() == "1") {
            return Err(ModelError::Invalid(format!(
                "{origin}: GigaAM models use a different front end, which hark does not implement"
            )));
        }
        let vocab = num("vocab_size")?;
        let subsampling = num("subsampling_factor")?;
        let feat_dim = match get("feat_dim") {
            Some(_) => num("feat_dim")?,
            None => 80,
        };
        // The filterbank is sized by it: a forged value must not allocate
        // (or loop) in proportion. Real models use 64, 80 or 128.
        if !(1..=512).contains(&feat_dim) {
            return Err(ModelError::Invalid(format!(
                "{origin}: ONNX metadata `feat_dim` = {feat_dim} is outside 1..=512"
            )));
        }
        let normalize = match get("normalize_type").as_deref().map(str::trim) {
            Some("per_feature") => Normalize::PerFeature,
            None | Some("") | Some("NA") | Some("None") => Normalize::None,
            Some(other) => {
                return Err(ModelError::Invalid(format!(
                    "{origin}: normalize_type {other:?} is not supported (only per_feature or none)"
                )))
            }
        };
        if tokens.len() != vocab {
            return Err(ModelError::Invalid(format!(
                "{origin}: tokens.txt has {} tokens but vocab_size is {vocab}",
                tokens.len()
            )));
        }
        let blank = vocab - 1;
        if tokens.piece(blank) != Some("<blk>") {
            return Err(ModelError::Invalid(format!(
                "{origin}: tokens.txt: the last token must be <blk>"
            )));
        }
        if subsampling == 0 {
            return Err(ModelError::Invalid(format!(
                "{origin}: subsampling_factor must be positive"
            )));
        }
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for want in ["audio_signal", "length"] {
            if !names.contains(&want) {
                return Err(ModelError::Invalid(format!(
                    "{origin}: ONNX input `{want}` missing (inputs: {})",
                    names.join(", ")
                )));
            }
        }
        let languages = get("language")
            .map(|l| {
                l.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        drop(meta);
        Ok(NemoCtc {
            info: ModelInfo {
                family: "nemo_ctc",
                origin,
                languages,
                chunking: ChunkLimits {
                    target_secs: 20.0,
                    max_secs: 30.0,
                },
                // Greedy CTC: one language, no search to bias, no translation.
                can: Capabilities::default(),
            },
            source,
            tokens: Arc::new(tokens),
            fbank: Arc::new(Fbank::new(feat_dim)),
            normalize,
            subsampling,
            blank,
            probe: Mutex::new(Some(session)),
        })
    }
}

impl Family for NemoCtc {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn recognizer(&self, settings: &Settings) -> Result<Box<dyn Recognizer>, ModelError> {
        let intra_threads = settings.intra_threads;
        let env = runtime::environment()?;
        let origin = &self.info.origin;
        let reused = if intra_threads <= 1 {
            self.probe.lock().ok().and_then(|mut p| p.take())
        } else {
            None
        };
        if let Some(session) = reused {
            return Ok(self.wrap(session));
        }
        let session = runtime::session(env, &self.source, intra_threads).map_err(|e| {
            ModelError::Invalid(format!("{origin}: cannot create an ONNX session: {e}"))
        })?;
        Ok(self.wrap(session))
    }
}

impl NemoCtc {
    fn wrap(&self, session: Session) -> Box<dyn Recognizer> {
        Box::new(NemoCtcRecognizer {
            session,
            tokens: Arc::clone(&self.tokens),
            fbank: Arc::clone(&self.fbank),
            normalize: self.normalize,
            frame_secs: 0.01 * self.subsampling as f64,
            vocab: self.tokens.len(),
            blank: self.blank,
        })
    }
}

struct NemoCtcRecognizer {
    session: Session,
    tokens: Arc<Tokens>,
    fbank: Arc<Fbank>,
    normalize: Normalize,
    frame_secs: f64,
    vocab: usize,
    blank: usize,
}

impl Recognizer for NemoCtcRecognizer {
    fn recognize(&mut self, samples: &[f32]) -> Result<Recognition, ModelError> {
        let bins = self.fbank.num_bins();
        let mut feats = Stage::Features.time(|| self.fbank.compute(samples));
        let frames = feats.len() / bins;
        if frames == 0 {
            return Ok(Recognition::default());
        }
        // Frame energy in dB (mean log-mel), for word boundaries.
        let energy: Vec<f32> = feats
            .chunks_exact(bins)
            .map(|row| row.iter().sum::<f32>() / bins as f32 * 10.0 / std::f32::consts::LN_10)
            .collect();
        Stage::Features.time(|| features::normalize(&mut feats, bins, self.normalize));
        // [T, bins] → [1, bins, T]
        let mut transposed = vec![0.0f32; feats.len()];
        for (t, row) in feats.chunks_exact(bins).enumerate() {
            for (b, &x) in row.iter().enumerate() {
                transposed[b * frames + t] = x;
            }
        }
        let signal = Tensor::from_array((vec![1i64, bins as i64, frames as i64], transposed))
            .map_err(inference)?;
        let length = Tensor::from_array((vec![1i64], vec![frames as i64])).map_err(inference)?;
        let started = std::time::Instant::now();
        let outputs = self
            .session
            .run(ort::inputs!["audio_signal" => signal, "length" => length])
            .map_err(inference)?;
        let (shape, data) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        let dims: Vec<i64> = shape.iter().copied().collect();
        if dims.len() != 3 || dims[0] != 1 || dims[2] as usize != self.vocab {
            return Err(ModelError::Inference(format!(
                "unexpected output shape {dims:?} (want [1, T, {}])",
                self.vocab
            )));
        }
        let mut logprobs = data.to_vec();
        // Accept logits as well as log-probabilities: log-softmax is idempotent.
        for row in logprobs.chunks_exact_mut(self.vocab) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let lse = max + row.iter().map(|x| (x - max).exp()).sum::<f32>().ln();
            row.iter_mut().for_each(|x| *x -= lse);
        }
        let mut tokens = ctc::greedy(
            &logprobs,
            self.vocab,
            self.blank,
            self.frame_secs,
            &self.tokens,
        );
        let frame_secs = features::FRAME_SHIFT as f64 / f64::from(features::SAMPLE_RATE);
        ctc::widen_to_speech(&mut tokens, &energy, frame_secs);
        Stage::Inference.add(started.elapsed().as_nanos() as u64);
        Ok(Recognition {
            words: words::split_punctuation(words::from_pieces(&tokens)),
            ..Recognition::default()
        })
    }
}
