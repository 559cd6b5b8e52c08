//! The Speechmatics job config (`--job-config PATH`, else `/config.json`):
//! loaded, checked, and resolved into the settings hark acts on.
//!
//! [`schema`] mirrors the full `JobConfig` of the batch API. Loading is
//! strict, so a config never means something other than what it says:
//!
//! - malformed JSON is an error with its line and column;
//! - a field the schema does not have is an error naming its path
//!   (`transcription_config.diarisation`), every such field at once;
//! - a field the schema has but hark does not implement is an error naming
//!   its path (`transcription_config.enable_entities is not supported`), as is
//!   a value hark does not implement;
//! - explicit `null` means "not given".
//!
//! What hark implements: `type: transcription`; `transcription_config.language`;
//! `diarization: none | channel | speaker`, with `channel_diarization_labels`
//! for `channel` (channels beyond the labels given are labelled `channel_N`;
//! labels beyond the channels are unused) and
//! `speaker_diarization_config.{speaker_sensitivity, prefer_current_speaker,
//! max_speakers}` for `speaker` (`max_speakers` is not in the batch schema:
//! accepted as an upper bound); `transcript_filtering_config.{replacements,
//! remove_disfluencies}` (disfluencies: English only);
//! `punctuation_overrides.permitted_marks`; `output_config.srt_overrides`;
//! `fetch_data.url` with a `file://` URL (hark never goes to the network);
//! `language: "auto"` with `language_identification_config`;
//! `translation_config` into `en`; `additional_vocab`; `operating_point`.
//!
//! The config is only read, never written, so it may sit on a read-only
//! mount or a tmpfs in a `--read-only` container.
//!
//! Imports: `transcript` (subtitle layout, filters).

mod parse;
pub mod schema;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::transcript::filter::{Filters, Replacement};
use crate::transcript::subtitles::Layout;
pub use schema::{Diarization, JobConfig, LowConfidenceAction, Model};

/// The language used when neither `--language` nor the config gives one.
pub const DEFAULT_LANGUAGE: &str = "en";

/// The `language` value that asks hark to identify the language.
pub const AUTO: &str = "auto";

/// Language identification as asked (`language: "auto"` and
/// `language_identification_config`).
#[derive(Clone, Debug, PartialEq)]
pub struct Identify {
    /// `expected_languages`: the candidates; empty: any the model knows.
    pub expected: Vec<String>,
    /// `low_confidence_action` (default `allow`).
    pub action: LowConfidenceAction,
    /// `default_language`, for `use_default_language`.
    pub default_language: Option<String>,
}

/// One `additional_vocab` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct VocabEntry {
    /// `content`: the word or phrase as it should be written.
    pub content: String,
    /// `sounds_like`: spellings the model may write instead.
    pub sounds_like: Vec<String>,
}

/// At most this many `additional_vocab` entries (the Speechmatics custom
/// dictionary limit).
pub const MAX_VOCAB: usize = 1000;
/// At most this many characters in one `content` or `sounds_like`.
pub const MAX_VOCAB_CHARS: usize = 100;

/// Why a job config cannot be used. Every variant is a usage error (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum JobConfigError {
    /// The file cannot be read.
    #[error("job config {path}: cannot read: {reason}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not well-formed JSON.
    #[error("job config {path}: invalid JSON at line {line}, column {column}: {reason}")]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// Well-formed JSON that is not an acceptable job config; each problem
    /// names the field path.
    #[error("job config {path}: {}", .problems.join("; "))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// One message per problem, each starting with the field path.
        problems: Vec<String>,
    },
    /// The config and a flag disagree.
    #[error("{0}")]
    Conflict(String),
}

/// The config file to use: `flag` if given, else `default` if it exists.
pub fn locate(flag: Option<&Path>, default: &Path) -> Option<PathBuf> {
    match flag {
        Some(p) => Some(p.to_path_buf()),
        None => default.exists().then(|| default.to_path_buf()),
    }
}

/// Locates ([`locate`]), loads and resolves the job config: what `app` calls.
pub fn load_effective(
    flag: Option<&Path>,
    default: &Path,
    language_flag: Option<&str>,
    input_flag: Option<&Path>,
) -> Result<Effective, JobConfigError> {
    let source = locate(flag, default);
    let config = match &source {
        Some(path) => {
            tracing::info!(job_config = %path.display(), "reading job config");
            Some(JobConfig::load(path)?)
        }
        None => None,
    };
    Effective::resolve(
        config.as_ref(),
        source.as_deref(),
        language_flag,
        input_flag,
    )
}

