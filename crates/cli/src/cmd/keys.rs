//! `zkw keys new | show`: ed25519 keys for model owners (and workers), in the worker's key
//! file format — the 32-byte secret seed as 64 hex digits, mode 0600. Written and read by
//! `zkw_verifier::ed25519::{write_secret_key, read_secret_key}`, as the worker's and the
//! demo's keys are: never overwritten, and refused when others may read them.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use zkw_verifier::KeyPair;
use zkw_verifier::ed25519::{read_secret_key, write_secret_key};

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
            let key = new_key(&a.output)?;
            outln!("{}", key.public_hex());
            eprintln!(
                "wrote the secret key to {} (keep it; the line above is the public key)",
                a.output.display()
            );
            Ok(())
        }
        KeysCmd::Show { key } => {
            outln!("{}", read_key(&key)?.public_hex());
            Ok(())
        }
    }
}

/// Reads a secret key file (refused if others may read it).
pub fn read_key(path: &Path) -> Result<KeyPair> {
    Ok(read_secret_key(path)?)
}

/// Makes a new key and writes it to `path`, mode 0600; refuses to replace a file.
pub fn new_key(path: &Path) -> Result<KeyPair> {
    let key = KeyPair::generate().map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    match write_secret_key(path, &key) {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists: a key is never overwritten", path.display())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("writing {}", path.display()))),
    }
}
