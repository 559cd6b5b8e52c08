//! Licensing: hark refuses to transcribe without a valid license, checked
//! offline before any audio is read or model loaded.
//!
//! A license is a Speechmatics-shaped JSON file (`/license.json` or
//! `--license PATH`) or just its `signedclaimstoken` in `LICENSE_TOKEN`
//! (which wins: the file is then ignored). The token is an Ed25519-signed
//! JWT; only its claims are trusted, and they are checked against trust
//! anchors compiled in by `build.rs` ([`keys`]). See `docs/licensing.md`.
//!
//! - [`locate`] picks the license source, [`verify`] checks it for a job;
//! - [`LicenseCommand`] / [`run_command`] are `hark license ...` (status, and
//!   the vendor tools keygen, issue, inspect).
//!
//! This module imports nothing from the rest of hark; every failure is a
//! [`LicenseError`], exit code 3 except the usage errors of the vendor tools
//! ([`LicenseError::is_usage`], exit code 2).

mod cli;
mod error;
mod file;
mod keys;
mod token;
mod vendor;

use std::fmt;
use std::path::{Path, PathBuf};

use time::{Date, OffsetDateTime};

pub use cli::{run_command, IssueArgs, LicenseCommand};
pub use error::{fmt_duration, LicenseError};
pub use file::{LicenseFile, Metadata, Request};
pub use keys::{
    fingerprint, is_development_key, trusted_keys, trusted_keys_dir, trusted_keys_line,
    trusts_development_keys,
};
pub use token::{Claims, AUDIENCE, ISSUER, MAX_TOKEN_LEN};

/// The environment variable holding a license token.
pub const LICENSE_TOKEN_ENV: &str = "LICENSE_TOKEN";
/// Where a container user mounts the license file.
pub const DEFAULT_LICENSE_PATH: &str = "/license.json";

/// Where the license comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LicenseSource {
    /// The `signedclaimstoken` from `LICENSE_TOKEN`.
    Token(String),
    /// A license file.
    File(PathBuf),
}

impl fmt::Display for LicenseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LicenseSource::Token(_) => write!(f, "{LICENSE_TOKEN_ENV}"),
            LicenseSource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Picks the license source: `LICENSE_TOKEN` when set and non-blank (a file
/// is then ignored, as Speechmatics documents); else `flag` (`--license
/// PATH`, read later even if missing so the error names it); else
/// `default_path` (normally [`DEFAULT_LICENSE_PATH`]) if it exists; else
/// [`LicenseError::NotFound`] naming every place looked.
pub fn locate(
    flag: Option<&Path>,
    env_token: Option<String>,
    default_path: &Path,
) -> Result<LicenseSource, LicenseError> {
    let mut looked = Vec::new();
    match env_token {
        Some(t) if !t.trim().is_empty() => {
            if let Some(p) = flag {
                tracing::warn!(
                    "{LICENSE_TOKEN_ENV} is set: ignoring --license {}",
                    p.display()
                );
            } else if default_path.exists() {
                tracing::info!(
                    "{LICENSE_TOKEN_ENV} is set: ignoring {}",
                    default_path.display()
                );
            }
            return Ok(LicenseSource::Token(t));
        }
        Some(_) => {
            if let Some(p) = flag.or_else(|| default_path.exists().then_some(default_path)) {
                tracing::warn!(
                    "{LICENSE_TOKEN_ENV} is set but empty: using {}",
                    p.display()
                );
            }
            looked.push(format!("{LICENSE_TOKEN_ENV} is set but empty"));
        }
        None => looked.push(format!("{LICENSE_TOKEN_ENV} (not set)")),
    }
    if let Some(p) = flag {
        return Ok(LicenseSource::File(p.to_path_buf()));
    }
    looked.push("--license (not given)".to_string());
    if default_path.exists() {
        return Ok(LicenseSource::File(default_path.to_path_buf()));
    }
    looked.push(format!("{} (no such file)", default_path.display()));
    Err(LicenseError::NotFound { looked })
}

/// A licensable feature (claim `features`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// Batch transcription: `batch`. Every job needs it.
    Batch,
    /// More than one worker (`--parallel N`, N > 1): `parallel`.
    Parallel,
}

impl Feature {
    /// Every feature, as issued.
    pub const ALL: [Feature; 2] = [Feature::Batch, Feature::Parallel];

    /// The name in the claims.
    pub const fn as_str(self) -> &'static str {
        match self {
            Feature::Batch => "batch",
            Feature::Parallel => "parallel",
        }
    }

    /// The feature named `name`, if any.
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The language claim that licenses every language.
pub const ANY_LANGUAGE: &str = "any";

/// What a job needs from the license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entitlement<'a> {
    /// The feature the job uses: [`Feature::Batch`].
    pub feature: Feature,
    /// More than one worker: needs [`Feature::Parallel`] too.
    pub parallel: bool,
    /// The transcription language; licensed by `any` or the same code (ASCII
    /// case-insensitive). `None` checks no language.
    pub language: Option<&'a str>,
}