impl JobConfig {
    /// Reads and parses the config at `path`, rejecting unknown and
    /// unsupported fields.
    pub fn load(path: &Path) -> Result<JobConfig, JobConfigError> {
        let text = parse::read(path)?;
        JobConfig::parse(&text).map_err(|e| e.at(path))
    }

    /// Parses config text (see [`JobConfig::load`]); errors name no file.
    pub fn parse(text: &str) -> Result<JobConfig, JobConfigError> {
        let config = parse::parse_typed(text)?;
        let problems = config.unsupported();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(invalid(problems))
        }
    }

    /// One message per field (or value) that hark does not implement.
    pub fn unsupported(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |present: bool, path: &str| {
            if present {
                out.push(format!("{path} is not supported"));
            }
        };
        field(self.fetch_text.is_some(), "fetch_text");
        field(self.notification_config.is_some(), "notification_config");
        field(self.tracking.is_some(), "tracking");
        field(self.summarization_config.is_some(), "summarization_config");
        field(
            self.sentiment_analysis_config.is_some(),
            "sentiment_analysis_config",
        );
        field(
            self.topic_detection_config.is_some(),
            "topic_detection_config",
        );
        field(self.auto_chapters_config.is_some(), "auto_chapters_config");
        field(self.audio_events_config.is_some(), "audio_events_config");
        if let Some(f) = &self.fetch_data {
            field(f.auth_headers.is_some(), "fetch_data.auth_headers");
        }
        if let Some(tc) = &self.transcription_config {
            let p = |f: &str| format!("transcription_config.{f}");
            field(tc.domain.is_some(), &p("domain"));
            field(tc.output_locale.is_some(), &p("output_locale"));
            // `model` / `operating_point` standard | enhanced pick between
            // installed models (see `app`); melia-1 is not one of them.
            let named = |m: Option<schema::Model>| matches!(m, Some(schema::Model::Melia1));
            field(named(tc.model), &p("model"));
            field(named(tc.operating_point), &p("operating_point"));
            field(tc.enable_entities.is_some(), &p("enable_entities"));
            field(tc.max_delay_mode.is_some(), &p("max_delay_mode"));
            field(
                tc.audio_filtering_config.is_some(),
                &p("audio_filtering_config"),
            );
            if let Some(sd) = &tc.speaker_diarization_config {
                field(
                    sd.get_speakers.is_some(),
                    &p("speaker_diarization_config.get_speakers"),
                );
                field(
                    sd.speakers.is_some(),
                    &p("speaker_diarization_config.speakers"),
                );
            }
            if let Some(po) = &tc.punctuation_overrides {
                field(
                    po.sensitivity.is_some(),
                    &p("punctuation_overrides.sensitivity"),
                );
            }
        }
        out
    }
}

/// `speaker_diarization_config` with its defaults filled in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpeakerDiarization {
    /// `speaker_sensitivity`, 0..=1 (default 0.5): higher gives more speakers.
    pub sensitivity: f64,
    /// `prefer_current_speaker` (default false).
    pub prefer_current: bool,
    /// `max_speakers`, if given (at least 1).
    pub max_speakers: Option<usize>,
}

/// `speaker_sensitivity` when the config does not give one.
pub const DEFAULT_SPEAKER_SENSITIVITY: f64 = 0.5;

/// The settings hark runs with, after the config, the flags and the defaults.
#[derive(Clone, Debug)]
pub struct Effective {
    /// The config file read, if any.
    pub source: Option<PathBuf>,
    /// Language code: `--language`, else the config's, else `en`; `auto`
    /// asks for identification ([`Effective::identify`]).
    pub language: String,
    /// Language identification, when `language` is `auto`.
    pub identify: Option<Identify>,
    /// `translation_config.target_languages` (only `en` is accepted).
    pub translate_to: Vec<String>,
    /// `transcription_config.additional_vocab`.
    pub vocabulary: Vec<VocabEntry>,
    /// `operating_point` / `model` (`standard` or `enhanced`), if given.
    pub operating_point: Option<Model>,
    /// `none`, `channel` or `speaker`.
    pub diarization: Diarization,
    /// Labels for channel diarization, as given (may be fewer than channels).
    pub channel_labels: Vec<String>,
    /// Speaker diarization settings (`speaker_diarization_config`, defaults
    /// filled in), when `diarization` is `speaker`.
    pub speaker: Option<SpeakerDiarization>,
    /// Subtitle layout (`output_config.srt_overrides`).
    pub srt: Layout,
    /// Transcript filters (replacements, disfluencies, permitted marks).
    pub filters: Filters,
    /// The input from `fetch_data.url`, when `--input` is not given.
    pub input_url: Option<PathBuf>,
    /// The effective `transcription_config`, echoed in json-v2 metadata.
    pub echo: Value,
}

