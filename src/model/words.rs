//! Words for every family: SentencePiece pieces joined into words, and
//! punctuation split off words into items of its own.
//!
//! A family's recognizer builds words its own way (CTC pieces, Whisper's
//! byte-level BPE) and then calls [`split_punctuation`], so a model that
//! writes punctuation (Whisper, a punctuating CTC model) yields Speechmatics
//! punctuation items and one that does not yields plain words.
//!
//! Imports only `model::{TimedToken, Word, WordKind, Attach, tokens}`.

use super::{tokens, Attach, Sentence, TimedToken, Word, WordKind};

/// Joins SentencePiece tokens into words (a `▁` starts a new word).
pub fn from_pieces(tokens: &[TimedToken]) -> Vec<Word> {
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
                kind: WordKind::Word,
            });
        } else if let Some(w) = out.last_mut() {
            w.text.push_str(trimmed);
            w.end = t.end;
            w.confidence = w.confidence.min(t.confidence);
        }
    }
    out
}

/// Marks written against the previous word.
const CLOSING: &[char] = &[
    '.', ',', '?', '!', ';', ':', '…', '"', '\'', ')', ']', '}', '»', '”', '’', '。', '，', '？',
    '！', '、',
];
/// Marks written against the next word.
const OPENING: &[char] = &['"', '\'', '(', '[', '{', '«', '“', '‘', '¿', '¡'];
/// Marks that end a sentence.
const EOS: &[char] = &['.', '?', '!', '…', '。', '？', '！'];
/// Marks that stand between words (`well — no`).
const DASHES: &[&str] = &["-", "--", "—", "–"];

fn punct(text: &str, at: f64, confidence: f32, attaches: Attach) -> Word {
    Word {
        text: text.to_string(),
        start: at,
        end: at,
        confidence,
        kind: WordKind::Punctuation {
            attaches,
            eos: text.chars().all(|c| EOS.contains(&c)),
        },
    }
}

/// An abbreviation written with interior dots (`U.S.`, `e.g.`): its final
/// dot belongs to it.
fn is_dotted_abbreviation(core: &str) -> bool {
    let parts: Vec<&str> = core.trim_end_matches('.').split('.').collect();
    parts.len() >= 2 && parts.iter().all(|p| (1..=2).contains(&p.chars().count()))
}

/// Splits leading and trailing punctuation off each word into punctuation
/// items (zero-length, at the word's edge), keeping word-internal marks
/// (`don't`, `3.5`, `U.S.`). A word that is all punctuation becomes one
/// punctuation item. Sentence-ending marks get `eos`.
pub fn split_punctuation(words: Vec<Word>) -> Vec<Word> {
    let mut out = Vec::with_capacity(words.len() + words.len() / 4);
    for w in words {
        if w.kind != WordKind::Word {
            out.push(w);
            continue;
        }
        let text = w.text.trim();
        if text.is_empty() {
            continue;
        }
        if !text.chars().any(char::is_alphanumeric) {
            let attaches = if DASHES.contains(&text) {
                Attach::Both
            } else if text
                .chars()
                .all(|c| OPENING.contains(&c) && !CLOSING.contains(&c))
            {
                Attach::Next
            } else {
                Attach::Previous
            };
            let at = if attaches == Attach::Next {
                w.start
            } else {
                w.end
            };
            out.push(punct(text, at, w.confidence, attaches));
            continue;
        }
        let lead_len: usize = text
            .chars()
            .take_while(|c| OPENING.contains(c))
            .map(char::len_utf8)
            .sum();
        let (lead, rest) = text.split_at(lead_len);
        let mut core_len = rest.len();
        for (i, c) in rest.char_indices().rev() {
            if CLOSING.contains(&c) {
                core_len = i;
            } else {
                break;
            }
        }
        let (mut core, mut trail) = rest.split_at(core_len);
        // Keep an abbreviation's final dot: `U.S.` stays one word.
        if trail.starts_with('.') && is_dotted_abbreviation(&rest[..core_len + 1]) {
            (core, trail) = rest.split_at(core_len + 1);
        }
        if !lead.is_empty() {
            out.push(punct(lead, w.start, w.confidence, Attach::Next));
        }
        out.push(Word {
            text: core.to_string(),
            ..w.clone()
        });
        // Each trailing mark is its own item (`?"` → `?`, `"`), as Speechmatics writes them.
        let mut rest = trail;
        while let Some(c) = rest.chars().next() {
            // Runs of the same mark (`...`, `?!`) stay together.
            let n: usize = rest
                .chars()
                .take_while(|d| *d == c || (EOS.contains(&c) && EOS.contains(d)))
                .map(char::len_utf8)
                .sum();
            out.push(punct(&rest[..n], w.end, w.confidence, Attach::Previous));
            rest = &rest[n..];
        }
    }
    out
}

