//! CTC greedy decoding: per-frame log-probabilities → timed tokens.
//!
//! Shared by every CTC model family. A token is emitted where the best path
//! leaves blank or changes symbol; its time span covers the frames where it
//! is the best symbol, and its confidence is the highest posterior it reaches.
//!
//! Imports only `model::{TimedToken, tokens}`.

use super::tokens::Tokens;
use super::TimedToken;

/// Greedy (best-path) CTC decoding.
///
/// `logprobs` is frame-major `[frames][vocab]`; `frame_secs` is the duration of
/// one output frame (10 ms × subsampling factor). Special tokens are dropped.
pub fn greedy(
    logprobs: &[f32],
    vocab: usize,
    blank: usize,
    frame_secs: f64,
    tokens: &Tokens,
) -> Vec<TimedToken> {
    let mut out: Vec<TimedToken> = Vec::new();
    let mut prev = blank;
    let mut current: Option<(usize, usize, usize, f32)> = None; // (id, first, last, best prob)
    let flush = |cur: Option<(usize, usize, usize, f32)>, out: &mut Vec<TimedToken>| {
        if let Some((id, first, last, p)) = cur {
            if let Some(piece) = tokens.piece(id).filter(|p| !Tokens::is_special(p)) {
                out.push(TimedToken {
                    piece: piece.to_string(),
                    start: first as f64 * frame_secs,
                    end: (last + 1) as f64 * frame_secs,
                    confidence: p,
                });
            }
        }
    };
    if vocab == 0 {
        return out;
    }
    for (t, row) in logprobs.chunks_exact(vocab).enumerate() {
        let (best, lp) = row
            .iter()
            .enumerate()
            .fold((blank, f32::NEG_INFINITY), |acc, (i, &v)| {
                if v > acc.1 {
                    (i, v)
                } else {
                    acc
                }
            });
        if best == blank {
            flush(current.take(), &mut out);
        } else if best == prev {
            if let Some(c) = current.as_mut() {
                c.2 = t;
                c.3 = c.3.max(lp.exp());
            }
        } else {
            flush(current.take(), &mut out);
            current = Some((best, t, t, lp.exp()));
        }
        prev = best;
    }
    flush(current.take(), &mut out);
    out
}

/// Moves token boundaries onto the speech around CTC's short spikes.
///
/// CTC marks a token with a spike of one or two frames, usually near its
/// onset, so spike times make words look 40 ms long. `energy` is the frame
/// energy in dB every `frame_secs` (10 ms); a frame is speech when it is
/// [`SPEECH_DB`] above the chunk's quietest decile. A spike inside speech
/// grows back and forward over that speech; a spike in a pause moves to the
/// nearest speech. Spans never reach into a neighbour's and move at most
/// [`MAX_EXTEND_SECS`].
pub fn widen_to_speech(tokens: &mut [TimedToken], energy: &[f32], frame_secs: f64) {
    if tokens.is_empty() || energy.is_empty() {
        return;
    }
    let mut sorted = energy.to_vec();
    sorted.sort_by(f32::total_cmp);
    let floor = sorted[sorted.len() / 10];
    let speech = |i: usize| energy.get(i).is_some_and(|&e| e > floor + SPEECH_DB);
    let to_frame = |t: f64| ((t / frame_secs).round() as usize).min(energy.len());
    let max_extend = (MAX_EXTEND_SECS / frame_secs) as usize;
    for i in 0..tokens.len() {
        let lo = if i == 0 {
            0
        } else {
            to_frame(tokens[i - 1].end)
        };
        let hi = tokens
            .get(i + 1)
            .map_or(energy.len(), |t| to_frame(t.start));
        let (mut a, mut b) = (
            to_frame(tokens[i].start).max(lo),
            to_frame(tokens[i].end).min(hi),
        );
        if b <= a {
            continue;
        }
        if speech(a) {
            let limit = a.saturating_sub(max_extend).max(lo);
            while a > limit && speech(a - 1) {
                a -= 1;
            }
        } else {
            // The spike sits in a pause (CTC often fires just before or after
            // a word): move to the nearest speech, forward on a tie.
            let fwd = (a..hi.min(a + max_extend)).find(|&f| speech(f));
            let back = (lo.max(a.saturating_sub(max_extend))..a).rev().find(|&f| speech(f));
            match (fwd, back) {
                (Some(f), Some(k)) if a - k < f - a => {
                    b = k + 1;
                    a = k;
                    while a > lo && a + max_extend > b && speech(a - 1) {
                        a -= 1;
                    }
                }
                (Some(f), _) => {
                    a = f;
                    b = b.max(f + 1);
                }
                (None, Some(k)) => {
                    b = k + 1;
                    a = k;
                    while a > lo && a + max_extend > b && speech(a - 1) {
                        a -= 1;
                    }
                }
                (None, None) => continue,
            }
        }
        let limit = (b + max_extend).min(hi);
        while b < limit && speech(b) {
            b += 1;
        }
        tokens[i].start = a as f64 * frame_secs;
        tokens[i].end = b as f64 * frame_secs;
    }
}

