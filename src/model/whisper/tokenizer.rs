//! Whisper's byte-level BPE vocabulary and special tokens.
//!
//! `<name>-tokens.txt` (sherpa-onnx's layout) has one regular token per
//! line: the base64 of its bytes, a space, its id (the tiktoken ranks).
//! Special tokens (`<|endoftext|>`, `<|startoftranscript|>`, language,
//! task and timestamp tokens) are not in the file; their ids come from the
//! ONNX metadata ([`Specials`]).
//!
//! Imports only `model::ModelError`.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;

use super::super::ModelError;

/// The regular tokens, as bytes, indexed by id.
#[derive(Clone, Debug)]
pub struct Vocab {
    bytes: Vec<Vec<u8>>,
}

impl Vocab {
    /// Parses `tokens.txt` text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Vocab, ModelError> {
        let mut bytes: Vec<Option<Vec<u8>>> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let bad = |why: &str| {
                ModelError::Invalid(format!("{origin}: line {}: {why}: {line:?}", n + 1))
            };
            let (b64, id) = line
                .split_once(' ')
                .ok_or_else(|| bad("expected `base64 id`"))?;
            let id: usize = id.trim().parse().map_err(|_| bad("bad token id"))?;
            // Padding is optional, and openai-whisper's multilingual table
            // has one token written as a lone `=` (no bytes), which Python's
            // lenient decoder reads as empty: do the same.
            let piece = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(b64.trim_end_matches('='))
                .map_err(|_| bad("bad base64"))?;
            // Ids are dense ranks; refuse ones far past the lines read so a
            // hostile file cannot make us allocate by its numbers.
            if id > bytes.len() + 1_000_000 {
                return Err(bad("token id out of range"));
            }
            if bytes.len() <= id {
                bytes.resize(id + 1, None);
            }
            if bytes[id].replace(piece).is_some() {
                return Err(bad("duplicate token id"));
            }
        }
        if bytes.is_empty() {
            return Err(ModelError::Invalid(format!("{origin}: no tokens")));
        }
        let n = bytes.len();
        let bytes: Option<Vec<Vec<u8>>> = bytes.into_iter().collect();
        let bytes = bytes
            .ok_or_else(|| ModelError::Invalid(format!("{origin}: token ids 0..{n} have gaps")))?;
        Ok(Vocab { bytes })
    }

    /// Reads and parses a tokens file.
    pub fn load(path: &Path) -> Result<Vocab, ModelError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ModelError::Missing(format!("{}: {e}", path.display())))?;
        Vocab::parse(&text, &path.display().to_string())
    }

    /// Number of regular tokens (the id of `<|endoftext|>`).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the vocabulary is empty (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes of a regular token; empty for a special one.
    pub fn bytes(&self, id: u32) -> &[u8] {
        self.bytes.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// The text of a token sequence (special tokens skipped).
    pub fn text(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&t| self.bytes(t)).copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The id of a token given its bytes (linear; for set-up only).
    pub fn find(&self, piece: &[u8]) -> Option<u32> {
        self.bytes
            .iter()
            .position(|b| b == piece)
            .and_then(|i| u32::try_from(i).ok())
    }
}

/// Special token ids, from the model's metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Specials {
    /// `<|endoftext|>`.
    pub eot: u32,
    /// `<|startoftranscript|>`.
    pub sot: u32,
    /// `<|translate|>`.
    pub translate: u32,
    /// `<|transcribe|>`.
    pub transcribe: u32,
    /// `<|startoflm|>`.
    pub sot_lm: u32,
    /// `<|startofprev|>`.
    pub sot_prev: u32,
    /// `<|nospeech|>` (`<|nocaptions|>` in English-only models).
    pub no_speech: u32,
    /// `<|notimestamps|>`.
    pub no_timestamps: u32,
    /// `<|0.00|>`: the first timestamp token.
    pub timestamp_begin: u32,
    /// The token for a single space (suppressed at the start).
    pub blank: u32,
    /// Language tokens and their codes, in id order.
    pub languages: Vec<(u32, String)>,
}