impl Effective {
    /// Resolves `config` (if any) with the `--language` and `--input` flags.
    pub fn resolve(
        config: Option<&JobConfig>,
        source: Option<&Path>,
        language_flag: Option<&str>,
        input_flag: Option<&Path>,
    ) -> Result<Effective, JobConfigError> {
        let fail = |problems: Vec<String>| match source {
            Some(path) => invalid(problems).at(path),
            None => invalid(problems),
        };
        let tc = config.and_then(|c| c.transcription_config.as_ref());
        let language = match (language_flag, tc) {
            (Some(l), _) => l.to_string(),
            (None, Some(tc)) => tc.language.clone(),
            (None, None) => DEFAULT_LANGUAGE.to_string(),
        };
        let mut problems = Vec::new();
        if language.trim().is_empty() {
            problems.push("transcription_config.language is empty".to_string());
        }
        let diarization = tc.and_then(|t| t.diarization).unwrap_or(Diarization::None);
        let labels = tc
            .and_then(|t| t.channel_diarization_labels.clone())
            .unwrap_or_default();
        problems.extend(check_labels(&labels, diarization));
        let identify = identify(config, &language, &mut problems);
        let translate_to = translation(config, &mut problems);
        let vocabulary = vocabulary(tc, &mut problems);
        let operating_point = tc.and_then(|t| t.model.or(t.operating_point));
        let (speaker, speaker_problems) = speaker_settings(tc, diarization);
        problems.extend(speaker_problems);
        let (filters, filter_problems) = filters(tc, &language);
        problems.extend(filter_problems);
        let (srt, srt_problems) = layout(config.and_then(|c| c.output_config.as_ref()));
        problems.extend(srt_problems);
        let input_url = match config.and_then(|c| c.fetch_data.as_ref()) {
            Some(f) => match file_url(&f.url) {
                Ok(p) => Some(p),
                Err(e) => {
                    problems.push(format!("fetch_data.url {:?}: {e}", f.url));
                    None
                }
            },
            None => None,
        };
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        if let (Some(flag), Some(url)) = (input_flag, &input_url) {
            return Err(JobConfigError::Conflict(format!(
                "--input {} and the job config's fetch_data.url ({}) both name the input: give only one",
                flag.display(),
                url.display()
            )));
        }
        let echo = echo(tc, &language, diarization, &labels);
        Ok(Effective {
            source: source.map(Path::to_path_buf),
            language,
            identify,
            translate_to,
            vocabulary,
            operating_point,
            diarization,
            channel_labels: labels,
            speaker,
            srt,
            filters,
            input_url,
            echo,
        })
    }

    /// Whether each channel is transcribed on its own.
    pub fn per_channel(&self) -> bool {
        self.diarization == Diarization::Channel
    }
}

