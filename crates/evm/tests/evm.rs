//! The rendered contract, compiled with solcjs and run in revm, against real receipts: a
//! client's request opened with its deposit settles once, by an honest receipt, and credits the
//! split; every altered part of a receipt, a malleable encoding (an input plus r, a coordinate
//! plus q), a receipt sent to another model's contract or to a second deployment of its own
//! is refused; an unsettled request is reclaimed by its payer after its time; the contract's
//! request digest, venue and job binding are the Rust ones. Gas is printed
//! (`cargo test -p zkw-evm --test evm -- --nocapture`).
//!
//! solcjs is found through `ZKW_SOLC` (`.ci/run` installs it); without it these tests say so
//! loudly and pass, unless `ZKW_REQUIRE_SOLC=1`, which makes a missing compiler a failure.

mod chain;
mod fixture;

use std::io::Write;
use std::path::{Path, PathBuf};

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_groth16::{Groth16, Proof, VerifyingKey, prepare_verifying_key};
use chain::{CALLER, Chain, GENESIS_TIME, Outcome, intrinsic_gas};
use fixture::{
    PYEVM_SENDER, Proved, committed, digested, fixed, private, saturated, venue_of, worker_id,
};
use zkw_evm::abi::{
    Reclaimed, Requested, Settled, balancesCall, jobBindingCall, requestDigestCall, requestsCall,
    settleCall, venueCall, workerKeyCall,
};
use zkw_evm::compile::solc_from_env;
use zkw_evm::{
    EvmError, EvmModel, compile, fr_word, request_call, settle_call, solidity, verify_calldata,
};
use zkw_verifier::statement::OUTPUT_START;
use zkw_verifier::{
    KeyPair, Registration, Reward, VerificationError, VerifierKey, WorkerKey, job_binding,
};

/// BN254's base field modulus.
const Q: U256 = U256::from_be_bytes(alloy_primitives::hex!(
    "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47"
));
/// BN254's scalar field order.
const R: U256 = U256::from_be_bytes(alloy_primitives::hex!(
    "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001"
));

const OWNER: [u8; 32] = [0x0e; 32];
/// The fixture's fee, as the contract counts it; a share whose split rounds.
const FEE: u128 = fixture::FEE as u128;
const SHARE_BPS: u16 = 7000;

/// solcjs, or `None` after a loud notice; a failure instead when `ZKW_REQUIRE_SOLC=1`.
fn solc() -> Option<PathBuf> {
    let found = solc_from_env();
    if found.is_none() {
        if std::env::var("ZKW_REQUIRE_SOLC").as_deref() == Ok("1") {
            panic!("ZKW_REQUIRE_SOLC=1 but ZKW_SOLC does not name a solcjs executable");
        }
        // Straight to stderr, past the test harness's capture, once per run.
        static NOTICE: std::sync::Once = std::sync::Once::new();
        NOTICE.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: the EVM contract tests need solcjs; set ZKW_SOLC to its path \
                 (npm install --prefix target/solc solc@0.8.28, as .ci/run does) ***\n"
            );
        });
    }
    found
}

/// Compiles `p`'s contract (once per model) and deploys it on `chain` from the model's
/// deployer: the first time, at the address its receipts' requests name.
fn deploy(chain: &mut Chain, solc: &Path, p: &Proved) -> Address {
    let bytecode = p.bytecode.get_or_init(|| {
        let source = solidity(&evm_model(p)).unwrap();
        let compiled = compile(solc, &source).unwrap();
        assert!(
            compiled.warnings.is_empty(),
            "solc warns: {:#?}",
            compiled.warnings
        );
        compiled.bytecode
    });
    chain.deploy_from(p.deployer, bytecode)
}

/// Opens the request of `p`'s `k`th receipt on the contract at `at`, paying FEE; its gas.
fn open(chain: &mut Chain, at: Address, p: &Proved, k: usize) -> u64 {
    let rq = p.receipts[k].0.request.as_ref().unwrap();
    let data = request_call(rq).unwrap().abi_encode();
    chain.send_value(at, data, U256::from(rq.fee())).gas()
}

/// The `reclaim(...)` call of `p`'s `k`th receipt's request.
fn reclaim(p: &Proved, k: usize) -> Vec<u8> {
    zkw_evm::reclaim_call(p.receipts[k].0.request.as_ref().unwrap())
        .unwrap()
        .abi_encode()
}

/// The request digest of `p`'s `k`th receipt.
fn digest(p: &Proved, k: usize) -> B256 {
    B256::from(p.receipts[k].0.request.as_ref().unwrap().digest())
}

fn evm_model(p: &Proved) -> EvmModel<'_> {
    EvmModel {
        model_id: p.model_id,
        commitment: p.commitment,
        vk: &p.vk,
        weights: p.record.weights().unwrap(),
        owner: OWNER,
        fee: FEE,
        worker_share_bps: SHARE_BPS,
    }
}

fn call(p: &Proved, k: usize) -> settleCall {
    settle_call(&p.receipts[k].0, &p.record.output).unwrap()
}

fn worker_key() -> B256 {
    // The worker id is the hex of the ed25519 public key.
    B256::from_slice(&hex::decode(worker_id()).unwrap())
}

