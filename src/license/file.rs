//! The Speechmatics-shaped license file (`/license.json`).
//!
//! Only `signedclaimstoken` is trusted. The other fields are informational
//! copies of the signed claims, checked against them after the signature
//! verifies: a mismatch means the file was edited and is an error. Unknown
//! extra fields are ignored. Imports [`super::error`] and [`super::token`].

use std::fs;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::error::LicenseError;
use super::token::{Claims, Verified};

/// The largest license file read, in bytes.
pub const MAX_FILE_LEN: u64 = 1024 * 1024;

/// A license file as issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseFile {
    /// The customer's contract id (claim `contract_id`).
    pub contractid: u64,
    /// When it was issued, `YYYY-MM-DD HH:MM:SS` UTC (claim `iat`).
    pub creationdate: String,
    /// The customer (claim `sub`).
    pub customer: String,
    /// The license id (claim `jti`).
    pub id: String,
    /// A trial license (claim `is_trial`).
    pub is_trial: bool,
    /// Key id and the request the license was issued for.
    pub metadata: Metadata,
    /// The signed token: the only trusted field.
    pub signedclaimstoken: String,
}

/// The `metadata` object of a license file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The signing key's id (the token header's `kid`).
    pub key_pair_id: String,
    /// What was licensed.
    pub request: Request,
}

/// The `metadata.request` object of a license file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The customer (claim `sub`).
    pub customer: String,
    /// Claim `features`, then `lang:<code>` for each of claim `languages`.
    pub features: Vec<String>,
    /// A trial license (claim `is_trial`).
    pub is_trial: bool,
    /// `YYYY-MM-DD`: the license is not valid from 00:00 UTC that day (claim `exp`).
    pub not_valid_after: String,
    /// `YYYY-MM-DD`: the license is valid from 00:00 UTC that day (claim `nbf`).
    pub valid_from: String,
}

impl LicenseFile {
    /// The file whose informational fields mirror `claims`, carrying `token`.
    pub fn from_claims(claims: &Claims, token: String) -> Result<LicenseFile, LicenseError> {
        Ok(LicenseFile {
            contractid: claims.contract_id,
            creationdate: format_creation(claims.iat)?,
            customer: claims.sub.clone(),
            id: claims.jti.clone(),
            is_trial: claims.is_trial,
            metadata: Metadata {
                key_pair_id: claims.kid.clone(),
                request: Request {
                    customer: claims.sub.clone(),
                    features: request_features(claims),
                    is_trial: claims.is_trial,
                    not_valid_after: day(claims.exp)?.to_string(),
                    valid_from: day(claims.nbf)?.to_string(),
                },
            },
            signedclaimstoken: token,
        })
    }

    /// Reads and parses a license file (at most [`MAX_FILE_LEN`] bytes).
    pub fn read(path: &Path) -> Result<LicenseFile, LicenseError> {
        let unreadable = |detail: String| LicenseError::FileUnreadable {
            path: path.to_path_buf(),
            detail,
        };
        let meta = fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
        if meta.is_dir() {
            return Err(unreadable(
                "it is a directory (docker creates one when the host file given to -v does not exist)".into(),
            ));
        }
        let mut bytes = Vec::new();
        fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes))
            .map_err(|e| unreadable(e.to_string()))?;
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Err(unreadable(format!(
                "it is larger than {MAX_FILE_LEN} bytes; is it a license?"
            )));
        }
        Self::parse(path, &bytes)
    }

    /// Parses license file bytes; `path` is for messages.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<LicenseFile, LicenseError> {
        serde_json::from_slice(bytes).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let detail = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
            let (path, line, column) = (path.to_path_buf(), e.line(), e.column());
            match e.classify() {
                serde_json::error::Category::Data => LicenseError::FileFormat {
                    path,
                    line,
                    column,
                    detail,
                },
                _ => LicenseError::FileJson {
                    path,
                    line,
                    column,
                    detail,
                },
            }
        })
    }

    /// Checks every informational field against the verified token.
    pub fn check_against(&self, v: &Verified) -> Result<(), LicenseError> {
        let c = &v.claims;
        let expected = LicenseFile::from_claims(c, self.signedclaimstoken.clone())?;
        let mut file_features = self.metadata.request.features.clone();
        let mut signed_features = expected.metadata.request.features.clone();
        file_features.sort();
        signed_features.sort();
        let checks: [(&str, String, String); 11] = [
            (
                "contractid",
                self.contractid.to_string(),
                expected.contractid.to_string(),
            ),
            (
                "creationdate",
                self.creationdate.clone(),
                expected.creationdate,
            ),
            ("customer", self.customer.clone(), expected.customer),
            ("id", self.id.clone(), expected.id),
            (
                "is_trial",
                self.is_trial.to_string(),
                expected.is_trial.to_string(),
            ),
            (
                "metadata.key_pair_id",
                self.metadata.key_pair_id.clone(),
                v.kid.clone(),
            ),
            (
                "metadata.request.customer",
                self.metadata.request.customer.clone(),
                expected.metadata.request.customer,
            ),
            (
                "metadata.request.features",
                file_features.join(","),
                signed_features.join(","),
            ),
            (
                "metadata.request.isTrial",
                self.metadata.request.is_trial.to_string(),
                expected.metadata.request.is_trial.to_string(),
            ),
            (
                "metadata.request.notValidAfter",
                self.metadata.request.not_valid_after.clone(),
                expected.metadata.request.not_valid_after,
            ),
            (
                "metadata.request.validFrom",
                self.metadata.request.valid_from.clone(),
                expected.metadata.request.valid_from,
            ),
        ];
        for (field, file, signed) in checks {
            if file != signed {
                return Err(LicenseError::FieldMismatch {
                    field: field.to_string(),
                    file: format!("{file:?}"),
                    signed: format!("{signed:?}"),
                });
            }
        }
        Ok(())
    }
}

/// `metadata.request.features` for `claims`: the features, then `lang:<code>` per language.
pub fn request_features(claims: &Claims) -> Vec<String> {
    let langs = claims.languages.iter().map(|l| format!("lang:{l}"));
    claims.features.iter().cloned().chain(langs).collect()
}

/// The UTC date of a unix timestamp.
pub(crate) fn day(ts: i64) -> Result<Date, LicenseError> {
    OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| t.date())
        .map_err(|_| LicenseError::ClaimsInvalid {
            detail: format!("time {ts} is out of range"),
        })
}

fn format_creation(iat: i64) -> Result<String, LicenseError> {
    let t = OffsetDateTime::from_unix_timestamp(iat).map_err(|_| LicenseError::ClaimsInvalid {
        detail: format!("iat {iat} is out of range"),
    })?;
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]"
    ))
    .map_err(|e| LicenseError::ClaimsInvalid {
        detail: format!("iat {iat}: {e}"),
    })
}
