//! `zkw`: the one binary. Glue over the library crates — it parses arguments, prints, and maps
//! errors to exit codes; it holds no model, proving or verification logic of its own.

// First, so that its `outln!` is in scope in every command.
#[macro_use]
mod out;
mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// zkworker: prove that an output is what a registered model computes on an input.
#[derive(Parser)]
#[command(name = "zkw", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import, inspect, run and set up models.
    #[command(subcommand)]
    Model(ModelCmd),
    /// Run a model on an input and prove the result; writes a receipt.
    Prove(cmd::prove::ProveArgs),
    /// Verify a receipt against a model's registration (or keys). Exit 0 when verified, 1
    /// when rejected.
    Verify(cmd::verify::VerifyArgs),
    /// Settle receipts into a ledger: verified against the registry, credited once per job,
    /// signed false receipts penalised. Exit 0 when every receipt settled.
    Settle(cmd::settle::SettleArgs),
    /// Show the ledger: settlements, penalties, disputes, balances; or migrate it.
    Ledger(cmd::settle::LedgerArgs),
    /// Make and show ed25519 keys (model owners, workers).
    #[command(subcommand)]
    Keys(cmd::keys::KeysCmd),
    /// Run the worker daemon: jobs over gRPC, persisted, proved, signed. Exit 0 when stopped
    /// on request, 2 when it cannot start, 3 when a fatal error stopped it (restart it).
    /// `zkw worker store check|salvage DATA` reads its job store.
    Worker(cmd::worker::WorkerCmd),
    /// Submit a job to a worker.
    Submit(cmd::jobs::SubmitArgs),
    /// Sign a client's request for a job (model, input digest, nonce, venue, fee) into a file,
    /// for `zkw prove --request` or a contract's `request(...)`.
    Request(cmd::request::RequestArgs),
    /// Show a job's state and history.
    Status(cmd::jobs::JobArgs),
    /// Follow a job to its end with a progress line (exit 0 only when it succeeded).
    Watch(cmd::jobs::JobArgs),
    /// Cancel a job.
    Cancel(cmd::jobs::JobArgs),
    /// Fetch a job's receipt (`zkw receipt JOB_ID -o FILE`), or print a receipt's EVM
    /// calldata (`zkw receipt calldata FILE --registry DIR`).
    Receipt(cmd::jobs::ReceiptCmd),
    /// List a worker's models.
    Models(cmd::jobs::ModelsArgs),
    /// Run a folder of external ONNX cases end to end and compare with their float references.
    /// Exit 0 when every selected case passed.
    Conformance(cmd::conformance::ConformanceArgs),
    /// The newcomer's tour: import → setup → worker → submit → verify on the bundled model.
    Demo(cmd::demo::DemoArgs),
}

#[derive(Subcommand)]
enum ModelCmd {
    /// Import an ONNX model: quantize it and write a .zkm model file.
    Import(cmd::model::ImportArgs),
    /// Show a model's ops, shapes, value bounds, constraint count and id.
    Inspect {
        /// The .zkm model file.
        model: PathBuf,
    },
    /// Run a model on an input (reference executor); prints the output as JSON.
    Run(cmd::model::RunArgs),
    /// Run the circuit setup: write the proving key, verifying key and registry record.
    Setup(cmd::model::SetupArgs),
    /// List the ONNX ops `zkw model import` reads, with their limits.
    Ops,
    /// Publish a model's keys in a registry, signed by its owner, with its reward split.
    Register(cmd::registry::RegisterArgs),
    /// Grant a worker a licence for a model, signed by the model's owner.
    // British usage throughout: `license` the verb (this command, `licensed`), `Licence` the
    // noun (the document, `licence.json`); `licence` is accepted here too.
    #[command(alias = "licence")]
    License(cmd::registry::LicenseArgs),
    /// Every registration of a model, oldest first: the owner-signed, hash-chained history.
    History(cmd::registry::HistoryArgs),
    /// Write a registered model's Solidity Groth16 verifier and settlement contract.
    ExportEvm(cmd::evm::ExportArgs),
}

// A closed stdout (`zkw verify … | head -n1`) stops a command's printing, never the command
// or its exit code: see `out`.
fn main() -> ExitCode {
    out::finish(run())
}

fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Model(ModelCmd::Import(a)) => cmd::model::import(a),
        Command::Model(ModelCmd::Inspect { model }) => cmd::model::inspect(&model),
        Command::Model(ModelCmd::Run(a)) => cmd::model::run(a),
        Command::Model(ModelCmd::Setup(a)) => cmd::model::setup(a),
        Command::Model(ModelCmd::Ops) => cmd::model::ops(),
        Command::Model(ModelCmd::Register(a)) => cmd::registry::register(a),
        Command::Model(ModelCmd::License(a)) => cmd::registry::license(a),
        Command::Model(ModelCmd::History(a)) => cmd::registry::history(a),
        Command::Model(ModelCmd::ExportEvm(a)) => cmd::evm::export(a),
        Command::Settle(a) => return cmd::settle::settle(a),
        Command::Ledger(a) => cmd::settle::ledger(a),
        Command::Keys(a) => cmd::keys::keys(a),
        Command::Prove(a) => cmd::prove::prove(a),
        Command::Verify(a) => return cmd::verify::verify(a),
        Command::Worker(cmd::worker::WorkerCmd {
            command: Some(cmd::worker::WorkerSub::Store(a)),
            ..
        }) => match cmd::store::store(a) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Command::Worker(cmd::worker::WorkerCmd { run: Some(a), .. }) => {
            return cmd::worker::worker(a);
        }
        Command::Worker(_) => unreachable!("clap requires the worker's flags or a subcommand"),
        Command::Submit(a) => cmd::jobs::submit(a),
        Command::Status(a) => cmd::jobs::job_status(a),
        Command::Watch(a) => cmd::jobs::watch(a),
        Command::Cancel(a) => cmd::jobs::cancel(a),
        Command::Receipt(cmd::jobs::ReceiptCmd {
            command: Some(cmd::evm::ReceiptSub::Calldata(a)),
            ..
        }) => cmd::evm::calldata(a),
        Command::Receipt(cmd::jobs::ReceiptCmd {
            command: Some(cmd::evm::ReceiptSub::Export(a)),
            ..
        }) => cmd::export::export(a),
        Command::Receipt(a) => cmd::jobs::receipt(a.fetch),
        Command::Models(a) => cmd::jobs::models(a),
        Command::Request(a) => cmd::request::request(a),
        Command::Demo(a) => cmd::demo::demo(a),
        Command::Conformance(a) => match cmd::conformance::conformance(a) {
            Ok(true) => return ExitCode::SUCCESS,
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
