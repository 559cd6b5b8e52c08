//! Words for every family: SentencePiece pieces joined into words, and
//! punctuation split off words into items of its own.
//!
//! A family's recognizer builds words its own way (CTC pieces, Whisper's
//! byte-level BPE) and then calls [`split_punctuation`], so a model that
//! writes punctuation (Whisper, a punctuating CTC model) yields Speechmatics
//! punctuation items and one that does not yields plain words.
//!
//! [`fit_to_speech`] then fits any family's word times to the speech the
//! voice-activity detector found.
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

/// A word edge inside a silence at least this long (seconds) is moved to
/// the speech beside it.
pub const EDGE_SILENCE_SECS: f64 = 0.1;
/// A silence at least this long (seconds; a pause the chunker could cut
/// in) inside a word means the word spans a pause: it keeps the side that
/// holds more of it.
pub const INNER_SILENCE_SECS: f64 = 0.25;
/// The last word before a pause is stretched at most this far (seconds) to
/// where its sound fades.
pub const MAX_END_STRETCH_SECS: f64 = 1.0;
/// A word's sound has faded where the frames fall this far (dB) below its
/// loudest frame, or the detector hears no speech, for [`FADE_FRAMES`].
pub const FADE_DB: f32 = 25.0;
/// Frames in a row that a fade must last.
pub const FADE_FRAMES: usize = 3;

/// Fits word times to the speech a voice-activity detector found, the way
/// stable-ts's silence suppression does: a word never starts or ends in a
/// silence, and never spans a pause. `speech` holds the detector's
/// decision and `energy_db` the energy of each frame of `frame_secs`, from
/// the chunk's first sample (the times' origin).
///
/// Words shrink inside their own span, so their order is kept; a word
/// wholly inside a silence is left as it is. The last word before a pause,
/// when it ends while its sound goes on, is stretched to where that sound
/// fades ([`FADE_DB`] below the word's loudest frame, or silence): an
/// alignment tends to give a word's last sound to what follows it, the end
/// token when nothing does. It is stretched only when the fade comes within
/// [`MAX_END_STRETCH_SECS`] and before the next word's start, so a word in
/// running speech, or before noise as loud as speech, keeps its end.
/// Punctuation then moves with the word it attaches to. Works on any family's words: the model's alignment
/// (cross-attention, CTC frames) says which word is where, the detector
/// where speech starts and stops.
pub fn fit_to_speech(words: &mut [Word], speech: &[bool], energy_db: &[f32], frame_secs: f64) {
    let silences = silent_runs(speech, frame_secs, EDGE_SILENCE_SECS);
    if silences.is_empty() {
        return;
    }
    for w in words.iter_mut().filter(|w| w.kind == WordKind::Word) {
        let (mut s, mut e) = (w.start, w.end);
        // Runs are in time order and disjoint, so one pass settles each edge.
        for &(a, b) in &silences {
            if b <= s || a >= e {
                continue;
            }
            if a <= s && b >= e {
                break; // wholly silent: nothing to fit it to
            }
            if a <= s {
                s = b; // starts in silence: at the speech after it
            } else if b >= e {
                e = a; // ends in silence: at the speech before it
            } else if b - a >= INNER_SILENCE_SECS {
                // Spans a pause: keep the side with more of the word.
                if a - s >= e - b {
                    e = a;
                } else {
                    s = b;
                }
            }
        }
        w.start = s;
        w.end = e.max(s);
    }
    // Stretch each last word before a pause to where its sound fades.
    let starts: Vec<(usize, f64)> = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.kind == WordKind::Word)
        .map(|(i, w)| (i, w.start))
        .collect();
    for (k, &(i, _)) in starts.iter().enumerate() {
        let next = starts.get(k + 1).map_or(f64::INFINITY, |&(_, t)| t);
        if let Some(end) = fade_out(&words[i], next, speech, energy_db, frame_secs) {
            words[i].end = end;
        }
    }
    // Punctuation sits where its word now starts or ends.
    let n = words.len();
    for i in 0..n {
        let WordKind::Punctuation { attaches, .. } = words[i].kind else {
            continue;
        };
        let at = match attaches {
            Attach::Next => words[i + 1..]
                .iter()
                .find(|w| w.kind == WordKind::Word)
                .map(|w| w.start),
            _ => words[..i]
                .iter()
                .rev()
                .find(|w| w.kind == WordKind::Word)
                .map(|w| w.end),
        };
        if let Some(t) = at {
            words[i].start = t;
            words[i].end = t;
        }
    }
}

/// Where `w`'s sound fades after its end (see [`fit_to_speech`]), when that
/// comes after the end, before `next` and within the stretch limit.
fn fade_out(
    w: &Word,
    next: f64,
    speech: &[bool],
    energy_db: &[f32],
    frame_secs: f64,
) -> Option<f64> {
    let len = speech.len().min(energy_db.len());
    let frame = |t: f64| ((t / frame_secs).max(0.0) as usize).min(len);
    let (a, e) = (frame(w.start), frame(w.end));
    let peak = energy_db[a..e.max(a + 1).min(len)]
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    if !peak.is_finite() {
        return None;
    }
    let quiet = |j: usize| j >= len || !speech[j] || energy_db[j] < peak - FADE_DB;
    let limit = next.min(w.end + MAX_END_STRETCH_SECS);
    let mut j = e;
    while j < len && (j as f64) * frame_secs < limit {
        if (j..j + FADE_FRAMES).all(quiet) {
            let t = j as f64 * frame_secs;
            return (t > w.end).then_some(t);
        }
        j += 1;
    }
    None
}

