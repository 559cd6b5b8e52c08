//! The one error type of the license stage.
//!
//! Every variant's `Display` is one line that says what is wrong and what to
//! do about it. Verification failures map to exit code 3 (license); the
//! vendor-tool variants for which [`LicenseError::is_usage`] is true map to
//! exit code 2 (usage). This module imports nothing from the rest of hark.

use std::path::PathBuf;

use time::{Date, Duration};

/// Why hark will not transcribe under the license it found (or could not find).
#[derive(Debug, thiserror::Error)]
pub enum LicenseError {
    /// Neither `LICENSE_TOKEN`, `--license` nor the default file gave a license.
    #[error(
        "no license found (looked at: {}); mount your license file at /license.json, pass --license PATH or set LICENSE_TOKEN",
        .looked.join(", ")
    )]
    NotFound {
        /// Every place looked, each with why it gave nothing.
        looked: Vec<String>,
    },

    /// The license file could not be read.
    #[error("cannot read license file {}: {detail}", .path.display())]
    FileUnreadable {
        /// The license file.
        path: PathBuf,
        /// What went wrong, with a hint.
        detail: String,
    },

    /// The license file is not JSON (syntax error or truncated).
    #[error(
        "license file {} is not valid JSON: {detail} at line {line} column {column}; use the file exactly as it was issued",
        .path.display()
    )]
    FileJson {
        /// The license file.
        path: PathBuf,
        /// Line of the error (1-based).
        line: usize,
        /// Column of the error (1-based).
        column: usize,
        /// serde_json's description.
        detail: String,
    },

    /// The license file is JSON but a field is missing or has the wrong type.
    #[error(
        "license file {} is not a hark license: {detail} at line {line} column {column}; use the file exactly as it was issued",
        .path.display()
    )]
    FileFormat {
        /// The license file.
        path: PathBuf,
        /// Line of the error (1-based).
        line: usize,
        /// Column of the error (1-based).
        column: usize,
        /// serde_json's description (names the field).
        detail: String,
    },

    /// An informational field of the license file disagrees with the signed claims.
    #[error(
        "license file field `{field}` is {file} but the signed token says {signed}: the file was edited; use the file exactly as it was issued"
    )]
    FieldMismatch {
        /// The field, as a JSON path (`metadata.request.validFrom`).
        field: String,
        /// Its value in the file.
        file: String,
        /// The value the signed claims imply.
        signed: String,
    },

    /// The token is empty.
    #[error("license token in {source_name} is empty; copy the whole signedclaimstoken value")]
    TokenEmpty {
        /// `LICENSE_TOKEN` or the file's `signedclaimstoken`.
        source_name: String,
    },

    /// The token is longer than any license hark issues.
    #[error(
        "license token in {source_name} is {len} bytes, more than the {max} bytes a license can be; set only the signedclaimstoken value"
    )]
    TokenTooLarge {
        /// `LICENSE_TOKEN` or the file's `signedclaimstoken`.
        source_name: String,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },

    /// The token contains a byte that is not printable ASCII (binary data).
    #[error(
        "license token in {source_name} contains binary data (byte 0x{byte:02x}) at input byte {offset}; copy the signedclaimstoken value as text"
    )]
    TokenBinary {
        /// `LICENSE_TOKEN` or the file's `signedclaimstoken`.
        source_name: String,
        /// 0-based byte offset in the token.
        offset: usize,
        /// The offending byte.
        byte: u8,
    },

    /// The token does not have three dot-separated parts.
    #[error(
        "license token in {source_name} has {found} part(s) separated by '.', expected 3 (header.claims.signature): it was truncated or altered; copy it again"
    )]
    TokenParts {
        /// `LICENSE_TOKEN` or the file's `signedclaimstoken`.
        source_name: String,
        /// How many parts were found.
        found: usize,
    },

    /// A part of the token is not base64url (or is cut short).
    #[error(
        "license token in {source_name}: illegal base64 data at input byte {offset} (in the {part}): {detail}; the token was truncated or altered, copy it again"
    )]
    TokenBase64 {
        /// `LICENSE_TOKEN` or the file's `signedclaimstoken`.
        source_name: String,
        /// `header`, `claims` or `signature`.
        part: &'static str,
        /// 0-based byte offset in the token.
        offset: usize,
        /// What is wrong there.
        detail: String,
    },

    /// The signature part decodes to the wrong number of bytes.
    #[error(
        "license token in {source_name}: the signature is {len} bytes, an Ed25519 signature is 64: the token was truncated or altered; copy it again"
    )]
    SignatureLength {
        /// `LICENSE_TOKEN` or the file's `signedclaimstoken`.
        source_name: String,
        /// Decoded signature length in bytes.
        len: usize,
    },

    /// The token header is not the JSON hark issues.
    #[error(
        "license token header is invalid: {detail}; the token was altered or not issued for hark"
    )]
    HeaderInvalid {
        /// What is wrong.
        detail: String,
    },

    /// The token is unsigned (`alg: none`).
    #[error(
        "license token is unsigned (algorithm \"none\"); hark only accepts EdDSA-signed licenses"
    )]
    AlgorithmNone,

    /// The token is signed with an algorithm other than EdDSA.
    #[error(
        "license token algorithm {alg:?} is not EdDSA; hark only accepts EdDSA-signed licenses"
    )]
    AlgorithmNotEdDsa {
        /// The header's `alg`.
        alg: String,
    },

    /// The token header names no key.
    #[error(
        "license token header has no key id (kid); the token was altered or not issued for hark"
    )]
    MissingKeyId,

    /// The token names a key this build does not trust.
    #[error(
        "license is signed with key id {kid:?}, which this build of hark does not trust (trusted: {}); ask your vendor for a license for this build",
        .trusted.join(", ")
    )]
    UnknownKeyId {
        /// The header's `kid`.
        kid: String,
        /// The key ids compiled into this build.
        trusted: Vec<String>,
    },

    /// The signature does not verify.
    #[error(
        "license signature is invalid for key {kid:?}: the license was altered or not issued by this vendor; use the license exactly as it was issued"
    )]
    SignatureInvalid {
        /// The key the signature was checked against.
        kid: String,
    },

    /// The token is signed but its claims are not what hark issues.
    #[error("license claims are invalid: {detail}; ask your vendor for a new license")]
    ClaimsInvalid {
        /// What is wrong.
        detail: String,
    },

    /// The license is for another product (`aud`).
    #[error("license is for product {found:?}, not {expected:?}; ask your vendor for a hark batch license")]
    WrongAudience {
        /// The signed `aud`.
        found: String,
        /// What hark requires.
        expected: String,
    },

    /// The license was issued by another issuer (`iss`).
    #[error(
        "license was issued by {found:?}, not {expected:?}; ask your vendor for a hark license"
    )]
    WrongIssuer {
        /// The signed `iss`.
        found: String,
        /// What hark requires.
        expected: String,
    },

    /// The validity window has not started.
    #[error(
        "license is not yet valid: it is valid from {valid_from} 00:00 UTC, in {}; wait until then or ask for a license valid now",
        fmt_duration(*.starts_in)
    )]
    NotYetValid {
        /// First valid day.
        valid_from: Date,
        /// Time until it becomes valid.
        starts_in: Duration,
    },

    /// The validity window has ended.
    #[error(
        "license expired at {not_valid_after} 00:00 UTC, {} ago; ask your vendor for a new license",
        fmt_duration(*.expired_for)
    )]
    Expired {
        /// The day at whose start it stopped being valid.
        not_valid_after: Date,
        /// How long ago.
        expired_for: Duration,
    },

    /// The license does not include a feature the job needs.
    #[error(
        "license does not include the {feature:?} feature (licensed features: {}); {hint}",
        list_or_none(.licensed)
    )]
    FeatureNotLicensed {
        /// The feature the job needs.
        feature: String,
        /// The features the license has.
        licensed: Vec<String>,
        /// What to do.
        hint: &'static str,
    },

    /// The license does not include the job's language.
    #[error(
        "license does not include language {language:?} (licensed languages: {}); choose a licensed language or ask your vendor for a license that includes it",
        list_or_none(.licensed)
    )]
    LanguageNotLicensed {
        /// The language the job needs.
        language: String,
        /// The languages the license has.
        licensed: Vec<String>,
    },

    /// A compiled-in trust anchor is not a valid Ed25519 public key (a build error).
    #[error("trusted key {kid:?} compiled into this build is not a valid Ed25519 public key; rebuild hark with a correct keys directory")]
    TrustedKeyInvalid {
        /// The key id.
        kid: String,
    },

    /// Vendor tooling: a bad argument (exit 2).
    #[error("{0}")]
    Usage(String),

    /// Vendor tooling: a key file could not be read or parsed (exit 2).
    #[error("cannot use key file {}: {detail}", .path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },

    /// Vendor tooling: an output file could not be written (exit 2).
    #[error("cannot write {}: {detail}", .path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
}

