//! A batch-affine Pippenger MSM over BN254 G1, for the proof's largest MSM: the H query.
//!
//! The H MSM has one full-size scalar per point of the QAP domain (2^19 in private mode on
//! the benchmark model) and is the biggest single cost of a proof. ark-ec 0.6 adds each point
//! into its bucket in projective coordinates (about 11 field multiplications). Here the
//! additions of a whole batch of points into distinct buckets share one field inversion
//! (Montgomery's trick), which leaves about 6 multiplications per addition in affine
//! coordinates. The method is the one of gnark, barretenberg and the ark-msm research crate,
//! none of which is usable with arkworks 0.6 — so it is written here, small, and tested
//! against ark-ec's MSM on random inputs and on the cases affine addition must special-case
//! (a point added to itself, to its negation, to an empty bucket).
//!
//! Digits are signed (Booth recoding, |d| ≤ 2^(c-1)), each computed from the scalar's bits
//! alone, so windows run in parallel with no shared carry and no digit table.

use ark_bn254::{Fq, G1Affine, G1Projective};
use ark_ec::{AdditiveGroup, AffineRepr, VariableBaseMSM};
use ark_ff::{BigInt, Field, One, Zero};
use rayon::prelude::*;

/// Bits of a BN254 scalar field element (the modulus is below 2^254).
const SCALAR_BITS: usize = 254;

/// Below this many points ark-ec's MSM is as fast: batches stay small and each one's inversion
/// weighs more (measured on the development machine, see BENCHMARKS.md).
const MIN_POINTS: usize = 1 << 13;

/// `Σ scalars[i] · bases[i]` over the shorter of the two slices.
pub fn msm_g1(bases: &[G1Affine], scalars: &[BigInt<4>]) -> G1Projective {
    let n = bases.len().min(scalars.len());
    if n < MIN_POINTS {
        return G1Projective::msm_bigint(&bases[..n], &scalars[..n]);
    }
    msm_g1_window(&bases[..n], &scalars[..n], window_bits(n))
}

/// The window width minimizing bucket additions plus bucket reduction, weighing a reduction
/// step (two projective additions) as two batch-affine additions: larger windows also mean
/// larger batches, and this weight measured fastest from 2^13 to 2^19 points.
fn window_bits(n: usize) -> usize {
    (2..=22)
        .min_by_key(|&c| windows(c) * (n + 2 * (1usize << (c - 1))))
        .unwrap_or(8)
}

/// Windows for `c`-bit signed digits: one more bit than the scalar, so the top digit's
/// borrow is always zero.
fn windows(c: usize) -> usize {
    (SCALAR_BITS + 1).div_ceil(c)
}

/// The MSM with an explicit window width (tests force small windows to crowd the buckets).
pub(crate) fn msm_g1_window(bases: &[G1Affine], scalars: &[BigInt<4>], c: usize) -> G1Projective {
    let sums: Vec<G1Projective> = (0..windows(c))
        .into_par_iter()
        .map(|w| window_sum(bases, scalars, c, w))
        .collect();
    sums.iter().rev().fold(G1Projective::zero(), |mut acc, s| {
        for _ in 0..c {
            acc.double_in_place();
        }
        acc + s
    })
}

/// Bit `i` of `s` (zero beyond 256 and below 0).
fn bit(s: &BigInt<4>, i: isize) -> i64 {
    if !(0..256).contains(&i) {
        return 0;
    }
    let i = i as usize;
    ((s.0[i / 64] >> (i % 64)) & 1) as i64
}

/// Bits `[start, start + c)` of `s` as an unsigned integer (`c ≤ 22`).
fn bits(s: &BigInt<4>, start: usize, c: usize) -> i64 {
    if start >= 256 {
        return 0;
    }
    let (limb, shift) = (start / 64, start % 64);
    let mut v = s.0[limb] >> shift;
    if shift + c > 64 && limb + 1 < 4 {
        v |= s.0[limb + 1] << (64 - shift);
    }
    (v & ((1u64 << c) - 1)) as i64
}

/// Window `w`'s signed digit of `s`: `bits + (bit below the window) - 2^c · (window's top bit)`.
/// Summed over the windows with weights `2^(w·c)`, these telescope back to `s`.
fn digit(s: &BigInt<4>, c: usize, w: usize) -> i64 {
    let start = w * c;
    bits(s, start, c) + bit(s, start as isize - 1) - (bit(s, (start + c) as isize - 1) << c)
}