/// Seconds per timestamp-token step.
pub const TIMESTAMP_SECS: f64 = 0.02;

impl Specials {
    /// Whether `t` is a timestamp token.
    pub fn is_timestamp(&self, t: u32) -> bool {
        t >= self.timestamp_begin
    }

    /// Whether `t` is a text token (not special, not a timestamp).
    pub fn is_text(&self, t: u32) -> bool {
        t < self.eot
    }

    /// The time of a timestamp token, in seconds.
    pub fn time(&self, t: u32) -> f64 {
        f64::from(t.saturating_sub(self.timestamp_begin)) * TIMESTAMP_SECS
    }

    /// The token of a language code.
    pub fn language(&self, code: &str) -> Option<u32> {
        self.languages
            .iter()
            .find(|(_, c)| c == code)
            .map(|(t, _)| *t)
    }
}

/// Groups text tokens into words the way Whisper's tokenizer does: a token
/// whose bytes start with a space starts a new word; the rest join the
/// word before. Returns each word's text and its range of indices into
/// `ids` (all text tokens).
pub fn split_words(vocab: &Vocab, ids: &[u32]) -> Vec<(String, std::ops::Range<usize>)> {
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut pending_start = 0usize;
    let mut bytes: Vec<u8> = Vec::new();
    for (i, &t) in ids.iter().enumerate() {
        let b = vocab.bytes(t);
        // Tokens that end mid-character join the next one: split only where
        // the bytes so far form whole UTF-8 characters.
        let starts = b.first() == Some(&b' ') && std::str::from_utf8(&bytes).is_ok();
        if starts && i > pending_start {
            groups.push(pending_start..i);
            pending_start = i;
            bytes.clear();
        }
        bytes.extend_from_slice(b);
    }
    if pending_start < ids.len() {
        groups.push(pending_start..ids.len());
    }
    groups
        .into_iter()
        .map(|r| (vocab.text(&ids[r.clone()]).trim().to_string(), r))
        .filter(|(text, _)| !text.is_empty())
        .collect()
}

/// Text into token ids: byte-level BPE by rank (tiktoken's algorithm: the
/// ids in `tokens.txt` are the merge ranks) after GPT-2's pre-tokenizer.
/// Used for prompts (`additional_vocab`), never for decoding.
pub struct Encoder {
    ranks: HashMap<Vec<u8>, u32>,
}

impl Encoder {
    /// Indexes `vocab` by bytes.
    pub fn new(vocab: &Vocab) -> Encoder {
        let mut ranks = HashMap::with_capacity(vocab.len());
        for (id, b) in vocab.bytes.iter().enumerate() {
            if let Ok(id) = u32::try_from(id) {
                ranks.entry(b.clone()).or_insert(id);
            }
        }
        Encoder { ranks }
    }

    /// The ids of `text`; bytes the vocabulary cannot spell are dropped
    /// (never in Whisper's, which has every single byte).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        pretokenize(text)
            .into_iter()
            .flat_map(|piece| self.bpe(piece.as_bytes()))
            .collect()
    }

    fn bpe(&self, piece: &[u8]) -> Vec<u32> {
        if let Some(&id) = self.ranks.get(piece) {
            return vec![id];
        }
        // Parts as byte ranges; merge the adjacent pair of lowest rank
        // until no pair is a token.
        let mut parts: Vec<(usize, usize)> = (0..piece.len()).map(|i| (i, i + 1)).collect();
        loop {
            let best = (0..parts.len().saturating_sub(1))
                .filter_map(|i| {
                    self.ranks
                        .get(&piece[parts[i].0..parts[i + 1].1])
                        .map(|&r| (r, i))
                })
                .min();
            let Some((_, i)) = best else { break };
            parts[i].1 = parts[i + 1].1;
            parts.remove(i + 1);
        }
        parts
            .iter()
            .filter_map(|&(a, b)| self.ranks.get(&piece[a..b]).copied())
            .collect()
    }
}

