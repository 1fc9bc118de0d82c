//! A damaged job store is never served and never silently emptied: a worker refuses it by
//! name (exit 2), `zkw worker store check` names what is wrong (exit 1), and `zkw worker store
//! salvage` copies out what can be read — here, every job of a store whose receipt bytes were
//! flipped on disk, two receipts intact and the third reported lost (DATA_LOSS when fetched).

mod common;

use std::process::{Command, Stdio};

use common::s;
use zkw_worker::proto as pb;

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_store_is_refused_checked_and_salvaged() {
    let dir = tempfile::tempdir().unwrap();
    let (record, keys, input) = common::digits_for_a_worker(dir.path());
    let data = dir.path().join("data");
    let start = || {
        let mut c = common::worker_command(&data, &keys, &[], &[])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let url = common::listening_url(c.stdout.take().unwrap());
        (c, url)
    };
    let stop = |c: std::process::Child| {
        Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
    };

    let (child, url) = start();
    let mut client = zkw_worker::client::connect(&url.unwrap(), None, None)
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for nonce in ["a", "b", "c"] {
        let id = client
            .submit_job(pb::SubmitJobRequest {
                model_id: record.model_id.clone(),
                input: input.clone(),
                client_nonce: nonce.into(),
                input_salt: vec![0x42; 31],
                unsalted: false,
                idempotency_key: String::new(),
                client_request: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .job_id;
        let done = zkw_worker::client::wait(&mut client, &id, |_| {})
            .await
            .unwrap();
        assert_eq!(done.state, pb::JobState::Succeeded as i32);
        jobs.push(id);
    }
    let mut receipts = Vec::new();
    for id in &jobs {
        let r = client
            .get_receipt(pb::GetReceiptRequest { job_id: id.clone() })
            .await
            .unwrap()
            .into_inner()
            .receipt_json;
        receipts.push(r);
    }
    drop(client);
    stop(child);

    let check = common::zkw(&["worker", "store", "check", s(&data)]);
    let out = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(0), "{out}");
    assert!(
        out.contains("3 jobs (3 succeeded)") && out.ends_with("sound\n"),
        "{out}"
    );

    // Flip a byte inside every copy of the second job's sealed receipt on disk (redb keeps
    // older copies of a page until it reuses them).
    let store = data.join("jobs.redb");
    let mut bytes = std::fs::read(&store).unwrap();
    let mut head = vec![b'r'];
    head.extend_from_slice(&(jobs[1].len() as u32).to_le_bytes());
    head.extend_from_slice(jobs[1].as_bytes());
    let mut flipped = 0;
    let mut at = 0;
    while let Some(i) = bytes[at..].windows(head.len()).position(|w| w == head) {
        let value = at + i + head.len() + 4;
        bytes[value + 40] ^= 0x01;
        flipped += 1;
        at = value;
    }
    assert!(flipped >= 1);
    std::fs::write(&store, &bytes).unwrap();

    // The worker refuses it by name (redb's page checksums on open), and says what to do.
    let (child, url) = start();
    assert!(url.is_none(), "a damaged store was served");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("jobs.redb cannot be opened") && err.contains("zkw worker store salvage"),
        "{err}"
    );

    let check = common::zkw(&["worker", "store", "check", s(&data)]);
    let out = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(1), "{out}");
    assert!(out.contains("redb cannot open it"), "{out}");
    assert!(out.contains("damaged: records were carved"), "{out}");

    let salvage = common::zkw(&["worker", "store", "salvage", s(&data)]);
    let out = String::from_utf8_lossy(&salvage.stdout).into_owned();
    assert_eq!(salvage.status.code(), Some(0), "{out}");
    assert!(
        out.contains("jobs.salvaged.redb: 3 jobs (3 succeeded); 1 receipt lost"),
        "{out}"
    );
    std::fs::rename(&store, data.join("jobs.damaged.redb")).unwrap();
    std::fs::rename(data.join("jobs.salvaged.redb"), &store).unwrap();

    let (child, url) = start();
    let mut client =
        zkw_worker::client::connect(&url.expect("the salvaged store serves"), None, None)
            .await
            .unwrap();
    for (i, id) in jobs.iter().enumerate() {
        let got = client
            .get_receipt(pb::GetReceiptRequest { job_id: id.clone() })
            .await;
        if i == 1 {
            let e = got.unwrap_err();
            assert_eq!(e.code(), tonic::Code::DataLoss, "{e:?}");
            assert!(e.message().contains("receipt was lost"), "{}", e.message());
        } else {
            assert_eq!(got.unwrap().into_inner().receipt_json, receipts[i]);
        }
    }
    drop(client);
    stop(child);
}
