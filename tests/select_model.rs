//! `scripts/select-model` (which the Dockerfile uses to put only the files
//! hark will load into the image) picks exactly what hark's
//! `model::whisper::find` picks, for every combination of a Whisper
//! directory's files and of `HARK_WHISPER_INT8` / `HARK_WHISPER_DECODER`.
//! And what it picks is closed: hark, run on only those files with no
//! settings, loads the same ones (so an image built with
//! `HARK_WHISPER_INT8=1` needs no such variable at run time).
//!
//! `find` reads the variables from the process environment, so the tests
//! that set them hold `ENV` while they do.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use hark::model::whisper::{find, Files};

static ENV: Mutex<()> = Mutex::new(());

const INT8: &str = "HARK_WHISPER_INT8";
const DECODER: &str = "HARK_WHISPER_DECODER";

/// Every file name `find` (and `select-model`) distinguishes, for one stem.
fn kinds(stem: &str) -> Vec<String> {
    [
        "encoder.onnx",
        "encoder.int8.onnx",
        "decoder.onnx",
        "decoder.int8.onnx",
        "decoder.hark.onnx",
        "decoder.hark.int8.onnx",
        "tokens.txt",
    ]
    .iter()
    .map(|k| format!("{stem}-{k}"))
    .collect()
}

/// Settings: unset, the one value that switches, and another value.
const INT8_VALUES: [Option<&str>; 3] = [None, Some("1"), Some("0")];
const DECODER_VALUES: [Option<&str>; 3] = [None, Some("sherpa"), Some("hark")];

fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("select-model-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn populate(dir: &Path, names: &[String]) {
    for n in names {
        std::fs::write(dir.join(n), b"").unwrap();
    }
    // Files hark never loads from a Whisper directory are ignored by both.
    std::fs::write(dir.join("README.md"), b"model card").unwrap();
    std::fs::write(dir.join(".hark-stamp"), b"stamp").unwrap();
}

fn set(var: &str, value: Option<&str>) {
    match value {
        Some(v) => std::env::set_var(var, v),
        None => std::env::remove_var(var),
    }
}

/// `find` with the two settings in the process environment.
fn find_with(dir: &Path, int8: Option<&str>, decoder: Option<&str>) -> Option<Vec<String>> {
    set(INT8, int8);
    set(DECODER, decoder);
    let files = find(dir);
    set(INT8, None);
    set(DECODER, None);
    files.map(|f| names(&f))
}

fn names(f: &Files) -> Vec<String> {
    [&f.encoder, &f.decoder, &f.tokens]
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/select-model")
}

/// What `scripts/select-model DIR` prints (`None` when it refuses).
fn select(dir: &Path, int8: Option<&str>, decoder: Option<&str>) -> Option<Vec<String>> {
    let mut cmd = Command::new(script());
    cmd.arg(dir).env_remove(INT8).env_remove(DECODER);
    if let Some(v) = int8 {
        cmd.env(INT8, v);
    }
    if let Some(v) = decoder {
        cmd.env(DECODER, v);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        assert!(
            !out.stderr.is_empty(),
            "{}: select-model failed silently",
            dir.display()
        );
        return None;
    }
    let text = String::from_utf8(out.stdout).unwrap();
    Some(text.lines().map(str::to_owned).collect())
}

/// Checks one directory under every setting; returns how many cases.
fn check(dir: &Path, what: &str) -> usize {
    let mut cases = 0;
    for int8 in INT8_VALUES {
        for decoder in DECODER_VALUES {
            let want = find_with(dir, int8, decoder);
            let got = select(dir, int8, decoder);
            assert_eq!(
                got, want,
                "{what} with {INT8}={int8:?} {DECODER}={decoder:?}: select-model (left) and find (right) differ"
            );
            if let Some(chosen) = want {
                // Only the chosen files, no settings: hark loads them again.
                let only = fresh_dir("closed");
                for n in &chosen {
                    std::fs::write(only.join(n), b"").unwrap();
                }
                assert_eq!(
                    find_with(&only, None, None).as_ref(),
                    Some(&chosen),
                    "{what} with {INT8}={int8:?} {DECODER}={decoder:?}: the chosen files alone load differently"
                );
            }
            cases += 1;
        }
    }
    cases
}

