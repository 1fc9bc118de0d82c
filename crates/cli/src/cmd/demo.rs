//! `zkw demo`: the whole path on the bundled digits classifier, in both weight modes —
//! import and set up the model, start a worker daemon on a free loopback port, submit a job
//! over gRPC, watch it, fetch the receipt and verify it strictly, as a client would; then
//! register the models under an owner key, license the worker and settle the receipts once.
//!
//! The model (64 → 32 → ReLU → 10, trained on scikit-learn's 8×8 digits by
//! `examples/train_digits.py`) and a test image ship inside the binary, so the demo needs no
//! file and no network. It writes its artifacts to a work directory and ends with the
//! commands that do the same by hand.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use zkw_client::proto as pb;
use zkw_client::{Client, connect, wait};
use zkw_model::WeightMode;
use zkw_model::input::{quantize_input, read_client_input, read_input_file};
use zkw_onnx::{QuantizeOptions, import_float_graph, quantization_error, quantize};
use zkw_prover::save_model;
use zkw_verifier::digest::input_digest;
use zkw_verifier::{Expected, InputSalt, Receipt, Signer, VerifierKey, verify};
use zkw_worker::WorkerConfig;

use crate::cmd::jobs::state_name;
use crate::out::{count, dur, size};

const ONNX: &[u8] = include_bytes!("../../../../examples/digits/digits.onnx");
const INPUT: &[u8] = include_bytes!("../../../../examples/digits/input.json");
const CALIBRATION: &[u8] = include_bytes!("../../../../examples/digits/calibration.json");

/// `zkw demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Where to write the demo's models, keys, worker data and receipts.
    #[arg(long, default_value = "zkw-demo")]
    pub dir: PathBuf,
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let p = dir.join(name);
    super::write_output(&p, bytes)?;
    Ok(p)
}

fn step(n: usize, what: &str) {
    outln!("[{n}/6] {what}");
}

/// A model made ready for the worker.
struct Prepared {
    mode: WeightMode,
    model_id: String,
    keys: PathBuf,
}

/// Runs the tour.
pub fn demo(a: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&a.dir).with_context(|| format!("creating {}", a.dir.display()))?;
    let onnx = write(&a.dir, "digits.onnx", ONNX)?;
    // The client's input with a fresh salt: its digest in the receipts reveals nothing.
    let mut doc: serde_json::Value = serde_json::from_slice(INPUT)?;
    doc["salt"] = crate::cmd::prove::fresh_salt()?.to_hex().into();
    let input = write(
        &a.dir,
        "input.json",
        serde_json::to_string(&doc)?.as_bytes(),
    )?;
    let calibration = write(&a.dir, "calibration.json", CALIBRATION)?;
    let models = a.dir.join("models");
    outln!("zkworker demo: a 64→32→ReLU→10 digits classifier (examples/train_digits.py)");
    outln!(
        "(your own models: `zkw model import` reads {} ONNX ops, `zkw model ops` lists them)",
        zkw_onnx::registry::SUPPORTED.len()
    );
    outln!("work dir: {}\n", a.dir.display());

    // The owner's secret key, kept across runs: written as `zkw keys new` writes one (mode
    // 0600, never replaced) and read as every command reads one. The owner signs at setup, so
    // its published record and key can be registered by nobody else.
    let owner_path = a.dir.join("owner.key");
    let owner = if owner_path.exists() {
        crate::cmd::keys::read_key(&owner_path)?
    } else {
        crate::cmd::keys::new_key(&owner_path)?
    };
    let mut prepared = Vec::new();
    for mode in [WeightMode::Fixed, WeightMode::Private] {
        prepared.push(prepare(&models, &onnx, &input, &calibration, mode, &owner)?);
    }
    // The client's key, kept like the owner's: it signs each job's request (model, input
    // digest, nonce, venue, fee), and the venue debits its account.
    let client_path = a.dir.join("client.key");
    let client_key = if client_path.exists() {
        crate::cmd::keys::read_key(&client_path)?
    } else {
        crate::cmd::keys::new_key(&client_path)?
    };
    let market = open_market(&a.dir, &prepared, &owner, &client_key)?;

    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let t = Instant::now();
        let config = WorkerConfig::new(a.dir.join("worker-data"), &models);
        let worker = zkw_worker::start(config).await?;
        let url = format!("http://{}", worker.addr);
        outln!(
            "\n[3/6] worker    → listening on {url} in {} (worker id {}…, {})",
            dur(t.elapsed()),
            &worker.worker_id()[..16],
            worker.worker().backend()
        );
        let mut client = connect(&url, None, None).await?;
        let mut receipts = Vec::new();
        for p in &prepared {
            outln!();
            receipts.push(run_job(&mut client, p, &input, &a.dir, &client_key, &market).await?);
        }
        let worker_id = worker.worker_id().to_string();
        worker.shutdown().await?;
        outln!();
        settle(&market, &prepared, &owner, &worker_id, &receipts)?;
        let d = a.dir.display();
        let m = &prepared[1].model_id;
        let venue = market.ledger.venue();
        outln!("\nThe same by hand (worker in one terminal, client in another):");
        outln!("  zkw worker --data {d}/worker-data --models {d}/models");
        outln!("  zkw models");
        outln!(
            "  zkw submit {m} --input {d}/input.json --nonce n-1 --client-key {d}/client.key --registry {d}/registry --venue {venue} --wait -o {d}/receipt.json"
        );
        // The strict check names everything the client relies on: the model it submitted to,
        // its input (and salt), the job, the worker, the nonce and the venue it pays in.
        outln!(
            "  zkw verify {d}/receipt.json --registry {d}/registry --model {m} --input {d}/input.json --job-id JOB_ID --worker-id {worker_id} --nonce n-1 --venue {venue}"
        );
        outln!(
            "  zkw settle {d}/receipt-*.json --registry {d}/registry --ledger {d}/ledger"
        );
        outln!("  zkw ledger balances --ledger {d}/ledger");
        outln!(
            "Or step by step: zkw model import|inspect|setup|register|license, zkw status|watch|receipt JOB_ID; see README.md."
        );
        Ok(())
    })
}

