//! The binary's contract: exit codes, one clear stderr line, empty stdout on
//! failure. Each test runs the real binary in a fresh temp dir.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

mod common;

use common::*;
use predicates::prelude::*;

fn first_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn help_prints_the_exit_code_table() {
    let tmp = tempfile::tempdir().unwrap();
    hark(tmp.path())
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("EXIT STATUS"))
        .stdout(predicate::str::contains("130"))
        .stdout(predicate::str::contains("license missing"));
}

#[test]
fn version_names_trusted_keys() {
    let tmp = tempfile::tempdir().unwrap();
    hark(tmp.path())
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("hark"));
}

#[test]
fn parallel_zero_or_not_a_number_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["0", "two", "-3"] {
        let out = hark(tmp.path()).args(["--parallel", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "--parallel {bad}");
        assert!(out.stdout.is_empty());
        assert!(
            first_line(&out.stderr).contains("--parallel"),
            "{}",
            first_line(&out.stderr)
        );
    }
    // Speechmatics' one-dash spelling reaches the same check.
    let out = hark(tmp.path()).args(["-parallel", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = hark(tmp.path()).arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn no_license_exits_3_and_says_where_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = hark(tmp.path())
        .arg("--input")
        .arg(repo("samples/digits.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let line = first_line(&out.stderr);
    assert!(
        line.contains("/license.json") && line.contains("LICENSE_TOKEN"),
        "{line}"
    );
}

#[test]
fn expired_license_exits_3_before_reading_audio() {
    let tmp = tempfile::tempdir().unwrap();
    // The input does not exist: the license must fail first.
    let out = hark(tmp.path())
        .arg("--license")
        .arg(repo("tests/fixtures/license/expired.json"))
        .args(["--input", "/no/such/audio.wav"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    assert!(
        first_line(&out.stderr).contains("expired"),
        "{}",
        first_line(&out.stderr)
    );
}

#[test]
fn license_token_env_wins_over_a_bad_file() {
    let tmp = tempfile::tempdir().unwrap();
    let token = std::fs::read_to_string(repo("tests/fixtures/license/valid.token")).unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let out = hark(tmp.path())
        .env("LICENSE_TOKEN", token.trim())
        .arg("--license")
        .arg(&bad)
        .args(["--input", "/no/such/audio.wav"])
        .output()
        .unwrap();
    // Past the license check, on to the (missing) input.
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_input_file_exits_4_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = transcribe(tmp.path(), std::path::Path::new("/no/such/audio.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    assert!(first_line(&out.stderr).contains("/no/such/audio.wav"));
}

#[test]
fn bad_inputs_exit_4_without_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    let mut seed = 0x2545_f491_u32;
    let random: Vec<u8> = (0..50_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed >> 24) as u8
        })
        .collect();
    let wav = std::fs::read(repo("samples/digits.wav")).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.wav", Vec::new()),
        (
            "text.wav",
            b"this is not audio, just some text\n".repeat(100),
        ),
        ("random.mp3", random.clone()),
        ("random.bin", random),
        ("header-only.wav", wav[..44].to_vec()),
        ("truncated-header.wav", wav[..20].to_vec()),
    ];
    for (name, bytes) in cases {
        let p = tmp.path().join(name);
        std::fs::write(&p, &bytes).unwrap();
        let out = transcribe(tmp.path(), &p).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(
            first_line(&out.stderr).contains(name),
            "{name}: {}",
            first_line(&out.stderr)
        );
    }
}

#[test]
fn input_directory_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    let out = transcribe(tmp.path(), tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn missing_or_broken_model_exits_5() {
    let tmp = tempfile::tempdir().unwrap();
    let out = transcribe(tmp.path(), &repo("samples/digits.wav"))
        .args(["--model", "/no/such/model"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(first_line(&out.stderr).contains("/no/such/model"));

    let broken = tmp.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("model.onnx"), b"not an onnx file").unwrap();
    std::fs::write(broken.join("tokens.txt"), "<blk> 0\n").unwrap();
    let out = transcribe(tmp.path(), &repo("samples/digits.wav"))
        .arg("--model")
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let out = transcribe(tmp.path(), &repo("samples/digits.wav"))
        .env("ORT_DYLIB_PATH", "/no/such/libonnxruntime.so")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(first_line(&out.stderr).contains("ONNX Runtime"));
}

#[test]
fn terminal_free_empty_stdin_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    let out = hark(tmp.path())
        .arg("--license")
        .arg(valid_license())
        .write_stdin(Vec::new())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(first_line(&out.stderr).contains("stdin"));
    // Nothing left behind in TMPDIR.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn readme_documents_every_exit_code() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    for c in hark::exit::ExitCode::ALL {
        let row = format!("| {} | {} |", c.code(), c.meaning());
        assert!(readme.contains(&row), "README lacks {row}");
    }
}

fn signal_while_reading_stdin(signal: &str, expected: i32) {
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hark"))
        .arg("--license")
        .arg(valid_license())
        .env_remove("LICENSE_TOKEN")
        .env("TMPDIR", tmp.path())
        .env("ORT_DYLIB_PATH", repo(".ort/libonnxruntime.so"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Feed some audio but never close stdin: hark is busy spooling it.
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(
        &mut stdin,
        &std::fs::read(repo("samples/digits.wav")).unwrap()[..4096],
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(
        out.status.code(),
        Some(expected),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(if expected == 143 {
            "SIGTERM"
        } else {
            "SIGINT"
        })
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "TMPDIR not empty"
    );
}

#[test]
fn sigterm_exits_143_and_leaves_nothing() {
    signal_while_reading_stdin("-TERM", 143);
}

#[test]
fn sigint_exits_130_and_leaves_nothing() {
    signal_while_reading_stdin("-INT", 130);
}

#[test]
fn logs_go_to_sm_log_dir_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    // SM_LOG_DIR must exist (as in Speechmatics' instructions); hark
    // creates only the job's directory in it.
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let out = hark(tmp.path())
        .env("SM_LOG_DIR", &logs)
        .env("SM_JOB_ID", "124")
        .arg("--license")
        .arg(valid_license())
        .args(["--input", "/no/such/audio.wav"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let log = std::fs::read_to_string(logs.join("124/hark.log")).unwrap();
    assert!(log.contains("license ok"), "{log}");
}

#[test]
fn inference_failure_exits_5_and_never_hangs() {
    // Loads fine, fails on every chunk (scripts/make-model-fixtures).
    let model = repo("tests/fixtures/models/wrong-vocab");
    let tmp = tempfile::tempdir().unwrap();
    for n in ["1", "2"] {
        let out = transcribe(tmp.path(), &repo("tests/fixtures/digits/long-60s.wav"))
            .arg("--model")
            .arg(&model)
            .args(["--parallel", n])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(5),
            "--parallel {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        let first = first_line(&out.stderr);
        assert!(
            first.contains("inference failed") && first.contains("want [1, T, 11]"),
            "{first}"
        );
    }
}

#[test]
fn a_one_chunk_file_builds_one_recognizer_whatever_parallel_is() {
    let tmp = tempfile::tempdir().unwrap();
    let out = transcribe(tmp.path(), &repo("samples/digits.wav"))
        .args(["--parallel", "2", "-v", "-v"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("building its recognizer").count(),
        1,
        "{stderr}"
    );
}

// ---- issue 15: input idioms, first stderr line, license diagnostics ----

/// A header-only WAV printed two `WARN unexpected end of file` lines before
/// the error: the error comes first, warnings after it, each once.
#[test]
fn the_first_stderr_line_is_the_error_even_after_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = std::fs::read(repo("samples/digits.wav")).unwrap();
    let p = tmp.path().join("header-only.wav");
    std::fs::write(&p, &wav[..44]).unwrap();
    let out = transcribe(tmp.path(), &p).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    let first = first_line(&out.stderr);
    assert!(first.starts_with("hark: error: header-only.wav: "), "{err}");
    // At most once (the end-of-stream check reports truncation; a header-only
    // file is simply empty).
    assert!(err.matches("unexpected end of file").count() <= 1, "{err}");
}

/// clap's errors and hark's share one prefix, and stay exit 2.
#[test]
fn clap_errors_use_harks_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["--no-such-flag"][..],
        &["--output-format", "docx"],
        &["--parallel"],
    ] {
        let out = hark(tmp.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let first = first_line(&out.stderr);
        assert!(first.starts_with("hark: error: "), "{args:?}: {first}");
        assert!(!first.starts_with("hark: error: error"), "{first}");
    }
}

/// `hark file.wav` said "unrecognized subcommand".
#[test]
fn a_positional_input_is_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = hark(tmp.path())
        .arg("--license")
        .arg(valid_license())
        .arg(repo("samples/digits.wav"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout)["job"]["data_name"], "digits.wav");
    // Both forms at once: a usage error naming both.
    let out = transcribe(tmp.path(), &repo("samples/digits.wav"))
        .arg("other.wav")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let first = first_line(&out.stderr);
    assert!(
        first.contains("--input") && first.contains("other.wav"),
        "{first}"
    );
    // The subcommand still wins over a positional input.
    let out = hark(tmp.path())
        .args(["license", "status", "--license"])
        .arg(valid_license())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// `--input -` is stdin; `/dev/stdin` (a pipe here) is read as stdin is.
#[test]
fn dash_and_dev_stdin_read_standard_input() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = std::fs::read(repo("samples/digits.wav")).unwrap();
    let reference = transcribe(tmp.path(), &repo("samples/digits.wav"))
        .output()
        .unwrap();
    assert_eq!(reference.status.code(), Some(0));
    let want = words(&json(&reference.stdout));
    for input in ["-", "/dev/stdin", "/dev/fd/0"] {
        let out = hark(tmp.path())
            .arg("--license")
            .arg(valid_license())
            .args(["--input", input])
            .write_stdin(wav.clone())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{input}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(words(&json(&out.stdout)), want, "{input}");
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// `cat x | docker run hark` without `-i` gives hark an empty stdin.
#[test]
fn empty_stdin_asks_about_docker_run_i() {
    let tmp = tempfile::tempdir().unwrap();
    let out = hark(tmp.path())
        .arg("--license")
        .arg(valid_license())
        .write_stdin(Vec::new())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let first = first_line(&out.stderr);
    assert!(
        first.starts_with("hark: error: stdin: input is empty (0 bytes)")
            && first.contains("did you forget `docker run -i`?"),
        "{first}"
    );
}

/// An empty or blank LICENSE_TOKEN was reported as "(not set)".
#[test]
fn a_blank_license_token_is_reported_as_set_but_empty() {
    let tmp = tempfile::tempdir().unwrap();
    for blank in ["", "  \n"] {
        let out = hark(tmp.path())
            .env("LICENSE_TOKEN", blank)
            .args(["--input", "/no/such.wav"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        let first = first_line(&out.stderr);
        assert!(
            first.contains("LICENSE_TOKEN is set but empty"),
            "{first:?}"
        );
        assert!(!first.contains("not set"), "{first}");
    }
}

/// `license status --license expired.json` with a valid LICENSE_TOKEN
/// reported the token's license.
#[test]
fn license_status_shows_the_file_it_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let token = std::fs::read_to_string(repo("tests/fixtures/license/valid.token")).unwrap();
    let out = hark(tmp.path())
        .env("LICENSE_TOKEN", token.trim())
        .args(["license", "status", "--license"])
        .arg(repo("tests/fixtures/license/expired.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        first_line(&out.stderr).contains("expired"),
        "{}",
        first_line(&out.stderr)
    );
    // Transcription keeps the Speechmatics precedence: the token wins.
    let out = hark(tmp.path())
        .env("LICENSE_TOKEN", token.trim())
        .arg("--license")
        .arg(repo("tests/fixtures/license/expired.json"))
        .arg(repo("samples/digits.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// `--help` said `-v debug, -vv trace`, the README `-v info, -vv debug`:
/// both now say what happens.
#[test]
fn verbosity_flags_do_what_help_and_readme_say() {
    let tmp = tempfile::tempdir().unwrap();
    let help = hark(tmp.path()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(help.contains("-v info, -vv debug, -vvv trace"), "{help}");
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        readme.contains("`-q` errors only, `-v` info, `-vv` debug, `-vvv` trace"),
        "README's Logs line"
    );
    let run = |flag: Option<&str>| {
        let mut cmd = transcribe(tmp.path(), &repo("samples/digits.wav"));
        if let Some(f) = flag {
            cmd.arg(f);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert_eq!(run(None), "");
    let v = run(Some("-v"));
    assert!(v.contains(" INFO ") && !v.contains("DEBUG"), "{v}");
    let vv = run(Some("-vv"));
    assert!(vv.contains("DEBUG") && !vv.contains("TRACE"), "{vv}");
    assert!(!vv.contains("GraphTransformer"), "{vv}");
    let vvv = run(Some("-vvv"));
    assert!(
        vvv.contains("GraphTransformer"),
        "ONNX Runtime's own, at -vvv"
    );
}

/// Spooling stdin into a full `$TMPDIR` said `cannot read input: No space
/// left on device`. Needs a private mount namespace (root, or a user that
/// may unshare); skipped elsewhere (src/input.rs tests the message with
/// /dev/full).
#[test]
fn a_full_tmpdir_is_named_with_the_tmpfs_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = tmp.path().join("tiny");
    std::fs::create_dir(&tiny).unwrap();
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=64k tmpfs "$TMPDIR" || exit 99; exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_hark"))
        .arg("--license")
        .arg(valid_license())
        .env_remove("LICENSE_TOKEN")
        .env_remove("SM_LOG_DIR")
        .env("TMPDIR", &tiny)
        .env("ORT_DYLIB_PATH", repo(".ort/libonnxruntime.so"))
        .stdin(std::fs::File::open(repo("samples/digits.wav")).unwrap())
        .output();
    let Ok(out) = out else {
        eprintln!("SKIPPED: no unshare");
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(99) || err.starts_with("unshare") {
        eprintln!("SKIPPED: cannot mount a tmpfs here: {err}");
        return;
    }
    assert_eq!(out.status.code(), Some(4), "{err}");
    let first = first_line(&out.stderr);
    assert!(
        first.starts_with(&format!(
            "hark: error: stdin: cannot copy the input to a temporary file in {} ($TMPDIR): No space left on device",
            tiny.display()
        )),
        "{first}"
    );
    assert!(first.contains("--tmpfs /tmp:size="), "{first}");
}
