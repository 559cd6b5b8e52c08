//! The Speechmatics batch `JobConfig`, field for field, as typed serde structs.
//!
//! These mirror the `definitions` of the batch API's OpenAPI 2.0 document
//! (`JobConfig`, `TranscriptionConfig`, `OutputConfig`, ...). Every struct
//! denies unknown fields, so a typo is an error rather than a setting quietly
//! lost; JSON `null` reads as "not given". Whether hark *implements* a field
//! is decided in [`super`], not here: this module only describes the shape.
//!
//! Imports nothing from the rest of hark.

use serde::Deserialize;

/// `JobType`: the only job type there is.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JobType {
    /// Speech to text.
    Transcription,
}

/// `JobConfig`: the whole job config object.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: JobType,
    /// `fetch_data`: where the audio comes from.
    pub fetch_data: Option<DataFetchConfig>,
    /// `fetch_text`: a text to align (alignment jobs).
    pub fetch_text: Option<DataFetchConfig>,
    /// `transcription_config`.
    pub transcription_config: Option<TranscriptionConfig>,
    /// `notification_config`: callbacks on completion.
    pub notification_config: Option<Vec<NotificationConfig>>,
    /// `tracking`: customer metadata.
    pub tracking: Option<TrackingData>,
    /// `output_config`.
    pub output_config: Option<OutputConfig>,
    /// `translation_config`.
    pub translation_config: Option<TranslationConfig>,
    /// `language_identification_config`.
    pub language_identification_config: Option<LanguageIdentificationConfig>,
    /// `summarization_config`.
    pub summarization_config: Option<SummarizationConfig>,
    /// `sentiment_analysis_config`.
    pub sentiment_analysis_config: Option<EmptyConfig>,
    /// `topic_detection_config`.
    pub topic_detection_config: Option<TopicDetectionConfig>,
    /// `auto_chapters_config`.
    pub auto_chapters_config: Option<EmptyConfig>,
    /// `audio_events_config`.
    pub audio_events_config: Option<AudioEventsConfig>,
}

/// `DataFetchConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataFetchConfig {
    /// `url`.
    pub url: String,
    /// `auth_headers`.
    pub auth_headers: Option<Vec<String>>,
}

/// `Model` (and the deprecated `OperatingPoint`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Model {
    /// `standard`.
    #[serde(rename = "standard")]
    Standard,
    /// `enhanced`.
    #[serde(rename = "enhanced")]
    Enhanced,
    /// `melia-1`.
    #[serde(rename = "melia-1")]
    Melia1,
}

/// `TranscriptionConfig.diarization`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Diarization {
    /// No labels.
    None,
    /// Speaker labels from acoustic matching.
    Speaker,
    /// Each channel on its own, labelled.
    Channel,
}

impl Diarization {
    /// The value as spelled in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Diarization::None => "none",
            Diarization::Speaker => "speaker",
            Diarization::Channel => "channel",
        }
    }
}

/// `TranscriptionConfig.max_delay_mode`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MaxDelayMode {
    /// `fixed`.
    Fixed,
    /// `flexible`.
    Flexible,
}

/// `TranscriptionConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TranscriptionConfig {
    /// `language` (required by the schema).
    pub language: String,
    /// `domain`.
    pub domain: Option<String>,
    /// `output_locale`.
    pub output_locale: Option<String>,
    /// `model`.
    pub model: Option<Model>,
    /// `operating_point` (deprecated spelling of `model`).
    pub operating_point: Option<Model>,
    /// `additional_vocab`.
    pub additional_vocab: Option<Vec<AdditionalVocab>>,
    /// `punctuation_overrides`.
    pub punctuation_overrides: Option<PunctuationOverrides>,
    /// `diarization`.
    pub diarization: Option<Diarization>,
    /// `channel_diarization_labels`.
    pub channel_diarization_labels: Option<Vec<String>>,
    /// `enable_entities`.
    pub enable_entities: Option<bool>,
    /// `max_delay_mode`.
    pub max_delay_mode: Option<MaxDelayMode>,
    /// `audio_filtering_config`.
    pub audio_filtering_config: Option<AudioFilteringConfig>,
    /// `transcript_filtering_config`.
    pub transcript_filtering_config: Option<TranscriptFilteringConfig>,
    /// `speaker_diarization_config`.
    pub speaker_diarization_config: Option<SpeakerDiarizationConfig>,
}

/// One `additional_vocab` entry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdditionalVocab {
    /// `content`.
    pub content: String,
    /// `sounds_like`.
    pub sounds_like: Option<Vec<String>>,
}

/// `punctuation_overrides`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PunctuationOverrides {
    /// `sensitivity` (0..=1).
    pub sensitivity: Option<f64>,
    /// `permitted_marks`: single characters, or `all`.
    pub permitted_marks: Option<Vec<String>>,
}

/// `audio_filtering_config`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AudioFilteringConfig {
    /// `volume_threshold` (0..=100).
    pub volume_threshold: Option<f64>,
}

