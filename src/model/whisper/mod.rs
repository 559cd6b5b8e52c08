//! Whisper encoder-decoder models in sherpa-onnx's layout (its
//! `scripts/whisper/export-onnx.py`, and hark's own `scripts/fetch-model`).
//!
//! Directory: `<name>-encoder.onnx`, `<name>-decoder.onnx` (or their
//! `.int8.onnx` variants) and `<name>-tokens.txt`. The encoder's metadata
//! describes the model (`n_mels`, `n_text_ctx`, `sot_sequence`, language
//! tokens, special ids). The encoder maps `mel` `[1, n_mels, 3000]` to the
//! cross-attention keys and values; the decoder runs one step over `tokens`
//! with the self-attention caches (`[layers, 1, n_text_ctx, width]`) and an
//! `offset`. A decoder converted by hark also returns `cross_attn`, the
//! alignment heads' attention, which gives word times by DTW ([`align`]);
//! without it word times are spread over the timestamp-token segments.
//!
//! Parts: [`mel`] (front end), [`tokenizer`], [`decode`] (the loop, its
//! logit filters and quality checks), [`align`]; this file owns the ONNX
//! sessions and turns a chunk into words.
//!
//! Imports: `model::{runtime, words, ModelError, ...}` and its own parts.

pub mod align;
pub mod decode;
pub mod mel;
pub mod tokenizer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ort::session::builder::PrepackedWeights;
use ort::session::Session;
use ort::value::{DynValue, Tensor};

use self::decode::{Decoded, Inference, Options, Step, Task};
use self::tokenizer::{split_words, Encoder, Specials, Vocab};
use super::runtime::{self, Source};
use super::{
    words, Capabilities, ChunkLimits, Detect, Detection, Family, ModelError, ModelInfo,
    Recognition, Recognizer, Sentence, Settings, Word, WordKind,
};
use crate::profile::Stage;

/// Samples per 30 s window at 16 kHz.
pub const WINDOW_SAMPLES: usize = 480_000;
/// Mel frames per window.
pub const WINDOW_FRAMES: usize = 3000;

/// The files of a Whisper directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Files {
    /// `<name>-encoder[.int8].onnx`.
    pub encoder: PathBuf,
    /// `<name>-decoder[.int8].onnx`.
    pub decoder: PathBuf,
    /// `<name>-tokens.txt`.
    pub tokens: PathBuf,
}

/// Finds a Whisper model's files in `dir`; `None` if it is not one.
///
/// For the decoder, hark's own layout (`<name>-decoder.hark[.int8].onnx`)
/// comes before sherpa-onnx's (`HARK_WHISPER_DECODER=sherpa` forces
/// sherpa-onnx's). Precision: where hark's converter wrote an int8 decoder
/// (`<name>-decoder.hark.int8.onnx`), int8 files first: they are the
/// fastest and, measured by `scripts/bench-whisper`, as accurate as float32
/// (README, Performance). Elsewhere, as in sherpa-onnx's directories, whose
/// stock int8 files cost accuracy, float32 first. `HARK_WHISPER_INT8=1`
/// puts int8 first, `HARK_WHISPER_INT8=0` float32, in any directory.
pub fn find(dir: &Path) -> Option<Files> {
    let int8_env = std::env::var("HARK_WHISPER_INT8").ok();
    let sherpa_only = std::env::var("HARK_WHISPER_DECODER").is_ok_and(|v| v == "sherpa");
    find_with(dir, int8_env.as_deref(), sherpa_only)
}

/// [`find`] with `HARK_WHISPER_INT8`'s value and `HARK_WHISPER_DECODER=sherpa` given.
fn find_with(dir: &Path, int8_env: Option<&str>, sherpa_only: bool) -> Option<Files> {
    let names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    // Stems with an encoder and a tokens file, in name order.
    let mut stems: Vec<&str> = names
        .iter()
        .filter_map(|n| {
            n.strip_suffix("-encoder.onnx")
                .or_else(|| n.strip_suffix("-encoder.int8.onnx"))
        })
        .filter(|s| has(&format!("{s}-tokens.txt")))
        .collect();
    stems.sort_unstable();
    stems.dedup();
    for stem in stems {
        let int8_first = match int8_env {
            Some("1") => true,
            Some("0") => false,
            _ => has(&format!("{stem}-decoder.hark.int8.onnx")),
        };
        let precisions: [&str; 2] = if int8_first {
            [".int8", ""]
        } else {
            ["", ".int8"]
        };
        let encoder = precisions
            .iter()
            .map(|p| format!("{stem}-encoder{p}.onnx"))
            .find(|n| has(n));
        let layouts: &[&str] = if sherpa_only { &[""] } else { &[".hark", ""] };
        let decoder = precisions
            .iter()
            .flat_map(|p| {
                layouts
                    .iter()
                    .map(move |l| format!("{stem}-decoder{l}{p}.onnx"))
            })
            .find(|n| has(n));
        if let (Some(encoder), Some(decoder)) = (encoder, decoder) {
            return Some(Files {
                encoder: dir.join(encoder),
                decoder: dir.join(decoder),
                tokens: dir.join(format!("{stem}-tokens.txt")),
            });
        }
    }
    None
}

/// What the encoder's metadata says about the model.
#[derive(Clone, Debug)]
struct Meta {
    n_mels: usize,
    n_audio_ctx: usize,
    n_text_ctx: usize,
    n_text_layer: usize,
    n_text_state: usize,
    n_vocab: usize,
    multilingual: bool,
    sot_sequence: Vec<u32>,
    sot_index: usize,
    specials: Specials,
    suppress: Vec<u32>,
    /// Number of alignment heads (hark's `cross_attn` output), if any.
    alignment_heads: usize,
    /// The decoder takes the encoder's keys and values once (batch 1) for
    /// every sequence of its batch: hark's layout, whose beams all decode
    /// one window. Otherwise they are repeated for each sequence.
    shared_cross: bool,
}

