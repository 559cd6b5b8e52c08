//! Vendor tooling: generate a signing key pair and issue licenses.
//!
//! Private keys are PKCS#8 PEM files written with mode 0600; public keys are
//! written both as SPKI PEM and in the `keys/trusted/<kid>.pub` form that
//! `build.rs` compiles in (standard base64 of the 32 raw bytes, `#`
//! comments). Imports [`super::error`], [`super::file`], [`super::keys`] and
//! [`super::token`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::error::LicenseError;
use super::file::LicenseFile;
use super::keys;
use super::token::{self, Claims, AUDIENCE, ISSUER};
use super::{Feature, ANY_LANGUAGE};

/// Checks a key id: 1-64 of `A-Z a-z 0-9 . _ -` (it becomes a file name).
pub(crate) fn check_kid(kid: &str) -> Result<(), LicenseError> {
    let ok = !kid.is_empty()
        && kid.len() <= 64
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(LicenseError::Usage(format!(
            "--kid {kid:?}: use 1-64 of A-Z a-z 0-9 . _ -"
        )))
    }
}

/// The `keys/trusted/<kid>.pub` text for a public key.
pub fn trusted_key_file(kid: &str, raw: &[u8; 32]) -> String {
    format!(
        "# hark license public key (Ed25519, base64 of the 32 raw bytes)\n# kid: {kid}\n# fingerprint: {}\n{}\n",
        keys::fingerprint(raw),
        STANDARD.encode(raw)
    )
}

/// Generates a key pair: writes `<out_dir>/<kid>.private.pem` (PKCS#8, mode
/// 0600, never overwritten) and `<out_dir>/<kid>.pub`; returns a report with
/// the public key as PEM and raw base64, and its fingerprint.
pub fn keygen(kid: &str, out_dir: &Path) -> Result<String, LicenseError> {
    check_kid(kid)?;
    let key = SigningKey::generate(&mut OsRng);
    let public = key.verifying_key();
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| LicenseError::Usage(format!("cannot encode the private key: {e}")))?;
    let public_pem = public
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| LicenseError::Usage(format!("cannot encode the public key: {e}")))?;
    let private_path = out_dir.join(format!("{kid}.private.pem"));
    let public_path = out_dir.join(format!("{kid}.pub"));
    for p in [&private_path, &public_path] {
        if p.exists() {
            return Err(LicenseError::Write {
                path: p.clone(),
                detail: "it already exists; not overwriting a key".into(),
            });
        }
    }
    write_private(&private_path, private_pem.as_bytes())?;
    let raw = public.to_bytes();
    write_file(&public_path, trusted_key_file(kid, &raw).as_bytes())?;
    Ok(format!(
        "key id:       {kid}\nfingerprint:  {}\nprivate key:  {} (keep it secret; mode 0600)\npublic key:   {} (copy it into the trusted keys directory and rebuild hark)\n\npublic key (raw, base64):\n{}\n\npublic key (PEM):\n{public_pem}",
        keys::fingerprint(&raw),
        private_path.display(),
        public_path.display(),
        STANDARD.encode(raw),
    ))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), LicenseError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| LicenseError::Write {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), LicenseError> {
    fs::write(path, bytes).map_err(|e| LicenseError::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// Reads a PKCS#8 PEM Ed25519 private key.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, LicenseError> {
    let bad = |detail: String| LicenseError::KeyFile {
        path: path.to_path_buf(),
        detail,
    };
    let text = fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    SigningKey::from_pkcs8_pem(&text)
        .map_err(|e| bad(format!("not a PKCS#8 PEM Ed25519 private key ({e})")))
}

/// What to issue (the plain form of `hark license issue`'s arguments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRequest {
    /// The signing key's id.
    pub kid: String,
    /// The customer.
    pub customer: String,
    /// The contract id.
    pub contract_id: u64,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`, after `valid_from`.
    pub not_valid_after: String,
    /// Feature names (`batch`, `parallel`).
    pub features: Vec<String>,
    /// `any` or language codes.
    pub languages: Vec<String>,
    /// A trial license.
    pub trial: bool,
    /// License id; random 32 hex digits if `None`.
    pub id: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` UTC; `now` if `None`.
    pub created: Option<String>,
}

fn parse_date(flag: &str, s: &str) -> Result<Date, LicenseError> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|e| LicenseError::Usage(format!("{flag} {s:?}: expected YYYY-MM-DD ({e})")))
}

