//! Language identification over a whole file: the per-chunk results the
//! recognizers report, turned into the file's language, the Speechmatics
//! `metadata.language_identification` result, and the verdict that
//! `low_confidence_action` acts on.
//!
//! Each chunk identifies its own language from its first window (one
//! decoder step on the encoding it transcribes from, so nothing is encoded
//! twice) and is transcribed in it. The file's language is the one with the
//! most speech, weighting each chunk's probabilities by its duration.
//!
//! Imports: `job_config` (the settings), `model` (detections), `pipeline`
//! (their times), `transcript` (the result shape).

use crate::job_config::{Identify, LowConfidenceAction};
use crate::pipeline::Identified;
use crate::transcript::{LanguageAlternative, LanguageIdentification, LanguageResult};

/// Below this probability a language is "low confidence", for a chunk and
/// for the file.
pub const MIN_CONFIDENCE: f32 = 0.5;

/// At most this many alternatives per result, each at least
/// [`MIN_ALTERNATIVE`].
const MAX_ALTERNATIVES: usize = 5;
const MIN_ALTERNATIVE: f32 = 0.01;

/// The file-level outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The file's language (for metadata and `language_pack_info`).
    pub language: String,
    /// Its duration-weighted probability.
    pub confidence: f32,
    /// What `metadata.language_identification` says.
    pub result: LanguageIdentification,
    /// Set when `low_confidence_action: reject` rejects the file: why.
    pub rejected: Option<String>,
}

