//! Speaker diarization (`diarization: "speaker"`): who spoke each word.
//!
//! Two halves, either side of recognition:
//!
//! 1. [`embed_chunk`], in each worker right after its recognizer: speech
//!    regions are the chunk's recognised words (joined across gaps up to
//!    [`JOIN_GAP_SECS`]); windows of [`WINDOW_SECS`] every [`HOP_SECS`]
//!    cover them (a shorter region gets one window centred on it); the
//!    speaker encoder embeds every window of the chunk in one batch. It
//!    works on the chunk's samples, so the audio is decoded once.
//! 2. [`label`], once all chunks are in: the windows are clustered
//!    (agglomerative, average cosine linkage, [`cluster`]) with a threshold
//!    set by `speaker_sensitivity`, at most `max_speakers` clusters; a
//!    cluster of less than [`MIN_CLUSTER_WINDOWS`] windows joins its
//!    nearest neighbour; with `prefer_current_speaker` a window stays with
//!    the previous window's speaker when that one is almost as close
//!    ([`PREFER_MARGIN`]). Each word takes the speaker of the window whose
//!    centre is nearest its middle, each punctuation mark its word's;
//!    a run of at most [`LONE_RUN_WORDS`] words inside one sentence,
//!    between words of one other speaker, is given to that speaker (as
//!    Speechmatics' punctuation-based correction does). Labels are `S1`,
//!    `S2`, ... in order of first appearance.
//!
//! The threshold was tuned on the benchmark files of
//! `scripts/bench-diarization` (see the README): all three come out right
//! for thresholds from about 0.655 to 0.71; 0.68 is the middle.
//!
//! Imports: `model` (words, the speaker encoder), `transcript` (items).

pub mod cluster;

use crate::model::speaker::{Frame, SpeakerEmbedder, N_MELS};
use crate::model::{ModelError, Word, WordKind};
use crate::transcript::{Attach, Item, ItemKind};

/// Window length in seconds.
pub const WINDOW_SECS: f64 = 1.5;
/// Window hop in seconds.
pub const HOP_SECS: f64 = 0.75;
/// Words closer than this belong to one speech region.
pub const JOIN_GAP_SECS: f64 = 0.5;
/// Clusters smaller than this many windows join their nearest neighbour.
pub const MIN_CLUSTER_WINDOWS: usize = 3;
/// `prefer_current_speaker`: keep the current speaker when it is within
/// this cosine similarity of the best match.
pub const PREFER_MARGIN: f32 = 0.05;
/// Word runs this short inside a sentence take their neighbours' speaker.
pub const LONE_RUN_WORDS: usize = 2;
/// The merge threshold at `speaker_sensitivity` 0.5 (cosine similarity
/// between cluster means) ...
pub const BASE_THRESHOLD: f64 = 0.68;
/// ... and how far it moves from sensitivity 0 to 1 (± half of this).
pub const THRESHOLD_SPAN: f64 = 0.3;
/// `speaker_sensitivity` when the config gives none.
pub const DEFAULT_SENSITIVITY: f64 = 0.5;

/// What the job config asks of speaker diarization.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// `max_speakers`: at most this many labels.
    pub max_speakers: Option<usize>,
    /// `speaker_sensitivity`, 0..=1: higher gives more speakers.
    pub sensitivity: f64,
    /// `prefer_current_speaker`.
    pub prefer_current: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_speakers: None,
            sensitivity: DEFAULT_SENSITIVITY,
            prefer_current: false,
        }
    }
}

impl Settings {
    /// The clustering threshold (cosine similarity) for this sensitivity.
    pub fn threshold(&self) -> f32 {
        let s = self.sensitivity.clamp(0.0, 1.0);
        (BASE_THRESHOLD + (s - 0.5) * THRESHOLD_SPAN) as f32
    }
}

/// One embedded window; times in seconds (chunk-relative from
/// [`embed_chunk`], absolute once the pipeline has placed it).
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Start time.
    pub start: f64,
    /// End time.
    pub end: f64,
    /// The L2-normed speaker embedding.
    pub embedding: Vec<f32>,
}

impl Window {
    /// The window's middle.
    pub fn centre(&self) -> f64 {
        0.5 * (self.start + self.end)
    }
}