fn read_meta(session: &Session, origin: &str) -> Result<Meta, ModelError> {
    let meta = session
        .metadata()
        .map_err(|e| ModelError::Invalid(format!("{origin}: cannot read ONNX metadata: {e}")))?;
    let get = |k: &str| -> Result<String, ModelError> {
        meta.custom(k)
            .ok_or_else(|| ModelError::Invalid(format!("{origin}: ONNX metadata has no `{k}`")))
    };
    let num = |k: &str| -> Result<usize, ModelError> {
        let v = get(k)?;
        v.trim().parse().map_err(|_| {
            ModelError::Invalid(format!(
                "{origin}: ONNX metadata `{k}` = {v:?} is not a number"
            ))
        })
    };
    let id = |k: &str| -> Result<u32, ModelError> {
        let v = num(k)?;
        u32::try_from(v)
            .map_err(|_| ModelError::Invalid(format!("{origin}: ONNX metadata `{k}` out of range")))
    };
    let list = |k: &str| -> Result<Vec<u32>, ModelError> {
        let v = meta.custom(k).unwrap_or_default();
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse().map_err(|_| {
                    ModelError::Invalid(format!(
                        "{origin}: ONNX metadata `{k}`: {s:?} is not an id"
                    ))
                })
            })
            .collect()
    };
    let multilingual = num("is_multilingual")? == 1;
    let sot_sequence = list("sot_sequence")?;
    let no_timestamps = id("no_timestamps")?;
    let lang_tokens = list("all_language_tokens")?;
    let lang_codes: Vec<String> = meta
        .custom("all_language_codes")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if lang_tokens.len() != lang_codes.len() {
        return Err(ModelError::Invalid(format!(
            "{origin}: ONNX metadata lists {} language tokens but {} language codes",
            lang_tokens.len(),
            lang_codes.len()
        )));
    }
    let specials = Specials {
        eot: id("eot")?,
        sot: id("sot")?,
        translate: id("translate")?,
        transcribe: id("transcribe")?,
        sot_lm: id("sot_lm")?,
        sot_prev: id("sot_prev")?,
        no_speech: id("no_speech")?,
        no_timestamps,
        timestamp_begin: no_timestamps + 1,
        blank: id("blank_id")?,
        languages: lang_tokens.into_iter().zip(lang_codes).collect(),
    };
    let sot_index = num("sot_index")?;
    if sot_sequence.is_empty() || sot_index >= sot_sequence.len() {
        return Err(ModelError::Invalid(format!(
            "{origin}: ONNX metadata `sot_sequence` / `sot_index` are inconsistent"
        )));
    }
    let alignment_heads = meta
        .custom("alignment_heads")
        .map(|v| v.split(';').filter(|s| !s.trim().is_empty()).count())
        .unwrap_or(0);
    let m = Meta {
        n_mels: num("n_mels")?,
        n_audio_ctx: num("n_audio_ctx")?,
        n_text_ctx: num("n_text_ctx")?,
        n_text_layer: num("n_text_layer")?,
        n_text_state: num("n_text_state")?,
        n_vocab: num("n_vocab")?,
        multilingual,
        sot_sequence,
        sot_index,
        suppress: list("non_speech_tokens")?,
        specials,
        alignment_heads,
        shared_cross: false,
    };
    if !(1..=256).contains(&m.n_mels)
        || !(1..=4096).contains(&m.n_text_ctx)
        || !(1..=64).contains(&m.n_text_layer)
        || !(1..=8192).contains(&m.n_text_state)
        || !(1..=4096).contains(&m.n_audio_ctx)
        || m.n_vocab <= m.specials.timestamp_begin as usize
        || m.n_vocab > 1_000_000
    {
        return Err(ModelError::Invalid(format!(
            "{origin}: ONNX metadata sizes out of range (n_mels {}, n_text_ctx {}, n_text_layer {}, n_text_state {}, n_vocab {})",
            m.n_mels, m.n_text_ctx, m.n_text_layer, m.n_text_state, m.n_vocab
        )));
    }
    Ok(m)
}

fn check_io(
    session: &Session,
    origin: &str,
    what: &str,
    inputs: &[&str],
    outputs: &[&str],
) -> Result<(), ModelError> {
    let ins: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
    let outs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    for want in inputs {
        if !ins.contains(want) {
            return Err(ModelError::Invalid(format!(
                "{origin}: {what} has no input `{want}` (inputs: {})",
                ins.join(", ")
            )));
        }
    }
    for want in outputs {
        if !outs.contains(want) {
            return Err(ModelError::Invalid(format!(
                "{origin}: {what} has no output `{want}` (outputs: {})",
                outs.join(", ")
            )));
        }
    }
    Ok(())
}

const DECODER_INPUTS: [&str; 6] = [
    "tokens",
    "in_n_layer_self_k_cache",
    "in_n_layer_self_v_cache",
    "n_layer_cross_k",
    "n_layer_cross_v",
    "offset",
];
const DECODER_OUTPUTS: [&str; 3] = [
    "logits",
    "out_n_layer_self_k_cache",
    "out_n_layer_self_v_cache",
];
const HARK_INPUTS: [&str; 5] = [
    "tokens",
    "past_self_k",
    "past_self_v",
    "n_layer_cross_k",
    "n_layer_cross_v",
];
const HARK_OUTPUTS: [&str; 3] = ["logits", "present_self_k", "present_self_v"];

/// A loaded Whisper model.
pub struct Whisper {
    info: ModelInfo,
    files: Files,
    meta: Arc<Meta>,
    vocab: Arc<Vocab>,
    n_mels: usize,
    layout: Layout,
    /// Sessions opened to validate the files, reused by the first worker.
    probe: Mutex<Option<(Session, Session)>>,
    /// Prepacked weights of the encoder and the decoder, shared by every
    /// worker's sessions.
    prepacked: (PrepackedWeights, PrepackedWeights),
}

