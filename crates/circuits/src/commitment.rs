//! The model commitment (public input 0), native and in-circuit.
//!
//! Fixed weights: the model id reduced into the field, pinned as a circuit constant — the
//! verifying key then identifies the model. Private weights: Poseidon over the salt and every
//! layer's packed weights and biases, as `zkw_verifier::digest::weight_commitment` defines it;
//! the circuit recomputes it from the same range-checked witnesses the layers multiply with,
//! which is what makes the proof a proof of knowledge of the committed weights.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::{Model, ModelId, WeightMode};
use zkw_verifier::digest::{DOMAIN_WEIGHTS, header, salt_element, weight_commitment};
use zkw_verifier::statement::fixed_model_commitment;
use zkw_verifier::width::Width;

use zkw_model::Parameter;

use crate::Fr;
use crate::digest::{pack, poseidon};
use crate::error::CircuitError;
use crate::lin::{Cs, Lin, witness};
use crate::range::{Ranged, signed};

/// The model's salt as a field element (private mode).
pub fn salt(model: &Model) -> Result<Fr, CircuitError> {
    let hex_salt = model
        .salt
        .as_deref()
        .ok_or_else(|| CircuitError::Salt("a private-weights model needs a salt".into()))?;
    let bytes = hex::decode(hex_salt).map_err(|e| CircuitError::Salt(e.to_string()))?;
    let arr: [u8; 31] = bytes
        .try_into()
        .map_err(|_| CircuitError::Salt("expected 31 bytes".into()))?;
    Ok(salt_element(&arr))
}

/// Public input 0 for this model: the model id in the field when the circuit pins it (fixed
/// weights; committed weights, whose commitment `D_reg` lies outside the public inputs), the
/// Poseidon commitment to the weights otherwise.
pub fn model_commitment(model: &Model, id: &ModelId) -> Result<Fr, CircuitError> {
    match model.weight_mode {
        WeightMode::Fixed | WeightMode::Committed => Ok(fixed_model_commitment(&id.0)),
        WeightMode::Private => {
            let groups = model
                .parameters()
                .map(|(node, p)| Ok((p.values, width(&node.name, p.what, p.bits)?)))
                .collect::<Result<Vec<(&[i64], Width)>, CircuitError>>()?;
            weight_commitment(salt(model)?, &groups).map_err(|err| CircuitError::OutOfRange {
                what: "a committed weight or bias".into(),
                err,
            })
        }
    }
}

/// The width of a layer's weights or biases, as packing takes it.
pub fn width(layer: &str, what: &str, bits: u32) -> Result<Width, CircuitError> {
    Width::new(bits).map_err(|err| CircuitError::Width {
        what: format!("layer `{layer}` {what}s"),
        err,
    })
}

/// One parameter group of an op as witnesses — the same variables the op's gadget computes
/// with and the commitment binds.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The values, in order.
    pub values: Vec<Lin>,
    /// Their width.
    pub width: Width,
}

/// Allocates one parameter group, each value range-checked at the width the Poseidon
/// commitment packs it at (private mode).
pub fn alloc_parameter(cs: &Cs, p: &Parameter<'_>) -> Result<Committed, SynthesisError> {
    Ok(Committed {
        width: Width::new(p.bits).map_err(|_| SynthesisError::Unsatisfiable)?,
        values: p
            .values
            .iter()
            .map(|&v| signed(cs, v, p.bits).map(|r: Ranged| r.value))
            .collect::<Result<_, _>>()?,
    })
}

/// Allocates one parameter group as committed wires (committed mode): each value a single
/// witness variable, never a combination of bits, so that its commitment base is its own and
/// binds it; no range check (the owner proves the range once, at registration).
pub fn alloc_committed(cs: &Cs, p: &Parameter<'_>) -> Result<Committed, SynthesisError> {
    Ok(Committed {
        width: Width::new(p.bits).map_err(|_| SynthesisError::Unsatisfiable)?,
        values: p
            .values
            .iter()
            .map(|&v| witness(cs, Fr::from(v)))
            .collect::<Result<_, _>>()?,
    })
}

/// The number of committed wires of a model's circuit: every weight and bias in committed
/// mode (the first witness variables, in [`Model::parameters`] order), none otherwise.
pub fn committed_wires(model: &Model) -> usize {
    match model.weight_mode {
        WeightMode::Committed => model.parameter_count(),
        WeightMode::Fixed | WeightMode::Private => 0,
    }
}

/// The private-weights commitment over every allocated parameter group, in the model's order.
pub fn commit_private(cs: &Cs, salt: &Lin, groups: &[Committed]) -> Result<Lin, SynthesisError> {
    let mut elements = vec![
        Lin::constant(Fr::from(DOMAIN_WEIGHTS)),
        salt.clone(),
        Lin::constant(Fr::from(groups.len() as u64)),
    ];
    for g in groups {
        elements.extend(
            header(DOMAIN_WEIGHTS, g.values.len(), g.width)
                .into_iter()
                .map(Lin::constant),
        );
        let refs: Vec<&Lin> = g.values.iter().collect();
        elements.extend(pack(&refs, g.width));
    }
    poseidon(cs, &elements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkw_model::ops::Dense;
    use zkw_model::{Op, TensorInfo};

    fn private(salt: Option<String>) -> Model {
        Model::chain(
            "m",
            WeightMode::Private,
            TensorInfo {
                shape: vec![2],
                frac_bits: 0,
                bits: 8,
            },
            vec![Op::Dense(Dense {
                name: "fc".into(),
                in_features: 2,
                out_features: 1,
                weights: vec![3, -4],
                weight_bits: 8,
                weight_frac_bits: 0,
                bias: vec![9],
                bias_bits: 12,
            })],
            salt,
        )
    }

    #[test]
    fn a_private_commitment_is_poseidon_over_the_salt_and_the_weights() {
        let model = private(Some("0102".repeat(15) + "03"));
        let id = zkw_model::model_id(&model);
        let mut salt_bytes = [0u8; 31];
        for (i, b) in salt_bytes.iter_mut().enumerate() {
            *b = [1, 2][i % 2];
        }
        salt_bytes[30] = 3;
        let w = |b| Width::new(b).unwrap();
        let want = weight_commitment(
            salt_element(&salt_bytes),
            &[(&[3, -4], w(8)), (&[9], w(12))],
        )
        .unwrap();
        assert_eq!(model_commitment(&model, &id).unwrap(), want);
        assert_eq!(salt(&model).unwrap(), salt_element(&salt_bytes));
        // Fixed weights: the model id itself.
        let mut fixed = private(None);
        fixed.weight_mode = WeightMode::Fixed;
        let id = zkw_model::model_id(&fixed);
        assert_eq!(
            model_commitment(&fixed, &id).unwrap(),
            fixed_model_commitment(&id.0)
        );
    }

    #[test]
    fn malformed_salts_are_named() {
        for (salt, want) in [
            (None, "needs a salt"),
            (Some("zz".into()), "Invalid character"),
            (Some("ab".into()), "expected 31 bytes"),
        ] {
            let err = salt_of(&private(salt)).to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    fn salt_of(m: &Model) -> CircuitError {
        salt(m).unwrap_err()
    }
}
