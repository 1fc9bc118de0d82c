//! The inference circuit: one model, one trace, one statement.
//!
//! Public inputs are allocated from `Statement::public_inputs` (the one statement encoding) and
//! each is tied to the computation: the commitment to the weights (a constant in fixed mode,
//! a Poseidon recomputation in private mode), the input digest to the range-checked input and
//! the client's salt (a private witness), the output to the last tensor, and the job binding by
//! an `x · 1 = x` constraint so that the proof binds it (an unused public input is not bound by
//! Groth16).
//!
//! The structure depends on the model alone, never on the trace: setup synthesizes the circuit
//! over the trace of an all-zero input, proving over the real trace, and both give the same
//! matrices.

use std::cell::RefCell;
use std::rc::Rc;

use ark_ff::One;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
    SynthesisMode,
};
use zkw_model::bounds::{Bounds, analyze};
use zkw_model::exec::run;
use zkw_model::{Model, Op, Trace, WeightMode};
use zkw_verifier::InputSalt;
use zkw_verifier::digest::{DOMAIN_OUTPUT, input_digest};
use zkw_verifier::statement::{
    INPUT_DIGEST, MODEL_COMMITMENT, OUTPUT_START, Statement, output_is_digested,
};
use zkw_verifier::width::Width;

use crate::Fr;
use crate::commitment::{commit_private, salt};
use crate::dense::{alloc_private, dense_fixed, dense_private};
use crate::digest::{input_digest as input_digest_gadget, tensor_digest};
use crate::error::CircuitError;
use crate::lin::{Lin, Val, enforce, enforce_equal, instance, witness};
use crate::range::signed_var;
use crate::relu::relu;
use crate::requantize::requantize;

/// The circuit of one inference.
#[derive(Debug, Clone)]
pub struct InferenceCircuit<'a> {
    model: &'a Model,
    bounds: Bounds,
    trace: Trace,
    input_salt: Fr,
    input_width: Width,
    statement: Statement,
    profile: Option<Profile>,
}

/// Constraint counts recorded at section boundaries during synthesis.
type Profile = Rc<RefCell<Vec<(String, usize)>>>;

fn mark(profile: &Option<Profile>, cs: &ConstraintSystemRef<Fr>, what: impl Into<String>) {
    if let Some(p) = profile {
        p.borrow_mut().push((what.into(), cs.num_constraints()));
    }
}

impl<'a> InferenceCircuit<'a> {
    /// The circuit proving `trace` for a job. `commitment` is the model's public input 0
    /// ([`crate::model_commitment`]); `input_salt` the client's salt of the input digest.
    pub fn new(
        model: &'a Model,
        commitment: Fr,
        trace: Trace,
        input_salt: &InputSalt,
        job_binding: Fr,
    ) -> Result<Self, CircuitError> {
        let bounds = analyze(model)?;
        let infos = model.tensor_infos()?;
        if trace.input.len() != model.input.len() || trace.steps.len() != model.ops.len() {
            return Err(CircuitError::TraceShape(format!(
                "{} inputs and {} steps, the model has {} inputs and {} ops",
                trace.input.len(),
                trace.steps.len(),
                model.input.len(),
                model.ops.len()
            )));
        }
        for (i, (step, info)) in trace.steps.iter().zip(&infos).enumerate() {
            if step.len() != info.len() {
                return Err(CircuitError::TraceShape(format!(
                    "step {i} has {} values, op #{i} outputs {}",
                    step.len(),
                    info.len()
                )));
            }
        }
        let width = |what: &str, bits: u32| {
            Width::new(bits).map_err(|err| CircuitError::Width {
                what: what.into(),
                err,
            })
        };
        let input_width = width("the input", model.input.bits)?;
        let output_width = width(
            "the output",
            infos.last().map_or(model.input.bits, |i| i.bits),
        )?;
        // The output is packed at its width when digested: every value the model can output
        // must fit it, or packing would not be injective. The bounds analysis guarantees it for
        // every accepted model; a model where it failed is refused here, never proved.
        let out = bounds.output();
        if !out.fits_signed(output_width.bits()) {
            return Err(CircuitError::OutputWidth {
                lo: out.lo,
                hi: out.hi,
                bits: output_width.bits(),
            });
        }
        let out_of_range = |what: &str| {
            let what = what.to_string();
            move |err| CircuitError::OutOfRange { what, err }
        };
        let statement = Statement {
            model_commitment: commitment,
            input_digest: input_digest(&trace.input, input_width, input_salt)
                .map_err(out_of_range("the trace's input"))?,
            output: trace.output().to_vec(),
            output_width,
            job_binding,
        };
        statement
            .public_inputs()
            .map_err(out_of_range("the trace's output"))?;
        Ok(InferenceCircuit {
            model,
            bounds,
            trace,
            input_salt: input_salt.element(),
            input_width,
            statement,
            profile: None,
        })
    }

    /// The circuit over an all-zero, unsalted input, for setup and constraint counting (the
    /// structure is the same for every input and salt).
    pub fn for_setup(model: &'a Model, commitment: Fr) -> Result<Self, CircuitError> {
        let trace = run(model, &vec![0; model.input.len()])?;
        Self::new(
            model,
            commitment,
            trace,
            &InputSalt::UNSALTED,
            Fr::from(0u64),
        )
    }

