//! Poseidon digests inside the circuit — the gadget twin of `zkw_verifier::digest`.
//!
//! Values are packed exactly as the native side packs them (offset-binary, `248 / bits` per
//! element) and absorbed by arkworks' Poseidon sponge gadget with the same parameters.

use ark_crypto_primitives::sponge::constraints::CryptographicSpongeVar;
use ark_crypto_primitives::sponge::poseidon::constraints::PoseidonSpongeVar;
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_relations::gr1cs::{SynthesisError, Variable};
use zkw_verifier::digest::{header, per_element, poseidon_config};

use crate::Fr;
use crate::lin::{Cs, Lin, fr};

fn to_fpvar(cs: &Cs, l: &Lin) -> Result<FpVar<Fr>, SynthesisError> {
    if l.terms.iter().all(|(_, v)| *v == Variable::one()) {
        return Ok(FpVar::Constant(l.value));
    }
    let v = cs.new_lc(|| l.to_lc())?;
    Ok(FpVar::Var(AllocatedFp::new(Some(l.value), v, cs.clone())))
}

fn from_fpvar(v: FpVar<Fr>) -> Lin {
    match v {
        FpVar::Constant(c) => Lin::constant(c),
        FpVar::Var(a) => Lin::var(a.variable, a.value().unwrap_or_default()),
    }
}

/// Packs signed `bits`-bit values as the native `pack` does.
pub fn pack(values: &[&Lin], bits: u32) -> Vec<Lin> {
    let offset = fr(1i64 << (bits - 1));
    let step = Fr::from(1u64 << bits);
    values
        .chunks(per_element(bits))
        .map(|chunk| {
            let mut scale = Fr::from(1u64);
            let mut scales = Vec::with_capacity(chunk.len());
            let mut constant = Fr::from(0u64);
            for _ in chunk.iter() {
                scales.push(scale);
                constant += scale * offset;
                scale *= step;
            }
            Lin::weighted_sum(scales.into_iter().zip(chunk.iter().copied())).add_const(constant)
        })
        .collect()
}

/// Poseidon over `elements`, one squeezed element.
pub fn poseidon(cs: &Cs, elements: &[Lin]) -> Result<Lin, SynthesisError> {
    let vars = elements
        .iter()
        .map(|l| to_fpvar(cs, l))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sponge = PoseidonSpongeVar::new(cs.clone(), poseidon_config());
    sponge.absorb(&vars)?;
    let mut out = sponge.squeeze_field_elements(1)?;
    Ok(from_fpvar(out.remove(0)))
}

/// The header constants of a digest.
pub fn header_lins(domain: u64, count: usize, bits: u32) -> Vec<Lin> {
    header(domain, count, bits)
        .into_iter()
        .map(Lin::constant)
        .collect()
}

/// Digest of a tensor, as `zkw_verifier::digest::tensor_digest`.
pub fn tensor_digest(
    cs: &Cs,
    domain: u64,
    values: &[&Lin],
    bits: u32,
) -> Result<Lin, SynthesisError> {
    let mut elements = header_lins(domain, values.len(), bits);
    elements.extend(pack(values, bits));
    poseidon(cs, &elements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::witness;
    use ark_relations::gr1cs::ConstraintSystem;
    use zkw_verifier::digest::{DOMAIN_INPUT, input_digest};

    #[test]
    fn gadget_digest_equals_native_digest() {
        let values: Vec<i64> = (0..70).map(|i| (i * 37 % 256) - 128).collect();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let lins: Vec<Lin> = values
            .iter()
            .map(|&v| witness(&cs, fr(v)).unwrap())
            .collect();
        let refs: Vec<&Lin> = lins.iter().collect();
        let d = tensor_digest(&cs, DOMAIN_INPUT, &refs, 8).unwrap();
        assert_eq!(d.value, input_digest(&values, 8));
        assert!(cs.is_satisfied().unwrap());
    }
}
