//! The signed claims token (`signedclaimstoken`, or `LICENSE_TOKEN`): a JWT
//! signed with Ed25519 (EdDSA), checked strictly before and after
//! `jsonwebtoken` verifies the signature.
//!
//! Checks, in order: size (1 byte to 64 KiB), text (printable ASCII only),
//! base64url alphabet, three parts, each part's base64url (errors carry the
//! byte offset in the token), the header (`alg` exactly `EdDSA`, `typ`
//! exactly `JWT`, a `kid`, no other fields), the key id against the
//! compiled-in anchors, the signature length, then the signature, issuer and
//! audience (`jsonwebtoken`), then the claims' shape. The validity window and
//! entitlements are checked by the caller against an injected `now`.
//! Imports [`super::error`] and [`super::keys`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::LicenseError;
use super::keys;

/// The `iss` claim of every hark license.
pub const ISSUER: &str = "hark-licensing";
/// The `aud` claim (product) of a hark batch license.
pub const AUDIENCE: &str = "hark-batch";
/// The longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;
/// The only `alg` accepted.
const ALG: &str = "EdDSA";

/// The signed claims of a hark license. Unknown claims are rejected, so an
/// older hark never silently ignores a restriction added by a newer issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Issuer: always [`ISSUER`].
    pub iss: String,
    /// Audience, i.e. the product: [`AUDIENCE`].
    pub aud: String,
    /// Subject: the customer.
    pub sub: String,
    /// The license id.
    pub jti: String,
    /// The signing key's id (also in the header; they must agree).
    pub kid: String,
    /// The customer's contract id.
    pub contract_id: u64,
    /// A trial license.
    pub is_trial: bool,
    /// Issued at (unix seconds): the file's `creationdate`.
    pub iat: i64,
    /// Valid from (unix seconds, 00:00 UTC of `validFrom`).
    pub nbf: i64,
    /// Not valid after (unix seconds, 00:00 UTC of `notValidAfter`).
    pub exp: i64,
    /// Licensed features: `batch`, `parallel`.
    pub features: Vec<String>,
    /// Licensed languages: `any` or language codes.
    pub languages: Vec<String>,
}

/// A token whose signature verified against a trusted key.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The header's key id (a trusted key).
    pub kid: String,
    /// The signed claims.
    pub claims: Claims,
}

/// A token decoded without any trust: for `hark license inspect`.
#[derive(Clone, Debug)]
pub struct Unverified {
    /// The header JSON.
    pub header: Value,
    /// The claims JSON.
    pub claims: Value,
}

/// The three parts of a token, base64url-decoded, checked only for shape.
struct Parts<'a> {
    /// The token without surrounding whitespace.
    text: &'a str,
    header: Vec<u8>,
    claims: Vec<u8>,
    signature: Vec<u8>,
}

fn split<'a>(token: &'a str, source_name: &str) -> Result<Parts<'a>, LicenseError> {
    let source_name = source_name.to_string();
    if token.len() > MAX_TOKEN_LEN {
        return Err(LicenseError::TokenTooLarge {
            source_name,
            len: token.len(),
            max: MAX_TOKEN_LEN,
        });
    }
    let lead = token.len()
        - token
            .trim_start_matches(|c: char| c.is_ascii_whitespace())
            .len();
    let text = token.trim_matches(|c: char| c.is_ascii_whitespace());
    if text.is_empty() {
        return Err(LicenseError::TokenEmpty { source_name });
    }
    let mut dots = 0;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'.' => dots += 1,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {}
            0x20..=0x7e => {
                return Err(LicenseError::TokenBase64 {
                    source_name,
                    part: part_name(dots),
                    offset: lead + i,
                    detail: format!("{:?} is not a base64url character", b as char),
                })
            }
            _ => {
                return Err(LicenseError::TokenBinary {
                    source_name,
                    offset: lead + i,
                    byte: b,
                })
            }
        }
    }
    let parts: Vec<&str> = text.split('.').collect();
    let [h, c, s] = parts[..] else {
        return Err(LicenseError::TokenParts {
            source_name,
            found: parts.len(),
        });
    };
    let decode = |part: &str, start: usize, index: usize| {
        URL_SAFE_NO_PAD.decode(part).map_err(|e| {
            let (at, detail) = match e {
                base64::DecodeError::InvalidByte(i, b) => {
                    (i, format!("{:?} is not a base64url character", b as char))
                }
                base64::DecodeError::InvalidLength(n) => (n, "the part is cut short".to_string()),
                base64::DecodeError::InvalidLastSymbol(i, b) => (
                    i,
                    format!("{:?} is not a possible last character", b as char),
                ),
                base64::DecodeError::InvalidPadding => (part.len(), "bad padding".to_string()),
            };
            LicenseError::TokenBase64 {
                source_name: source_name.clone(),
                part: part_name(index),
                offset: lead + start + at,
                detail,
            }
        })
    };
    let header = decode(h, 0, 0)?;
    let claims = decode(c, h.len() + 1, 1)?;
    let signature = decode(s, h.len() + c.len() + 2, 2)?;
    Ok(Parts {
        text,
        header,
        claims,
        signature,
    })
}

