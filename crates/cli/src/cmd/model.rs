//! `zkw model import | inspect | run | setup`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use zkw_model::input::{dequantize, quantize_input, read_calibration_file, read_input_file};
use zkw_model::{WeightMode, load_model};
use zkw_onnx::{
    QuantizeOptions, import_float_graph, layer_errors, quantization_error, quantize_calibrated,
};
use zkw_prover::save_model;

use crate::out::{count, dur, size, spinner};

/// `zkw model import`.
#[derive(Args)]
pub struct ImportArgs {
    /// The ONNX model.
    pub onnx: PathBuf,
    /// Where to write the quantized model (.zkm).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Calibration samples for the scales: an input file (EZKL format) or JSON Lines of
    /// them, one sample per line. Repeat for more files; every sample counts.
    #[arg(long)]
    pub calibration: Vec<PathBuf>,
    /// How the weights appear in proofs: `fixed` (constants), `private` (secret, committed
    /// with Poseidon inside every proof) or `committed` (secret, committed once at setup:
    /// one constraint per multiply-accumulate).
    #[arg(long, default_value = "fixed")]
    pub weights: WeightMode,
    /// Signed bit width of inputs, weights and activations.
    #[arg(long, default_value_t = 8)]
    pub bits: u32,
}

/// Imports, quantizes and saves; reports the quantization error when calibrated.
pub fn import(a: ImportArgs) -> Result<()> {
    let graph = import_float_graph(&a.onnx)?;
    let mut samples = Vec::new();
    for path in &a.calibration {
        samples.extend(read_calibration_file(path)?);
    }
    let options = QuantizeOptions {
        bits: a.bits,
        weight_mode: a.weights,
        salt: None,
    };
    let (model, map) = quantize_calibrated(&graph, &options, &samples)?;
    let id = save_model(&model, &a.output)?;
    outln!("imported {} → {}", a.onnx.display(), a.output.display());
    outln!("  model id      {id}");
    outln!("  weights       {}", model.weight_mode);
    outln!("  parameters    {}", count(model.parameter_count()));
    let input = model.input_info();
    outln!(
        "  input         {:?}, {} bits, scale 2^-{}",
        input.shape,
        input.bits,
        input.frac_bits
    );
    if !samples.is_empty() {
        // The ONNX reference (onnxruntime semantics, via tract) on every sample.
        let (mut worst_abs, mut range, mut step) = (0.0f64, 0.0f64, 0.0);
        for x in &samples {
            let e = quantization_error(&a.onnx, &graph, &model, x)?;
            worst_abs = worst_abs.max(e.max_abs);
            range = range.max(e.float_range);
            step = e.step;
        }
        let relative = if range > 0.0 { worst_abs / range } else { 0.0 };
        outln!(
            "  calibration   {} sample{}: max |quantized - float| = {worst_abs:.4} ({:.2}% of the output range {range:.3}; output step {step})",
            samples.len(),
            if samples.len() == 1 { "" } else { "s" },
            100.0 * relative,
        );
        let layers = layer_errors(&graph, &model, &map, &samples)?;
        outln!("  layer errors  (max |quantized - float| per node, of its range)");
        for l in &layers {
            outln!(
                "    {:<40} {:>10.4}  {:>7.2}%",
                l.name,
                l.max_abs,
                100.0 * l.relative()
            );
        }
        if let Some(w) = layers
            .iter()
            .max_by(|x, y| x.relative().total_cmp(&y.relative()))
        {
            outln!(
                "  worst layer   {} ({:.2}% of its range)",
                w.name,
                100.0 * w.relative()
            );
        }
    } else {
        outln!("  calibration   none: input assumed in [-1, 1], hidden ranges worst-case");
    }
    Ok(())
}

