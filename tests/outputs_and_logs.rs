//! Where hark writes besides stdout: `--all-formats DIR` and the
//! `SM_LOG_DIR` log file (issue 15: checked before any work, created as `>`
//! would, never outside `SM_LOG_DIR`, at a level that follows `-v`).
//! Each test runs the real binary in a fresh temp dir.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

fn first_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An `--all-formats` directory that cannot take files fails with exit 2
/// before anything else: no license is given here, and no input exists.
#[test]
fn unwritable_all_formats_dir_fails_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let missing = tmp.path().join("missing");
    // /proc takes no new files, whoever runs the test (root included).
    for (dir, says) in [
        (Path::new("/proc"), "cannot create files in /proc"),
        (file.as_path(), "is not a directory"),
        (missing.as_path(), "does not exist"),
    ] {
        let out = hark(tmp.path())
            .arg("--all-formats")
            .arg(dir)
            .args(["--input", "/no/such/audio.wav"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        let line = first_line(&out.stderr);
        assert!(line.starts_with("hark: error: --all-formats: "), "{line}");
        assert!(line.contains(&dir.display().to_string()), "{line}");
        assert!(line.contains(says), "{line}");
    }
    assert!(!missing.exists());
    let out = hark(tmp.path())
        .args(["--all-formats", "/proc", "--input", "/no/such/audio.wav"])
        .output()
        .unwrap();
    let line = first_line(&out.stderr);
    // Says how to fix it: whose directory it is and who hark runs as.
    assert!(
        line.contains("owned by 0:0") || line.contains("0:0 owns it"),
        "{line}"
    );
    assert!(
        (line.contains("chown") && line.contains("--user")) || line.contains("chmod u+w"),
        "{line}"
    );
}

/// `program` in the clean environment of `common::hark`, as a std Command
/// (for what assert_cmd cannot set: stdout).
fn std_command(tmp: &Path, program: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.env_remove("LICENSE_TOKEN")
        .env_remove("HARK_MODEL")
        .env_remove("HARK_VAD_MODEL")
        .env_remove("RUST_LOG")
        .env_remove("SM_LOG_DIR")
        .env("SM_JOB_ID", "testjob")
        .env("TMPDIR", tmp)
        .env("ORT_DYLIB_PATH", repo(".ort/libonnxruntime.so"))
        .current_dir(tmp);
    cmd
}

/// hark's binary run through `sh -c 'umask U; exec hark ...'`.
fn with_umask(tmp: &Path, umask: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    std_command(tmp, "sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_hark"))
        .args(args)
        .output()
        .unwrap()
}

/// `--all-formats` files were always 0600; they get 0666 less the umask.
#[test]
fn all_formats_files_follow_the_umask() {
    let tmp = tempfile::tempdir().unwrap();
    let lic = valid_license();
    let wav = repo("samples/digits.wav");
    for (umask, mode) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let out_dir = tmp.path().join(format!("out-{umask}"));
        std::fs::create_dir(&out_dir).unwrap();
        let out = with_umask(
            tmp.path(),
            umask,
            &[
                "--license".as_ref(),
                lic.as_os_str(),
                "--input".as_ref(),
                wav.as_os_str(),
                "--all-formats".as_ref(),
                out_dir.as_os_str(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let mut names: Vec<String> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "transcript.json",
                "transcript.srt",
                "transcript.txt",
                "transcript.vtt"
            ]
        );
        for n in names {
            let m = std::fs::metadata(out_dir.join(&n)).unwrap().permissions();
            assert_eq!(m.mode() & 0o777, mode, "umask {umask}: {n}");
        }
    }
}

/// A failed write of the transcript is exit 6 (it was exit 1, "a bug").
#[test]
fn a_failed_stdout_write_exits_6() {
    let tmp = tempfile::tempdir().unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std_command(tmp.path(), env!("CARGO_BIN_EXE_hark"))
        .arg("--license")
        .arg(valid_license())
        .arg(repo("samples/digits.wav"))
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let line = first_line(&out.stderr);
    assert!(
        line.starts_with("hark: error: output: cannot write to stdout"),
        "{line}"
    );
}