impl Whisper {
    /// Loads the model whose files `find` located.
    pub fn from_files(files: Files, origin: String) -> Result<Whisper, ModelError> {
        for f in [&files.encoder, &files.decoder] {
            std::fs::File::open(f)
                .map_err(|e| ModelError::Missing(format!("{}: {e}", f.display())))?;
        }
        let vocab = Vocab::load(&files.tokens)?;
        let env = runtime::environment()?;
        let prepacked = (PrepackedWeights::new(), PrepackedWeights::new());
        let open = |p: &Path, w: &PrepackedWeights| {
            runtime::session_sharing(env, &Source::File(p.to_path_buf()), 1, Some(w)).map_err(|e| {
                ModelError::Invalid(format!("{}: not a loadable ONNX model: {e}", p.display()))
            })
        };
        let encoder = open(&files.encoder, &prepacked.0)?;
        let decoder = open(&files.decoder, &prepacked.1)?;
        let enc_origin = files.encoder.display().to_string();
        let meta = read_meta(&encoder, &enc_origin)?;
        check_io(
            &encoder,
            &enc_origin,
            "the encoder",
            &["mel"],
            &["n_layer_cross_k", "n_layer_cross_v"],
        )?;
        let dec_origin = files.decoder.display().to_string();
        let layout = if decoder.inputs().iter().any(|i| i.name() == "past_self_k") {
            check_io(
                &decoder,
                &dec_origin,
                "the decoder",
                &HARK_INPUTS,
                &HARK_OUTPUTS,
            )?;
            Layout::Hark
        } else {
            check_io(
                &decoder,
                &dec_origin,
                "the decoder",
                &DECODER_INPUTS,
                &DECODER_OUTPUTS,
            )?;
            Layout::Sherpa
        };
        let has_attention = decoder.outputs().iter().any(|o| o.name() == "cross_attn");
        if vocab.len() != meta.specials.eot as usize {
            return Err(ModelError::Invalid(format!(
                "{}: {} tokens, but the model's <|endoftext|> is {}",
                files.tokens.display(),
                vocab.len(),
                meta.specials.eot
            )));
        }
        let mut meta = meta;
        meta.shared_cross = decoder.inputs().iter().any(|i| {
            i.name() == "n_layer_cross_k"
                && i.dtype()
                    .tensor_shape()
                    .is_some_and(|s| s.get(1) == Some(&1))
        });
        tracing::debug!(?layout, shared_cross = meta.shared_cross, decoder = %dec_origin, "whisper decoder");
        if !has_attention {
            meta.alignment_heads = 0;
        }
        if meta.alignment_heads == 0 {
            tracing::info!(
                "{origin}: the decoder has no alignment-head attention (`cross_attn`): word times are spread over timestamp segments; convert with scripts/fetch-model for DTW word times"
            );
        }
        let languages = if meta.multilingual {
            meta.specials
                .languages
                .iter()
                .map(|(_, c)| c.clone())
                .collect()
        } else {
            vec!["en".to_string()]
        };
        Ok(Whisper {
            info: ModelInfo {
                family: "whisper",
                origin,
                languages,
                chunking: ChunkLimits {
                    target_secs: 20.0,
                    max_secs: 29.0,
                },
                can: Capabilities {
                    detect_language: meta.multilingual,
                    translate: meta.multilingual,
                    vocabulary: true,
                },
            },
            n_mels: meta.n_mels,
            layout,
            meta: Arc::new(meta),
            vocab: Arc::new(vocab),
            files,
            probe: Mutex::new(Some((encoder, decoder))),
            prepacked,
        })
    }

    /// Loads the Whisper model in `dir`.
    pub fn from_dir(dir: &Path) -> Result<Whisper, ModelError> {
        let files = find(dir).ok_or_else(|| {
            ModelError::Missing(format!(
                "{}: no <name>-encoder.onnx, <name>-decoder.onnx and <name>-tokens.txt",
                dir.display()
            ))
        })?;
        Whisper::from_files(files, dir.display().to_string())
    }
}

impl Family for Whisper {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn recognizer(&self, settings: &Settings) -> Result<Box<dyn Recognizer>, ModelError> {
        let meta = &self.meta;
        let sp = &meta.specials;
        let language = match (&settings.detect, meta.multilingual) {
            (_, false) => None,
            (Some(_), true) => None,
            (None, true) => Some(settings.language.clone().unwrap_or_else(|| "en".into())),
        };
        if let Some(lang) = &language {
            if sp.language(lang).is_none() {
                return Err(ModelError::Invalid(format!(
                    "{}: no language token for {lang:?}",
                    self.info.origin
                )));
            }
        }
        if settings.detect.is_some() && !meta.multilingual {
            return Err(ModelError::Invalid(format!(
                "{}: an English-only model cannot identify languages",
                self.info.origin
            )));
        }
        // Candidates for identification: the model's language tokens, kept
        // to those asked for (in the model's order).
        let detect = settings.detect.as_ref().map(|d| {
            let tokens: Vec<(u32, String)> = sp
                .languages
                .iter()
                .filter(|(_, c)| d.candidates.is_empty() || d.candidates.contains(c))
                .cloned()
                .collect();
            (d.clone(), tokens)
        });
        // additional_vocab: a `<|startofprev|>` prompt before the
        // transcript, as faster-whisper's `hotwords` (the last half-context
        // of tokens at most).
        let prefix = if settings.vocabulary.is_empty() {
            Vec::new()
        } else {
            let encoder = Encoder::new(&self.vocab);
            let text = format!(" {}", settings.vocabulary.join(", "));
            let mut ids = encoder.encode(text.trim_end());
            let room = (meta.n_text_ctx / 2).saturating_sub(1);
            if ids.len() > room {
                ids.truncate(room);
            }
            let mut p = vec![sp.sot_prev];
            p.extend(ids);
            p
        };
        let reused = if settings.intra_threads <= 1 {
            self.probe.lock().ok().and_then(|mut p| p.take())
        } else {
            None
        };
        let (encoder, decoder) = match reused {
            Some(s) => s,
            None => {
                let env = runtime::environment()?;
                let open = |p: &Path, w: &PrepackedWeights| {
                    runtime::session_sharing(
                        env,
                        &Source::File(p.to_path_buf()),
                        settings.intra_threads,
                        Some(w),
                    )
                    .map_err(|e| {
                        ModelError::Invalid(format!(
                            "{}: cannot create an ONNX session: {e}",
                            p.display()
                        ))
                    })
                };
                (
                    open(&self.files.encoder, &self.prepacked.0)?,
                    open(&self.files.decoder, &self.prepacked.1)?,
                )
            }
        };
        let options = Options {
            timestamps: true,
            beam_size: settings.beam_size.max(1),
            ..Options::default()
        };
        Ok(Box::new(WhisperRecognizer {
            encoder,
            decoder,
            meta: Arc::clone(&self.meta),
            vocab: Arc::clone(&self.vocab),
            mel: mel::WhisperMel::new(self.n_mels),
            layout: self.layout,
            language,
            detect,
            translate: settings.translate,
            prefix,
            options,
        }))
    }
}