/// The runs of `false` in `speech` lasting at least `min_secs`, as
/// `(start, end)` seconds.
fn silent_runs(speech: &[bool], frame_secs: f64, min_secs: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < speech.len() {
        if speech[i] {
            i += 1;
            continue;
        }
        let j = speech[i..]
            .iter()
            .position(|&x| x)
            .map_or(speech.len(), |k| i + k);
        let (a, b) = (i as f64 * frame_secs, j as f64 * frame_secs);
        if b - a >= min_secs - 1e-9 {
            out.push((a, b));
        }
        i = j;
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

    /// 10 ms frames: speech where `spans` (seconds) say, silence elsewhere.
    fn mask(len_secs: f64, spans: &[(f64, f64)]) -> Vec<bool> {
        (0..(len_secs * 100.0).round() as usize)
            .map(|i| {
                let t = i as f64 / 100.0 + 0.005;
                spans.iter().any(|&(a, b)| t >= a && t < b)
            })
            .collect()
    }

    /// [`fit_to_speech`] with speech frames at 0 dB, silent ones at -100.
    fn fit(w: &mut [Word], speech: &[bool]) {
        let energy: Vec<f32> = speech
            .iter()
            .map(|&s| if s { 0.0 } else { -100.0 })
            .collect();
        fit_to_speech(w, speech, &energy, 0.01);
    }

    #[test]
    fn the_last_word_before_a_pause_stretches_until_its_sound_fades() {
        // 0.5-1.0 loud, a tail at -10 dB to 1.4, then noise at -40 dB that
        // the detector still calls speech, to 2.0; silence after.
        let speech = mask(3.0, &[(0.5, 2.0)]);
        let energy: Vec<f32> = (0..speech.len())
            .map(|i| match i {
                50..=99 => 0.0,
                100..=139 => -10.0,
                140..=199 => -40.0,
                _ => -100.0,
            })
            .collect();
        let mut w = vec![word("themselves", 0.5, 1.0)];
        fit_to_speech(&mut w, &speech, &energy, 0.01);
        assert_eq!(times(&w), [(0.5, 1.4)]);
        // In running speech (the next word starts at 1.2) it keeps its end.
        let mut w = vec![word("the", 0.5, 1.0), word("next", 1.2, 1.9)];
        fit_to_speech(&mut w, &speech, &energy, 0.01);
        assert_eq!(times(&w)[0], (0.5, 1.0));
        // Before noise as loud as speech that goes on past the limit: kept.
        let loud = vec![0.0f32; speech.len()];
        let mut w = vec![word("thanks", 0.5, 0.7)];
        fit_to_speech(&mut w, &vec![true; 300], &loud, 0.01);
        assert_eq!(times(&w), [(0.5, 0.7)]);
    }

    fn times(w: &[Word]) -> Vec<(f64, f64)> {
        w.iter()
            .map(|w| {
                (
                    (w.start * 100.0).round() / 100.0,
                    (w.end * 100.0).round() / 100.0,
                )
            })
            .collect()
    }

    #[test]
    fn word_edges_move_out_of_silence() {
        // Speech 0.5-1.0 and 2.0-3.0; the first word starts early in the
        // leading silence, the second ends late in the pause.
        let speech = mask(3.0, &[(0.5, 1.0), (2.0, 3.0)]);
        let mut w = vec![
            word("one", 0.2, 0.7),
            word("two", 0.7, 1.4),
            word("three", 2.1, 2.9),
        ];
        fit(&mut w, &speech);
        assert_eq!(times(&w), [(0.5, 0.7), (0.7, 1.0), (2.1, 2.9)]);
    }

    #[test]
    fn a_word_across_a_pause_keeps_its_larger_side() {
        // The regression this pins: a word starting at the end of one
        // utterance and ending in the next (LJSpeech concat, "of" at
        // 156.61-157.65 across the 156.69-157.49 gap).
        let speech = mask(4.0, &[(0.0, 1.0), (1.8, 4.0)]);
        let mut w = vec![word("of", 0.95, 2.1), word("late", 0.2, 1.7)];
        fit(&mut w, &speech);
        assert_eq!(times(&w), [(1.8, 2.1), (0.2, 1.0)]);
    }

    #[test]
    fn short_dips_and_silent_words_are_left_alone() {
        // A 50 ms dip is below both thresholds; a 150 ms one moves edges but
        // never splits a word; a word wholly in silence stays where it is.
        let speech = mask(3.0, &[(0.0, 1.0), (1.05, 1.5), (1.65, 2.0)]);
        let mut w = vec![
            word("a", 0.9, 1.2),
            word("b", 1.4, 1.9),
            word("c", 2.2, 2.5),
        ];
        fit(&mut w, &speech);
        // ("b" is the last word before the pause at 2.0: stretched to it.)
        assert_eq!(times(&w), [(0.9, 1.2), (1.4, 2.0), (2.2, 2.5)]);
        let mut w = vec![word("d", 1.55, 1.9)];
        fit(&mut w, &speech);
        assert_eq!(times(&w), [(1.65, 2.0)]);
    }

    #[test]
    fn punctuation_follows_its_word() {
        let speech = mask(2.0, &[(0.0, 1.0)]);
        let mut w = split_punctuation(vec![word("(end.", 0.5, 1.6), word("x", 1.9, 2.0)]);
        fit(&mut w, &speech);
        assert_eq!(texts(&w), ["(", "end", ".", "x"]);
        assert_eq!(times(&w)[..3], [(0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]);
    }

    #[test]
    fn all_speech_changes_nothing() {
        let speech = vec![true; 300];
        let before = vec![word("a", 0.1, 0.5), word("b", 0.6, 2.9)];
        let mut w = before.clone();
        fit(&mut w, &speech);
        assert_eq!(w, before);
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
