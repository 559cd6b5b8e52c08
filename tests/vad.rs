//! `--vad-model`: Silero VAD (from `../shared/models/silero-vad`, never
//! committed) instead of the built-in energy detector finds the pauses.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn silero() -> Option<PathBuf> {
    shared("models/silero-vad/silero_vad.onnx")
}

fn run_ok(cmd: &mut assert_cmd::Command) -> (serde_json::Value, String) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    (json(&out.stdout), stderr)
}

fn expected(wav: &Path) -> Vec<String> {
    std::fs::read_to_string(wav.with_extension("txt"))
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn silero_vad_transcribes_the_digit_fixtures() {
    let Some(vad) = silero() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(repo("tests/fixtures/digits"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    wavs.sort();
    assert!(wavs.len() >= 7);
    let (mut errors, mut total) = (0, 0);
    for wav in &wavs {
        let (v, stderr) = run_ok(
            transcribe(tmp.path(), wav)
                .arg("-v")
                .arg("--vad-model")
                .arg(&vad),
        );
        assert!(stderr.contains("Silero VAD"), "{stderr}");
        let (e, n) = word_errors(&expected(wav), &words(&v));
        eprintln!("{}: {e} errors / {n} words", wav.display());
        errors += e;
        total += n;
    }
    let wer = errors as f64 / total as f64;
    eprintln!(
        "fixture WER with Silero VAD {:.2}% ({errors}/{total})",
        100.0 * wer
    );
    assert!(wer <= 0.05, "WER {:.2}% over 5%", 100.0 * wer);
}

#[test]
fn silero_vad_is_deterministic_across_workers_and_set_by_env() {
    let Some(vad) = silero() else { return };
    let long = repo("tests/fixtures/digits/long-60s.wav");
    let tmp = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for n in ["1", "2"] {
        let (v, _) = run_ok(
            transcribe(tmp.path(), &long)
                .args(["--parallel", n])
                .arg("--vad-model")
                .arg(&vad),
        );
        runs.push(serde_json::to_string(&strip_volatile(v)).unwrap());
    }
    let (v, stderr) = run_ok(
        transcribe(tmp.path(), &long)
            .arg("-v")
            .env("HARK_VAD_MODEL", &vad),
    );
    assert!(stderr.contains("Silero VAD"), "{stderr}");
    runs.push(serde_json::to_string(&strip_volatile(v)).unwrap());
    assert_eq!(runs[0], runs[1], "transcript differs across --parallel");
    assert_eq!(runs[0], runs[2], "HARK_VAD_MODEL differs from --vad-model");
    // Word times stay absolute and ordered.
    let v: serde_json::Value = serde_json::from_str(&runs[0]).unwrap();
    let starts: Vec<f64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["start_time"].as_f64().unwrap())
        .collect();
    assert!(starts.len() > 60, "{} words", starts.len());
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    assert!(starts.last().copied().unwrap_or(0.0) > 50.0);
}

#[test]
fn a_missing_or_wrong_vad_model_is_a_model_error() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = repo("samples/digits.wav");
    let cases = [
        (tmp.path().join("nope.onnx"), "--vad-model"),
        (
            repo("models/digits-en/model.onnx"),
            "not a Silero v5 VAD model",
        ),
        (
            repo("models/digits-en/tokens.txt"),
            "not a loadable ONNX model",
        ),
    ];
    for (path, want) in cases {
        let out = transcribe(tmp.path(), &wav)
            .arg("--vad-model")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{}: {stderr}", path.display());
        assert!(out.stdout.is_empty());
        let first = stderr.lines().next().unwrap_or("");
        assert!(
            first.contains(want) && first.contains(&*path.display().to_string()),
            "{}: first line {first:?}",
            path.display()
        );
    }
}
