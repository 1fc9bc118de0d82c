//! The Solidity source of one model's verifier and settlement contract.
//!
//! Why one contract per model, with everything as constants: a verifier that took its key
//! from storage or from the caller would need its own access control to stay honest, and
//! every check would pay for storage reads. Rendering the key, the model's commitment and the
//! settlement terms into the bytecode makes the contract's address the registration: whoever
//! trusts that address trusts exactly this model's key and terms, and nobody can change them.
//!
//! The contract itself lives in `Settlement.sol.tmpl` beside this file, written as Solidity
//! with `{{NAME}}` holes; this module only formats the constants that fill them. Two of them
//! are computed here rather than on chain: the model commitment is always public input 0, so
//! `IC[0] + commitment·IC[1]` is one constant point (saving an ecMul and an ecAdd per proof),
//! and the job binding's domain tag is taken from [`zkw_verifier::statement`] so the contract
//! and the Rust side hash the same bytes.

use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::VerifyingKey;
use zkw_verifier::RegisteredModel;
use zkw_verifier::ownership::OWNERSHIP_JOB_PREFIX;
use zkw_verifier::registration::BPS;
use zkw_verifier::request::REQUEST_DOMAIN;
use zkw_verifier::statement::JOB_BINDING_DOMAIN;

use crate::error::EvmError;

/// The name of the contract [`solidity()`] renders.
pub const CONTRACT_NAME: &str = "ZkwSettlement";

const TEMPLATE: &str = include_str!("Settlement.sol.tmpl");

/// One registered model as its settlement contract sees it.
#[derive(Debug, Clone, Copy)]
pub struct EvmModel<'a> {
    /// blake3 of the canonical model file (the record's `model_id`).
    pub model_id: [u8; 32],
    /// Public input 0: the record's commitment (fixed weights: the model id in the field).
    pub commitment: Fr,
    /// The model's verifying key.
    pub vk: &'a VerifyingKey<Bn254>,
    /// A committed-weights model's commitment `D_reg` (the record's), a constant of the
    /// contract added into the constant wire's point: the contract then checks the committed
    /// model's proofs as plain Groth16.
    pub weights: Option<G1Affine>,
    /// The owner's ed25519 public key, credited the owner's share.
    pub owner: [u8; 32],
    /// What one settled job credits, worker and owner together.
    pub fee: u128,
    /// The worker's share of the fee in basis points, `0..=10000`.
    pub worker_share_bps: u16,
}

impl<'a> EvmModel<'a> {
    /// The contract terms of a checked registration: its model id, commitment, key, owner
    /// and reward (the penalty has no part on chain: nothing here holds a worker's stake).
    pub fn from_registered(m: &'a RegisteredModel) -> Result<Self, EvmError> {
        let r = &m.registration;
        let bytes32 = |what: &str, hex: &str| -> Result<[u8; 32], EvmError> {
            hex::decode(hex)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| EvmError::Model(format!("{what} is not 32 bytes of hex")))
        };
        Ok(EvmModel {
            model_id: bytes32("the model id", &r.record.model_id)?,
            commitment: r.record.commitment()?,
            vk: m.key.vk(),
            weights: r.record.weights()?,
            owner: bytes32("the owner's key", &r.owner)?,
            fee: r.reward.fee.into(),
            worker_share_bps: r.reward.worker_share_bps,
        })
    }

    /// Number of output elements the key's statement has: its public inputs less the
    /// commitment, the input digest and the job binding.
    pub fn outputs(&self) -> Result<usize, EvmError> {
        // gamma_abc_g1 has one point for the constant 1 and one per public input.
        match self.vk.gamma_abc_g1.len().checked_sub(4) {
            Some(n) if n >= 1 => Ok(n),
            _ => Err(EvmError::Model(format!(
                "the verifying key has {} public inputs; a statement has at least 4 \
                 (commitment, input digest, an output, job binding)",
                self.vk.gamma_abc_g1.len().saturating_sub(1)
            ))),
        }
    }
}

