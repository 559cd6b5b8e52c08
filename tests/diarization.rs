//! Speaker diarization (`diarization: "speaker"`) end to end on real speech:
//! with Whisper tiny.en on the six-speaker concat and on single-speaker
//! files, with the built-in digits model on two FSDD speakers, the labels
//! in every format, and the errors when no speaker model is installed.
//!
//! The speaker model (`models/speaker-ge2e`) and Whisper tiny.en are built
//! by set-up (`scripts/test` runs `scripts/fetch-model`); with `CI=true` a
//! missing model or shared file fails the test instead of skipping it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

fn speaker_model() -> Option<PathBuf> {
    fetched_model("speaker-ge2e", "ge2e.onnx")
}

fn tiny() -> Option<PathBuf> {
    fetched_model("whisper-tiny.en", "tiny.en-encoder.onnx")
}

/// A job config asking for speaker diarization, with `extra` fields in
/// `speaker_diarization_config` (none if `null`).
fn config(dir: &Path, extra: serde_json::Value) -> PathBuf {
    let mut tc = serde_json::json!({"language": "en", "diarization": "speaker"});
    if !extra.is_null() {
        tc["speaker_diarization_config"] = extra;
    }
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        serde_json::json!({"type": "transcription", "transcription_config": tc}).to_string(),
    )
    .unwrap();
    path
}

/// Runs hark with speaker diarization; `model` None is the built-in model.
fn diarize(
    model: Option<&Path>,
    input: &Path,
    extra: serde_json::Value,
    args: &[&str],
) -> std::process::Output {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = transcribe(tmp.path(), input);
    cmd.arg("--job-config").arg(config(tmp.path(), extra));
    if let Some(m) = model {
        cmd.arg("--model").arg(m);
    }
    if let Some(s) = speaker_model() {
        cmd.env("HARK_SPEAKER_MODEL", s);
    }
    cmd.args(args).output().unwrap()
}

fn ok(out: &std::process::Output) -> &[u8] {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    &out.stdout
}

/// (start, end, speaker, is_word) of every result.
fn labelled(v: &serde_json::Value) -> Vec<(f64, f64, String, bool)> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["start_time"].as_f64().unwrap(),
                r["end_time"].as_f64().unwrap(),
                r["alternatives"][0]["speaker"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                r["type"] == "word",
            )
        })
        .collect()
}

/// Labels are S1, S2, ... numbered in order of first appearance.
fn assert_first_appearance_order(items: &[(f64, f64, String, bool)]) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    for (_, _, s, _) in items {
        assert!(
            s.starts_with('S') && s[1..].parse::<usize>().is_ok(),
            "label {s:?}"
        );
        if !seen.contains(&s.as_str()) {
            assert_eq!(
                *s,
                format!("S{}", seen.len() + 1),
                "numbered by first appearance"
            );
            seen.push(s);
        }
    }
    seen.len()
}

/// Reference segments: (start, end, speaker).
fn segments(tsv: &Path) -> Vec<(f64, f64, String)> {
    std::fs::read_to_string(tsv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].to_string(),
            )
        })
        .collect()
}

#[test]
fn six_speakers_with_whisper_tiny() {
    let (Some(m), Some(audio), Some(tsv), Some(_)) = (
        tiny(),
        shared("audio/longform/multispeaker_concat.wav"),
        shared("audio/longform/multispeaker_concat.segments.tsv"),
        speaker_model(),
    ) else {
        return;
    };
    let out = diarize(
        Some(&m),
        &audio,
        serde_json::Value::Null,
        &["--parallel", "2"],
    );
    let v = json(ok(&out));
    let items = labelled(&v);
    assert!(items.len() > 200, "{} items", items.len());
    assert_eq!(assert_first_appearance_order(&items), 6);
    assert_eq!(
        v["metadata"]["transcription_config"]["diarization"],
        "speaker"
    );
    // Each reference speaker maps to one label, and no two to the same:
    // the majority label of each segment's words.
    let mut of_speaker: BTreeMap<String, String> = BTreeMap::new();
    let (mut agree, mut total) = (0, 0);
    for (a, b, spk) in segments(&tsv) {
        let words: Vec<&String> = items
            .iter()
            .filter(|(s, e, _, w)| *w && 0.5 * (s + e) >= a && 0.5 * (s + e) < b)
            .map(|(_, _, l, _)| l)
            .collect();
        let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
        for l in &words {
            *counts.entry(l).or_default() += 1;
        }
        let (major, n) = counts.into_iter().max_by_key(|(_, n)| *n).unwrap();
        agree += n;
        total += words.len();
        let prev = of_speaker.insert(spk.clone(), major.clone());
        assert!(
            prev.is_none() || prev.as_ref() == Some(major),
            "{spk} labelled {prev:?} and {major}"
        );
    }
    let labels: std::collections::BTreeSet<&String> = of_speaker.values().collect();
    assert_eq!(labels.len(), 6, "{of_speaker:?}");
    assert!(
        agree as f64 >= 0.95 * total as f64,
        "{agree} of {total} words carry their segment's label"
    );
}