#[test]
fn select_model_picks_what_hark_loads_for_every_file_set_and_setting() {
    let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let all = kinds("tiny.en");
    let mut cases = 0;
    for mask in 0u32..(1 << all.len()) {
        let present: Vec<String> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, n)| n.clone())
            .collect();
        let dir = fresh_dir("set");
        populate(&dir, &present);
        cases += check(&dir, &format!("{present:?}"));
    }
    assert_eq!(cases, 128 * 9);
}

#[test]
fn select_model_takes_the_first_complete_stem_in_name_order() {
    let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let base = kinds("base");
    let tiny = kinds("tiny.en");
    let sets: Vec<Vec<String>> = vec![
        // Both complete: "base" sorts first.
        base.iter().chain(tiny.iter()).cloned().collect(),
        // "base" has no decoder: tiny.en.
        vec![base[0].clone(), base[6].clone()]
            .into_iter()
            .chain(tiny.iter().cloned())
            .collect(),
        // "base" has no tokens: tiny.en.
        base[..6].iter().chain(tiny.iter()).cloned().collect(),
        // Only int8 "base", fp32 tiny.en: base, in either precision order.
        vec![base[1].clone(), base[3].clone(), base[6].clone()]
            .into_iter()
            .chain([tiny[0].clone(), tiny[2].clone(), tiny[6].clone()])
            .collect(),
        // A stem with a dot and a dash, and a decoy that is not an encoder.
        vec![
            "sherpa-onnx-whisper-tiny.en-encoder.onnx".into(),
            "sherpa-onnx-whisper-tiny.en-decoder.onnx".into(),
            "sherpa-onnx-whisper-tiny.en-tokens.txt".into(),
            "x-encoder.onnx.bak".into(),
            "x-tokens.txt".into(),
        ],
        // Nothing of Whisper at all.
        vec!["notes.txt".into()],
    ];
    for (i, set) in sets.iter().enumerate() {
        let dir = fresh_dir(&format!("stems-{i}"));
        populate(&dir, set);
        check(&dir, &format!("{set:?}"));
    }
}

#[test]
fn select_model_takes_model_onnx_before_int8_for_nemo_ctc() {
    // hark loads a NeMo CTC directory (model::load checks it first) with
    // model.onnx preferred over model.int8.onnx (nemo_ctc::from_dir).
    let cases: [(&[&str], Option<&[&str]>); 4] = [
        (
            &["model.onnx", "model.int8.onnx", "tokens.txt"],
            Some(&["model.onnx", "tokens.txt"]),
        ),
        (
            &["model.int8.onnx", "tokens.txt"],
            Some(&["model.int8.onnx", "tokens.txt"]),
        ),
        (&["model.onnx"], None),
        (
            &[
                "model.onnx",
                "tokens.txt",
                "x-encoder.onnx",
                "x-decoder.onnx",
                "x-tokens.txt",
            ],
            Some(&["model.onnx", "tokens.txt"]),
        ),
    ];
    for (i, (present, want)) in cases.iter().enumerate() {
        let dir = fresh_dir(&format!("nemo-{i}"));
        let present: Vec<String> = present.iter().map(|s| s.to_string()).collect();
        populate(&dir, &present);
        let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(select(&dir, None, None), want, "{present:?}");
    }
}

#[test]
fn select_model_copies_the_chosen_files_and_the_model_card() {
    let dir = fresh_dir("copy-src");
    let mut present = kinds("tiny.en");
    present.push("notes.txt".into());
    populate(&dir, &present);
    let dest = fresh_dir("copy-dest").join("model");
    let status = Command::new(script())
        .arg(&dir)
        .arg(&dest)
        .env_remove(INT8)
        .env_remove(DECODER)
        .env_remove("HARK_MODEL_KEEP_ALL")
        .status()
        .unwrap();
    assert!(status.success());
    let mut got: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "README.md",
            "tiny.en-decoder.hark.int8.onnx",
            "tiny.en-encoder.int8.onnx",
            "tiny.en-tokens.txt"
        ]
    );
}

#[test]
fn select_model_names_fetch_model_when_the_directory_is_missing() {
    let out = Command::new(script())
        .arg("/nonexistent/models/whisper-tiny.en")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/models/whisper-tiny.en"), "{err}");
    assert!(err.contains("scripts/fetch-model whisper-tiny.en"), "{err}");
}
