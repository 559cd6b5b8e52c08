//! CLI-level tests of `hark license ...` through `hark::license::run_command`
//! (the binary-level tests belong to the integrator).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clap::Parser;
use hark::license::{self, LicenseCommand, LicenseError, LicenseFile, LicenseSource};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const DEV_KEY: &str = "keys/dev/hark-dev-2026.PRIVATE-KEY-IS-PUBLIC.pem";

#[derive(Parser)]
struct Hark {
    #[command(subcommand)]
    license: LicenseCommand,
}

/// Parses `args` as `hark license <args>`.
fn parse(args: &[&str]) -> LicenseCommand {
    let argv = std::iter::once("hark-license").chain(args.iter().copied());
    Hark::try_parse_from(argv).expect("parse").license
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/license").join(name)
}

fn run(
    args: &[&str],
    env_token: Option<&str>,
    default_path: &Path,
) -> Result<String, LicenseError> {
    license::run_command(
        &parse(args),
        env_token.map(str::to_string),
        default_path,
        NOW,
    )
}

fn no_default() -> PathBuf {
    PathBuf::from("/nonexistent/license.json")
}

fn issue_args<'a>(key: &'a str, kid: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "issue",
        "--key",
        key,
        "--kid",
        kid,
        "--customer",
        "ACME Corp",
        "--contract-id",
        "9",
        "--valid-from",
        "2026-01-01",
        "--not-valid-after",
        "2027-01-01",
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn status_shows_license_days_remaining_and_trusted_keys() {
    let out = run(&["status"], None, &fixture("valid.json")).expect("status");
    assert!(out.contains("license:          valid\n"), "{out}");
    assert!(
        out.contains(&format!(
            "source:           {}\n",
            fixture("valid.json").display()
        )),
        "{out}"
    );
    assert!(
        out.contains("customer:         Hark Test Customer\n"),
        "{out}"
    );
    assert!(out.contains("days remaining:   26511\n"), "{out}");
    assert!(out.contains("features:         batch, parallel\n"), "{out}");
    for (kid, fp) in license::trusted_keys() {
        assert!(
            out.contains(&format!("  {kid}  {fp}  DEVELOPMENT KEY")),
            "{out}"
        );
    }
}

#[test]
fn status_uses_license_token_when_no_file_is_named() {
    let token = std::fs::read_to_string(fixture("valid.token")).expect("fixture");
    let out = run(&["status"], Some(&token), &fixture("expired.json")).expect("status");
    assert!(out.contains("source:           LICENSE_TOKEN\n"), "{out}");
}

/// Issue 15: `license status --license expired.json` with LICENSE_TOKEN set
/// reported the token's license. A diagnostic shows what it is asked about.
#[test]
fn status_license_flag_wins_over_license_token() {
    let token = std::fs::read_to_string(fixture("valid.token")).expect("fixture");
    let expired = fixture("expired.json");
    let e = run(
        &["status", "--license", expired.to_str().expect("utf8")],
        Some(&token),
        &no_default(),
    )
    .unwrap_err();
    assert!(matches!(e, LicenseError::Expired { .. }), "{e:?}");
    let valid = fixture("lang-de.json");
    let out = run(
        &["status", "--license", valid.to_str().expect("utf8")],
        Some(&token),
        &no_default(),
    )
    .expect("status");
    assert!(
        out.contains(&format!("source:           {}\n", valid.display())),
        "{out}"
    );
    assert!(out.contains("languages:        de\n"), "{out}");
    assert!(
        out.contains("note: LICENSE_TOKEN is set too: this shows --license; a transcription would use LICENSE_TOKEN"),
        "{out}"
    );
}

#[test]
fn status_with_flag_path() {
    let p = fixture("lang-de.json");
    let out = run(
        &["status", "--license", p.to_str().expect("utf8")],
        None,
        &no_default(),
    )
    .expect("status");
    assert!(out.contains("languages:        de\n"), "{out}");
}

#[test]
fn status_fails_for_expired_and_missing_licenses() {
    let e = run(&["status"], None, &fixture("expired.json")).unwrap_err();
    assert!(matches!(e, LicenseError::Expired { .. }), "{e:?}");
    assert!(!e.is_usage());
    let e = run(&["status"], None, &no_default()).unwrap_err();
    assert!(matches!(e, LicenseError::NotFound { .. }), "{e:?}");
    assert!(e
        .to_string()
        .contains("/nonexistent/license.json (no such file)"));
}