/// Speech regions from word spans (any order): spans closer than
/// [`JOIN_GAP_SECS`] are joined.
pub fn speech_regions(spans: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = spans
        .into_iter()
        .map(|(a, b)| (a.min(b), a.max(b)))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a - last.1 <= JOIN_GAP_SECS => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Windows (start, end) covering `regions` within `[0, total]` seconds.
pub fn plan_windows(regions: &[(f64, f64)], total: f64) -> Vec<(f64, f64)> {
    let place = |centre: f64| {
        let start = (centre - WINDOW_SECS / 2.0).clamp(0.0, (total - WINDOW_SECS).max(0.0));
        (start, start + WINDOW_SECS)
    };
    let mut out = Vec::new();
    for &(a, b) in regions {
        if b - a <= WINDOW_SECS {
            out.push(place(0.5 * (a + b)));
            continue;
        }
        let mut start = a;
        while start + WINDOW_SECS <= b + 1e-9 {
            out.push((start, start + WINDOW_SECS));
            start += HOP_SECS;
        }
        // The region's tail, if the last window leaves more than a hop's
        // worth of it out.
        if let Some(&(_, last_end)) = out.last() {
            if b - last_end > HOP_SECS / 2.0 {
                out.push(place(b - WINDOW_SECS / 2.0));
            }
        }
    }
    out
}

/// Embeds the speech in one chunk (`samples` at 16 kHz) where `words` (its
/// recognised words, chunk-relative times) say there is speech.
pub fn embed_chunk(
    embedder: &mut SpeakerEmbedder,
    samples: &[f32],
    words: &[Word],
) -> Result<Vec<Window>, ModelError> {
    let spans = words
        .iter()
        .filter(|w| w.kind == WordKind::Word)
        .map(|w| (w.start, w.end));
    let regions = speech_regions(spans);
    if regions.is_empty() {
        return Ok(Vec::new());
    }
    let total = samples.len() as f64 / 16_000.0;
    let planned = plan_windows(&regions, total);
    let frames = embedder.frames(samples);
    let len = (WINDOW_SECS * crate::model::speaker::mel::FRAMES_PER_SEC).round() as usize;
    let zero: Frame = [0.0; N_MELS];
    let windows: Vec<Vec<Frame>> = planned
        .iter()
        .map(|&(a, _)| {
            let first = (a * crate::model::speaker::mel::FRAMES_PER_SEC).round() as usize;
            (first..first + len)
                .map(|t| frames.get(t).copied().unwrap_or(zero))
                .collect()
        })
        .collect();
    let refs: Vec<&[Frame]> = windows.iter().map(Vec::as_slice).collect();
    let embeddings = embedder.embed(&refs)?;
    Ok(planned
        .into_iter()
        .zip(embeddings)
        .map(|((start, end), embedding)| Window {
            start,
            end,
            embedding,
        })
        .collect())
}

/// What [`label`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Distinct speakers labelled.
    pub speakers: usize,
    /// Windows clustered.
    pub windows: usize,
    /// The similarity of the last merge made (logs).
    pub last_merge: Option<f32>,
    /// The best similarity left unmerged (logs).
    pub next_merge: Option<f32>,
}

/// Sets `speaker` on every item (`S1`, `S2`, ... by first appearance) from
/// the time-ordered `windows`; items with no window at all get `UU`.
pub fn label(items: &mut [Item], windows: &[Window], settings: &Settings) -> Outcome {
    let points: Vec<Vec<f32>> = windows.iter().map(|w| w.embedding.clone()).collect();
    let clusters = cluster::cluster(&points, settings.threshold(), settings.max_speakers);
    let mut assignment = clusters.assignment.clone();
    let mut centroids = clusters.centroids.clone();
    absorb_small(&points, &mut assignment, &mut centroids);
    if tracing::enabled!(tracing::Level::DEBUG) && centroids.len() <= 16 {
        for (k, c) in centroids.iter().enumerate() {
            let first = assignment.iter().position(|&a| a == k);
            let n = assignment.iter().filter(|&&a| a == k).count();
            let sims: Vec<String> = centroids
                .iter()
                .map(|o| format!("{:.3}", cluster::cosine(c, o)))
                .collect();
            tracing::debug!(
                "speaker cluster {k}: {n} windows, first at {:.1} s; centroid similarities [{}]",
                first.map_or(0.0, |i| windows[i].start),
                sims.join(" ")
            );
        }
    }
    if settings.prefer_current {
        for i in 1..assignment.len() {
            let (prev, cur) = (assignment[i - 1], assignment[i]);
            if prev != cur {
                let p = &points[i];
                let keep = cluster::cosine(p, &centroids[prev]);
                if keep >= cluster::cosine(p, &centroids[cur]) - PREFER_MARGIN {
                    assignment[i] = prev;
                }
            }
        }
    }
    let centres: Vec<f64> = windows.iter().map(Window::centre).collect();
    let mut speaker: Vec<Option<usize>> = items
        .iter()
        .map(|it| nearest_window(&centres, 0.5 * (it.start + it.end)).map(|w| assignment[w]))
        .collect();
    attach_punctuation(items, &mut speaker);
    smooth_lone_runs(items, &mut speaker);
    // S1, S2, ... in order of first appearance.
    let mut order: Vec<usize> = Vec::new();
    for s in speaker.iter().flatten() {
        if !order.contains(s) {
            order.push(*s);
        }
    }
    for (it, s) in items.iter_mut().zip(&speaker) {
        it.speaker = match s.and_then(|s| order.iter().position(|&o| o == s)) {
            Some(k) => format!("S{}", k + 1),
            None => "UU".to_string(),
        };
    }
    Outcome {
        speakers: order.len(),
        windows: windows.len(),
        last_merge: clusters.last_merge,
        next_merge: clusters.next_merge,
    }
}

