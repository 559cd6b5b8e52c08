//! The pipeline: input file → decoded, resampled stream → chunks at pauses →
//! recognizers on a rayon pool → time-ordered transcript items.
//!
//! A producer thread decodes, resamples and chunks while reading, handing
//! chunks to the workers through a bounded channel, so the whole file's PCM
//! is never held at once and memory stays flat however long the input is.
//! Each worker owns one recognizer (its own ONNX session). Results are put
//! back in chunk order, so the transcript does not depend on the number of
//! workers or on scheduling.
//!
//! Each chunk carries its speech detector's frames, and its words are fitted
//! to them for every family alike ([`model::words::fit_to_speech`]): no word
//! starts or ends in a silence, spans a pause, or stops short of its sound.
//!
//! With speaker diarization each worker also embeds its chunk's speech
//! (its own speaker-encoder session, on the same samples) and the windows
//! are clustered into speakers once every chunk is in ([`crate::diarize`]).
//!
//! The only module besides `app` that knows every stage.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use crate::audio::{AudioInfo, AudioStream, Mix, Resampler, TARGET_RATE};
use crate::chunk::{
    Chunk, Chunker, DetectorError, EnergyDetector, Limits, SpeechDetector, WindowScorer,
    WindowedDetector,
};
use crate::diarize::{self, Window};
use crate::error::Error;
use crate::input::Input;
use crate::model::silero_vad::{self, SileroSession, SileroVad};
use crate::model::speaker::{SpeakerEmbedder, SpeakerModel};
use crate::model::{self, Family, ModelError, Recognition, Recognizer, Word, WordKind};
use crate::profile::Stage;
use crate::transcript::{Attach, Item, ItemKind};

/// How to run the recognition.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Worker threads (each with its own recognizer).
    pub workers: usize,
    /// ONNX Runtime intra-op threads per worker.
    pub intra_threads: usize,
    /// Transcribe each channel on its own (channel diarization).
    pub per_channel: bool,
    /// Labels for channels under channel diarization (`channel_1`, ... if empty).
    pub channel_labels: Vec<String>,
    /// Silero VAD instead of the built-in energy detector (`--vad-model`).
    pub vad: Option<Arc<SileroVad>>,
    /// The language to transcribe.
    pub language: Option<String>,
    /// Beam width (1: greedy).
    pub beam_size: usize,
    /// Identify each chunk's language (`language: auto`).
    pub detect: Option<model::Detect>,
    /// Translate into English as well.
    pub translate: bool,
    /// Words to bias recognition towards (`additional_vocab`).
    pub vocabulary: Vec<String>,
    /// Speaker diarization: the speaker model and the settings.
    pub speakers: Option<SpeakerPlan>,
}

/// A chunk's identified language, at absolute times.
#[derive(Clone, Debug, PartialEq)]
pub struct Identified {
    /// First word's start, seconds.
    pub start: f64,
    /// Last word's end, seconds.
    pub end: f64,
    /// What the recognizer found.
    pub detection: model::Detection,
}

/// A translated sentence at absolute times.
#[derive(Clone, Debug, PartialEq)]
pub struct Translated {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// The English text.
    pub text: String,
    /// Channel label under channel diarization.
    pub channel: Option<String>,
}

/// How to diarize speakers.
#[derive(Clone, Debug)]
pub struct SpeakerPlan {
    /// The speaker encoder (each worker opens its own session).
    pub model: Arc<SpeakerModel>,
    /// Sensitivity, maximum count, preference for the current speaker.
    pub settings: diarize::Settings,
}

/// The recognised items and what was learnt about the audio.
#[derive(Debug)]
pub struct Recognized {
    /// Time-ordered words.
    pub items: Vec<Item>,
    /// The decoded audio's properties.
    pub audio: AudioInfo,
    /// Duration of the audio in seconds.
    pub duration: f64,
    /// Number of chunks recognised.
    pub chunks: usize,
    /// Per chunk with speech, its language (when identification was asked).
    pub identified: Vec<Identified>,
    /// The English translation (when asked), in time order.
    pub translation: Vec<Translated>,
    /// Speaker diarization's outcome, when it ran.
    pub diarization: Option<diarize::Outcome>,
}

