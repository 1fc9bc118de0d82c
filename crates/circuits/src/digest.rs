//! Poseidon digests inside the circuit — the gadget twin of `zkw_verifier::digest`.
//!
//! Values are packed exactly as the native side packs them (offset-binary, `248 / bits` per
//! element) and absorbed by arkworks' Poseidon sponge gadget with the same parameters. Packing
//! is injective only on in-range values: every caller passes values that are range-checked in
//! the circuit at the width they are packed at (the input's and the weights' bit
//! decompositions), or that are fixed by such values and bounded by the static analysis (the
//! output).

use ark_crypto_primitives::sponge::constraints::CryptographicSpongeVar;
use ark_crypto_primitives::sponge::poseidon::constraints::PoseidonSpongeVar;
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_relations::gr1cs::{SynthesisError, Variable};
use zkw_verifier::digest::{DOMAIN_INPUT, header, poseidon_config};
use zkw_verifier::width::Width;

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

/// Packs signed values of `width` as the native `pack` does (the caller range-checks them).
pub fn pack(values: &[&Lin], width: Width) -> Vec<Lin> {
    let offset = fr(1i64 << (width.bits() - 1));
    let step = Fr::from(1u64 << width.bits());
    values
        .chunks(width.per_element())
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
pub fn header_lins(domain: u64, count: usize, width: Width) -> Vec<Lin> {
    header(domain, count, width)
        .into_iter()
        .map(Lin::constant)
        .collect()
}

/// Digest of a tensor, as `zkw_verifier::digest::tensor_digest`.
pub fn tensor_digest(
    cs: &Cs,
    domain: u64,
    values: &[&Lin],
    width: Width,
) -> Result<Lin, SynthesisError> {
    let mut elements = header_lins(domain, values.len(), width);
    elements.extend(pack(values, width));
    poseidon(cs, &elements)
}

/// The salted input digest, as `zkw_verifier::digest::input_digest`: the salt is a witness
/// (the client's secret), absorbed after the header and before the packed input.
pub fn input_digest(
    cs: &Cs,
    values: &[&Lin],
    width: Width,
    salt: &Lin,
) -> Result<Lin, SynthesisError> {
    let mut elements = header_lins(DOMAIN_INPUT, values.len(), width);
    elements.push(salt.clone());
    elements.extend(pack(values, width));
    poseidon(cs, &elements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::witness;
    use ark_relations::gr1cs::ConstraintSystem;
    use zkw_verifier::InputSalt;
    use zkw_verifier::digest::{DOMAIN_OUTPUT, input_digest as native_input_digest};

    fn lins(cs: &Cs, values: &[i64]) -> Vec<Lin> {
        values
            .iter()
            .map(|&v| witness(cs, fr(v)).unwrap())
            .collect()
    }

    #[test]
    fn gadget_digests_equal_native_digests() {
        let values: Vec<i64> = (0..70).map(|i| (i * 37 % 256) - 128).collect();
        let w = Width::new(8).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let lins = lins(&cs, &values);
        let refs: Vec<&Lin> = lins.iter().collect();
        let d = tensor_digest(&cs, DOMAIN_OUTPUT, &refs, w).unwrap();
        assert_eq!(
            d.value,
            zkw_verifier::digest::tensor_digest(DOMAIN_OUTPUT, &values, w).unwrap()
        );
        let salt = InputSalt::from_bytes([7; 31]);
        let s = witness(&cs, salt.element()).unwrap();
        let d = input_digest(&cs, &refs, w, &s).unwrap();
        assert_eq!(d.value, native_input_digest(&values, w, &salt).unwrap());
        assert!(cs.is_satisfied().unwrap());
    }

    #[test]
    fn constants_stay_constants() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let c = Lin::constant(Fr::from(5u64));
        let v = to_fpvar(&cs, &c).unwrap();
        assert!(matches!(v, FpVar::Constant(x) if x == Fr::from(5u64)));
        let back = from_fpvar(v);
        assert_eq!(back.value, Fr::from(5u64));
        assert!(back.terms.iter().all(|(_, v)| *v == Variable::one()));
        // A witness becomes a variable carrying its value.
        let x = witness(&cs, Fr::from(9u64)).unwrap();
        let v = to_fpvar(&cs, &x).unwrap();
        assert!(matches!(v, FpVar::Var(_)));
        assert_eq!(from_fpvar(v).value, Fr::from(9u64));
    }

    #[test]
    fn packing_places_values_offset_binary_little_endian() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let values = [-128i64, 127, 0, 5];
        let vals = lins(&cs, &values);
        let refs: Vec<&Lin> = vals.iter().collect();
        for bits in [8u32, 16, 32] {
            let w = Width::new(bits).unwrap();
            let packed = pack(&refs, w);
            let native = zkw_verifier::digest::pack(&values, w).unwrap();
            assert_eq!(packed.len(), native.len());
            for (p, n) in packed.iter().zip(&native) {
                assert_eq!(p.value, *n, "{bits} bits");
            }
        }
        // 62 int8 values fill two elements, the 63rd a third.
        let many = lins(&cs, &[1; 63]);
        let refs: Vec<&Lin> = many.iter().collect();
        assert_eq!(pack(&refs[..62], Width::new(8).unwrap()).len(), 2);
        assert_eq!(pack(&refs, Width::new(8).unwrap()).len(), 3);
    }
}