impl LicenseError {
    /// True for the vendor-tool errors that are usage errors (exit 2): a bad
    /// argument ([`LicenseError::Usage`]), an unreadable or invalid key file
    /// ([`LicenseError::KeyFile`]) or an output that cannot be written
    /// ([`LicenseError::Write`]). Every other variant is a license error (exit 3).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            LicenseError::Usage(_) | LicenseError::KeyFile { .. } | LicenseError::Write { .. }
        )
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// Formats a duration for people: "3 days 4 h", "5 h 12 min", "42 s".
pub fn fmt_duration(d: Duration) -> String {
    let secs = d.whole_seconds().unsigned_abs();
    let (days, hours, mins, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    if days > 0 {
        format!("{days} day{} {hours} h", plural(days))
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else if mins > 0 {
        format!("{mins} min {s} s")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_duration(Duration::seconds(42)), "42 s");
        assert_eq!(fmt_duration(Duration::seconds(3 * 60 + 1)), "3 min 1 s");
        assert_eq!(
            fmt_duration(Duration::seconds(36 * 3600 + 6 * 60)),
            "1 day 12 h"
        );
        assert_eq!(
            fmt_duration(Duration::days(3) + Duration::hours(4)),
            "3 days 4 h"
        );
        assert_eq!(
            fmt_duration(Duration::hours(5) + Duration::minutes(12)),
            "5 h 12 min"
        );
    }

    #[test]
    fn usage_errors_are_only_vendor_tool_errors() {
        assert!(LicenseError::Usage("x".into()).is_usage());
        assert!(LicenseError::KeyFile {
            path: "k".into(),
            detail: "d".into()
        }
        .is_usage());
        assert!(LicenseError::Write {
            path: "k".into(),
            detail: "d".into()
        }
        .is_usage());
        assert!(!LicenseError::AlgorithmNone.is_usage());
        assert!(!LicenseError::NotFound { looked: vec![] }.is_usage());
    }

    #[test]
    fn every_message_is_one_line() {
        let e = LicenseError::NotFound {
            looked: vec!["LICENSE_TOKEN (not set)".into()],
        };
        assert!(!e.to_string().contains('\n'));
    }
}
