//! Unit tests of verification: every failure the issue lists, plus tampering.
//! Each asserts the error variant and the words of its message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};
use time::macros::datetime;
use time::OffsetDateTime;

use super::*;

const DEV_2026: &str = include_str!("../../keys/dev/hark-dev-2026.PRIVATE-KEY-IS-PUBLIC.pem");
const DEV_2027: &str = include_str!("../../keys/dev/hark-dev-2027.PRIVATE-KEY-IS-PUBLIC.pem");
const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn dev_key() -> SigningKey {
    SigningKey::from_pkcs8_pem(DEV_2026).expect("dev key")
}

fn dev_key_2027() -> SigningKey {
    SigningKey::from_pkcs8_pem(DEV_2027).expect("dev key 2027")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/license")
        .join(name)
}

fn claims() -> Claims {
    Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: "Example Ltd".into(),
        jti: "0123456789abcdef0123456789abcdef".into(),
        kid: "hark-dev-2026".into(),
        contract_id: 7,
        is_trial: false,
        iat: datetime!(2025-12-15 09:30 UTC).unix_timestamp(),
        nbf: datetime!(2026-01-01 0:00 UTC).unix_timestamp(),
        exp: datetime!(2099-01-01 0:00 UTC).unix_timestamp(),
        features: vec!["batch".into(), "parallel".into()],
        languages: vec!["any".into()],
    }
}

fn signed(c: &Claims) -> String {
    token::sign(c, &dev_key()).expect("sign")
}

/// A token with arbitrary header and claims JSON, signed (EdDSA) by `key`.
fn raw_token(header: &str, claims: &str, key: &SigningKey) -> String {
    let msg = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let sig = key.sign(msg.as_bytes());
    format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

const DEV_HEADER: &str = r#"{"typ":"JWT","alg":"EdDSA","kid":"hark-dev-2026"}"#;

fn claims_json(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v = serde_json::to_value(claims()).expect("json");
    edit(&mut v);
    v.to_string()
}

fn check(token: &str) -> Result<License, LicenseError> {
    verify(
        &LicenseSource::Token(token.to_string()),
        NOW,
        &Entitlement::BATCH,
    )
}

fn check_at(token: &str, now: OffsetDateTime) -> Result<License, LicenseError> {
    verify(
        &LicenseSource::Token(token.to_string()),
        now,
        &Entitlement::BATCH,
    )
}

fn check_file(path: &Path, want: &Entitlement) -> Result<License, LicenseError> {
    verify(&LicenseSource::File(path.to_path_buf()), NOW, want)
}

/// Writes `text` to a temp file and verifies it as a license file.
fn check_file_text(text: &str) -> Result<License, LicenseError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("license.json");
    std::fs::write(&p, text).expect("write");
    check_file(&p, &Entitlement::BATCH)
}

fn valid_file_json() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("valid.json")).expect("fixture");
    serde_json::from_str(&text).expect("fixture json")
}

fn msg(e: &LicenseError) -> String {
    let m = e.to_string();
    assert!(!m.contains('\n'), "message is not one line: {m}");
    m
}

// ---- valid licenses ----

#[test]
fn valid_dev_token_verifies() {
    let lic = check(&signed(&claims())).expect("valid");
    assert_eq!(lic.id, "0123456789abcdef0123456789abcdef");
    assert_eq!(lic.customer, "Example Ltd");
    assert_eq!(lic.contract_id, 7);
    assert!(!lic.is_trial);
    assert_eq!(lic.valid_from, time::macros::date!(2026 - 01 - 01));
    assert_eq!(lic.not_valid_after, time::macros::date!(2099 - 01 - 01));
    assert_eq!(lic.features, ["batch", "parallel"]);
    assert_eq!(lic.languages, ["any"]);
    assert_eq!(lic.key_id, "hark-dev-2026");
    assert_eq!(lic.key_fingerprint, trusted_keys()[0].1);
    assert_eq!(lic.source, "LICENSE_TOKEN");
    assert!(lic.key_fingerprint.starts_with("sha256:"));
}

