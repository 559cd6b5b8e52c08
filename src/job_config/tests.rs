//! Unit tests for job config parsing, checking and resolution.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn problems(text: &str) -> Vec<String> {
    match JobConfig::parse(text) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => {
            assert!(!e.problems().is_empty(), "{e}");
            e.problems().to_vec()
        }
    }
}

fn resolve(text: &str) -> Result<Effective, JobConfigError> {
    let c = JobConfig::parse(text).unwrap();
    Effective::resolve(Some(&c), None, None, None)
}

#[test]
fn minimal_config_is_accepted() {
    let c = JobConfig::parse(
        r#"{"type": "transcription", "transcription_config": {"language": "en"}}"#,
    )
    .unwrap();
    assert_eq!(c.transcription_config.unwrap().language, "en");
    let c = JobConfig::parse(r#"{"type": "transcription"}"#).unwrap();
    assert!(c.transcription_config.is_none());
}

#[test]
fn malformed_json_reports_line_and_column() {
    let e = JobConfig::parse("{\n  \"type\": \"transcription\",\n  oops\n}").unwrap_err();
    match e {
        JobConfigError::Syntax { line, column, .. } => assert_eq!((line, column), (3, 3)),
        other => panic!("{other}"),
    }
    assert!(matches!(
        JobConfig::parse("").unwrap_err(),
        JobConfigError::Syntax { line: 1, .. }
    ));
}

#[test]
fn unknown_fields_are_all_named_with_their_paths() {
    let p = problems(
        r#"{"type": "transcription", "bogus": 1,
            "transcription_config": {"language": "en", "diarisation": "channel"},
            "output_config": {"srt_overrides": {"max_lines": 2, "max_chars": 3}}}"#,
    );
    // All of them, sorted by path.
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(p[0].starts_with("bogus is not a field"), "{p:#?}");
    assert!(
        p[1].starts_with("output_config.srt_overrides.max_chars is not a field"),
        "{p:#?}"
    );
    assert!(
        p[2].starts_with("transcription_config.diarisation is not a field"),
        "{p:#?}"
    );
    assert!(
        p[2].contains("`diarization`"),
        "lists the known fields: {p:#?}"
    );
}

#[test]
fn unknown_and_unsupported_fields_are_reported_together() {
    let p = problems(
        r#"{"type": "transcription", "x": 1, "transcription_config": {"language": "en", "enable_entities": true}}"#,
    );
    assert_eq!(
        p,
        [
            p[0].clone(),
            "transcription_config.enable_entities is not supported".to_string()
        ]
    );
    assert!(p[0].starts_with("x is not a field"));
}

#[test]
fn unsupported_fields_name_their_paths() {
    let p = problems(
        r#"{"type": "transcription",
            "transcription_config": {"language": "en", "model": "enhanced", "enable_entities": true,
              "punctuation_overrides": {"permitted_marks": ["."], "sensitivity": 0.4},
              "diarization": "speaker", "speaker_diarization_config": {"speakers": []}},
            "fetch_data": {"url": "file:///a.wav", "auth_headers": ["x"]},
            "notification_config": [{"url": "https://example.org"}],
            "tracking": {"title": "t"}}"#,
    );
    for want in [
        "fetch_data.auth_headers is not supported",
        "notification_config is not supported",
        "tracking is not supported",
        "transcription_config.enable_entities is not supported",
        "transcription_config.punctuation_overrides.sensitivity is not supported",
        "transcription_config.speaker_diarization_config.speakers is not supported",
    ] {
        assert!(p.iter().any(|m| m == want), "missing {want:?} in {p:#?}");
    }
    assert_eq!(p.len(), 6, "{p:#?}");
}

#[test]
fn model_standard_or_enhanced_is_accepted_and_echoed() {
    for (field, value) in [("model", "enhanced"), ("operating_point", "standard")] {
        let text = format!(
            r#"{{"type": "transcription", "transcription_config": {{"language": "en", "{field}": "{value}"}}}}"#
        );
        let c = JobConfig::parse(&text).unwrap_or_else(|e| panic!("{field}: {e}"));
        let e = Effective::resolve(Some(&c), None, None, None).unwrap();
        assert_eq!(e.echo["model"], value);
    }
}

