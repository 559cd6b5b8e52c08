//! Languages and the job-config features Whisper makes possible, end to end
//! with the converted models (`models/whisper-tiny.en`, `models/whisper-base`)
//! on real speech (`../shared/audio`) and the committed synthetic samples
//! (`samples/languages`, `samples/vocab`, made by
//! `scripts/make-language-samples`): `language: "auto"` with
//! `language_identification_config`, translation into English,
//! `additional_vocab`, and `operating_point` picking between two models.
//!
//! With `CI=true` a missing model or shared file fails instead of skipping.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// Runs hark on `input` with `model`, a job config (if any) and flags.
fn run(model: &Path, input: &Path, config: Option<Value>, extra: &[&str]) -> std::process::Output {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = transcribe(tmp.path(), input);
    cmd.arg("--model").arg(model).args(extra);
    if let Some(c) = config {
        let path = tmp.path().join("config.json");
        std::fs::write(&path, c.to_string()).unwrap();
        cmd.arg("--job-config").arg(&path);
    }
    cmd.output().unwrap()
}

fn ok(out: &std::process::Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn auto(lid: Value) -> Value {
    json!({
        "type": "transcription",
        "transcription_config": {"language": "auto"},
        "language_identification_config": lid,
    })
}

fn languages_of_words(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["alternatives"][0]["language"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn top(v: &Value) -> (String, f64) {
    let r = &v["metadata"]["language_identification"]["results"][0]["alternatives"][0];
    (
        r["language"].as_str().unwrap().to_string(),
        r["confidence"].as_f64().unwrap(),
    )
}

#[test]
fn auto_identifies_spanish_swedish_and_english_real_speech() {
    let Some(m) = whisper_model("whisper-base") else {
        return;
    };
    for (file, want, word) in [
        ("audio/mfa/13697_11991_000000.opus", "es", "sorpresa"),
        ("audio/mfa/se10x016-08071999-1334_u0016004.wav", "sv", ""),
        ("audio/jfk/jfk.flac", "en", "country"),
    ] {
        let Some(input) = shared(file) else { return };
        let v = ok(&run(&m, &input, None, &["--language", "auto"]));
        assert_valid(&v);
        let (lang, p) = top(&v);
        assert_eq!(
            lang, want,
            "{file}: {}",
            v["metadata"]["language_identification"]
        );
        assert!(p >= 0.5, "{file}: confidence {p}");
        assert!(v["metadata"]["language_identification"]
            .get("error")
            .is_none());
        // The transcript is in the identified language, and says so.
        assert_eq!(v["metadata"]["transcription_config"]["language"], want);
        let langs = languages_of_words(&v);
        assert!(
            !langs.is_empty() && langs.iter().all(|l| l == want),
            "{file}: {langs:?}"
        );
        let text = words(&v).join(" ").to_lowercase();
        assert!(text.contains(word), "{file}: {text}");
        let r = &v["metadata"]["language_identification"]["results"][0];
        assert!(r["start_time"].as_f64().unwrap() < r["end_time"].as_f64().unwrap());
    }
}

#[test]
fn expected_languages_restrict_and_unexpected_speech_follows_the_action() {
    let Some(m) = whisper_model("whisper-base") else {
        return;
    };
    let Some(sv) = shared("audio/mfa/se10x016-08071999-1334_u0016002.wav") else {
        return;
    };
    // Swedish speech, but only English or Spanish expected.
    let lid = |action: &str| {
        auto(
            json!({"expected_languages": ["en", "es"], "low_confidence_action": action, "default_language": "es"}),
        )
    };
    let v = ok(&run(&m, &sv, Some(lid("allow")), &[]));
    assert_valid(&v);
    let result = &v["metadata"]["language_identification"];
    assert_eq!(result["error"], "UNEXPECTED_LANGUAGE", "{result}");
    let alts = result["results"][0]["alternatives"].as_array().unwrap();
    assert!(
        alts.iter()
            .all(|a| a["language"] == "en" || a["language"] == "es"),
        "{result}"
    );
    // use_default_language: the file is reported (and labelled) in the default.
    let v = ok(&run(&m, &sv, Some(lid("use_default_language")), &[]));
    assert_eq!(v["metadata"]["transcription_config"]["language"], "es");
    // reject: exit 7, one line naming the reason, nothing on stdout.
    let out = run(&m, &sv, Some(lid("reject")), &[]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    let first = err.lines().next().unwrap();
    assert!(
        first.contains("expected_languages") && first.contains("reject"),
        "{first}"
    );
    // The same file with Swedish expected is identified as Swedish.
    let v = ok(&run(
        &m,
        &sv,
        Some(auto(
            json!({"expected_languages": ["sv", "en"], "low_confidence_action": "reject"}),
        )),
        &[],
    ));
    assert_eq!(top(&v).0, "sv");
}

#[test]
fn silence_under_auto_reports_no_speech() {
    let Some(m) = whisper_model("whisper-base") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let wav_path = tmp.path().join("silence.wav");
    std::fs::write(&wav_path, wav(&vec![0.0f32; 16_000 * 3])).unwrap();
    let v = ok(&run(
        &m,
        &wav_path,
        Some(auto(
            json!({"low_confidence_action": "reject", "default_language": "de"}),
        )),
        &[],
    ));
    assert_eq!(
        v["metadata"]["language_identification"]["error"],
        "NO_SPEECH"
    );
    assert_eq!(v["metadata"]["transcription_config"]["language"], "de");
    assert!(words(&v).is_empty());
}

#[test]
fn an_english_only_model_refuses_auto_naming_its_language() {
    let Some(m) = whisper_model("whisper-tiny.en") else {
        return;
    };
    let Some(input) = shared("audio/jfk/jfk.flac") else {
        return;
    };
    let out = run(&m, &input, None, &["--language", "auto"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("auto") && err.contains("only en") && err.contains("multilingual"),
        "{err}"
    );
}

#[test]
fn spanish_is_translated_into_english_and_other_targets_are_refused() {
    let Some(m) = whisper_model("whisper-base") else {
        return;
    };
    let Some(es) = shared("audio/mfa/13697_11991_000000.opus") else {
        return;
    };
    let config = |targets: Value| {
        json!({
            "type": "transcription",
            "transcription_config": {"language": "es"},
            "translation_config": {"target_languages": targets},
        })
    };
    let v = ok(&run(&m, &es, Some(config(json!(["en"]))), &[]));
    assert_valid(&v);
    // The transcript stays Spanish ...
    let text = words(&v).join(" ").to_lowercase();
    assert!(text.contains("sorpresa"), "{text}");
    // ... and translations.en carries English sentences inside the audio.
    let en = v["translations"]["en"].as_array().unwrap();
    assert!(!en.is_empty());
    let english: String = en
        .iter()
        .map(|s| s["content"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(english.to_lowercase().contains("surprise"), "{english}");
    let mut last = 0.0;
    for s in en {
        let (a, b) = (
            s["start_time"].as_f64().unwrap(),
            s["end_time"].as_f64().unwrap(),
        );
        assert!(
            a >= last - 1e-9 && a <= b && b <= v["job"]["duration"].as_f64().unwrap() + 1.0,
            "{s}"
        );
        assert_eq!(s["speaker"], "UU");
        last = a;
    }
    // Whisper translates into English only: others are refused by name.
    let out = run(&m, &es, Some(config(json!(["en", "fr", "de"]))), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"fr\"") && err.contains("\"de\"") && err.contains("English"),
        "{err}"
    );
}

#[test]
fn english_into_english_takes_the_transcripts_sentences_with_any_model() {
    let Some(m) = whisper_model("whisper-tiny.en") else {
        return;
    };
    let Some(jfk) = shared("audio/jfk/jfk.flac") else {
        return;
    };
    let config = json!({
        "type": "transcription",
        "transcription_config": {"language": "en"},
        "translation_config": {"target_languages": ["en"]},
    });
    let v = ok(&run(&m, &jfk, Some(config), &[]));
    let en = v["translations"]["en"].as_array().unwrap();
    let joined: String = en
        .iter()
        .map(|s| s["content"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let plain = ok(&run(&m, &jfk, None, &["--output-format", "json-v2"]));
    assert!(plain.get("translations").is_none());
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let txt = run(&m, &jfk, None, &["--output-format", "txt"]);
    assert_eq!(norm(&joined), norm(&String::from_utf8_lossy(&txt.stdout)));
}

/// The names in samples/vocab/texts.tsv that each transcript gets right.
fn names_found(m: &Path, with_vocab: bool) -> (usize, usize) {
    let text = std::fs::read_to_string(repo("samples/vocab/texts.tsv")).unwrap();
    let (mut found, mut total) = (0, 0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let names: Vec<&str> = f[1].split(';').collect();
        let config = with_vocab.then(|| {
            json!({
                "type": "transcription",
                "transcription_config": {
                    "language": "en",
                    "additional_vocab": names.iter().map(|n| json!({"content": n})).collect::<Vec<_>>(),
                },
            })
        });
        let v = ok(&run(
            m,
            &repo(&format!("samples/vocab/{}.opus", f[0])),
            config,
            &[],
        ));
        let said = words(&v).join(" ");
        total += names.len();
        found += names.iter().filter(|n| said.contains(**n)).count();
    }
    (found, total)
}

#[test]
fn additional_vocab_brings_rare_names_into_the_transcript() {
    let Some(m) = whisper_model("whisper-tiny.en") else {
        return;
    };
    let (before, total) = names_found(&m, false);
    let (after, _) = names_found(&m, true);
    eprintln!(
        "names written correctly: {before}/{total} without additional_vocab, {after}/{total} with"
    );
    assert!(
        after >= before + total / 2,
        "{before} -> {after} of {total}"
    );
}

#[test]
fn an_empty_or_absent_vocabulary_changes_nothing() {
    let Some(m) = whisper_model("whisper-tiny.en") else {
        return;
    };
    let input = repo("samples/english.wav");
    let empty = json!({"type": "transcription", "transcription_config": {"language": "en", "additional_vocab": []}});
    let none = json!({"type": "transcription", "transcription_config": {"language": "en"}});
    for fmt in ["txt", "srt"] {
        let a = run(&m, &input, Some(empty.clone()), &["--output-format", fmt]);
        let b = run(&m, &input, Some(none.clone()), &["--output-format", fmt]);
        assert_eq!(a.status.code(), Some(0));
        assert_eq!(a.stdout, b.stdout, "{fmt}");
    }
    let a = ok(&run(&m, &input, Some(empty), &[]));
    let b = ok(&run(&m, &input, Some(none), &[]));
    assert_eq!(a["results"], b["results"]);
}

#[test]
fn sounds_like_rewrites_what_the_model_writes() {
    let Some(m) = whisper_model("whisper-tiny.en") else {
        return;
    };
    let Some(jfk) = shared("audio/jfk/jfk.flac") else {
        return;
    };
    let config = json!({"type": "transcription", "transcription_config": {"language": "en",
        "additional_vocab": [{"content": "Patria", "sounds_like": ["your country"]}]}});
    let v = ok(&run(&m, &jfk, Some(config), &[]));
    let w = words(&v);
    assert!(w.iter().any(|x| x == "Patria"), "{w:?}");
    assert!(!w.join(" ").contains("your country"), "{w:?}");
}

#[test]
fn additional_vocab_limits_and_greedy_ctc_models_are_refused_by_name() {
    let Some(m) = whisper_model("whisper-tiny.en") else {
        return;
    };
    let input = repo("samples/english.wav");
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"content": format!("w{i}")}))
        .collect();
    let config = json!({"type": "transcription", "transcription_config": {"language": "en", "additional_vocab": many}});
    let out = run(&m, &input, Some(config), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("transcription_config.additional_vocab has 1001 entries"),
        "{err}"
    );
    // The built-in digits model (CTC, greedy) cannot be biased.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("c.json");
    std::fs::write(&path, json!({"type": "transcription", "transcription_config": {"language": "en", "additional_vocab": [{"content": "seven"}]}}).to_string()).unwrap();
    let out = transcribe(tmp.path(), &input)
        .arg("--job-config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("additional_vocab"));
}

#[test]
fn operating_point_enhanced_picks_the_enhanced_model() {
    let (Some(tiny), Some(base)) = (
        whisper_model("whisper-tiny.en"),
        whisper_model("whisper-base"),
    ) else {
        return;
    };
    let Some(es) = shared("audio/mfa/13697_11991_000000.opus") else {
        return;
    };
    let enhanced = ["--enhanced-model", base.to_str().unwrap()];
    // Spanish is beyond tiny.en, so the enhanced model is used even for standard.
    for op in ["standard", "enhanced"] {
        let config = json!({"type": "transcription", "transcription_config": {"language": "es", "operating_point": op}});
        let v = ok(&run(&tiny, &es, Some(config), &enhanced));
        assert!(words(&v).join(" ").to_lowercase().contains("sorpresa"));
        assert_eq!(v["metadata"]["transcription_config"]["model"], op);
    }
    // English: standard is tiny.en, enhanced is base; their transcripts differ
    // somewhere on real speech, and each matches that model run directly.
    let Some(en) = shared("audio/librispeech/1272-141231-0002.flac") else {
        return;
    };
    let op = |p: &str| json!({"type": "transcription", "transcription_config": {"language": "en", "operating_point": p}});
    let std_words = words(&ok(&run(&tiny, &en, Some(op("standard")), &enhanced)));
    let enh_words = words(&ok(&run(&tiny, &en, Some(op("enhanced")), &enhanced)));
    assert_eq!(std_words, words(&ok(&run(&tiny, &en, None, &[]))));
    assert_eq!(
        enh_words,
        words(&ok(&run(&base, &en, None, &["--language", "en"])))
    );
    // Without an enhanced model, enhanced runs the one model there is.
    let only = words(&ok(&run(&tiny, &en, Some(op("enhanced")), &[])));
    assert_eq!(only, std_words);
}
