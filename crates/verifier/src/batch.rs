//! Batch verification: many receipts under one verifying key, with one pairing product.
//!
//! Each receipt first passes every check of [`crate::verify()`] but the pairing equation. The
//! equations `e(A_i, B_i) = e(α, β) · e(L_i, γ) · e(C_i, δ)` (with `L_i` the public inputs'
//! combination of the key's `IC` points) are then checked together, each raised to its own
//! random 128-bit `r_i`:
//!
//! `Π e(r_i·A_i, B_i) · e(Σ r_i·L_i, −γ) · e(Σ r_i·C_i, −δ) = e(α, β)^(Σ r_i)`
//!
//! — n + 2 Miller loops and one final exponentiation instead of n of each. Fresh random
//! weights, unknown to whoever made the proofs, are what make this sound: with every `r_i = 1`
//! two wrong proofs whose errors cancel (`C_1 + T`, `C_2 − T`) would pass. A false batch
//! passes with probability about 2^-128.
//!
//! When the batch fails, it is split in halves and each half checked again (fresh weights),
//! down to a few receipts checked exactly; the bad ones are named with the error
//! [`crate::verify()`] gives them.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{Field, PrimeField, Zero};

use crate::error::VerificationError;
use crate::key::VerifierKey;
use crate::pairing;
use crate::receipt::Receipt;
use crate::verify::{Expected, Prepared, Verified, prepare};

/// Verifies many receipts under one key; one result per receipt, in order, each as
/// [`crate::verify()`] would give it (a proof that fails is [`VerificationError::BadProof`]).
pub fn verify_batch(
    key: &VerifierKey,
    receipts: &[(&Receipt, &Expected<'_>)],
) -> Vec<Result<Verified, VerificationError>> {
    // Every check but the pairing, per receipt: independent, so spread over the cores.
    let prepared: Vec<Result<Prepared, VerificationError>> =
        parallel_map(receipts, |(receipt, expected)| {
            prepare(receipt, key, expected)
        });
    // The pairing equations of the receipts that passed every other check, together.
    let ready: Vec<&Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
    let mut bad: Vec<Option<VerificationError>> = (0..ready.len()).map(|_| None).collect();
    for (k, e) in find_bad(key, &ready) {
        bad[k] = Some(e);
    }
    let mut bad = bad.into_iter();
    prepared
        .into_iter()
        .map(|p| {
            let p = p?;
            match bad.next().flatten() {
                Some(e) => Err(e),
                None => Ok(p.verified),
            }
        })
        .collect()
}

/// Below this many proofs a failed batch is checked proof by proof: halving further would cost
/// more pairings than it saves.
const EXACT_BELOW: usize = 4;

/// The positions (in `items`) of the proofs that do not verify, with the error [`crate::verify()`]
/// gives them: none when the whole batch passes, else found by halving.
fn find_bad(key: &VerifierKey, items: &[&Prepared]) -> Vec<(usize, VerificationError)> {
    if items.len() > 1 && batch_holds(key, items.iter().copied()) {
        return Vec::new();
    }
    if items.len() <= EXACT_BELOW {
        return items
            .iter()
            .enumerate()
            .filter_map(|(k, p)| exact(key, p).err().map(|e| (k, e)))
            .collect();
    }
    let mid = items.len() / 2;
    let mut bad = find_bad(key, &items[..mid]);
    bad.extend(
        find_bad(key, &items[mid..])
            .into_iter()
            .map(|(k, e)| (k + mid, e)),
    );
    bad
}

/// One proof's pairing equation, checked exactly ([`pairing::exact`]).
fn exact(key: &VerifierKey, p: &Prepared) -> Result<(), VerificationError> {
    pairing::exact(key, &p.proof, &p.inputs, p.weights)
}

/// A fresh random weight in `[1, 2^128)`, from the operating system; `None` when the OS has
/// no randomness to give. A batch cannot be checked soundly with predictable weights, so then
/// it does not hold and its receipts are checked one by one (slower, never wrong).
fn weight() -> Option<Fr> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(Fr::from(u128::from_le_bytes(bytes).max(1)))
}

/// Whether the randomly weighted product of the proofs' pairing equations holds.
fn batch_holds<'a>(key: &VerifierKey, proofs: impl Iterator<Item = &'a Prepared>) -> bool {
    // The IC points of the same prepared key whose γ, δ and e(α, β) the product uses.
    let ic = &key.vk().gamma_abc_g1;
    // Σ r_i·L_i as one MSM over IC: IC_0 weighted Σ r_i, IC_j weighted Σ r_i·x_ij.
    let mut ic_weights = vec![Fr::from(0u64); ic.len()];
    let mut c_points: Vec<G1Affine> = Vec::new();
    let mut total = Fr::from(0u64);
    // Σ r_i·D_i over the committed-weights proofs (their records' `D_reg`).
    let mut weighted_d = G1Projective::zero();
    let proofs: Vec<&Prepared> = proofs.collect();
    let mut weights = Vec::with_capacity(proofs.len());
    for p in &proofs {
        if p.inputs.len() + 1 != ic.len() {
            return false;
        }
        let Some(r) = weight() else {
            return false;
        };
        total += r;
        ic_weights[0] += r;
        if let Some(d) = p.weights {
            weighted_d += d * r;
        }
        for (w, x) in ic_weights[1..].iter_mut().zip(&p.inputs) {
            *w += r * x;
        }
        c_points.push(p.proof.c);
        weights.push(r);
    }
    // Σ r_i·C_i, with the same weights as the A_i below.
    let c = G1Projective::msm(&c_points, &weights).map(|c| c.into_affine());
    // The proofs' Miller loops e(r_i·A_i, B_i), in chunks over the cores; the chunks'
    // products multiply into one, before the one final exponentiation.
    let pairs: Vec<(&Prepared, Fr)> = proofs.iter().copied().zip(weights).collect();
    let chunks = per_chunk(pairs.len(), |range| {
        let chunk = &pairs[range];
        let a: Vec<G1Affine> = chunk
            .iter()
            .map(|(p, r)| (p.proof.a * r).into_affine())
            .collect();
        let b: Vec<G2Affine> = chunk.iter().map(|(p, _)| p.proof.b).collect();
        Bn254::multi_miller_loop(a, b)
    });
    let l = G1Projective::msm(ic, &ic_weights).map(|l| (l + weighted_d).into_affine());
    let (Ok(l), Ok(c)) = (l, c) else {
        return false;
    };
    let mut looped = Bn254::multi_miller_loop(
        [l, c],
        [
            key.prepared().gamma_g2_neg_pc.clone(),
            key.prepared().delta_g2_neg_pc.clone(),
        ],
    );
    for chunk in chunks {
        looped.0 *= chunk.0;
    }
    let Some(product) = Bn254::final_exponentiation(looped) else {
        return false;
    };
    product.0 == key.prepared().alpha_g1_beta_g2.pow(total.into_bigint())
}