/// Imports and sets up one weight mode's model into `models/<mode>`.
fn prepare(
    models: &Path,
    onnx: &Path,
    input: &Path,
    calibration: &Path,
    mode: WeightMode,
    owner: &zkw_verifier::KeyPair,
) -> Result<Prepared> {
    let what = match mode {
        WeightMode::Fixed => "fixed weights (weights are circuit constants)",
        WeightMode::Private => "private weights (proof of knowledge of the committed weights)",
        WeightMode::Committed => {
            "committed weights (proof of knowledge of the weights the owner committed to at setup)"
        }
    };
    outln!("== {what}");
    let t = Instant::now();
    let graph = import_float_graph(onnx)?;
    let calib = read_input_file(calibration)?;
    let options = QuantizeOptions {
        weight_mode: mode,
        ..Default::default()
    };
    let model = quantize(&graph, &options, Some(&calib))?;
    let model_path = models.with_file_name(format!("digits-{mode}.zkm"));
    let id = save_model(&model, &model_path)?;
    step(
        1,
        &format!(
            "import    → {} in {}",
            model_path.display(),
            dur(t.elapsed())
        ),
    );
    let x = read_client_input(input)?.values;
    let err = quantization_error(onnx, &graph, &model, &x)?;
    outln!(
        "          file digest {}…, {} parameters, int8; error vs ONNX float output {:.2}% of its range",
        &id.to_hex()[..16],
        count(model.parameter_count()),
        100.0 * err.relative()
    );
    let t = Instant::now();
    let keys = models.join(mode.as_str());
    if keys.exists() {
        // A previous run's keys (another salt, another model id): replaced, not mixed.
        std::fs::remove_dir_all(&keys).with_context(|| format!("clearing {}", keys.display()))?;
    }
    let report = zkw_prover::setup_owned(&model, &id, &owner.public_hex(), &keys, &|_| {})?;
    step(
        2,
        &format!("setup     → {} in {}", keys.display(), dur(t.elapsed())),
    );
    outln!(
        "          {} constraints, proving key {}, verifying key {}",
        count(report.record.constraints),
        size(report.pk_bytes),
        size(report.vk_bytes)
    );
    let t = Instant::now();
    let statement = crate::cmd::model::sign_setup(&zkw_prover::KeyDir::new(&keys), owner)?;
    outln!(
        "          model id {}… (the file's digest bound to owner {}…), who signed the setup \
         with a proof of holding the proving key ({}, {}): publishing record.json and the vk \
         is safe",
        &report.record.model_id[..16],
        &owner.public_hex()[..16],
        statement.display(),
        dur(t.elapsed())
    );
    Ok(Prepared {
        mode,
        // The owner's model id: the file's digest bound to the owner's key.
        model_id: report.record.model_id.clone(),
        keys,
    })
}