    /// The statement this circuit proves.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The trace the witness comes from.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Synthesizes the circuit in setup mode and returns the constraint system (matrices
    /// recorded, linear combinations inlined).
    pub fn synthesize_for_matrices(self) -> Result<ConstraintSystem<Fr>, CircuitError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        self.generate_constraints(cs.clone())?;
        cs.finalize();
        cs.into_inner()
            .ok_or(CircuitError::Synthesis(SynthesisError::MissingCS))
    }
}

impl ConstraintSynthesizer<Fr> for InferenceCircuit<'_> {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let InferenceCircuit {
            model,
            bounds,
            trace,
            input_salt,
            input_width,
            statement,
            profile,
        } = self;
        let publics = statement
            .public_inputs()
            .map_err(|_| SynthesisError::Unsatisfiable)?
            .into_iter()
            .map(|v| instance(&cs, v))
            .collect::<Result<Vec<Lin>, _>>()?;

        // Public input 0: the model commitment.
        let private_layers = match model.weight_mode {
            WeightMode::Fixed => {
                let pinned = Lin::constant(statement.model_commitment);
                enforce_equal(&cs, &publics[MODEL_COMMITMENT], &pinned)?;
                Vec::new()
            }
            WeightMode::Private => {
                let layers = model
                    .dense_layers()
                    .map(|d| alloc_private(&cs, d))
                    .collect::<Result<Vec<_>, _>>()?;
                mark(&profile, &cs, "weight and bias range checks");
                let salt = salt(model).map_err(|_| SynthesisError::AssignmentMissing)?;
                let salt = witness(&cs, salt)?;
                let c = commit_private(&cs, &salt, &layers)?;
                enforce_equal(&cs, &c, &publics[MODEL_COMMITMENT])?;
                layers
            }
        };
        mark(&profile, &cs, "model commitment");

        // Public input 1: the salted digest of the range-checked input.
        let xs = trace
            .input
            .iter()
            .map(|&v| signed_var(&cs, v, input_width.bits()))
            .collect::<Result<Vec<_>, _>>()?;
        mark(&profile, &cs, "input range checks");
        let refs: Vec<&Lin> = xs.iter().map(|r| &r.value).collect();
        let input_salt = witness(&cs, input_salt)?;
        let digest = input_digest_gadget(&cs, &refs, input_width, &input_salt)?;
        enforce_equal(&cs, &digest, &publics[INPUT_DIGEST])?;
        mark(&profile, &cs, "input digest (Poseidon)");

        // The op chain.
        let mut cur: Vec<Val> = xs
            .into_iter()
            .map(|r| Val {
                non_negative: Some(r.non_negative().clone()),
                lin: r.value,
            })
            .collect();
        let mut layers = private_layers.iter();
        for (i, op) in model.ops.iter().enumerate() {
            let (x, y) = (trace.op_input(i), &trace.steps[i]);
            let in_bounds = bounds.op_input(i);
            cur = match op {
                Op::Dense(d) => match model.weight_mode {
                    WeightMode::Fixed => dense_fixed(d, &cur),
                    WeightMode::Private => {
                        let p = layers.next().ok_or(SynthesisError::Unsatisfiable)?;
                        dense_private(&cs, d, p, &cur)?
                    }
                },
                Op::Requantize(r) => cur
                    .iter()
                    .enumerate()
                    .map(|(j, v)| requantize(&cs, r, &v.lin, x[j], in_bounds, y[j]))
                    .collect::<Result<_, _>>()?,
                Op::Relu => cur
                    .iter()
                    .enumerate()
                    .map(|(j, v)| relu(&cs, v, x[j], y[j], in_bounds))
                    .collect::<Result<_, _>>()?,
                Op::Reshape { .. } => cur,
            };
            mark(&profile, &cs, format!("op #{i}: {}", op.describe()));
        }

        // Public inputs 2..: the output, value by value or through its digest.
        if output_is_digested(cur.len()) {
            let refs: Vec<&Lin> = cur.iter().map(|v| &v.lin).collect();
            let d = tensor_digest(&cs, DOMAIN_OUTPUT, &refs, statement.output_width)?;
            enforce_equal(&cs, &d, &publics[OUTPUT_START])?;
        } else {
            for (k, v) in cur.iter().enumerate() {
                enforce_equal(&cs, &v.lin, &publics[OUTPUT_START + k])?;
            }
        }

        // Last public input: the job binding, bound by `jb · 1 = jb`.
        let jb = &publics[statement.job_binding_index()];
        enforce(&cs, jb, &Lin::constant(Fr::one()), jb)?;
        mark(&profile, &cs, "output and job binding");
        Ok(())
    }
}

/// Constraints per section of a model's circuit, in synthesis order.
pub fn constraint_breakdown(
    model: &Model,
    commitment: Fr,
) -> Result<Vec<(String, usize)>, CircuitError> {
    let mut circuit = InferenceCircuit::for_setup(model, commitment)?;
    let profile: Profile = Rc::default();
    circuit.profile = Some(profile.clone());
    circuit.synthesize_for_matrices()?;
    let marks = profile.take();
    let mut prev = 0;
    Ok(marks
        .into_iter()
        .map(|(what, total)| {
            let n = total - prev;
            prev = total;
            (what, n)
        })
        .collect())
}