/// `transcript_filtering_config`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TranscriptFilteringConfig {
    /// `remove_disfluencies`.
    pub remove_disfluencies: Option<bool>,
    /// `replacements`.
    pub replacements: Option<Vec<ReplacementConfig>>,
}

/// One `replacements` entry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReplacementConfig {
    /// `from`: a word, or `/regex/`.
    pub from: String,
    /// `to`.
    pub to: String,
}

/// `speaker_diarization_config`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpeakerDiarizationConfig {
    /// `prefer_current_speaker`.
    pub prefer_current_speaker: Option<bool>,
    /// `speaker_sensitivity`.
    pub speaker_sensitivity: Option<f64>,
    /// `get_speakers`.
    pub get_speakers: Option<bool>,
    /// `speakers`.
    pub speakers: Option<Vec<SpeakersInputItem>>,
    /// `max_speakers`: not in the batch schema (Speechmatics' real-time
    /// `speaker_diarization_config` has it); hark accepts it as an upper
    /// bound on the number of speaker labels.
    pub max_speakers: Option<i64>,
}

/// `SpeakersInputItem`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpeakersInputItem {
    /// `label`.
    pub label: String,
    /// `speaker_identifiers`.
    pub speaker_identifiers: Vec<String>,
}

/// `NotificationConfig.contents` items.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum NotificationContent {
    /// `jobinfo`.
    #[serde(rename = "jobinfo")]
    JobInfo,
    /// `transcript`.
    #[serde(rename = "transcript")]
    Transcript,
    /// `transcript.json-v2`.
    #[serde(rename = "transcript.json-v2")]
    TranscriptJsonV2,
    /// `transcript.txt`.
    #[serde(rename = "transcript.txt")]
    TranscriptTxt,
    /// `transcript.srt`.
    #[serde(rename = "transcript.srt")]
    TranscriptSrt,
    /// `data`.
    #[serde(rename = "data")]
    Data,
    /// `text`.
    #[serde(rename = "text")]
    Text,
}

/// `NotificationConfig.method`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NotificationMethod {
    /// `post`.
    Post,
    /// `put`.
    Put,
}

/// `NotificationConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotificationConfig {
    /// `url`.
    pub url: String,
    /// `contents`.
    pub contents: Option<Vec<NotificationContent>>,
    /// `method`.
    pub method: Option<NotificationMethod>,
    /// `auth_headers`.
    pub auth_headers: Option<Vec<String>>,
}

/// `TrackingData`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrackingData {
    /// `title`.
    pub title: Option<String>,
    /// `reference`.
    pub reference: Option<String>,
    /// `tags`.
    pub tags: Option<Vec<String>>,
    /// `details`: any customer-defined JSON object.
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `OutputConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// `srt_overrides`.
    pub srt_overrides: Option<SrtOverrides>,
}

/// `OutputConfig.srt_overrides`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SrtOverrides {
    /// `max_line_length`: characters per line, spaces included.
    pub max_line_length: Option<i64>,
    /// `max_lines`: lines per cue.
    pub max_lines: Option<i64>,
}

/// `TranslationConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TranslationConfig {
    /// `target_languages`.
    pub target_languages: Vec<String>,
}

/// `LanguageIdentificationConfig.low_confidence_action`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LowConfidenceAction {
    /// `allow`.
    Allow,
    /// `reject`.
    Reject,
    /// `use_default_language`.
    UseDefaultLanguage,
}

/// `LanguageIdentificationConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LanguageIdentificationConfig {
    /// `expected_languages`.
    pub expected_languages: Option<Vec<String>>,
    /// `low_confidence_action`.
    pub low_confidence_action: Option<LowConfidenceAction>,
    /// `default_language`.
    pub default_language: Option<String>,
}

/// `SummarizationConfig.content_type`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SummaryContentType {
    /// `auto`.
    Auto,
    /// `informative`.
    Informative,
    /// `conversational`.
    Conversational,
}

/// `SummarizationConfig.summary_length`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SummaryLength {
    /// `brief`.
    Brief,
    /// `detailed`.
    Detailed,
}

/// `SummarizationConfig.summary_type`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SummaryType {
    /// `paragraphs`.
    Paragraphs,
    /// `bullets`.
    Bullets,
}

/// `SummarizationConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SummarizationConfig {
    /// `content_type`.
    pub content_type: Option<SummaryContentType>,
    /// `summary_length`.
    pub summary_length: Option<SummaryLength>,
    /// `summary_type`.
    pub summary_type: Option<SummaryType>,
}

/// `TopicDetectionConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopicDetectionConfig {
    /// `topics`.
    pub topics: Option<Vec<String>>,
}

/// `AudioEventsConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AudioEventsConfig {
    /// `types`.
    pub types: Option<Vec<String>>,
}

/// A config object the schema defines with no properties
/// (`sentiment_analysis_config`, `auto_chapters_config`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmptyConfig {}