struct WhisperRecognizer {
    encoder: Session,
    decoder: Session,
    meta: Arc<Meta>,
    vocab: Arc<Vocab>,
    mel: mel::WhisperMel,
    layout: Layout,
    /// The language to transcribe in (multilingual models), unless detected.
    language: Option<String>,
    /// Identify each chunk's language: the settings and candidate tokens.
    detect: Option<(Detect, Vec<(u32, String)>)>,
    /// Also translate into English.
    translate: bool,
    /// Prompt tokens before `<|startoftranscript|>` (`additional_vocab`).
    prefix: Vec<u32>,
    options: Options,
}

fn inference(e: impl std::fmt::Display) -> ModelError {
    ModelError::Inference(e.to_string())
}

/// The two decoder interfaces hark runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// sherpa-onnx's: fixed `[layers, 1, n_text_ctx, width]` self-attention
    /// caches passed in and out whole every step, plus an `offset`; logits
    /// for every token fed.
    Sherpa,
    /// hark's (`<name>-decoder.hark.onnx`): caches that grow with the
    /// sequence (`past_self_k` → `present_self_k`), logits for the last
    /// token only.
    Hark,
}

/// The decoder over one encoded window, for a batch of sequences of equal
/// length (one for greedy decoding, the beams for beam search).
struct OnnxDecoder<'a> {
    session: &'a mut Session,
    meta: &'a Meta,
    layout: Layout,
    /// The encoder's cross-attention keys and values, batch 1.
    cross: (DynValue, DynValue),
    /// The same repeated for a larger batch, when there is one.
    cross_batch: Option<(usize, DynValue, DynValue)>,
    self_k: Option<DynValue>,
    self_v: Option<DynValue>,
    batch: usize,
    offset: usize,
}

/// `[layers, batch, rest...]` tensor data gathered along the batch axis.
fn gather_batch(value: &DynValue, src: &[usize]) -> Result<DynValue, ModelError> {
    let (shape, data) = value.try_extract_tensor::<f32>().map_err(inference)?;
    let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    if dims.len() < 2 {
        return Err(ModelError::Inference(format!(
            "cannot reorder a tensor of shape {dims:?}"
        )));
    }
    let (layers, batch) = (dims[0], dims[1]);
    let block: usize = dims[2..].iter().product();
    let mut out = Vec::with_capacity(layers * src.len() * block);
    for l in 0..layers {
        for &b in src {
            if b >= batch {
                return Err(ModelError::Inference(format!("beam {b} out of {batch}")));
            }
            let at = (l * batch + b) * block;
            out.extend_from_slice(&data[at..at + block]);
        }
    }
    let mut new_dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    new_dims[1] = src.len() as i64;
    Tensor::from_array((new_dims, out))
        .map(Tensor::into_dyn)
        .map_err(inference)
}

