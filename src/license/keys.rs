//! The trust anchors: Ed25519 public keys compiled in by `build.rs`, looked
//! up by key id (`kid`) so keys can rotate.
//!
//! The table comes from the build-time directory `HARK_TRUSTED_KEYS_DIR`
//! (default `keys/trusted/`); no file, environment variable or flag can
//! change it at run time. Imports only [`super::error`].

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use super::error::LicenseError;

include!(concat!(env!("OUT_DIR"), "/trusted_keys.rs"));

/// Key ids whose private key is published in this repository (`keys/dev/`).
/// A build that trusts one accepts licenses anyone can issue.
const DEV_KID_PREFIX: &str = "hark-dev-";

/// The raw 32-byte public key for `kid`, if this build trusts it.
pub(crate) fn lookup(kid: &str) -> Option<&'static [u8; 32]> {
    TRUSTED_KEYS
        .iter()
        .find(|(k, _)| *k == kid)
        .map(|(_, key)| key)
}

/// The verifying key for `kid`, or why there is none.
pub(crate) fn verifying_key(kid: &str) -> Result<VerifyingKey, LicenseError> {
    let raw = lookup(kid).ok_or_else(|| LicenseError::UnknownKeyId {
        kid: kid.to_string(),
        trusted: trusted_kids(),
    })?;
    VerifyingKey::from_bytes(raw).map_err(|_| LicenseError::TrustedKeyInvalid {
        kid: kid.to_string(),
    })
}

/// The key ids this build trusts, sorted.
pub(crate) fn trusted_kids() -> Vec<String> {
    TRUSTED_KEYS.iter().map(|(k, _)| k.to_string()).collect()
}

/// The fingerprint of a raw Ed25519 public key: `sha256:` and the first 16
/// hex digits of the SHA-256 of its 32 bytes.
pub fn fingerprint(raw: &[u8; 32]) -> String {
    let digest = Sha256::digest(raw);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The trust anchors compiled into this build: `(kid, fingerprint)`, sorted by kid.
pub fn trusted_keys() -> Vec<(String, String)> {
    TRUSTED_KEYS
        .iter()
        .map(|(k, key)| (k.to_string(), fingerprint(key)))
        .collect()
}

/// True if `kid` names one of the repository's development keys, whose
/// private half is public.
pub fn is_development_key(kid: &str) -> bool {
    kid.starts_with(DEV_KID_PREFIX)
}

/// True if this build trusts a development key (fine for tests and demos,
/// never for a release sold to customers).
pub fn trusts_development_keys() -> bool {
    TRUSTED_KEYS.iter().any(|(k, _)| is_development_key(k))
}

/// One line for `hark --version`: the trusted key ids and fingerprints.
pub fn trusted_keys_line() -> String {
    let keys: Vec<String> = trusted_keys()
        .into_iter()
        .map(|(kid, fp)| {
            let dev = if is_development_key(&kid) {
                ", development key"
            } else {
                ""
            };
            format!("{kid} ({fp}{dev})")
        })
        .collect();
    format!("trusted license keys: {}", keys.join(", "))
}

/// The directory the trust anchors were read from at build time.
pub fn trusted_keys_dir() -> &'static str {
    TRUSTED_KEYS_DIR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_key_is_a_valid_ed25519_key() {
        assert!(!TRUSTED_KEYS.is_empty());
        for (kid, _) in TRUSTED_KEYS {
            assert!(verifying_key(kid).is_ok(), "{kid}");
        }
    }

    #[test]
    fn dev_key_is_trusted_by_default_build() {
        assert!(lookup("hark-dev-2026").is_some());
        assert!(trusts_development_keys());
        assert!(trusted_keys_line().contains("hark-dev-2026 (sha256:"));
    }

    #[test]
    fn unknown_kid_names_the_trusted_ones() {
        match verifying_key("nope") {
            Err(LicenseError::UnknownKeyId { kid, trusted }) => {
                assert_eq!(kid, "nope");
                assert!(trusted.contains(&"hark-dev-2026".to_string()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fingerprint_is_sha256_prefix() {
        // SHA-256 of 32 zero bytes starts 66687aadf862bd77.
        assert_eq!(fingerprint(&[0u8; 32]), "sha256:66687aadf862bd77");
    }
}