/// `Σ_i digit_w(s_i) · P_i` for one window, as `Σ_k k · bucket_k`.
fn window_sum(bases: &[G1Affine], scalars: &[BigInt<4>], c: usize, w: usize) -> G1Projective {
    let buckets_len = 1usize << (c - 1);
    let mut acc = Accumulator::new(buckets_len);
    // Points whose bucket is already in the current batch wait for a later round, as
    // (index, digit) pairs.
    let mut todo = Vec::new();
    for (i, (p, s)) in bases.iter().zip(scalars).enumerate() {
        let d = digit(s, c, w);
        if d != 0 && !p.is_zero() && !acc.push(d, p) {
            todo.push((i as u32, d));
        }
    }
    acc.flush();
    let mut attempted = bases.len();
    // When the digits crowd a few buckets (the top window holds the scalar's last few bits)
    // most points would wait round after round; those are added in projective coordinates.
    let mut overflow: Vec<G1Projective> = Vec::new();
    while !todo.is_empty() {
        if todo.len() * 2 > attempted {
            overflow = vec![G1Projective::zero(); buckets_len];
            for (i, d) in todo {
                let (b, p) = signed(d, &bases[i as usize]);
                overflow[b] += p;
            }
            break;
        }
        attempted = todo.len();
        let mut deferred = Vec::new();
        for &(i, d) in &todo {
            if !acc.push(d, &bases[i as usize]) {
                deferred.push((i, d));
            }
        }
        acc.flush();
        todo = deferred;
    }
    // Σ k · bucket_k = Σ_k (running sum of the buckets from the top down to k).
    let mut running = G1Projective::zero();
    let mut total = G1Projective::zero();
    for (k, b) in acc.buckets.iter().enumerate().rev() {
        running += b;
        if let Some(o) = overflow.get(k) {
            running += o;
        }
        total += running;
    }
    total
}

/// The bucket of a non-zero digit and the point it adds there (negated for a negative digit).
fn signed(d: i64, p: &G1Affine) -> (usize, G1Affine) {
    let b = d.unsigned_abs() as usize - 1;
    (b, if d < 0 { -*p } else { *p })
}

/// Buckets, and a batch of additions into distinct buckets that share one inversion.
struct Accumulator {
    buckets: Vec<G1Affine>,
    /// `busy[b] == round` while bucket `b` has an addition in the current batch.
    busy: Vec<u32>,
    round: u32,
    batch: Vec<(u32, G1Affine)>,
    /// Per batch entry, the denominator to invert (zero: no inversion needed).
    den: Vec<Fq>,
    max_batch: usize,
}

impl Accumulator {
    fn new(buckets_len: usize) -> Self {
        // Large enough to amortize the inversion, small enough that few points collide.
        let max_batch = (buckets_len / 4).clamp(16, 2048);
        Accumulator {
            buckets: vec![G1Affine::zero(); buckets_len],
            busy: vec![0; buckets_len],
            round: 1,
            batch: Vec::with_capacity(max_batch),
            den: Vec::with_capacity(max_batch),
            max_batch,
        }
    }

    /// Queues `bucket[|d| - 1] += sign(d) · p`; `false` when that bucket is already in this
    /// batch.
    fn push(&mut self, d: i64, p: &G1Affine) -> bool {
        let (bi, p) = signed(d, p);
        if self.busy[bi] == self.round {
            return false;
        }
        let q = self.buckets[bi];
        if q.is_zero() {
            // Empty bucket: no arithmetic at all (and the bucket stays free for this batch).
            self.buckets[bi] = p;
            return true;
        }
        self.busy[bi] = self.round;
        self.batch.push((bi as u32, p));
        if self.batch.len() == self.max_batch {
            self.flush();
        }
        true
    }

    /// Performs the queued additions with one inversion.
    fn flush(&mut self) {
        if self.batch.is_empty() {
            self.round += 1;
            return;
        }
        // Denominators: x_p - x_q for distinct x, 2·y for a doubling, none for P + (-P).
        self.den.clear();
        for &(b, p) in &self.batch {
            let q = &self.buckets[b as usize];
            let d = if p.x != q.x {
                p.x - q.x
            } else if p.y == q.y {
                p.y.double()
            } else {
                Fq::zero()
            };
            self.den.push(d);
        }
        invert_nonzero(&mut self.den);
        for (&(b, p), inv) in self.batch.iter().zip(&self.den) {
            let q = &mut self.buckets[b as usize];
            if inv.is_zero() {
                // P + (-P), or a doubling of a point with y = 0 (none on BN254 G1).
                *q = G1Affine::zero();
                continue;
            }
            let lambda = if p.x != q.x {
                (p.y - q.y) * inv
            } else {
                // Tangent slope 3x²/2y (BN254 has a = 0).
                let xx = q.x.square();
                (xx.double() + xx) * inv
            };
            let x = lambda.square() - q.x - p.x;
            let y = lambda * (q.x - x) - q.y;
            *q = G1Affine::new_unchecked(x, y);
        }
        self.batch.clear();
        self.round += 1;
    }
}