/// Where a chunk sits in its stream; kept after its samples are freed.
#[derive(Clone, Copy, Debug)]
struct Span {
    stream: usize,
    start: u64,
    end: u64,
    own_start: u64,
    own_end: u64,
}

/// One recognised chunk: its place, words and (when diarizing) windows.
struct ChunkResult {
    seq: usize,
    span: Span,
    rec: Recognition,
    windows: Vec<Window>,
}

type Output = Vec<ChunkResult>;

/// The speech detector's frame, in seconds.
const FRAME_SECS: f64 = crate::chunk::FRAME as f64 / crate::chunk::RATE as f64;

/// Opens the audio in `input`; fails fast on undecodable input.
pub fn open_audio(input: Input) -> Result<AudioStream, Error> {
    Ok(AudioStream::open(input.file, &input.name)?)
}

/// Recognises everything in `audio` with `family`, as planned.
pub fn recognize(
    audio: AudioStream,
    family: &dyn Family,
    plan: &Plan,
) -> Result<Recognized, Error> {
    let info = audio.info().clone();
    let workers = plan.workers.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("hark-worker-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start {workers} worker threads: {e}")))?;
    let limits = Limits {
        target_secs: family.info().chunking.target_secs,
        max_secs: family.info().chunking.max_secs,
    };
    let (tx, rx) = sync_channel::<(usize, Chunk)>(workers * 2);
    let rx = Mutex::new(rx);
    let abort = AtomicBool::new(false);

    let (produced, outputs) = std::thread::scope(|s| {
        let producer = s.spawn(|| produce(audio, limits, plan, tx, &abort));
        // Each worker builds its own session when its first chunk arrives, so
        // a short file with one chunk never costs a second session.
        let settings = model::Settings {
            intra_threads: plan.intra_threads,
            language: plan.language.clone(),
            beam_size: plan.beam_size,
            detect: plan.detect.clone(),
            translate: plan.translate,
            vocabulary: plan.vocabulary.clone(),
        };
        let speakers = plan.speakers.as_ref().map(|p| p.model.as_ref());
        let outputs = pool.broadcast(|_| work(&rx, family, speakers, &settings, &abort));
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the decoding thread panicked".into())));
        (produced, outputs)
    });
    // A decoding error explains any worker failure that followed it.
    let (samples, chunks) = produced?;
    let mut all: Output = Vec::new();
    for out in outputs {
        all.extend(out?);
    }
    all.sort_by_key(|c| c.seq);
    let mut items = assemble(&all, plan);
    let (identified, translation) = chunk_extras(&all, plan);
    let diarization = plan.speakers.as_ref().map(|sp| {
        Stage::Diarize.time(|| {
            let windows = place_windows(&all);
            let out = diarize::label(&mut items, &windows, &sp.settings);
            tracing::info!(
                speakers = out.speakers,
                windows = out.windows,
                last_merge = ?out.last_merge,
                next_merge = ?out.next_merge,
                threshold = sp.settings.threshold(),
                "speaker diarization"
            );
            out
        })
    });
    Ok(Recognized {
        items,
        audio: info,
        duration: samples as f64 / f64::from(TARGET_RATE),
        chunks,
        identified,
        translation,
        diarization,
    })
}

/// Decodes, resamples and chunks, sending chunks in order. Returns the number
/// of 16 kHz samples per stream and the number of chunks sent.
fn produce(
    mut audio: AudioStream,
    limits: Limits,
    plan: &Plan,
    tx: SyncSender<(usize, Chunk)>,
    abort: &AtomicBool,
) -> Result<(u64, usize), Error> {
    let result = produce_chunks(&mut audio, limits, plan, tx, abort);
    if result.is_err() {
        // Unblock workers waiting on the queue; they stop at the abort flag.
        abort.store(true, Ordering::Relaxed);
    }
    result
}

