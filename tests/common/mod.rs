//! Shared helpers for hark's integration tests: run the real binary in a
//! clean environment, find fixtures and `../shared`.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    root().join(rel)
}

/// The dev license signed by the committed development key.
pub fn valid_license() -> PathBuf {
    repo("tests/fixtures/license/valid.json")
}

/// A file under `../shared`. With `CI=true` a missing file fails the test;
/// otherwise it returns None so a developer without `../shared` can run the rest.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared").join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing (CI=true: ../shared must be present)",
            p.display()
        );
    }
    eprintln!("SKIPPED: {} not present", p.display());
    None
}

/// The hark binary with a clean, deterministic environment: no license token,
/// no HARK_MODEL, job id fixed, a private TMPDIR, ONNX Runtime from `.ort/`.
pub fn hark(tmp: &Path) -> Command {
    let mut cmd = Command::cargo_bin("hark").expect("hark binary");
    cmd.env_remove("LICENSE_TOKEN")
        .env_remove("HARK_MODEL")
        .env_remove("HARK_VAD_MODEL")
        .env_remove("HARK_SPEAKER_MODEL")
        .env_remove("RUST_LOG")
        .env_remove("SM_LOG_DIR")
        .env("SM_JOB_ID", "testjob")
        .env("TMPDIR", tmp)
        .env("ORT_DYLIB_PATH", repo(".ort/libonnxruntime.so"))
        .current_dir(tmp);
    cmd
}

/// A hark run with the valid dev license on `input`.
pub fn transcribe(tmp: &Path, input: &Path) -> Command {
    let mut cmd = hark(tmp);
    cmd.arg("--license")
        .arg(valid_license())
        .arg("--input")
        .arg(input);
    cmd
}

/// The words (`content` of `word` results) of a json-v2 transcript.
pub fn words(json: &serde_json::Value) -> Vec<String> {
    json["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|i| i["type"] == "word")
                .filter_map(|i| i["alternatives"][0]["content"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses stdout as JSON.
pub fn json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).expect("stdout is JSON")
}

/// Word error rate counts: (edits, reference length), by Levenshtein alignment.
pub fn word_errors(reference: &[String], hypothesis: &[String]) -> (usize, usize) {
    let (n, m) = (reference.len(), hypothesis.len());
    let mut d: Vec<Vec<usize>> = (0..=n)
        .map(|i| {
            let mut row = vec![0; m + 1];
            row[0] = i;
            row
        })
        .collect();
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + usize::from(reference[i - 1] != hypothesis[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    (d[n][m], n)
}

/// Removes the fields that legitimately differ between runs.
pub fn strip_volatile(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(job) = v.get_mut("job").and_then(|j| j.as_object_mut()) {
        job.remove("created_at");
    }
    if let Some(m) = v.get_mut("metadata").and_then(|j| j.as_object_mut()) {
        m.remove("created_at");
    }
    v
}

/// 16 kHz mono 16-bit WAV bytes of `samples`.
pub fn wav(samples: &[f32]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&16_000u32.to_le_bytes());
    b.extend_from_slice(&32_000u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
    }
    b
}

/// Reads a 16-bit PCM mono WAV: (sample rate, samples).
pub fn read_wav(path: &Path) -> (u32, Vec<i16>) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[0..4], b"RIFF");
    let (mut pos, mut rate) = (12, 0);
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let len = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = &b[pos + 8..(pos + 8 + len).min(b.len())];
        if id == b"fmt " {
            assert_eq!(u16::from_le_bytes([body[0], body[1]]), 1, "PCM");
            assert_eq!(u16::from_le_bytes([body[2], body[3]]), 1, "mono");
            rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
            assert_eq!(u16::from_le_bytes([body[14], body[15]]), 16, "16-bit");
        } else if id == b"data" {
            let s = body
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            return (rate, s);
        }
        pos += 8 + len + (len & 1);
    }
    panic!("{}: no data chunk", path.display());
}

/// Checks `v` against the OpenAPI `RetrieveTranscriptResponse` schema of
/// the Speechmatics reference (skipped without ../shared outside CI).
pub fn assert_valid(v: &serde_json::Value) {
    let Some(yaml) = shared("reference/speechmatics/batch-api-openapi.yaml") else {
        return;
    };
    let mut spec: serde_json::Value =
        serde_yaml::from_str(&std::fs::read_to_string(yaml).unwrap()).unwrap();
    fix_types(&mut spec);
    let schema = serde_json::json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "$ref": "#/definitions/RetrieveTranscriptResponse",
        "definitions": spec["definitions"],
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
}

/// The reference YAML spells one type `number,` (SentimentSegment.confidence);
/// JSON Schema compilers reject it, so trailing commas are trimmed.
fn fix_types(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if let (true, Some(t)) = (k == "type", x.as_str()) {
                    *x = serde_json::Value::from(t.trim_end_matches(','));
                } else {
                    fix_types(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(fix_types),
        _ => {}
    }
}

/// `models/NAME` (made by `scripts/fetch-model NAME`) if `file` is in it;
/// else None (the test skips) — or, with `CI=true`, a failure.
pub fn fetched_model(name: &str, file: &str) -> Option<PathBuf> {
    let dir = repo("models").join(name);
    if dir.join(file).is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing (CI=true): run scripts/fetch-model {name}",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: {} not present (scripts/fetch-model {name})",
        dir.display()
    );
    None
}

/// A converted Whisper directory, `models/whisper-NAME` ([`fetched_model`]).
pub fn whisper_model(name: &str) -> Option<PathBuf> {
    let stem = name.trim_start_matches("whisper-");
    fetched_model(name, &format!("{stem}-encoder.onnx"))
}
