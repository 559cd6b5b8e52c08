//! SubRip (SRT) and WebVTT rendering.
//!
//! Cues are built from word timings, each channel or speaker on its own: a
//! cue ends at a sentence end, at a pause longer than [`MAX_GAP_SECS`], or
//! when its lines are full (`max_line_length` characters × `max_lines`, the
//! `srt_overrides` of the job config; defaults 37 × 2; a cue's first line
//! counts its label, `[Left] `; a word longer than a line gets a line of its
//! own). A cue spans exactly its words, from the
//! first word's start to the last word's end. Cues are in start-time order;
//! a channel's cues never overlap each other, but cues of different channels
//! overlap where they speak at once (players show both).
//!
//! Imports: `transcript` only.

use super::txt::{append, label, spaced};
use super::{Item, Transcript};

/// A pause longer than this starts a new cue.
pub const MAX_GAP_SECS: f64 = 1.0;

/// Subtitle layout limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Characters per line, including spaces.
    pub max_line_length: usize,
    /// Lines per cue.
    pub max_lines: usize,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            max_line_length: 37,
            max_lines: 2,
        }
    }
}

/// One subtitle cue.
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    /// Start time (seconds).
    pub start: f64,
    /// End time (seconds).
    pub end: f64,
    /// Channel or speaker label, when diarization is on.
    pub label: Option<String>,
    /// The cue's lines.
    pub lines: Vec<String>,
}