fn produce_chunks(
    audio: &mut AudioStream,
    limits: Limits,
    plan: &Plan,
    tx: SyncSender<(usize, Chunk)>,
    abort: &AtomicBool,
) -> Result<(u64, usize), Error> {
    let info = audio.info().clone();
    let mix = if plan.per_channel {
        Mix::PerChannel
    } else {
        Mix::Mono
    };
    let mut resampler = Resampler::new(info.sample_rate, info.channels, mix)?;
    let mut chunkers = Vec::with_capacity(resampler.streams());
    for s in 0..resampler.streams() {
        let detector: Box<dyn SpeechDetector> = match &plan.vad {
            Some(vad) => Box::new(WindowedDetector::new(
                Box::new(Silero(vad.session()?)),
                silero_vad::THRESHOLD,
                silero_vad::NEG_THRESHOLD,
            )),
            None => Box::new(EnergyDetector::new()),
        };
        chunkers.push(Chunker::with_detector(s, limits, detector));
    }
    let mut seq = 0usize;
    let mut samples = 0u64;
    let send = |chunks: Vec<Chunk>, seq: &mut usize| -> bool {
        for c in chunks {
            if tx.send((*seq, c)).is_err() {
                return false;
            }
            *seq += 1;
        }
        true
    };
    loop {
        if abort.load(Ordering::Relaxed) {
            return Ok((samples, seq));
        }
        let Some(block) = Stage::Decode.time(|| audio.next_block())? else {
            break;
        };
        let out = Stage::Resample.time(|| resampler.process(&block))?;
        samples += out.first().map_or(0, |v| v.len() as u64);
        for (chunker, pcm) in chunkers.iter_mut().zip(&out) {
            let chunks = Stage::Vad.time(|| chunker.push(pcm)).map_err(vad_error)?;
            if !send(chunks, &mut seq) {
                return Ok((samples, seq));
            }
        }
    }
    let out = Stage::Resample.time(|| resampler.finish())?;
    samples += out.first().map_or(0, |v| v.len() as u64);
    for (chunker, pcm) in chunkers.iter_mut().zip(&out) {
        let mut chunks = Stage::Vad.time(|| chunker.push(pcm)).map_err(vad_error)?;
        chunks.extend(Stage::Vad.time(|| chunker.finish()).map_err(vad_error)?);
        if !send(chunks, &mut seq) {
            break;
        }
    }
    if samples == 0 {
        tracing::debug!("no audio samples decoded");
    }
    Ok((samples, seq))
}

/// Silero VAD as the chunker's window scorer.
struct Silero(SileroSession);

impl WindowScorer for Silero {
    fn window(&self) -> usize {
        silero_vad::WINDOW
    }

    fn score(&mut self, window: &[f32]) -> Result<f32, DetectorError> {
        self.0.probability(window).map_err(|e| {
            DetectorError(match e {
                ModelError::Inference(m) => m,
                other => other.to_string(),
            })
        })
    }
}

fn vad_error(e: DetectorError) -> Error {
    Error::Model(ModelError::Inference(e.to_string()))
}

