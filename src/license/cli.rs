//! `hark license ...`: the clap types the binary nests under `license`, and
//! [`run_command`], which returns the text for stdout and prints nothing.
//!
//! Imports the rest of [`crate::license`] only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::error::LicenseError;
use super::vendor::{self, IssueRequest};
use super::{
    keys, locate, token, verify, Entitlement, License, LicenseFile, LicenseSource,
    LICENSE_TOKEN_ENV,
};

/// `hark license` subcommands.
#[derive(Clone, Debug, PartialEq, Eq, clap::Subcommand)]
pub enum LicenseCommand {
    /// Show the license in force, the days it has left and the trusted keys (transcribes nothing).
    Status {
        /// License file to show; here it wins over LICENSE_TOKEN (default: LICENSE_TOKEN, else /license.json).
        #[arg(long, value_name = "PATH")]
        license: Option<PathBuf>,
    },
    /// Vendor: generate an Ed25519 key pair for signing licenses.
    Keygen {
        /// Key id (kid) licenses signed with this key will name, e.g. acme-2026.
        #[arg(long)]
        kid: String,
        /// Directory for <KID>.private.pem (mode 0600) and <KID>.pub.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out_dir: PathBuf,
    },
    /// Vendor: issue a signed license file for a customer.
    Issue(Box<IssueArgs>),
    /// Vendor: decode a license (file or token) and say whether this build accepts it.
    Inspect {
        /// License file (default: LICENSE_TOKEN, else /license.json).
        #[arg(value_name = "FILE", conflicts_with = "token")]
        file: Option<PathBuf>,
        /// A signedclaimstoken instead of a file.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
    },
}

/// Arguments of `hark license issue`.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct IssueArgs {
    /// PKCS#8 PEM Ed25519 private key (from `hark license keygen`).
    #[arg(long, value_name = "PEM")]
    pub key: PathBuf,
    /// Key id of that key, as in the trusted keys directory.
    #[arg(long)]
    pub kid: String,
    /// Customer name.
    #[arg(long)]
    pub customer: String,
    /// Contract id.
    #[arg(long, value_name = "N")]
    pub contract_id: u64,
    /// First valid day (from 00:00 UTC), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub valid_from: String,
    /// First day no longer valid (from 00:00 UTC), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub not_valid_after: String,
    /// Licensed features: batch, parallel (repeat or comma-separate).
    #[arg(
        long = "feature",
        value_name = "NAME",
        value_delimiter = ',',
        default_value = "batch"
    )]
    pub features: Vec<String>,
    /// Licensed languages: any, or codes such as en, de (repeat or comma-separate).
    #[arg(
        long = "language",
        value_name = "CODE",
        value_delimiter = ',',
        default_value = "any"
    )]
    pub languages: Vec<String>,
    /// Mark as a trial license.
    #[arg(long)]
    pub trial: bool,
    /// License id (default: 32 random hex digits).
    #[arg(long)]
    pub id: Option<String>,
    /// Creation time, "YYYY-MM-DD HH:MM:SS" UTC (default: now).
    #[arg(long, value_name = "TIME")]
    pub created: Option<String>,
    /// Write the license here instead of stdout ("-" is stdout).
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Output only the signedclaimstoken (for LICENSE_TOKEN) instead of the license file.
    #[arg(long)]
    pub token_only: bool,
}

impl IssueArgs {
    fn request(&self) -> IssueRequest {
        IssueRequest {
            kid: self.kid.clone(),
            customer: self.customer.clone(),
            contract_id: self.contract_id,
            valid_from: self.valid_from.clone(),
            not_valid_after: self.not_valid_after.clone(),
            features: self.features.clone(),
            languages: self.languages.clone(),
            trial: self.trial,
            id: self.id.clone(),
            created: self.created.clone(),
        }
    }
}

