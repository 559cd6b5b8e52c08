//! The transcript: what hark recognised, independent of any output format.
//!
//! [`Transcript`] holds the job description, the metadata echoed to the user
//! and the time-ordered items (words and punctuation). The format modules
//! ([`json_v2`], ...) only render it.
//!
//! Imports nothing from the rest of hark.

pub mod filter;
pub mod json_v2;
pub mod subtitles;
pub mod txt;

use serde::Serialize;

/// The kind of a transcript item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A word.
    Word,
    /// A punctuation mark.
    Punctuation,
}

/// How a punctuation mark joins its neighbours (json-v2 `attaches_to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Attach {
    /// Against the previous word.
    Previous,
    /// Against the next word.
    Next,
    /// Between two words, no spaces.
    Both,
    /// Free-standing.
    None,
}

/// One recognised word or punctuation mark.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Word or punctuation.
    pub kind: ItemKind,
    /// The text.
    pub content: String,
    /// Start time in seconds from the start of the audio.
    pub start: f64,
    /// End time in seconds.
    pub end: f64,
    /// Confidence 0..=1.
    pub confidence: f64,
    /// Channel label (`channel_1`, ...) under channel diarization.
    pub channel: Option<String>,
    /// Speaker label (`UU` when unknown).
    pub speaker: String,
    /// For punctuation: it ends a sentence.
    pub is_eos: bool,
    /// For punctuation: how it joins its neighbours (ignored for words).
    pub attaches_to: Attach,
    /// The language it was transcribed in; `None`: the transcript's.
    pub language: Option<String>,
}

/// Describes the job, as the Speechmatics `JobInfo` does.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Job id (`SM_JOB_ID` or generated).
    pub id: String,
    /// Name of the input (file name, or `stdin`).
    pub data_name: String,
    /// Audio duration in seconds.
    pub duration: f64,
    /// When the job was created (RFC 3339).
    pub created_at: String,
}

/// Properties of the language, echoed as `language_pack_info`.
#[derive(Clone, Debug, PartialEq)]
pub struct LanguagePack {
    /// E.g. "English".
    pub description: String,
    /// Separator between words.
    pub word_delimiter: String,
}

/// One alternative of a language identification result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LanguageAlternative {
    /// Language code.
    pub language: String,
    /// Probability 0..=1.
    pub confidence: f64,
}

/// The identification of one stretch of speech.
#[derive(Clone, Debug, PartialEq)]
pub struct LanguageResult {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// Most likely first.
    pub alternatives: Vec<LanguageAlternative>,
}

/// `metadata.language_identification` (`LanguageIdentificationResult`).
#[derive(Clone, Debug, PartialEq)]
pub struct LanguageIdentification {
    /// Per stretch of speech.
    pub results: Vec<LanguageResult>,
    /// `LOW_CONFIDENCE`, `UNEXPECTED_LANGUAGE` or `NO_SPEECH`.
    pub error: Option<&'static str>,
    /// What the error means here.
    pub message: Option<String>,
}

/// A translated sentence (`TranslationSentence`).
#[derive(Clone, Debug, PartialEq)]
pub struct TranslationSentence {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// The translated text.
    pub content: String,
    /// Speaker label (`UU` when unknown).
    pub speaker: String,
    /// Channel label under channel diarization.
    pub channel: Option<String>,
}

/// A complete transcript.
#[derive(Clone, Debug, PartialEq)]
pub struct Transcript {
    /// The job.
    pub job: Job,
    /// When the transcript was made (RFC 3339).
    pub created_at: String,
    /// The effective `transcription_config`, echoed verbatim in metadata.
    pub transcription_config: serde_json::Value,
    /// The language pack.
    pub language_pack: LanguagePack,
    /// The language of the items.
    pub language: String,
    /// Extra notes for metadata (e.g. license expiry).
    pub notes: Vec<(String, serde_json::Value)>,
    /// Time-ordered items.
    pub items: Vec<Item>,
    /// Subtitle layout (`output_config.srt_overrides`).
    pub subtitles: subtitles::Layout,
    /// The language identification, when one was asked for.
    pub language_identification: Option<LanguageIdentification>,
    /// Translations by target language code, in the order asked.
    pub translations: Vec<(String, Vec<TranslationSentence>)>,
}

/// The speaker of the words between `start` and `end` seconds: the label
/// that covers the most of their time (the first one on a tie), `UU` when
/// no word there has a speaker. Gives a translated sentence its speaker.
pub fn speaker_between(items: &[Item], start: f64, end: f64) -> String {
    let mut time: Vec<(&str, f64)> = Vec::new();
    for i in items
        .iter()
        .filter(|i| i.kind == ItemKind::Word && i.speaker != "UU")
    {
        let overlap = i.end.min(end) - i.start.max(start);
        let mid = 0.5 * (i.start + i.end);
        if overlap <= 0.0 && !(start..=end).contains(&mid) {
            continue;
        }
        let w = overlap.max(1e-3);
        match time.iter_mut().find(|(s, _)| *s == i.speaker) {
            Some((_, t)) => *t += w,
            None => time.push((&i.speaker, w)),
        }
    }
    time.iter()
        .fold(None::<(&str, f64)>, |best, &(s, t)| match best {
            Some((_, b)) if b >= t => best,
            _ => Some((s, t)),
        })
        .map_or_else(|| "UU".to_string(), |(s, _)| s.to_string())
}

/// Rounds seconds (or a confidence) to two decimals, as Speechmatics does.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Describes a language code for `language_pack_info`.
pub fn language_pack(code: &str) -> LanguagePack {
    let description = match code {
        "en" => "English",
        "de" => "German",
        "fr" => "French",
        "es" => "Spanish",
        "it" => "Italian",
        "nl" => "Dutch",
        "pt" => "Portuguese",
        _ => code,
    };
    let word_delimiter = match code {
        "ja" | "cmn" | "yue" | "zh" | "th" => "",
        _ => " ",
    };
    LanguagePack {
        description: description.to_string(),
        word_delimiter: word_delimiter.to_string(),
    }
}

/// The current UTC time in RFC 3339 with microseconds, e.g. `2026-11-21T10:00:00.123456Z`.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    now.format(&fmt)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(speaker: &str, start: f64, end: f64) -> Item {
        Item {
            kind: ItemKind::Word,
            content: "w".into(),
            start,
            end,
            confidence: 1.0,
            channel: None,
            speaker: speaker.into(),
            is_eos: false,
            attaches_to: Attach::None,
            language: None,
        }
    }

    #[test]
    fn a_sentence_takes_the_speaker_of_most_of_its_words() {
        let items = [
            word("S1", 0.0, 1.0),
            word("S2", 1.0, 1.2),
            word("S2", 3.0, 4.0),
        ];
        assert_eq!(speaker_between(&items, 0.0, 1.3), "S1");
        assert_eq!(speaker_between(&items, 2.9, 4.0), "S2");
        assert_eq!(speaker_between(&items, 5.0, 6.0), "UU");
        assert_eq!(speaker_between(&[word("UU", 0.0, 1.0)], 0.0, 1.0), "UU");
    }
}
