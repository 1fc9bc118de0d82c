//! Op completeness: every kind of [`zkw_model::Op`] has all its parts, held by one test — the
//! checklist in `Op`'s doc comment. For each [`OpKind`] (strum lists every variant):
//!
//! 1. **a generator**: `zkw_model::testing::arb_op_model` draws one-op models of it (the
//!    reshape, which moves no data, is drawn inside `arb_model`'s random graphs instead);
//! 2. **circuit ≡ reference on edge inputs**: for drawn models and inputs at the edges of
//!    their ranges (`arb_edge_input`), the circuit built from the reference trace is
//!    satisfied and states the reference output — proving-free (`is_satisfied`);
//! 3. **a GPU kernel equal to the reference** on the same models and inputs, every tensor to
//!    the bit (lavapipe in CI);
//! 4. **adversarial witnesses**: an entry in [`adversarial::OP_ATTACKS`], hand-built cheating
//!    witnesses that break exactly one constraint each (the module's own tests), or the
//!    stated reason the gadget has no witness to attack.
//!
//! A new op fails here, once per missing part, until it has them all.

mod adversarial;
mod attack;
mod common;

use std::collections::{BTreeMap, BTreeSet};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use strum::IntoEnumIterator;
use zkw_model::testing::{arb_edge_input, arb_model, arb_op_model};
use zkw_model::{Executor, Model, OpKind, Reference, run};

use adversarial::{OP_ATTACKS, Witnesses};
use common::{synthesize, try_circuit};

/// One-op models drawn per kind (each checked in the circuit and on the GPU).
const PER_KIND: usize = 4;
/// Draws before giving up on a kind the generator never produces.
const DRAWS: usize = 600;

#[test]
fn every_op_kind_is_complete() {
    let kinds: BTreeSet<&str> = OpKind::iter().map(<&str>::from).collect();
    let mut runner = TestRunner::deterministic();

    // 1. The generators.
    let mut drawn: BTreeMap<&str, Vec<(Model, Vec<i64>)>> = BTreeMap::new();
    for _ in 0..DRAWS {
        let m = arb_op_model().new_tree(&mut runner).unwrap().current();
        let x = arb_edge_input(&m).new_tree(&mut runner).unwrap().current();
        let kind = m.nodes[0].op.kind();
        let samples = drawn.entry(kind).or_default();
        if samples.len() < PER_KIND {
            samples.push((m, x));
        }
    }
    let mut in_graphs = BTreeSet::new();
    for _ in 0..200 {
        let m = arb_model().new_tree(&mut runner).unwrap().current();
        in_graphs.extend(m.nodes.iter().map(|n| n.op.kind()));
    }

    let mut missing = Vec::new();
    for &kind in &kinds {
        let samples = drawn.get(kind).map(Vec::as_slice).unwrap_or_default();
        if samples.is_empty() {
            // Only a reshape may be left to the random graphs: alone it is its input.
            if !(kind == <&str>::from(OpKind::Reshape) && in_graphs.contains(kind)) {
                missing.push(format!(
                    "{kind}: no generator (zkw_model::testing::arb_op_model never draws it)"
                ));
            }
        }
        // 2. and 3. The circuit and the GPU on edge inputs.
        for (m, x) in samples {
            if let Err(why) = circuit_states_the_reference(m, x) {
                missing.push(format!("{kind}: circuit ≠ reference on {}: {why}", show(x)));
            }
            if let Err(why) = gpu_equals_the_reference(m, x) {
                missing.push(format!("{kind}: GPU ≠ reference on {}: {why}", show(x)));
            }
        }
        // 4. The adversarial witnesses.
        match OP_ATTACKS.iter().find(|(k, _)| *k == kind) {
            None => missing.push(format!(
                "{kind}: no adversarial witness (add its attacks to tests/adversarial/mod.rs and \
                 OP_ATTACKS, or say there why its gadget has no witness)"
            )),
            Some((_, Witnesses::Attacked([]))) => {
                missing.push(format!("{kind}: OP_ATTACKS lists no attack"))
            }
            Some((_, Witnesses::NoWitness(why))) if why.trim().is_empty() => {
                missing.push(format!("{kind}: OP_ATTACKS gives no reason for no witness"))
            }
            Some(_) => {}
        }
    }
    for (kind, _) in OP_ATTACKS {
        if !kinds.contains(kind) {
            missing.push(format!("OP_ATTACKS names `{kind}`, which is no op kind"));
        }
    }
    assert!(
        missing.is_empty(),
        "op kinds missing a part:\n  {}",
        missing.join("\n  ")
    );
}

/// The circuit of the reference trace is satisfied and states the reference output.
fn circuit_states_the_reference(m: &Model, x: &[i64]) -> Result<(), String> {
    let trace = run(m, x).map_err(|e| e.to_string())?;
    let c = try_circuit(m, trace.clone()).map_err(|e| e.to_string())?;
    if c.statement().output != trace.output() {
        return Err("the statement's output is not the trace's".into());
    }
    let cs = synthesize(c);
    if !cs.is_satisfied().unwrap() {
        return Err(format!(
            "unsatisfied at {:?}",
            cs.which_is_unsatisfied().unwrap()
        ));
    }
    Ok(())
}

/// The GPU's trace is the reference's, tensor by tensor (nothing to compare without an
/// adapter, which `ZKW_REQUIRE_GPU=1` turns into a failure).
fn gpu_equals_the_reference(m: &Model, x: &[i64]) -> Result<(), String> {
    let Some(gpu) = zkw_gpu::testing::executor() else {
        return Ok(());
    };
    let want = Reference.run(m, x).map_err(|e| e.to_string())?;
    let got = gpu.run(m, x).map_err(|e| e.to_string())?;
    match got
        .tensors
        .iter()
        .zip(&want.tensors)
        .position(|(g, w)| g != w)
    {
        Some(t) => Err(format!("tensor #{t} differs")),
        None if got.tensors.len() != want.tensors.len() => Err("tensor counts differ".into()),
        None => Ok(()),
    }
}

/// An input as a failure shows it: its first values and its length.
fn show(x: &[i64]) -> String {
    match x {
        [head @ .., _] if x.len() > 8 => format!("{:?}… ({} values)", &head[..8], x.len()),
        _ => format!("{x:?}"),
    }
}
