//! SubRip (SRT) and WebVTT rendering.
//!
//! Cues are built from word timings: a cue ends at a sentence end, at a pause
//! longer than [`MAX_GAP_SECS`], at a channel or speaker change, or when its
//! lines are full (`max_line_length` characters × `max_lines`, the
//! `srt_overrides` of the job config; defaults 37 × 2). A cue spans exactly
//! its words, and cue times never go backwards.
//!
//! Imports: `transcript` only.

use super::txt::{append, label};
use super::{Item, ItemKind, Transcript};

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
pub fn cues(t: &Transcript) -> Vec<Cue> {
    let layout = t.subtitles;
    let max_len = layout.max_line_length.max(1);
    let max_lines = layout.max_lines.max(1);
    let delim = t.language_pack.word_delimiter.as_str();
    let mut out: Vec<Cue> = Vec::new();
    let mut cur: Option<Cue> = None;
    let mut prev_end = 0.0f64;
    let close = |cur: &mut Option<Cue>, out: &mut Vec<Cue>| {
        if let Some(c) = cur.take() {
            out.push(c);
        }
    };
    for item in &t.items {
        let l = label(item);
        if let Some(c) = &cur {
            let gap = item.start - c.end;
            if item.kind == ItemKind::Word && (c.label != l || gap > MAX_GAP_SECS) {
                close(&mut cur, &mut out);
            }
        }
        let cue = cur.get_or_insert_with(|| Cue {
            start: item.start.max(prev_end),
            end: item.start,
            label: l.clone(),
            lines: vec![String::new()],
        });
        let fits = {
            let line = cue.lines.last().map_or("", String::as_str);
            let extra = if line.is_empty() || item.kind == ItemKind::Punctuation {
                0
            } else {
                delim.chars().count()
            };
            line.chars().count() + extra + item.content.chars().count() <= max_len
                || line.is_empty()
        };
        if !fits {
            if cue.lines.len() < max_lines {
                cue.lines.push(String::new());
            } else {
                close(&mut cur, &mut out);
                let c = cur.get_or_insert_with(|| Cue {
                    start: item.start.max(prev_end),
                    end: item.start,
                    label: l.clone(),
                    lines: vec![String::new()],
                });
                append_to(c, item, delim);
                prev_end = c.end;
                continue;
            }
        }
        append_to(cue, item, delim);
        prev_end = cue.end;
        if item.is_eos {
            close(&mut cur, &mut out);
        }
    }
    close(&mut cur, &mut out);
    out
}

fn append_to(cue: &mut Cue, item: &Item, delim: &str) {
    if let Some(line) = cue.lines.last_mut() {
        append(line, item, delim);
    }
    cue.end = cue.end.max(item.end);
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
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0.0, ','), "00:00:00,000");
        assert_eq!(timestamp(3723.456, '.'), "01:02:03.456");
    }
}