/// Renders the Solidity source of `m`'s contract, [`CONTRACT_NAME`], for solc 0.8.24 or
/// later. Refused: a worker share above 100% and a key with too few public inputs.
pub fn solidity(m: &EvmModel<'_>) -> Result<String, EvmError> {
    if m.worker_share_bps > BPS {
        return Err(EvmError::Model(format!(
            "a worker share of {} basis points is more than the whole fee ({BPS})",
            m.worker_share_bps
        )));
    }
    let outputs = m.outputs()?;
    let vk = m.vk;
    let mut l0 = vk.gamma_abc_g1[0] + vk.gamma_abc_g1[1] * m.commitment;
    if let Some(d) = m.weights {
        l0 += d;
    }
    let l0 = l0.into_affine();
    let (l0_x, l0_y) = g1(&l0);
    let (alpha_x, alpha_y) = g1(&vk.alpha_g1);
    let [beta_x1, beta_x0, beta_y1, beta_y0] = g2(&vk.beta_g2);
    let [gamma_x1, gamma_x0, gamma_y1, gamma_y0] = g2(&vk.gamma_g2);
    let [delta_x1, delta_x0, delta_y1, delta_y0] = g2(&vk.delta_g2);
    // IC[2..] as one inline array literal, its first element typed so all of it is uint256.
    let words: Vec<String> = vk.gamma_abc_g1[2..]
        .iter()
        .flat_map(|p| {
            let (x, y) = g1(p);
            [x, y]
        })
        .collect();
    let mut ic = String::new();
    for (k, w) in words.iter().enumerate() {
        let sep = if k + 1 < words.len() { "," } else { "" };
        match k {
            0 => ic.push_str(&format!("\n            uint256({w}){sep}")),
            _ => ic.push_str(&format!("\n            {w}{sep}")),
        }
    }
    ic.push_str("\n        ");
    let holes: Vec<(&str, String)> = vec![
        ("CONTRACT", CONTRACT_NAME.into()),
        ("MODEL_ID_HEX", hex::encode(m.model_id)),
        ("MODEL_ID", format!("0x{}", hex::encode(m.model_id))),
        ("MODEL_COMMITMENT", fr(&m.commitment)),
        ("OWNER", format!("0x{}", hex::encode(m.owner))),
        ("FEE", m.fee.to_string()),
        ("WORKER_SHARE_BPS", m.worker_share_bps.to_string()),
        ("OUTPUTS", outputs.to_string()),
        ("BINDING_DOMAIN", hex::encode(JOB_BINDING_DOMAIN)),
        ("REQUEST_DOMAIN", hex::encode(REQUEST_DOMAIN)),
        ("OWNERSHIP_PREFIX", OWNERSHIP_JOB_PREFIX.into()),
        ("ALPHA_X", alpha_x),
        ("ALPHA_Y", alpha_y),
        ("BETA_X1", beta_x1),
        ("BETA_X0", beta_x0),
        ("BETA_Y1", beta_y1),
        ("BETA_Y0", beta_y0),
        ("GAMMA_X1", gamma_x1),
        ("GAMMA_X0", gamma_x0),
        ("GAMMA_Y1", gamma_y1),
        ("GAMMA_Y0", gamma_y0),
        ("DELTA_X1", delta_x1),
        ("DELTA_X0", delta_x0),
        ("DELTA_Y1", delta_y1),
        ("DELTA_Y0", delta_y0),
        ("L0_X", l0_x),
        ("L0_Y", l0_y),
        ("IC_WORDS", words.len().to_string()),
        ("IC", ic),
    ];
    let mut out = TEMPLATE.to_owned();
    for (name, value) in &holes {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    debug_assert!(
        !out.contains("{{"),
        "a hole of the template was left unfilled"
    );
    Ok(out)
}

/// `0x` and 64 hex digits: a field element as a Solidity `uint256` literal.
fn word(bytes_be: Vec<u8>) -> String {
    format!("0x{:0>64}", hex::encode(bytes_be))
}

fn fr(f: &Fr) -> String {
    word(f.into_bigint().to_bytes_be())
}

fn fq(f: &Fq) -> String {
    word(f.into_bigint().to_bytes_be())
}

/// A G1 point's coordinates; the point at infinity is (0, 0), as the precompiles read it.
fn g1(p: &G1Affine) -> (String, String) {
    let (x, y) = p.xy().unwrap_or_default();
    (fq(&x), fq(&y))
}

/// A G2 point as the pairing precompile reads it (EIP-197): x.c1, x.c0, y.c1, y.c0.
fn g2(p: &G2Affine) -> [String; 4] {
    let (x, y): (Fq2, Fq2) = p.xy().unwrap_or_default();
    [fq(&x.c1), fq(&x.c0), fq(&y.c1), fq(&y.c0)]
}

#[cfg(test)]
mod tests {
    use ark_bn254::G2Affine;
    use ark_ec::AffineRepr;

    use super::*;

    fn key(public_inputs: usize) -> VerifyingKey<Bn254> {
        let g1 = G1Affine::generator();
        VerifyingKey {
            alpha_g1: g1,
            beta_g2: G2Affine::generator(),
            gamma_g2: G2Affine::generator(),
            delta_g2: G2Affine::generator(),
            gamma_abc_g1: vec![g1; public_inputs + 1],
        }
    }

    fn model(vk: &VerifyingKey<Bn254>) -> EvmModel<'_> {
        EvmModel {
            model_id: [0xab; 32],
            commitment: Fr::from(5u64),
            vk,
            weights: None,
            owner: [0x0e; 32],
            fee: 1001,
            worker_share_bps: 7000,
        }
    }

    #[test]
    fn bakes_the_terms_and_fills_every_hole() {
        let vk = key(5);
        let source = solidity(&model(&vk)).unwrap();
        assert!(!source.contains("{{"), "{source}");
        for line in [
            format!("contract {CONTRACT_NAME} {{"),
            format!("bytes32 public constant MODEL_ID = 0x{};", "ab".repeat(32)),
            format!("uint256 public constant MODEL_COMMITMENT = 0x{:0>64};", "5"),
            format!("bytes32 public constant OWNER = 0x{};", "0e".repeat(32)),
            "uint256 public constant FEE = 1001;".into(),
            "uint256 public constant WORKER_SHARE_BPS = 7000;".into(),
            "uint256 public constant OUTPUTS = 2;".into(),
            format!(
                "bytes internal constant BINDING_DOMAIN = hex\"{}\";",
                hex::encode(JOB_BINDING_DOMAIN)
            ),
            format!(
                "bytes internal constant REQUEST_DOMAIN = hex\"{}\";",
                hex::encode(REQUEST_DOMAIN)
            ),
            // IC[2..]: 4 points, 8 words.
            "uint256[8] memory ic = [".into(),
            // The generator is (1, 2).
            format!("uint256(0x{:0>64}),", "1"),
        ] {
            assert!(source.contains(&line), "no {line:?} in\n{source}");
        }
    }

    #[test]
    fn the_constant_input_is_folded_into_the_first_point() {
        // IC[0] + 5·IC[1] = 6·G.
        let vk = key(5);
        let source = solidity(&model(&vk)).unwrap();
        let six_g = (G1Affine::generator() * Fr::from(6u64)).into_affine();
        let (x, y) = g1(&six_g);
        assert!(source.contains(&format!("L0_X = {x};")));
        assert!(source.contains(&format!("L0_Y = {y};")));
    }

    #[test]
    fn g2_points_are_written_in_eip197_order() {
        let g = G2Affine::generator();
        let (x, y) = g.xy().unwrap();
        assert_eq!(g2(&g), [fq(&x.c1), fq(&x.c0), fq(&y.c1), fq(&y.c0)]);
        // The EIP-197 generator's x.c1, as the EIP lists it.
        assert_eq!(
            g2(&g)[0],
            "0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
        );
        assert_eq!(
            g2(&G2Affine::zero()),
            std::array::from_fn(|_| fq(&Fq::from(0u64)))
        );
    }

    #[test]
    fn refuses_terms_no_contract_could_keep() {
        let vk = key(5);
        let mut m = model(&vk);
        m.worker_share_bps = BPS + 1;
        assert!(matches!(solidity(&m), Err(EvmError::Model(_))));
        m.worker_share_bps = BPS;
        assert!(solidity(&m).is_ok());
        // Commitment, input digest, job binding and no output: not a statement.
        let small = key(3);
        assert!(matches!(solidity(&model(&small)), Err(EvmError::Model(_))));
        assert_eq!(model(&key(4)).outputs().unwrap(), 1);
    }
}