/// Gives the windows of clusters smaller than [`MIN_CLUSTER_WINDOWS`] to
/// the nearest bigger cluster, smallest first, and renumbers.
fn absorb_small(points: &[Vec<f32>], assignment: &mut [usize], centroids: &mut Vec<Vec<f32>>) {
    loop {
        let k = centroids.len();
        if k <= 1 {
            return;
        }
        let mut sizes = vec![0usize; k];
        for &a in assignment.iter() {
            sizes[a] += 1;
        }
        let Some(small) = (0..k)
            .filter(|&c| sizes[c] < MIN_CLUSTER_WINDOWS)
            .min_by_key(|&c| (sizes[c], c))
        else {
            return;
        };
        let others: Vec<usize> = (0..k).filter(|&c| c != small).collect();
        let other_centroids: Vec<Vec<f32>> = others.iter().map(|&c| centroids[c].clone()).collect();
        for (i, a) in assignment.iter_mut().enumerate() {
            if *a == small {
                *a = others[cluster::nearest(&points[i], &other_centroids)];
            }
        }
        // Renumber: drop `small`.
        for a in assignment.iter_mut() {
            if *a > small {
                *a -= 1;
            }
        }
        centroids.remove(small);
    }
}

/// The index of the window whose centre is nearest `t` (`centres` sorted).
fn nearest_window(centres: &[f64], t: f64) -> Option<usize> {
    if centres.is_empty() {
        return None;
    }
    let i = centres.partition_point(|&c| c < t);
    let before = i.checked_sub(1);
    let after = (i < centres.len()).then_some(i);
    match (before, after) {
        (Some(b), Some(a)) => Some(if t - centres[b] <= centres[a] - t {
            b
        } else {
            a
        }),
        (Some(b), None) => Some(b),
        (None, a) => a,
    }
}

/// A punctuation mark takes the speaker of the word it attaches to.
fn attach_punctuation(items: &[Item], speaker: &mut [Option<usize>]) {
    for i in 0..items.len() {
        if items[i].kind != ItemKind::Punctuation {
            continue;
        }
        let prev = (0..i).rev().find(|&j| items[j].kind == ItemKind::Word);
        let next = (i + 1..items.len()).find(|&j| items[j].kind == ItemKind::Word);
        let from = match items[i].attaches_to {
            Attach::Next => next.or(prev),
            _ => prev.or(next),
        };
        if let Some(j) = from {
            speaker[i] = speaker[j];
        }
    }
}

