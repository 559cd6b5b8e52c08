//! Every file hark reads besides the audio is read with a size cap, so an
//! endless or huge file (`/dev/zero`, a FIFO, a 10 GB mistake) is refused
//! with a one-line error naming it instead of filling memory (issue 14).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

fn run(args: &[&std::ffi::OsStr], tmp: &Path) -> (Option<i32>, String, Vec<u8>) {
    let out = common::hark(tmp).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.stdout,
    )
}

fn digits() -> std::path::PathBuf {
    common::repo("tests/fixtures/digits/george.wav")
}

#[test]
fn a_job_config_that_never_ends_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let lic = common::valid_license();
    let input = digits();
    let (code, err, out) = run(
        &[
            "--job-config".as_ref(),
            "/dev/zero".as_ref(),
            "--license".as_ref(),
            lic.as_os_str(),
            "--input".as_ref(),
            input.as_os_str(),
        ],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    assert_eq!(
        err.lines().next(),
        Some("hark: error: job config /dev/zero: cannot read: larger than 1048576 bytes; is it a job config?")
    );
}

#[test]
fn a_license_file_that_never_ends_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let input = digits();
    let (code, err, out) = run(
        &[
            "--license".as_ref(),
            "/dev/zero".as_ref(),
            "--input".as_ref(),
            input.as_os_str(),
        ],
        tmp.path(),
    );
    assert_eq!(code, Some(3), "{err}");
    assert!(out.is_empty());
    assert!(
        err.lines()
            .next()
            .unwrap()
            .contains("larger than 1048576 bytes"),
        "{err}"
    );
}

#[test]
fn a_tokens_txt_that_never_ends_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    std::fs::create_dir(&model).unwrap();
    std::fs::copy(
        common::repo("models/digits-en/model.onnx"),
        model.join("model.onnx"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", model.join("tokens.txt")).unwrap();
    let lic = common::valid_license();
    let input = digits();
    let (code, err, out) = run(
        &[
            "--model".as_ref(),
            model.as_os_str(),
            "--license".as_ref(),
            lic.as_os_str(),
            "--input".as_ref(),
            input.as_os_str(),
        ],
        tmp.path(),
    );
    assert_eq!(code, Some(5), "{err}");
    assert!(out.is_empty());
    let first = err.lines().next().unwrap();
    assert!(
        first.ends_with("tokens.txt: larger than 16777216 bytes; is it a tokens.txt?"),
        "{first}"
    );
}

#[test]
fn a_job_config_with_sixty_thousand_labels_is_quick_and_short() {
    // Checking labels for repeats was quadratic; the message listed every one.
    let labels: Vec<String> = (0..60_000)
        .map(|i| format!("bad label {}", i % 5))
        .collect();
    let text = serde_json::json!({
        "type": "transcription",
        "transcription_config": {
            "language": "en",
            "diarization": "channel",
            "channel_diarization_labels": labels,
        }
    })
    .to_string();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config.json");
    std::fs::write(&path, text).unwrap();
    let t0 = std::time::Instant::now();
    let lic = common::valid_license();
    let input = digits();
    let (code, err, _) = run(
        &[
            "--job-config".as_ref(),
            path.as_os_str(),
            "--license".as_ref(),
            lic.as_os_str(),
            "--input".as_ref(),
            input.as_os_str(),
        ],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(t0.elapsed().as_secs() < 20, "{:?}", t0.elapsed());
    let first = err.lines().next().unwrap();
    assert!(first.len() < 4000, "{} bytes", first.len());
    // 60,000 invalid labels and 59,995 repeats: 19 shown, then the count.
    assert!(first.ends_with("; and 119976 more problems"), "{first}");
}

/// Appends one `metadata_props` entry (ModelProto field 14) to a
/// serialized ONNX model: protobuf lets a repeated field come last.
fn with_metadata(model: &[u8], key: &str, value: &str) -> Vec<u8> {
    let field = |tag: u8, bytes: &[u8]| {
        let mut v = vec![tag];
        let mut n = bytes.len();
        while n >= 0x80 {
            v.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        v.push(n as u8);
        v.extend_from_slice(bytes);
        v
    };
    let entry = [field(0x0a, key.as_bytes()), field(0x12, value.as_bytes())].concat();
    [model.to_vec(), field(0x72, &entry)].concat()
}

#[test]
fn a_model_whose_metadata_asks_for_a_billion_mel_bins_is_invalid() {
    // feat_dim sizes the filterbank: it used to allocate and loop by it.
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let onnx = std::fs::read(common::repo("models/digits-en/model.onnx")).unwrap();
    std::fs::write(
        model.join("model.onnx"),
        with_metadata(&onnx, "feat_dim", "1000000000"),
    )
    .unwrap();
    std::fs::copy(
        common::repo("models/digits-en/tokens.txt"),
        model.join("tokens.txt"),
    )
    .unwrap();
    let lic = common::valid_license();
    let input = digits();
    let (code, err, out) = run(
        &[
            "--model".as_ref(),
            model.as_os_str(),
            "--license".as_ref(),
            lic.as_os_str(),
            "--input".as_ref(),
            input.as_os_str(),
        ],
        tmp.path(),
    );
    assert_eq!(code, Some(5), "{err}");
    assert!(out.is_empty());
    let first = err.lines().next().unwrap();
    assert!(
        first.ends_with("ONNX metadata `feat_dim` = 1000000000 is outside 1..=512"),
        "{first}"
    );
}

fn job_config_first_line(config: serde_json::Value) -> (Option<i32>, String, std::time::Duration) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let lic = common::valid_license();
    let input = digits();
    let t0 = std::time::Instant::now();
    let (code, err, _) = run(
        &[
            "--job-config".as_ref(),
            path.as_os_str(),
            "--license".as_ref(),
            lic.as_os_str(),
            "--input".as_ref(),
            input.as_os_str(),
        ],
        tmp.path(),
    );
    let first = err.lines().next().unwrap_or_default().to_string();
    (code, first, t0.elapsed())
}

fn replacements(from: &[&str]) -> serde_json::Value {
    let reps: Vec<_> = from
        .iter()
        .map(|f| serde_json::json!({"from": f, "to": "x"}))
        .collect();
    serde_json::json!({
        "type": "transcription",
        "transcription_config": {
            "language": "en",
            "transcript_filtering_config": {"replacements": reps},
        }
    })
}

#[test]
fn regular_expressions_in_a_job_config_cannot_cost_minutes_or_gigabytes() {
    // Found with the job_config harness: 200 copies of /\w{200}/ took over
    // 1 GiB to compile, 300 of /(\w{50}){5}/ took 70 s.
    let (code, first, took) = job_config_first_line(replacements(&["/\\w{300}/"; 100]));
    assert_eq!(code, Some(2), "{first}");
    assert!(
        first.contains(
            "replacements[0].from: regular expression \"/\\\\w{300}/\" is too complex (it compiles to over 1024 KiB)"
        ),
        "{first}"
    );
    assert!(took.as_secs() < 30, "{took:?}");
    let (code, first, _) = job_config_first_line(replacements(&["/a/"; 101]));
    assert_eq!(code, Some(2), "{first}");
    assert!(
        first.ends_with("replacements has more than 100 regular expressions"),
        "{first}"
    );
    let (code, first, _) = job_config_first_line(replacements(&["word"; 1001]));
    assert_eq!(code, Some(2), "{first}");
    assert!(
        first.ends_with("replacements has 1001 entries; hark takes at most 1000"),
        "{first}"
    );
}