#[test]
fn every_format_shows_speaker_turns() {
    let (Some(m), Some(audio), Some(_)) = (
        tiny(),
        shared("audio/longform/multispeaker_concat.wav"),
        speaker_model(),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = diarize(
        Some(&m),
        &audio,
        serde_json::Value::Null,
        &["--all-formats", tmp.path().to_str().unwrap()],
    );
    let v = json(ok(&out));
    let items = labelled(&v);
    // txt: one paragraph per speaker turn, labelled.
    let txt = std::fs::read_to_string(tmp.path().join("transcript.txt")).unwrap();
    let paragraphs: Vec<&str> = txt.trim_end().split("\n\n").collect();
    let mut turns = Vec::new();
    for (_, _, s, _) in &items {
        if turns.last() != Some(s) {
            turns.push(s.clone());
        }
    }
    assert_eq!(paragraphs.len(), turns.len(), "{txt}");
    for (p, s) in paragraphs.iter().zip(&turns) {
        assert!(
            p.starts_with(&format!("{s}: ")),
            "{p:?} should start with {s}"
        );
    }
    // srt / vtt: every cue is one speaker's, and its words are all that speaker's.
    let srt = std::fs::read_to_string(tmp.path().join("transcript.srt")).unwrap();
    let vtt = std::fs::read_to_string(tmp.path().join("transcript.vtt")).unwrap();
    let secs = |t: &str| {
        let t = t.replace(',', ".");
        let p: Vec<f64> = t.split(':').map(|x| x.trim().parse().unwrap()).collect();
        p[0] * 3600.0 + p[1] * 60.0 + p[2]
    };
    let mut cues = 0;
    for cue in srt.trim_end().split("\n\n") {
        let lines: Vec<&str> = cue.lines().collect();
        let (a, b) = lines[1].split_once(" --> ").unwrap();
        let (a, b) = (secs(a), secs(b));
        let label = lines[2]
            .strip_prefix('[')
            .and_then(|l| l.split_once(']'))
            .map(|(l, _)| l)
            .unwrap_or_else(|| panic!("cue without a label: {cue}"));
        for (s, e, spk, _) in &items {
            if *s >= a - 1e-3 && *e <= b + 1e-3 && spk != label {
                // Another speaker's word inside this cue's time span is only
                // allowed where speakers overlap in time, which they do not here.
                panic!("cue {a}-{b} [{label}] spans a word of {spk} at {s}");
            }
        }
        cues += 1;
    }
    assert!(cues >= 6);
    assert_eq!(vtt.matches("<v S").count(), cues, "{vtt}");
}

#[test]
fn a_single_speaker_gets_one_label() {
    let Some(m) = tiny() else { return };
    if speaker_model().is_none() {
        return;
    }
    for rel in [
        "audio/jfk/jfk.wav",
        "audio/librispeech/1272-128104-0000.wav",
    ] {
        let Some(audio) = shared(rel) else { return };
        let v = json(ok(&diarize(Some(&m), &audio, serde_json::Value::Null, &[])));
        let items = labelled(&v);
        assert!(!items.is_empty(), "{rel}");
        assert_eq!(assert_first_appearance_order(&items), 1, "{rel}");
    }
}

fn write_wav(path: &Path, rate: u32, samples: &[i16]) {
    let data = samples.len() as u32 * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn two_fsdd_speakers_with_the_builtin_digits_model() {
    if speaker_model().is_none() {
        return;
    }
    let Some(dir) = shared("data/fsdd/recordings") else {
        return;
    };
    // 20 digit recordings of one speaker, then 20 of another, 0.3 s apart.
    let mut pcm: Vec<i16> = Vec::new();
    let mut rate0 = 0;
    let mut boundary = 0.0;
    for (k, spk) in ["jackson", "theo"].iter().enumerate() {
        for i in 0..20 {
            let (rate, s) = read_wav(&dir.join(format!("{}_{spk}_{}.wav", i % 10, i / 10 + 5)));
            assert!(rate0 == 0 || rate == rate0);
            rate0 = rate;
            pcm.extend(s);
            pcm.extend(std::iter::repeat_n(0, rate as usize * 3 / 10));
        }
        if k == 0 {
            boundary = pcm.len() as f64 / f64::from(rate0);
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("two-speakers.wav");
    write_wav(&wav, rate0, &pcm);
    let v = json(ok(&diarize(None, &wav, serde_json::Value::Null, &[])));
    let items = labelled(&v);
    let words: Vec<&(f64, f64, String, bool)> = items.iter().filter(|i| i.3).collect();
    assert!(words.len() >= 30, "{} words", words.len());
    assert_eq!(assert_first_appearance_order(&items), 2);
    let wrong = words
        .iter()
        .filter(|(s, e, l, _)| (0.5 * (s + e) < boundary) != (l == "S1"))
        .count();
    assert!(
        wrong * 10 <= words.len(),
        "{wrong} of {} words on the wrong side of {boundary:.1} s",
        words.len()
    );
    // max_speakers 1 gives one label.
    let v = json(ok(&diarize(
        None,
        &wav,
        serde_json::json!({"max_speakers": 1}),
        &[],
    )));
    assert_eq!(assert_first_appearance_order(&labelled(&v)), 1);
}

#[test]
fn no_speaker_model_is_exit_5_naming_where_it_looked() {
    let Some(audio) = shared("audio/jfk/jfk.wav") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // An empty directory given as the model: clear error, exit 5.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = transcribe(tmp.path(), &audio)
        .arg("--job-config")
        .arg(config(tmp.path(), serde_json::Value::Null))
        .env("HARK_SPEAKER_MODEL", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no ge2e.onnx"), "{err}");
    assert!(err.contains("scripts/fetch-model speaker-ge2e"), "{err}");
    assert!(out.stdout.is_empty());
    // No model anywhere (the built-in ASR model has no directory beside it).
    if !Path::new("/opt/hark/speaker").exists() {
        let out = transcribe(tmp.path(), &audio)
            .arg("--job-config")
            .arg(config(tmp.path(), serde_json::Value::Null))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(5));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("diarization \"speaker\" needs a speaker model"),
            "{err}"
        );
        assert!(err.contains("/opt/hark/speaker"), "{err}");
    }
}

#[test]
fn speaker_config_values_are_checked() {
    use hark::job_config::JobConfig;
    let problems = |tc: &str| {
        let text = format!(r#"{{"type": "transcription", "transcription_config": {tc}}}"#);
        match JobConfig::parse(&text).and_then(|c| {
            hark::job_config::Effective::resolve(Some(&c), None, None, None).map(|_| ())
        }) {
            Ok(()) => Vec::new(),
            Err(e) => e.problems().to_vec(),
        }
    };
    assert!(problems(
        r#"{"language": "en", "diarization": "speaker",
            "speaker_diarization_config": {"speaker_sensitivity": 0.7, "prefer_current_speaker": true, "max_speakers": 3}}"#
    )
    .is_empty());
    let p = problems(
        r#"{"language": "en", "diarization": "speaker",
            "speaker_diarization_config": {"speaker_sensitivity": 1.5, "max_speakers": 0}}"#,
    );
    assert!(
        p.iter()
            .any(|m| m.contains("speaker_sensitivity must be between 0 and 1")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.contains("max_speakers must be at least 1")),
        "{p:?}"
    );
    let p = problems(
        r#"{"language": "en", "diarization": "speaker", "speaker_diarization_config": {"get_speakers": true}}"#,
    );
    assert_eq!(
        p,
        ["transcription_config.speaker_diarization_config.get_speakers is not supported"]
    );
    let p = problems(
        r#"{"language": "en", "speaker_diarization_config": {"speaker_sensitivity": 0.5}}"#,
    );
    assert!(p[0].contains("set \"diarization\": \"speaker\""), "{p:?}");
    // The spec has no channel_and_speaker: refused, naming it.
    let p = problems(r#"{"language": "en", "diarization": "channel_and_speaker"}"#);
    assert!(
        p[0].starts_with("transcription_config.diarization: unknown variant `channel_and_speaker`"),
        "{p:?}"
    );
}
