//! Packing quantized integers into field elements, and the Poseidon digests over them.
//!
//! A signed `bits`-bit value `v` is packed as the offset-binary `v + 2^(bits-1)`, and
//! `248 / bits` of them share one field element (31 bytes for int8), so a digest over an input
//! of `n` int8 values absorbs `n / 31` elements instead of `n`. The circuit range-checks every
//! packed value, which makes the packing injective. Every digest absorbs a domain tag, the count
//! and the width first, so digests of different kinds or shapes never collide.
//!
//! Poseidon: BN254 scalar field, x^5 S-box, width 9 (rate 8, capacity 1), 8 full and 63 partial
//! rounds (the standard 128-bit parameters for this width), round constants and MDS from the
//! reference Grain LFSR. The circuit's gadget uses the same [`poseidon_config`].

use std::sync::OnceLock;

use ark_crypto_primitives::sponge::poseidon::{
    PoseidonConfig, PoseidonSponge, find_poseidon_ark_and_mds,
};
use ark_crypto_primitives::sponge::{CryptographicSponge, FieldBasedCryptographicSponge};
use ark_ff::PrimeField;

use crate::Fr;

/// Values per field element when packing `bits`-bit integers.
pub fn per_element(bits: u32) -> usize {
    (248 / bits) as usize
}

/// Domain tag of input digests.
pub const DOMAIN_INPUT: u64 = 0x7a6b_7701;
/// Domain tag of weight commitments.
pub const DOMAIN_WEIGHTS: u64 = 0x7a6b_7702;
/// Domain tag of output digests.
pub const DOMAIN_OUTPUT: u64 = 0x7a6b_7703;

/// The Poseidon parameters of every digest.
pub fn poseidon_config() -> &'static PoseidonConfig<Fr> {
    static CONFIG: OnceLock<PoseidonConfig<Fr>> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let (rate, full, partial) = (8usize, 8u64, 63u64);
        let (ark, mds) =
            find_poseidon_ark_and_mds::<Fr>(Fr::MODULUS_BIT_SIZE as u64, rate, full, partial, 0);
        PoseidonConfig::new(full as usize, partial as usize, 5, mds, ark, rate, 1)
    })
}

/// Packs signed `bits`-bit values (callers guarantee the range) into field elements.
pub fn pack(values: &[i64], bits: u32) -> Vec<Fr> {
    let offset = 1i64 << (bits - 1);
    values
        .chunks(per_element(bits))
        .map(|chunk| {
            let mut acc = Fr::from(0u64);
            let mut scale = Fr::from(1u64);
            let step = Fr::from(1u64 << bits);
            for &v in chunk {
                acc += scale * Fr::from((v + offset) as u64);
                scale *= step;
            }
            acc
        })
        .collect()
}

/// Poseidon sponge over `elements`; one squeezed element.
pub fn poseidon(elements: &[Fr]) -> Fr {
    let mut sponge = PoseidonSponge::new(poseidon_config());
    sponge.absorb(&elements.to_vec());
    sponge.squeeze_native_field_elements(1)[0]
}

/// The header absorbed before packed values: tag, count, width.
pub fn header(domain: u64, count: usize, bits: u32) -> [Fr; 3] {
    [
        Fr::from(domain),
        Fr::from(count as u64),
        Fr::from(bits as u64),
    ]
}

/// Digest of a quantized tensor (the input digest with [`DOMAIN_INPUT`]).
pub fn tensor_digest(domain: u64, values: &[i64], bits: u32) -> Fr {
    let mut elements = header(domain, values.len(), bits).to_vec();
    elements.extend(pack(values, bits));
    poseidon(&elements)
}

/// The input digest a client recomputes from its quantized input.
pub fn input_digest(values: &[i64], bits: u32) -> Fr {
    tensor_digest(DOMAIN_INPUT, values, bits)
}

/// Commitment to a model's private weights: the salt, then each group of values (a layer's
/// weights, then its biases) packed at its own width.
pub fn weight_commitment(salt: Fr, groups: &[(&[i64], u32)]) -> Fr {
    let mut elements = vec![
        Fr::from(DOMAIN_WEIGHTS),
        salt,
        Fr::from(groups.len() as u64),
    ];
    for (values, bits) in groups {
        elements.extend(header(DOMAIN_WEIGHTS, values.len(), *bits));
        elements.extend(pack(values, *bits));
    }
    poseidon(&elements)
}

/// The salt's field element, from its 31 bytes.
pub fn salt_element(salt: &[u8; 31]) -> Fr {
    Fr::from_le_bytes_mod_order(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_offset_binary_little_endian() {
        let p = pack(&[-128, 127, 0], 8);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0], Fr::from(255u64 * 256 + 128 * 65536));
        assert_eq!(pack(&vec![0; 62], 8).len(), 2);
        assert_eq!(pack(&vec![0; 63], 8).len(), 3);
    }

    #[test]
    fn digests_separate_domains_shapes_and_values() {
        let a = input_digest(&[1, 2, 3], 8);
        assert_ne!(a, input_digest(&[1, 2, 4], 8));
        assert_ne!(a, input_digest(&[1, 2, 3, 0], 8));
        assert_ne!(a, tensor_digest(DOMAIN_OUTPUT, &[1, 2, 3], 8));
        assert_eq!(a, input_digest(&[1, 2, 3], 8));
    }
}