fn expect_revert(outcome: Outcome, reason: &str, case: &str) {
    match outcome {
        Outcome::Revert(r, _) => assert_eq!(r, reason, "{case}"),
        other => panic!(
            "{case}: expected a revert with {reason:?}, got {}",
            other.describe()
        ),
    }
}

#[test]
fn an_honest_receipt_settles_once_and_credits_the_split() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    let (worker_credit, owner_credit) = Reward {
        fee: FEE as u64,
        worker_share_bps: SHARE_BPS,
        penalty: 0,
    }
    .split();

    // The Groth16 check alone, through verifyProof.
    let verify = verify_calldata(&p.proof(0), &p.inputs(0));
    let verify_gas = chain.call(at, verify.clone()).gas();
    assert!(
        chain.view(
            at,
            zkw_evm::abi::verifyProofCall::abi_decode(&verify).unwrap()
        ),
        "an honest proof verifies"
    );

    let request_gas = open(&mut chain, at, p, 0);
    let d = digest(p, 0);
    let opened = chain.view(at, requestsCall { d });
    assert_eq!((opened.payer, opened.state), (CALLER, 1));
    assert_eq!(
        chain.balance(at),
        U256::from(FEE),
        "the contract holds the deposit"
    );
    let data = call(p, 0).abi_encode();
    let Outcome::Success { gas, logs, .. } = chain.send(at, data.clone()) else {
        panic!("the honest receipt did not settle");
    };
    assert_eq!(chain.view(at, requestsCall { d }).state, 2);
    assert_eq!(
        chain.view(at, balancesCall { key: worker_key() }),
        U256::from(worker_credit)
    );
    assert_eq!(
        chain.view(at, balancesCall { key: OWNER.into() }),
        U256::from(owner_credit)
    );
    assert_eq!(logs.len(), 1);
    let event = Settled::decode_log(&logs[0]).unwrap();
    assert_eq!(event.request, d);
    assert_eq!(event.worker, worker_key());
    assert_eq!(event.workerCredit, U256::from(worker_credit));
    assert_eq!(event.ownerCredit, U256::from(owner_credit));

    // A second job of the same worker and owner: their balances exist, so it costs less.
    open(&mut chain, at, p, 2);
    let second = call(p, 2).abi_encode();
    let second_gas = chain.send(at, second.clone()).gas();
    assert_eq!(
        chain.view(at, balancesCall { key: worker_key() }),
        U256::from(2 * worker_credit)
    );

    let public_inputs = p.inputs(0).len();
    println!(
        "\nEVM gas, {public_inputs} public inputs ({} outputs):\n  \
         verifyProof: {verify_gas} per transaction, {} execution (less 21000 and calldata)\n  \
         request (the client's deposit): {request_gas} per transaction\n  \
         settle, first job (the request opened; both balances new): {gas} per \
         transaction, {} execution\n  \
         settle, next job (existing balances): {second_gas} per transaction, {} execution\n",
        p.receipts[0].0.output.quantized.len(),
        verify_gas - intrinsic_gas(&verify),
        gas - intrinsic_gas(&data),
        second_gas - intrinsic_gas(&second),
    );
}

#[test]
fn a_job_settles_once_whatever_proof_of_it_is_sent() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    let honest = call(p, 0);
    open(&mut chain, at, p, 0);
    let first = chain.send(at, honest.abi_encode()).gas();
    let again = chain.send(at, honest.abi_encode());
    let Outcome::Revert(_, replay_gas) = &again else {
        panic!("a replay did not revert: {}", again.describe())
    };
    let replay_gas = *replay_gas;
    expect_revert(again, "already settled", "the same call again");
    // "Already settled" is checked before the pairing: a replay costs a storage read, the
    // request digest and the worker id's decoding, not a Groth16 verification.
    println!("settle replay: {replay_gas} gas per transaction (first settlement {first})");
    assert!(replay_gas < 60_000, "a replay cost {replay_gas} gas");

    // Another proof of the same statement: valid, and still the job settles once.
    let mut rng = ark_std::test_rng();
    let fresh = Groth16::<Bn254>::rerandomize_proof(&p.vk, &p.proof(0), &mut rng);
    assert_ne!(fresh, p.proof(0));
    let verify = verify_calldata(&fresh, &p.inputs(0));
    assert!(chain.view(
        at,
        zkw_evm::abi::verifyProofCall::abi_decode(&verify).unwrap()
    ));
    let mut replay = honest.clone();
    replay.proof = zkw_evm::proof_words(&fresh);
    expect_revert(
        chain.send(at, replay.abi_encode()),
        "already settled",
        "a re-randomized proof",
    );
    // The request is opened once; nothing was credited twice.
    expect_revert(
        chain.send_value(
            at,
            request_call(p.receipts[0].0.request.as_ref().unwrap())
                .unwrap()
                .abi_encode(),
            U256::from(FEE),
        ),
        "already requested",
        "the same request again",
    );
    assert_eq!(
        chain.view(at, balancesCall { key: OWNER.into() }),
        U256::from(FEE - FEE * SHARE_BPS as u128 / 10_000)
    );
}