/// A worker: takes chunks until the channel closes, recognising each with a
/// recognizer it builds on its first chunk. On failure it raises `abort`
/// and keeps draining the queue, so the producer is never left blocked on
/// a full channel.
fn work(
    rx: &Mutex<Receiver<(usize, Chunk)>>,
    family: &dyn Family,
    speakers: Option<&SpeakerModel>,
    settings: &model::Settings,
    abort: &AtomicBool,
) -> Result<Output, Error> {
    let mut rec: Option<Box<dyn Recognizer>> = None;
    let mut embedder: Option<SpeakerEmbedder> = None;
    let mut out = Vec::new();
    loop {
        let msg = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return Err(Error::Internal("the chunk queue lock was poisoned".into())),
        };
        let Ok((seq, chunk)) = msg else { break };
        if abort.load(Ordering::Relaxed) {
            continue; // drain so the producer is never blocked
        }
        let recognized = match &mut rec {
            Some(r) => r.recognize(&chunk.samples),
            None => {
                tracing::debug!(seq, "worker starts: building its recognizer");
                family
                    .recognizer(settings)
                    .and_then(|r| rec.insert(r).recognize(&chunk.samples))
            }
        };
        let result = recognized.and_then(|mut rec| {
            model::words::fit_to_speech(
                &mut rec.words,
                &chunk.speech,
                &chunk.energy_db,
                FRAME_SECS,
            );
            let Some(model) = speakers else {
                return Ok((rec, Vec::new()));
            };
            let windows = Stage::Diarize.time(|| {
                let e = match &mut embedder {
                    Some(e) => e,
                    None => embedder.insert(model.embedder(settings.intra_threads)?),
                };
                diarize::embed_chunk(e, &chunk.samples, &rec.words)
            })?;
            Ok((rec, windows))
        });
        if result.is_ok() {
            crate::progress::advance(chunk.stream, chunk.own_end as f64 / f64::from(TARGET_RATE));
        }
        match result {
            Ok((rec, windows)) => out.push(ChunkResult {
                seq,
                span: Span {
                    stream: chunk.stream,
                    start: chunk.start,
                    end: chunk.start + chunk.samples.len() as u64,
                    own_start: chunk.own_start,
                    own_end: chunk.own_end,
                },
                rec,
                windows,
            }),
            Err(e) => {
                abort.store(true, Ordering::Relaxed);
                drain(rx);
                return Err(e.into());
            }
        }
    }
    Ok(out)
}

/// Empties the queue so the producer never blocks on a failed worker.
fn drain(rx: &Mutex<Receiver<(usize, Chunk)>>) {
    while let Ok(Ok(_)) = rx.lock().map(|r| r.recv()) {}
}

fn channel_label(plan: &Plan, stream: usize) -> Option<String> {
    plan.per_channel.then(|| {
        plan.channel_labels
            .get(stream)
            .cloned()
            .unwrap_or_else(|| format!("channel_{}", stream + 1))
    })
}

/// Per chunk: its identified language, and its translated sentences (the
/// ones it owns; English words' own sentences when no translation was
/// made), at absolute times.
fn chunk_extras(outputs: &Output, plan: &Plan) -> (Vec<Identified>, Vec<Translated>) {
    let mut identified = Vec::new();
    let mut translated: Vec<(usize, Translated)> = Vec::new();
    for c in outputs {
        let (span, rec) = (&c.span, &c.rec);
        let (offset, own_a, own_b) = span.owned();
        if let (Some(d), Some(first), Some(last)) =
            (&rec.detection, rec.words.first(), rec.words.last())
        {
            identified.push(Identified {
                start: offset + first.start,
                end: offset + last.end,
                detection: d.clone(),
            });
        }
        if !plan.translate {
            continue;
        }
        let sentences = match &rec.translation {
            Some(t) => t.clone(),
            None => model::words::sentences(&rec.words),
        };
        for s in sentences {
            let mid = offset + 0.5 * (s.start + s.end);
            if mid >= own_a && mid < own_b {
                translated.push((
                    span.stream,
                    Translated {
                        start: offset + s.start,
                        end: offset + s.end,
                        text: s.text,
                        channel: channel_label(plan, span.stream),
                    },
                ));
            }
        }
    }
    translated.sort_by(|a, b| a.1.start.total_cmp(&b.1.start).then(a.0.cmp(&b.0)));
    (identified, translated.into_iter().map(|(_, t)| t).collect())
}

