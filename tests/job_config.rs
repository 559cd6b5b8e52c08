//! The job config: every example in the Speechmatics reference pages is
//! accepted or rejected naming the unsupported field; the binary exits 2 with
//! a path-qualified message for bad configs, reads the config before the
//! license (so the license is checked for the config's language), and takes
//! its input from `fetch_data.url` (file:// only).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use hark::job_config::{Diarization, Effective, JobConfig};

const EXAMPLES: &str = "tests/fixtures/job_config/speechmatics";

/// What hark says about each example (fixture name → problems; empty: accepted).
const EXPECTED: &[(&str, &[&str])] = &[
    ("batch-batch-diarization-L40.json", &[]),
    ("batch-batch-diarization-L95.json", &[]),
    ("batch-batch-diarization-L138.json", &[]),
    ("batch-batch-diarization-L162.json", &[]),
    ("batch-output-L62.json", &[]),
    ("batch-output-L203.json", &["tracking is not supported"]),
    ("batch-srt-format-L38.json", &[]),
    ("container-additional-security-L51.json", &[]),
    (
        "formatting-L24.json",
        &["transcription_config.output_locale is not supported"],
    ),
    ("formatting-L178.json", &[]),
    ("formatting-L202.json", &[]),
    (
        "formatting-L259.json",
        &["transcription_config.enable_entities is not supported"],
    ),
    (
        "formatting-L420.json",
        &["transcription_config.punctuation_overrides.sensitivity is not supported"],
    ),
];

fn example(name: &str) -> PathBuf {
    repo(EXAMPLES).join(name)
}

fn index() -> Vec<(String, String, usize)> {
    let text = std::fs::read_to_string(repo(EXAMPLES).join("INDEX.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string(), f[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn every_reference_example_is_accepted_or_names_the_unsupported_fields() {
    let listed: Vec<String> = index().into_iter().map(|(f, _, _)| f).collect();
    let expected: Vec<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
    assert_eq!(listed, expected, "INDEX.tsv and EXPECTED disagree");
    for (name, want) in EXPECTED {
        let path = example(name);
        match JobConfig::load(&path) {
            Ok(c) => {
                assert!(want.is_empty(), "{name} accepted, expected {want:?}");
                Effective::resolve(Some(&c), Some(&path), None, None)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            Err(e) => assert_eq!(e.problems(), *want, "{name}: {e}"),
        }
    }
}

/// The committed fixtures are exactly the config examples of the reference
/// pages (regenerate with `scripts/extract-job-configs`).
#[test]
fn fixtures_match_the_reference_pages() {
    let Some(dir) = shared("reference/speechmatics") else {
        return;
    };
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "mdx"))
        .collect();
    pages.sort();
    let mut found = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            if lines[i].trim() == "```json" {
                let end = (i + 1..lines.len())
                    .find(|&j| lines[j].trim() == "```")
                    .unwrap_or(lines.len());
                let body = lines[i + 1..end].join("\n");
                if body.contains("transcription_config") {
                    let name = page.file_name().unwrap().to_string_lossy().to_string();
                    found.push((name, i + 1));
                }
                i = end;
            }
            i += 1;
        }
    }
    let listed: Vec<(String, usize)> = index().into_iter().map(|(_, s, l)| (s, l)).collect();
    assert_eq!(
        listed, found,
        "reference examples changed: run scripts/extract-job-configs"
    );
}

/// With the unsupported fields taken out, what remains of each example does
/// what the reference says it does.
#[test]
fn examples_without_their_unsupported_fields_take_effect() {
    let trimmed = |name: &str, drop: &[&str]| -> Effective {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(example(name)).unwrap()).unwrap();
        for path in drop {
            let mut node = &mut v;
            let parts: Vec<&str> = path.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                node = node.get_mut(*p).unwrap();
            }
            node.as_object_mut()
                .unwrap()
                .remove(parts[parts.len() - 1])
                .unwrap();
        }
        let c = JobConfig::parse(&v.to_string()).unwrap_or_else(|e| panic!("{name}: {e}"));
        Effective::resolve(Some(&c), None, None, None).unwrap()
    };
    let e = trimmed(
        "batch-batch-diarization-L95.json",
        &["transcription_config.model"],
    );
    assert_eq!(e.diarization, Diarization::Channel);
    assert_eq!(e.channel_labels, ["Agent", "Caller"]);
    assert_eq!(e.echo["channel_diarization_labels"][1], "Caller");

    let e = trimmed("formatting-L178.json", &["transcription_config.model"]);
    assert!(e.filters.remove_disfluencies);

    let e = trimmed("formatting-L202.json", &["transcription_config.model"]);
    assert_eq!(e.filters.replacements.len(), 2);

    let e = trimmed(
        "formatting-L420.json",
        &[
            "transcription_config.model",
            "transcription_config.punctuation_overrides.sensitivity",
        ],
    );
    assert_eq!(
        e.filters.permitted_marks,
        Some(vec![".".to_string(), ",".to_string()])
    );

    let e = trimmed("batch-srt-format-L38.json", &[]);
    assert_eq!((e.srt.max_line_length, e.srt.max_lines), (37, 2));

    let e = trimmed("container-additional-security-L51.json", &[]);
    assert_eq!(e.input_url, Some(PathBuf::from("/tmp/$FILENAME.wav")));
}