/// Every way of altering an honest settle call, named.
fn tampered(honest: &settleCall) -> Vec<(String, settleCall, &'static str)> {
    const BAD: &str = "invalid proof";
    // What the request digest absorbs changes the request: nobody opened that one.
    const UNASKED: &str = "not requested here";
    let mut cases = Vec::new();
    let mut case = |name: String, f: &dyn Fn(&mut settleCall), reason: &'static str| {
        let mut c = honest.clone();
        f(&mut c);
        cases.push((name, c, reason));
    };
    case("job id".into(), &|c| c.jobId.push('x'), BAD);
    case(
        "another worker".into(),
        &|c| c.workerId = WorkerKey::from_seed(&[8; 32]).worker_id(),
        BAD,
    );
    case(
        "worker id in upper case".into(),
        &|c| c.workerId = c.workerId.to_uppercase(),
        "worker id is not lower-case hex",
    );
    case(
        "worker id one digit short".into(),
        &|c| {
            c.workerId.pop();
        },
        "worker id is not 64 hex digits",
    );
    case(
        "client nonce".into(),
        &|c| c.ask.clientNonce.push('x'),
        UNASKED,
    );
    case(
        "empty client nonce".into(),
        &|c| c.ask.clientNonce.clear(),
        UNASKED,
    );
    case(
        "another client".into(),
        &|c| c.ask.client = B256::repeat_byte(0x0d),
        UNASKED,
    );
    case(
        "input digest + 1".into(),
        &|c| c.ask.inputDigest += U256::from(1),
        UNASKED,
    );
    case(
        "input digest + r".into(),
        &|c| c.ask.inputDigest += R,
        UNASKED,
    );
    case("fee + 1".into(), &|c| c.ask.fee += U256::from(1), UNASKED);
    for i in 0..honest.outputs.len() {
        case(
            format!("output {i} + 1"),
            &|c| c.outputs[i] += U256::from(1),
            BAD,
        );
        case(format!("output {i} + r"), &|c| c.outputs[i] += R, BAD);
    }
    case(
        "one output more".into(),
        &|c| c.outputs.push(U256::ZERO),
        "wrong number of outputs",
    );
    case(
        "one output less".into(),
        &|c| {
            c.outputs.pop();
        },
        "wrong number of outputs",
    );
    for w in 0..8 {
        for byte in [31, 16] {
            case(
                format!("proof word {w}, byte {byte} flipped"),
                &|c| {
                    let mut b = c.proof[w].to_be_bytes::<32>();
                    b[byte] ^= 0x01;
                    c.proof[w] = U256::from_be_bytes(b);
                },
                BAD,
            );
        }
        case(format!("proof word {w} + q"), &|c| c.proof[w] += Q, BAD);
    }
    case(
        "A and C swapped".into(),
        &|c| {
            c.proof.swap(0, 6);
            c.proof.swap(1, 7);
        },
        BAD,
    );
    case(
        "B's coordinates in arkworks order (c0, c1)".into(),
        &|c| {
            c.proof.swap(2, 3);
            c.proof.swap(4, 5);
        },
        BAD,
    );
    cases
}

#[test]
fn every_altered_part_of_a_receipt_is_refused() {
    let Some(solc) = solc() else { return };
    for p in [fixed(), private()] {
        let mut chain = Chain::new();
        let at = deploy(&mut chain, &solc, p);
        let honest = call(p, 0);
        open(&mut chain, at, p, 0);
        let cases = tampered(&honest);
        assert!(cases.len() > 30);
        for (name, c, reason) in cases {
            expect_revert(chain.send(at, c.abi_encode()), reason, &name);
        }
        // The contract was able to settle all along: the honest call still does.
        chain.send(at, honest.abi_encode()).gas();
        assert_eq!(
            chain.view(at, balancesCall { key: OWNER.into() }),
            U256::from(FEE - FEE * SHARE_BPS as u128 / 10_000)
        );
    }
}

#[test]
fn a_receipt_settles_only_on_its_own_models_contract() {
    let Some(solc) = solc() else { return };
    let (a, b) = (fixed(), private());
    let mut chain = Chain::new();
    let at_a = deploy(&mut chain, &solc, a);
    let at_b = deploy(&mut chain, &solc, b);
    // Same shapes, same job strings, the same client request (client, nonce, input) opened on
    // both contracts: only the model differs.
    for at in [at_a, at_b] {
        open(&mut chain, at, a, 1);
    }
    expect_revert(
        chain.send(at_b, call(a, 1).abi_encode()),
        "invalid proof",
        "model A's receipt to model B",
    );
    expect_revert(
        chain.send(at_a, call(b, 1).abi_encode()),
        "invalid proof",
        "model B's receipt to model A",
    );
    let verify = verify_calldata(&a.proof(1), &a.inputs(1));
    assert!(!chain.view(
        at_b,
        zkw_evm::abi::verifyProofCall::abi_decode(&verify).unwrap()
    ));
    chain.send(at_a, call(a, 1).abi_encode()).gas();
    chain.send(at_b, call(b, 1).abi_encode()).gas();
}