#[test]
fn valid_fixture_file_verifies_with_every_entitlement() {
    let want = Entitlement {
        feature: Feature::Batch,
        parallel: true,
        language: Some("en"),
    };
    let lic = check_file(&fixture("valid.json"), &want).expect("valid");
    assert_eq!(lic.customer, "Hark Test Customer");
    assert_eq!(lic.source, fixture("valid.json").display().to_string());
}

#[test]
fn valid_fixture_token_verifies_with_surrounding_whitespace() {
    let t = std::fs::read_to_string(fixture("valid.token")).expect("fixture");
    assert!(t.ends_with('\n'));
    check(&format!("  {t}")).expect("valid despite whitespace");
}

#[test]
fn license_signed_by_second_trusted_key_verifies_key_rotation() {
    let lic = check_file(&fixture("rotated-key.json"), &Entitlement::BATCH).expect("valid");
    assert_eq!(lic.key_id, "hark-dev-2027");
    let mut c = claims();
    c.kid = "hark-dev-2027".into();
    check(&token::sign(&c, &dev_key_2027()).expect("sign")).expect("valid");
}

#[test]
fn days_remaining_counts_whole_days() {
    let lic = check(&signed(&claims())).expect("valid");
    assert_eq!(lic.days_remaining(datetime!(2098-12-31 0:00 UTC)), 1);
    assert_eq!(lic.days_remaining(datetime!(2098-12-31 12:00 UTC)), 0);
    assert_eq!(lic.days_remaining(datetime!(2099-01-02 0:00 UTC)), -1);
    assert!(lic
        .note(datetime!(2098-12-30 0:00 UTC))
        .ends_with("valid until 2099-01-01 00:00 UTC, 2 days remaining"));
}

// ---- validity window ----

#[test]
fn same_license_past_its_window_is_expired() {
    let t = signed(&claims());
    let e = check_at(&t, datetime!(2099-01-02 12:00 UTC)).unwrap_err();
    assert!(matches!(e, LicenseError::Expired { .. }), "{e:?}");
    assert_eq!(
        msg(&e),
        "license expired at 2099-01-01 00:00 UTC, 1 day 12 h ago; ask your vendor for a new license"
    );
}

#[test]
fn window_is_midnight_to_midnight_utc() {
    let t = signed(&claims());
    check_at(&t, datetime!(2026-01-01 0:00 UTC)).expect("valid from 00:00 UTC on validFrom");
    check_at(&t, datetime!(2098-12-31 23:59:59 UTC)).expect("valid until the last second");
    let e = check_at(&t, datetime!(2099-01-01 0:00 UTC)).unwrap_err();
    assert!(
        msg(&e).contains("expired at 2099-01-01 00:00 UTC, 0 s ago"),
        "{e}"
    );
    let e = check_at(&t, datetime!(2025-12-31 23:59:59 UTC)).unwrap_err();
    assert!(matches!(e, LicenseError::NotYetValid { .. }), "{e:?}");
    assert!(
        msg(&e).contains("valid from 2026-01-01 00:00 UTC, in 1 s"),
        "{e}"
    );
    // A non-UTC `now` is the same instant.
    check_at(&t, datetime!(2026-01-01 1:00 +01:00)).expect("same instant as 00:00 UTC");
}

#[test]
fn expired_fixture_says_by_how_long() {
    let e = check_file(&fixture("expired.json"), &Entitlement::BATCH).unwrap_err();
    assert!(matches!(e, LicenseError::Expired { .. }), "{e:?}");
    assert!(
        msg(&e).starts_with("license expired at 2021-01-01 00:00 UTC, 1977 days 12 h ago"),
        "{e}"
    );
}

