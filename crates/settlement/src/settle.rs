//! Settling receipts: verify under the registered key, then credit, penalise or refuse.
//!
//! For each receipt, in order:
//!
//! 1. Its model's registration comes from the [`Registry`] (owner-signed, checked on read);
//!    a receipt for a model the registry does not hold is refused.
//! 2. The receipts of one model are verified together ([`zkw_verifier::verify_batch`]: one
//!    pairing product for the batch, the bad ones found by halving) against the registered
//!    verifying key and commitment. Settlement knows no client, so the input and the job are
//!    not compared with a client's expectation: what is checked is that the proof is a true
//!    statement about the registered model for the job, worker and nonce the receipt names.
//! 3. A receipt that verifies is paid only when its worker signed it and holds a licence for
//!    the model that has not expired, and when it answers a client's signed request that
//!    names this ledger as its venue (one the model's registration lists), for a fee of at
//!    least the model's that the client holds; otherwise it is left unpaid, with the reason. A
//!    request is paid once, whichever worker proved it: its client is debited the fee it
//!    signed, which worker and owner share by the registration's split.
//! 4. A receipt its worker signed that fails verification — a proof that does not verify, an
//!    output outside the model's format — is a false claim the worker answers for: it is
//!    recorded as a penalty (once per receipt) and the receipt kept as evidence. Every field of
//!    a receipt, proof included, is under the signature, so no third party can turn an honest
//!    receipt into a failing signed one. A receipt that names another verifying key than the
//!    registered one is refused without penalty (its worker may hold an older key). Unsigned
//!    receipts, or receipts whose signature is not their worker's, are only refused.
//! 5. The ledger writes every decision in one transaction; a job settled before is refused
//!    with the settlement that took it, and a signed receipt that fails for a job (or is the
//!    very receipt) the ledger settled before is a dispute, never a penalty: it verified once,
//!    so what changed is the terms it is judged by.

use std::collections::BTreeMap;

use zkw_verifier::signature::receipt_digest;
use zkw_verifier::{
    Expected, Receipt, RegisteredModel, Signer, VerificationError, Verified, check_signature,
    verify_batch,
};

use crate::error::SettlementError;
use crate::ledger::{Action, Dispute, Entry, Ledger, Penalty, Pin, Recorded, Settlement};
use crate::registry::Registry;

/// What settlement did with one receipt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Verified, signed, licensed: worker and owner were credited.
    Settled(Settlement),
    /// The job was settled before; nothing was paid. `same_receipt`: the receipt that settled
    /// it signed the same content (a copy, perhaps re-spelled); `also`: why this receipt would
    /// have been refused anyway.
    AlreadySettled {
        /// The settlement that took the job.
        by: Settlement,
        /// Whether this receipt is (up to JSON spelling) the one that settled it.
        same_receipt: bool,
        /// What else is wrong with this receipt, if anything.
        also: Option<VerificationError>,
    },
    /// Signed by its worker but false: the worker was charged the model's penalty.
    Penalized {
        /// The penalty recorded.
        penalty: Penalty,
        /// Why the receipt failed.
        error: VerificationError,
    },
    /// Signed and failing now, for a job this ledger settled before (perhaps by this very
    /// receipt): a dispute is recorded, nobody is charged — a receipt once paid is never
    /// turned into a penalty.
    Disputed {
        /// The dispute recorded (or recorded before).
        dispute: Dispute,
        /// Why the receipt fails now.
        error: VerificationError,
    },
    /// Signed and false, and charged before: nothing was written.
    AlreadyPenalized {
        /// The penalty recorded before.
        penalty: Penalty,
        /// Why the receipt failed.
        error: VerificationError,
    },
    /// The proof verifies but the receipt carries no worker signature: nobody to pay.
    Unsigned(Verified),
    /// The proof verifies but the worker holds no valid licence for the model.
    Unlicensed(VerificationError),
    /// The proof verifies but this ledger does not pay it: no client request, a request for
    /// another venue, a venue the model's registration does not list, a fee the client did not
    /// accept.
    NotPayable {
        /// The job the receipt names.
        job_id: String,
        /// Why.
        reason: String,
    },
    /// The proof verifies and the request is payable here, but its client holds less than the
    /// fee: nothing was written.
    Unfunded {
        /// The job the receipt names.
        job_id: String,
        /// The client.
        client: String,
        /// The fee.
        needed: u64,
        /// What the client holds.
        available: i128,
    },
    /// The registry holds no valid registration of the receipt's model, or one the ledger
    /// refuses (another owner's, or older than one it has seen).
    UnknownModel {
        /// The model the receipt names.
        model_id: String,
        /// Why the registry cannot give it.
        reason: String,
    },
    /// Refused by verification (and not signed by its worker, or not a false claim).
    Rejected(VerificationError),
}