// ---- The binary -------------------------------------------------------------

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs hark with the valid license and `config`; returns (code, stdout, first stderr line).
fn run(tmp: &Path, config: &Path, extra: &[&str]) -> (i32, Vec<u8>, String) {
    let out = hark(tmp)
        .arg("--license")
        .arg(valid_license())
        .arg("--job-config")
        .arg(config)
        .args(extra)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    (out.status.code().unwrap_or(-1), out.stdout, line)
}

fn assert_usage(tmp: &Path, config: &Path, extra: &[&str], needles: &[&str]) {
    let (code, stdout, line) = run(tmp, config, extra);
    assert_eq!(code, 2, "{line}");
    assert!(stdout.is_empty());
    assert!(line.starts_with("hark: error: "), "{line}");
    for n in needles {
        assert!(line.contains(n), "{line:?} lacks {n:?}");
    }
}

#[test]
fn malformed_json_exits_2_with_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let c = write(
        tmp.path(),
        "c.json",
        "{\n  \"type\": \"transcription\",\n  \"transcription_config\": {\"language\": \"en\",}\n}\n",
    );
    assert_usage(
        tmp.path(),
        &c,
        &[],
        &["c.json", "invalid JSON at line 3, column"],
    );
}

#[test]
fn unknown_fields_exit_2_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let c = write(
        tmp.path(),
        "c.json",
        r#"{"type": "transcription", "transcription_config": {"language": "en", "diarisation": "channel"}, "extra": true}"#,
    );
    assert_usage(
        tmp.path(),
        &c,
        &[],
        &[
            "transcription_config.diarisation is not a field of the job config",
            "extra is not a field",
        ],
    );
}

#[test]
fn unsupported_fields_exit_2_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let c = write(
        tmp.path(),
        "c.json",
        r#"{"type": "transcription", "transcription_config": {"language": "en", "enable_entities": true}}"#,
    );
    assert_usage(
        tmp.path(),
        &c,
        &[],
        &["transcription_config.enable_entities is not supported"],
    );
    let c = write(
        tmp.path(),
        "d.json",
        r#"{"type": "transcription", "notification_config": [{"url": "https://example.org/cb"}]}"#,
    );
    assert_usage(
        tmp.path(),
        &c,
        &[],
        &["notification_config is not supported"],
    );
}

#[test]
fn a_missing_job_config_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage(
        tmp.path(),
        &tmp.path().join("nope.json"),
        &[],
        &["nope.json", "cannot read"],
    );
}

#[test]
fn the_config_is_checked_before_the_license() {
    let tmp = tempfile::tempdir().unwrap();
    let c = write(
        tmp.path(),
        "c.json",
        r#"{"type": "transcription", "tracking": {}}"#,
    );
    let out = hark(tmp.path())
        .arg("--job-config")
        .arg(&c)
        .arg("--input")
        .arg(repo("samples/digits.wav"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "no license, bad config: config first"
    );
}

#[test]
fn network_urls_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for url in ["https://example.org/a.wav", "s3://bucket/a.wav"] {
        let c = write(
            tmp.path(),
            "c.json",
            &format!(r#"{{"type": "transcription", "fetch_data": {{"url": "{url}"}}}}"#),
        );
        assert_usage(
            tmp.path(),
            &c,
            &[],
            &["fetch_data.url", "hark never goes to the network"],
        );
    }
}

#[test]
fn fetch_data_and_input_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let c = write(
        tmp.path(),
        "c.json",
        r#"{"type": "transcription", "fetch_data": {"url": "file:///tmp/a.wav"}}"#,
    );
    assert_usage(
        tmp.path(),
        &c,
        &["--input", "x.wav"],
        &["--input x.wav", "fetch_data.url"],
    );
}

#[test]
fn fetch_data_file_url_is_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no such.wav");
    let c = write(
        tmp.path(),
        "c.json",
        &format!(
            r#"{{"type": "transcription", "fetch_data": {{"url": "file://{}"}}}}"#,
            missing.display().to_string().replace(' ', "%20")
        ),
    );
    let (code, _, line) = run(tmp.path(), &c, &[]);
    assert_eq!(code, 4, "{line}");
    assert!(line.contains("no such.wav"), "{line}");
}

/// The license is checked for the config's language (and `--language` wins).
#[test]
fn the_license_is_checked_for_the_effective_language() {
    let tmp = tempfile::tempdir().unwrap();
    let de_only = repo("tests/fixtures/license/lang-de.json");
    let missing = tmp.path().join("missing.wav");
    let config = |lang: &str| {
        write(
            tmp.path(),
            &format!("{lang}.json"),
            &format!(
                r#"{{"type": "transcription", "transcription_config": {{"language": "{lang}"}},
                    "fetch_data": {{"url": "file://{}"}}}}"#,
                missing.display()
            ),
        )
    };
    let code = |cfg: &Path, extra: &[&str]| {
        hark(tmp.path())
            .arg("--license")
            .arg(&de_only)
            .arg("--job-config")
            .arg(cfg)
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    // German licensed: gets past the license to the (missing) input.
    assert_eq!(code(&config("de"), &[]), Some(4));
    assert_eq!(code(&config("en"), &[]), Some(3));
    assert_eq!(code(&config("de"), &["--language", "en"]), Some(3));
    assert_eq!(code(&config("en"), &["--language", "de"]), Some(4));
}