#[test]
fn not_yet_valid_fixture_says_until_when() {
    let e = check_file(&fixture("not-yet-valid.json"), &Entitlement::BATCH).unwrap_err();
    assert!(matches!(e, LicenseError::NotYetValid { .. }), "{e:?}");
    assert!(
        msg(&e).starts_with("license is not yet valid: it is valid from 2090-01-01 00:00 UTC, in "),
        "{e}"
    );
}

// ---- entitlements ----

#[test]
fn parallel_needs_the_parallel_feature() {
    let path = fixture("no-parallel.json");
    check_file(&path, &Entitlement::BATCH).expect("one worker is fine");
    let want = Entitlement {
        parallel: true,
        ..Entitlement::BATCH
    };
    let e = check_file(&path, &want).unwrap_err();
    assert!(
        matches!(&e, LicenseError::FeatureNotLicensed { feature, .. } if feature == "parallel"),
        "{e:?}"
    );
    assert!(msg(&e).starts_with("license does not include the \"parallel\" feature (licensed features: batch); run with --parallel 1"), "{e}");
}

#[test]
fn batch_feature_is_required() {
    let mut c = claims();
    c.features = vec!["parallel".into()];
    let e = check(&signed(&c)).unwrap_err();
    assert!(
        matches!(&e, LicenseError::FeatureNotLicensed { feature, .. } if feature == "batch"),
        "{e:?}"
    );
    assert!(
        msg(&e).contains("\"batch\" feature (licensed features: parallel)"),
        "{e}"
    );
}

#[test]
fn language_must_be_licensed() {
    let path = fixture("lang-de.json");
    let de = Entitlement {
        language: Some("DE"),
        ..Entitlement::BATCH
    };
    check_file(&path, &de).expect("de is licensed, case-insensitively");
    let en = Entitlement {
        language: Some("en"),
        ..Entitlement::BATCH
    };
    let e = check_file(&path, &en).unwrap_err();
    assert!(
        matches!(&e, LicenseError::LanguageNotLicensed { language, .. } if language == "en"),
        "{e:?}"
    );
    assert!(
        msg(&e).starts_with("license does not include language \"en\" (licensed languages: de)"),
        "{e}"
    );
    check_file(&fixture("valid.json"), &en).expect("any licenses en");
}

// ---- locating the license ----

#[test]
fn license_token_wins_over_flag_and_default_file() {
    let flag = fixture("valid.json");
    let src = locate(Some(&flag), Some("tok".into()), &fixture("valid.json")).expect("found");
    assert_eq!(src, LicenseSource::Token("tok".into()));
    assert_eq!(src.to_string(), "LICENSE_TOKEN");
}

#[test]
fn flag_wins_over_default_file_and_blank_token_is_ignored() {
    let flag = Path::new("/nowhere/mine.json");
    let src = locate(Some(flag), Some(" \n".into()), &fixture("valid.json")).expect("found");
    assert_eq!(src, LicenseSource::File(flag.into()));
    let src = locate(None, None, &fixture("valid.json")).expect("found");
    assert_eq!(src, LicenseSource::File(fixture("valid.json")));
}

#[test]
fn no_license_found_names_every_place_looked() {
    let e = locate(None, None, Path::new("/nonexistent/license.json")).unwrap_err();
    assert!(matches!(e, LicenseError::NotFound { .. }), "{e:?}");
    assert_eq!(
        msg(&e),
        "no license found (looked at: LICENSE_TOKEN (not set), --license (not given), /nonexistent/license.json (no such file)); \
         mount your license file at /license.json, pass --license PATH or set LICENSE_TOKEN"
    );
    let e = locate(
        None,
        Some(String::new()),
        Path::new("/nonexistent/license.json"),
    )
    .unwrap_err();
    assert!(msg(&e).contains("LICENSE_TOKEN is set but empty,"), "{e}");
}

// ---- license file ----