#[test]
fn issue_reproduces_the_committed_fixture() {
    let key = root().join(DEV_KEY);
    let args = [
        "issue",
        "--key",
        key.to_str().expect("utf8"),
        "--kid",
        "hark-dev-2026",
        "--customer",
        "Hark Test Customer",
        "--contract-id",
        "42",
        "--id",
        "00000000000000000000000000000001",
        "--created",
        "2026-01-01 00:00:00",
        "--valid-from",
        "2026-01-01",
        "--not-valid-after",
        "2099-01-01",
        "--feature",
        "batch,parallel",
        "--language",
        "any",
    ];
    let out = run(&args, None, &no_default()).expect("issue");
    assert_eq!(
        out,
        std::fs::read_to_string(fixture("valid.json")).expect("fixture")
    );
    let mut token_args = args.to_vec();
    token_args.push("--token-only");
    let out = run(&token_args, None, &no_default()).expect("issue");
    assert_eq!(
        out,
        std::fs::read_to_string(fixture("valid.token")).expect("fixture")
    );
}

#[test]
fn issued_license_verifies_and_mirrors_its_claims() {
    let key = root().join(DEV_KEY);
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("acme.json");
    let extra = [
        "--trial",
        "--language",
        "en,DE",
        "--out",
        out_path.to_str().expect("utf8"),
    ];
    let msg = run(
        &issue_args(key.to_str().expect("utf8"), "hark-dev-2026", &extra),
        None,
        &no_default(),
    )
    .expect("issue");
    assert!(msg.starts_with("wrote license "), "{msg}");
    let file = LicenseFile::read(&out_path).expect("read");
    assert_eq!(file.customer, "ACME Corp");
    assert!(file.is_trial && file.metadata.request.is_trial);
    assert_eq!(file.id.len(), 32);
    assert_eq!(
        file.metadata.request.features,
        ["batch", "lang:en", "lang:de"]
    );
    assert_eq!(file.metadata.request.valid_from, "2026-01-01");
    assert_eq!(file.metadata.request.not_valid_after, "2027-01-01");
    assert_eq!(file.creationdate, "2026-06-01 12:00:00");
    let want = license::Entitlement {
        language: Some("de"),
        ..license::Entitlement::BATCH
    };
    let lic = license::verify(&LicenseSource::File(out_path), NOW, &want).expect("verifies");
    assert_eq!(lic.languages, ["en", "de"]);
    assert_eq!(lic.days_remaining(NOW), 213);
}

#[test]
fn issue_rejects_bad_arguments_as_usage_errors() {
    let key = root().join(DEV_KEY);
    let key = key.to_str().expect("utf8");
    let key_2027 = root().join("keys/dev/hark-dev-2027.PRIVATE-KEY-IS-PUBLIC.pem");
    let key_2027 = key_2027.to_str().expect("utf8");
    let cases: [(Vec<&str>, &str); 6] = [
        (
            issue_args(key, "hark-dev-2026", &["--feature", "realtime"]),
            "--feature \"realtime\": known features are batch, parallel",
        ),
        (
            issue_args(key, "hark-dev-2026", &["--language", "e"]),
            "--language \"e\": use \"any\" or a language code",
        ),
        (
            issue_args(key, "bad kid", &[]),
            "--kid \"bad kid\": use 1-64 of",
        ),
        (
            issue_args(key, "hark-dev-2026", &["--created", "yesterday"]),
            "--created \"yesterday\": expected YYYY-MM-DD HH:MM:SS",
        ),
        (
            issue_args("/nonexistent/key.pem", "hark-dev-2026", &[]),
            "cannot use key file /nonexistent/key.pem",
        ),
        (
            issue_args(key_2027, "hark-dev-2026", &[]),
            "is not the key this build trusts as \"hark-dev-2026\"",
        ),
    ];
    for (args, words) in cases {
        let e = run(&args, None, &no_default()).unwrap_err();
        assert!(e.is_usage(), "{words}: {e:?}");
        assert!(e.to_string().contains(words), "{words}: {e}");
    }
    let mut args = issue_args(key, "hark-dev-2026", &[]);
    args[12] = "2025-12-31";
    let e = run(&args, None, &no_default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("--not-valid-after 2025-12-31 must be after --valid-from 2026-01-01"),
        "{e}"
    );
    args[12] = "2026-13-01";
    let e = run(&args, None, &no_default()).unwrap_err();
    assert!(
        e.is_usage()
            && e.to_string()
                .starts_with("--not-valid-after \"2026-13-01\": expected YYYY-MM-DD"),
        "{e}"
    );
}

