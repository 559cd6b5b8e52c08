//! Whisper's byte-level BPE vocabulary and special tokens.
//!
//! `<name>-tokens.txt` (sherpa-onnx's layout) has one regular token per
//! line: the base64 of its bytes, a space, its id (the tiktoken ranks).
//! Special tokens (`<|endoftext|>`, `<|startoftranscript|>`, language,
//! task and timestamp tokens) are not in the file; their ids come from the
//! ONNX metadata ([`Specials`]).
//!
//! Imports only `model::ModelError`.

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