#[test]
fn job_id_must_be_a_name_not_a_path() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("a/b");
    std::fs::create_dir_all(&logs).unwrap();
    for bad in ["../../escape", "x/y", "..", "tab\tid"] {
        let out = hark(tmp.path())
            .env("SM_LOG_DIR", &logs)
            .env("SM_JOB_ID", bad)
            .arg("--license")
            .arg(valid_license())
            .arg("--input")
            .arg(repo("samples/digits.wav"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        let line = first_line(&out.stderr);
        assert!(line.starts_with("hark: error: SM_JOB_ID="), "{line}");
        assert!(line.contains("not a path"), "{line}");
    }
    // Nothing was written anywhere: not in SM_LOG_DIR, not beside it.
    assert_eq!(std::fs::read_dir(&logs).unwrap().count(), 0);
    assert!(!tmp.path().join("escape").exists());
    assert_eq!(std::fs::read_dir(tmp.path().join("a")).unwrap().count(), 1);
    // Without SM_LOG_DIR it is still refused: it is the transcript's job.id.
    let out = hark(tmp.path())
        .env("SM_JOB_ID", "../x")
        .args(["--input", "/no/such.wav"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sm_log_dir_must_exist_and_only_the_job_directory_is_created() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nonexistent/x");
    let out = hark(tmp.path())
        .env("SM_LOG_DIR", &missing)
        .env("SM_JOB_ID", "7")
        .args(["--input", "/no/such.wav"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let line = first_line(&out.stderr);
    assert!(
        line.starts_with(&format!("hark: error: SM_LOG_DIR={}", missing.display())),
        "{line}"
    );
    assert!(!tmp.path().join("nonexistent").exists());

    // Unwritable (even for root): exit 2 before any work, naming the path.
    let out = hark(tmp.path())
        .env("SM_LOG_DIR", "/proc")
        .env("SM_JOB_ID", "7")
        .args(["--input", "/no/such.wav"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let line = first_line(&out.stderr);
    assert!(
        line.contains("unable to set up logging") && line.contains("/proc/7/hark.log"),
        "{line}"
    );

    // An existing SM_LOG_DIR: the job's directory is created in it.
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let out = hark(tmp.path())
        .env("SM_LOG_DIR", &logs)
        .env("SM_JOB_ID", "7")
        .args(["--input", "/no/such.wav"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(logs.join("7/hark.log").is_file());
}

fn log_of(tmp: &Path, args: &[&str], input: &Path) -> (std::process::Output, String) {
    let logs = tmp.join("logs");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir(&logs).unwrap();
    let out = transcribe(tmp, input)
        .env("SM_LOG_DIR", &logs)
        .env("SM_JOB_ID", "j1")
        .args(args)
        .output()
        .unwrap();
    let log = std::fs::read_to_string(logs.join("j1/hark.log")).unwrap();
    (out, log)
}

/// The log file was written at DEBUG with ONNX Runtime's internals (134
/// lines for a 4-s job), and a failure appeared only as a DEBUG line.
#[test]
fn the_log_file_follows_the_verbosity_and_keeps_onnx_runtime_out() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = repo("samples/digits.wav");
    let (out, log) = log_of(tmp.path(), &[], &wav);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!log.contains("DEBUG") && !log.contains("TRACE"), "{log}");
    assert!(!log.contains("ort::"), "{log}");
    for gone in ["GraphTransformer", "BFCArena", "Session"] {
        assert!(!log.contains(gone), "{gone} in {log}");
    }
    assert!(log.lines().count() <= 12, "{log}");
    for fact in ["hark starting", "license ok", "model loaded", "done:"] {
        assert_eq!(log.matches(fact).count(), 1, "{fact}: {log}");
    }
    // One line says what the input is, with its duration from the header.
    assert_eq!(log.matches("input opened").count(), 1, "{log}");
    assert!(!log.contains("opened audio"), "{log}");
    assert!(log.contains("duration=3.94 s"), "{log}");

    // -vv: debug in the file too, still without ONNX Runtime.
    let (_, log) = log_of(tmp.path(), &["-vv"], &wav);
    assert!(log.contains("DEBUG"), "{log}");
    assert!(!log.contains("ort::"), "{log}");

    // RUST_LOG naming ort lets it in (here: anything at info or above).
    let logs = tmp.path().join("logs");
    let out = transcribe(tmp.path(), &wav)
        .env("SM_LOG_DIR", &logs)
        .env("SM_JOB_ID", "j2")
        .env("RUST_LOG", "info,ort=trace")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = std::fs::read_to_string(logs.join("j2/hark.log")).unwrap();
    assert!(log.contains("ort"), "{log}");
}

#[test]
fn a_failure_is_logged_at_error_with_its_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, log) = log_of(tmp.path(), &[], Path::new("/no/such/audio.wav"));
    assert_eq!(out.status.code(), Some(4));
    let line = log
        .lines()
        .find(|l| l.contains(" ERROR "))
        .unwrap_or_else(|| panic!("no ERROR line: {log}"));
    assert!(
        line.contains("exit_code=4") && line.contains("/no/such/audio.wav: cannot open input"),
        "{line}"
    );
    // stderr has it once, as hark's error line, not also as a log line.
    let err = text(&out.stderr);
    assert_eq!(err.matches("/no/such/audio.wav").count(), 1, "{err}");
}

/// Progress on a terminal is a bar; elsewhere it is info lines, and stderr
/// never gets a bar's escape codes.
#[test]
fn progress_is_logged_as_lines_when_stderr_is_not_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = transcribe(tmp.path(), &repo("tests/fixtures/digits/long-60s.wav"))
        .arg("-v")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("progress: "), "{err}");
    assert!(err.contains(" of 1:00 of audio ("), "{err}");
    assert!(!err.contains('\r') && !err.contains("\x1b["), "{err:?}");
    // Without -v, none of it reaches stderr.
    let out = transcribe(tmp.path(), &repo("tests/fixtures/digits/long-60s.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

/// `long-60s.wav` repeated `times` times, as one WAV file in `dir`.
fn repeated_wav(dir: &Path, times: usize) -> std::path::PathBuf {
    let d = std::fs::read(repo("tests/fixtures/digits/long-60s.wav")).unwrap();
    assert_eq!(&d[36..40], b"data", "a canonical 44-byte header");
    let pcm = d[44..].repeat(times);
    let mut wav = Vec::with_capacity(44 + pcm.len());
    wav.extend_from_slice(&d[..4]);
    wav.extend_from_slice(&(36 + pcm.len() as u32).to_le_bytes());
    wav.extend_from_slice(&d[8..40]);
    wav.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    wav.extend_from_slice(&pcm);
    let p = dir.join(format!("long-{times}min.wav"));
    std::fs::write(&p, wav).unwrap();
    p
}

/// On a terminal (a pty from util-linux `script`), a progress bar is drawn
/// on stderr for a job that runs over a second, erased at the end, and not
/// drawn with `-q`; progress log lines stay off a terminal with a bar.
#[test]
fn a_progress_bar_on_a_terminal_only_without_q() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: util-linux script is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // An hour of audio: several seconds in a debug build, so the bar (drawn
    // after one second) shows even on a much faster machine.
    let wav = repeated_wav(tmp.path(), 60);
    let run = |flag: &str| {
        let cmd = format!(
            "{} {flag} --license {} {} > {}",
            env!("CARGO_BIN_EXE_hark"),
            valid_license().display(),
            wav.display(),
            tmp.path().join("out.json").display()
        );
        let out = std_command(tmp.path(), "script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{flag}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let tty = run("-v");
    assert!(tty.contains(" / 1:00:00 of audio, "), "{tty:?}");
    assert!(tty.contains("x real time, ETA "), "{tty:?}");
    assert!(tty.contains("\x1b[2K"), "the bar is erased: {tty:?}");
    assert!(!tty.contains("progress: "), "{tty:?}");
    assert!(tty.contains("done: 3600.0 s of audio"), "{tty:?}");
    let quiet = run("-q");
    assert!(quiet.is_empty(), "{quiet:?}");
}