#[test]
fn keygen_writes_a_private_key_0600_and_a_trusted_key_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf8");
    let out = run(
        &["keygen", "--kid", "acme-2026", "--out-dir", d],
        None,
        &no_default(),
    )
    .expect("keygen");
    assert!(out.contains("fingerprint:  sha256:"), "{out}");
    assert!(out.contains("-----BEGIN PUBLIC KEY-----"), "{out}");
    let private = dir.path().join("acme-2026.private.pem");
    let public = std::fs::read_to_string(dir.path().join("acme-2026.pub")).expect("pub");
    assert!(public.contains("# kid: acme-2026\n"), "{public}");
    let raw_line = public
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("key line");
    assert!(out.contains(raw_line), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(std::fs::read_to_string(&private)
        .expect("pem")
        .starts_with("-----BEGIN PRIVATE KEY-----"));

    // Never overwrites a key.
    let e = run(
        &["keygen", "--kid", "acme-2026", "--out-dir", d],
        None,
        &no_default(),
    )
    .unwrap_err();
    assert!(
        e.is_usage() && e.to_string().contains("already exists"),
        "{e}"
    );

    // A license from a key this build does not trust is issued but refused:
    // trust cannot be added at run time.
    let key = private.to_str().expect("utf8");
    let out = run(
        &issue_args(key, "acme-2026", &["--token-only"]),
        None,
        &no_default(),
    )
    .expect("issue");
    let e = run(&["status"], Some(&out), &no_default()).unwrap_err();
    assert!(matches!(e, LicenseError::UnknownKeyId { .. }), "{e:?}");
}

#[test]
fn inspect_decodes_and_gives_a_verdict() {
    let p = fixture("valid.json");
    let out = run(&["inspect", p.to_str().expect("utf8")], None, &no_default()).expect("inspect");
    assert!(out.contains("\"alg\": \"EdDSA\""), "{out}");
    assert!(out.contains("\"sub\": \"Hark Test Customer\""), "{out}");
    assert!(
        out.contains("verdict: VALID in this build: signed by hark-dev-2026"),
        "{out}"
    );

    let p = fixture("expired.json");
    let out = run(&["inspect", p.to_str().expect("utf8")], None, &no_default()).expect("inspect");
    assert!(
        out.contains("verdict: NOT VALID in this build: license expired at 2021-01-01"),
        "{out}"
    );

    // A token with a forged claim decodes but does not verify.
    let t = std::fs::read_to_string(fixture("valid.token")).expect("fixture");
    let parts: Vec<&str> = t.trim().split('.').collect();
    let claims = URL_SAFE_NO_PAD.decode(parts[1]).expect("claims");
    let claims = String::from_utf8(claims)
        .expect("utf8")
        .replace("\"contract_id\":42", "\"contract_id\":43");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims),
        parts[2]
    );
    let out = run(&["inspect", "--token", &forged], None, &no_default()).expect("inspect");
    assert!(out.contains("\"contract_id\": 43"), "{out}");
    assert!(
        out.contains("verdict: NOT VALID in this build: license signature is invalid"),
        "{out}"
    );

    // Defaults to LICENSE_TOKEN like status.
    let out = run(&["inspect"], Some(&t), &no_default()).expect("inspect");
    assert!(out.starts_with("source: LICENSE_TOKEN\n"), "{out}");

    // Undecodable input is an error.
    let e = run(&["inspect", "--token", "garbage"], None, &no_default()).unwrap_err();
    assert!(matches!(e, LicenseError::TokenParts { .. }), "{e:?}");
}

#[test]
fn version_line_lists_trusted_key_fingerprints() {
    let line = license::trusted_keys_line();
    assert!(
        line.starts_with("trusted license keys: hark-dev-2026 (sha256:"),
        "{line}"
    );
    assert!(license::trusts_development_keys());
    assert!(license::trusted_keys_dir().ends_with("keys/trusted"));
}