/// Committed weights on chain: the contract adds the registered `D_reg` to the constant
/// wire's point, so the receipt settles as plain Groth16; the same contract without it — a
/// verifier that forgot the commitment — refuses every proof, and a fixed-weights receipt of
/// the same shapes is refused too.
#[test]
fn a_committed_weights_receipt_settles_with_its_commitment_as_a_constant() {
    let Some(solc) = solc() else { return };
    let p = committed();
    assert!(p.record.weights().unwrap().is_some());
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    let verify = verify_calldata(&p.proof(0), &p.inputs(0));
    assert!(chain.view(
        at,
        zkw_evm::abi::verifyProofCall::abi_decode(&verify).unwrap()
    ));
    open(&mut chain, at, p, 0);
    let Outcome::Success { .. } = chain.send(at, call(p, 0).abi_encode()) else {
        panic!("the committed-weights receipt did not settle");
    };
    expect_revert(
        chain.send(at, call(p, 0).abi_encode()),
        "already settled",
        "the same receipt twice",
    );

    let forgetful = solidity(&EvmModel {
        weights: None,
        ..evm_model(p)
    })
    .unwrap();
    let bytecode = compile(&solc, &forgetful).unwrap().bytecode;
    let without = chain.deploy(&bytecode);
    assert!(!chain.view(
        without,
        zkw_evm::abi::verifyProofCall::abi_decode(&verify).unwrap()
    ));

    let f = fixed();
    open(&mut chain, at, f, 1);
    expect_revert(
        chain.send(at, call(f, 1).abi_encode()),
        "invalid proof",
        "a fixed-weights receipt to the committed model's contract",
    );
}

#[test]
fn verify_proof_answers_false_to_every_malleable_or_malformed_input() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    let verifies = |chain: &mut Chain, proof: [U256; 8], inputs: Vec<U256>| {
        let c = zkw_evm::abi::verifyProofCall { proof, inputs };
        chain.view(at, c)
    };
    // Every receipt verifies.
    for k in 0..p.receipts.len() {
        let words: Vec<U256> = p.inputs(k).iter().map(fr_word).collect();
        assert!(verifies(
            &mut chain,
            zkw_evm::proof_words(&p.proof(k)),
            words
        ));
    }
    // So does one whose packed output is zero (every value at -128), for which the contract
    // skips the ecMul; and its statement with the output raised by one does not.
    let s = saturated();
    let at_s = deploy(&mut chain, &solc, s);
    let zero = s.inputs(0);
    assert_eq!(s.receipts[0].0.output.quantized, [-128, -128]);
    assert_eq!(zero[OUTPUT_START], Fr::from(0u64));
    let words: Vec<U256> = zero.iter().map(fr_word).collect();
    let proof = zkw_evm::proof_words(&s.proof(0));
    let check = |chain: &mut Chain, inputs: Vec<U256>| {
        chain.view(at_s, zkw_evm::abi::verifyProofCall { proof, inputs })
    };
    assert!(check(&mut chain, words.clone()));
    let mut raised = words;
    raised[OUTPUT_START] = U256::from(1u64);
    assert!(!check(&mut chain, raised));

    let proof = zkw_evm::proof_words(&p.proof(0));
    let inputs: Vec<U256> = p.inputs(0).iter().map(fr_word).collect();
    for i in 0..inputs.len() {
        // ecMul reduces its scalar mod r: without the range check, input + r would verify.
        let mut x = inputs.clone();
        x[i] += R;
        assert!(!verifies(&mut chain, proof, x), "input {i} + r");
        let mut x = inputs.clone();
        x[i] += U256::from(1);
        assert!(!verifies(&mut chain, proof, x), "input {i} + 1");
    }
    for w in 0..8 {
        // A false, not a revert: A.y + q would underflow q - A.y, B and C would fail in the
        // precompile.
        let mut bad = proof;
        bad[w] += Q;
        assert!(!verifies(&mut chain, bad, inputs.clone()), "word {w} + q");
    }
    let mut short = inputs.clone();
    short.pop();
    assert!(!verifies(&mut chain, proof, short));
    let mut long = inputs.clone();
    long.push(U256::ZERO);
    assert!(!verifies(&mut chain, proof, long));
    assert!(!verifies(&mut chain, [U256::ZERO; 8], inputs.clone()));
}

#[test]
fn the_contracts_job_binding_and_worker_key_are_the_rust_ones() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    let long = "j".repeat(1024);
    for (job, worker, nonce, request) in [
        ("job-1", worker_id().as_str(), "nonce", [1u8; 32]),
        ("", "", "", [0; 32]),
        ("ab", "c", "", [0xff; 32]),
        ("a", "bc", "", [7; 32]),
        (long.as_str(), "w", "n~ !", [9; 32]),
    ] {
        let on_chain = chain.view(
            at,
            jobBindingCall {
                jobId: job.into(),
                workerId: worker.into(),
                clientNonce: nonce.into(),
                requestDigest_: request.into(),
            },
        );
        assert_eq!(
            on_chain,
            fr_word(&job_binding(job, worker, nonce, Some(&request))),
            "{job:?}"
        );
    }
    // The venue and the request digest are the Rust ones: this contract is the venue the
    // fixture's requests name, and each receipt's request digest is what it computes.
    let venue = chain.view(at, venueCall {});
    assert_eq!(venue.to_vec(), venue_of(p.deployer).to_bytes());
    for (k, (r, _)) in p.receipts.iter().enumerate() {
        let rq = r.request.as_ref().unwrap();
        let on_chain = chain.view(
            at,
            requestDigestCall {
                ask: zkw_evm::calldata::ask(rq),
            },
        );
        assert_eq!(on_chain, digest(p, k));
    }
    assert_eq!(
        chain.view(
            at,
            workerKeyCall {
                workerId: worker_id()
            }
        ),
        worker_key()
    );
    for bad in [
        "g".repeat(64),
        "0".repeat(63),
        "0".repeat(65),
        "A".repeat(64),
    ] {
        assert!(matches!(
            chain.call(at, workerKeyCall { workerId: bad }.abi_encode()),
            Outcome::Revert(..)
        ));
    }
}

