//! The practice's signed key directory at a real hub over HTTP: the
//! practice key set once by an admin; statements appended only as the next
//! link of the chain, signed by that key, all or none; served to staff.
//! And what the hub cannot do: a statement edited in its database is
//! caught by a device replaying the chain under the key it pinned.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use ed25519_dalek::SigningKey;
use sealbox_crypto::directory::{Directory, DirectoryError, Entry, Statement, GENESIS};
use sealbox_hub::config::RatePolicy;
use sealbox_model::hub_api::{Base64Bytes, DirectoryPage, PracticeSigningKey, StatementRecord};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use serde_json::{json, Value};

use support::login::{enrol_and_login, get, post, put};
use support::start_hub;

fn pool_key(pool: Pool, version: u32, byte: u8) -> Entry {
    Entry::PoolKey { pool, version, public: [byte; 32] }
}

/// `PUT /v1/practice/signing-key`'s body for `key`.
fn signing_key_body(key: &SigningKey) -> Value {
    let body = PracticeSigningKey { ed25519_public: Base64Bytes(key.verifying_key().as_bytes().to_vec()) };
    serde_json::to_value(body).unwrap()
}

fn body(statements: &[Statement]) -> Value {
    let records: Vec<StatementRecord> = statements.iter().map(StatementRecord::from).collect();
    json!({ "statements": records })
}

async fn page(hub: &support::Hub, token: &str, after: u64) -> DirectoryPage {
    let (status, page) = get(&hub.client, format!("{}/v1/directory?after={after}", hub.url), token).await;
    assert_eq!(status, 200, "{page}");
    serde_json::from_value(page).unwrap()
}

#[tokio::test]
async fn only_statements_signed_by_the_practice_key_join_the_chain_in_order_and_all_or_none() {
    let hub = start_hub(1, RatePolicy { burst: 100, per_minute: 0 }).await;
    let admin = enrol_and_login(&hub.url, &hub.state, Role::PracticeAdmin).await;
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let practice = admin.practice_id.clone();
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = signing_key_body(&key);
    let url = |path: &str| format!("{}{path}", hub.url);

    // Nothing can be appended before the practice key is set.
    let first = Statement::sign(&key, &practice, (0, GENESIS), pool_key(Pool::Gp, 1, 1));
    let (status, problem, _) =
        post(&hub.client, url("/v1/directory"), Some(&admin.token), &body(std::slice::from_ref(&first)))
            .await;
    assert_eq!((status, problem["type"].as_str().unwrap()), (409, "urn:sealbox:problem:no_signing_key"));

    // Only an admin sets it, once.
    let (status, _) = put(&hub.client, url("/v1/practice/signing-key"), &gp.token, &public).await;
    assert_eq!(status, 403, "a GP cannot set the practice key");
    let (status, _) = put(&hub.client, url("/v1/practice/signing-key"), &admin.token, &public).await;
    assert_eq!(status, 201);
    let (status, _) = put(&hub.client, url("/v1/practice/signing-key"), &admin.token, &public).await;
    assert_eq!(status, 204, "the same key again is a retry");
    let other = SigningKey::from_bytes(&[8; 32]);
    let swap = signing_key_body(&other);
    let (status, problem) = put(&hub.client, url("/v1/practice/signing-key"), &admin.token, &swap).await;
    assert_eq!((status, problem["type"].as_str().unwrap()), (409, "urn:sealbox:problem:signing_key_set"));

    // The chain grows by signed statements, in order.
    let second = Statement::sign(&key, &practice, (1, first.hash(&practice)), pool_key(Pool::Nurse, 1, 2));
    let (status, _, _) =
        post(&hub.client, url("/v1/directory"), Some(&gp.token), &body(std::slice::from_ref(&first))).await;
    assert_eq!(status, 403, "a GP cannot append");
    let (status, problem, _) =
        post(&hub.client, url("/v1/directory"), Some(&admin.token), &body(&[first.clone(), second.clone()]))
            .await;
    assert_eq!(status, 201, "{problem}");

    let refused = |statements: Vec<Statement>, words: &'static str| {
        let (hub, token) = (&hub, admin.token.clone());
        async move {
            let (status, problem, _) =
                post(&hub.client, format!("{}/v1/directory", hub.url), Some(&token), &body(&statements))
                    .await;
            assert_eq!(status, 409, "{problem}");
            assert_eq!(problem["type"], "urn:sealbox:problem:statement_refused");
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.contains(words), "{detail}");
        }
    };
    let head = (2, second.hash(&practice));
    // Signed by someone else (the hub itself, say).
    refused(
        vec![Statement::sign(&other, &practice, head, pool_key(Pool::Gp, 2, 9))],
        "not signed by the practice key",
    )
    .await;
    // An old pool key replayed as the newest.
    refused(vec![Statement::sign(&key, &practice, head, pool_key(Pool::Gp, 1, 1))], "is not the next").await;
    // A statement already in the chain, again.
    refused(vec![first.clone()], "does not follow").await;
    // All or none: a good statement followed by a forged one leaves nothing.
    let good = Statement::sign(&key, &practice, head, pool_key(Pool::Gp, 2, 3));
    let forged = Statement::sign(&other, &practice, (3, good.hash(&practice)), pool_key(Pool::Admin, 1, 4));
    refused(vec![good.clone(), forged], "statement 4 is not signed").await;
    assert_eq!(page(&hub, &gp.token, 0).await.statements.len(), 2, "nothing of the refused post was kept");

    // Staff read it; a device replays it under the key it pinned.
    let (status, _, _) = post(&hub.client, url("/v1/directory"), Some(&admin.token), &body(&[good])).await;
    assert_eq!(status, 201);
    let all = page(&hub, &gp.token, 0).await;
    assert_eq!(all.practice_key.unwrap().0, key.verifying_key().as_bytes().to_vec());
    assert_eq!(page(&hub, &gp.token, 2).await.statements.len(), 1, "after=2: the third only");
    let statements: Vec<Statement> = all.statements.iter().map(|r| Statement::try_from(r).unwrap()).collect();
    let dir = Directory::replay(&practice, key.verifying_key(), &statements).unwrap();
    assert_eq!(dir.pool_key(Pool::Gp), Some((2, [3; 32])));
    assert_eq!(dir.pool_key(Pool::Nurse), Some((1, [2; 32])));
}