#[test]
fn missing_flag_file_is_unreadable_and_named() {
    let e = check_file(Path::new("/nonexistent/mine.json"), &Entitlement::BATCH).unwrap_err();
    assert!(matches!(e, LicenseError::FileUnreadable { .. }), "{e:?}");
    assert!(
        msg(&e).starts_with("cannot read license file /nonexistent/mine.json: No such file"),
        "{e}"
    );
}

#[test]
fn directory_at_license_path_explains_docker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = check_file(dir.path(), &Entitlement::BATCH).unwrap_err();
    assert!(matches!(e, LicenseError::FileUnreadable { .. }), "{e:?}");
    assert!(
        msg(&e).contains("it is a directory (docker creates one"),
        "{e}"
    );
}

#[test]
fn truncated_json_reports_parse_position() {
    let text = std::fs::read_to_string(fixture("valid.json")).expect("fixture");
    let e = check_file_text(&text[..40]).unwrap_err();
    assert!(matches!(e, LicenseError::FileJson { line: 3, .. }), "{e:?}");
    assert!(
        msg(&e).contains("is not valid JSON: EOF while parsing a value at line 3 column 18;"),
        "{e}"
    );
    let e = check_file_text("").unwrap_err();
    assert!(
        msg(&e).contains("EOF while parsing a value at line 1 column 0"),
        "{e}"
    );
    let e = check_file_text("{\"contractid\": 1,, }").unwrap_err();
    assert!(
        matches!(
            e,
            LicenseError::FileJson {
                line: 1,
                column: 18,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn missing_or_mistyped_field_is_named() {
    let mut v = valid_file_json();
    v.as_object_mut()
        .expect("object")
        .remove("signedclaimstoken");
    let e = check_file_text(&v.to_string()).unwrap_err();
    assert!(matches!(e, LicenseError::FileFormat { .. }), "{e:?}");
    assert!(
        msg(&e).contains("is not a hark license: missing field `signedclaimstoken`"),
        "{e}"
    );
    let mut v = valid_file_json();
    v["contractid"] = "42".into();
    let e = check_file_text(&v.to_string()).unwrap_err();
    assert!(
        msg(&e).contains("invalid type: string \"42\", expected u64"),
        "{e}"
    );
}

#[test]
fn oversized_file_is_refused() {
    let e = check_file_text(&" ".repeat(1024 * 1024 + 1)).unwrap_err();
    assert!(matches!(e, LicenseError::FileUnreadable { .. }), "{e:?}");
    assert!(msg(&e).contains("larger than 1048576 bytes"), "{e}");
}

#[test]
fn edited_informational_fields_are_mismatches() {
    let cases: [(&str, &[&str], serde_json::Value); 6] = [
        ("customer", &["customer"], "Someone Else".into()),
        (
            "metadata.request.validFrom",
            &["metadata", "request", "validFrom"],
            "2020-01-01".into(),
        ),
        (
            "metadata.request.notValidAfter",
            &["metadata", "request", "notValidAfter"],
            "2199-01-01".into(),
        ),
        (
            "metadata.request.features",
            &["metadata", "request", "features"],
            serde_json::json!(["batch"]),
        ),
        (
            "metadata.key_pair_id",
            &["metadata", "key_pair_id"],
            "hark-dev-2027".into(),
        ),
        ("is_trial", &["is_trial"], true.into()),
    ];
    for (field, path, value) in cases {
        let mut v = valid_file_json();
        let mut slot = &mut v;
        for p in path {
            slot = &mut slot[*p];
        }
        *slot = value;
        let e = check_file_text(&v.to_string()).unwrap_err();
        assert!(
            matches!(&e, LicenseError::FieldMismatch { field: f, .. } if f == field),
            "{field}: {e:?}"
        );
        assert!(
            msg(&e).starts_with(&format!("license file field `{field}` is ")),
            "{e}"
        );
        assert!(msg(&e).contains("the file was edited"), "{e}");
    }
    // Reordering features is not an edit.
    let mut v = valid_file_json();
    v["metadata"]["request"]["features"] = serde_json::json!(["lang:any", "parallel", "batch"]);
    check_file_text(&v.to_string()).expect("same set of features");
}

#[test]
fn unknown_extra_file_fields_are_ignored() {
    let mut v = valid_file_json();
    v["comment"] = "added by ops".into();
    check_file_text(&v.to_string()).expect("extra informational field");
}

// ---- token shape ----

#[test]
fn empty_token_is_refused() {
    let e = check("").unwrap_err();
    assert!(matches!(e, LicenseError::TokenEmpty { .. }), "{e:?}");
    assert_eq!(
        msg(&e),
        "license token in LICENSE_TOKEN is empty; copy the whole signedclaimstoken value"
    );
    let mut v = valid_file_json();
    v["signedclaimstoken"] = "".into();
    let e = check_file_text(&v.to_string()).unwrap_err();
    assert!(matches!(e, LicenseError::TokenEmpty { .. }), "{e:?}");
    assert!(
        msg(&e).contains("license.json signedclaimstoken is empty"),
        "{e}"
    );
}

#[test]
fn oversized_token_is_refused() {
    let e = check(&"a".repeat(MAX_TOKEN_LEN + 1)).unwrap_err();
    assert!(
        matches!(
            e,
            LicenseError::TokenTooLarge {
                len: 65537,
                max: 65536,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        msg(&e).contains("is 65537 bytes, more than the 65536 bytes a license can be"),
        "{e}"
    );
}

#[test]
fn binary_token_reports_offset() {
    let mut t = signed(&claims()).into_bytes();
    t[10] = 0x00;
    let e = check(&String::from_utf8(t).expect("utf8")).unwrap_err();
    assert!(
        matches!(
            e,
            LicenseError::TokenBinary {
                offset: 10,
                byte: 0,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        msg(&e).contains("contains binary data (byte 0x00) at input byte 10"),
        "{e}"
    );
    let e = check("eyJ0eXAi\u{e9}OiJKV1Qi").unwrap_err();
    assert!(
        matches!(
            e,
            LicenseError::TokenBinary {
                offset: 8,
                byte: 0xc3,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn non_base64url_character_reports_offset() {
    let t = signed(&claims());
    let dot = t.find('.').expect("dot");
    let bad = format!("{}+{}", &t[..dot + 5], &t[dot + 6..]);
    let e = check(&bad).unwrap_err();
    assert!(
        matches!(e, LicenseError::TokenBase64 { part: "claims", .. }),
        "{e:?}"
    );
    assert!(
        msg(&e).contains(&format!("illegal base64 data at input byte {} (in the claims): '+' is not a base64url character", dot + 5)),
        "{e}"
    );
}

#[test]
fn truncated_token_is_reported() {
    let t = signed(&claims());
    let sig_start = t.rfind('.').expect("dot") + 1;
    assert_eq!(t.len() - sig_start, 86);
    // Cut inside the signature so its length is impossible for base64.
    let e = check(&t[..sig_start + 85]).unwrap_err();
    assert!(
        matches!(
            e,
            LicenseError::TokenBase64 {
                part: "signature",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        msg(&e).contains(&format!(
            "illegal base64 data at input byte {} (in the signature)",
            sig_start + 85
        )),
        "{e}"
    );
    assert!(
        msg(&e).contains("the token was truncated or altered, copy it again"),
        "{e}"
    );
    // Cut so the signature decodes but is short.
    let e = check(&t[..sig_start + 84]).unwrap_err();
    assert!(
        matches!(e, LicenseError::SignatureLength { len: 63, .. }),
        "{e:?}"
    );
    assert!(
        msg(&e).contains("the signature is 63 bytes, an Ed25519 signature is 64"),
        "{e}"
    );
    // Cut before the signature: only two parts.
    let e = check(&t[..sig_start - 1]).unwrap_err();
    assert!(
        matches!(e, LicenseError::TokenParts { found: 2, .. }),
        "{e:?}"
    );
    assert!(
        msg(&e).contains("has 2 part(s) separated by '.', expected 3"),
        "{e}"
    );
}

#[test]
fn wrong_segment_count_is_refused() {
    let t = signed(&claims());
    let e = check(&format!("{t}.extra")).unwrap_err();
    assert!(
        matches!(e, LicenseError::TokenParts { found: 4, .. }),
        "{e:?}"
    );
    let e = check("notatoken").unwrap_err();
    assert!(
        matches!(e, LicenseError::TokenParts { found: 1, .. }),
        "{e:?}"
    );
}

// ---- header ----

#[test]
fn alg_none_is_refused() {
    for alg in ["none", "None", "NONE"] {
        let h = format!(r#"{{"typ":"JWT","alg":"{alg}","kid":"hark-dev-2026"}}"#);
        let t = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(h),
            URL_SAFE_NO_PAD.encode(claims_json(|_| ()))
        );
        let e = check(&t).unwrap_err();
        assert!(matches!(e, LicenseError::AlgorithmNone), "{alg}: {e:?}");
        assert_eq!(
            msg(&e),
            "license token is unsigned (algorithm \"none\"); hark only accepts EdDSA-signed licenses"
        );
    }
}

#[test]
fn header_alg_swapped_is_refused_before_verification() {
    let t = signed(&claims());
    let rest = &t[t.find('.').expect("dot")..];
    for alg in [
        "RS256", "PS256", "ES256", "HS256", "HS512", "eddsa", "Ed25519", "EdDSA ",
    ] {
        let h = format!(r#"{{"typ":"JWT","alg":"{alg}","kid":"hark-dev-2026"}}"#);
        let e = check(&format!("{}{rest}", URL_SAFE_NO_PAD.encode(h))).unwrap_err();
        assert!(
            matches!(&e, LicenseError::AlgorithmNotEdDsa { alg: a } if a == alg),
            "{alg}: {e:?}"
        );
        assert_eq!(
            msg(&e),
            format!("license token algorithm {alg:?} is not EdDSA; hark only accepts EdDSA-signed licenses")
        );
    }
    let h = r#"{"typ":"JWT","alg":7,"kid":"hark-dev-2026"}"#;
    let e = check(&format!("{}{rest}", URL_SAFE_NO_PAD.encode(h))).unwrap_err();
    assert!(matches!(e, LicenseError::AlgorithmNotEdDsa { .. }), "{e:?}");
}

#[test]
fn hs256_signed_with_the_public_key_bytes_is_refused() {
    let public = dev_key().verifying_key().to_bytes();
    let pub_file = include_str!("../../keys/trusted/hark-dev-2026.pub");
    for secret in [&public[..], pub_file.as_bytes()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("hark-dev-2026".into());
        let t = jsonwebtoken::encode(
            &header,
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .expect("hs256");
        let e = check(&t).unwrap_err();
        assert!(
            matches!(&e, LicenseError::AlgorithmNotEdDsa { alg } if alg == "HS256"),
            "{e:?}"
        );
        assert!(
            msg(&e).starts_with("license token algorithm \"HS256\" is not EdDSA"),
            "{e}"
        );
    }
}

#[test]
fn missing_kid_is_refused() {
    let t = raw_token(
        r#"{"typ":"JWT","alg":"EdDSA"}"#,
        &claims_json(|_| ()),
        &dev_key(),
    );
    let e = check(&t).unwrap_err();
    assert!(matches!(e, LicenseError::MissingKeyId), "{e:?}");
    assert!(
        msg(&e).starts_with("license token header has no key id (kid)"),
        "{e}"
    );
}

#[test]
fn unknown_kid_is_refused_and_trusted_ones_named() {
    let h = r#"{"typ":"JWT","alg":"EdDSA","kid":"acme-2030"}"#;
    let t = raw_token(
        h,
        &claims_json(|c| c["kid"] = "acme-2030".into()),
        &dev_key(),
    );
    let e = check(&t).unwrap_err();
    assert!(
        matches!(&e, LicenseError::UnknownKeyId { kid, .. } if kid == "acme-2030"),
        "{e:?}"
    );
    assert!(
        msg(&e).starts_with(
            "license is signed with key id \"acme-2030\", which this build of hark does not trust (trusted: hark-dev-2026, hark-dev-2027)"
        ),
        "{e}"
    );
}

#[test]
fn header_with_embedded_key_or_other_fields_is_refused() {
    let h = r#"{"typ":"JWT","alg":"EdDSA","kid":"hark-dev-2026","jwk":{"kty":"OKP","crv":"Ed25519","x":"AAAA"}}"#;
    let e = check(&raw_token(h, &claims_json(|_| ()), &dev_key())).unwrap_err();
    assert!(matches!(e, LicenseError::HeaderInvalid { .. }), "{e:?}");
    assert!(
        msg(&e).contains("license token header is invalid: unsupported field \"jwk\""),
        "{e}"
    );
    let h = r#"{"typ":"JOSE","alg":"EdDSA","kid":"hark-dev-2026"}"#;
    let e = check(&raw_token(h, &claims_json(|_| ()), &dev_key())).unwrap_err();
    assert!(
        msg(&e).contains("type (typ) is \"JOSE\", not \"JWT\""),
        "{e}"
    );
    let h = r#"{"typ":"JWT","alg":"HS256","alg":"EdDSA","kid":"hark-dev-2026"}"#;
    let e = check(&raw_token(h, &claims_json(|_| ()), &dev_key())).unwrap_err();
    assert!(
        msg(&e).contains("license token header is invalid: duplicate field `alg`"),
        "{e}"
    );
    let dup = claims_json(|_| ()).replacen('{', r#"{"sub":"Someone Else","#, 1);
    let e = check(&raw_token(DEV_HEADER, &dup, &dev_key())).unwrap_err();
    assert!(matches!(e, LicenseError::ClaimsInvalid { .. }), "{e:?}");
    assert!(msg(&e).contains("duplicate field `sub`"), "{e}");
    let e = check(&raw_token("[1]", &claims_json(|_| ()), &dev_key())).unwrap_err();
    assert!(
        msg(&e).contains("license token header is invalid: not a JSON object"),
        "{e}"
    );
}

// ---- signature ----

#[test]
fn claims_changed_after_signing_are_refused() {
    let t = signed(&claims());
    let parts: Vec<&str> = t.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(claims_json(|c| c["exp"] = 4102444800i64.into()));
    let e = check(&format!("{}.{forged}.{}", parts[0], parts[2])).unwrap_err();
    assert!(
        matches!(&e, LicenseError::SignatureInvalid { kid } if kid == "hark-dev-2026"),
        "{e:?}"
    );
    assert_eq!(
        msg(&e),
        "license signature is invalid for key \"hark-dev-2026\": the license was altered or not issued by this vendor; \
         use the license exactly as it was issued"
    );
}

#[test]
fn signature_from_another_key_is_refused() {
    let other = SigningKey::from_bytes(&[7u8; 32]);
    let e = check(&token::sign(&claims(), &other).expect("sign")).unwrap_err();
    assert!(matches!(e, LicenseError::SignatureInvalid { .. }), "{e:?}");
}

#[test]
fn kid_pointing_at_another_trusted_key_is_refused() {
    // Signed by the 2026 key but naming the (also trusted) 2027 key.
    let mut c = claims();
    c.kid = "hark-dev-2027".into();
    let e = check(&token::sign(&c, &dev_key()).expect("sign")).unwrap_err();
    assert!(
        matches!(&e, LicenseError::SignatureInvalid { kid } if kid == "hark-dev-2027"),
        "{e:?}"
    );
    // A valid token whose header kid is rewritten to the other key.
    let t = signed(&claims());
    let rest = &t[t.find('.').expect("dot")..];
    let h = r#"{"typ":"JWT","alg":"EdDSA","kid":"hark-dev-2027"}"#;
    let e = check(&format!("{}{rest}", URL_SAFE_NO_PAD.encode(h))).unwrap_err();
    assert!(matches!(e, LicenseError::SignatureInvalid { .. }), "{e:?}");
}

#[test]
fn flipped_signature_bit_is_refused() {
    let t = signed(&claims());
    let sig_start = t.rfind('.').expect("dot") + 1;
    let mut sig = URL_SAFE_NO_PAD.decode(&t[sig_start..]).expect("sig");
    sig[0] ^= 1;
    let e = check(&format!(
        "{}{}",
        &t[..sig_start],
        URL_SAFE_NO_PAD.encode(sig)
    ))
    .unwrap_err();
    assert!(matches!(e, LicenseError::SignatureInvalid { .. }), "{e:?}");
}

// ---- signed claims ----

#[test]
fn wrong_audience_or_product_is_refused() {
    let t = raw_token(
        DEV_HEADER,
        &claims_json(|c| c["aud"] = "hark-realtime".into()),
        &dev_key(),
    );
    let e = check(&t).unwrap_err();
    assert!(
        matches!(&e, LicenseError::WrongAudience { found, .. } if found == "hark-realtime"),
        "{e:?}"
    );
    assert_eq!(
        msg(&e),
        "license is for product \"hark-realtime\", not \"hark-batch\"; ask your vendor for a hark batch license"
    );
    // Audience must be exactly the string, not a list containing it.
    let t = raw_token(
        DEV_HEADER,
        &claims_json(|c| c["aud"] = serde_json::json!(["hark-batch", "x"])),
        &dev_key(),
    );
    let e = check(&t).unwrap_err();
    assert!(matches!(e, LicenseError::ClaimsInvalid { .. }), "{e:?}");
}

#[test]
fn wrong_issuer_is_refused() {
    let t = raw_token(
        DEV_HEADER,
        &claims_json(|c| c["iss"] = "someone-else".into()),
        &dev_key(),
    );
    let e = check(&t).unwrap_err();
    assert!(
        matches!(&e, LicenseError::WrongIssuer { found, .. } if found == "someone-else"),
        "{e:?}"
    );
    assert!(
        msg(&e).starts_with("license was issued by \"someone-else\", not \"hark-licensing\""),
        "{e}"
    );
}

#[test]
fn malformed_signed_claims_are_refused() {
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: [(&str, Edit); 6] = [
        (
            "claim \"exp\" is missing",
            Box::new(|c| drop(c.as_object_mut().map(|o| o.remove("exp")))),
        ),
        (
            "unknown field `max_minutes`",
            Box::new(|c| c["max_minutes"] = 60.into()),
        ),
        (
            "claim kid \"hark-dev-2027\" differs from the header's \"hark-dev-2026\"",
            Box::new(|c| c["kid"] = "hark-dev-2027".into()),
        ),
        (
            "nbf 1767229200 is not 00:00 UTC",
            Box::new(|c| c["nbf"] = 1767229200i64.into()),
        ),
        (
            "before it starts",
            Box::new(|c| c["exp"] = c["nbf"].clone()),
        ),
        (
            "invalid type: string \"7\", expected u64",
            Box::new(|c| c["contract_id"] = "7".into()),
        ),
    ];
    for (words, edit) in cases {
        let t = raw_token(DEV_HEADER, &claims_json(|c| edit(c)), &dev_key());
        let e = check(&t).unwrap_err();
        assert!(
            matches!(e, LicenseError::ClaimsInvalid { .. }),
            "{words}: {e:?}"
        );
        assert!(msg(&e).starts_with("license claims are invalid: "), "{e}");
        assert!(msg(&e).contains(words), "{words}: {e}");
    }
}

#[test]
fn every_error_maps_to_license_not_usage() {
    for t in ["", "a.b", "x.y.z"] {
        assert!(!check(t).unwrap_err().is_usage());
    }
}
