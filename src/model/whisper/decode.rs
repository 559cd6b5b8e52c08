//! Whisper's decoding loop for one 30 s window, as openai-whisper's
//! `decoding.py` and faster-whisper's `generate_with_fallback` do it.
//!
//! The loop asks an [`Inference`] for the logits after the tokens so far
//! (the KV caches live inside it), runs the logit filters — each one small
//! function: [`suppress_blank`], [`suppress_tokens`], [`timestamp_rules`] —
//! then picks the next token greedily (temperature 0) or by seeded sampling
//! (the fallback temperatures). [`decode_with_fallback`] wraps it in the
//! quality checks Whisper users rely on: compression ratio (repetition),
//! average log-probability, the no-speech probability (skip the window),
//! a repetition-loop cut-off and a token cap.
//!
//! Imports: `model::ModelError`, `model::whisper::tokenizer`.

use std::io::Write;

use super::super::ModelError;
use super::tokenizer::{Specials, Vocab};

/// One decoder call's results at the last token fed to it.
#[derive(Debug, Default)]
pub struct Step {
    /// Logits for the next token, `[vocab]`.
    pub logits: Vec<f32>,
    /// Cross-attention of the alignment heads at that position,
    /// `[heads, frames]`, when the model provides it.
    pub attention: Option<Vec<f32>>,
}

/// The decoder over one encoded window.
pub trait Inference {
    /// Starts a new sequence (clears the self-attention caches).
    fn reset(&mut self) -> Result<(), ModelError>;
    /// Feeds `tokens` after those fed since the last reset (batch of one).
    fn step(&mut self, tokens: &[u32]) -> Result<Step, ModelError>;
    /// Feeds one token to each sequence of the batch (beam search).
    fn step_batch(&mut self, tokens: &[u32]) -> Result<Vec<Step>, ModelError>;
    /// Makes the batch `src.len()` sequences, the i-th continuing the
    /// `src[i]`-th (beam search; `[0; k]` widens one sequence to k).
    fn reorder(&mut self, src: &[usize]) -> Result<(), ModelError>;
    /// Vocabulary size of the logits.
    fn vocab(&self) -> usize;
    /// Most tokens a sequence can hold (`n_text_ctx`).
    fn max_tokens(&self) -> usize;
}

/// Decoding settings (openai-whisper's defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Temperatures tried in order until a result passes the checks.
    pub temperatures: Vec<f32>,
    /// Above this gzip compression ratio the text is too repetitive.
    pub compression_ratio_threshold: f64,
    /// Below this average log-probability the result is too unsure.
    pub logprob_threshold: f64,
    /// Above this no-speech probability (and unsure) the window is silence.
    pub no_speech_threshold: f64,
    /// The first timestamp may not be later than this (seconds).
    pub max_initial_timestamp: f64,
    /// Most tokens sampled per window.
    pub sample_len: usize,
    /// Decode with timestamp tokens (segment times).
    pub timestamps: bool,
    /// Beams at temperature 0 (1: greedy). Fallback temperatures sample.
    pub beam_size: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            compression_ratio_threshold: 2.4,
            logprob_threshold: -1.0,
            no_speech_threshold: 0.6,
            max_initial_timestamp: 1.0,
            sample_len: 224,
            timestamps: true,
            beam_size: 1,
        }
    }
}

/// The result of decoding one window.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    /// Sampled tokens (text and timestamps), without the final `<|endoftext|>`.
    pub tokens: Vec<u32>,
    /// Probability of each sampled token at temperature 1.
    pub probs: Vec<f32>,
    /// Alignment-head attention that predicted each sampled token and then
    /// the end (`tokens.len() + 1` rows of `[heads, frames]`), if provided.
    pub attention: Option<Vec<Vec<f32>>>,
    /// Mean log-probability per token (the end token counted).
    pub avg_logprob: f64,
    /// Probability of `<|nospeech|>` at the start of the transcript.
    pub no_speech_prob: f64,
    /// gzip compression ratio of the text.
    pub compression_ratio: f64,
    /// The temperature that produced it.
    pub temperature: f32,
    /// The loop guard cut a repetition off.
    pub looped: bool,
}

/// Sets `logits[range]` to minus infinity.
fn mask(logits: &mut [f32], from: usize, to: usize) {
    let to = to.min(logits.len());
    if from < to {
        logits[from..to].fill(f32::NEG_INFINITY);
    }
}