fn part_name(index: usize) -> &'static str {
    match index {
        0 => "header",
        1 => "claims",
        2 => "signature",
        _ => "extra part",
    }
}

/// Checks the header and returns its key id.
fn check_header(bytes: &[u8]) -> Result<String, LicenseError> {
    let invalid = |detail: String| LicenseError::HeaderInvalid { detail };
    let header: Map<String, Value> =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("not a JSON object ({e})")))?;
    match header.get("alg") {
        None => return Err(invalid("no algorithm (alg)".into())),
        Some(Value::String(a)) if a.eq_ignore_ascii_case("none") => {
            return Err(LicenseError::AlgorithmNone)
        }
        Some(Value::String(a)) if a == ALG => {}
        Some(Value::String(a)) => return Err(LicenseError::AlgorithmNotEdDsa { alg: a.clone() }),
        Some(other) => {
            return Err(LicenseError::AlgorithmNotEdDsa {
                alg: other.to_string(),
            })
        }
    }
    match header.get("typ") {
        Some(Value::String(t)) if t == "JWT" => {}
        Some(other) => return Err(invalid(format!("type (typ) is {other}, not \"JWT\""))),
        None => return Err(invalid("no type (typ)".into())),
    }
    let kid = match header.get("kid") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        Some(Value::String(_)) | None => return Err(LicenseError::MissingKeyId),
        Some(other) => return Err(invalid(format!("key id (kid) is {other}, not a string"))),
    };
    if let Some(extra) = header
        .keys()
        .find(|k| !matches!(k.as_str(), "alg" | "typ" | "kid"))
    {
        return Err(invalid(format!("unsupported field {extra:?}")));
    }
    // A map keeps the last of duplicate keys; a struct refuses duplicates.
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Strict {
        alg: String,
        typ: String,
        kid: String,
    }
    serde_json::from_slice::<Strict>(bytes).map_err(|e| invalid(e.to_string()))?;
    Ok(kid)
}