impl Span {
    /// The chunk's start and the part of it it owns, in seconds. A chunk
    /// owns its edges unless it overlaps a neighbour there: a word a model
    /// places at the very end of its chunk is still its own.
    fn owned(&self) -> (f64, f64, f64) {
        let rate = f64::from(TARGET_RATE);
        let own_a = if self.own_start <= self.start {
            f64::NEG_INFINITY
        } else {
            self.own_start as f64 / rate
        };
        let own_b = if self.own_end >= self.end {
            f64::INFINITY
        } else {
            self.own_end as f64 / rate
        };
        (self.start as f64 / rate, own_a, own_b)
    }
}

/// Every chunk's speaker windows in absolute time, each kept by the chunk
/// that owns its centre, in time order.
fn place_windows(outputs: &Output) -> Vec<Window> {
    let mut all: Vec<Window> = Vec::new();
    for c in outputs {
        let (offset, own_a, own_b) = c.span.owned();
        for w in &c.windows {
            let mid = offset + w.centre();
            if mid >= own_a && mid < own_b {
                all.push(Window {
                    start: offset + w.start,
                    end: offset + w.end,
                    embedding: w.embedding.clone(),
                });
            }
        }
    }
    all.sort_by(|a, b| a.centre().total_cmp(&b.centre()));
    all
}

/// Turns per-chunk tokens into absolute, time-ordered items, keeping only the
/// words each chunk owns (so overlapping cuts neither lose nor double words).
fn assemble(outputs: &Output, plan: &Plan) -> Vec<Item> {
    let mut items = Vec::new();
    for c in outputs {
        let (span, words) = (&c.span, &c.rec.words);
        let (offset, own_a, own_b) = span.owned();
        let channel = channel_label(plan, span.stream);
        // A punctuation mark goes with the word it attaches to, so it is kept
        // exactly when that word is.
        let mut keep_prev = false;
        let mut keep_next: Option<bool> = None;
        let mut key = offset;
        for (i, w) in words.iter().enumerate() {
            let (start, end) = (offset + w.start, offset + w.end);
            let owns = |w: &Word| {
                let mid = offset + 0.5 * (w.start + w.end);
                mid >= own_a && mid < own_b
            };
            let (kind, attaches_to, is_eos, keep) = match w.kind {
                WordKind::Word => {
                    keep_prev = keep_next.take().unwrap_or_else(|| owns(w));
                    (ItemKind::Word, Attach::None, false, keep_prev)
                }
                WordKind::Punctuation { attaches, eos } => {
                    let attaches_to = match attaches {
                        model::Attach::Previous => Attach::Previous,
                        model::Attach::Next => Attach::Next,
                        model::Attach::Both => Attach::Both,
                        model::Attach::None => Attach::None,
                    };
                    let keep = match attaches {
                        model::Attach::Next => {
                            let next = words[i + 1..]
                                .iter()
                                .find(|n| n.kind == WordKind::Word)
                                .map_or_else(|| owns(w), owns);
                            keep_next = Some(next);
                            next
                        }
                        _ if i == 0 => owns(w),
                        _ => keep_prev,
                    };
                    (ItemKind::Punctuation, attaches_to, eos, keep)
                }
            };
            if !keep {
                continue;
            }
            // Sort key: a word's start; a mark keeps its neighbour's place.
            if kind == ItemKind::Word || attaches_to == Attach::Next {
                key = key.max(start);
            }
            items.push((
                span.stream,
                key,
                Item {
                    kind,
                    content: w.text.clone(),
                    start,
                    end,
                    confidence: f64::from(w.confidence),
                    channel: channel.clone(),
                    speaker: "UU".to_string(),
                    is_eos,
                    attaches_to,
                    language: c.rec.language.clone(),
                },
            ));
        }
    }
    // Merge streams by time; ties keep channel order. The sort is stable, so
    // each stream's own order is preserved.
    items.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    items.into_iter().map(|(_, _, i)| i).collect()
}