impl Outcome {
    /// True when this call credited the job.
    pub fn is_settled(&self) -> bool {
        matches!(self, Outcome::Settled(_))
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Settled(s) => write!(
                f,
                "settled: job {} of model {} — worker {} +{}, owner {} +{}",
                s.job_id, s.model_id, s.worker_id, s.worker_credit, s.owner, s.owner_credit
            ),
            Outcome::AlreadySettled {
                by,
                same_receipt,
                also,
            } => {
                write!(
                    f,
                    "refused: job {} of model {} was already settled at {} by {}",
                    by.job_id,
                    by.model_id,
                    by.settled_at,
                    if *same_receipt {
                        "this same receipt".to_string()
                    } else {
                        format!("receipt {} from worker {}", by.receipt_digest, by.worker_id)
                    }
                )?;
                if let Some(e) = also {
                    write!(f, " (and this receipt fails: {e})")?;
                }
                Ok(())
            }
            Outcome::Penalized { penalty, error } => write!(
                f,
                "penalty: worker {} signed a false receipt for job {} ({error}); charged {}, \
                 receipt kept as evidence",
                penalty.worker_id, penalty.job_id, penalty.amount
            ),
            Outcome::Disputed { dispute, error } => write!(
                f,
                "disputed: job {} of model {} settled before (receipt {}), and this receipt \
                 signed by worker {} fails now ({error}); nobody charged, kept as a dispute",
                dispute.job_id, dispute.model_id, dispute.settled_receipt, dispute.worker_id
            ),
            Outcome::AlreadyPenalized { penalty, error } => write!(
                f,
                "refused: worker {} was already charged for this false receipt of job {} \
                 ({error})",
                penalty.worker_id, penalty.job_id
            ),
            Outcome::Unsigned(v) => write!(
                f,
                "not settled: job {} verifies but the receipt is unsigned; settlement pays the \
                 worker whose signature a receipt carries",
                v.job_id
            ),
            Outcome::Unlicensed(e) => write!(f, "not settled: the proof verifies, but {e}"),
            Outcome::NotPayable { job_id, reason } => write!(
                f,
                "not settled: job {job_id} verifies, but this ledger does not pay it: {reason}"
            ),
            Outcome::Unfunded {
                job_id,
                client,
                needed,
                available,
            } => write!(
                f,
                "not settled: job {job_id} verifies, but its client {client} holds {available}, \
                 less than the fee {needed} (`zkw ledger deposit`)"
            ),
            Outcome::UnknownModel { model_id, reason } => {
                write!(f, "refused: model {model_id}: {reason}")
            }
            Outcome::Rejected(e) => write!(f, "rejected: {e}"),
        }
    }
}

/// Whether a verification failure shows the receipt's signed content to be false (and not
/// merely unverifiable here, as a key other than the registered one is).
pub fn is_false_claim(e: &VerificationError) -> bool {
    matches!(
        e,
        VerificationError::BadProof
            | VerificationError::OutOfRange { .. }
            | VerificationError::OutputMismatch(_)
            | VerificationError::Malformed { what: "proof", .. }
    )
}

/// Why a receipt is not credited, as far as verification and licences tell.
enum Why {
    /// Nothing: it is credited unless the job is settled already.
    Nothing,
    /// Verified, but unsigned.
    Unsigned(Box<Verified>),
    /// Verified, signed, licensed, but not payable here.
    NotPayable(String),
    /// Refused (including: unlicensed).
    Error(VerificationError),
}