/// Splits `t`'s items into cues.
///
/// Each channel or speaker is laid out on its own (so words of one channel
/// heard while another speaks stay together), then all cues are merged by
/// start time; ties keep the first label's cue first.
pub fn cues(t: &Transcript) -> Vec<Cue> {
    let mut groups: Vec<(Option<String>, Vec<&Item>)> = Vec::new();
    for item in &t.items {
        let l = label(item);
        match groups.iter_mut().find(|(g, _)| *g == l) {
            Some((_, items)) => items.push(item),
            None => groups.push((l, vec![item])),
        }
    }
    let delim = t.language_pack.word_delimiter.as_str();
    let mut out: Vec<Cue> = groups
        .into_iter()
        .flat_map(|(l, items)| lay_out(&items, l, t.subtitles, delim))
        .collect();
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

/// Lays out one label's time-ordered items as cues.
fn lay_out(items: &[&Item], label: Option<String>, layout: Layout, delim: &str) -> Vec<Cue> {
    let max_len = layout.max_line_length.max(1);
    let max_lines = layout.max_lines.max(1);
    // The first line also shows the label (`[Left] ` in SRT).
    let label_width = label.as_ref().map_or(0, |l| l.chars().count() + 3);
    let mut out: Vec<Cue> = Vec::new();
    let mut cur: Option<Cue> = None;
    let mut prev: Option<&Item> = None;
    for &item in items {
        // A cue or line may break only where a delimiter would go.
        let word = prev.is_none() || spaced(prev, item);
        if let Some(c) = &cur {
            let full = {
                let line = c.lines.last().map_or("", String::as_str);
                let shown = if c.lines.len() == 1 { label_width } else { 0 };
                let extra = if line.is_empty() || !word {
                    0
                } else {
                    delim.chars().count()
                };
                !line.is_empty()
                    && shown + line.chars().count() + extra + item.content.chars().count() > max_len
            };
            // Punctuation always stays with the word it attaches to.
            if word && (item.start - c.end > MAX_GAP_SECS || (full && c.lines.len() >= max_lines)) {
                out.extend(cur.take());
            } else if full && word {
                if let Some(c) = cur.as_mut() {
                    c.lines.push(String::new());
                }
            }
        }
        let cue = cur.get_or_insert_with(|| Cue {
            start: item.start,
            end: item.end,
            label: label.clone(),
            lines: vec![String::new()],
        });
        if let Some(line) = cue.lines.last_mut() {
            let before = if line.is_empty() { None } else { prev };
            append(line, before, item, delim);
        }
        prev = Some(item);
        cue.end = cue.end.max(item.end);
        if item.is_eos {
            out.extend(cur.take());
        }
    }
    out.extend(cur);
    out
}

fn timestamp(secs: f64, sep: char) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Renders SubRip.
pub fn render_srt(t: &Transcript) -> String {
    let mut s = String::new();
    for (i, c) in cues(t).iter().enumerate() {
        s.push_str(&format!(
            "{}\n{} --> {}\n",
            i + 1,
            timestamp(c.start, ','),
            timestamp(c.end, ',')
        ));
        let text = c.lines.join("\n");
        match &c.label {
            Some(l) => s.push_str(&format!("[{l}] {text}\n\n")),
            None => s.push_str(&format!("{text}\n\n")),
        }
    }
    s
}

/// Renders WebVTT (labels as voice spans).
pub fn render_vtt(t: &Transcript) -> String {
    let mut s = String::from("WEBVTT\n\n");
    for c in cues(t) {
        s.push_str(&format!(
            "{} --> {}\n",
            timestamp(c.start, '.'),
            timestamp(c.end, '.')
        ));
        let text = c.lines.join("\n");
        match &c.label {
            Some(l) => s.push_str(&format!("<v {l}>{text}\n\n")),
            None => s.push_str(&format!("{text}\n\n")),
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use crate::transcript::{language_pack, ItemKind, Job};

    fn item(kind: ItemKind, content: &str, start: f64, end: f64, channel: Option<&str>) -> Item {
        Item {
            kind,
            content: content.into(),
            start,
            end,
            confidence: 1.0,
            channel: channel.map(String::from),
            speaker: "UU".into(),
            is_eos: kind == ItemKind::Punctuation && content == ".",
            attaches_to: crate::transcript::Attach::Previous,
            language: None,
        }
    }

    fn words(spec: &[(&str, f64, Option<&str>)]) -> Vec<Item> {
        spec.iter()
            .map(|&(w, t, ch)| match w {
                "." | "," => item(ItemKind::Punctuation, w, t, t, ch),
                _ => item(ItemKind::Word, w, t, t + 0.3, ch),
            })
            .collect()
    }

    fn transcript(items: Vec<Item>, layout: Layout) -> Transcript {
        Transcript {
            job: Job {
                id: "j".into(),
                data_name: "x".into(),
                duration: 10.0,
                created_at: String::new(),
            },
            created_at: String::new(),
            transcription_config: serde_json::Value::Null,
            language_pack: language_pack("en"),
            language: "en".into(),
            notes: Vec::new(),
            items,
            subtitles: layout,
            language_identification: None,
            translations: Vec::new(),
        }
    }

    fn texts(t: &Transcript) -> Vec<(f64, f64, Vec<String>)> {
        cues(t)
            .into_iter()
            .map(|c| (c.start, c.end, c.lines))
            .collect()
    }

    #[test]
    fn cues_split_at_sentence_ends_pauses_and_full_lines() {
        let items = words(&[
            ("one", 0.0, None),
            ("two", 0.4, None),
            (".", 0.7, None),
            ("three", 0.8, None),
            (",", 1.1, None),
            ("four", 3.0, None), // a 1.6 s pause
        ]);
        let t = transcript(items.clone(), Layout::default());
        assert_eq!(
            texts(&t),
            [
                (0.0, 0.7, vec!["one two.".to_string()]),
                (0.8, 1.1, vec!["three,".to_string()]),
                (3.0, 3.3, vec!["four".to_string()]),
            ]
        );
        let t = transcript(
            items,
            Layout {
                max_line_length: 4,
                max_lines: 1,
            },
        );
        let lines: Vec<Vec<String>> = texts(&t).into_iter().map(|c| c.2).collect();
        // Punctuation stays with its word even past the line length.
        assert_eq!(
            lines,
            [vec!["one"], vec!["two."], vec!["three,"], vec!["four"]]
        );
    }

    #[test]
    fn channels_are_laid_out_apart_and_merged_by_start() {
        // Both channels speak at once, word by word interleaved.
        let items = words(&[
            ("a1", 0.0, Some("L")),
            ("b1", 0.1, Some("R")),
            ("a2", 0.4, Some("L")),
            ("b2", 0.5, Some("R")),
            ("b3", 3.0, Some("R")),
        ]);
        let t = transcript(items, Layout::default());
        let got: Vec<(f64, Option<String>, String)> = cues(&t)
            .into_iter()
            .map(|c| (c.start, c.label, c.lines.join("|")))
            .collect();
        assert_eq!(
            got,
            [
                (0.0, Some("L".into()), "a1 a2".into()),
                (0.1, Some("R".into()), "b1 b2".into()),
                (3.0, Some("R".into()), "b3".into()),
            ]
        );
        let srt = render_srt(&t);
        assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:00,700\n[L] a1 a2\n\n2\n"));
        assert!(render_vtt(&t).contains("00:00:00.100 --> 00:00:00.800\n<v R>b1 b2\n"));
    }

    #[test]
    fn the_label_counts_in_the_first_line() {
        let items = words(&[("abc", 0.0, Some("Left")), ("de", 0.4, Some("Left"))]);
        let layout = Layout {
            max_line_length: 12,
            max_lines: 2,
        };
        // "[Left] abc de" is 13 characters: "de" goes to the second line.
        let lines: Vec<Vec<String>> = texts(&transcript(items, layout))
            .into_iter()
            .map(|c| c.2)
            .collect();
        assert_eq!(lines, [vec!["abc", "de"]]);
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0.0, ','), "00:00:00,000");
        assert_eq!(timestamp(3723.456, '.'), "01:02:03.456");
    }
}