impl OnnxDecoder<'_> {
    /// Empty caches: zeros of the full context (sherpa-onnx), or of length 0.
    fn empty_cache(&self) -> Result<DynValue, ModelError> {
        let m = self.meta;
        let slots = match self.layout {
            Layout::Sherpa => m.n_text_ctx,
            Layout::Hark => 0,
        };
        let shape = [m.n_text_layer, 1, slots, m.n_text_state];
        let len = shape.iter().product::<usize>();
        Tensor::from_array((shape.map(|d| d as i64), vec![0.0f32; len]))
            .map(Tensor::into_dyn)
            .map_err(inference)
    }

    /// Runs `n` tokens for each of the batch's sequences (`ids` is `[batch, n]`).
    fn run(&mut self, ids: &[u32], n: usize) -> Result<Vec<Step>, ModelError> {
        let batch = self.batch;
        if n == 0 || ids.len() != batch * n || self.offset + n > self.meta.n_text_ctx {
            return Err(ModelError::Inference(format!(
                "decoder context of {} tokens exceeded",
                self.meta.n_text_ctx
            )));
        }
        let (Some(k), Some(v)) = (self.self_k.take(), self.self_v.take()) else {
            return Err(ModelError::Inference("decoder caches missing".into()));
        };
        let ids: Vec<i64> = ids.iter().map(|&t| i64::from(t)).collect();
        let ids = Tensor::from_array(([batch as i64, n as i64], ids)).map_err(inference)?;
        let (ck, cv) = match &self.cross_batch {
            Some((b, ck, cv)) if *b == batch => (ck, cv),
            _ => (&self.cross.0, &self.cross.1),
        };
        let started = std::time::Instant::now();
        let mut out = match self.layout {
            Layout::Sherpa => {
                let offset =
                    Tensor::from_array(([1i64], vec![self.offset as i64])).map_err(inference)?;
                self.session.run(ort::inputs![
                    "tokens" => ids,
                    "in_n_layer_self_k_cache" => k,
                    "in_n_layer_self_v_cache" => v,
                    "n_layer_cross_k" => ck,
                    "n_layer_cross_v" => cv,
                    "offset" => offset,
                ])
            }
            Layout::Hark => self.session.run(ort::inputs![
                "tokens" => ids,
                "past_self_k" => k,
                "past_self_v" => v,
                "n_layer_cross_k" => ck,
                "n_layer_cross_v" => cv,
            ]),
        }
        .map_err(inference)?;
        Stage::Decoder.add(started.elapsed().as_nanos() as u64);
        let vocab = self.meta.n_vocab;
        let mut steps: Vec<Step> = Vec::with_capacity(batch);
        {
            let (shape, data) = out["logits"]
                .try_extract_tensor::<f32>()
                .map_err(inference)?;
            let dims: Vec<i64> = shape.iter().copied().collect();
            let rows = match self.layout {
                Layout::Sherpa if dims == [batch as i64, n as i64, vocab as i64] => n,
                Layout::Hark if dims == [batch as i64, vocab as i64] => 1,
                _ => {
                    return Err(ModelError::Inference(format!(
                        "decoder logits have shape {dims:?} for {batch} x {n} tokens of a {vocab}-token vocabulary"
                    )))
                }
            };
            for b in 0..batch {
                let at = (b * rows + rows - 1) * vocab;
                steps.push(Step {
                    logits: data[at..at + vocab].to_vec(),
                    attention: None,
                });
            }
        }
        let heads = self.meta.alignment_heads;
        if let (Some(a), true) = (out.get("cross_attn"), heads > 0) {
            // [batch, heads, n, frames]: keep the last position's rows.
            let (_, data) = a.try_extract_tensor::<f32>().map_err(inference)?;
            let frames = data.len() / (batch * heads * n);
            for (b, step) in steps.iter_mut().enumerate() {
                let mut row = Vec::with_capacity(heads * frames);
                for h in 0..heads {
                    let at = (((b * heads) + h) * n + n - 1) * frames;
                    row.extend_from_slice(&data[at..at + frames]);
                }
                step.attention = Some(row);
            }
        }
        let (k_name, v_name) = match self.layout {
            Layout::Sherpa => ("out_n_layer_self_k_cache", "out_n_layer_self_v_cache"),
            Layout::Hark => ("present_self_k", "present_self_v"),
        };
        self.self_k = out.remove(k_name);
        self.self_v = out.remove(v_name);
        self.offset += n;
        Ok(steps)
    }
}

impl Inference for OnnxDecoder<'_> {
    fn reset(&mut self) -> Result<(), ModelError> {
        self.offset = 0;
        self.batch = 1;
        self.self_k = Some(self.empty_cache()?);
        self.self_v = Some(self.empty_cache()?);
        Ok(())
    }

    fn step(&mut self, tokens: &[u32]) -> Result<Step, ModelError> {
        if self.batch != 1 {
            return Err(ModelError::Inference(
                "a batched decoder stepped as one".into(),
            ));
        }
        self.run(tokens, tokens.len())?
            .pop()
            .ok_or_else(|| ModelError::Inference("decoder gave no output".into()))
    }

    fn step_batch(&mut self, tokens: &[u32]) -> Result<Vec<Step>, ModelError> {
        self.run(tokens, 1)
    }

    fn reorder(&mut self, src: &[usize]) -> Result<(), ModelError> {
        // Every beam kept its place: the caches are already in order.
        if src.len() == self.batch && src.iter().enumerate().all(|(i, &b)| i == b) {
            return Ok(());
        }
        let (Some(k), Some(v)) = (self.self_k.take(), self.self_v.take()) else {
            return Err(ModelError::Inference("decoder caches missing".into()));
        };
        self.self_k = Some(gather_batch(&k, src)?);
        self.self_v = Some(gather_batch(&v, src)?);
        self.batch = src.len();
        if self.batch > 1
            && !self.meta.shared_cross
            && self.cross_batch.as_ref().is_none_or(|c| c.0 != self.batch)
        {
            let zeros = vec![0usize; self.batch];
            let ck = gather_batch(&self.cross.0, &zeros)?;
            let cv = gather_batch(&self.cross.1, &zeros)?;
            self.cross_batch = Some((self.batch, ck, cv));
        }
        Ok(())
    }

    fn vocab(&self) -> usize {
        self.meta.n_vocab
    }

    fn max_tokens(&self) -> usize {
        self.meta.n_text_ctx
    }
}

impl WhisperRecognizer {
    fn encode(&mut self, samples: &[f32]) -> Result<(DynValue, DynValue), ModelError> {
        let n_mels = self.meta.n_mels;
        // Zero-padded mel after the chunk's own frames, as today's
        // faster-whisper and openai-whisper feed a short chunk.
        let mel = Stage::Features.time(|| {
            let mut mel = Vec::new();
            let frames = self.mel.compute_into(samples, &mut mel);
            self.mel.zero_padding(&mut mel, frames);
            mel
        });
        let input = Tensor::from_array(([1i64, n_mels as i64, WINDOW_FRAMES as i64], mel))
            .map_err(inference)?;
        let started = std::time::Instant::now();
        let mut out = self
            .encoder
            .run(ort::inputs!["mel" => input])
            .map_err(inference)?;
        Stage::Encoder.add(started.elapsed().as_nanos() as u64);
        let k = out.remove("n_layer_cross_k");
        let v = out.remove("n_layer_cross_v");
        match (k, v) {
            (Some(k), Some(v)) => Ok((k, v)),
            _ => Err(ModelError::Inference("encoder outputs missing".into())),
        }
    }
}

