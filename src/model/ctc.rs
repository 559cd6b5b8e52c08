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
