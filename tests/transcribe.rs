//! End to end on real speech: the digits model transcribes spoken digits,
//! output validates against the Speechmatics OpenAPI schema, stdin equals a
//! file, and the transcript does not depend on --parallel.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

mod common;

use std::path::Path;

use common::*;

fn run_ok(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn expected_words(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn sample_is_transcribed_correctly_and_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let v = run_ok(&mut transcribe(tmp.path(), &repo("samples/digits.wav")));
    assert_eq!(
        words(&v),
        expected_words(&repo("samples/digits.expected.txt"))
    );
    assert_eq!(v["format"], "2.9");
    assert_eq!(v["job"]["id"], "testjob");
    assert_eq!(v["job"]["data_name"], "digits.wav");
    assert_eq!(v["metadata"]["type"], "transcription");
    assert_eq!(v["metadata"]["transcription_config"]["language"], "en");
    assert_eq!(v["metadata"]["transcription_config"]["diarization"], "none");
    let results = v["results"].as_array().unwrap();
    let mut last = 0.0;
    for r in results {
        let (s, e) = (
            r["start_time"].as_f64().unwrap(),
            r["end_time"].as_f64().unwrap(),
        );
        assert!(s >= last - 1e-9 && e >= s, "times out of order: {r}");
        last = s;
        let c = r["alternatives"][0]["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        assert_eq!(r["alternatives"][0]["speaker"], "UU");
    }
    assert_valid(&v);
    // Nothing left in TMPDIR.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn stdin_gives_the_same_transcript_as_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let from_file = run_ok(&mut transcribe(tmp.path(), &repo("samples/digits.wav")));
    let bytes = std::fs::read(repo("samples/digits.wav")).unwrap();
    let mut cmd = hark(tmp.path());
    cmd.arg("--license").arg(valid_license()).write_stdin(bytes);
    let from_stdin = run_ok(&mut cmd);
    assert_eq!(words(&from_file), words(&from_stdin));
    assert_eq!(from_stdin["job"]["data_name"], "stdin");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "TMPDIR not empty"
    );
}

#[test]
fn connected_digit_fixtures_are_transcribed() {
    let dir = repo("tests/fixtures/digits");
    let mut wavs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    wavs.sort();
    assert!(!wavs.is_empty());
    let tmp = tempfile::tempdir().unwrap();
    let (mut errors, mut total) = (0, 0);
    for wav in &wavs {
        let v = run_ok(&mut transcribe(tmp.path(), wav));
        let (e, n) = word_errors(&expected_words(&wav.with_extension("txt")), &words(&v));
        eprintln!("{}: {e} errors / {n} words", wav.display());
        errors += e;
        total += n;
    }
    let wer = errors as f64 / total as f64;
    eprintln!("fixture WER {:.2}% ({errors}/{total})", 100.0 * wer);
    assert!(wer <= 0.05, "WER {:.2}% over 5%", 100.0 * wer);
}

#[test]
fn parallel_workers_do_not_change_the_transcript() {
    let long = repo("tests/fixtures/digits/long-60s.wav");
    let tmp = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for n in ["1", "2", "3", "4"] {
        let v = run_ok(transcribe(tmp.path(), &long).args(["--parallel", n]));
        runs.push(serde_json::to_string(&strip_volatile(v)).unwrap());
    }
    for r in &runs[1..] {
        assert_eq!(r, &runs[0], "transcript differs across --parallel");
    }
}

#[test]
fn every_shared_audio_file_transcribes_or_fails_with_exit_4() {
    let Some(dir) = shared("audio") else { return };
    let mut files = Vec::new();
    for sub in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        for f in std::fs::read_dir(sub.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            let p = f.path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "md" | "tsv" | "txt") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 20,
        "only {} files under {}",
        files.len(),
        dir.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    for f in &files {
        let out = transcribe(tmp.path(), f)
            .args(["--parallel", "2"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => {
                let v = json(&out.stdout);
                assert!(v["job"]["duration"].as_u64().is_some(), "{}", f.display());
                assert_valid(&v);
            }
            Some(4) => {
                let name = f.file_name().unwrap().to_string_lossy();
                assert!(
                    err.lines().next().unwrap_or("").contains(&*name),
                    "{}: {err}",
                    f.display()
                );
            }
            other => panic!("{}: exit {other:?}: {err}", f.display()),
        }
        eprintln!("{}: exit {:?}", f.display(), out.status.code());
    }
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "TMPDIR not empty"
    );
}

#[test]
fn nothing_is_left_in_home_or_tmpdir() {
    // ONNX Runtime's PyPI build carries a telemetry client that writes
    // $HOME/.cache/Microsoft/... and $TMPDIR/.ses unless hark stops it.
    let tmp = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = transcribe(tmp.path(), &repo("samples/digits.wav"));
    cmd.env("HOME", home.path())
        .env_remove("ORT_DISABLE_TELEMETRY");
    run_ok(&mut cmd);
    assert_eq!(
        std::fs::read_dir(home.path()).unwrap().count(),
        0,
        "HOME not empty"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "TMPDIR not empty"
    );
}
