//! The prover's batch-affine MSM (`zkw_prover::msm::msm_g1`, used for the H query) against
//! ark-ec 0.6's `msm_bigint`, on the same random points and full-size scalars.
//!
//! ```text
//! cargo bench --bench msm
//! ```
//!
//! Prints a Markdown table for BENCHMARKS.md (best of 3 per size).

use std::time::{Duration, Instant};

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInt, PrimeField};
use zkw_prover::msm::msm_g1;

/// splitmix64: deterministic full-size scalars without a dependency.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn best_of_3(f: impl Fn() -> G1Projective) -> (Duration, G1Projective) {
    let mut best = Duration::MAX;
    let mut out = G1Projective::default();
    for _ in 0..3 {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed());
    }
    (best, out)
}

fn main() {
    let max = 1usize << 19;
    let mut state = 1u64;
    let step = G1Projective::generator() * Fr::from(next(&mut state));
    let mut acc = step;
    let points: Vec<G1Projective> = (0..max)
        .map(|_| {
            acc += step;
            acc
        })
        .collect();
    let bases: Vec<G1Affine> = G1Projective::normalize_batch(&points);
    let scalars: Vec<BigInt<4>> = (0..max)
        .map(|_| {
            let bytes: Vec<u8> = (0..4)
                .flat_map(|_| next(&mut state).to_le_bytes())
                .collect();
            Fr::from_le_bytes_mod_order(&bytes).into_bigint()
        })
        .collect();
    println!("| points | ark-ec 0.6 | batch-affine |");
    println!("|---|---|---|");
    for lg in 13..=19 {
        let n = 1usize << lg;
        let (b, s) = (&bases[..n], &scalars[..n]);
        let (ta, a) = best_of_3(|| G1Projective::msm_bigint(b, s));
        let (tb, o) = best_of_3(|| msm_g1(b, s));
        assert_eq!(a, o, "the two MSMs disagree at 2^{lg}");
        println!("| 2^{lg} | {ta:.1?} | {tb:.1?} |");
    }
}