/// Prints a model's structure, bounds, constraints and id.
pub fn inspect(path: &Path) -> Result<()> {
    let (model, id) = load_model(path)?;
    let bounds = zkw_model::bounds::analyze(&model)?;
    let infos = model.tensor_infos()?;
    outln!("model     {}", model.name);
    outln!("id        {id}");
    outln!("weights   {}", model.weight_mode);
    outln!("params    {}", count(model.parameter_count()));
    for (t, input) in model.inputs.iter().enumerate() {
        let b = bounds.tensor(t);
        outln!(
            "input     t{t}: shape {:?}, {} bits, scale 2^-{}, values in [{}, {}]",
            input.shape,
            input.bits,
            input.frac_bits,
            b.lo,
            b.hi
        );
    }
    outln!("nodes");
    for (k, node) in model.nodes.iter().enumerate() {
        let t = model.node_output(k);
        let (b, info) = (bounds.tensor(t), &infos[t]);
        let operands: Vec<String> = node.inputs.iter().map(|i| format!("t{i}")).collect();
        outln!(
            "  t{t:<3} = {:<32} ({}) → shape {:?}, scale 2^-{}, values in [{}, {}]",
            node.op.describe(),
            operands.join(", "),
            info.shape,
            info.frac_bits,
            b.lo,
            b.hi
        );
    }
    let outputs: Vec<String> = model.outputs.iter().map(|t| format!("t{t}")).collect();
    outln!("outputs   {}", outputs.join(", "));
    let pb = spinner("counting constraints");
    let commitment = zkw_circuits::model_commitment(&model, &id)?;
    let sections = zkw_circuits::circuit::constraint_breakdown(&model, commitment)?;
    pb.finish_and_clear();
    let n: usize = sections.iter().map(|(_, c)| c).sum();
    let out = model.output_info()?;
    outln!(
        "output    shape {:?}, scale 2^-{}",
        out.shape,
        out.frac_bits
    );
    outln!(
        "circuit   {} constraints, {} public inputs",
        count(n),
        zkw_verifier::statement::public_input_count(out.len(), zkw_verifier::Width::new(out.bits)?)
    );
    for (what, c) in &sections {
        outln!("  {:>10}  {what}", count(*c));
    }
    Ok(())
}

/// `zkw model run`.
#[derive(Args)]
pub struct RunArgs {
    /// The .zkm model file.
    pub model: PathBuf,
    /// The input (EZKL format).
    #[arg(long)]
    pub input: PathBuf,
    /// Which executor runs the model: auto (a GPU if there is one), gpu, or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: zkw_gpu::Backend,
}

/// The executor `backend` names; the line saying which goes to stderr.
pub fn executor(backend: zkw_gpu::Backend) -> Result<std::sync::Arc<dyn zkw_model::Executor>> {
    let selected = zkw_gpu::select(backend).context("--backend gpu")?;
    eprintln!("{}", selected.notice);
    Ok(selected.executor)
}