#[test]
fn null_means_not_given() {
    let c = JobConfig::parse(
        r#"{"type": "transcription", "notification_config": null,
            "transcription_config": {"language": "en", "additional_vocab": null, "channel_diarization_labels": null}}"#,
    )
    .unwrap();
    assert!(c.notification_config.is_none());
}

#[test]
fn type_errors_name_the_field_path() {
    let p = problems(r#"{"type": "alignment"}"#);
    assert!(
        p[0].starts_with("type: unknown variant `alignment`"),
        "{p:?}"
    );
    let p = problems(
        r#"{"type": "transcription", "transcription_config": {"language": "en", "diarization": "both"}}"#,
    );
    assert!(
        p[0].starts_with("transcription_config.diarization: unknown variant `both`"),
        "{p:?}"
    );
    let p = problems(
        r#"{"type": "transcription", "output_config": {"srt_overrides": {"max_lines": "two"}}}"#,
    );
    assert!(
        p[0].starts_with("output_config.srt_overrides.max_lines: invalid type"),
        "{p:?}"
    );
    let p = problems(
        r#"{"type": "transcription", "transcription_config": {"language": "en",
            "transcript_filtering_config": {"replacements": [{"from": "a", "to": "b"}, {"from": "c"}]}}}"#,
    );
    assert_eq!(
        p,
        ["transcription_config.transcript_filtering_config.replacements[1]: missing field `to`"]
    );
    let p = problems(r#"{"type": "transcription", "transcription_config": {}}"#);
    assert_eq!(p, ["transcription_config: missing field `language`"]);
    let p = problems(r#"{"transcription_config": {"language": "en"}}"#);
    assert_eq!(p, ["missing field `type`"]);
    let p = problems(r#"[1, 2]"#);
    assert_eq!(p, ["the job config must be a JSON object"]);
    let p = problems(r#"{"type": "transcription", "type": "transcription"}"#);
    assert!(p[0].contains("duplicate field `type`"), "{p:?}");
}

#[test]
fn effective_defaults() {
    let e = Effective::resolve(None, None, None, None).unwrap();
    assert_eq!(e.language, "en");
    assert_eq!(e.diarization, Diarization::None);
    assert_eq!(e.srt, Layout::default());
    assert!(e.filters.is_empty());
    assert!(e.input_url.is_none());
    assert_eq!(e.echo, json!({"language": "en", "diarization": "none"}));
    let e = Effective::resolve(None, None, Some("de"), None).unwrap();
    assert_eq!(e.language, "de");
}

#[test]
fn language_flag_overrides_the_config() {
    let c = JobConfig::parse(
        r#"{"type": "transcription", "transcription_config": {"language": "fr"}}"#,
    )
    .unwrap();
    let e = Effective::resolve(Some(&c), None, None, None).unwrap();
    assert_eq!(e.language, "fr");
    let e = Effective::resolve(Some(&c), None, Some("en"), None).unwrap();
    assert_eq!(e.language, "en");
    assert_eq!(e.echo["language"], "en");
}

#[test]
fn channel_diarization_with_labels() {
    let e = resolve(
        r#"{"type": "transcription", "transcription_config": {"language": "en",
            "diarization": "channel", "channel_diarization_labels": ["Agent", "Caller"]}}"#,
    )
    .unwrap();
    assert!(e.per_channel());
    assert_eq!(e.channel_labels, ["Agent", "Caller"]);
    assert_eq!(
        e.echo,
        json!({"language": "en", "diarization": "channel", "channel_diarization_labels": ["Agent", "Caller"]})
    );
}

#[test]
fn bad_channel_labels_are_rejected() {
    let e = resolve(
        r#"{"type": "transcription", "transcription_config": {"language": "en",
            "diarization": "channel", "channel_diarization_labels": ["A b", "", "C", "C"]}}"#,
    )
    .unwrap_err();
    let p = e.problems();
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(p[0].starts_with("transcription_config.channel_diarization_labels[0] \"A b\""));
    assert!(p[1].starts_with("transcription_config.channel_diarization_labels[1] \"\""));
    assert!(p[2].contains("[3] \"C\" repeats"));
    let e = resolve(
        r#"{"type": "transcription", "transcription_config": {"language": "en",
            "channel_diarization_labels": ["A"]}}"#,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("set \"diarization\": \"channel\""),
        "{e}"
    );
}