/// Where decoding resumes after a window, in seconds from its start, as
/// openai-whisper's `transcribe()` seeks: a window whose text ends with a
/// pair of timestamps (`<|10.08|><|10.08|>` then the end) stops at a segment
/// boundary and the rest of the audio is decoded in a new window from that
/// time; otherwise (one timestamp at the end, or none) the window is done.
pub fn resume_at(tokens: &[u32], sp: &Specials) -> Option<f64> {
    let n = tokens.len();
    let single_ending = n >= 2 && sp.is_timestamp(tokens[n - 1]) && !sp.is_timestamp(tokens[n - 2]);
    if single_ending {
        return None;
    }
    let last_pair = (1..n)
        .rev()
        .find(|&i| sp.is_timestamp(tokens[i]) && sp.is_timestamp(tokens[i - 1]))?;
    let t = sp.time(tokens[last_pair - 1]);
    (t > 0.0).then_some(t)
}

/// Less audio than this left after a seek is not decoded (openai-whisper
/// stops when fewer than one frame is left; a sliver this short holds no word).
const MIN_WINDOW_SAMPLES: usize = 3_200;

impl Recognizer for WhisperRecognizer {
    fn recognize(&mut self, samples: &[f32]) -> Result<Recognition, ModelError> {
        let mut rec = Recognition {
            language: self.language.clone(),
            ..Recognition::default()
        };
        let mut detection: Option<Detection> = None;
        let mut seek = 0usize;
        while samples.len() - seek >= MIN_WINDOW_SAMPLES.min(samples.len()) && seek < samples.len()
        {
            let window = &samples[seek..samples.len().min(seek + WINDOW_SAMPLES)];
            let offset = seek as f64 / 16_000.0;
            // The chunk's language is identified once, from its first window.
            let identify = self.detect.is_some() && seek == 0;
            let out = self.window(window, identify, rec.language.as_deref())?;
            if let Some(d) = out.detection {
                rec.language = Some(d.chosen.clone());
                detection = Some(d);
            }
            let shift = |mut w: Word| {
                w.start += offset;
                w.end += offset;
                w
            };
            rec.words.extend(out.words.into_iter().map(shift));
            if let Some(t) = out.translation {
                rec.translation
                    .get_or_insert_with(Vec::new)
                    .extend(t.into_iter().map(|mut s| {
                        s.start += offset;
                        s.end += offset;
                        s
                    }));
            }
            let next = match out.resume {
                Some(t) => seek + ((t * 16_000.0) as usize).max(1),
                None => seek + window.len(),
            };
            seek = next.min(samples.len());
        }
        // A chunk without speech has no language to report.
        if !rec.words.is_empty() {
            rec.detection = detection;
        }
        Ok(rec)
    }
}

/// What one window gave.
struct WindowOut {
    words: Vec<Word>,
    /// Where to resume, seconds from the window's start (see [`resume_at`]).
    resume: Option<f64>,
    detection: Option<Detection>,
    translation: Option<Vec<Sentence>>,
}

impl WhisperRecognizer {
    /// Decodes one window of at most 30 s: its words, where to resume, and
    /// (when asked) its language and English translation.
    fn window(
        &mut self,
        samples: &[f32],
        identify: bool,
        language: Option<&str>,
    ) -> Result<WindowOut, ModelError> {
        let duration = samples.len() as f64 / 16_000.0;
        let (cross_k, cross_v) = self.encode(samples)?;
        let meta = Arc::clone(&self.meta);
        let vocab = Arc::clone(&self.vocab);
        let mut dec = OnnxDecoder {
            session: &mut self.decoder,
            meta: &meta,
            layout: self.layout,
            cross: (cross_k, cross_v),
            cross_batch: None,
            self_k: None,
            self_v: None,
            batch: 1,
            offset: 0,
        };
        // Identification reuses the window's encoding: one decoder step.
        let detection = match (&self.detect, identify) {
            (Some((settings, candidates)), true) => {
                let d = identify_language(&mut dec, &meta.specials, settings, candidates)?;
                tracing::debug!(alternatives = ?d.alternatives, chosen = %d.chosen, "language identified");
                Some(d)
            }
            _ => None,
        };
        let language = detection.as_ref().map_or(language, |d| Some(&d.chosen[..]));
        let task = Task {
            specials: &meta.specials,
            vocab: &vocab,
            suppress: &meta.suppress,
            options: &self.options,
        };
        // Seeded by the window itself, so sampling never depends on scheduling.
        let seed = samples.len() as u64 ^ u64::from(samples[samples.len() / 2].to_bits()) << 20;
        let (prompt, sot_index) = prompt_for(&self.prefix, &meta, language, false);
        let Some(decoded) = task.decode_with_fallback(&mut dec, &prompt, sot_index, seed)? else {
            return Ok(WindowOut {
                words: Vec::new(),
                resume: None,
                detection,
                translation: None,
            });
        };
        tracing::debug!(
            tokens = ?decoded.tokens,
            temperature = decoded.temperature,
            avg_logprob = decoded.avg_logprob,
            no_speech = decoded.no_speech_prob,
            "window decoded"
        );
        let resume = resume_at(&decoded.tokens, &meta.specials).filter(|t| *t < duration - 0.1);
        // Only the text before the resume point belongs to this window.
        let mut decoded = decoded;
        if resume.is_some() {
            // Drop the pair's second timestamp (and anything after it); the
            // first closes the last segment.
            while decoded.tokens.len() >= 2
                && !(meta
                    .specials
                    .is_timestamp(decoded.tokens[decoded.tokens.len() - 1])
                    && meta
                        .specials
                        .is_timestamp(decoded.tokens[decoded.tokens.len() - 2]))
            {
                decoded.tokens.pop();
                decoded.probs.pop();
            }
            decoded.tokens.pop();
            decoded.probs.pop();
            if let Some(att) = decoded.attention.as_mut() {
                att.truncate(decoded.tokens.len() + 1);
            }
        }
        // Translation into English, from the same encoding; only sentences
        // that start before the resume point are this window's.
        let mut translation = None;
        if self.translate && language.is_some_and(|l| l != "en") {
            let (prompt, sot_index) = prompt_for(&self.prefix, &meta, language, true);
            let mut sentences =
                match task.decode_with_fallback(&mut dec, &prompt, sot_index, seed)? {
                    Some(t) => segments(&t.tokens, &meta.specials, &vocab, duration),
                    None => Vec::new(),
                };
            if let Some(r) = resume {
                sentences.retain(|s| s.start < r);
            }
            translation = Some(sentences);
        }
        let audio_frames = (samples.len() / 160 / 2).max(1);
        let started = std::time::Instant::now();
        let words = to_words(&decoded, &meta, &vocab, duration, audio_frames);
        Stage::Align.add(started.elapsed().as_nanos() as u64);
        Ok(WindowOut {
            words,
            resume,
            detection,
            translation,
        })
    }
}

