//! `zkw keys new | show`: ed25519 keys for model owners (and workers), in the worker's key
//! file format — the 32-byte secret seed as 64 hex digits, readable by its owner only.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use zkw_verifier::KeyPair;

/// `zkw keys`.
#[derive(Subcommand)]
pub enum KeysCmd {
    /// Make a new ed25519 key pair; writes the secret key file, prints the public key.
    New(NewArgs),
    /// Print the public key of a secret key file.
    Show {
        /// The secret key file.
        key: PathBuf,
    },
}

/// `zkw keys new`.
#[derive(Args)]
pub struct NewArgs {
    /// Where to write the secret key (refused if it exists).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Runs `zkw keys`.
pub fn keys(cmd: KeysCmd) -> Result<()> {
    match cmd {
        KeysCmd::New(a) => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
            write_secret(&a.output, format!("{}\n", hex::encode(seed)).as_bytes())?;
            let key = KeyPair::from_seed(&seed);
            println!("{}", key.public_hex());
            eprintln!(
                "wrote the secret key to {} (keep it; the line above is the public key)",
                a.output.display()
            );
            Ok(())
        }
        KeysCmd::Show { key } => {
            println!("{}", read_key(&key)?.public_hex());
            Ok(())
        }
    }
}

/// Reads a secret key file.
pub fn read_key(path: &Path) -> Result<KeyPair> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| {
            format!(
                "{}: not a secret key file (64 hex digits; `zkw keys new` makes one)",
                path.display()
            )
        })?;
    Ok(KeyPair::from_seed(&seed))
}

/// Creates a file only its owner can read; refuses to replace one.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists: a key is never overwritten", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    };
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