/// At the first sampled position, forbid a blank and the end token.
pub fn suppress_blank(logits: &mut [f32], sampled: &[u32], sp: &Specials) {
    if sampled.is_empty() {
        for t in [sp.blank, sp.eot] {
            if let Some(l) = logits.get_mut(t as usize) {
                *l = f32::NEG_INFINITY;
            }
        }
    }
}

/// Forbids `suppress` (non-speech symbols) and every special token other
/// than the end and the timestamps (task, language, start tokens).
pub fn suppress_tokens(logits: &mut [f32], suppress: &[u32], sp: &Specials) {
    for &t in suppress {
        if let Some(l) = logits.get_mut(t as usize) {
            *l = f32::NEG_INFINITY;
        }
    }
    mask(logits, sp.eot as usize + 1, sp.timestamp_begin as usize);
}

/// openai-whisper's `ApplyTimestampRules`: timestamps come in pairs and do
/// not decrease, the first token is a timestamp no later than
/// `max_initial` steps, and a timestamp is forced when timestamps together
/// are likelier than any text token.
pub fn timestamp_rules(logits: &mut [f32], sampled: &[u32], sp: &Specials, max_initial: u32) {
    let tb = sp.timestamp_begin as usize;
    let eot = sp.eot as usize;
    mask(
        logits,
        sp.no_timestamps as usize,
        sp.no_timestamps as usize + 1,
    );
    let n = sampled.len();
    let last_ts = n >= 1 && sp.is_timestamp(sampled[n - 1]);
    let penultimate_ts = n < 2 || sp.is_timestamp(sampled[n - 2]);
    if last_ts {
        if penultimate_ts {
            mask(logits, tb, logits.len());
        } else {
            mask(logits, 0, eot);
        }
    }
    if let Some(&last) = sampled.iter().rev().find(|&&t| sp.is_timestamp(t)) {
        let floor = if last_ts && !penultimate_ts {
            last
        } else {
            last + 1
        };
        mask(logits, tb, floor as usize);
    }
    if sampled.is_empty() {
        mask(logits, 0, tb);
        mask(logits, tb + max_initial as usize + 1, logits.len());
    }
    // If all timestamps together are likelier than the best text token, sample a timestamp.
    let lse = log_sum_exp(logits);
    let ts = log_sum_exp(&logits[tb.min(logits.len())..]);
    let best_text = logits[..tb.min(logits.len())]
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    if ts - lse > best_text - lse {
        mask(logits, 0, tb);
    }
}

fn log_sum_exp(x: &[f32]) -> f32 {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return f32::NEG_INFINITY;
    }
    max + x.iter().map(|v| (v - max).exp()).sum::<f32>().ln()
}

/// gzip compression ratio of `text`'s bytes (zlib, as Whisper computes it).
pub fn compression_ratio(text: &str) -> f64 {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = z
        .write_all(bytes)
        .and_then(|()| z.finish())
        .map_or(bytes.len(), |c| c.len());
    bytes.len() as f64 / compressed.max(1) as f64
}

/// If the sequence ends in the same n-gram (n ≤ 16) repeated `REPEATS`
/// times or more, the length to cut it to (one copy kept).
pub fn repetition_cut(tokens: &[u32]) -> Option<usize> {
    const REPEATS: usize = 5;
    for n in 1..=16usize {
        if tokens.len() < n * REPEATS {
            break;
        }
        let tail = &tokens[tokens.len() - n..];
        let copies = tokens.rchunks_exact(n).take_while(|c| *c == tail).count();
        if copies >= REPEATS {
            return Some(tokens.len() - (copies - 1) * n);
        }
    }
    None
}

/// A small seeded generator (splitmix64): sampling is reproducible, so the
/// transcript does not depend on the run.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A uniform number in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Log-softmax of `logits` (masked entries stay minus infinity).
fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let lse = log_sum_exp(logits);
    logits.iter().map(|l| l - lse).collect()
}

/// The indices of the `k` largest finite values, largest first (ties: the
/// lower index first), without sorting the whole vocabulary.
fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len())
        .filter(|&i| values[i].is_finite())
        .collect();
    let order = |a: &usize, b: &usize| values[*b].total_cmp(&values[*a]).then(a.cmp(b));
    if idx.len() > k && k > 0 {
        idx.select_nth_unstable_by(k - 1, order);
        idx.truncate(k);
    }
    idx.sort_by(order);
    idx.truncate(k);
    idx
}