/// Words and punctuation (as [`split_punctuation`] gives them) joined into
/// sentences, each ending at a sentence-ending mark: text spaced as written,
/// times from its first to its last item.
pub fn sentences(words: &[Word]) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut cur: Option<Sentence> = None;
    let mut glue_next = false;
    for w in words {
        let s = cur.get_or_insert_with(|| Sentence {
            start: w.start,
            end: w.end,
            text: String::new(),
        });
        let (space, eos) = match w.kind {
            WordKind::Word => (!glue_next, false),
            WordKind::Punctuation { attaches, eos } => (
                matches!(attaches, Attach::Next | Attach::None) && !glue_next,
                eos,
            ),
        };
        if space && !s.text.is_empty() {
            s.text.push(' ');
        }
        s.text.push_str(&w.text);
        s.end = s.end.max(w.end);
        glue_next = matches!(
            w.kind,
            WordKind::Punctuation {
                attaches: Attach::Next | Attach::Both,
                ..
            }
        );
        if eos {
            out.extend(cur.take());
        }
    }
    out.extend(cur);
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

    fn word(text: &str, start: f64, end: f64) -> Word {
        Word {
            text: text.into(),
            start,
            end,
            confidence: 0.9,
            kind: WordKind::Word,
        }
    }

    fn texts(w: &[Word]) -> Vec<&str> {
        w.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn sentences_end_at_marks() {
        let w = split_punctuation(vec![
            word("Hello,", 0.0, 0.5),
            word("world.", 0.6, 1.0),
            word("\"Yes\"", 1.2, 1.5),
            word("well-known?", 1.6, 2.0),
            word("no", 2.1, 2.3),
        ]);
        let s = sentences(&w);
        let t: Vec<(&str, f64, f64)> = s
            .iter()
            .map(|s| (s.text.as_str(), s.start, s.end))
            .collect();
        assert_eq!(
            t,
            [
                ("Hello, world.", 0.0, 1.0),
                ("\"Yes\" well-known?", 1.2, 2.0),
                ("no", 2.1, 2.3)
            ]
        );
    }

    #[test]
    fn pieces_join_at_word_starts() {
        let w = from_pieces(&[
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
    fn trailing_marks_become_punctuation_items() {
        let out = split_punctuation(vec![word("Hello,", 0.0, 0.5), word("world.", 0.6, 1.0)]);
        assert_eq!(texts(&out), ["Hello", ",", "world", "."]);
        assert_eq!(
            out[1].kind,
            WordKind::Punctuation {
                attaches: Attach::Previous,
                eos: false
            }
        );
        assert_eq!((out[1].start, out[1].end), (0.5, 0.5));
        assert_eq!(
            out[3].kind,
            WordKind::Punctuation {
                attaches: Attach::Previous,
                eos: true
            }
        );
    }

    #[test]
    fn internal_marks_and_abbreviations_stay_in_words() {
        let out = split_punctuation(vec![
            word("don't", 0.0, 0.3),
            word("3.5", 0.3, 0.6),
            word("U.S.", 0.6, 0.9),
            word("well-known", 0.9, 1.2),
        ]);
        assert_eq!(texts(&out), ["don't", "3.5", "U.S.", "well-known"]);
    }

    #[test]
    fn quotes_attach_to_their_side() {
        let out = split_punctuation(vec![word("\"Yes?\"", 1.0, 1.4)]);
        assert_eq!(texts(&out), ["\"", "Yes", "?", "\""]);
        assert!(matches!(
            out[0].kind,
            WordKind::Punctuation {
                attaches: Attach::Next,
                ..
            }
        ));
        assert_eq!(out[0].start, 1.0);
        assert!(matches!(
            out[2].kind,
            WordKind::Punctuation { eos: true, .. }
        ));
    }

    #[test]
    fn standalone_marks_and_dashes() {
        let out = split_punctuation(vec![
            word("well", 0.0, 0.2),
            word("—", 0.2, 0.3),
            word("no", 0.3, 0.4),
            word("...", 0.4, 0.5),
        ]);
        assert_eq!(texts(&out), ["well", "—", "no", "..."]);
        assert!(matches!(
            out[1].kind,
            WordKind::Punctuation {
                attaches: Attach::Both,
                ..
            }
        ));
        assert!(matches!(
            out[3].kind,
            WordKind::Punctuation { eos: true, .. }
        ));
    }

    #[test]
    fn plain_words_pass_through_unchanged() {
        let words = vec![word("four", 0.0, 0.3), word("two", 0.4, 0.6)];
        assert_eq!(split_punctuation(words.clone()), words);
    }
}