/// The demo's fee per job.
const FEE: u64 = 1000;

/// Where the demo's jobs settle: a fresh ledger, and a registry whose registrations name it.
struct Market {
    registry: zkw_settlement::Registry,
    ledger: zkw_settlement::Ledger,
}

/// Opens a fresh ledger (the venue), registers both models under the owner naming it, and
/// records the client's deposit for the two jobs.
fn open_market(
    dir: &Path,
    prepared: &[Prepared],
    owner: &zkw_verifier::KeyPair,
    client: &zkw_verifier::KeyPair,
) -> Result<Market> {
    let registry_dir = dir.join("registry");
    let ledger_dir = dir.join("ledger");
    for d in [&registry_dir, &ledger_dir] {
        if d.exists() {
            // A previous run's models and ledger: replaced, not mixed.
            std::fs::remove_dir_all(d).with_context(|| format!("clearing {}", d.display()))?;
        }
    }
    let ledger = zkw_settlement::Ledger::open(&ledger_dir)?;
    let reward = crate::cmd::registry::RewardArgs {
        fee: FEE,
        worker_share_bps: 7000,
        penalty: 1000,
    };
    for p in prepared {
        crate::cmd::registry::register_keys(
            &zkw_prover::KeyDir::new(&p.keys),
            owner,
            reward,
            &[ledger.venue()],
            &registry_dir,
        )?;
    }
    let deposit = FEE * prepared.len() as u64;
    ledger.deposit(&client.public_hex(), deposit)?;
    outln!(
        "\n== venue: ledger {} (registered by the owner; client {}… deposits {deposit})",
        ledger.venue(),
        &client.public_hex()[..16]
    );
    Ok(Market {
        registry: zkw_settlement::Registry::new(&registry_dir),
        ledger,
    })
}

/// Licenses the worker, settles the receipts into the ledger, shows that a second
/// settlement of the same receipt is refused, and prints the balances.
fn settle(
    market: &Market,
    prepared: &[Prepared],
    owner: &zkw_verifier::KeyPair,
    worker_id: &str,
    receipts: &[Receipt],
) -> Result<()> {
    outln!("== settlement");
    let t = Instant::now();
    let (registry, ledger) = (&market.registry, &market.ledger);
    for p in prepared {
        registry.add_licence(&zkw_verifier::Licence::issue(
            owner,
            &p.model_id,
            worker_id,
            None,
        ))?;
    }
    let now = crate::cmd::settle::now()?;
    let outcomes = zkw_settlement::settle(registry, ledger, receipts, now)?;
    if let Some(bad) = outcomes.iter().find(|o| !o.is_settled()) {
        bail!("a demo receipt did not settle: {bad}");
    }
    step(
        6,
        &format!(
            "settle    → {} receipts settled in {}: each the client's signed request, paid once in this venue; fee {FEE} split 70/30",
            outcomes.len(),
            dur(t.elapsed())
        ),
    );
    let again = zkw_settlement::settle(registry, ledger, &receipts[..1], now)?;
    match &again[0] {
        zkw_settlement::Outcome::AlreadySettled { .. } => {
            outln!("          settling the same receipt again is refused: it settles once")
        }
        other => bail!("a receipt settled twice: this is a bug ({other})"),
    }
    for b in ledger.balances()? {
        let who = if b.account == worker_id {
            "worker"
        } else if b.account == owner.public_hex() {
            "owner "
        } else {
            "client"
        };
        outln!(
            "          {who} {}… credited {}, debited {}, holds {}",
            &b.account[..16],
            b.credited,
            b.debited,
            b.net()
        );
    }
    Ok(())
}