#[test]
fn srt_overrides() {
    let e = resolve(
        r#"{"type": "transcription", "output_config": {"srt_overrides": {"max_line_length": 20}}}"#,
    )
    .unwrap();
    assert_eq!(
        e.srt,
        Layout {
            max_line_length: 20,
            max_lines: 2
        }
    );
    let e = resolve(
        r#"{"type": "transcription", "output_config": {"srt_overrides": {"max_line_length": 0, "max_lines": -1}}}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.problems(),
        [
            "output_config.srt_overrides.max_line_length must be at least 1, not 0",
            "output_config.srt_overrides.max_lines must be at least 1, not -1"
        ]
    );
}

#[test]
fn filters_are_resolved_and_checked() {
    let e = resolve(
        r#"{"type": "transcription", "transcription_config": {"language": "en",
            "transcript_filtering_config": {"remove_disfluencies": true,
              "replacements": [{"from": "one", "to": "1"}, {"from": "/^t(wo)$/", "to": "2$1"}]},
            "punctuation_overrides": {"permitted_marks": [".", "all"]}}}"#,
    )
    .unwrap();
    assert!(e.filters.remove_disfluencies);
    assert_eq!(e.filters.replacements.len(), 2);
    assert_eq!(
        e.filters.permitted_marks.as_deref(),
        Some(&[".".to_string(), "all".to_string()][..])
    );
    assert_eq!(
        e.echo["transcript_filtering_config"]["replacements"][1]["from"],
        "/^t(wo)$/"
    );
    assert_eq!(e.echo["punctuation_overrides"]["permitted_marks"][0], ".");

    let e = resolve(
        r#"{"type": "transcription", "transcription_config": {"language": "de",
            "transcript_filtering_config": {"remove_disfluencies": true,
              "replacements": [{"from": "/(/", "to": "x"}]},
            "punctuation_overrides": {"permitted_marks": [".", "!!"]}}}"#,
    )
    .unwrap_err();
    let p = e.problems();
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(p[0].contains("remove_disfluencies is supported for English"));
    assert!(p[1].starts_with(
        "transcription_config.transcript_filtering_config.replacements[0].from: malformed regular expression"
    ));
    assert!(
        p[2].starts_with("transcription_config.punctuation_overrides.permitted_marks[1] \"!!\"")
    );
}

#[test]
fn file_urls_only() {
    assert_eq!(
        file_url("file:///tmp/a.wav").unwrap(),
        PathBuf::from("/tmp/a.wav")
    );
    assert_eq!(
        file_url("file://localhost/tmp/a%20b.wav").unwrap(),
        PathBuf::from("/tmp/a b.wav")
    );
    for bad in [
        "https://example.org/a.wav",
        "s3://bucket/a.wav",
        "HTTP://x/y",
    ] {
        let e = file_url(bad).unwrap_err();
        assert!(e.contains("never goes to the network"), "{bad}: {e}");
    }
    assert!(file_url("file://server/share/a.wav")
        .unwrap_err()
        .contains("never goes to the network"));
    assert!(file_url("/tmp/a.wav").is_err());
    assert!(file_url("file:///").is_err());
    assert!(file_url("file:///a%zz").is_err());
}

#[test]
fn fetch_data_gives_the_input_unless_input_is_given() {
    let text = r#"{"type": "transcription", "fetch_data": {"url": "file:///data/x.wav"}}"#;
    let e = resolve(text).unwrap();
    assert_eq!(e.input_url, Some(PathBuf::from("/data/x.wav")));
    let c = JobConfig::parse(text).unwrap();
    let e = Effective::resolve(Some(&c), None, None, Some(Path::new("y.wav"))).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("--input y.wav") && msg.contains("fetch_data.url"),
        "{msg}"
    );
    let e = resolve(r#"{"type": "transcription", "fetch_data": {"url": "https://x.org/a.wav"}}"#)
        .unwrap_err();
    assert!(e.problems()[0]
        .starts_with("fetch_data.url \"https://x.org/a.wav\": hark never goes to the network"));
}