#[test]
fn a_digested_output_settles_as_one_element() {
    let Some(solc) = solc() else { return };
    let p = digested();
    assert_eq!(p.receipts[0].0.output.quantized.len(), 70);
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    let honest = call(p, 0);
    assert_eq!(honest.outputs.len(), 1);
    open(&mut chain, at, p, 0);
    let mut bad = honest.clone();
    bad.outputs[0] += U256::from(1);
    expect_revert(
        chain.send(at, bad.abi_encode()),
        "invalid proof",
        "digest + 1",
    );
    chain.send(at, honest.abi_encode()).gas();
}

#[test]
fn a_linear_combination_whose_calls_return_nothing_is_no_success() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    // A key of the fixed model's shape whose every discrete log is known, so a "proof" can
    // be made for any combination L: with A = C = G1 and B = (a·b + g·l + d)·G2, where l is
    // L's discrete log, e(A, B) = e(α, β)·e(L, γ)·e(C, δ).
    let (a, b, g, d) = (
        Fr::from(3u64),
        Fr::from(5u64),
        Fr::from(7u64),
        Fr::from(11u64),
    );
    let ic: Vec<Fr> = (0..p.vk.gamma_abc_g1.len() as u64)
        .map(|i| Fr::from(13 + 2 * i))
        .collect();
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    let vk = VerifyingKey::<Bn254> {
        alpha_g1: (g1 * a).into_affine(),
        beta_g2: (g2 * b).into_affine(),
        gamma_g2: (g2 * g).into_affine(),
        delta_g2: (g2 * d).into_affine(),
        gamma_abc_g1: ic.iter().map(|k| (g1 * k).into_affine()).collect(),
    };
    let forge = |l: Fr| Proof::<Bn254> {
        a: g1,
        b: (g2 * (a * b + g * l + d)).into_affine(),
        c: g1,
    };
    let inputs = p.inputs(0);
    let l_true = ic[0] + inputs.iter().zip(&ic[1..]).map(|(x, k)| *x * k).sum::<Fr>();
    // The contract's constant L0 = IC_0 + commitment·IC_1, where its combination starts.
    let l0 = ic[0] + inputs[0] * ic[1];
    assert!(inputs[1..].iter().any(|x| *x != Fr::from(0u64)));
    assert!(
        Groth16::<Bn254>::verify_proof(&prepare_verifying_key(&vk), &forge(l_true), &inputs)
            .unwrap(),
        "the made-up key is a working key"
    );

    let source = solidity(&EvmModel {
        vk: &vk,
        ..evm_model(p)
    })
    .unwrap();
    let bytecode = compile(&solc, &source).unwrap().bytecode;
    let verifies = |mut chain: Chain, proof: Proof<Bn254>| {
        let at = chain.deploy(&bytecode);
        let call = zkw_evm::abi::verifyProofCall::abi_decode(&verify_calldata(&proof, &inputs));
        chain.view(at, call.unwrap())
    };
    assert!(verifies(Chain::new(), forge(l_true)));
    assert!(!verifies(Chain::new(), forge(l0)));
    // Without ecAdd each call "succeeds" with no output and memory still holds the
    // accumulator, so L would stay L0 whatever the inputs: only the returndata length tells
    // that from a combination that was computed. (Without ecMul alone, ecAdd is handed
    // (s, 0), never a point, since G1 has no point of order 2: that call fails either way.)
    use revm::precompile::bn254::{add, mul};
    for missing in [vec![add::ISTANBUL], vec![add::ISTANBUL, mul::ISTANBUL]] {
        assert!(!verifies(Chain::without(&missing), forge(l0)));
        assert!(!verifies(Chain::without(&missing), forge(l_true)));
    }
    assert!(!verifies(Chain::without(&[mul::ISTANBUL]), forge(l0)));
}

#[test]
fn a_signed_registration_renders_the_contract_of_its_terms() {
    // No compiler needed: the source from a registration is the source from its terms.
    let p = fixed();
    let owner = KeyPair::from_seed(&[0x0e; 32]);
    let reward = Reward {
        fee: FEE as u64,
        worker_share_bps: SHARE_BPS,
        penalty: 5,
    };
    let mut registration = Registration::new(
        p.record.clone(),
        &VerifierKey::new(p.vk.clone()),
        reward,
        Default::default(),
    );
    registration.sign(&owner);
    // The fixture's model is set up without an owner (what renders is the same): read as far
    // as its owner's signature and key, as `from_json` reads an owned one.
    let parsed = Registration::parse(registration.to_json().as_bytes()).unwrap();
    let key = parsed.check().unwrap();
    let registered = zkw_verifier::RegisteredModel {
        registration: parsed,
        key,
    };
    let from_registration = solidity(&EvmModel::from_registered(&registered).unwrap()).unwrap();
    let by_hand = solidity(&EvmModel {
        owner: hex::decode(owner.public_hex()).unwrap().try_into().unwrap(),
        ..evm_model(p)
    })
    .unwrap();
    assert_eq!(from_registration, by_hand);
}