/// Submits, watches, fetches and verifies one job, as a client; returns its receipt.
async fn run_job(
    client: &mut Client,
    p: &Prepared,
    input: &Path,
    dir: &Path,
    client_key: &zkw_verifier::KeyPair,
    market: &Market,
) -> Result<Receipt> {
    outln!("== job on the {} model", p.mode);
    let doc = read_client_input(input)?;
    let salt = InputSalt::from_bytes(doc.salt.context("the demo input has a salt")?);
    let nonce = crate::cmd::prove::fresh_job_id()?;
    let t = Instant::now();
    let keys = zkw_prover::KeyDir::new(&p.keys);
    let record = keys.read_record()?;
    let digest = crate::cmd::verify::client_digest(&record, &doc.values, &salt)?;
    let venue = market.ledger.venue();
    let request =
        zkw_verifier::ClientRequest::sign(client_key, &p.model_id, digest, &nonce, venue, FEE)?;
    let submitted = client
        .submit_job(pb::SubmitJobRequest {
            model_id: p.model_id.clone(),
            input: doc.values.clone(),
            client_nonce: nonce.clone(),
            input_salt: salt.to_bytes().to_vec(),
            unsalted: false,
            idempotency_key: String::new(),
            client_request: request.to_json(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("submit: {}", e.message()))?
        .into_inner();
    let job_id = submitted.job_id.clone();
    let mut seen = Vec::new();
    let job = wait(client, &job_id, |ev| seen.push(state_name(ev.state)))
        .await
        .map_err(|e| anyhow::anyhow!("watch: {}", e.message()))?;
    let last = job.state;
    if last != pb::JobState::Succeeded as i32 {
        bail!("the demo job {job_id} ended {}", state_name(last));
    }
    step(
        4,
        &format!(
            "submit    → job {}… {} in {}",
            &job_id[..12],
            seen.join(" → "),
            dur(t.elapsed())
        ),
    );
    let json = client
        .get_receipt(pb::GetReceiptRequest {
            job_id: job_id.clone(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("receipt: {}", e.message()))?
        .into_inner()
        .receipt_json;
    let receipt_path = write(dir, &format!("receipt-{}.json", p.mode), json.as_bytes())?;
    let receipt = Receipt::from_json(json.as_bytes())?;
    let values = &receipt.output.values;
    let digit = values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    outln!(
        "          receipt → {}: the image is classified as a {digit}",
        receipt_path.display()
    );

    // Strict, as a client checks it: its own input and salt, its job, the worker, the nonce,
    // against the owner's record and verifying key.
    let t = Instant::now();
    let key: VerifierKey = keys.read_vk(&record)?;
    let q = quantize_input(
        &zkw_model::TensorInfo {
            shape: record.input.shape.clone(),
            frac_bits: record.input.frac_bits,
            bits: record.input.bits.bits(),
        },
        &doc.values,
    )?;
    let expected = Expected::new(&record, digest, &job_id)
        .worker(&submitted.worker_id)
        .nonce(&nonce)
        .venue(venue);
    let verified = verify(&receipt, &key, &expected)?;
    let signer = match &verified.signer {
        Signer::Worker(id) => format!("signed by worker {}…", &id[..16]),
        Signer::Unsigned => "unsigned".into(),
    };
    step(
        5,
        &format!(
            "verify    → OK in {}: the client's input and salt, its job and venue, {signer}",
            dur(t.elapsed())
        ),
    );
    let mut forged = receipt.clone();
    let other = (digit + 1) % forged.output.quantized.len();
    forged.output.quantized[other] += 10;
    forged.output.values[other] = record.output.dequantize(forged.output.quantized[other]);
    match verify(&forged, &key, &expected) {
        Err(e) => outln!("          a receipt with a forged output is rejected: {e}"),
        Ok(_) => bail!("a forged receipt verified: this is a bug, please report it"),
    }
    forged.signature = None;
    match verify(&forged, &key, &expected) {
        Err(e) => outln!("          … and with the signature stripped as well: {e}"),
        Ok(_) => bail!("a forged receipt verified: this is a bug, please report it"),
    }
    let mut other_input = q.clone();
    other_input[0] = if other_input[0] == 0 { 1 } else { 0 };
    let other = Expected::new(
        &record,
        input_digest(&other_input, record.input.bits, &salt)?,
        &job_id,
    );
    match verify(&receipt, &key, &other) {
        Err(e) => outln!(
            "          checked against another input, it is rejected: {}",
            e.to_string().split(':').next().unwrap_or_default()
        ),
        Ok(_) => bail!("a receipt verified for another input: this is a bug"),
    }
    Ok(receipt)
}