/// GPT-2's pre-tokenizer (`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
/// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`), written out without look-ahead.
fn pretokenize(text: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum Class {
        Letter,
        Number,
        Space,
        Other,
    }
    let class = |c: char| {
        if c.is_alphabetic() {
            Class::Letter
        } else if c.is_numeric() {
            Class::Number
        } else if c.is_whitespace() {
            Class::Space
        } else {
            Class::Other
        }
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        // Contractions.
        if c == '\'' {
            let rest = &text[at(i + 1)..];
            if let Some(n) = ["s", "t", "re", "ve", "m", "ll", "d"]
                .iter()
                .find(|s| rest.starts_with(**s))
                .map(|s| s.len())
            {
                out.push(&text[at(i)..at(i + 1) + n]);
                i += 1 + n;
                continue;
            }
        }
        // An optional space, then a run of one class.
        let lead =
            usize::from(c == ' ' && i + 1 < chars.len() && class(chars[i + 1].1) != Class::Space);
        let first = chars[i + lead].1;
        let k = class(first);
        if k != Class::Space {
            let mut j = i + lead + 1;
            while j < chars.len() && class(chars[j].1) == k {
                j += 1;
            }
            out.push(&text[at(i)..at(j)]);
            i = j;
            continue;
        }
        // Whitespace: leave the last space to the word that follows.
        let mut j = i + 1;
        while j < chars.len() && class(chars[j].1) == Class::Space {
            j += 1;
        }
        if j < chars.len() && j - i > 1 && chars[j - 1].1 == ' ' {
            j -= 1;
        }
        out.push(&text[at(i)..at(j)]);
        i = j;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vocab(pieces: &[&[u8]]) -> Vocab {
        let e = base64::engine::general_purpose::STANDARD;
        let text: String = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{} {i}\n", e.encode(p)))
            .collect();
        Vocab::parse(&text, "t").unwrap()
    }

    #[test]
    fn parses_base64_lines() {
        let v = vocab(&[b"a", b" hello", b","]);
        assert_eq!(v.len(), 3);
        // A lone `=` is a token with no bytes (openai-whisper's multilingual table).
        assert_eq!(Vocab::parse("YQ== 0\n= 1\n", "t").unwrap().bytes(1), b"");
        assert_eq!(v.bytes(1), b" hello");
        assert_eq!(v.text(&[1, 2, 999]), " hello,");
        assert_eq!(v.find(b","), Some(2));
    }

    #[test]
    fn bad_files_name_the_line() {
        for (text, want) in [
            ("", "no tokens"),
            ("YQ== 0\nYg== 2\n", "gaps"),
            ("YQ== 0\nYQ== 0\n", "duplicate"),
            ("!!! 0\n", "base64"),
            ("YQ==\n", "expected"),
            ("YQ== 99999999999\n", "out of range"),
        ] {
            let e = Vocab::parse(text, "f.txt").unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("f.txt"), "{text:?}: {e}");
        }
    }

    #[test]
    fn pretokenizes_like_gpt2() {
        assert_eq!(
            pretokenize(" Hello, world's  42x\n"),
            [" Hello", ",", " world", "'s", " ", " 42", "x", "\n"]
        );
        assert_eq!(pretokenize("  Kubernetes"), [" ", " Kubernetes"]);
    }

    #[test]
    fn bpe_merges_by_rank() {
        // Bytes first, then merges in rank order: "ab" (4) before "bc" (5).
        let v = vocab(&[b"a", b"b", b"c", b" ", b"ab", b"bc", b" abc"]);
        let e = Encoder::new(&v);
        assert_eq!(e.encode("abc"), [4, 2]);
        assert_eq!(e.encode(" abc"), [6]);
        assert_eq!(e.encode("cab"), [2, 4]);
    }

    #[test]
    fn words_start_at_spaces() {
        let v = vocab(&[
            b" Hello",
            b",",
            b" wor",
            b"ld",
            b".",
            b" \xc3",
            b"\xa9t\xc3\xa9",
        ]);
        let w = split_words(&v, &[0, 1, 2, 3, 4, 5, 6]);
        let texts: Vec<&str> = w.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["Hello,", "world.", "été"]);
        assert_eq!(w[1].1, 2..5);
    }
}