/// The decoder prompt: `prefix` (`additional_vocab`), then the
/// start-of-transcript sequence with the language and task set; and where
/// `<|startoftranscript|>` sits in it.
fn prompt_for(
    prefix: &[u32],
    meta: &Meta,
    language: Option<&str>,
    translate: bool,
) -> (Vec<u32>, usize) {
    let sp = &meta.specials;
    let mut seq = meta.sot_sequence.clone();
    if meta.multilingual {
        // sot_sequence is [sot, language, task].
        if let (Some(t), Some(slot)) = (
            language.and_then(|l| sp.language(l)),
            seq.get_mut(meta.sot_index + 1),
        ) {
            *slot = t;
        }
        if translate {
            for t in &mut seq {
                if *t == sp.transcribe {
                    *t = sp.translate;
                }
            }
        }
    }
    let mut prompt = prefix.to_vec();
    let sot_index = prompt.len() + meta.sot_index;
    prompt.extend(seq);
    (prompt, sot_index)
}

/// Whisper's language identification (openai-whisper's `detect_language`):
/// the logits after `<|startoftranscript|>` over the language tokens,
/// softmaxed over the candidates.
fn identify_language(
    dec: &mut dyn Inference,
    sp: &Specials,
    settings: &Detect,
    candidates: &[(u32, String)],
) -> Result<Detection, ModelError> {
    dec.reset()?;
    let step = dec.step(&[sp.sot])?;
    let softmax = |langs: &[(u32, String)]| -> Vec<(String, f32)> {
        let logits: Vec<f32> = langs
            .iter()
            .map(|(t, _)| {
                step.logits
                    .get(*t as usize)
                    .copied()
                    .unwrap_or(f32::NEG_INFINITY)
            })
            .collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f32 = exps.iter().sum::<f32>().max(f32::MIN_POSITIVE);
        let mut out: Vec<(String, f32)> = langs
            .iter()
            .zip(exps)
            .map(|((_, c), e)| (c.clone(), e / sum))
            .collect();
        // Most likely first; ties in the model's order (a stable sort).
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    };
    let alternatives = softmax(candidates);
    let Some((top, p)) = alternatives.first().cloned() else {
        return Err(ModelError::Inference(
            "no candidate language to identify".into(),
        ));
    };
    let unrestricted = (candidates.len() < sp.languages.len())
        .then(|| softmax(&sp.languages).into_iter().next())
        .flatten();
    let low_confidence = p < settings.min_confidence;
    let chosen = match (&settings.fallback, low_confidence) {
        (Some(f), true) => f.clone(),
        _ => top,
    };
    Ok(Detection {
        alternatives,
        unrestricted,
        chosen,
        low_confidence,
    })
}

/// A translation's segments from its timestamp tokens: the text between
/// each pair, as a sentence.
fn segments(tokens: &[u32], sp: &Specials, vocab: &Vocab, duration: f64) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut text: Vec<u32> = Vec::new();
    let mut start: Option<f64> = None;
    let mut last = 0.0f64;
    let mut close = |text: &mut Vec<u32>, a: f64, b: f64| {
        let t = vocab.text(text).trim().to_string();
        if !t.is_empty() {
            out.push(Sentence {
                start: a,
                end: b.max(a),
                text: t,
            });
        }
        text.clear();
    };
    for &t in tokens {
        if sp.is_timestamp(t) {
            let time = sp.time(t).min(duration);
            if text.is_empty() {
                start = Some(time);
            } else {
                close(&mut text, start.take().unwrap_or(last), time);
                last = time;
            }
        } else if sp.is_text(t) {
            text.push(t);
        }
    }
    if !text.is_empty() {
        close(&mut text, start.unwrap_or(last), duration);
    }
    out
}