/// Builds the claims for `req`, validating every field.
pub fn build_claims(req: &IssueRequest, now: OffsetDateTime) -> Result<Claims, LicenseError> {
    check_kid(&req.kid)?;
    let usage = |m: String| Err(LicenseError::Usage(m));
    if req.customer.trim().is_empty() {
        return usage("--customer must not be empty".into());
    }
    let from = parse_date("--valid-from", &req.valid_from)?;
    let until = parse_date("--not-valid-after", &req.not_valid_after)?;
    if from >= until {
        return usage(format!(
            "--not-valid-after {until} must be after --valid-from {from}"
        ));
    }
    let mut features = Vec::new();
    for f in &req.features {
        if Feature::from_name(f).is_none() {
            let known: Vec<&str> = Feature::ALL.iter().map(|f| f.as_str()).collect();
            return usage(format!(
                "--feature {f:?}: known features are {}",
                known.join(", ")
            ));
        }
        if !features.contains(f) {
            features.push(f.clone());
        }
    }
    if features.is_empty() {
        return usage("give at least one --feature (batch)".into());
    }
    let mut languages = Vec::new();
    for l in &req.languages {
        let l = l.to_ascii_lowercase();
        let ok = (2..=16).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return usage(format!(
                "--language {l:?}: use {ANY_LANGUAGE:?} or a language code such as en, de, pt-br"
            ));
        }
        if !languages.contains(&l) {
            languages.push(l);
        }
    }
    if languages.is_empty() {
        return usage(format!(
            "give at least one --language ({ANY_LANGUAGE:?} or a code)"
        ));
    }
    let jti = match &req.id {
        Some(id) if !id.trim().is_empty() && id.len() <= 128 => id.clone(),
        Some(id) => return usage(format!("--id {id:?}: must be 1-128 characters")),
        None => {
            let mut bytes = [0u8; 16];
            OsRng.fill_bytes(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let iat = match &req.created {
        Some(s) => PrimitiveDateTime::parse(
            s,
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        )
        .map_err(|e| {
            LicenseError::Usage(format!(
                "--created {s:?}: expected YYYY-MM-DD HH:MM:SS ({e})"
            ))
        })?
        .assume_utc()
        .unix_timestamp(),
        None => now.unix_timestamp(),
    };
    Ok(Claims {
        iss: ISSUER.to_string(),
        aud: AUDIENCE.to_string(),
        sub: req.customer.clone(),
        jti,
        kid: req.kid.clone(),
        contract_id: req.contract_id,
        is_trial: req.trial,
        iat,
        nbf: from.midnight().assume_utc().unix_timestamp(),
        exp: until.midnight().assume_utc().unix_timestamp(),
        features,
        languages,
    })
}

/// Issues a license signed with the private key at `key_path`: returns the
/// license file and its token. Refuses a key that differs from the one this
/// build trusts under the same key id.
pub fn issue(
    req: &IssueRequest,
    key_path: &Path,
    now: OffsetDateTime,
) -> Result<LicenseFile, LicenseError> {
    let claims = build_claims(req, now)?;
    let key = read_signing_key(key_path)?;
    let raw = key.verifying_key().to_bytes();
    match keys::lookup(&req.kid) {
        Some(trusted) if *trusted != raw => {
            return Err(LicenseError::KeyFile {
                path: key_path.to_path_buf(),
                detail: format!(
                    "its public key ({}) is not the key this build trusts as {:?} ({}); check --kid",
                    keys::fingerprint(&raw),
                    req.kid,
                    keys::fingerprint(trusted)
                ),
            })
        }
        Some(_) => {}
        None => tracing::warn!(
            "this build of hark does not trust key id {:?}: the license will only verify in a build that does",
            req.kid
        ),
    }
    let token = token::sign(&claims, &key)?;
    LicenseFile::from_claims(&claims, token)
}

/// Writes `text` to `path`, or returns it for stdout when `path` is `None` or `-`.
pub(crate) fn write_or_return(
    path: Option<&PathBuf>,
    text: String,
    what: &str,
) -> Result<String, LicenseError> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            write_file(p, text.as_bytes())?;
            Ok(format!("wrote {what} to {}\n", p.display()))
        }
        _ => Ok(text),
    }
}
