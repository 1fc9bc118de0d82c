//! The inference circuit: one model, one trace, one statement.
//!
//! Public inputs are allocated from `Statement::public_inputs` (the one statement encoding) and
//! each is tied to the computation: the commitment to the weights (a constant in fixed and
//! committed modes, a Poseidon recomputation in private mode; committed mode's weights are
//! bound by the commitment keygen derives from their wires, outside the public inputs), the input digest to the range-checked input and
//! the client's salt (a private witness), the output to the output tensors (concatenated), and
//! the job binding by an `x · 1 = x` constraint so that the proof binds it (an unused public
//! input is not bound by Groth16).
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
use zkw_model::run;
use zkw_model::{Model, Parameter, Trace, WeightMode};
use zkw_verifier::InputSalt;
use zkw_verifier::digest::{DOMAIN_OUTPUT, input_digest};
use zkw_verifier::statement::{
    INPUT_DIGEST, MODEL_COMMITMENT, OUTPUT_START, Statement, output_is_digested,
};
use zkw_verifier::width::Width;

use crate::Fr;
use crate::commitment::{Committed, alloc_committed, alloc_parameter, commit_private, salt};
use crate::digest::{input_digest as input_digest_gadget, pack, tensor_digest};
use crate::error::CircuitError;
use crate::lin::{Lin, Val, enforce, enforce_equal, instance, witness};
use crate::ops::{NodeInputs, gadget};
use crate::range::signed_var;