impl Entitlement<'_> {
    /// A batch job, one worker, any language: what `hark license status` checks.
    pub const BATCH: Entitlement<'static> = Entitlement {
        feature: Feature::Batch,
        parallel: false,
        language: None,
    };
}

/// A verified license in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct License {
    /// License id (claim `jti`).
    pub id: String,
    /// Customer (claim `sub`).
    pub customer: String,
    /// Contract id (claim `contract_id`).
    pub contract_id: u64,
    /// A trial license.
    pub is_trial: bool,
    /// Valid from 00:00 UTC on this day.
    pub valid_from: Date,
    /// Not valid from 00:00 UTC on this day.
    pub not_valid_after: Date,
    /// Licensed features (`batch`, `parallel`).
    pub features: Vec<String>,
    /// Licensed languages (`any` or codes).
    pub languages: Vec<String>,
    /// The signing key's id.
    pub key_id: String,
    /// The signing key's fingerprint (see [`fingerprint`]).
    pub key_fingerprint: String,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// Where it came from: `LICENSE_TOKEN` or the file path.
    pub source: String,
}

impl License {
    /// Whole days left at `now` (0 on the last day, negative once expired).
    pub fn days_remaining(&self, now: OffsetDateTime) -> i64 {
        let end = self.not_valid_after.midnight().assume_utc();
        (end.unix_timestamp() - now.unix_timestamp()).div_euclid(86_400)
    }

    /// One line for the transcript's metadata, e.g. `license 0123abcd
    /// (ACME, contract 42): valid until 2027-01-01 00:00 UTC, 180 days remaining`.
    pub fn note(&self, now: OffsetDateTime) -> String {
        let trial = if self.is_trial { ", trial" } else { "" };
        let days = self.days_remaining(now);
        format!(
            "license {} ({}, contract {}{trial}): valid until {} 00:00 UTC, {days} day{} remaining",
            self.id,
            self.customer,
            self.contract_id,
            self.not_valid_after,
            if days == 1 { "" } else { "s" }
        )
    }
}

/// Verifies the license from `source` at `now` for the job `want`: signature
/// against the compiled-in keys, file fields against the signed claims,
/// validity window, then entitlements.
pub fn verify(
    source: &LicenseSource,
    now: OffsetDateTime,
    want: &Entitlement,
) -> Result<License, LicenseError> {
    let (verified, source_desc) = match source {
        LicenseSource::Token(t) => (
            token::verify(t, LICENSE_TOKEN_ENV)?,
            LICENSE_TOKEN_ENV.to_string(),
        ),
        LicenseSource::File(path) => {
            let f = LicenseFile::read(path)?;
            let v = token::verify(
                &f.signedclaimstoken,
                &format!("{} signedclaimstoken", path.display()),
            )?;
            f.check_against(&v)?;
            (v, path.display().to_string())
        }
    };
    let c = &verified.claims;
    let (nbf, exp) = (c.nbf, c.exp);
    let now_ts = now.unix_timestamp();
    if now_ts < nbf {
        return Err(LicenseError::NotYetValid {
            valid_from: file::day(nbf)?,
            starts_in: time::Duration::seconds(nbf - now_ts),
        });
    }
    if now_ts >= exp {
        return Err(LicenseError::Expired {
            not_valid_after: file::day(exp)?,
            expired_for: time::Duration::seconds(now_ts - exp),
        });
    }
    let needed = std::iter::once(want.feature).chain(want.parallel.then_some(Feature::Parallel));
    for feature in needed {
        if !c.features.iter().any(|f| f == feature.as_str()) {
            return Err(LicenseError::FeatureNotLicensed {
                feature: feature.as_str().to_string(),
                licensed: c.features.clone(),
                hint: match feature {
                    Feature::Parallel => "run with --parallel 1 or ask your vendor for a license with parallel processing",
                    Feature::Batch => "ask your vendor for a batch transcription license",
                },
            });
        }
    }
    if let Some(lang) = want.language {
        if !c
            .languages
            .iter()
            .any(|l| l == ANY_LANGUAGE || l.eq_ignore_ascii_case(lang))
        {
            return Err(LicenseError::LanguageNotLicensed {
                language: lang.to_string(),
                licensed: c.languages.clone(),
            });
        }
    }
    let key_fingerprint = keys::lookup(&verified.kid)
        .map(fingerprint)
        .unwrap_or_default();
    Ok(License {
        id: c.jti.clone(),
        customer: c.sub.clone(),
        contract_id: c.contract_id,
        is_trial: c.is_trial,
        valid_from: file::day(nbf)?,
        not_valid_after: file::day(exp)?,
        features: c.features.clone(),
        languages: c.languages.clone(),
        key_id: verified.kid.clone(),
        key_fingerprint,
        issued_at: OffsetDateTime::from_unix_timestamp(c.iat).map_err(|_| {
            LicenseError::ClaimsInvalid {
                detail: format!("iat {} is out of range", c.iat),
            }
        })?,
        source: source_desc,
    })
}

#[cfg(test)]
mod tests;