#[test]
fn a_pairing_call_that_returns_nothing_is_no_success() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    // On a chain without the pairing precompile, a call to 0x08 succeeds with no output and
    // the contract's buffer still holds its input, whose first word is -A's x. With A the
    // generator (1, 2) that word is 1: only the returndata length tells it from a yes.
    let mut chain = Chain::without_pairing();
    let at = deploy(&mut chain, &solc, p);
    open(&mut chain, at, p, 0);
    let mut forged = call(p, 0);
    forged.proof[0] = U256::from(1);
    forged.proof[1] = U256::from(2);
    let verify = zkw_evm::abi::verifyProofCall {
        proof: forged.proof,
        inputs: p.inputs(0).iter().map(fr_word).collect(),
    };
    assert!(!chain.view(at, verify));
    expect_revert(
        chain.send(at, forged.abi_encode()),
        "invalid proof",
        "forged A",
    );
    // Not even an honest proof verifies there.
    expect_revert(
        chain.send(at, call(p, 0).abi_encode()),
        "invalid proof",
        "no pairing precompile",
    );
}

#[test]
fn calldata_is_refused_for_an_output_the_record_does_not_describe() {
    // The packed elements bind neither the count nor the width of the output values: a
    // trailing -128 packs to zero. The calldata is checked against the record as verification
    // is, so a receipt it refuses is named here instead of reverting on chain.
    let p = fixed();
    let honest = &p.receipts[0].0;
    let mut longer = honest.clone();
    longer.output.quantized.push(-128);
    longer
        .output
        .values
        .push(-128.0 * (-(p.record.output.frac_bits as f64)).exp2());
    longer.output.shape = vec![3];
    let Err(err) = settle_call(&longer, &p.record.output) else {
        panic!("a longer output has calldata")
    };
    assert!(
        matches!(
            &err,
            EvmError::Receipt(VerificationError::OutputMismatch(m))
                if m == "shape [3], the model outputs shape [2]"
        ),
        "{err:?}"
    );
    let mut high = honest.clone();
    high.output.quantized[1] = 128;
    high.output.values[1] = 128.0 * (-(p.record.output.frac_bits as f64)).exp2();
    let Err(err) = settle_call(&high, &p.record.output) else {
        panic!("an output outside its width has calldata")
    };
    assert!(
        matches!(&err, EvmError::Output(e) if (e.index, e.value, e.bits) == (1, 128, 8)),
        "{err:?}"
    );
}

/// An owner's possession receipt (made at setup, published in its setup statement) is no
/// client's job: the contract refuses any job id with the ownership prefix before anything
/// else, so nobody can get it credited.
#[test]
fn an_ownership_proof_is_not_a_job_on_chain_either() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    open(&mut chain, at, p, 0);
    let mut c = call(p, 0);
    c.jobId = format!(
        "{}{}",
        zkw_verifier::ownership::OWNERSHIP_JOB_PREFIX,
        "ab".repeat(32)
    );
    expect_revert(
        chain.send(at, c.abi_encode()),
        "an ownership proof is not a job",
        "the ownership prefix",
    );
    // The prefix alone, and a job id that merely contains it elsewhere: the first refused, the
    // second only a wrong proof.
    c.jobId = zkw_verifier::ownership::OWNERSHIP_JOB_PREFIX.into();
    expect_revert(
        chain.send(at, c.abi_encode()),
        "an ownership proof is not a job",
        "the bare prefix",
    );
    c.jobId = format!("x{}", zkw_verifier::ownership::OWNERSHIP_JOB_PREFIX);
    expect_revert(
        chain.send(at, c.abi_encode()),
        "invalid proof",
        "prefix inside",
    );
    assert_eq!(
        chain.view(at, balancesCall { key: OWNER.into() }),
        U256::ZERO
    );
}

/// A precompile that fails keeps all the gas it was handed. The contract hands each one its
/// EIP-1108 price and no more, so a proof with a point off the curve costs a bounded amount —
/// not the ~15M (63/64 of what was left) it burned when every call was given `gas()`.
#[test]
fn a_malformed_point_costs_the_precompiles_price_not_the_callers_gas() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    open(&mut chain, at, p, 0);
    let mut c = call(p, 0);
    // A = (1, 3): below Q, not on y^2 = x^3 + 3.
    c.proof[0] = U256::from(1u64);
    c.proof[1] = U256::from(3u64);
    match chain.send(at, c.abi_encode()) {
        Outcome::Revert(reason, gas) => {
            assert_eq!(reason, "invalid proof");
            println!("settle with a malformed point: {gas} gas per transaction");
            assert!(gas < 500_000, "a malformed point cost {gas} gas");
        }
        other => panic!("{}", other.describe()),
    }
}

/// A Python with py-evm, when one is given (`ZKW_PYEVM`, as `.ci/run` sets it); required under
/// `ZKW_REQUIRE_PYEVM=1`.
fn pyevm() -> Option<PathBuf> {
    match std::env::var_os("ZKW_PYEVM") {
        Some(p) if Path::new(&p).is_file() => Some(PathBuf::from(p)),
        _ if std::env::var("ZKW_REQUIRE_PYEVM").as_deref() == Ok("1") => {
            panic!("ZKW_REQUIRE_PYEVM=1 but ZKW_PYEVM does not name a Python with py-evm")
        }
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: the second-EVM test needs py-evm; set ZKW_PYEVM to a Python \
                 that has it (.ci/run makes one under target/pyevm) ***\n"
            );
            None
        }
    }
}

