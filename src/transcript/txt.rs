//! Plain-text rendering: words joined by the language's delimiter,
//! punctuation attached, one paragraph per channel or speaker change,
//! labelled (`channel_1: ...`) when diarization is on.
//!
//! Imports: `transcript` only.

use super::{Attach, Item, ItemKind, Transcript};

/// The label of an item's paragraph, if diarization labels it.
pub(crate) fn label(item: &Item) -> Option<String> {
    match (&item.channel, item.speaker.as_str()) {
        (Some(c), _) => Some(c.clone()),
        (None, "UU") => None,
        (None, s) => Some(s.to_string()),
    }
}

/// Whether a delimiter goes between `prev` and `next`.
pub(crate) fn spaced(prev: Option<&Item>, next: &Item) -> bool {
    let Some(prev) = prev else { return false };
    let glued_after = |i: &Item| {
        i.kind == ItemKind::Punctuation && matches!(i.attaches_to, Attach::Next | Attach::Both)
    };
    let glued_before = |i: &Item| {
        i.kind == ItemKind::Punctuation && matches!(i.attaches_to, Attach::Previous | Attach::Both)
    };
    !glued_after(prev) && !glued_before(next)
}

/// Appends `item` to `line` after `prev`, using `delimiter` between words.
pub(crate) fn append(line: &mut String, prev: Option<&Item>, item: &Item, delimiter: &str) {
    if !line.is_empty() && spaced(prev, item) {
        line.push_str(delimiter);
    }
    line.push_str(&item.content);
}

/// Renders `t` as plain text with a trailing newline (empty transcript: empty string).
pub fn render(t: &Transcript) -> String {
    let delimiter = &t.language_pack.word_delimiter;
    let mut paragraphs: Vec<(Option<String>, String)> = Vec::new();
    let mut prev: Option<&Item> = None;
    for item in &t.items {
        let l = label(item);
        match paragraphs.last_mut() {
            Some((pl, text)) if *pl == l => append(text, prev, item, delimiter),
            _ => {
                let mut text = String::new();
                append(&mut text, None, item, delimiter);
                paragraphs.push((l, text));
            }
        }
        prev = Some(item);
    }
    let mut out = paragraphs
        .into_iter()
        .map(|(l, text)| match l {
            Some(l) => format!("{l}: {text}"),
            None => text,
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}