/// Runs a license subcommand at `now` and returns the text for stdout.
/// `env_token` is `LICENSE_TOKEN`; `default_path` is normally `/license.json`.
pub fn run_command(
    cmd: &LicenseCommand,
    env_token: Option<String>,
    default_path: &Path,
    now: OffsetDateTime,
) -> Result<String, LicenseError> {
    match cmd {
        LicenseCommand::Status { license } => {
            // A diagnostic shows what it is asked about: an explicit
            // --license wins over LICENSE_TOKEN here (a transcription
            // would still use the token, and the output says so).
            let source = match license {
                Some(path) => LicenseSource::File(path.clone()),
                None => locate(None, env_token.clone(), default_path)?,
            };
            let token_ignored =
                license.is_some() && env_token.as_deref().is_some_and(|t| !t.trim().is_empty());
            let lic = verify(&source, now, &Entitlement::BATCH)?;
            let mut text = status_text(&lic, now);
            if token_ignored {
                text.push_str(&format!(
                    "note: {LICENSE_TOKEN_ENV} is set too: this shows --license; a transcription would use {LICENSE_TOKEN_ENV}\n"
                ));
            }
            Ok(text)
        }
        LicenseCommand::Keygen { kid, out_dir } => vendor::keygen(kid, out_dir),
        LicenseCommand::Issue(args) => {
            let file = vendor::issue(&args.request(), &args.key, now)?;
            let text = if args.token_only {
                format!("{}\n", file.signedclaimstoken)
            } else {
                let json = serde_json::to_string_pretty(&file)
                    .map_err(|e| LicenseError::Usage(format!("cannot encode the license: {e}")))?;
                format!("{json}\n")
            };
            let what = format!("license {} for {:?}", file.id, file.customer);
            vendor::write_or_return(args.out.as_ref(), text, &what)
        }
        LicenseCommand::Inspect { file, token } => {
            let source = match (file, token) {
                (_, Some(t)) => LicenseSource::Token(t.clone()),
                (Some(p), None) => LicenseSource::File(p.clone()),
                (None, None) => locate(None, env_token, default_path)?,
            };
            inspect_text(&source, now)
        }
    }
}

fn status_text(lic: &License, now: OffsetDateTime) -> String {
    let mut s = String::new();
    let days = lic.days_remaining(now);
    let _ = writeln!(s, "license:          valid");
    let _ = writeln!(s, "source:           {}", lic.source);
    let _ = writeln!(s, "id:               {}", lic.id);
    let _ = writeln!(s, "customer:         {}", lic.customer);
    let _ = writeln!(s, "contract id:      {}", lic.contract_id);
    let _ = writeln!(
        s,
        "trial:            {}",
        if lic.is_trial { "yes" } else { "no" }
    );
    let _ = writeln!(s, "valid from:       {} 00:00 UTC", lic.valid_from);
    let _ = writeln!(s, "not valid after:  {} 00:00 UTC", lic.not_valid_after);
    let _ = writeln!(s, "days remaining:   {days}");
    let _ = writeln!(s, "features:         {}", lic.features.join(", "));
    let _ = writeln!(s, "languages:        {}", lic.languages.join(", "));
    let _ = writeln!(
        s,
        "signed by key:    {} ({})",
        lic.key_id, lic.key_fingerprint
    );
    s.push_str(&trusted_keys_text());
    s
}

fn trusted_keys_text() -> String {
    let mut s = String::from("trusted keys (compiled in):\n");
    for (kid, fp) in keys::trusted_keys() {
        let dev = if keys::is_development_key(&kid) {
            "  DEVELOPMENT KEY: its private key is public, anyone can issue licenses for it"
        } else {
            ""
        };
        let _ = writeln!(s, "  {kid}  {fp}{dev}");
    }
    s
}

fn inspect_text(source: &LicenseSource, now: OffsetDateTime) -> Result<String, LicenseError> {
    let mut s = String::new();
    let _ = writeln!(s, "source: {source}");
    let token_text = match source {
        LicenseSource::Token(t) => t.clone(),
        LicenseSource::File(p) => {
            let f = LicenseFile::read(p)?;
            let _ = writeln!(s, "file fields (informational):");
            let _ = writeln!(
                s,
                "  id: {}  customer: {}  contractid: {}",
                f.id, f.customer, f.contractid
            );
            let _ = writeln!(
                s,
                "  creationdate: {}  is_trial: {}",
                f.creationdate, f.is_trial
            );
            let r = &f.metadata.request;
            let _ = writeln!(
                s,
                "  key_pair_id: {}  validFrom: {}  notValidAfter: {}  features: {}",
                f.metadata.key_pair_id,
                r.valid_from,
                r.not_valid_after,
                r.features.join(",")
            );
            f.signedclaimstoken
        }
    };
    let decoded = token::decode_unverified(&token_text, "token")?;
    let pretty =
        |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    let _ = writeln!(s, "token header (unverified):\n{}", pretty(&decoded.header));
    let _ = writeln!(s, "token claims (unverified):\n{}", pretty(&decoded.claims));
    match verify(source, now, &Entitlement::BATCH) {
        Ok(lic) => {
            let _ = writeln!(
                s,
                "verdict: VALID in this build: signed by {} ({}), {} days remaining",
                lic.key_id,
                lic.key_fingerprint,
                lic.days_remaining(now)
            );
        }
        Err(e) => {
            let _ = writeln!(s, "verdict: NOT VALID in this build: {e}");
        }
    }
    s.push_str(&trusted_keys_text());
    Ok(s)
}