#[tokio::test]
async fn a_pool_key_swapped_in_the_hubs_database_is_caught_by_the_device() {
    let hub = start_hub(1, RatePolicy { burst: 100, per_minute: 0 }).await;
    let admin = enrol_and_login(&hub.url, &hub.state, Role::PracticeAdmin).await;
    let practice = admin.practice_id.clone();
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = signing_key_body(&key);
    let (status, _) =
        put(&hub.client, format!("{}/v1/practice/signing-key", hub.url), &admin.token, &public).await;
    assert_eq!(status, 201);
    let first = Statement::sign(&key, &practice, (0, GENESIS), pool_key(Pool::Gp, 1, 1));
    let (status, _, _) =
        post(&hub.client, format!("{}/v1/directory", hub.url), Some(&admin.token), &body(&[first])).await;
    assert_eq!(status, 201);

    // Whoever writes the hub's database puts its own key in the statement,
    // and its own practice key beside it.
    let evil = SigningKey::from_bytes(&[66; 32]);
    let swapped = Statement::sign(&evil, &practice, (0, GENESIS), pool_key(Pool::Gp, 1, 0xEE));
    let json = serde_json::to_string(&StatementRecord::from(&swapped)).unwrap();
    let evil_public = evil.verifying_key().as_bytes().to_vec();
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute("UPDATE directory SET statement = ?1 WHERE seq = 1", [json])?;
            c.execute("UPDATE practice_signing_key SET ed25519_public = ?1", [evil_public])
        })
        .unwrap();
    let served = page(&hub, &admin.token, 0).await;
    let statements: Vec<Statement> =
        served.statements.iter().map(|r| Statement::try_from(r).unwrap()).collect();
    // The device trusts the key it pinned, not the one the hub serves now.
    assert_eq!(
        Directory::replay(&practice, key.verifying_key(), &statements).unwrap_err(),
        DirectoryError::BadSignature { seq: 1 }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_workstation_signs_the_pool_keys_and_another_device_checks_them_under_its_pin() {
    use sealbox_core::account::practice_key::{fetch_directory, PracticeKey, TrustError};
    use sealbox_core::cache::{self, CacheConfig};
    use sealbox_core::key::soft::SoftKey;
    use sealbox_core::sync::client::HubClient;
    use sealbox_core::sync::lock;
    use sealbox_core::vault::Keyring;
    use sealbox_core::workstation::Workstation;

    let hub = start_hub(1, RatePolicy { burst: 100, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut admin_ws = Workstation::open(dirs.path().join("admin"), keyring.clone()).unwrap();
    let code = support::login::invite(&hub.state, Role::PracticeAdmin);
    let mut admin =
        admin_ws.enrol(&hub.url, &code, "Office PC", &mut SoftKey::new("1111"), now).await.unwrap();
    let practice = admin.profile().practice_id.clone();

    // Enrolling, the practice's first admin made the practice key, kept it
    // in the cache and set its public half at the hub; setting up the pools
    // signs the admin's device and every pool key into the directory.
    admin.set_up_pools().await.unwrap();
    let key = PracticeKey::load(&lock(&admin.store())).unwrap().expect("kept in the cache");
    let pinned = admin.profile().practice_key.clone().unwrap();
    assert_eq!(pinned.key().unwrap(), key.public());
    assert_eq!(admin.practice_fingerprint(), Some(key.fingerprint()));
    assert!(format!("{key:?}").contains(&key.fingerprint()), "Debug shows the fingerprint only");
    let signed = admin.directory().await.unwrap();
    assert_eq!(signed.head().0, 5, "the admin's device, then one statement per pool");

    // Another device, pinning the practice key, reads the same pool keys
    // the hub serves unsigned at /v1/practice/keys — now vouched for.
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let gp_hub = HubClient::new(&hub.url, gp.token.clone()).unwrap();
    let seen = fetch_directory(&gp_hub, &practice, key.public()).await.unwrap();
    let served = gp_hub.practice_keys().await.unwrap();
    assert_eq!(served.pools.len(), 4);
    for k in &served.pools {
        let vouched = seen.pool_key(k.pool).map(|(v, p)| (v, p.to_vec()));
        assert_eq!(vouched, Some((k.key_version, k.x25519_public.0.clone())), "{:?}", k.pool);
    }
    // Pinned to another key, the device takes none of it.
    let err = fetch_directory(&gp_hub, &practice, PracticeKey::generate().public()).await.unwrap_err();
    assert!(matches!(err, TrustError::KeyChanged), "{err:?}");

    admin.lock("done", now).await.unwrap();
    let cfg = CacheConfig {
        data_dir: admin_ws.dir().to_path_buf(),
        context: admin_ws.profile().unwrap().context(),
    };
    cache::wipe_device(&cfg, &keyring, None).unwrap();
}