/// Splits `0..n` into one range per core (at least 8 items each, so that small batches stay
/// on one thread).
fn chunk_ranges(n: usize) -> Vec<std::ops::Range<usize>> {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let parts = cores.min(n.div_ceil(8)).max(1);
    let size = n.div_ceil(parts).max(1);
    (0..n).step_by(size).map(|s| s..(s + size).min(n)).collect()
}

/// `f` on each of [`chunk_ranges`]`(n)`, one scoped thread per range (the verifier keeps no
/// thread pool and no dependency for one); the results in order.
fn per_chunk<U: Send>(n: usize, f: impl Fn(std::ops::Range<usize>) -> U + Sync) -> Vec<U> {
    let ranges = chunk_ranges(n);
    if ranges.len() <= 1 {
        return ranges.into_iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = ranges.into_iter().map(|r| s.spawn(move || f(r))).collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(v) => v,
                // A panic in a check is a bug; it stays one, on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// `items.iter().map(f)`, spread over the cores, in order.
fn parallel_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    per_chunk(items.len(), |r| items[r].iter().map(&f).collect::<Vec<U>>())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use ark_relations::gr1cs::{
        ConstraintSynthesizer, ConstraintSystemRef, LinearCombination, SynthesisError, Variable,
    };
    use ark_snark::SNARK;
    use ark_std::UniformRand;
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;

    use ark_ec::{AffineRepr, PrimeGroup};
    use ark_groth16::Groth16;

    use super::*;
    use crate::pairing::input_sum;
    use crate::signature::Signer;

    #[test]
    fn chunks_cover_every_item_once_in_order() {
        for n in [0usize, 1, 7, 8, 9, 17, 100, 1001] {
            let ranges = chunk_ranges(n);
            let flat: Vec<usize> = ranges.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(flat, (0..n).collect::<Vec<_>>(), "{n}");
            assert!(ranges.iter().all(|r| !r.is_empty()), "{n}: {ranges:?}");
            assert!(ranges.len() <= n.div_ceil(8).max(1), "{n}: {ranges:?}");
        }
        let items: Vec<u64> = (0..1000).collect();
        let doubled: Vec<u64> = items.iter().map(|x| 2 * x).collect();
        assert_eq!(parallel_map(&items, |x| 2 * x), doubled);
        assert_eq!(per_chunk(20, |r| r.len()).iter().sum::<usize>(), 20);
    }

    /// Public inputs, each bound by one constraint.
    struct Publics(Vec<Fr>);

    impl ConstraintSynthesizer<Fr> for Publics {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            for v in self.0 {
                let x = cs.new_input_variable(|| Ok(v))?;
                cs.enforce_r1cs_constraint(
                    || LinearCombination::from(x),
                    || LinearCombination::from(Variable::one()),
                    || LinearCombination::from(x),
                )?;
            }
            Ok(())
        }
    }

    /// A key and `n` valid proofs of 3 public inputs each (distinct, non-zero).
    fn proofs(n: u64) -> (VerifierKey, Vec<Prepared>) {
        let mut rng = StdRng::seed_from_u64(7);
        let (pk, vk) =
            Groth16::<Bn254>::circuit_specific_setup(Publics(vec![Fr::from(0u64); 3]), &mut rng)
                .unwrap();
        let prepared = (0..n)
            .map(|k| {
                let inputs: Vec<Fr> = (1..=3).map(|j| Fr::from(k * 10 + j)).collect();
                let proof =
                    Groth16::<Bn254>::prove(&pk, Publics(inputs.clone()), &mut rng).unwrap();
                Prepared {
                    proof,
                    inputs,
                    weights: None,
                    verified: Verified {
                        model_id: String::new(),
                        job_id: format!("job-{k}"),
                        worker_id: String::new(),
                        quantized: Vec::new(),
                        output: Vec::new(),
                        unchecked: Vec::new(),
                        signer: Signer::Unsigned,
                        request: None,
                    },
                }
            })
            .collect();
        (VerifierKey::new(vk), prepared)
    }

    /// The weighted product itself holds for valid proofs — not only the exact checks a
    /// failed batch falls back to — and fails for a wrong input, a wrong proof point, or a
    /// proof under another key's inputs count.
    #[test]
    fn the_weighted_product_holds_exactly_for_valid_proofs() {
        let (key, ps) = proofs(5);
        assert!(batch_holds(&key, ps.iter()));
        assert!(find_bad(&key, &ps.iter().collect::<Vec<_>>()).is_empty());

        let (key, mut ps) = proofs(5);
        ps[3].inputs[0] += Fr::from(1u64);
        assert!(!batch_holds(&key, ps.iter()));
        let (key, mut ps) = proofs(5);
        ps[1].inputs[2] += Fr::from(1u64);
        assert!(!batch_holds(&key, ps.iter()));
        let (key, mut ps) = proofs(5);
        ps[4].proof.c = (ps[4].proof.c + G1Projective::generator()).into_affine();
        assert!(!batch_holds(&key, ps.iter()));
        let (key, mut ps) = proofs(5);
        ps[0].proof.a = (ps[0].proof.a + G1Projective::generator()).into_affine();
        assert!(!batch_holds(&key, ps.iter()));
        let (key, mut ps) = proofs(5);
        ps[2].inputs.pop();
        assert!(!batch_holds(&key, ps.iter()));
    }

    /// The input sum is ark-groth16's `prepare_inputs` for every kind of value: zero, small,
    /// at and across the 64-bit limit, negated small at and across it, full-size; over
    /// bases that include the identity, a repeated point and a point beside its negation.
    #[test]
    fn the_input_sum_is_ark_groth16s_for_every_kind_of_value() {
        let two = |e: u64| Fr::from(2u64).pow([e]);
        let mut xs: Vec<Fr> = [
            0u64,
            1,
            2,
            255,
            256,
            65_535,
            65_537,
            u32::MAX as u64,
            u64::MAX,
        ]
        .into_iter()
        .map(Fr::from)
        .collect();
        xs.extend([
            two(64),
            two(64) + Fr::from(1u64),
            two(128) - Fr::from(1u64),
            two(253),
        ]);
        xs.extend([1u64, 2, 256, u32::MAX as u64, u64::MAX].map(|k| -Fr::from(k)));
        xs.extend([-two(64), -two(64) - Fr::from(1u64), -two(200)]);
        // Hash-like values.
        let mut rng = StdRng::seed_from_u64(3);
        xs.extend((0..4).map(|_| Fr::rand(&mut rng)));

        let g = G1Projective::generator();
        let p = (g * Fr::from(77u64)).into_affine();
        let mut bases: Vec<G1Affine> = (0..xs.len() as u64)
            .map(|k| (g * Fr::from(1000 + k * k)).into_affine())
            .collect();
        bases[3] = G1Affine::identity();
        bases[5] = p;
        bases[6] = p;
        bases[7] = -p;
        let mut ic = vec![(g * Fr::from(5u64)).into_affine()];
        ic.extend(&bases);
        let g2 = G2Affine::generator();
        let key = VerifierKey::new(ark_groth16::VerifyingKey {
            alpha_g1: g.into_affine(),
            beta_g2: g2,
            gamma_g2: g2,
            delta_g2: g2,
            gamma_abc_g1: ic.clone(),
        });
        // Every value against every base, and every prefix of the whole list.
        for shift in 0..xs.len() {
            let rotated: Vec<Fr> = xs
                .iter()
                .cycle()
                .skip(shift)
                .take(xs.len())
                .copied()
                .collect();
            let ours = input_sum(&bases, &rotated) + ic[0];
            let ark = Groth16::<Bn254>::prepare_inputs(key.prepared(), &rotated).unwrap();
            assert_eq!(ours, ark, "rotation {shift}");
        }
        for n in 0..=xs.len() {
            let ours = input_sum(&bases[..n], &xs[..n]) + ic[0];
            let ark = Groth16::<Bn254>::prepare_inputs(key.prepared(), &xs[..n]).unwrap();
            assert_eq!(ours, ark, "first {n}");
        }
    }

    /// The exact check (its own public-input sum) agrees with ark-groth16's own, and
    /// a proof with one input too few or too many is malformed, not summed over a prefix.
    #[test]
    fn the_exact_check_is_ark_groth16s() {
        let (key, ps) = proofs(3);
        for p in &ps {
            assert!(Groth16::<Bn254>::verify_proof(key.prepared(), &p.proof, &p.inputs).unwrap());
            exact(&key, p).unwrap();
        }
        let (key, mut ps) = proofs(2);
        ps[0].inputs[1] += Fr::from(1u64);
        ps[1].inputs[0] = -ps[1].inputs[0];
        for p in &ps {
            assert!(!Groth16::<Bn254>::verify_proof(key.prepared(), &p.proof, &p.inputs).unwrap());
            assert!(matches!(exact(&key, p), Err(VerificationError::BadProof)));
        }
        let (key, mut ps) = proofs(2);
        ps[0].inputs.pop();
        ps[1].inputs.push(Fr::from(0u64));
        for (p, n) in ps.iter().zip([2, 4]) {
            match exact(&key, p) {
                Err(VerificationError::Malformed { what, reason }) => {
                    assert_eq!(what, "proof");
                    assert_eq!(reason, format!("{n} public inputs for a key of 3"));
                }
                other => panic!("{n} inputs: {other:?}"),
            }
        }
    }

    /// Halving names exactly the bad proofs, wherever they sit, with `verify`'s error.
    #[test]
    fn halving_names_exactly_the_bad_proofs() {
        for (n, bad) in [
            (9, vec![0]),
            (9, vec![8]),
            (9, vec![3, 4]),
            (9, vec![0, 5, 8]),
            (3, vec![1]),
            (2, vec![0, 1]),
        ] {
            let (key, mut ps) = proofs(n);
            for &k in &bad {
                ps[k].inputs[1] += Fr::from(1u64);
            }
            let items: Vec<&Prepared> = ps.iter().collect();
            let found = find_bad(&key, &items);
            assert_eq!(found.iter().map(|(k, _)| *k).collect::<Vec<_>>(), bad);
            assert!(found.iter().all(|(_, e)| *e == VerificationError::BadProof));
        }
    }
}