#[test]
fn locate_prefers_the_flag_then_an_existing_default() {
    let dir = tempfile::tempdir().unwrap();
    let default = dir.path().join("config.json");
    assert_eq!(locate(None, &default), None);
    std::fs::write(&default, "{}").unwrap();
    assert_eq!(locate(None, &default), Some(default.clone()));
    assert_eq!(
        locate(Some(Path::new("x.json")), &default),
        Some(PathBuf::from("x.json"))
    );
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.json");
    let e = JobConfig::load(&p).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("job config {}: cannot read", p.display())),
        "{e}"
    );
    std::fs::write(&p, r#"{"type": "transcription", "tracking": {}}"#).unwrap();
    let e = JobConfig::load(&p).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("job config {}: tracking is not supported", p.display())
    );
    std::fs::write(&p, "{\"type\": }").unwrap();
    let e = JobConfig::load(&p).unwrap_err().to_string();
    assert!(e.contains("invalid JSON at line 1, column 10"), "{e}");
}

fn resolve_problems(text: &str) -> Vec<String> {
    resolve(text).unwrap_err().problems().to_vec()
}

#[test]
fn language_auto_with_identification_settings() {
    let e = resolve(
        r#"{"type": "transcription", "transcription_config": {"language": "auto"},
            "language_identification_config": {"expected_languages": ["en", "es"],
              "low_confidence_action": "use_default_language", "default_language": "en"}}"#,
    )
    .unwrap();
    assert_eq!(e.language, AUTO);
    let id = e.identify.unwrap();
    assert_eq!(id.expected, ["en", "es"]);
    assert_eq!(id.action, LowConfidenceAction::UseDefaultLanguage);
    assert_eq!(id.default_language.as_deref(), Some("en"));
    // auto alone: any language, allow.
    let e = resolve(r#"{"type": "transcription", "transcription_config": {"language": "auto"}}"#)
        .unwrap();
    assert_eq!(e.identify.unwrap().action, LowConfidenceAction::Allow);
    // A fixed language has no identification.
    assert!(
        resolve(r#"{"type": "transcription", "transcription_config": {"language": "de"}}"#)
            .unwrap()
            .identify
            .is_none()
    );
}

#[test]
fn identification_settings_are_checked() {
    let p = resolve_problems(
        r#"{"type": "transcription", "transcription_config": {"language": "en"},
            "language_identification_config": {"expected_languages": ["en"]}}"#,
    );
    assert!(
        p[0].starts_with("language_identification_config is given but"),
        "{p:?}"
    );
    let p = resolve_problems(
        r#"{"type": "transcription", "transcription_config": {"language": "auto"},
            "language_identification_config": {"expected_languages": [""],
              "low_confidence_action": "use_default_language"}}"#,
    );
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("expected_languages[0]"));
    assert!(p[1].contains("needs language_identification_config.default_language"));
}

#[test]
fn translation_into_english_only() {
    let e = resolve(
        r#"{"type": "transcription", "transcription_config": {"language": "es"},
            "translation_config": {"target_languages": ["en"]}}"#,
    )
    .unwrap();
    assert_eq!(e.translate_to, ["en"]);
    let p = resolve_problems(
        r#"{"type": "transcription", "transcription_config": {"language": "es"},
            "translation_config": {"target_languages": ["fr", "en"]}}"#,
    );
    assert!(
        p[0].starts_with("translation_config.target_languages: hark translates into English")
            && p[0].ends_with("not \"fr\""),
        "{p:?}"
    );
}

#[test]
fn additional_vocab_is_resolved_echoed_and_limited() {
    let e = resolve(
        r#"{"type": "transcription", "transcription_config": {"language": "en",
            "additional_vocab": [{"content": " gnocchi "}, {"content": "Siobhan", "sounds_like": ["shiv on"]}]}}"#,
    )
    .unwrap();
    assert_eq!(e.vocabulary[0].content, "gnocchi");
    assert_eq!(e.vocabulary[1].sounds_like, ["shiv on"]);
    assert_eq!(e.echo["additional_vocab"][1]["sounds_like"][0], "shiv on");
    let long = "x".repeat(MAX_VOCAB_CHARS + 1);
    let p = resolve_problems(&format!(
        r#"{{"type": "transcription", "transcription_config": {{"language": "en",
            "additional_vocab": [{{"content": ""}}, {{"content": "a", "sounds_like": ["{long}"]}}]}}}}"#
    ));
    assert_eq!(
        p,
        [
            "transcription_config.additional_vocab[0].content is empty".to_string(),
            format!("transcription_config.additional_vocab[1].sounds_like[0] is longer than {MAX_VOCAB_CHARS} characters"),
        ]
    );
}
