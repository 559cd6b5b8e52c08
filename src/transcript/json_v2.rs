//! Speechmatics `json-v2` (format "2.9") rendering of a [`Transcript`].
//!
//! Field names, nesting and value conventions follow the batch API's
//! `RetrieveTranscriptResponse`; times and confidences have two decimals.
//!
//! Imports: `transcript` only.

use serde::Serialize;

use serde_json::json;

use super::{round2, Item, ItemKind, LanguageIdentification, Transcript, TranslationSentence};

/// The json-v2 format version hark writes.
pub const FORMAT: &str = "2.9";

#[derive(Serialize)]
struct Doc<'a> {
    format: &'static str,
    job: Job<'a>,
    metadata: Metadata<'a>,
    results: Vec<Result<'a>>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    translations: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct Job<'a> {
    created_at: &'a str,
    data_name: &'a str,
    duration: u64,
    id: &'a str,
}

#[derive(Serialize)]
struct Metadata<'a> {
    created_at: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    transcription_config: &'a serde_json::Value,
    language_pack_info: LanguagePackInfo<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language_identification: Option<serde_json::Value>,
    #[serde(flatten)]
    notes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct LanguagePackInfo<'a> {
    adapted: bool,
    itn: bool,
    language_description: &'a str,
    word_delimiter: &'a str,
    writing_direction: &'static str,
}

#[derive(Serialize)]
struct Result<'a> {
    alternatives: [Alternative<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    attaches_to: Option<super::Attach>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    end_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_eos: Option<bool>,
    start_time: f64,
    #[serde(rename = "type")]
    kind: ItemKind,
}

#[derive(Serialize)]
struct Alternative<'a> {
    confidence: f64,
    content: &'a str,
    language: &'a str,
    speaker: &'a str,
}

fn result<'a>(item: &'a Item, language: &'a str) -> Result<'a> {
    let punct = item.kind == ItemKind::Punctuation;
    Result {
        alternatives: [Alternative {
            confidence: round2(item.confidence),
            content: &item.content,
            language: item.language.as_deref().unwrap_or(language),
            speaker: &item.speaker,
        }],
        attaches_to: punct.then_some(item.attaches_to),
        channel: item.channel.as_deref(),
        end_time: round2(item.end),
        is_eos: punct.then_some(item.is_eos),
        start_time: round2(item.start),
        kind: item.kind,
    }
}

fn identification(l: &LanguageIdentification) -> serde_json::Value {
    let results: Vec<serde_json::Value> = l
        .results
        .iter()
        .map(|r| {
            let alts: Vec<serde_json::Value> = r
                .alternatives
                .iter()
                .map(|a| json!({"confidence": round2(a.confidence), "language": a.language}))
                .collect();
            json!({
                "alternatives": alts,
                "end_time": round2(r.end),
                "start_time": round2(r.start),
            })
        })
        .collect();
    let mut v = json!({ "results": results });
    if let Some(e) = l.error {
        v["error"] = json!(e);
    }
    if let Some(m) = &l.message {
        v["message"] = json!(m);
    }
    v
}

fn sentence(s: &TranslationSentence) -> serde_json::Value {
    let mut v = json!({
        "content": s.content,
        "end_time": round2(s.end),
        "speaker": s.speaker,
        "start_time": round2(s.start),
    });
    if let Some(c) = &s.channel {
        v["channel"] = json!(c);
    }
    v
}

/// Renders `t` as pretty-printed json-v2 text with a trailing newline.
pub fn render(t: &Transcript) -> String {
    let doc = Doc {
        format: FORMAT,
        job: Job {
            created_at: &t.job.created_at,
            data_name: &t.job.data_name,
            duration: t.job.duration.round().max(0.0) as u64,
            id: &t.job.id,
        },
        metadata: Metadata {
            created_at: &t.created_at,
            kind: "transcription",
            transcription_config: &t.transcription_config,
            language_pack_info: LanguagePackInfo {
                adapted: false,
                itn: false,
                language_description: &t.language_pack.description,
                word_delimiter: &t.language_pack.word_delimiter,
                writing_direction: "left-to-right",
            },
            language_identification: t.language_identification.as_ref().map(identification),
            notes: t.notes.iter().cloned().collect(),
        },
        results: t.items.iter().map(|i| result(i, &t.language)).collect(),
        translations: t
            .translations
            .iter()
            .map(|(lang, sentences)| {
                let list: Vec<serde_json::Value> = sentences.iter().map(sentence).collect();
                (lang.clone(), serde_json::Value::Array(list))
            })
            .collect(),
    };
    // Serialising plain structs of strings and finite numbers cannot fail.
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