/// The same transactions in a second EVM implementation, py-evm (Prague rules), give the same
/// outcome and the same gas as in revm: the contract's cost is the EVM's, not our harness's —
/// the verification, a first and a later settlement, a replay, a forged proof.
#[test]
fn a_second_evm_runs_the_contract_with_the_same_outcomes_and_gas() {
    let Some(solc) = solc() else { return };
    let Some(python) = pyevm() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    // The same account deploys in both EVMs, on the same chain id: the contract's address is
    // the venue the receipts' requests name there too.
    assert_eq!(p.deployer, PYEVM_SENDER);
    let mut forged = call(p, 1);
    forged.proof[6] = U256::from(1u64);
    forged.proof[7] = U256::from(2u64);
    let request = |k: usize| {
        request_call(p.receipts[k].0.request.as_ref().unwrap())
            .unwrap()
            .abi_encode()
    };
    let fee = U256::from(FEE);
    let calls: Vec<(&str, Vec<u8>, U256)> = vec![
        (
            "verifyProof",
            verify_calldata(&p.proof(0), &p.inputs(0)),
            U256::ZERO,
        ),
        ("request, first job", request(0), fee),
        ("settle, first job", call(p, 0).abi_encode(), U256::ZERO),
        ("request, next job", request(2), fee),
        ("settle, next job", call(p, 2).abi_encode(), U256::ZERO),
        ("settle again", call(p, 0).abi_encode(), U256::ZERO),
        ("settle, unrequested", call(p, 1).abi_encode(), U256::ZERO),
        ("request, third job", request(1), fee),
        ("settle, forged proof", forged.abi_encode(), U256::ZERO),
    ];
    let revm: Vec<(bool, u64)> = calls
        .iter()
        .map(
            |(_, data, value)| match chain.send_from(PYEVM_SENDER, at, data.clone(), *value) {
                Outcome::Success { gas, .. } => (true, gas),
                Outcome::Revert(_, gas) => (false, gas),
                other => panic!("{}", other.describe()),
            },
        )
        .collect();
    let job = serde_json::json!({
        "bytecode": format!("0x{}", hex::encode(p.bytecode.get().unwrap())),
        "chain_id": chain::CHAIN_ID,
        "timestamp": GENESIS_TIME,
        "calls": calls.iter().map(|(_, d, v)| serde_json::json!({
            "data": format!("0x{}", hex::encode(d)),
            "value": v.to_string(),
        })).collect::<Vec<_>>(),
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyevm/run.py");
    let mut child = std::process::Command::new(&python)
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run py-evm");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "py-evm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pyevm: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pyevm.len(), calls.len());
    for (((what, _, _), (ok, gas)), py) in calls.iter().zip(&revm).zip(&pyevm) {
        println!(
            "{what}: revm {gas} gas ({ok}), py-evm {} gas ({})",
            py["gas"], py["success"]
        );
        assert_eq!(py["success"], *ok, "{what}");
        assert_eq!(py["gas"], *gas, "{what}: the two EVMs disagree on gas");
    }
    assert_eq!(
        revm.iter().map(|r| r.0).collect::<Vec<_>>(),
        [true, true, true, true, true, false, false, true, false]
    );
}

/// The venue is in the proof: a second deployment of the same model's contract (the same
/// bytecode, another address) pays none of the receipts made for the first — whether or not
/// a client opens the same request there — and the first still pays them.
#[test]
fn a_receipt_is_refused_by_a_second_deployment_of_its_contract() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let first = deploy(&mut chain, &solc, p);
    let second = chain.deploy_from(p.deployer, p.bytecode.get().unwrap());
    assert_ne!(first, second);
    expect_revert(
        chain.send(second, call(p, 0).abi_encode()),
        "not requested here",
        "no request opened at the second deployment",
    );
    // The same client, nonce and input opened there make another request (its venue differs),
    // and the receipt made for the first deployment is no proof of it.
    open(&mut chain, second, p, 0);
    assert_ne!(
        chain.view(
            second,
            requestDigestCall {
                ask: call(p, 0).ask,
            }
        ),
        digest(p, 0)
    );
    expect_revert(
        chain.send(second, call(p, 0).abi_encode()),
        "invalid proof",
        "the first deployment's receipt at the second",
    );
    open(&mut chain, first, p, 0);
    chain.send(first, call(p, 0).abi_encode()).gas();
    assert_eq!(
        chain.view(second, balancesCall { key: OWNER.into() }),
        U256::ZERO
    );
}

