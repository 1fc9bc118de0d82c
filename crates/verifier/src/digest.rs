//! Packing quantized integers into field elements, and the Poseidon digests over them.
//!
//! A signed `bits`-bit value `v` is packed as the offset-binary `v + 2^(bits-1)`, and
//! `248 / bits` of them share one field element (31 bytes for int8), so a digest over an input
//! of `n` int8 values absorbs `n / 31` elements instead of `n`. Packing is injective only on
//! values inside their width — a value one step too large carries into its neighbour — so
//! [`pack`] checks every value first and refuses one that does not fit ([`OutOfRange`]); the
//! circuit range-checks the same values by bit decomposition. Every digest absorbs a domain
//! tag, the count and the width first, so digests of different kinds or shapes never collide.
//!
//! The input digest also absorbs a 31-byte salt chosen by the client ([`InputSalt`]): without
//! one, anyone holding a receipt could test guessed inputs against its digest and link jobs
//! that used the same input. [`InputSalt::UNSALTED`] (all zero) is that deterministic digest,
//! for a caller who chooses it explicitly.
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
use crate::width::{OutOfRange, Width};

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

/// Packs signed values of `width` into field elements, `width.per_element()` to an element,
/// after checking that every value fits its width (the error names the first that does not).
pub fn pack(values: &[i64], width: Width) -> Result<Vec<Fr>, OutOfRange> {
    width.check(values)?;
    let offset = 1i64 << (width.bits() - 1);
    let step = Fr::from(1u64 << width.bits());
    Ok(values
        .chunks(width.per_element())
        .map(|chunk| {
            let mut acc = Fr::from(0u64);
            let mut scale = Fr::from(1u64);
            for &v in chunk {
                // In range, so `v + offset` lies in [0, 2^bits) and cannot overflow.
                acc += scale * Fr::from((v + offset) as u64);
                scale *= step;
            }
            acc
        })
        .collect())
}

/// Poseidon sponge over `elements`; one squeezed element.
pub fn poseidon(elements: &[Fr]) -> Fr {
    let mut sponge = PoseidonSponge::new(poseidon_config());
    sponge.absorb(&elements.to_vec());
    sponge.squeeze_native_field_elements(1)[0]
}

/// The header absorbed before packed values: tag, count, width.
pub fn header(domain: u64, count: usize, width: Width) -> [Fr; 3] {
    [
        Fr::from(domain),
        Fr::from(count as u64),
        Fr::from(width.bits() as u64),
    ]
}

/// Digest of a quantized tensor (the output digest with [`DOMAIN_OUTPUT`]).
pub fn tensor_digest(domain: u64, values: &[i64], width: Width) -> Result<Fr, OutOfRange> {
    let mut elements = header(domain, values.len(), width).to_vec();
    elements.extend(pack(values, width)?);
    Ok(poseidon(&elements))
}

/// The client's secret that blinds its input digest: 31 bytes, so it is one field element.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InputSalt([u8; 31]);

impl InputSalt {
    /// No salt: the input digest is a deterministic function of the input, which anyone may
    /// recompute from a guessed input. Only for a caller who chooses it explicitly.
    pub const UNSALTED: InputSalt = InputSalt([0; 31]);

    /// A salt from its bytes.
    pub const fn from_bytes(bytes: [u8; 31]) -> Self {
        InputSalt(bytes)
    }

    /// The salt's bytes.
    pub fn to_bytes(&self) -> [u8; 31] {
        self.0
    }

    /// Parses 62 hex digits.
    pub fn from_hex(s: &str) -> Result<Self, String> {
        let bytes = hex::decode(s).map_err(|e| format!("the input salt is not hex: {e}"))?;
        let bytes: [u8; 31] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "the input salt has {} bytes, expected 31 (62 hex digits)",
                b.len()
            )
        })?;
        Ok(InputSalt(bytes))
    }

    /// 62 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Whether this is [`InputSalt::UNSALTED`].
    pub fn is_unsalted(&self) -> bool {
        *self == InputSalt::UNSALTED
    }

    /// The salt as the field element the digest absorbs (31 bytes are below the modulus, so
    /// distinct salts give distinct elements).
    pub fn element(&self) -> Fr {
        Fr::from_le_bytes_mod_order(&self.0)
    }
}