/// Runs the model on the chosen executor and prints the output as JSON.
pub fn run(a: RunArgs) -> Result<()> {
    let (model, id) = load_model(&a.model)?;
    let x = read_input_file(&a.input)?;
    let q = quantize_input(&model.input_info(), &x)?;
    warn_saturation(&model.input_info(), &x);
    let trace = executor(a.backend)?.run(&model, &q)?;
    let out = model.output_info()?;
    let values: Vec<f64> = trace
        .output()
        .iter()
        .map(|&v| dequantize(v, out.frac_bits))
        .collect();
    let json = serde_json::json!({
        "model_id": id.to_hex(),
        "shape": out.shape,
        "frac_bits": out.frac_bits,
        "quantized": trace.output(),
        "output": values,
    });
    outln!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

/// Tells the user (on stderr) when input values were clamped to the calibrated range.
pub fn warn_saturation(info: &zkw_model::TensorInfo, x: &[f64]) {
    let n = zkw_model::input::saturated_count(info, x);
    if n > 0 {
        let top =
            zkw_model::input::dequantize(zkw_model::ir::signed_range(info.bits).1, info.frac_bits);
        eprintln!(
            "warning: {n} of {} input values lie beyond ±{top} (the calibrated range) and were \
             saturated; re-import with a calibration input like this one for better accuracy",
            x.len()
        );
    }
}

/// `zkw model setup`.
#[derive(Args)]
pub struct SetupArgs {
    /// The .zkm model file.
    pub model: PathBuf,
    /// The keys directory to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The owner's secret key (`zkw keys new`): the model id becomes the file's digest bound to
    /// this key, and setup proves once with the new proving key and signs the setup statement
    /// (`setup.dsse.json`) that registration requires — so the record and verifying key can
    /// be published before the model is registered. Without it the keys cannot be registered.
    #[arg(long, value_name = "FILE")]
    pub owner_key: Option<PathBuf>,
}

/// Runs the circuit setup.
pub fn setup(a: SetupArgs) -> Result<()> {
    let (model, id) = load_model(&a.model)?;
    let owner = a
        .owner_key
        .as_deref()
        .map(crate::cmd::keys::read_key)
        .transpose()?;
    let pb = spinner("setup");
    let progress = |phase: &str| pb.set_message(phase.to_string());
    let report = match &owner {
        Some(owner) => {
            zkw_prover::setup_owned(&model, &id, &owner.public_hex(), &a.output, &progress)
        }
        None => zkw_prover::setup(&model, &id, &a.output, &progress),
    }
    .with_context(|| format!("setup of {}", a.model.display()))?;
    pb.finish_and_clear();
    print_setup(&report, &a.output);
    if let Some(owner) = &owner {
        let written = sign_setup(&zkw_prover::KeyDir::new(&a.output), owner)?;
        outln!(
            "  owner         {} (the model id is the file's digest and this key; it signed {}, \
             its proof of holding the proving key included)",
            owner.public_hex(),
            written.display()
        );
    } else {
        outln!(
            "  owner         none: these keys serve `zkw prove` and `zkw verify --keys`; to \
             register the model, set it up with --owner-key"
        );
    }
    Ok(())
}

/// Proves ownership with a keys directory's proving key and writes the owner's setup
/// statement there; returns its path.
pub fn sign_setup(keys: &zkw_prover::KeyDir, owner: &zkw_verifier::KeyPair) -> Result<PathBuf> {
    zkw_prover::registration::write_setup_statement(keys, owner)
        .with_context(|| format!("proving ownership with the keys in {}", keys.dir.display()))
}

/// Prints what setup made.
pub fn print_setup(report: &zkw_prover::SetupReport, dir: &Path) {
    let total: std::time::Duration = report.timings.iter().map(|(_, d)| *d).sum();
    outln!("setup done in {} → {}", dur(total), dir.display());
    outln!("  model id      {}", report.record.model_id);
    outln!("  vk id         {}", report.record.vk_id);
    outln!(
        "  constraints   {} ({} public inputs, {} witnesses)",
        count(report.record.constraints),
        report.public_inputs,
        count(report.witness_variables)
    );
    outln!(
        "  keys          pk {}, vk {}, matrices {}, baseline {}",
        size(report.pk_bytes),
        size(report.vk_bytes),
        size(report.r1cs_bytes),
        size(report.baseline_bytes)
    );
    outln!("  trust         toxic waste drawn from OS randomness and dropped (single-party setup)");
}

/// Prints the supported ONNX ops by group, from the importer's registry.
pub fn ops() -> Result<()> {
    use zkw_onnx::registry::{Kind, SUPPORTED};
    let kinds = [
        Kind::Linear,
        Kind::Normalization,
        Kind::Elementwise,
        Kind::Reduction,
        Kind::Shape,
    ];
    for kind in kinds {
        outln!("{}:", kind.title());
        for op in SUPPORTED.iter().filter(|o| o.kind == kind) {
            if op.note.is_empty() {
                outln!("  {}", op.name);
            } else {
                outln!("  {:<22}{}", op.name, op.note);
            }
        }
    }
    outln!(
        "{} ops; anything else is refused with its op type and node name",
        SUPPORTED.len()
    );
    Ok(())
}
