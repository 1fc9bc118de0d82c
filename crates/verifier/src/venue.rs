//! Where a receipt may be settled: one EVM contract on one chain, or one off-chain ledger.
//!
//! A client names the venue in its signed request ([`crate::request`]), and the request's
//! digest enters the job binding, so a proof made for one venue is about another statement
//! everywhere else: the same receipt cannot be paid by a second deployment of a model's
//! contract, on another chain, or by a second ledger. The venue is inside the binding's hash,
//! never a public input of its own (each public input costs an EVM verifier ~7,300 gas).
//!
//! One byte encoding for both kinds, which an EVM contract rebuilds from `block.chainid` and
//! `address(this)` with `abi.encodePacked(uint8(1), block.chainid, address(this))`:
//!
//! | kind | bytes | text |
//! |---|---|---|
//! | EVM contract | `0x01 ‖ chain id (uint256, big-endian) ‖ address (20 bytes)`, 53 bytes | `evm:<chain id>:0x<40 hex digits>` |
//! | off-chain ledger | `0x02 ‖ the ledger's ed25519 public key (32 bytes)`, 33 bytes | `ledger:<64 hex digits>` |
//!
//! A ledger's id is its public key: what it signs (its disputes, [`crate::dispute`]) checks
//! against the venue a client's request names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A settlement venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Venue {
    /// A settlement contract: the chain it is deployed on and its address.
    Evm {
        /// The chain id (EIP-155).
        chain_id: u64,
        /// The contract's address.
        contract: [u8; 20],
    },
    /// An off-chain ledger (`zkw settle`), named by the ed25519 public key it made when created.
    Ledger([u8; 32]),
}

/// The tag byte of an EVM venue.
pub const EVM_TAG: u8 = 1;
/// The tag byte of a ledger venue.
pub const LEDGER_TAG: u8 = 2;

impl Venue {
    /// The venue's byte encoding (the module's table): what the request digest absorbs.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Venue::Evm { chain_id, contract } => {
                let mut b = Vec::with_capacity(53);
                b.push(EVM_TAG);
                b.extend_from_slice(&[0u8; 24]);
                b.extend_from_slice(&chain_id.to_be_bytes());
                b.extend_from_slice(contract);
                b
            }
            Venue::Ledger(id) => {
                let mut b = Vec::with_capacity(33);
                b.push(LEDGER_TAG);
                b.extend_from_slice(id);
                b
            }
        }
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Venue::Evm { chain_id, contract } => {
                write!(f, "evm:{chain_id}:0x{}", hex::encode(contract))
            }
            Venue::Ledger(id) => write!(f, "ledger:{}", hex::encode(id)),
        }
    }
}

/// Why a venue's text does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "venue {text:?}: {reason} (expected evm:<chain id>:0x<40 hex digits> or ledger:<64 hex \
     digits>)"
)]
pub struct BadVenue {
    /// The text given (at most its first 200 bytes).
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn lower_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !crate::record::is_lower_hex(s) {
        return None;
    }
    hex::decode(s).ok()?.try_into().ok()
}

impl FromStr for Venue {
    type Err = BadVenue;

    /// The text form, in its one spelling: lower-case hex, a decimal chain id without
    /// leading zeros.
    fn from_str(s: &str) -> Result<Self, BadVenue> {
        let bad = |reason| BadVenue {
            text: s.chars().take(200).collect(),
            reason,
        };
        if let Some(id) = s.strip_prefix("ledger:") {
            return lower_hex::<32>(id)
                .map(Venue::Ledger)
                .ok_or_else(|| bad("a ledger id is 64 lower-case hex digits"));
        }
        let Some(rest) = s.strip_prefix("evm:") else {
            return Err(bad("unknown kind"));
        };
        let (chain, address) = rest
            .split_once(':')
            .ok_or_else(|| bad("no contract address"))?;
        let canonical_number = !chain.is_empty()
            && chain.bytes().all(|b| b.is_ascii_digit())
            && (chain == "0" || !chain.starts_with('0'));
        let chain_id = chain
            .parse::<u64>()
            .ok()
            .filter(|_| canonical_number)
            .ok_or_else(|| bad("a chain id is a decimal number below 2^64"))?;
        let contract = address
            .strip_prefix("0x")
            .and_then(lower_hex::<20>)
            .ok_or_else(|| bad("a contract address is 0x and 40 lower-case hex digits"))?;
        Ok(Venue::Evm { chain_id, contract })
    }
}

impl Serialize for Venue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Venue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_in_one_spelling() {
        let evm = Venue::Evm {
            chain_id: 31337,
            contract: [0xab; 20],
        };
        assert_eq!(evm.to_string(), format!("evm:31337:0x{}", "ab".repeat(20)));
        assert_eq!(evm.to_string().parse::<Venue>(), Ok(evm));
        let ledger = Venue::Ledger([7; 32]);
        assert_eq!(ledger.to_string().parse::<Venue>(), Ok(ledger));
        for (text, reason) in [
            (format!("evm:031337:0x{}", "ab".repeat(20)), "a chain id"),
            (format!("evm:+1:0x{}", "ab".repeat(20)), "a chain id"),
            (format!("evm::0x{}", "ab".repeat(20)), "a chain id"),
            (format!("evm:1:0x{}", "AB".repeat(20)), "a contract address"),
            (format!("evm:1:{}", "ab".repeat(20)), "a contract address"),
            (format!("evm:1:0x{}", "ab".repeat(21)), "a contract address"),
            ("evm:1".to_string(), "no contract address"),
            (format!("ledger:{}", "0".repeat(63)), "a ledger id"),
            (format!("chain:{}", "0".repeat(64)), "unknown kind"),
        ] {
            let e = text.parse::<Venue>().unwrap_err();
            assert!(e.reason.starts_with(reason), "{text}: {e}");
        }
    }

    #[test]
    fn bytes_are_what_a_contract_packs() {
        // abi.encodePacked(uint8(1), uint256(1), address(0x11..11))
        let evm = Venue::Evm {
            chain_id: 1,
            contract: [0x11; 20],
        };
        let b = evm.to_bytes();
        assert_eq!(b.len(), 53);
        assert_eq!(b[0], 1);
        assert_eq!(&b[1..33], &{
            let mut w = [0u8; 32];
            w[31] = 1;
            w
        });
        assert_eq!(&b[33..], &[0x11; 20]);
        let l = Venue::Ledger([9; 32]).to_bytes();
        assert_eq!((l.len(), l[0], &l[1..]), (33, 2, &[9u8; 32][..]));
        // The kinds never share an encoding: their lengths and tags differ.
        assert_ne!(
            Venue::Ledger([0; 32]).to_bytes(),
            Venue::Evm {
                chain_id: 0,
                contract: [0; 20]
            }
            .to_bytes()
        );
    }

    #[test]
    fn serde_is_the_text() {
        let v = Venue::Ledger([1; 32]);
        let j = serde_json::to_string(&v).unwrap();
        assert_eq!(j, format!("\"ledger:{}\"", "01".repeat(32)));
        assert_eq!(serde_json::from_str::<Venue>(&j).unwrap(), v);
        let e = serde_json::from_str::<Venue>("\"ledger:xyz\"").unwrap_err();
        assert!(e.to_string().contains("a ledger id is 64"), "{e}");
    }
}