impl std::fmt::Debug for InputSalt {
    // The salt is the client's secret: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_unsalted() {
            f.write_str("InputSalt(unsalted)")
        } else {
            f.write_str("InputSalt(..)")
        }
    }
}

/// The input digest a client recomputes from its quantized input and its salt: the header,
/// the salt, then the packed values.
pub fn input_digest(values: &[i64], width: Width, salt: &InputSalt) -> Result<Fr, OutOfRange> {
    let mut elements = header(DOMAIN_INPUT, values.len(), width).to_vec();
    elements.push(salt.element());
    elements.extend(pack(values, width)?);
    Ok(poseidon(&elements))
}

/// Commitment to a model's private weights: the salt, then each group of values (a layer's
/// weights, then its biases) packed at its own width.
pub fn weight_commitment(salt: Fr, groups: &[(&[i64], Width)]) -> Result<Fr, OutOfRange> {
    let mut elements = vec![
        Fr::from(DOMAIN_WEIGHTS),
        salt,
        Fr::from(groups.len() as u64),
    ];
    for (values, width) in groups {
        elements.extend(header(DOMAIN_WEIGHTS, values.len(), *width));
        elements.extend(pack(values, *width)?);
    }
    Ok(poseidon(&elements))
}

/// The weight commitment's salt as a field element, from its 31 bytes.
pub fn salt_element(salt: &[u8; 31]) -> Fr {
    Fr::from_le_bytes_mod_order(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(bits: u32) -> Width {
        Width::new(bits).unwrap()
    }

    #[test]
    fn packing_is_offset_binary_little_endian() {
        let p = pack(&[-128, 127, 0], w(8)).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0], Fr::from(255u64 * 256 + 128 * 65536));
        assert_eq!(pack(&[0; 31], w(8)).unwrap().len(), 1);
        assert_eq!(pack(&[0; 62], w(8)).unwrap().len(), 2);
        assert_eq!(pack(&[0; 63], w(8)).unwrap().len(), 3);
        assert_eq!(pack(&[-1, 0, -1], w(1)).unwrap(), vec![Fr::from(0b010u64)]);
        let wide = pack(&[i32::MIN as i64, i32::MAX as i64], w(32)).unwrap();
        assert_eq!(wide, vec![Fr::from((u32::MAX as u64) << 32)]);
    }

    #[test]
    fn packing_refuses_a_carry_between_neighbours() {
        // The forgery of issue 6: y[0] + 2^8 and y[1] - 1 pack to the same element as y.
        let y = [5i64, 9, -3];
        let forged = [5i64 + 256, 8, -3];
        let e = pack(&forged, w(8)).unwrap_err();
        assert_eq!((e.index, e.value, e.bits), (0, 261, 8));
        let d = tensor_digest(DOMAIN_OUTPUT, &forged, w(8)).unwrap_err();
        assert_eq!(d.index, 0);
        assert!(pack(&y, w(8)).is_ok());
        // Values near the ends of i64 are refused, not overflowed.
        for v in [i64::MAX, i64::MIN, i64::MAX - 127] {
            assert_eq!(pack(&[0, v], w(8)).unwrap_err().index, 1);
        }
        let weights: [i64; 2] = [0, 8];
        let e = weight_commitment(Fr::from(1u64), &[(&weights, w(4))]).unwrap_err();
        assert_eq!((e.index, e.value, e.bits), (1, 8, 4));
        let e = input_digest(&[-9], w(4), &InputSalt::UNSALTED).unwrap_err();
        assert_eq!((e.index, e.value), (0, -9));
    }

    #[test]
    fn digests_separate_domains_shapes_values_and_salts() {
        let u = InputSalt::UNSALTED;
        let a = input_digest(&[1, 2, 3], w(8), &u).unwrap();
        assert_ne!(a, input_digest(&[1, 2, 4], w(8), &u).unwrap());
        assert_ne!(a, input_digest(&[1, 2, 3, 0], w(8), &u).unwrap());
        assert_ne!(a, input_digest(&[1, 2, 3], w(9), &u).unwrap());
        assert_ne!(a, tensor_digest(DOMAIN_OUTPUT, &[1, 2, 3], w(8)).unwrap());
        assert_eq!(a, input_digest(&[1, 2, 3], w(8), &u).unwrap());
        let s1 = InputSalt::from_bytes([1; 31]);
        let s2 = InputSalt::from_bytes([2; 31]);
        let b = input_digest(&[1, 2, 3], w(8), &s1).unwrap();
        assert_ne!(a, b);
        assert_ne!(b, input_digest(&[1, 2, 3], w(8), &s2).unwrap());
        let c = weight_commitment(Fr::from(1u64), &[(&[1, 2], w(8))]).unwrap();
        assert_ne!(
            c,
            weight_commitment(Fr::from(2u64), &[(&[1, 2], w(8))]).unwrap()
        );
        assert_ne!(
            c,
            weight_commitment(Fr::from(1u64), &[(&[1, 3], w(8))]).unwrap()
        );
    }

    #[test]
    fn headers_are_tag_count_width() {
        assert_eq!(
            header(DOMAIN_INPUT, 3, w(8)),
            [Fr::from(DOMAIN_INPUT), Fr::from(3u64), Fr::from(8u64)]
        );
    }

    /// Known answers: the statement encoding is a wire format (receipts made by one build are
    /// verified by another), so any change to it must be deliberate and versioned.
    #[test]
    fn digests_match_their_known_answers() {
        let hex = |f: Fr| crate::field::fr_to_hex(&f);
        let salt = InputSalt::from_bytes([1; 31]);
        assert_eq!(
            hex(input_digest(&[1, -2, 3], w(8), &salt).unwrap()),
            "dd0c44f591c578b287d2c07cf560efdce8533c829f77c2cee4dcb0c9e1832522"
        );
        assert_eq!(
            hex(tensor_digest(DOMAIN_OUTPUT, &[1, -2, 3], w(8)).unwrap()),
            "e12ce0094bb432f9409afaad15a1999ee55d8920d39fc5ae937f6316a0f4db11"
        );
        assert_eq!(
            hex(
                weight_commitment(salt_element(&[2; 31]), &[(&[1, -2], w(8)), (&[5], w(12))])
                    .unwrap()
            ),
            "bf960b1c9da0bd7568fedf3b22212f911311cbbb4c896ebf46011b2cf4f32417"
        );
    }

    #[test]
    fn salt_elements_are_the_salt_bytes_little_endian() {
        let mut bytes = [0u8; 31];
        bytes[0] = 5;
        bytes[1] = 1;
        assert_eq!(salt_element(&bytes), Fr::from(261u64));
        assert_eq!(InputSalt::from_bytes(bytes).element(), Fr::from(261u64));
        assert_ne!(salt_element(&[1; 31]), salt_element(&[2; 31]));
    }

    #[test]
    fn input_salts_parse_from_62_hex_digits_and_never_print() {
        let s = InputSalt::from_hex(&"ab".repeat(31)).unwrap();
        assert_eq!(s.to_hex(), "ab".repeat(31));
        assert_eq!(s.to_bytes(), [0xab; 31]);
        assert!(!s.is_unsalted());
        assert!(InputSalt::UNSALTED.is_unsalted());
        assert_eq!(s.element(), Fr::from_le_bytes_mod_order(&[0xab; 31]));
        assert_eq!(format!("{s:?}"), "InputSalt(..)");
        assert_eq!(format!("{:?}", InputSalt::UNSALTED), "InputSalt(unsalted)");
        let e = InputSalt::from_hex("abcd").unwrap_err();
        assert!(e.contains("has 2 bytes, expected 31"), "{e}");
        let e = InputSalt::from_hex(&"zz".repeat(31)).unwrap_err();
        assert!(e.contains("not hex"), "{e}");
    }
}
