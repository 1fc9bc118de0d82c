//! Field-element conversions shared by the statement, receipts and records.

use ark_ff::{BigInteger, PrimeField};

use crate::Fr;

/// A signed integer as a field element (negative values wrap to `p - |v|`).
pub fn fr_from_i64(v: i64) -> Fr {
    if v >= 0 {
        Fr::from(v as u64)
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

/// 32 bytes (e.g. a blake3 digest) reduced into the field.
pub fn fr_from_digest(bytes: &[u8; 32]) -> Fr {
    Fr::from_le_bytes_mod_order(bytes)
}

/// Canonical hex (32 bytes, little-endian) of a field element.
pub fn fr_to_hex(f: &Fr) -> String {
    hex::encode(f.into_bigint().to_bytes_le())
}

/// Parses [`fr_to_hex`]'s output, rejecting non-canonical encodings.
pub fn fr_from_hex(s: &str) -> Result<Fr, String> {
    let bytes = hex::decode(s).map_err(|e| format!("not hex: {e}"))?;
    if bytes.len() != 32 {
        return Err(format!("{} bytes, expected 32", bytes.len()));
    }
    let f = Fr::from_le_bytes_mod_order(&bytes);
    // One element, one spelling: below the modulus, and lower case.
    if fr_to_hex(&f) != s {
        return Err("not a canonical field element (lower-case hex below the modulus)".into());
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_negatives() {
        let f = fr_from_i64(-5);
        assert_eq!(f + Fr::from(5u64), Fr::from(0u64));
        assert_eq!(fr_from_hex(&fr_to_hex(&f)).unwrap(), f);
        assert!(fr_from_hex(&"ff".repeat(32)).is_err());
        let upper = fr_to_hex(&Fr::from(0xabu64)).to_uppercase();
        assert!(fr_from_hex(&upper).is_err());
        assert!(fr_from_hex("abcd").is_err());
    }
}