/// Settles receipts into `ledger`, trusting only `registry`; one outcome per receipt, in
/// order. `now` (seconds since the Unix epoch) dates the records and judges licence expiry.
/// An `Err` means the ledger itself failed (nothing was written).
pub fn settle(
    registry: &Registry,
    ledger: &Ledger,
    receipts: &[Receipt],
    now: u64,
) -> Result<Vec<Outcome>, SettlementError> {
    // Each model's registration, once.
    let mut models: BTreeMap<&str, Result<RegisteredModel, String>> = BTreeMap::new();
    for r in receipts {
        models
            .entry(r.model_id.as_str())
            .or_insert_with(|| registry.model(&r.model_id).map_err(|e| e.to_string()));
    }
    // Verification, batched per model.
    let mut verdicts: Vec<Option<Result<Verified, VerificationError>>> =
        receipts.iter().map(|_| None).collect();
    for (model_id, model) in &models {
        let Ok(model) = model else { continue };
        let expected = Expected::model_only(model.record()).model_from_receipt();
        let (positions, pairs): (Vec<usize>, Vec<(&Receipt, &Expected<'_>)>) = receipts
            .iter()
            .enumerate()
            .filter(|(_, r)| r.model_id == *model_id)
            .map(|(k, r)| (k, (r, &expected)))
            .unzip();
        for (k, verdict) in positions.into_iter().zip(verify_batch(&model.key, &pairs)) {
            verdicts[k] = Some(verdict);
        }
    }

    // The decision per receipt: an entry for the ledger and why it is not paid, or the
    // registry's reason for not knowing its model.
    let mut decisions: Vec<Result<(Entry, Why), Outcome>> = Vec::with_capacity(receipts.len());
    for (r, verdict) in receipts.iter().zip(verdicts) {
        let (model, verdict) = match (&models[r.model_id.as_str()], verdict) {
            (Ok(m), Some(v)) => (m, v),
            (Err(reason), _) => {
                decisions.push(Err(Outcome::UnknownModel {
                    model_id: r.model_id.clone(),
                    reason: reason.clone(),
                }));
                continue;
            }
            (Ok(_), None) => unreachable!("every receipt of a registered model is verified"),
        };
        decisions.push(Ok(decide(registry, ledger, model, r, verdict, now)));
    }

    // One transaction for every write.
    let entries: Vec<Entry> = decisions
        .iter()
        .filter_map(|d| d.as_ref().ok().map(|(e, _)| e.clone()))
        .collect();
    let mut recorded = ledger.record(entries)?.into_iter();
    let mut out = Vec::with_capacity(receipts.len());
    for (r, d) in receipts.iter().zip(decisions) {
        let why = match d {
            Err(outcome) => {
                out.push(outcome);
                continue;
            }
            Ok((_, why)) => why,
        };
        let rec = recorded
            .next()
            .expect("the ledger answers one record per entry");
        out.push(match (rec, why) {
            (Recorded::Settled(s), _) => Outcome::Settled(s),
            (Recorded::Unpinned(reason), _) => Outcome::UnknownModel {
                model_id: r.model_id.clone(),
                reason,
            },
            (Recorded::AlreadySettled(by), why) => Outcome::AlreadySettled {
                same_receipt: by.receipt_digest == hex::encode(receipt_digest(r)),
                by,
                also: match why {
                    Why::Error(e) => Some(e),
                    Why::Nothing | Why::Unsigned(_) | Why::NotPayable(_) => None,
                },
            },
            (Recorded::Penalized(penalty), Why::Error(error)) => {
                Outcome::Penalized { penalty, error }
            }
            (Recorded::AlreadyPenalized(penalty), Why::Error(error)) => {
                Outcome::AlreadyPenalized { penalty, error }
            }
            (Recorded::Disputed(dispute), Why::Error(error)) => {
                Outcome::Disputed { dispute, error }
            }
            (Recorded::Nothing, Why::Unsigned(v)) => Outcome::Unsigned(*v),
            (Recorded::Nothing, Why::NotPayable(reason)) => Outcome::NotPayable {
                job_id: r.job_id.clone(),
                reason,
            },
            (
                Recorded::Unfunded {
                    client,
                    needed,
                    available,
                },
                _,
            ) => Outcome::Unfunded {
                job_id: r.job_id.clone(),
                client,
                needed,
                available,
            },
            (Recorded::Nothing, Why::Error(e @ VerificationError::Unlicensed { .. })) => {
                Outcome::Unlicensed(e)
            }
            (Recorded::Nothing, Why::Error(e)) => Outcome::Rejected(e),
            // A credit is recorded as settled, already settled or unpinned; a penalty always
            // carries its error; `Nothing` entries carry why they are not credited.
            (Recorded::Nothing, Why::Nothing)
            | (Recorded::Penalized(_) | Recorded::AlreadyPenalized(_) | Recorded::Disputed(_), _) =>
            {
                unreachable!("the ledger answers each entry with a record of its own kind")
            }
        });
    }
    Ok(out)
}

/// The ledger entry for one receipt of a registered model, and why it is not paid.
fn decide(
    registry: &Registry,
    ledger: &Ledger,
    model: &RegisteredModel,
    r: &Receipt,
    verdict: Result<Verified, VerificationError>,
    now: u64,
) -> (Entry, Why) {
    let reg = &model.registration;
    let request_key = r.request.as_ref().map(|rq| hex::encode(rq.digest()));
    let entry = |action| Entry {
        pin: Pin::of(reg),
        request: request_key.clone(),
        action,
    };
    let nothing = || entry(Action::Nothing);
    let digest = hex::encode(receipt_digest(r));
    let receipt_json = || serde_json::to_string(r).expect("a receipt serializes");
    match verdict {
        Ok(v) => {
            let Signer::Worker(worker) = &v.signer else {
                return (nothing(), Why::Unsigned(Box::new(v)));
            };
            if let Err(e) = registry.licensed(model, worker, now) {
                return (nothing(), Why::Error(e));
            }
            let rq = match payable(ledger, reg, r) {
                Ok(rq) => rq,
                Err(reason) => return (nothing(), Why::NotPayable(reason)),
            };
            // The client pays the fee it signed (at least the model's, checked above), shared
            // by the registration's split — as a contract pays out a request's deposit.
            let (worker_credit, owner_credit) = zkw_verifier::Reward {
                fee: rq.fee(),
                ..reg.reward
            }
            .split();
            let settlement = Settlement {
                request: hex::encode(rq.digest()),
                client: rq.client(),
                debited: rq.fee(),
                model_id: r.model_id.clone(),
                commitment: reg.record.model_commitment.clone(),
                job_id: r.job_id.clone(),
                worker_id: worker.clone(),
                owner: model.registration.owner.clone(),
                worker_credit,
                owner_credit,
                receipt_digest: digest,
                settled_at: now,
                receipt: receipt_json(),
            };
            (entry(Action::Credit(settlement)), Why::Nothing)
        }
        Err(e) => {
            let signed_by_worker = matches!(check_signature(r), Ok(Signer::Worker(_)));
            if signed_by_worker && is_false_claim(&e) {
                let penalty = Penalty {
                    model_id: r.model_id.clone(),
                    job_id: r.job_id.clone(),
                    worker_id: r.worker_id.clone(),
                    amount: model.registration.reward.penalty,
                    reason: e.to_string(),
                    receipt_digest: digest,
                    recorded_at: now,
                    receipt: receipt_json(),
                };
                (entry(Action::Penalize(penalty)), Why::Error(e))
            } else {
                (nothing(), Why::Error(e))
            }
        }
    }
}

/// The client request a verified receipt answers, when this ledger pays it: it has one, the
/// request names this ledger, the model's registration lists this ledger among its venues, and
/// its fee is at least the model's.
fn payable<'r>(
    ledger: &Ledger,
    reg: &zkw_verifier::Registration,
    r: &'r Receipt,
) -> Result<&'r zkw_verifier::ClientRequest, String> {
    let here = ledger.venue();
    let Some(rq) = &r.request else {
        return Err(
            "it answers no client request (no client signed for the job), so it \
                    settles nowhere"
                .into(),
        );
    };
    if rq.venue() != here {
        return Err(format!(
            "the client's request names venue {}, this ledger is {here}",
            rq.venue()
        ));
    }
    if !reg.venues.contains(&here) {
        return Err(format!(
            "the model's registration does not list this ledger ({here}) among its venues"
        ));
    }
    if rq.fee() < reg.reward.fee {
        return Err(format!(
            "the client's request pays {}, below the model's fee {}",
            rq.fee(),
            reg.reward.fee
        ));
    }
    Ok(rq)
}