/// A frame this far above the quietest decile counts as speech (dB).
pub const SPEECH_DB: f32 = 15.0;
/// A token boundary moves at most this far.
pub const MAX_EXTEND_SECS: f64 = 0.6;

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(ids: &[usize], vocab: usize) -> Vec<f32> {
        let mut v = vec![-10.0f32; ids.len() * vocab];
        for (t, &id) in ids.iter().enumerate() {
            v[t * vocab + id] = -0.01;
        }
        v
    }

    #[test]
    fn spans_widen_over_speech_but_not_into_neighbours() {
        let tok = |s: f64, e: f64| TimedToken {
            piece: "▁x".into(),
            start: s,
            end: e,
            confidence: 1.0,
        };
        // Silence 0-0.2 s, speech 0.2-0.6 s, silence, speech 0.8-1.0 s, silence.
        let energy: Vec<f32> = (0..120)
            .map(|i| {
                if (20..60).contains(&i) || (80..100).contains(&i) {
                    -20.0
                } else {
                    -70.0
                }
            })
            .collect();
        let mut t = vec![tok(0.16, 0.20), tok(0.84, 0.88)];
        widen_to_speech(&mut t, &energy, 0.01);
        assert!(
            (t[0].start - 0.20).abs() < 1e-9 && (t[0].end - 0.60).abs() < 1e-9,
            "{:?}",
            t[0]
        );
        assert!(
            (t[1].start - 0.80).abs() < 1e-9 && (t[1].end - 1.00).abs() < 1e-9,
            "{:?}",
            t[1]
        );
        // Continuous speech: the first token stops where the second begins.
        let energy = vec![-20.0f32; 100];
        let mut t = vec![tok(0.10, 0.14), tok(0.50, 0.54)];
        widen_to_speech(&mut t, &energy, 0.01);
        assert!((t[0].end - 0.50).abs() < 1e-9, "{:?}", t[0]);
    }

    #[test]
    fn collapses_repeats_and_drops_blanks() {
        let tokens = Tokens::parse("▁one 0\n▁two 1\n<unk> 2\n<blk> 3\n", "t").unwrap();
        let lp = frames(&[3, 0, 0, 3, 0, 1, 1, 3, 2, 3], 4);
        let got = greedy(&lp, 4, 3, 0.04, &tokens);
        let pieces: Vec<&str> = got.iter().map(|t| t.piece.as_str()).collect();
        assert_eq!(pieces, ["▁one", "▁one", "▁two"]);
        assert!((got[0].start - 0.04).abs() < 1e-9);
        assert!((got[0].end - 0.12).abs() < 1e-9);
        assert!((got[2].start - 0.20).abs() < 1e-9);
        assert!((got[2].end - 0.28).abs() < 1e-9);
        assert!(got.iter().all(|t| t.confidence > 0.98));
    }
}
