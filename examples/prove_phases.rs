//! Where a Groth16 proof's time goes, for one model and its keys: the QAP witness map (FFTs),
//! the quotient's MSM, and each MSM over the job's difference from the baseline, timed one by
//! one on the assignment the prover would use, then the whole proof as the prover makes it.
//!
//! ```text
//! cargo run --release --example prove_phases -- MODEL.zkm KEYS_DIR INPUT.json
//! ```

use std::path::PathBuf;
use std::time::Instant;

use ark_bn254::{Fr, G1Projective, G2Projective};
use ark_ec::VariableBaseMSM;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_poly::GeneralEvaluationDomain;
use zkw_model::input::{quantize_input, read_input_file};
use zkw_prover::LocalProver;
use zkw_prover::groth16::create_proof;
use zkw_prover::msm::msm_g1;
use zkw_verifier::Job;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [model_path, keys_dir, input] = args.as_slice() else {
        return Err("usage: prove_phases MODEL.zkm KEYS_DIR INPUT.json".into());
    };
    let (model, id) = zkw_model::load_model(model_path)?;
    let q = quantize_input(&model.input_info(), &read_input_file(input)?)?;
    let prover = LocalProver::load(model.clone(), &id, keys_dir)?;
    let pk = prover.proving_key();
    let job = Job {
        job_id: "phases".into(),
        worker_id: "phases".into(),
        client_nonce: String::new(),
        request: None,
    };
    let t = Instant::now();
    let salt = zkw_verifier::InputSalt::from_bytes([7; 31]);
    let circuit = prover.circuit(zkw_model::run(&model, &q)?, &salt, &job)?;
    let z = prover.assignment(circuit)?;
    println!("witness synthesis      {:?}", t.elapsed());
    let m = prover.matrices();
    let t = Instant::now();
    let h = LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        &m.abc,
        m.num_instance_variables,
        m.num_constraints,
        &z,
    )?;
    println!(
        "QAP witness map        {:?} (domain {})",
        t.elapsed(),
        h.len()
    );
    let hb: Vec<_> = h.iter().map(|s| s.into_bigint()).collect();
    let t = Instant::now();
    let _ = std::hint::black_box(G1Projective::msm_bigint(&pk.h_query, &hb));
    println!("H MSM (G1), ark-ec     {:?}", t.elapsed());
    let t = Instant::now();
    let _ = std::hint::black_box(msm_g1(&pk.h_query, &hb));
    println!("H MSM (G1), ours       {:?}", t.elapsed());

    let base = prover.baseline();
    let diff: Vec<_> = z
        .iter()
        .zip(&base.z)
        .map(|(x, r)| (*x - r).into_bigint())
        .collect();
    let changed = diff.iter().filter(|d| !d.is_zero()).count();
    println!(
        "assignment             {} variables, {} differ from the baseline",
        z.len(),
        changed
    );
    let aux = &diff[m.num_instance_variables..];
    let t = Instant::now();
    let _ = std::hint::black_box(G1Projective::msm_bigint(&pk.a_query, &diff));
    println!("A MSM (G1), difference {:?}", t.elapsed());
    let t = Instant::now();
    let _ = std::hint::black_box(G1Projective::msm_bigint(&pk.b_g1_query, &diff));
    println!("B MSM (G1), difference {:?}", t.elapsed());
    let t = Instant::now();
    let _ = std::hint::black_box(G2Projective::msm_bigint(&pk.b_g2_query, &diff));
    println!("B MSM (G2), difference {:?}", t.elapsed());
    let t = Instant::now();
    let _ = std::hint::black_box(G1Projective::msm_bigint(&pk.l_query, aux));
    println!("L MSM (G1), difference {:?}", t.elapsed());

    let (r, s) = (Fr::from(3u64), Fr::from(5u64));
    for _ in 0..3 {
        let t = Instant::now();
        let _ = std::hint::black_box(create_proof(pk, m, base, &z, r, s)?);
        println!("whole proof            {:?}", t.elapsed());
    }
    Ok(())
}