/// Turns a decoded window into words with times and confidences.
fn to_words(
    d: &Decoded,
    meta: &Meta,
    vocab: &Vocab,
    duration: f64,
    audio_frames: usize,
) -> Vec<Word> {
    let sp = &meta.specials;
    // Text tokens with their positions in the decoded sequence.
    let text: Vec<(usize, u32)> = d
        .tokens
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, t)| sp.is_text(t))
        .collect();
    if text.is_empty() {
        return Vec::new();
    }
    let ids: Vec<u32> = text.iter().map(|&(_, t)| t).collect();
    let groups = split_words(vocab, &ids);
    // Per text token: (start, end) seconds.
    let times: Vec<(f64, f64)> = match &d.attention {
        Some(rows) if meta.alignment_heads > 0 => {
            // Rows predicting each text token, then the row after the last one.
            let mut sel: Vec<Vec<f32>> = text.iter().map(|&(i, _)| rows[i].clone()).collect();
            let after = text.last().map_or(0, |&(i, _)| i + 1);
            sel.push(rows[after.min(rows.len() - 1)].clone());
            let frames = sel[0].len() / meta.alignment_heads;
            let jumps = align::jump_times(&sel, meta.alignment_heads, frames, audio_frames);
            (0..ids.len()).map(|k| (jumps[k], jumps[k + 1])).collect()
        }
        _ => segment_times(d, sp, vocab, duration),
    };
    let mut out: Vec<Word> = Vec::with_capacity(groups.len());
    for (text_str, range) in groups {
        // The word ends where its last token with a letter or digit ends
        // (punctuation glued to it does not stretch it).
        let last_core = range
            .clone()
            .rev()
            .find(|&k| {
                vocab.bytes(ids[k]).iter().any(u8::is_ascii_alphanumeric)
                    || vocab.bytes(ids[k]).iter().any(|b| *b >= 0x80)
            })
            .unwrap_or(range.end - 1);
        let start = times[range.start].0;
        let end = times[last_core].1.max(start);
        let probs: Vec<f32> = range
            .clone()
            .map(|k| d.probs.get(text[k].0).copied().unwrap_or(0.0))
            .collect();
        let confidence = probs.iter().sum::<f32>() / probs.len().max(1) as f32;
        out.push(Word {
            text: text_str,
            start: start.clamp(0.0, duration),
            end: end.clamp(0.0, duration),
            confidence,
            kind: WordKind::Word,
        });
    }
    // Monotonic times.
    let mut last = 0.0f64;
    for w in &mut out {
        w.start = w.start.max(last);
        w.end = w.end.max(w.start);
        last = w.start;
    }
    words::split_punctuation(out)
}

/// Per text token (start, end) from the timestamp tokens: each segment's
/// span shared over its tokens in proportion to their length in bytes.
fn segment_times(d: &Decoded, sp: &Specials, vocab: &Vocab, duration: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut seg: Vec<u32> = Vec::new();
    let mut seg_start: Option<f64> = None;
    let mut last_end = 0.0f64;
    let close = |seg: &mut Vec<u32>, start: f64, end: f64, out: &mut Vec<(f64, f64)>| {
        let end = end.max(start);
        let weights: Vec<f64> = seg
            .iter()
            .map(|&t| vocab.bytes(t).len().max(1) as f64)
            .collect();
        let total: f64 = weights.iter().sum::<f64>().max(1.0);
        let mut acc = 0.0;
        for w in weights {
            let a = start + (end - start) * acc / total;
            acc += w;
            out.push((a, start + (end - start) * acc / total));
        }
        seg.clear();
    };
    for &t in &d.tokens {
        if sp.is_timestamp(t) {
            let time = sp.time(t).min(duration);
            if seg.is_empty() {
                seg_start = Some(time);
            } else {
                let start = seg_start.take().unwrap_or(last_end);
                close(&mut seg, start, time, &mut out);
                last_end = time;
            }
        } else if sp.is_text(t) {
            seg.push(t);
        }
    }
    if !seg.is_empty() {
        let start = seg_start.unwrap_or(last_end);
        close(&mut seg, start, duration, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for f in files {
            std::fs::write(dir.path().join(f), b"").expect("write");
        }
        dir
    }

    fn names(f: &Files) -> (String, String) {
        let name = |p: &PathBuf| p.file_name().map(|n| n.to_string_lossy().into_owned());
        (
            name(&f.encoder).unwrap_or_default(),
            name(&f.decoder).unwrap_or_default(),
        )
    }

    const HARK: [&str; 6] = [
        "tiny.en-encoder.onnx",
        "tiny.en-encoder.int8.onnx",
        "tiny.en-decoder.onnx",
        "tiny.en-decoder.hark.onnx",
        "tiny.en-decoder.hark.int8.onnx",
        "tiny.en-tokens.txt",
    ];

    #[test]
    fn hark_directory_prefers_its_int8_files() {
        let d = dir_with(&HARK);
        let f = find_with(d.path(), None, false).expect("found");
        let want = (
            "tiny.en-encoder.int8.onnx",
            "tiny.en-decoder.hark.int8.onnx",
        );
        assert_eq!(names(&f), (want.0.into(), want.1.into()));
    }

    #[test]
    fn int8_off_gives_float32_hark_decoder() {
        let d = dir_with(&HARK);
        let f = find_with(d.path(), Some("0"), false).expect("found");
        let want = ("tiny.en-encoder.onnx", "tiny.en-decoder.hark.onnx");
        assert_eq!(names(&f), (want.0.into(), want.1.into()));
        let f = find_with(d.path(), Some("0"), true).expect("found");
        let want = ("tiny.en-encoder.onnx", "tiny.en-decoder.onnx");
        assert_eq!(names(&f), (want.0.into(), want.1.into()));
    }

    #[test]
    fn sherpa_directory_prefers_float32_unless_asked() {
        let d = dir_with(&[
            "tiny.en-encoder.onnx",
            "tiny.en-encoder.int8.onnx",
            "tiny.en-decoder.onnx",
            "tiny.en-decoder.int8.onnx",
            "tiny.en-tokens.txt",
        ]);
        let f = find_with(d.path(), None, false).expect("found");
        let want = ("tiny.en-encoder.onnx", "tiny.en-decoder.onnx");
        assert_eq!(names(&f), (want.0.into(), want.1.into()));
        let f = find_with(d.path(), Some("1"), false).expect("found");
        let want = ("tiny.en-encoder.int8.onnx", "tiny.en-decoder.int8.onnx");
        assert_eq!(names(&f), (want.0.into(), want.1.into()));
    }
}
