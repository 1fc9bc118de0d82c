//! Compiling a rendered contract with `solcjs`, the Solidity compiler as an npm package.
//!
//! Why solcjs: it installs from the npm registry with no native toolchain (CI installs it in
//! `.ci/run`), and it is the reference compiler built to WebAssembly, so its bytecode is what
//! `solc` would produce. It is driven through standard JSON on stdin and stdout: the optimizer
//! settings are explicit, errors come back as structured records rather than text, and no
//! files are written. The compiler is found through [`SOLC_ENV`]; nothing here downloads it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::error::EvmError;
use crate::solidity::CONTRACT_NAME;

/// The environment variable that names the `solcjs` executable.
pub const SOLC_ENV: &str = "ZKW_SOLC";

/// The optimizer's `runs`: weighted towards cheap calls, since a contract is deployed once
/// and called for every settled job.
pub const OPTIMIZER_RUNS: u32 = 10_000;

/// A compiled contract.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// Creation bytecode: deploy it as a contract-creation transaction's data.
    pub bytecode: Vec<u8>,
    /// The ABI, as solc's JSON.
    pub abi: String,
    /// The compiler's warnings (the rendered contract has none; a test holds it to that).
    pub warnings: Vec<String>,
}

/// The `solcjs` named by [`SOLC_ENV`], if it is set and names an existing file.
pub fn solc_from_env() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os(SOLC_ENV)?);
    path.is_file().then_some(path)
}

/// Compiles `source` (one file holding [`CONTRACT_NAME`]) with the `solcjs` at `solcjs`,
/// optimizer on.
pub fn compile(solcjs: &Path, source: &str) -> Result<Compiled, EvmError> {
    const FILE: &str = "Settlement.sol";
    let input = json!({
        "language": "Solidity",
        "sources": { FILE: { "content": source } },
        "settings": {
            "optimizer": { "enabled": true, "runs": OPTIMIZER_RUNS },
            "outputSelection": { FILE: { CONTRACT_NAME: ["abi", "evm.bytecode.object"] } },
        },
    });
    let unavailable = |reason: String| EvmError::SolcUnavailable {
        path: solcjs.to_owned(),
        reason,
    };
    let mut child = Command::new(solcjs)
        .arg("--standard-json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| unavailable(e.to_string()))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| unavailable("its input pipe was not opened".into()))?;
    // Written from another thread: solc may fill its stdout pipe before it has read all of
    // its input, and both sides would wait on each other.
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| unavailable(e.to_string()))?;
    writer
        .join()
        .map_err(|_| unavailable("the thread writing its input panicked".into()))?
        .map_err(|e| unavailable(format!("writing its input: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(unavailable(format!(
            "{}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            stdout
        )));
    }
    // solcjs prints notes (">>> Cannot retry compilation with SMT ...") before the JSON.
    let json = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| EvmError::Compile(format!("no JSON in the compiler's output: {stdout}")))?;
    let output: Value = serde_json::from_str(json)
        .map_err(|e| EvmError::Compile(format!("unreadable compiler output: {e}")))?;
    parse_output(&output, FILE)
}

/// The contract out of solc's standard-JSON output, or every error it reported.
fn parse_output(output: &Value, file: &str) -> Result<Compiled, EvmError> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for e in output["errors"].as_array().into_iter().flatten() {
        let message = e["formattedMessage"]
            .as_str()
            .or(e["message"].as_str())
            .unwrap_or("(no message)")
            .to_owned();
        match e["severity"].as_str() {
            Some("error") => errors.push(message),
            Some("warning") => warnings.push(message),
            _ => {} // "info"
        }
    }
    if !errors.is_empty() {
        return Err(EvmError::Compile(errors.join("\n")));
    }
    let contract = &output["contracts"][file][CONTRACT_NAME];
    let object = contract["evm"]["bytecode"]["object"]
        .as_str()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| EvmError::Compile(format!("no bytecode for {CONTRACT_NAME}")))?;
    let bytecode = hex::decode(object)
        .map_err(|e| EvmError::Compile(format!("the bytecode is not hex: {e}")))?;
    Ok(Compiled {
        bytecode,
        abi: contract["abi"].to_string(),
        warnings,
    })
}
