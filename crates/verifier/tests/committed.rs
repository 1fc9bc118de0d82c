//! Committed weights' public files as a verifier reads them: commitments spelled one way, a
//! challenge that moves with every value it binds, and range-proof layouts refused by name.
//! (Openings and range proofs made by a real setup are attacked in
//! `crates/prover/tests/committed.rs`.)

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_groth16::VerifyingKey;
use zkw_verifier::VerificationError;
use zkw_verifier::commitment::{
    CommitmentKey, canonical_bytes, from_canonical_bytes, point_from_hex, point_to_hex,
};
use zkw_verifier::opening::{OpeningContext, Transcript, challenge};
use zkw_verifier::range::{RangeClass, RangeProof};

fn point(k: u64) -> G1Affine {
    (G1Affine::generator() * Fr::from(k)).into_affine()
}

fn key(n: usize) -> CommitmentKey {
    CommitmentKey {
        bases: (1..=n as u64).map(point).collect(),
        hiding: point(99),
    }
}

#[test]
fn a_commitment_key_commits_and_is_read_back_only_as_written() {
    let ck = key(3);
    let w = [Fr::from(2u64), Fr::from(3u64), Fr::from(4u64)];
    // 2·1 + 3·2 + 4·3 + 5·99 times the generator.
    assert_eq!(
        ck.commit(&w, Fr::from(5u64)).unwrap().into_affine(),
        point(2 + 6 + 12 + 5 * 99)
    );
    assert!(ck.commit(&w[..2], Fr::from(5u64)).is_none());
    let bytes = ck.to_bytes();
    assert_eq!(CommitmentKey::from_bytes(&bytes).unwrap(), ck);
    assert_ne!(key(2).digest(), ck.digest());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(
        CommitmentKey::from_bytes(&longer)
            .unwrap_err()
            .to_string()
            .contains("1 bytes after the commitment key")
    );
    // A zero base commits to nothing, nor does an identity hiding base.
    for broken in [
        CommitmentKey {
            bases: vec![point(1), G1Affine::identity()],
            hiding: point(2),
        },
        CommitmentKey {
            bases: vec![point(1)],
            hiding: G1Affine::identity(),
        },
        CommitmentKey {
            bases: Vec::new(),
            hiding: point(2),
        },
    ] {
        let err = CommitmentKey::from_bytes(&broken.to_bytes()).unwrap_err();
        assert!(matches!(err, VerificationError::Malformed { .. }), "{err}");
    }
    // The generic reader refuses trailing bytes and returns what was written.
    let back: Vec<Fr> = from_canonical_bytes(&canonical_bytes(&w.to_vec()), "list").unwrap();
    assert_eq!(back, w);
}

#[test]
fn a_commitment_is_one_canonical_point_other_than_the_identity() {
    let p = point(7);
    let hex = point_to_hex(&p);
    assert_eq!(hex.len(), 64);
    assert_eq!(point_from_hex(&hex).unwrap(), p);
    assert!(point_from_hex(&hex.to_uppercase()).is_err());
    assert!(point_from_hex(&hex[..62]).is_err());
    assert!(point_from_hex("zz").is_err());
    assert_eq!(
        point_from_hex(&point_to_hex(&G1Affine::identity())).unwrap_err(),
        "the identity commits to nothing"
    );
}

#[test]
fn the_challenge_moves_with_every_value_it_binds() {
    let ck = key(2);
    let d = point(5);
    let range = [1u8; 32];
    let ts = [point(11), point(12)];
    let ctx = OpeningContext {
        model_id: "m",
        vk_id: "k",
        owner: Some("o"),
    };
    let tr = Transcript {
        ck_digest: &ck.digest(),
        wires: 2,
        d_reg: &d,
        range: &range,
        t: &ts,
    };
    let base = challenge(&tr, &ctx);
    assert_eq!(base, challenge(&tr, &ctx), "deterministic");
    let other_digest = key(3).digest();
    let other_d = point(6);
    let other_range = [2u8; 32];
    let fewer_t = [point(11)];
    let other_t = [point(11), point(13)];
    let moved = [
        challenge(
            &Transcript {
                ck_digest: &other_digest,
                ..tr
            },
            &ctx,
        ),
        challenge(&Transcript { wires: 3, ..tr }, &ctx),
        challenge(
            &Transcript {
                d_reg: &other_d,
                ..tr
            },
            &ctx,
        ),
        challenge(
            &Transcript {
                range: &other_range,
                ..tr
            },
            &ctx,
        ),
        challenge(&Transcript { t: &fewer_t, ..tr }, &ctx),
        challenge(&Transcript { t: &other_t, ..tr }, &ctx),
        challenge(
            &tr,
            &OpeningContext {
                model_id: "n",
                ..ctx
            },
        ),
        challenge(&tr, &OpeningContext { vk_id: "l", ..ctx }),
        challenge(
            &tr,
            &OpeningContext {
                owner: Some("p"),
                ..ctx
            },
        ),
        challenge(&tr, &OpeningContext { owner: None, ..ctx }),
        // An owner named "" is not no owner.
        challenge(
            &tr,
            &OpeningContext {
                owner: Some(""),
                ..ctx
            },
        ),
    ];
    for (k, c) in moved.iter().enumerate() {
        assert_ne!(*c, base, "field {k} is not bound");
    }
    assert_ne!(moved[9], moved[10]);
}