fn pick(logprobs: &[f32], logits: &[f32], temperature: f32, rng: &mut Rng) -> usize {
    let argmax = || {
        logprobs
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, &l)| {
                if l > best.1 {
                    (i, l)
                } else {
                    best
                }
            })
            .0
    };
    if temperature <= 0.0 {
        return argmax();
    }
    let scaled: Vec<f32> = logits.iter().map(|l| l / temperature).collect();
    let lse = log_sum_exp(&scaled);
    let mut u = rng.uniform();
    for (i, l) in scaled.iter().enumerate() {
        let p = f64::from((l - lse).exp());
        if u < p {
            return i;
        }
        u -= p;
    }
    argmax()
}

/// The decoding of one window with fixed settings.
pub struct Task<'a> {
    /// Special tokens.
    pub specials: &'a Specials,
    /// The regular tokens (for the compression check).
    pub vocab: &'a Vocab,
    /// Tokens to suppress (non-speech symbols).
    pub suppress: &'a [u32],
    /// Settings.
    pub options: &'a Options,
}

impl Task<'_> {
    /// Applies the logit filters for the next token after `sampled`.
    fn filter(&self, logits: &mut [f32], sampled: &[u32], max_initial: u32) {
        let sp = self.specials;
        suppress_blank(logits, sampled, sp);
        suppress_tokens(logits, self.suppress, sp);
        if self.options.timestamps {
            timestamp_rules(logits, sampled, sp, max_initial);
        } else {
            let n = logits.len();
            mask(logits, sp.no_timestamps as usize, n);
        }
    }

    /// Feeds the prompt: the no-speech probability, and the logits and
    /// attention row for the first sampled token.
    fn start(
        &self,
        inf: &mut dyn Inference,
        prompt: &[u32],
        sot_index: usize,
    ) -> Result<(f64, Step), ModelError> {
        let sp = self.specials;
        let vocab = inf.vocab();
        inf.reset()?;
        let (head, tail) = prompt.split_at((sot_index + 1).min(prompt.len()));
        let first = inf.step(head)?;
        if first.logits.len() != vocab || vocab <= sp.timestamp_begin as usize {
            return Err(ModelError::Inference(format!(
                "decoder gave {} logits for a {vocab}-token vocabulary",
                first.logits.len()
            )));
        }
        let lp = log_softmax(&first.logits);
        let no_speech = f64::from(lp.get(sp.no_speech as usize).map_or(0.0, |l| l.exp()));
        let first = if tail.is_empty() {
            first
        } else {
            inf.step(tail)?
        };
        Ok((no_speech, first))
    }

    /// Beam search at temperature 0 (openai-whisper's `BeamSearchDecoder`,
    /// patience 1, ranked by mean log-probability).
    pub fn decode_beam(
        &self,
        inf: &mut dyn Inference,
        prompt: &[u32],
        sot_index: usize,
        beam: usize,
    ) -> Result<Decoded, ModelError> {
        let sp = self.specials;
        let vocab = inf.vocab();
        let (no_speech_prob, first) = self.start(inf, prompt, sot_index)?;
        let max_initial = (self.options.max_initial_timestamp / 0.02).round() as u32;
        let cap = self
            .options
            .sample_len
            .min(inf.max_tokens().saturating_sub(prompt.len() + 1));
        /// A hypothesis; attention rows live in a shared arena as a tree.
        #[derive(Clone)]
        struct Hyp {
            tokens: Vec<u32>,
            probs: Vec<f32>,
            logprob: f64,
            row: Option<usize>,
        }
        let mut arena: Vec<(Vec<f32>, Option<usize>)> = Vec::new();
        let mut with_attention = first.attention.is_some();
        let root = first.attention.map(|a| {
            arena.push((a, None));
            0
        });
        let mut live = vec![Hyp {
            tokens: Vec::new(),
            probs: Vec::new(),
            logprob: 0.0,
            row: root,
        }];
        let mut logits = vec![first.logits];
        let mut finished: Vec<Hyp> = Vec::new();
        loop {
            let mut cands: Vec<(f64, usize, usize, f32)> = Vec::new();
            for (h, hyp) in live.iter().enumerate() {
                let mut l = std::mem::take(&mut logits[h]);
                self.filter(&mut l, &hyp.tokens, max_initial);
                let lse = log_sum_exp(&l);
                for t in top_k(&l, beam + 1) {
                    let lp = l[t] - lse;
                    cands.push((hyp.logprob + f64::from(lp), h, t, lp));
                }
            }
            cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let mut next: Vec<Hyp> = Vec::new();
            let mut src: Vec<usize> = Vec::new();
            for (score, h, t, lp) in cands {
                let mut hyp = live[h].clone();
                hyp.logprob = score;
                if t == sp.eot as usize {
                    if finished.len() < beam {
                        finished.push(hyp);
                    }
                } else {
                    hyp.tokens.push(t as u32);
                    hyp.probs.push(lp.exp());
                    next.push(hyp);
                    src.push(h);
                }
                if next.len() == beam {
                    break;
                }
            }
            let at_cap = next.first().is_some_and(|h| h.tokens.len() >= cap);
            if finished.len() >= beam || next.is_empty() || at_cap {
                if finished.is_empty() {
                    finished = next;
                }
                break;
            }
            inf.reorder(&src)?;
            let fed: Vec<u32> = next.iter().map(|h| h.tokens[h.tokens.len() - 1]).collect();
            let steps = inf.step_batch(&fed)?;
            if steps.len() != next.len() {
                return Err(ModelError::Inference("decoder batch size changed".into()));
            }
            logits = Vec::with_capacity(steps.len());
            for (hyp, step) in next.iter_mut().zip(steps) {
                if step.logits.len() != vocab {
                    return Err(ModelError::Inference("decoder gave a short row".into()));
                }
                match (step.attention, with_attention) {
                    (Some(a), true) => {
                        arena.push((a, hyp.row));
                        hyp.row = Some(arena.len() - 1);
                    }
                    _ => with_attention = false,
                }
                logits.push(step.logits);
            }
            live = next;
        }
        let best = finished
            .into_iter()
            .max_by(|a, b| {
                let sa = a.logprob / (a.tokens.len() + 1) as f64;
                let sb = b.logprob / (b.tokens.len() + 1) as f64;
                sa.total_cmp(&sb)
            })
            .ok_or_else(|| ModelError::Inference("beam search found nothing".into()))?;
        let attention = with_attention.then(|| {
            let mut rows = Vec::new();
            let mut at = best.row;
            while let Some(i) = at {
                rows.push(arena[i].0.clone());
                at = arena[i].1;
            }
            rows.reverse();
            rows
        });
        // A finished hypothesis' last row predicted its end; an unfinished
        // one (at the cap) lacks that row: no alignment then.
        let attention = attention.filter(|r| r.len() == best.tokens.len() + 1);
        let text_ids: Vec<u32> = best
            .tokens
            .iter()
            .copied()
            .filter(|&t| sp.is_text(t))
            .collect();
        let text = self.vocab.text(&text_ids);
        Ok(Decoded {
            avg_logprob: best.logprob / (best.tokens.len() + 1) as f64,
            no_speech_prob,
            compression_ratio: compression_ratio(&text),
            temperature: 0.0,
            looped: repetition_cut(&best.tokens).is_some(),
            tokens: best.tokens,
            probs: best.probs,
            attention,
        })
    }

    /// Decodes once at `temperature` after `prompt` (the start-of-transcript
    /// sequence; `sot_index` is where `<|startoftranscript|>` sits in it).
    pub fn decode(
        &self,
        inf: &mut dyn Inference,
        prompt: &[u32],
        sot_index: usize,
        temperature: f32,
        rng: &mut Rng,
    ) -> Result<Decoded, ModelError> {
        let sp = self.specials;
        let vocab = inf.vocab();
        let (no_speech_prob, first) = self.start(inf, prompt, sot_index)?;
        let mut logits = first.logits;
        let mut attention: Option<Vec<Vec<f32>>> = first.attention.map(|row| vec![row]);
        let max_initial = (self.options.max_initial_timestamp / 0.02).round() as u32;
        let cap = self
            .options
            .sample_len
            .min(inf.max_tokens().saturating_sub(prompt.len() + 1));
        let mut tokens: Vec<u32> = Vec::new();
        let mut probs: Vec<f32> = Vec::new();
        let mut sum_logprob = 0.0f64;
        let mut looped = false;
        loop {
            self.filter(&mut logits, &tokens, max_initial);
            let lp = log_softmax(&logits);
            let next = pick(&lp, &logits, temperature, rng);
            sum_logprob += f64::from(lp[next]);
            if next == sp.eot as usize {
                break;
            }
            tokens.push(next as u32);
            probs.push(lp[next].exp());
            if let Some(cut) = repetition_cut(&tokens) {
                tokens.truncate(cut);
                probs.truncate(cut);
                if let Some(att) = attention.as_mut() {
                    att.truncate(cut);
                }
                looped = true;
                break;
            }
            if tokens.len() >= cap {
                break;
            }
            let step = inf.step(&[next as u32])?;
            if step.logits.len() != vocab {
                return Err(ModelError::Inference(format!(
                    "decoder gave {} logits for one token",
                    step.logits.len()
                )));
            }
            match (attention.as_mut(), step.attention) {
                (Some(att), Some(row)) => att.push(row),
                _ => attention = None,
            }
            logits = step.logits;
        }
        // The row that predicted the end must be there for the alignment.
        if let Some(att) = attention.as_mut() {
            att.truncate(tokens.len() + 1);
            if att.len() != tokens.len() + 1 {
                attention = None;
            }
        }
        let text_ids: Vec<u32> = tokens.iter().copied().filter(|&t| sp.is_text(t)).collect();
        let text = self.vocab.text(&text_ids);
        Ok(Decoded {
            avg_logprob: sum_logprob / (tokens.len() + 1) as f64,
            no_speech_prob,
            compression_ratio: compression_ratio(&text),
            temperature,
            looped,
            tokens,
            probs,
            attention,
        })
    }

    /// Decodes with the temperature ladder until a result passes the
    /// checks; `None` when the window is silence (high no-speech
    /// probability and an unsure result), as faster-whisper skips it.
    pub fn decode_with_fallback(
        &self,
        inf: &mut dyn Inference,
        prompt: &[u32],
        sot_index: usize,
        seed: u64,
    ) -> Result<Option<Decoded>, ModelError> {
        let o = self.options;
        let mut rng = Rng::new(seed);
        let mut best: Option<Decoded> = None;
        let temperatures = if o.temperatures.is_empty() {
            &[0.0][..]
        } else {
            &o.temperatures[..]
        };
        for &t in temperatures {
            let d = if t <= 0.0 && o.beam_size > 1 {
                self.decode_beam(inf, prompt, sot_index, o.beam_size)?
            } else {
                self.decode(inf, prompt, sot_index, t, &mut rng)?
            };
            let too_repetitive = d.looped || d.compression_ratio > o.compression_ratio_threshold;
            let unsure = d.avg_logprob < o.logprob_threshold;
            let silence = d.no_speech_prob > o.no_speech_threshold && unsure;
            let passed = silence || !(too_repetitive || unsure);
            tracing::trace!(
                temperature = t,
                avg_logprob = d.avg_logprob,
                no_speech = d.no_speech_prob,
                ratio = d.compression_ratio,
                looped = d.looped,
                "window decoded"
            );
            let better = best.as_ref().is_none_or(|b| d.avg_logprob > b.avg_logprob);
            if passed {
                best = Some(d);
                break;
            }
            if better {
                best = Some(d);
            }
        }
        Ok(best.filter(|d| {
            let skip =
                d.no_speech_prob > o.no_speech_threshold && d.avg_logprob < o.logprob_threshold;
            if skip {
                tracing::debug!(no_speech = d.no_speech_prob, "window skipped: no speech");
            }
            !skip
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn top_k_takes_the_largest_finite_values_in_order() {
        let v = [0.5, f32::NEG_INFINITY, 2.0, 0.5, 3.0, -1.0];
        assert_eq!(top_k(&v, 3), [4, 2, 0]);
        assert_eq!(top_k(&v, 4), [4, 2, 0, 3]);
        assert_eq!(top_k(&v, 9), [4, 2, 0, 3, 5]);
        assert!(top_k(&v, 0).is_empty());
    }

    fn specials() -> Specials {
        // A toy vocabulary: 0..10 text, 10 eot, 11 sot, 12 translate,
        // 13 transcribe, 14 sot_lm, 15 sot_prev, 16 no_speech, 17 no_ts,
        // 18.. timestamps (0.00, 0.02, ...).
        Specials {
            eot: 10,
            sot: 11,
            translate: 12,
            transcribe: 13,
            sot_lm: 14,
            sot_prev: 15,
            no_speech: 16,
            no_timestamps: 17,
            timestamp_begin: 18,
            blank: 0,
            languages: vec![],
        }
    }

    const V: usize = 30;

    #[test]
    fn first_token_is_an_early_timestamp() {
        let sp = specials();
        let mut l = vec![0.0f32; V];
        timestamp_rules(&mut l, &[], &sp, 2);
        let allowed: Vec<usize> = (0..V).filter(|&i| l[i].is_finite()).collect();
        assert_eq!(allowed, [18, 19, 20]);
    }

    #[test]
    fn timestamps_pair_up_and_never_decrease() {
        let sp = specials();
        // After text then one timestamp: only timestamps >= it, or the end.
        let mut l = vec![0.0f32; V];
        l[10] = 5.0;
        timestamp_rules(&mut l, &[18, 3, 22], &sp, 50);
        let allowed: Vec<usize> = (0..V).filter(|&i| l[i].is_finite()).collect();
        // (Specials other than the end are suppress_tokens' job, not this rule's.)
        assert_eq!(
            allowed,
            [10, 11, 12, 13, 14, 15, 16, 22, 23, 24, 25, 26, 27, 28, 29]
        );
        // After a pair: text only (timestamps masked), and later than the pair.
        let mut l = vec![0.0f32; V];
        l[5] = 10.0;
        timestamp_rules(&mut l, &[18, 3, 22, 22], &sp, 50);
        assert!(l[18..].iter().all(|x| x.is_infinite()));
        assert!(l[5].is_finite() && l[17].is_infinite());
    }

    #[test]
    fn likely_timestamps_force_a_timestamp() {
        let sp = specials();
        let mut l = vec![0.0f32; V];
        l[3] = 1.0;
        for x in &mut l[18..] {
            *x = 0.5;
        }
        timestamp_rules(&mut l, &[18, 3], &sp, 50);
        assert!(l[..18].iter().all(|x| x.is_infinite()));
    }

    #[test]
    fn blank_and_specials_are_suppressed() {
        let sp = specials();
        let mut l = vec![0.0f32; V];
        suppress_blank(&mut l, &[], &sp);
        suppress_tokens(&mut l, &[7], &sp);
        let allowed: Vec<usize> = (0..V).filter(|&i| l[i].is_finite()).collect();
        assert_eq!(
            allowed,
            [1, 2, 3, 4, 5, 6, 8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]
        );
    }

    #[test]
    fn compression_ratio_flags_repetition() {
        assert!(compression_ratio("the same words again ".repeat(20).as_str()) > 2.4);
        assert!(
            compression_ratio(
                "And so my fellow Americans, ask not what your country can do for you."
            ) < 2.4
        );
        assert_eq!(compression_ratio(""), 0.0);
    }

    #[test]
    fn repetition_is_cut_to_one_copy() {
        assert_eq!(repetition_cut(&[1, 2, 3, 4]), None);
        assert_eq!(repetition_cut(&[9, 5, 5, 5, 5, 5]), Some(2));
        let mut t = vec![1, 2];
        for _ in 0..6 {
            t.extend([7, 8, 9]);
        }
        assert_eq!(repetition_cut(&t), Some(5));
    }

    /// A fake decoder that plays back a script of greedy choices.
    struct Script {
        choices: Vec<usize>,
        at: usize,
        no_speech_logit: f32,
    }

    impl Inference for Script {
        fn reset(&mut self) -> Result<(), ModelError> {
            self.at = 0;
            Ok(())
        }
        fn step(&mut self, tokens: &[u32]) -> Result<Step, ModelError> {
            let mut logits = vec![0.0f32; V];
            logits[16] = self.no_speech_logit;
            let c = self.choices.get(self.at).copied().unwrap_or(10);
            logits[c] = 20.0;
            self.at += 1;
            assert!(!tokens.is_empty());
            Ok(Step {
                logits,
                attention: Some(vec![0.5; 2 * 4]),
            })
        }
        fn step_batch(&mut self, tokens: &[u32]) -> Result<Vec<Step>, ModelError> {
            let c = self.choices.get(self.at).copied().unwrap_or(10);
            self.at += 1;
            Ok(tokens
                .iter()
                .map(|_| {
                    let mut logits = vec![0.0f32; V];
                    logits[c] = 20.0;
                    Step {
                        logits,
                        attention: Some(vec![0.5; 2 * 4]),
                    }
                })
                .collect())
        }
        fn reorder(&mut self, _src: &[usize]) -> Result<(), ModelError> {
            Ok(())
        }
        fn vocab(&self) -> usize {
            V
        }
        fn max_tokens(&self) -> usize {
            448
        }
    }

    #[test]
    fn beam_search_finds_the_scripted_sequence() {
        let sp = specials();
        let vocab = Vocab::parse("IA== 0\nIGE= 1\nIGI= 2\nIGM= 3\nIGQ= 4\n", "t").unwrap();
        let opts = Options {
            beam_size: 3,
            ..Options::default()
        };
        let task = Task {
            specials: &sp,
            vocab: &vocab,
            suppress: &[],
            options: &opts,
        };
        let mut inf = Script {
            choices: vec![18, 3, 4, 22, 22, 10],
            at: 0,
            no_speech_logit: -5.0,
        };
        let d = task.decode_beam(&mut inf, &[11], 0, 3).unwrap();
        assert_eq!(d.tokens, [18, 3, 4, 22, 22]);
        assert_eq!(d.attention.as_ref().map(Vec::len), Some(6));
    }

    #[test]
    fn greedy_decodes_the_script_with_attention_rows() {
        let sp = specials();
        let vocab = Vocab::parse(
            &(0..10)
                .map(|i| {
                    format!(
                        "{} {i}\n",
                        base64::Engine::encode(
                            &base64::engine::general_purpose::STANDARD,
                            format!(" w{i}")
                        )
                    )
                })
                .collect::<String>(),
            "t",
        )
        .unwrap();
        let opts = Options::default();
        let task = Task {
            specials: &sp,
            vocab: &vocab,
            suppress: &[],
            options: &opts,
        };
        let mut inf = Script {
            choices: vec![18, 3, 4, 40 - 18, 22, 10],
            at: 0,
            no_speech_logit: -5.0,
        };
        let d = task
            .decode_with_fallback(&mut inf, &[11], 0, 1)
            .unwrap()
            .unwrap();
        assert_eq!(d.tokens, [18, 3, 4, 22, 22]);
        assert_eq!(d.attention.as_ref().map(Vec::len), Some(6));
        assert!(d.no_speech_prob < 0.01);
        assert!(d.avg_logprob > -0.1);
    }

    #[test]
    fn silence_is_skipped() {
        let sp = specials();
        let vocab = Vocab::parse("IA== 0\n", "t").unwrap();
        let opts = Options {
            temperatures: vec![0.0],
            ..Options::default()
        };
        let task = Task {
            specials: &sp,
            vocab: &vocab,
            suppress: &[],
            options: &opts,
        };
        // Every token equally likely: unsure, and no-speech dominates.
        struct Flat;
        impl Inference for Flat {
            fn reset(&mut self) -> Result<(), ModelError> {
                Ok(())
            }
            fn step(&mut self, tokens: &[u32]) -> Result<Step, ModelError> {
                assert!(!tokens.is_empty());
                let mut logits = vec![0.0f32; V];
                logits[16] = 30.0;
                Ok(Step {
                    logits,
                    attention: None,
                })
            }
            fn step_batch(&mut self, _: &[u32]) -> Result<Vec<Step>, ModelError> {
                Err(ModelError::Inference("not batched".into()))
            }
            fn reorder(&mut self, _: &[usize]) -> Result<(), ModelError> {
                Ok(())
            }
            fn vocab(&self) -> usize {
                V
            }
            fn max_tokens(&self) -> usize {
                448
            }
        }
        assert!(task
            .decode_with_fallback(&mut Flat, &[11], 0, 1)
            .unwrap()
            .is_none());
    }

    #[test]
    fn sampling_is_seeded() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<f64> = (0..5).map(|_| a.uniform()).collect();
        let ys: Vec<f64> = (0..5).map(|_| b.uniform()).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    }
}
