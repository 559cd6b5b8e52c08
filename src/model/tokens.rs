//! `tokens.txt`: the symbol table of sherpa-onnx model directories.
//!
//! One token per line, `piece id` (the id after the last whitespace). Pieces
//! follow SentencePiece: `▁` marks the start of a word. Special symbols such as
//! `<blk>`, `<unk>`, `<s>` and `</s>` are never emitted as text.
//!
//! Imports only `model::ModelError`.

use std::io::Read;
use std::path::Path;

use super::ModelError;

/// The largest `tokens.txt` read, in bytes: the largest real vocabularies
/// (~250 k pieces) are a few MiB.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// SentencePiece's word-boundary marker.
pub const WORD_START: char = '▁';

/// A parsed symbol table, indexed by token id.
#[derive(Clone, Debug)]
pub struct Tokens {
    pieces: Vec<String>,
}

impl Tokens {
    /// Parses `tokens.txt` text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Tokens, ModelError> {
        let mut pairs: Vec<(usize, String)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let bad = || {
                ModelError::Invalid(format!(
                    "{origin}: line {}: expected `piece id`, got {line:?}",
                    n + 1
                ))
            };
            let (piece, id) = match line.rsplit_once(char::is_whitespace) {
                Some((p, id)) => (p.to_string(), id),
                // A line holding only an id is a piece made of a space.
                None => (" ".to_string(), line),
            };
            let id: usize = id.trim().parse().map_err(|_| bad())?;
            pairs.push((id, piece));
        }
        if pairs.is_empty() {
            return Err(ModelError::Invalid(format!("{origin}: no tokens")));
        }
        let max = pairs.iter().map(|(id, _)| *id).max().unwrap_or(0);
        // `max + 1` would overflow on an id of usize::MAX (found by fuzzing).
        if max != pairs.len() - 1 {
            return Err(ModelError::Invalid(format!(
                "{origin}: ids must be 0..{} without gaps, found max id {max} for {} tokens",
                pairs.len() - 1,
                pairs.len()
            )));
        }
        let mut pieces: Vec<Option<String>> = vec![None; pairs.len()];
        for (id, piece) in pairs {
            if let Some(first) = pieces[id].replace(piece) {
                return Err(ModelError::Invalid(format!(
                    "{origin}: id {id} is given twice (to {first:?} and {:?})",
                    pieces[id].as_deref().unwrap_or_default()
                )));
            }
        }
        let pieces = pieces.into_iter().map(Option::unwrap_or_default).collect();
        Ok(Tokens { pieces })
    }

    /// Reads and parses a `tokens.txt` file.
    pub fn load(path: &Path) -> Result<Tokens, ModelError> {
        let missing = |e: String| ModelError::Missing(format!("{}: {e}", path.display()));
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| missing(e.to_string()))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(ModelError::Invalid(format!(
                "{}: larger than {MAX_FILE_BYTES} bytes; is it a tokens.txt?",
                path.display()
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| ModelError::Invalid(format!("{}: not UTF-8 text", path.display())))?;
        Tokens::parse(&text, &path.display().to_string())
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// True if there are no tokens (never true for a parsed table).
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The piece for `id`, if any.
    pub fn piece(&self, id: usize) -> Option<&str> {
        self.pieces.get(id).map(String::as_str)
    }

    /// The id of `piece`, if present.
    pub fn id(&self, piece: &str) -> Option<usize> {
        self.pieces.iter().position(|p| p == piece)
    }

    /// True for symbols that never appear in a transcript (`<blk>`, `<unk>`, ...).
    pub fn is_special(piece: &str) -> bool {
        piece.len() > 2 && piece.starts_with('<') && piece.ends_with('>')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sherpa_layout() {
        let t = Tokens::parse("▁zero 0\n▁one 1\n<blk> 2\n", "tokens.txt").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.piece(1), Some("▁one"));
        assert_eq!(t.id("<blk>"), Some(2));
        assert!(Tokens::is_special("<blk>"));
        assert!(!Tokens::is_special("▁one"));
    }

    #[test]
    fn rejects_gaps_and_garbage() {
        assert!(Tokens::parse("a 0\nb 2\n", "t").is_err());
        assert!(Tokens::parse("a x\n", "t").is_err());
        assert!(Tokens::parse("", "t").is_err());
        let e = Tokens::parse("a 0\nb zz\n", "tokens.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tokens.txt: line 2"), "{e}");
    }

    #[test]
    fn an_id_of_usize_max_is_an_error_not_an_overflow() {
        let e = Tokens::parse("a 0\nb 18446744073709551615\n", "t")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("found max id 18446744073709551615 for 2 tokens"),
            "{e}"
        );
    }

    #[test]
    fn rejects_a_repeated_id_that_hides_a_gap() {
        // Three lines, max id 2: the count matched, so id 1 went missing.
        let e = Tokens::parse("a 0\nb 0\n<blk> 2\n", "tokens.txt")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid model: tokens.txt: id 0 is given twice (to \"a\" and \"b\")"
        );
    }
}