/// Short runs of one speaker inside a sentence, between words of a single
/// other speaker, take that speaker.
fn smooth_lone_runs(items: &[Item], speaker: &mut [Option<usize>]) {
    let words: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].kind == ItemKind::Word)
        .collect();
    // A sentence ends after an end-of-sentence mark.
    let ends_sentence = |a: usize, b: usize| (a..b).any(|j| items[j].is_eos);
    let mut start = 0;
    while start < words.len() {
        let s = speaker[words[start]];
        let mut end = start;
        while end + 1 < words.len() && speaker[words[end + 1]] == s {
            end += 1;
        }
        let run = end - start + 1;
        if run <= LONE_RUN_WORDS && start > 0 && end + 1 < words.len() {
            let (before, after) = (words[start - 1], words[end + 1]);
            let other = speaker[before];
            if other == speaker[after] && other != s && !ends_sentence(before, after) {
                speaker[before + 1..after].fill(other);
            }
        }
        start = end + 1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn word(text: &str, start: f64) -> Item {
        Item {
            kind: ItemKind::Word,
            content: text.into(),
            start,
            end: start + 0.4,
            confidence: 1.0,
            channel: None,
            speaker: "UU".into(),
            is_eos: false,
            attaches_to: Attach::None,
            language: None,
        }
    }

    fn dot(start: f64) -> Item {
        Item {
            kind: ItemKind::Punctuation,
            content: ".".into(),
            start,
            end: start,
            confidence: 1.0,
            channel: None,
            speaker: "UU".into(),
            is_eos: true,
            attaches_to: Attach::Previous,
            language: None,
        }
    }

    fn window(start: f64, e: [f32; 2]) -> Window {
        let n = (e[0] * e[0] + e[1] * e[1]).sqrt();
        Window {
            start,
            end: start + WINDOW_SECS,
            embedding: vec![e[0] / n, e[1] / n],
        }
    }

    #[test]
    fn regions_and_windows() {
        let r = speech_regions([(3.0, 3.4), (0.0, 0.5), (0.6, 1.0), (5.0, 9.0)]);
        assert_eq!(r, [(0.0, 1.0), (3.0, 3.4), (5.0, 9.0)]);
        let w = plan_windows(&r, 10.0);
        // A short region gets one window around it, clamped at 0.
        assert_eq!(w[0], (0.0, 1.5));
        assert_eq!(w[1], (2.45, 3.95));
        // 5.0, 5.75, 6.5, 7.25 (ends 8.75): the 0.25 s left is under half a hop.
        let long: Vec<(f64, f64)> = w[2..].to_vec();
        assert_eq!(long.len(), 4);
        assert!((long[3].1 - 8.75).abs() < 1e-9);
        // 0.55 s left: a tail window ends at the region's end.
        let w = plan_windows(&[(5.0, 9.3)], 10.0);
        assert_eq!(w.len(), 5);
        assert!((w[4].1 - 9.3).abs() < 1e-9);
        // A chunk shorter than a window: the window starts at 0.
        assert_eq!(plan_windows(&[(0.1, 0.3)], 0.5), [(0.0, 1.5)]);
    }

    #[test]
    fn labels_in_order_of_first_appearance_with_punctuation() {
        let mut items = vec![
            word("a", 0.2),
            word("b", 0.9),
            dot(1.3),
            word("c", 5.2),
            word("d", 5.8),
            dot(6.2),
        ];
        let mut windows: Vec<Window> = (0..4).map(|i| window(i as f64 * 0.3, [0.0, 1.0])).collect();
        windows.extend((0..4).map(|i| window(4.5 + i as f64 * 0.3, [1.0, 0.05])));
        let out = label(&mut items, &windows, &Settings::default());
        assert_eq!(out.speakers, 2);
        let got: Vec<&str> = items.iter().map(|i| i.speaker.as_str()).collect();
        assert_eq!(got, ["S1", "S1", "S1", "S2", "S2", "S2"]);
        // max_speakers 1 merges them.
        let one = Settings {
            max_speakers: Some(1),
            ..Settings::default()
        };
        assert_eq!(label(&mut items, &windows, &one).speakers, 1);
        assert!(items.iter().all(|i| i.speaker == "S1"));
    }

    #[test]
    fn sensitivity_moves_the_threshold_the_right_way() {
        let low = Settings {
            sensitivity: 0.0,
            ..Settings::default()
        };
        let high = Settings {
            sensitivity: 1.0,
            ..Settings::default()
        };
        assert!(low.threshold() < Settings::default().threshold());
        assert!(high.threshold() > Settings::default().threshold());
    }

    #[test]
    fn a_lone_word_inside_a_sentence_takes_its_neighbours_speaker() {
        let items = vec![
            word("a", 0.0),
            word("b", 0.5),
            word("c", 1.0),
            word("d", 1.5),
        ];
        let mut s = vec![Some(0), Some(1), Some(0), Some(0)];
        smooth_lone_runs(&items, &mut s);
        assert_eq!(s, [Some(0); 4]);
        // Not across a sentence end.
        let items = vec![word("a", 0.0), dot(0.4), word("b", 0.5), word("c", 1.0)];
        let mut s = vec![Some(0), Some(0), Some(1), Some(0)];
        smooth_lone_runs(&items, &mut s);
        assert_eq!(s, [Some(0), Some(0), Some(1), Some(0)]);
    }

    #[test]
    fn no_windows_means_unknown() {
        let mut items = vec![word("a", 0.0)];
        let out = label(&mut items, &[], &Settings::default());
        assert_eq!(out.speakers, 0);
        assert_eq!(items[0].speaker, "UU");
    }
}