/// Summarizes the chunks' identifications under `settings`; `fallback` is
/// the language reported for a file without speech.
pub fn summarize(identified: &[Identified], settings: &Identify, fallback: &str) -> Outcome {
    let results: Vec<LanguageResult> = identified
        .iter()
        .map(|c| LanguageResult {
            start: c.start,
            end: c.end,
            alternatives: c
                .detection
                .alternatives
                .iter()
                .filter(|(_, p)| *p >= MIN_ALTERNATIVE)
                .take(MAX_ALTERNATIVES)
                .map(|(l, p)| LanguageAlternative {
                    language: l.clone(),
                    confidence: f64::from(*p),
                })
                .collect(),
        })
        .collect();
    if identified.is_empty() {
        let language = settings
            .default_language
            .clone()
            .or_else(|| settings.expected.first().cloned())
            .unwrap_or_else(|| fallback.to_string());
        return Outcome {
            language,
            confidence: 0.0,
            result: LanguageIdentification {
                results,
                error: Some("NO_SPEECH"),
                message: Some("no speech was found to identify a language from".into()),
            },
            rejected: None,
        };
    }
    // Duration-weighted probability per language, in first-seen order so
    // ties break the same way every run.
    let mut weights: Vec<(String, f64)> = Vec::new();
    let mut total = 0.0f64;
    let mut unexpected = 0.0f64;
    for c in identified {
        let w = (c.end - c.start).max(0.01);
        total += w;
        for (l, p) in &c.detection.alternatives {
            match weights.iter_mut().find(|(x, _)| x == l) {
                Some((_, acc)) => *acc += w * f64::from(*p),
                None => weights.push((l.clone(), w * f64::from(*p))),
            }
        }
        if let Some((l, p)) = &c.detection.unrestricted {
            if !settings.expected.contains(l) && *p >= MIN_CONFIDENCE {
                unexpected += w;
            }
        }
    }
    let (top, score) = weights
        .iter()
        .fold(None::<(&String, f64)>, |best, (l, s)| match best {
            Some((_, b)) if b >= *s => best,
            _ => Some((l, *s)),
        })
        .map_or((fallback.to_string(), 0.0), |(l, s)| (l.clone(), s));
    let confidence = (score / total) as f32;
    let (error, message) = if unexpected / total > 0.5 {
        (
            Some("UNEXPECTED_LANGUAGE"),
            Some(format!(
                "most of the speech is in a language not among expected_languages ({})",
                settings.expected.join(", ")
            )),
        )
    } else if confidence < MIN_CONFIDENCE {
        (
            Some("LOW_CONFIDENCE"),
            Some(format!(
                "the most likely language, {top}, has confidence {confidence:.2} (below {MIN_CONFIDENCE})"
            )),
        )
    } else {
        (None, None)
    };
    let language = match (error, &settings.default_language, settings.action) {
        (Some(_), Some(d), LowConfidenceAction::UseDefaultLanguage) => d.clone(),
        _ => top,
    };
    let rejected = match (settings.action, &message) {
        (LowConfidenceAction::Reject, Some(m)) => Some(m.clone()),
        _ => None,
    };
    Outcome {
        language,
        confidence,
        result: LanguageIdentification {
            results,
            error,
            message,
        },
        rejected,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Detection;

    fn chunk(
        start: f64,
        end: f64,
        alts: &[(&str, f32)],
        unrestricted: Option<(&str, f32)>,
    ) -> Identified {
        Identified {
            start,
            end,
            detection: Detection {
                alternatives: alts.iter().map(|(l, p)| (l.to_string(), *p)).collect(),
                unrestricted: unrestricted.map(|(l, p)| (l.to_string(), p)),
                chosen: alts[0].0.to_string(),
                low_confidence: alts[0].1 < MIN_CONFIDENCE,
            },
        }
    }

    fn settings(expected: &[&str], action: LowConfidenceAction, default: Option<&str>) -> Identify {
        Identify {
            expected: expected.iter().map(|s| s.to_string()).collect(),
            action,
            default_language: default.map(String::from),
        }
    }

    #[test]
    fn the_language_with_most_speech_wins() {
        let chunks = [
            chunk(0.0, 2.0, &[("en", 0.9), ("de", 0.1)], None),
            chunk(2.0, 12.0, &[("es", 0.8), ("pt", 0.2)], None),
        ];
        let o = summarize(
            &chunks,
            &settings(&[], LowConfidenceAction::Allow, None),
            "en",
        );
        assert_eq!(o.language, "es");
        assert!((o.confidence - 8.0 / 12.0).abs() < 1e-4);
        assert_eq!(o.result.error, None);
        assert_eq!(o.result.results.len(), 2);
        assert_eq!(o.result.results[1].alternatives[0].language, "es");
        assert_eq!(o.rejected, None);
    }

    #[test]
    fn low_confidence_follows_the_action() {
        let chunks = [chunk(
            0.0,
            5.0,
            &[("sv", 0.4), ("no", 0.35), ("da", 0.25)],
            None,
        )];
        let allow = summarize(
            &chunks,
            &settings(&[], LowConfidenceAction::Allow, None),
            "en",
        );
        assert_eq!(
            (allow.language.as_str(), allow.result.error),
            ("sv", Some("LOW_CONFIDENCE"))
        );
        assert_eq!(allow.rejected, None);
        let reject = summarize(
            &chunks,
            &settings(&[], LowConfidenceAction::Reject, None),
            "en",
        );
        assert!(reject.rejected.unwrap().contains("sv"));
        let default = summarize(
            &chunks,
            &settings(&[], LowConfidenceAction::UseDefaultLanguage, Some("en")),
            "en",
        );
        assert_eq!(default.language, "en");
    }

    #[test]
    fn unexpected_language_and_no_speech() {
        let chunks = [chunk(
            0.0,
            5.0,
            &[("en", 0.6), ("es", 0.4)],
            Some(("fr", 0.95)),
        )];
        let o = summarize(
            &chunks,
            &settings(&["en", "es"], LowConfidenceAction::Reject, None),
            "en",
        );
        assert_eq!(o.result.error, Some("UNEXPECTED_LANGUAGE"));
        assert!(o.rejected.is_some());
        let none = summarize(
            &[],
            &settings(&["es"], LowConfidenceAction::Reject, None),
            "en",
        );
        assert_eq!(
            (none.language.as_str(), none.result.error),
            ("es", Some("NO_SPEECH"))
        );
        assert_eq!(none.rejected, None);
    }
}