/// A deposit is exactly the request's fee, which is at least FEE; a request nobody settles
/// goes back to its payer (and only to it) once REQUEST_TTL has passed, after which it settles
/// nowhere; a settled request cannot be reclaimed.
#[test]
fn an_unsettled_request_is_reclaimed_by_its_payer_after_its_time() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    let rq = request_call(p.receipts[0].0.request.as_ref().unwrap())
        .unwrap()
        .abi_encode();
    for wrong in [U256::ZERO, U256::from(FEE - 1), U256::from(FEE + 1)] {
        expect_revert(
            chain.send_value(at, rq.clone(), wrong),
            "the deposit must be the request's fee",
            &format!("a deposit of {wrong}"),
        );
    }
    // A request below the model's fee is refused whatever is sent (the client's tool refuses
    // to sign one, but anyone may call).
    let mut cheap = request_call(p.receipts[0].0.request.as_ref().unwrap()).unwrap();
    cheap.ask.fee = U256::from(FEE - 1);
    expect_revert(
        chain.send_value(at, cheap.abi_encode(), U256::from(FEE - 1)),
        "the fee is below the model's",
        "a fee below FEE",
    );
    let Outcome::Success { logs, .. } = chain.send_value(at, rq, U256::from(FEE)) else {
        panic!("the request was not opened");
    };
    let event = Requested::decode_log(&logs[0]).unwrap();
    assert_eq!(
        (event.request, event.client, event.payer),
        (digest(p, 0), B256::from(fixture::client().public()), CALLER)
    );
    let before = chain.balance(CALLER);
    expect_revert(
        chain.send(at, reclaim(p, 0)),
        "still open to workers",
        "a reclaim before its time",
    );
    chain.set_time(GENESIS_TIME + 7 * 24 * 3600);
    expect_revert(
        chain.send_from(PYEVM_SENDER, at, reclaim(p, 0), U256::ZERO),
        "only its payer reclaims a request",
        "a reclaim by another account",
    );
    let Outcome::Success { logs, .. } = chain.send(at, reclaim(p, 0)) else {
        panic!("the payer could not reclaim");
    };
    assert_eq!(Reclaimed::decode_log(&logs[0]).unwrap().payer, CALLER);
    assert_eq!(chain.balance(CALLER), before + U256::from(FEE));
    assert_eq!(chain.balance(at), U256::ZERO);
    expect_revert(
        chain.send(at, call(p, 0).abi_encode()),
        "reclaimed by its payer",
        "a receipt of a reclaimed request",
    );
    expect_revert(
        chain.send(at, reclaim(p, 0)),
        "not an open request",
        "a second reclaim",
    );
    // A settled request stays settled: its deposit is the worker's and the owner's.
    open(&mut chain, at, p, 1);
    chain.send(at, call(p, 1).abi_encode()).gas();
    chain.set_time(GENESIS_TIME + 30 * 24 * 3600);
    expect_revert(
        chain.send(at, reclaim(p, 1)),
        "not an open request",
        "a reclaim of a settled request",
    );
    assert_eq!(chain.balance(at), U256::from(FEE));
}

/// A receipt without a client request, or whose request names a ledger, has no settle call:
/// it settles on no contract.
#[test]
fn a_receipt_without_an_onchain_request_has_no_settle_call() {
    let p = fixed();
    let mut bare = p.receipts[0].0.clone();
    bare.request = None;
    let Err(err) = settle_call(&bare, &p.record.output) else {
        panic!("a receipt without a request has calldata")
    };
    assert!(
        matches!(&err, EvmError::NotPayable(m) if m.contains("no client request")),
        "{err:?}"
    );
    let rq = p.receipts[0].0.request.as_ref().unwrap();
    let ledger = zkw_verifier::ClientRequest::sign(
        &fixture::client(),
        &rq.model_id(),
        rq.input_digest(),
        rq.client_nonce(),
        zkw_verifier::Venue::Ledger([1; 32]),
        rq.fee(),
    )
    .unwrap();
    let mut elsewhere = p.receipts[0].0.clone();
    elsewhere.request = Some(ledger.clone());
    assert!(matches!(
        settle_call(&elsewhere, &p.record.output),
        Err(EvmError::NotPayable(m)) if m.contains("names venue ledger:")
    ));
    assert!(matches!(
        request_call(&ledger),
        Err(EvmError::NotPayable(_))
    ));
}

/// A client may sign a request for more than the model's least fee (the ledger's rule too):
/// the contract takes that fee as the deposit, the receipt settles, and worker and owner share
/// the whole of it. (Before, the contract rebuilt every request at FEE, so such a request was
/// paid in, proved, and could only be reclaimed: found by the review of this change.)
#[test]
fn a_request_for_more_than_the_least_fee_settles_and_pays_its_fee() {
    let Some(solc) = solc() else { return };
    let p = fixed();
    let k = fixture::GENEROUS;
    assert_eq!(
        p.receipts[k].0.request.as_ref().unwrap().fee(),
        2 * fixture::FEE
    );
    let mut chain = Chain::new();
    let at = deploy(&mut chain, &solc, p);
    open(&mut chain, at, p, k);
    assert_eq!(chain.balance(at), U256::from(2 * FEE));
    // The settle call names the fee; another fee is another request, opened by nobody.
    let mut cheaper = call(p, k);
    cheaper.ask.fee = U256::from(FEE);
    expect_revert(
        chain.send(at, cheaper.abi_encode()),
        "not requested here",
        "the generous request settled at the least fee",
    );
    chain.send(at, call(p, k).abi_encode()).gas();
    let (worker_credit, owner_credit) = Reward {
        fee: 2 * fixture::FEE,
        worker_share_bps: SHARE_BPS,
        penalty: 0,
    }
    .split();
    assert_eq!(
        chain.view(at, balancesCall { key: worker_key() }),
        U256::from(worker_credit)
    );
    assert_eq!(
        chain.view(at, balancesCall { key: OWNER.into() }),
        U256::from(owner_credit)
    );
}
