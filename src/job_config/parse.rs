//! Strict JSON parsing of a job config: every unknown field is reported at
//! once with its path (`transcription_config.diarisation`), and any other
//! error names the field it is at, with line and column.
//!
//! Reading is capped at [`MAX_BYTES`], so `--job-config /dev/zero` or a
//! huge file is refused instead of filling memory.
//!
//! Imports: `job_config::{schema, JobConfigError}`.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{invalid, JobConfig, JobConfigError};

/// The largest job config read, in bytes (real ones are well under 10 KiB).
pub const MAX_BYTES: u64 = 1024 * 1024;

/// Reads the config text at `path`: at most [`MAX_BYTES`], UTF-8.
pub(super) fn read(path: &Path) -> Result<String, JobConfigError> {
    let fail = |reason: String| JobConfigError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(fail(format!(
            "larger than {MAX_BYTES} bytes; is it a job config?"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Deserializes the typed config. All unknown fields are reported at once
/// (each is removed and parsing retried); any other error is reported with
/// its field path.
pub(super) fn parse_typed(text: &str) -> Result<JobConfig, JobConfigError> {
    let syntax = |e: &serde_json::Error| JobConfigError::Syntax {
        path: PathBuf::new(),
        line: e.line(),
        column: e.column(),
        reason: strip_position(e),
    };
    let mut doc: Value = serde_json::from_str(text).map_err(|e| syntax(&e))?;
    if !doc.is_object() {
        return Err(invalid(vec![
            "the job config must be a JSON object".to_string()
        ]));
    }
    let mut unknown = Vec::new();
    let mut current = text.to_string();
    loop {
        let err = match serde_json::from_str::<JobConfig>(&current) {
            Ok(c) if unknown.is_empty() => return Ok(c),
            Ok(c) => {
                // Removing a field re-serialises the document in key order.
                unknown.sort();
                unknown.extend(c.unsupported());
                return Err(invalid(unknown));
            }
            Err(e) => e,
        };
        let index = byte_index(&current, err.line(), err.column());
        let reason = strip_position(&err);
        let Some(locate) = path_at(&current, index) else {
            return Err(syntax(&err));
        };
        if reason.starts_with("unknown field") && !locate.is_empty() && unknown.len() < 50 {
            let expected = reason
                .split_once(", ")
                .map(|(_, e)| format!(" ({e})"))
                .unwrap_or_default();
            unknown.push(format!(
                "{} is not a field of the job config{expected}",
                join(&locate)
            ));
            if remove(&mut doc, &locate) {
                current = serde_json::to_string_pretty(&doc).unwrap_or_default();
                continue;
            }
        } else if reason.starts_with("unknown field") {
            unknown.sort();
            unknown.push(reason);
        } else {
            unknown.sort();
            // serde_json reports a missing field after the object's `}`, so
            // the path there is the object's own.
            let mut problems = unknown;
            problems.push(match join(&locate) {
                p if p.is_empty() => reason,
                p => format!("{p}: {reason}"),
            });
            return Err(invalid(problems));
        }
        return Err(invalid(unknown));
    }
}

fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    escape_controls(s.strip_suffix(&suffix).unwrap_or(&s))
}

/// `text` with control characters escaped (`\n`, `\u{1b}`): serde quotes
/// a bad value as it was decoded, so `"type": "a\nb"` would otherwise put
/// a line break (or a terminal escape) into hark's one-line error.
pub(super) fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The byte index of serde_json's (line, column): column counts the bytes
/// consumed on that line.
fn byte_index(text: &str, line: usize, column: usize) -> usize {
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    (start + column).min(text.len())
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn join(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) if s.is_empty() => s.push_str(k),
            Step::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn remove(doc: &mut Value, path: &[Step]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = doc;
    for step in parents {
        let next = match step {
            Step::Key(k) => node.get_mut(k.as_str()),
            Step::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match (last, node) {
        (Step::Key(k), Value::Object(map)) => map.remove(k).is_some(),
        _ => false,
    }
}

/// The field path at byte `index` of well-formed JSON `text`: the keys and
/// array indices of the containers open there, ending with the key whose
/// value is being read (or was just read). `None` if `text` is not JSON.
fn path_at(text: &str, index: usize) -> Option<Vec<Step>> {
    enum Frame {
        Object { key: Option<String>, want_key: bool },
        Array { index: usize },
    }
    let bytes = text.as_bytes();
    let end = index.min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < end {
        match bytes[i] {
            b'"' => {
                let mut j = i + 1;
                let mut s = Vec::new();
                while j < bytes.len() && bytes[j] != b'"' {
                    if bytes[j] == b'\\' {
                        j += 1;
                    }
                    if let Some(&b) = bytes.get(j) {
                        s.push(b);
                    }
                    j += 1;
                }
                if let Some(Frame::Object { key, want_key }) = stack.last_mut() {
                    if *want_key {
                        *key = Some(String::from_utf8_lossy(&s).into_owned());
                        *want_key = false;
                    }
                }
                i = j + 1;
                continue;
            }
            b'{' => stack.push(Frame::Object {
                key: None,
                want_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop()?;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { key, want_key }) => {
                    *key = None;
                    *want_key = true;
                }
                Some(Frame::Array { index }) => *index += 1,
                None => return None,
            },
            _ => {}
        }
        i += 1;
    }
    Some(
        stack
            .into_iter()
            .filter_map(|f| match f {
                Frame::Object { key, .. } => key.map(Step::Key),
                Frame::Array { index } => Some(Step::Index(index)),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn path_locator() {
        let text = r#"{"a": {"b": [1, {"c": 2}], "d": "x,}"}, "e": 3}"#;
        let at = |needle: &str| {
            let i = text.find(needle).unwrap() + needle.len();
            join(&path_at(text, i).unwrap())
        };
        assert_eq!(at(r#"{"c""#), "a.b[1].c");
        assert_eq!(at(r#""d": "x,}""#), "a.d");
        assert_eq!(at(r#""e""#), "e");
        assert_eq!(at(r#"[1, "#), "a.b[1]");
        assert_eq!(at(r#"{"c": 2}"#), "a.b[1]");
        assert_eq!(at(r#"2}]"#), "a.b");
        assert_eq!(at(text), "");
        assert_eq!(path_at("]", 1), None);
    }

    #[test]
    fn a_value_with_a_line_break_stays_on_one_line() {
        // Found by the job_config fuzz target.
        let e = parse_typed(r#"{"type": "tr\nscription"}"#).unwrap_err();
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains(r"unknown variant `tr\nscription`"), "{msg}");
    }
}