/// Verifies `token` against the compiled-in trust anchors. `source_name`
/// (`LICENSE_TOKEN` or the file's `signedclaimstoken`) goes into messages.
/// Does not check the validity window or entitlements.
pub fn verify(token: &str, source_name: &str) -> Result<Verified, LicenseError> {
    let parts = split(token, source_name)?;
    let kid = check_header(&parts.header)?;
    let key = keys::verifying_key(&kid)?;
    if parts.signature.len() != ed25519_dalek::SIGNATURE_LENGTH {
        return Err(LicenseError::SignatureLength {
            source_name: source_name.to_string(),
            len: parts.signature.len(),
        });
    }
    let decoding_key = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(key.as_bytes()))
        .map_err(|_| LicenseError::TrustedKeyInvalid { kid: kid.clone() })?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.leeway = 0;
    validation.validate_exp = false; // checked by the caller against an injected `now`
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    // The signature is checked before any claim: a claim in an error below is signed.
    let signed_str = |name: &str| {
        let v: Value = serde_json::from_slice(&parts.claims).unwrap_or(Value::Null);
        match v.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "nothing".to_string(),
        }
    };
    jsonwebtoken::decode::<Value>(parts.text, &decoding_key, &validation).map_err(|e| {
        match e.kind() {
            ErrorKind::InvalidSignature => LicenseError::SignatureInvalid { kid: kid.clone() },
            ErrorKind::InvalidAudience => LicenseError::WrongAudience {
                found: signed_str("aud"),
                expected: AUDIENCE.to_string(),
            },
            ErrorKind::InvalidIssuer => LicenseError::WrongIssuer {
                found: signed_str("iss"),
                expected: ISSUER.to_string(),
            },
            ErrorKind::MissingRequiredClaim(c) => LicenseError::ClaimsInvalid {
                detail: format!("claim {c:?} is missing"),
            },
            ErrorKind::InvalidAlgorithm => LicenseError::AlgorithmNotEdDsa { alg: "?".into() },
            ErrorKind::Json(e) => LicenseError::ClaimsInvalid {
                detail: e.to_string(),
            },
            other => LicenseError::ClaimsInvalid {
                detail: format!("{other:?}"),
            },
        }
    })?;
    // Verified: parse the same bytes strictly (a struct refuses duplicate claims).
    let claims: Claims =
        serde_json::from_slice(&parts.claims).map_err(|e| LicenseError::ClaimsInvalid {
            detail: e.to_string(),
        })?;
    check_claims(&claims, &kid)?;
    Ok(Verified { kid, claims })
}

fn check_claims(c: &Claims, kid: &str) -> Result<(), LicenseError> {
    let invalid = |detail: String| Err(LicenseError::ClaimsInvalid { detail });
    if c.aud != AUDIENCE {
        return Err(LicenseError::WrongAudience {
            found: c.aud.clone(),
            expected: AUDIENCE.into(),
        });
    }
    if c.iss != ISSUER {
        return Err(LicenseError::WrongIssuer {
            found: c.iss.clone(),
            expected: ISSUER.into(),
        });
    }
    if c.kid != kid {
        return invalid(format!(
            "claim kid {:?} differs from the header's {kid:?}",
            c.kid
        ));
    }
    for (name, t) in [("nbf", c.nbf), ("exp", c.exp)] {
        if t.rem_euclid(86_400) != 0 {
            return invalid(format!("{name} {t} is not 00:00 UTC"));
        }
        if time::OffsetDateTime::from_unix_timestamp(t).is_err() {
            return invalid(format!("{name} {t} is out of range"));
        }
    }
    if c.nbf >= c.exp {
        return invalid(format!(
            "validity ends (exp {}) before it starts (nbf {})",
            c.exp, c.nbf
        ));
    }
    if time::OffsetDateTime::from_unix_timestamp(c.iat).is_err() {
        return invalid(format!("iat {} is out of range", c.iat));
    }
    Ok(())
}

/// Decodes `token` without trusting it (no signature check): for inspection.
pub fn decode_unverified(token: &str, source_name: &str) -> Result<Unverified, LicenseError> {
    let parts = split(token, source_name)?;
    let header =
        serde_json::from_slice(&parts.header).map_err(|e| LicenseError::HeaderInvalid {
            detail: format!("not JSON ({e})"),
        })?;
    let claims =
        serde_json::from_slice(&parts.claims).map_err(|e| LicenseError::ClaimsInvalid {
            detail: format!("not JSON ({e})"),
        })?;
    Ok(Unverified { header, claims })
}

/// Signs `claims` with `key` as an EdDSA JWT whose header names `claims.kid`.
pub fn sign(claims: &Claims, key: &SigningKey) -> Result<String, LicenseError> {
    let der = key
        .to_pkcs8_der()
        .map_err(|e| LicenseError::Usage(format!("cannot encode the signing key: {e}")))?;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(claims.kid.clone());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes()))
        .map_err(|e| LicenseError::Usage(format!("cannot sign the license: {e}")))
}