/// The circuit of one inference.
#[derive(Debug, Clone)]
pub struct InferenceCircuit<'a> {
    model: &'a Model,
    bounds: Bounds,
    trace: Trace,
    input_salt: Fr,
    input_width: Width,
    statement: Statement,
    instance: usize,
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
        if trace.tensors.len() != infos.len()
            || trace.inputs != model.inputs.len()
            || trace.outputs != model.outputs
        {
            return Err(CircuitError::TraceShape(format!(
                "{} tensors ({} inputs), the model has {} ({} inputs), or other outputs",
                trace.tensors.len(),
                trace.inputs,
                infos.len(),
                model.inputs.len()
            )));
        }
        for (t, (values, info)) in trace.tensors.iter().zip(&infos).enumerate() {
            if values.len() != info.len() {
                return Err(CircuitError::TraceShape(format!(
                    "tensor {t} has {} values, the model's has {}",
                    values.len(),
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
        let input_width = width("the input", model.input_info().bits)?;
        let output_width = width("the output", model.output_info()?.bits)?;
        // The output is packed at its width (into public inputs, or digested): every value the
        // model can output must fit it, or packing would not be injective. The bounds analysis guarantees it for
        // every accepted model; a model where it failed is refused here, never proved.
        for &t in &model.outputs {
            let out = bounds.tensor(t);
            if !out.fits_signed(output_width.bits()) {
                return Err(CircuitError::OutputWidth {
                    lo: out.lo,
                    hi: out.hi,
                    bits: output_width.bits(),
                });
            }
        }
        let out_of_range = |what: &str| {
            let what = what.to_string();
            move |err| CircuitError::OutOfRange { what, err }
        };
        let statement = Statement {
            model_commitment: commitment,
            input_digest: input_digest(&trace.input(), input_width, input_salt)
                .map_err(out_of_range("the trace's input"))?,
            output: trace.output(),
            output_width,
            job_binding,
        };
        let instance = 1 + statement
            .public_inputs()
            .map_err(out_of_range("the trace's output"))?
            .len();
        Ok(InferenceCircuit {
            model,
            bounds,
            trace,
            input_salt: input_salt.element(),
            input_width,
            statement,
            instance,
            profile: None,
        })
    }

    /// The circuit over an all-zero, unsalted input, for setup and constraint counting (the
    /// structure is the same for every input and salt).
    pub fn for_setup(model: &'a Model, commitment: Fr) -> Result<Self, CircuitError> {
        let trace = run(model, &vec![0; model.input_info().len()])?;
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

    /// The instance variables of the circuit: its public inputs and the constant 1. The
    /// committed wires (committed weights) follow them.
    pub fn num_instance_variables(&self) -> usize {
        self.instance
    }

    /// The trace the witness comes from.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Synthesizes the circuit in setup mode and returns the constraint system (matrices
    /// recorded, linear combinations inlined).
    pub fn synthesize_for_matrices(self) -> Result<ConstraintSystem<Fr>, CircuitError> {
        setup_system(self)
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
            instance: _,
            profile,
        } = self;
        let publics = statement
            .public_inputs()
            .map_err(|_| SynthesisError::Unsatisfiable)?
            .into_iter()
            .map(|v| instance(&cs, v))
            .collect::<Result<Vec<Lin>, _>>()?;

        // Public input 0: the model commitment. Private mode: every node's parameters as
        // range-checked witnesses, committed, and the same variables used by the node's gadget.
        // Committed mode: every parameter a single witness variable, the first witnesses of the
        // circuit (keygen gives them commitment bases), and public input 0 pinned as in fixed
        // mode.
        let alloc_all = |alloc: fn(&ConstraintSystemRef<Fr>, &Parameter<'_>) -> _| {
            model
                .nodes
                .iter()
                .map(|node| {
                    node.op
                        .parameters()
                        .iter()
                        .map(|p| alloc(&cs, p))
                        .collect::<Result<Vec<Committed>, SynthesisError>>()
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let mut parameters: Vec<Vec<Committed>> = vec![Vec::new(); model.nodes.len()];
        match model.weight_mode {
            WeightMode::Fixed => {
                let pinned = Lin::constant(statement.model_commitment);
                enforce_equal(&cs, &publics[MODEL_COMMITMENT], &pinned)?;
            }
            WeightMode::Committed => {
                if cs.num_witness_variables() != 0 {
                    return Err(SynthesisError::Unsatisfiable);
                }
                parameters = alloc_all(alloc_committed)?;
                let pinned = Lin::constant(statement.model_commitment);
                enforce_equal(&cs, &publics[MODEL_COMMITMENT], &pinned)?;
            }
            WeightMode::Private => {
                parameters = alloc_all(alloc_parameter)?;
                mark(&profile, &cs, "weight and bias range checks");
                let salt = salt(model).map_err(|_| SynthesisError::AssignmentMissing)?;
                let salt = witness(&cs, salt)?;
                let groups: Vec<Committed> = parameters.iter().flatten().cloned().collect();
                let c = commit_private(&cs, &salt, &groups)?;
                enforce_equal(&cs, &c, &publics[MODEL_COMMITMENT])?;
            }
        }
        mark(&profile, &cs, "model commitment");

        // Public input 1: the salted digest of the range-checked input (all graph inputs).
        let input = trace.input();
        let xs = input
            .iter()
            .map(|&v| signed_var(&cs, v, input_width.bits()))
            .collect::<Result<Vec<_>, _>>()?;
        mark(&profile, &cs, "input range checks");
        let refs: Vec<&Lin> = xs.iter().map(|r| &r.value).collect();
        let input_salt = witness(&cs, input_salt)?;
        let digest = input_digest_gadget(&cs, &refs, input_width, &input_salt)?;
        enforce_equal(&cs, &digest, &publics[INPUT_DIGEST])?;
        mark(&profile, &cs, "input digest (Poseidon)");

        // The graph, node by node: `tensors[t]` holds tensor t's circuit values.
        let mut xs = xs.into_iter().map(|r| Val {
            non_negative: Some(r.non_negative().clone()),
            lin: r.value,
        });
        let mut tensors: Vec<Vec<Val>> = model
            .inputs
            .iter()
            .map(|info| xs.by_ref().take(info.len()).collect())
            .collect();
        for (k, node) in model.nodes.iter().enumerate() {
            let out = gadget(
                &cs,
                &node.op,
                model.weight_mode,
                NodeInputs {
                    operands: node.inputs.iter().map(|&t| tensors[t].as_slice()).collect(),
                    values: node.inputs.iter().map(|&t| trace.tensor(t)).collect(),
                    output: trace.tensor(model.node_output(k)),
                    bounds: node.inputs.iter().map(|&t| bounds.tensor(t)).collect(),
                    parameters: &parameters[k],
                },
            )?;
            // Every gadget gives one value per element of its tensor (the trace's lengths are
            // the model's, checked in `new`): a short gadget would leave outputs unbound.
            if out.len() != trace.tensor(model.node_output(k)).len() {
                return Err(SynthesisError::Unsatisfiable);
            }
            tensors.push(out);
            mark(&profile, &cs, format!("node #{k}: {}", node.op.describe()));
        }
        let cur: Vec<&Val> = model
            .outputs
            .iter()
            .flat_map(|&t| tensors[t].iter())
            .collect();

        if cur.len() != statement.output.len() {
            return Err(SynthesisError::Unsatisfiable);
        }

        // Public inputs 2..: the output packed to elements, or through its digest. Either
        // packs; packing is injective on values within the output width, which the output
        // values are: fixed by the gadgets, bounded by the static analysis (checked in `new`).
        let refs: Vec<&Lin> = cur.iter().map(|v| &v.lin).collect();
        if output_is_digested(cur.len(), statement.output_width) {
            let d = tensor_digest(&cs, DOMAIN_OUTPUT, &refs, statement.output_width)?;
            enforce_equal(&cs, &d, &publics[OUTPUT_START])?;
        } else {
            for (k, element) in pack(&refs, statement.output_width).iter().enumerate() {
                enforce_equal(&cs, element, &publics[OUTPUT_START + k])?;
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

/// The constraint system of any circuit synthesized in setup mode: matrices recorded, linear
/// combinations inlined.
pub fn setup_system(
    circuit: impl ConstraintSynthesizer<Fr>,
) -> Result<ConstraintSystem<Fr>, CircuitError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();
    cs.into_inner()
        .ok_or(CircuitError::Synthesis(SynthesisError::MissingCS))
}