fn check_labels(labels: &[String], diarization: Diarization) -> Vec<String> {
    const PATH: &str = "transcription_config.channel_diarization_labels";
    let mut out = Vec::new();
    if !labels.is_empty() && diarization != Diarization::Channel {
        out.push(format!(
            "{PATH} is given but diarization is {:?}: set \"diarization\": \"channel\"",
            diarization.as_str()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, l) in labels.iter().enumerate() {
        let ok = !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
        if !ok {
            out.push(format!(
                "{PATH}[{i}] {l:?} is not a valid label (letters, digits, '.' and '_' only)"
            ));
        }
        if !seen.insert(l.as_str()) {
            out.push(format!("{PATH}[{i}] {l:?} repeats an earlier label"));
        }
    }
    out
}

/// `language_identification_config`, which goes with `language: "auto"`.
fn identify(
    config: Option<&JobConfig>,
    language: &str,
    problems: &mut Vec<String>,
) -> Option<Identify> {
    const PATH: &str = "language_identification_config";
    let lid = config.and_then(|c| c.language_identification_config.as_ref());
    if language != AUTO {
        if lid.is_some() {
            problems.push(format!(
                "{PATH} is given but transcription_config.language is {language:?}: set \"language\": \"auto\""
            ));
        }
        return None;
    }
    let expected = lid
        .and_then(|l| l.expected_languages.clone())
        .unwrap_or_default();
    for (i, e) in expected.iter().enumerate() {
        if e.trim().is_empty() || e == AUTO {
            problems.push(format!(
                "{PATH}.expected_languages[{i}] {e:?} is not a language code"
            ));
        }
    }
    let action = lid
        .and_then(|l| l.low_confidence_action)
        .unwrap_or(LowConfidenceAction::Allow);
    let default_language = lid.and_then(|l| l.default_language.clone());
    match (&default_language, action) {
        (None, LowConfidenceAction::UseDefaultLanguage) => problems.push(format!(
            "{PATH}.low_confidence_action \"use_default_language\" needs {PATH}.default_language"
        )),
        (Some(d), _) if d.trim().is_empty() || d == AUTO => {
            problems.push(format!(
                "{PATH}.default_language {d:?} is not a language code"
            ));
        }
        _ => {}
    }
    Some(Identify {
        expected,
        action,
        default_language,
    })
}

/// `translation_config.target_languages`: Whisper translates into English only.
fn translation(config: Option<&JobConfig>, problems: &mut Vec<String>) -> Vec<String> {
    const PATH: &str = "translation_config.target_languages";
    let Some(t) = config.and_then(|c| c.translation_config.as_ref()) else {
        return Vec::new();
    };
    if t.target_languages.is_empty() {
        problems.push(format!("{PATH} is empty"));
    }
    if t.target_languages.len() > 5 {
        problems.push(format!(
            "{PATH} has {} languages; at most 5",
            t.target_languages.len()
        ));
    }
    let others: Vec<&String> = t.target_languages.iter().filter(|l| *l != "en").collect();
    if !others.is_empty() {
        let list: Vec<String> = others.iter().map(|l| format!("{l:?}")).collect();
        problems.push(format!(
            "{PATH}: hark translates into English (\"en\") only (Whisper's translate task), not {}",
            list.join(", ")
        ));
    }
    let mut out = t.target_languages.clone();
    out.dedup();
    out
}

/// `additional_vocab`, checked against the limits.
fn vocabulary(
    tc: Option<&schema::TranscriptionConfig>,
    problems: &mut Vec<String>,
) -> Vec<VocabEntry> {
    const PATH: &str = "transcription_config.additional_vocab";
    let Some(list) = tc.and_then(|t| t.additional_vocab.as_ref()) else {
        return Vec::new();
    };
    if list.len() > MAX_VOCAB {
        problems.push(format!(
            "{PATH} has {} entries; hark takes at most {MAX_VOCAB}",
            list.len()
        ));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let check = |text: &str, what: String, problems: &mut Vec<String>| {
            if text.trim().is_empty() {
                problems.push(format!("{what} is empty"));
            } else if text.chars().count() > MAX_VOCAB_CHARS {
                problems.push(format!(
                    "{what} is longer than {MAX_VOCAB_CHARS} characters"
                ));
            }
        };
        check(&v.content, format!("{PATH}[{i}].content"), problems);
        let sounds = v.sounds_like.clone().unwrap_or_default();
        for (j, s) in sounds.iter().enumerate() {
            check(s, format!("{PATH}[{i}].sounds_like[{j}]"), problems);
        }
        out.push(VocabEntry {
            content: v.content.trim().to_string(),
            sounds_like: sounds.iter().map(|s| s.trim().to_string()).collect(),
        });
    }
    out
}

fn speaker_settings(
    tc: Option<&schema::TranscriptionConfig>,
    diarization: Diarization,
) -> (Option<SpeakerDiarization>, Vec<String>) {
    const PATH: &str = "transcription_config.speaker_diarization_config";
    let mut problems = Vec::new();
    let sd = tc.and_then(|t| t.speaker_diarization_config.as_ref());
    if sd.is_some() && diarization != Diarization::Speaker {
        problems.push(format!(
            "{PATH} is given but diarization is {:?}: set \"diarization\": \"speaker\"",
            diarization.as_str()
        ));
    }
    if diarization != Diarization::Speaker {
        return (None, problems);
    }
    let mut out = SpeakerDiarization {
        sensitivity: DEFAULT_SPEAKER_SENSITIVITY,
        prefer_current: false,
        max_speakers: None,
    };
    if let Some(sd) = sd {
        if let Some(s) = sd.speaker_sensitivity {
            if (0.0..=1.0).contains(&s) {
                out.sensitivity = s;
            } else {
                problems.push(format!(
                    "{PATH}.speaker_sensitivity must be between 0 and 1, not {s}"
                ));
            }
        }
        out.prefer_current = sd.prefer_current_speaker.unwrap_or(false);
        if let Some(m) = sd.max_speakers {
            match usize::try_from(m) {
                Ok(n) if n >= 1 => out.max_speakers = Some(n),
                _ => problems.push(format!("{PATH}.max_speakers must be at least 1, not {m}")),
            }
        }
    }
    (Some(out), problems)
}

/// At most this many `transcript_filtering_config.replacements` ...
const MAX_REPLACEMENTS: usize = 1000;
/// ... of which at most this many regular expressions (each is compiled,
/// within [`crate::transcript::filter::MAX_REGEX_BYTES`]).
const MAX_REGEX_REPLACEMENTS: usize = 100;

fn filters(tc: Option<&schema::TranscriptionConfig>, language: &str) -> (Filters, Vec<String>) {
    let mut problems = Vec::new();
    let mut f = Filters::default();
    let Some(tc) = tc else {
        return (f, problems);
    };
    if let Some(tf) = &tc.transcript_filtering_config {
        const PATH: &str = "transcription_config.transcript_filtering_config";
        f.remove_disfluencies = tf.remove_disfluencies.unwrap_or(false);
        if f.remove_disfluencies && language != "en" {
            problems.push(format!(
                "{PATH}.remove_disfluencies is supported for English (\"en\") only, not {language:?}"
            ));
        }
        let all = tf.replacements.as_deref().unwrap_or_default();
        let regexes = all.iter().filter(|r| Replacement::is_regex_text(&r.from));
        if all.len() > MAX_REPLACEMENTS {
            problems.push(format!(
                "{PATH}.replacements has {} entries; hark takes at most {MAX_REPLACEMENTS}",
                all.len()
            ));
            return (f, problems);
        }
        if regexes.count() > MAX_REGEX_REPLACEMENTS {
            problems.push(format!(
                "{PATH}.replacements has more than {MAX_REGEX_REPLACEMENTS} regular expressions"
            ));
            return (f, problems);
        }
        for (i, r) in all.iter().enumerate() {
            match Replacement::new(&r.from, &r.to) {
                Ok(rep) => f.replacements.push(rep),
                Err(e) => problems.push(format!("{PATH}.replacements[{i}].from: {e}")),
            }
        }
    }
    if let Some(marks) = tc
        .punctuation_overrides
        .as_ref()
        .and_then(|p| p.permitted_marks.as_ref())
    {
        for (i, m) in marks.iter().enumerate() {
            if m != "all" && m.chars().count() != 1 {
                problems.push(format!(
                    "transcription_config.punctuation_overrides.permitted_marks[{i}] {m:?} is not one character or \"all\""
                ));
            }
        }
        f.permitted_marks = Some(marks.clone());
    }
    (f, problems)
}

fn layout(oc: Option<&schema::OutputConfig>) -> (Layout, Vec<String>) {
    let mut layout = Layout::default();
    let mut problems = Vec::new();
    let Some(srt) = oc.and_then(|o| o.srt_overrides.as_ref()) else {
        return (layout, problems);
    };
    let mut take = |value: Option<i64>, name: &str, slot: &mut usize| {
        if let Some(v) = value {
            match usize::try_from(v) {
                Ok(n) if n >= 1 => *slot = n,
                _ => problems.push(format!(
                    "output_config.srt_overrides.{name} must be at least 1, not {v}"
                )),
            }
        }
    };
    take(
        srt.max_line_length,
        "max_line_length",
        &mut layout.max_line_length,
    );
    take(srt.max_lines, "max_lines", &mut layout.max_lines);
    (layout, problems)
}

/// The effective `transcription_config` as hark echoes it: the config's
/// implemented fields with the language actually used.
fn echo(
    tc: Option<&schema::TranscriptionConfig>,
    language: &str,
    diarization: Diarization,
    labels: &[String],
) -> Value {
    let mut v = json!({
        "language": language,
        "diarization": diarization.as_str(),
    });
    if !labels.is_empty() {
        v["channel_diarization_labels"] = json!(labels);
    }
    if let Some(sd) = tc.and_then(|t| t.speaker_diarization_config.as_ref()) {
        let mut m = serde_json::Map::new();
        if let Some(s) = sd.speaker_sensitivity {
            m.insert("speaker_sensitivity".into(), json!(s));
        }
        if let Some(p) = sd.prefer_current_speaker {
            m.insert("prefer_current_speaker".into(), json!(p));
        }
        if let Some(n) = sd.max_speakers {
            m.insert("max_speakers".into(), json!(n));
        }
        v["speaker_diarization_config"] = Value::Object(m);
    }
    if let Some(m) = tc.and_then(|t| t.model.or(t.operating_point)) {
        v["model"] = json!(match m {
            schema::Model::Standard => "standard",
            schema::Model::Enhanced => "enhanced",
            schema::Model::Melia1 => "melia-1",
        });
    }
    if let Some(tf) = tc.and_then(|t| t.transcript_filtering_config.as_ref()) {
        let mut f = serde_json::Map::new();
        if let Some(r) = tf.remove_disfluencies {
            f.insert("remove_disfluencies".into(), json!(r));
        }
        if let Some(reps) = &tf.replacements {
            let reps: Vec<Value> = reps
                .iter()
                .map(|r| json!({"from": r.from, "to": r.to}))
                .collect();
            f.insert("replacements".into(), Value::Array(reps));
        }
        v["transcript_filtering_config"] = Value::Object(f);
    }
    if let Some(marks) = tc
        .and_then(|t| t.punctuation_overrides.as_ref())
        .and_then(|p| p.permitted_marks.as_ref())
    {
        v["punctuation_overrides"] = json!({ "permitted_marks": marks });
    }
    if let Some(vocab) = tc.and_then(|t| t.additional_vocab.as_ref()) {
        let list: Vec<Value> = vocab
            .iter()
            .map(|e| match &e.sounds_like {
                Some(s) => json!({"content": e.content, "sounds_like": s}),
                None => json!({"content": e.content}),
            })
            .collect();
        v["additional_vocab"] = Value::Array(list);
    }
    v
}

/// The local path of a `file://` URL; anything else is refused, because hark
/// never goes to the network.
pub fn file_url(url: &str) -> Result<PathBuf, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("not a URL: use file:///absolute/path".into());
    };
    if !scheme.eq_ignore_ascii_case("file") {
        return Err(format!(
            "hark never goes to the network: only file:// URLs are supported, not {scheme}://; \
             mount the audio and use file:///path or --input"
        ));
    }
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
        return Err(format!(
            "hark never goes to the network: file URL host {host:?} is not this machine; use file:///path"
        ));
    }
    if path.is_empty() || path == "/" {
        return Err("the file URL names no file".into());
    }
    if path.contains(['?', '#']) {
        return Err("file URLs with a query or fragment are not supported".into());
    }
    percent_decode(path).map(PathBuf::from)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-escape at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded path is not UTF-8".into())
}

/// At most this many problems are reported (a hostile config can have a
/// hundred thousand); the last one says how many more there were.
const MAX_PROBLEMS: usize = 20;

fn invalid(problems: Vec<String>) -> JobConfigError {
    let mut problems: Vec<String> = problems.iter().map(|p| parse::escape_controls(p)).collect();
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - (MAX_PROBLEMS - 1);
        problems.truncate(MAX_PROBLEMS - 1);
        problems.push(format!("and {more} more problems"));
    }
    JobConfigError::Invalid {
        path: PathBuf::new(),
        problems,
    }
}

impl JobConfigError {
    /// Sets the config file this error is about.
    fn at(self, file: &Path) -> JobConfigError {
        match self {
            JobConfigError::Syntax {
                line,
                column,
                reason,
                ..
            } => JobConfigError::Syntax {
                path: file.to_path_buf(),
                line,
                column,
                reason,
            },
            JobConfigError::Invalid { problems, .. } => JobConfigError::Invalid {
                path: file.to_path_buf(),
                problems,
            },
            other => other,
        }
    }

    /// The per-field problems, if this error has them.
    pub fn problems(&self) -> &[String] {
        match self {
            JobConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests;