/// Inverts every non-zero element in place with one field inversion (Montgomery's trick);
/// zeros stay zero.
fn invert_nonzero(v: &mut [Fq]) {
    let mut prefix = Vec::with_capacity(v.len());
    let mut acc = Fq::one();
    for x in v.iter() {
        prefix.push(acc);
        if !x.is_zero() {
            acc *= x;
        }
    }
    let mut inv = acc
        .inverse()
        .expect("a product of non-zero elements is non-zero");
    for (x, before) in v.iter_mut().zip(prefix).rev() {
        if x.is_zero() {
            continue;
        }
        let x_inv = inv * before;
        inv *= *x;
        *x = x_inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::Fr;
    use ark_ec::CurveGroup;
    use ark_ff::{PrimeField, UniformRand};
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;
    use proptest::prelude::*;

    fn reference(bases: &[G1Affine], scalars: &[Fr]) -> G1Projective {
        G1Projective::msm(bases, scalars).unwrap()
    }

    fn bigints(scalars: &[Fr]) -> Vec<BigInt<4>> {
        scalars.iter().map(|s| s.into_bigint()).collect()
    }

    #[test]
    fn digits_telescope_back_to_the_scalar() {
        let mut rng = StdRng::seed_from_u64(7);
        for c in [2, 3, 5, 8, 13, 15, 16, 22] {
            for s in [Fr::zero(), Fr::one(), -Fr::one(), Fr::rand(&mut rng)] {
                let b = s.into_bigint();
                let mut acc = Fr::zero();
                for w in (0..windows(c)).rev() {
                    acc *= Fr::from(1u64 << c);
                    let d = digit(&b, c, w);
                    assert!(d.unsigned_abs() <= 1 << (c - 1), "c={c} d={d}");
                    acc += if d < 0 {
                        -Fr::from(d.unsigned_abs())
                    } else {
                        Fr::from(d as u64)
                    };
                }
                assert_eq!(acc, s, "c={c}");
            }
        }
    }

    #[test]
    fn special_cases_match_ark_ec() {
        let mut rng = StdRng::seed_from_u64(1);
        let p = G1Projective::rand(&mut rng).into_affine();
        let q = G1Projective::rand(&mut rng).into_affine();
        // The same point many times (doublings), its negation (cancellations), the identity,
        // zero and extreme scalars, with windows small enough that buckets collide.
        let bases = vec![p, p, -p, q, p, G1Affine::zero(), -q, q, p, p];
        let scalars = vec![
            Fr::one(),
            Fr::one(),
            Fr::one(),
            -Fr::one(),
            Fr::from(3u64),
            Fr::from(5u64),
            -Fr::one(),
            Fr::zero(),
            Fr::from(2u64),
            -Fr::from(7u64),
        ];
        for c in 2..=6 {
            assert_eq!(
                msm_g1_window(&bases, &bigints(&scalars), c),
                reference(&bases, &scalars),
                "c={c}"
            );
        }
        assert_eq!(msm_g1(&[], &[]), G1Projective::zero());
    }

    #[test]
    fn above_the_threshold_equals_ark_ec() {
        let mut rng = StdRng::seed_from_u64(3);
        let n = MIN_POINTS + 77;
        let g = G1Projective::rand(&mut rng);
        let points: Vec<G1Projective> = (1..=n as u64).map(|k| g * Fr::from(k * k + 1)).collect();
        let bases = G1Projective::normalize_batch(&points);
        let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        assert_eq!(
            msm_g1(&bases, &bigints(&scalars)),
            reference(&bases, &scalars)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn equals_ark_ec_msm(seed in any::<u64>(), n in 0usize..400, distinct in 1usize..50, c in 2usize..12) {
            let mut rng = StdRng::seed_from_u64(seed);
            // Few distinct points, so additions often meet a bucket holding the same point.
            let pool: Vec<G1Affine> = (0..distinct).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
            let bases: Vec<G1Affine> = (0..n).map(|i| {
                let p = pool[(seed as usize).wrapping_add(i * 7) % distinct];
                if i % 3 == 0 { -p } else { p }
            }).collect();
            let scalars: Vec<Fr> = (0..n).map(|i| match i % 4 {
                0 => Fr::rand(&mut rng),
                1 => Fr::from(i as u64),
                2 => -Fr::from(i as u64),
                _ => Fr::from(u64::MAX) * Fr::rand(&mut rng),
            }).collect();
            let want = reference(&bases, &scalars);
            prop_assert_eq!(msm_g1_window(&bases, &bigints(&scalars), c), want);
            prop_assert_eq!(msm_g1(&bases, &bigints(&scalars)), want);
        }
    }
}
