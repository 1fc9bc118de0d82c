//! A verified receipt in snarkjs's files: `proof.json`, `public.json`,
//! `verification_key.json` — so that `snarkjs groth16 verify` (and every tool that reads these
//! files) checks our proofs without any code of ours.
//!
//! snarkjs's Groth16 on `bn128` is the same curve and the same verification equation
//! (`e(A, B) = e(α, β) · e(Σ IC_i · x_i, γ) · e(C, δ)`, `IC_0` with the constant 1). Its files
//! write every coordinate as a decimal string, points in projective form with `z = 1`
//! (`[x, y, "1"]`; a G2 coordinate as `[c0, c1]`), and the point at infinity as `["0", "1",
//! "0"]`. The public inputs are exactly [`crate::statement::Statement::public_inputs`].
//!
//! Only a receipt that verifies is exported: the files say "this proof is valid for these
//! inputs under this key", and nothing else should be handed to another verifier as such.

use ark_bn254::{Fq2, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use serde_json::{Value, json};

use crate::error::VerificationError;
use crate::key::VerifierKey;
use crate::receipt::Receipt;
use crate::verify::{Expected, Verified};

/// snarkjs's three files of one proof.
#[derive(Debug, Clone, PartialEq)]
pub struct SnarkjsFiles {
    /// `proof.json`.
    pub proof: Value,
    /// `public.json`: the public inputs, decimal strings.
    pub public: Value,
    /// `verification_key.json`.
    pub verification_key: Value,
    /// What verification reported.
    pub verified: Verified,
}

fn g1(p: &G1Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([x.to_string(), y.to_string(), "1"]),
        None => json!(["0", "1", "0"]),
    }
}

fn fq2(c: &Fq2) -> Value {
    json!([c.c0.to_string(), c.c1.to_string()])
}

fn g2(p: &G2Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([fq2(&x), fq2(&y), ["1", "0"]]),
        None => json!([["0", "0"], ["1", "0"], ["0", "0"]]),
    }
}

/// `verification_key.json` of a key; `weights`, a committed-weights model's `D_reg`, is
/// folded into `IC[0]` (the constant wire's point, which every proof adds once), so snarkjs
/// checks the committed model's proofs as plain Groth16.
pub fn verification_key(key: &VerifierKey, weights: Option<G1Affine>) -> Value {
    let vk = key.vk();
    let mut ic = vk.gamma_abc_g1.clone();
    if let (Some(d), Some(ic_0)) = (weights, ic.first_mut()) {
        *ic_0 = (*ic_0 + d).into_affine();
    }
    json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.gamma_abc_g1.len().saturating_sub(1),
        "vk_alpha_1": g1(&vk.alpha_g1),
        "vk_beta_2": g2(&vk.beta_g2),
        "vk_gamma_2": g2(&vk.gamma_g2),
        "vk_delta_2": g2(&vk.delta_g2),
        "IC": ic.iter().map(g1).collect::<Vec<_>>(),
    })
}

/// Verifies `receipt` as [`crate::verify()`] does, and writes it in snarkjs's files.
pub fn export(
    receipt: &Receipt,
    key: &VerifierKey,
    expected: &Expected<'_>,
) -> Result<SnarkjsFiles, VerificationError> {
    let prepared = crate::verify::prepare(receipt, key, expected)?;
    crate::pairing::exact(key, &prepared.proof, &prepared.inputs, prepared.weights)?;
    let proof = &prepared.proof;
    Ok(SnarkjsFiles {
        proof: json!({
            "pi_a": g1(&proof.a),
            "pi_b": g2(&proof.b),
            "pi_c": g1(&proof.c),
            "protocol": "groth16",
            "curve": "bn128",
        }),
        public: json!(
            prepared
                .inputs
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
        ),
        verification_key: verification_key(key, prepared.weights),
        verified: prepared.verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fq, G2Affine};
    use ark_ec::AffineRepr;

    #[test]
    fn points_are_decimal_projective_with_z_one_and_c0_first() {
        // The generators of BN254, as snarkjs writes them (its `bn128` curve's G1 and G2).
        assert_eq!(g1(&G1Affine::generator()), json!(["1", "2", "1"]));
        assert_eq!(g1(&G1Affine::zero()), json!(["0", "1", "0"]));
        let g = g2(&G2Affine::generator());
        assert_eq!(
            g[0][0],
            "10857046999023057135944570762232829481370756359578518086990519993285655852781"
        );
        assert_eq!(
            g[0][1],
            "11559732032986387107991004021392285783925812861821192530917403151452391805634"
        );
        assert_eq!(g[2], json!(["1", "0"]));
        assert_eq!(
            g2(&G2Affine::zero()),
            json!([["0", "0"], ["1", "0"], ["0", "0"]])
        );
        assert_eq!(Fq::from(7u64).to_string(), "7");
    }

    #[test]
    fn a_verification_key_has_snarkjs_fields_and_one_ic_point_per_input_and_one() {
        let (g1g, g2g) = (G1Affine::generator(), G2Affine::generator());
        let key = VerifierKey::new(ark_groth16::VerifyingKey {
            alpha_g1: g1g,
            beta_g2: g2g,
            gamma_g2: g2g,
            delta_g2: G2Affine::zero(),
            gamma_abc_g1: vec![g1g, G1Affine::zero(), g1g],
        });
        let v = verification_key(&key, None);
        assert_eq!(v["protocol"], "groth16");
        assert_eq!(v["curve"], "bn128");
        assert_eq!(v["nPublic"], 2);
        assert_eq!(v["vk_alpha_1"], json!(["1", "2", "1"]));
        assert_eq!(v["vk_beta_2"], g2(&g2g));
        assert_eq!(v["vk_gamma_2"], g2(&g2g));
        assert_eq!(v["vk_delta_2"], json!([["0", "0"], ["1", "0"], ["0", "0"]]));
        assert_eq!(
            v["IC"],
            json!([["1", "2", "1"], ["0", "1", "0"], ["1", "2", "1"]])
        );
    }
}