fn class(bits: u32, len: usize) -> RangeClass {
    RangeClass {
        bits,
        slice_len: len as u64,
        vk: VerifyingKey {
            alpha_g1: point(1),
            beta_g2: G2Affine::generator(),
            gamma_g2: G2Affine::generator(),
            delta_g2: G2Affine::generator(),
            gamma_abc_g1: vec![point(3)],
        },
        ck: key(len),
    }
}

fn slices(classes: &[u32]) -> Vec<zkw_verifier::range::RangeSliceProof> {
    let proof = ark_groth16::Proof {
        a: point(1),
        b: G2Affine::generator(),
        c: point(2),
    };
    classes
        .iter()
        .map(|&class| zkw_verifier::range::RangeSliceProof {
            class,
            d: point(4),
            proof: proof.clone(),
        })
        .collect()
}

#[test]
fn a_range_proof_layout_covers_the_wires_class_by_class() {
    // 3 8-bit, 2 12-bit, 2 8-bit values: the 8-bit class in slices of 2 (3 slices, the last
    // padded), the 12-bit one in a slice of 2.
    let good = RangeProof {
        runs: vec![(8, 3), (12, 2), (8, 2)],
        classes: vec![class(8, 2), class(12, 2)],
        slices: slices(&[0, 0, 0, 1]),
    };
    let layout = good.layout(7).unwrap();
    assert_eq!(layout.len(), 4);
    assert_eq!(layout[0].wires, vec![0, 1]);
    assert_eq!(layout[1].wires, vec![2, 5]);
    assert_eq!((layout[2].wires.clone(), layout[2].pads), (vec![6], 1));
    assert_eq!((layout[3].class, layout[3].wires.clone()), (1, vec![3, 4]));
    let bytes = good.to_bytes();
    assert_eq!(RangeProof::from_bytes(&bytes).unwrap(), good);
    assert_ne!(
        good.digest(),
        RangeProof {
            runs: vec![],
            ..good.clone()
        }
        .digest()
    );

    let refused = |p: RangeProof, wires: usize, want: &str| {
        let err = p.layout(wires).unwrap_err().to_string();
        assert!(err.contains(want), "{err} lacks {want}");
    };
    refused(
        good.clone(),
        8,
        "the runs cover 7 values, the commitment key has 8",
    );
    refused(
        RangeProof {
            runs: vec![(33, 7)],
            ..good.clone()
        },
        7,
        "a run of 7 values of 33 bits",
    );
    refused(
        RangeProof {
            runs: vec![(0, 7)],
            ..good.clone()
        },
        7,
        "of 0 bits",
    );
    refused(
        RangeProof {
            runs: vec![(8, 0), (8, 7)],
            ..good.clone()
        },
        7,
        "a run of 0 values",
    );
    refused(
        RangeProof {
            classes: vec![class(8, 2)],
            ..good.clone()
        },
        7,
        "1 classes for 2 distinct widths",
    );
    refused(
        RangeProof {
            classes: vec![class(12, 2), class(8, 2)],
            ..good.clone()
        },
        7,
        "class 0 is not a slice of 8-bit values",
    );
    let mut public = class(8, 2);
    public.vk.gamma_abc_g1.push(point(5));
    refused(
        RangeProof {
            classes: vec![public, class(12, 2)],
            ..good.clone()
        },
        7,
        "class 0 is not a slice",
    );
    let mut short_key = class(8, 2);
    short_key.ck = key(1);
    refused(
        RangeProof {
            classes: vec![short_key, class(12, 2)],
            ..good.clone()
        },
        7,
        "class 0 is not a slice",
    );
    refused(
        RangeProof {
            slices: slices(&[0, 0, 1, 0]),
            ..good.clone()
        },
        7,
        "slices, the layout has",
    );
    refused(
        RangeProof {
            slices: slices(&[0, 0, 0]),
            ..good.clone()
        },
        7,
        "3 slices, the layout has 4",
    );
    // A slice longer than all the wires is no slice of them.
    refused(
        RangeProof {
            classes: vec![class(8, 8), class(12, 2)],
            slices: slices(&[0, 1]),
            ..good.clone()
        },
        7,
        "class 0 is not a slice",
    );
    // The widest width a parameter has, 32 bits, is a width.
    let widest = RangeProof {
        runs: vec![(32, 2)],
        classes: vec![class(32, 2)],
        slices: slices(&[0]),
    };
    assert_eq!(widest.layout(2).unwrap().len(), 1);
    // A slice proof that does not verify is named.
    let err = good.verify_slices().unwrap_err().to_string();
    assert!(
        err.contains("range proof of slice 0 (8-bit values)"),
        "{err}"
    );
}
