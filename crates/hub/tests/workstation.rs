//! A clinician's workstation from end to end against the real hub over
//! loopback HTTP, with the software security key, the real OS keyring
//! (Secret Service in `cargo xtask test`'s private session) and real
//! SQLCipher files: the practice admin enrols and publishes the pool keys,
//! a GP enrols, the admin approves the GP's device (pool key sealed to it),
//! patients write, the GP unlocks (verified by the hub), syncs, locks;
//! failed attempts are refused, counted and audited; with the hub gone the
//! key is verified on the device; the soft key survives a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::cache::{self, CacheConfig};
use sealbox_core::key::soft::SoftKey;
use sealbox_core::key::KeyError;
use sealbox_core::store::queries::InboxFilter;
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::{Verified, Workstation, WorkstationError};
use sealbox_hub::config::RatePolicy;
use sealbox_model::pool::Pool;
use sealbox_model::priority::Priority;
use sealbox_model::role::Role;
use sealbox_sim::{send, traffic, SendOptions};

use support::login::invite;
use support::start_hub;

fn wipe(ws: &Workstation, keyring: &Keyring) {
    if let Some(p) = ws.profile() {
        let cfg = CacheConfig { data_dir: ws.dir().to_path_buf(), context: p.context() };
        cache::wipe_device(&cfg, keyring, None).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_enrols_is_approved_unlocks_syncs_locks_and_unlocks_offline_with_the_soft_key() {
    let hub = start_hub(20, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();

    // The practice admin's workstation: enrol, publish a key for every pool.
    let mut admin_ws = Workstation::open(dirs.path().join("admin"), keyring.clone()).unwrap();
    let mut admin_key = SoftKey::new("1111");
    let code = invite(&hub.state, Role::PracticeAdmin);
    let mut admin = admin_ws.enrol(&hub.url, &code, "Office PC", &mut admin_key, now).await.unwrap();
    admin.set_up_pools().await.unwrap();
    assert_eq!(admin.pools(), Pool::ALL.to_vec());

    // A GP enrols: no pool key until the admin approves the device.
    let mut ws = Workstation::open(dirs.path().join("gp"), keyring.clone()).unwrap();
    let mut key = SoftKey::new("2468");
    let code = invite(&hub.state, Role::Gp);
    let desk = ws.enrol(&hub.url, &code, "Room 3 PC", &mut key, now).await.unwrap();
    assert!(desk.pools().is_empty());
    assert_eq!(desk.verified(), Verified::Online);
    let profile = desk.profile().clone();
    assert_eq!(profile.role, Role::Gp);
    assert!(ws.dir().join("profile.json").is_file());
    let written = std::fs::read_to_string(ws.dir().join("profile.json")).unwrap();
    assert!(!written.contains("token"), "the profile holds no session");
    let again = ws.enrol(&hub.url, &code, "Room 3 PC", &mut key, now).await.unwrap_err();
    assert!(matches!(again, WorkstationError::AlreadyEnrolled), "{again:?}");

    let devices = admin.hub().devices().await.unwrap();
    let gp_device = devices.devices.iter().find(|d| d.id == profile.device_id).unwrap();
    assert!(gp_device.keys.is_some(), "the GP's device uploaded its public keys at enrolment");
    admin.approve_device(gp_device).await.unwrap();
    desk.lock("enrolled", now).await.unwrap();
    admin.lock("done", now).await.unwrap();

    // Patients write, sealed to the pool keys the admin published.
    let plan = traffic::plan(11, 20, 60);
    let summary =
        send::send(&hub.client, &hub.url, &hub.patients(), &plan, SendOptions::default()).await.unwrap();
    assert_eq!(summary.accepted, plan.len());

    // Two failed attempts: a wrong PIN and a colleague's key.
    key.enter_pin("0000");
    let err = ws.unlock(&mut key, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Key(KeyError::WrongPin)), "{err:?}");
    let mut colleague = SoftKey::new("2468");
    let err = ws.unlock(&mut colleague, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Key(KeyError::WrongKey)), "{err:?}");
    assert_eq!(err.to_string(), "this security key is not the one enrolled on this device");

    // Unlock, verified by the hub: the GP pool key arrives; sync.
    key.enter_pin("2468");
    let desk = ws.unlock(&mut key, now).await.unwrap();
    assert_eq!(desk.verified(), Verified::Online);
    assert_eq!(desk.pools(), vec![Pool::Gp]);
    let engine = desk.engine().unwrap();
    let pulled = engine.pull(&desk.store(), now).await.unwrap();
    assert_eq!(pulled.applied.messages, plan.len(), "a GP reads every category");
    {
        let shared = desk.store();
        let mut store = lock(&shared);
        assert_eq!(store.message_count().unwrap(), plan.len() as u64);
        let page = store.inbox_page(&InboxFilter::default(), None, 500, now).unwrap();
        assert!(!page.rows.is_empty());
        let first_routine = page.rows.iter().position(|r| r.priority != Priority::Urgent);
        if let Some(i) = first_routine {
            assert!(page.rows[i..].iter().all(|r| r.priority != Priority::Urgent), "urgent first");
        }
        let actions: Vec<String> = store.audit_events(50).unwrap().into_iter().map(|e| e.action).collect();
        assert!(actions.contains(&"unlock_failed:wrong_pin".to_owned()), "{actions:?}");
        assert!(actions.contains(&"unlock_failed:wrong_key".to_owned()), "{actions:?}");
        assert_eq!(actions.first().map(String::as_str), Some("unlock"));
        assert!(actions.contains(&"lock:enrolled".to_owned()));
    }
    let view = desk.inbox_view(now, 500, None).unwrap();
    let threads: std::collections::BTreeSet<_> = plan.iter().map(|m| m.thread_id.0).collect();
    assert_eq!(view.rows.len(), threads.len(), "one row per thread");
    assert!(view.rows.iter().all(|r| !r.patient.is_empty() && !r.received_shown.is_empty()));
    assert!(view.online);
    assert!(!format!("{view:?}").contains(view.rows[0].patient.as_str()), "Debug shows no names");

    // Opening a thread records a view of each patient message (audited)
    // before it is shown; opening it again records nothing new.
    let first = &plan[0];
    let thread = desk.open_thread(first.thread_id, now).unwrap().expect("the thread is cached");
    let in_thread = plan.iter().filter(|m| m.thread_id == first.thread_id).count();
    assert_eq!(thread.messages.len(), in_thread);
    assert!(thread.messages.iter().all(|m| m.from == "Patient" && !m.received_shown.is_empty()));
    let sealbox_model::message::MessagePart::FreeText(text) = &first.parts[0] else {
        panic!("free text first")
    };
    assert_eq!(thread.messages[0].text, text.reveal(), "the text exactly as the patient wrote it");
    assert!(!format!("{thread:?}").contains(text.reveal()));
    let views = |store: &sealbox_core::store::Store| {
        store.audit_events(1000).unwrap().into_iter().filter(|e| e.action == "view").count()
    };
    assert_eq!(views(&lock(&desk.store())), in_thread);
    let again = desk.open_thread(first.thread_id, now).unwrap().unwrap();
    assert_eq!(views(&lock(&desk.store())), in_thread, "a view is recorded once");
    assert!(again.messages[0].viewed_by[0].starts_with("Test Staff \u{b7} GP at "), "named, not an id");
    assert!(desk.open_thread(sealbox_model::ids::ThreadId(1), now).unwrap().is_none());

    // Claiming: in progress here at once (queued with its audit event), at
    // the hub once the outbox is sent.
    assert!(desk.claim(first.thread_id, now).unwrap());
    let mine = desk.open_thread(first.thread_id, now).unwrap().unwrap();
    assert_eq!(mine.state, "in_progress");
    let sent = sealbox_core::sync::outbox::send(&desk.store(), desk.hub(), now).await.unwrap();
    assert_eq!(sent.applied, 1, "{sent:?}");
    let tid = first.thread_id.0 as i64;
    let (kind, by): (String, String) = hub
        .state
        .db
        .sqlite_blocking(|c| {
            c.query_row("SELECT state_kind, updated_by_id FROM threads WHERE id = ?1", [tid], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })
        .unwrap();
    assert_eq!((kind.as_str(), by.as_str()), ("in_progress", profile.user_id.as_str()));
    // One queue, what the clinician holds, urgent only: each a filter of
    // the inbox in triage order.
    use sealbox_model::api::InboxRequest;
    let of = |queue: Option<&str>, urgent_only: bool| {
        let request = InboxRequest { queue: queue.map(str::to_owned), urgent_only, ..Default::default() };
        desk.inbox_view_of(&request, now, 500, None)
    };
    let all = of(None, false).unwrap().rows;
    let gp_queue = of(Some("gp"), false).unwrap().rows;
    assert!(!gp_queue.is_empty() && gp_queue.iter().all(|r| r.pool == "gp"));
    assert!(gp_queue.len() < all.len(), "other queues hold threads too");
    let urgent = of(None, true).unwrap().rows;
    assert_eq!(urgent.len(), all.iter().filter(|r| r.priority == "urgent").count());
    assert!(urgent.iter().all(|r| r.priority == "urgent"));
    let mine = of(Some("mine"), false).unwrap().rows;
    assert_eq!(
        mine.iter().map(|r| r.thread.as_str()).collect::<Vec<_>>(),
        vec![first.thread_id.0.to_string()]
    );
    assert!(matches!(of(Some("surgery"), false), Err(WorkstationError::UnknownQueue)));
    // One category; what nobody holds yet; the open count of every queue.
    let of_request = |request: InboxRequest| desk.inbox_view_of(&request, now, 500, None).unwrap();
    let refills =
        of_request(InboxRequest { category: Some("repeat_prescription".into()), ..Default::default() });
    assert!(!refills.rows.is_empty() && refills.rows.iter().all(|r| r.category == "repeat_prescription"));
    let unassigned = of_request(InboxRequest { unassigned: true, ..Default::default() });
    assert_eq!(unassigned.total as usize, all.len() - 1, "all but the claimed thread");
    assert!(unassigned.rows.iter().all(|r| r.owner.is_empty()));
    let queues = &unassigned.queues;
    assert_eq!(queues.len(), 4);
    assert_eq!(queues.iter().map(|q| q.open as usize).sum::<usize>(), all.len());
    let gp = queues.iter().find(|q| q.pool == "gp").unwrap();
    assert_eq!(gp.open as usize, gp_queue.len());
    let bad = InboxRequest { category: Some("gossip".into()), ..Default::default() };
    assert!(matches!(desk.inbox_view_of(&bad, now, 500, None), Err(WorkstationError::UnknownQueue)));
    // One state: the claimed thread is the one in progress; closed threads
    // are listed only when asked for.
    let in_state =
        |state: &str| of_request(InboxRequest { state: Some(state.to_owned()), ..Default::default() });
    assert_eq!(
        in_state("in_progress").rows.iter().map(|r| r.thread.as_str()).collect::<Vec<_>>(),
        vec![first.thread_id.0.to_string()]
    );
    assert_eq!(in_state("closed").total, 0);
    assert_eq!(in_state("new").total as usize + in_state("triaged").total as usize, all.len() - 1);
    let bad = InboxRequest { state: Some("lost".into()), ..Default::default() };
    assert!(matches!(desk.inbox_view_of(&bad, now, 500, None), Err(WorkstationError::UnknownQueue)));
    // A window of the list (a virtual list's scroll position), with the total.
    let window = desk
        .inbox_view_of(&InboxRequest { offset: 3, limit: 4, ..Default::default() }, now, 500, None)
        .unwrap();
    assert_eq!((window.offset, window.total as usize), (3, all.len()));
    assert_eq!(
        window.rows.iter().map(|r| r.thread.as_str()).collect::<Vec<_>>(),
        all[3..7].iter().map(|r| r.thread.as_str()).collect::<Vec<_>>()
    );
    // Search: words of a message (as prefixes), or part of a patient's name.
    let search = |text: &str| {
        let request = InboxRequest { search: Some(text.to_owned()), ..Default::default() };
        desk.inbox_view_of(&request, now, 500, None).unwrap().rows
    };
    let word =
        text.reveal().split_whitespace().find(|w| w.len() > 5 && w.chars().all(char::is_alphabetic)).unwrap();
    let found = search(&word[..4]);
    assert!(found.iter().any(|r| r.thread == first.thread_id.0.to_string()), "found by a word's prefix");
    let surname = thread.patient.split_whitespace().last().unwrap().to_lowercase();
    let named = search(&surname);
    assert!(named.iter().any(|r| r.thread == first.thread_id.0.to_string()), "found by name");
    assert!(
        named.iter().all(|r| r.patient.to_lowercase().contains(&surname)),
        "messages do not name patients"
    );
    assert!(search("zzqqxx").is_empty());
    assert!(search("100%_\\").is_empty(), "LIKE wildcards are taken literally");
    assert_eq!(search("   ").len(), all.len(), "a blank search is no search");
    // Each row says who holds it, the patient's age and where it stands
    // against its response target.
    assert_eq!(mine[0].owner, "You");
    assert_eq!(mine[0].age, desk.open_thread(first.thread_id, now).unwrap().unwrap().age);
    for row in &all {
        assert!(["on_track", "due_soon", "breached"].contains(&row.breach.as_str()), "{:?}", row.breach);
        assert!(!row.due_shown.is_empty());
        assert_eq!(row.breached, row.breach == "breached", "the sort and the badge agree");
        assert_eq!(
            row.priority == "urgent",
            !row.flags.is_empty(),
            "an urgent row says why: {:?}",
            row.flags
        );
    }
    let why = all
        .iter()
        .find(|r| r.priority == "urgent")
        .map(|r| r.flags[0].clone())
        .expect("a red-flagged thread");
    assert!(
        why.contains(": \u{201c}") && why.ends_with('\u{201d}'),
        "the rule and the patient's words: {why}"
    );
    assert!(
        all.iter().filter(|r| r.thread != mine[0].thread).all(|r| r.owner.is_empty()),
        "nobody else holds any"
    );
    // My activity: the hub's record of this clinician's sign-ins (this
    // unlock, the enrolment), and their own events on this workstation.
    let sign_ins = desk.activity_reader().sign_ins().await.unwrap();
    assert_eq!(sign_ins.source, "practice hub");
    let said: Vec<&str> = sign_ins.lines.iter().map(|l| l.what.as_str()).collect();
    assert!(said[0].starts_with("signed in on this workstation from 127.0.0.1"), "newest first: {said:?}");
    assert!(said.iter().any(|w| w.starts_with("enrolled a security key")), "{said:?}");
    assert!(sign_ins.lines.iter().all(|l| l.who == "You" && !l.when_shown.is_empty()));
    let here = desk.my_activity().unwrap();
    assert!(here.lines.iter().any(|l| l.what == "unlocked Sealbox"), "{:?}", here.lines);
    drop(engine);
    // Locked: what it keeps counts new messages, and opens nothing else.
    let counts = desk.lock("idle", now).await.unwrap().expect("an online unlock leaves a counts-only token");
    assert_eq!(counts.role, Role::Gp);
    let refused = counts.hub.sync_page(sealbox_model::hub_api::Cursor(0), 10).await.unwrap_err();
    assert!(matches!(refused, sealbox_core::sync::SyncError::SessionEnded), "{refused:?}");
    // ...but the event stream still answers it: a lock is not a sign-out.
    let stall = std::time::Duration::from_secs(10);
    let streams = [(counts.hub.clone(), counts.role)];
    sealbox_core::notify::locked::LockedWatch::connect(&streams, stall)
        .await
        .expect("the locked desktop still counts new messages");
    // The next unlock's login replaces it.
    let desk = ws.unlock(&mut key, now).await.unwrap();
    let replaced = sealbox_core::notify::locked::LockedWatch::connect(&streams, stall).await.unwrap_err();
    assert!(matches!(replaced, sealbox_core::sync::SyncError::SessionEnded), "{replaced:?}");
    desk.lock("now", now).await.unwrap();

    // As the app runs it: unlock, then follow the hub's events in a task;
    // new patient messages arrive without a pull being asked for.
    let desk = ws.unlock(&mut key, now).await.unwrap();
    let (engine, store) = (desk.engine().unwrap(), desk.store());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (status, mut synced) = tokio::sync::watch::channel(Default::default());
    let follow = tokio::spawn(async move {
        let clock = sealbox_model::jiff::Timestamp::now;
        engine.follow(&store, &clock, &status, stop_rx, std::time::Duration::from_secs(30)).await
    });
    let more = traffic::plan(12, 20, 10);
    let more: Vec<_> = more
        .into_iter()
        .map(|mut m| {
            m.thread_id.0 += 1_000_000;
            m.message_id.0 += 1_000_000;
            m
        })
        .collect();
    send::send(&hub.client, &hub.url, &hub.patients(), &more, SendOptions::default()).await.unwrap();
    let want = (plan.len() + more.len()) as u64;
    // Each sync the follower makes updates its status: wait on that.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while lock(&desk.store()).message_count().unwrap() < want {
        let changed = tokio::time::timeout_at(deadline, synced.changed()).await;
        assert!(changed.is_ok_and(|c| c.is_ok()), "the followed events did not bring the new messages");
    }
    stop_tx.send(true).unwrap();
    follow.await.unwrap().unwrap();
    // Each sync pushed the device's audit chain: the hub holds all of it,
    // signed, and it verifies there and here.
    let held = sealbox_core::audit::verify(&lock(&desk.store())).unwrap();
    let device = profile.device_id.clone();
    let at_hub =
        hub.state.db.call_blocking(move |c| sealbox_hub::audit::check::check_device(c, &device)).unwrap();
    assert_eq!((at_hub.links, at_hub.broken), (held.0, None));
    desk.lock("idle", now).await.unwrap();

    // The demo's key survives a restart: saved in the keyring, loaded back,
    // its PIN typed again.
    key.save(&keyring, &profile.user_id).unwrap();
    let mut restored = SoftKey::load(&keyring, &profile.user_id).unwrap().unwrap();
    let err = ws.unlock(&mut restored, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Key(KeyError::WrongPin)), "no PIN typed yet: {err:?}");
    restored.enter_pin("2468");

    // The hub goes away: the device verifies the key itself.
    hub.running.stop().await.unwrap();
    let mut ws = Workstation::open(dirs.path().join("gp"), keyring.clone()).unwrap();
    let desk = ws.unlock(&mut restored, now).await.unwrap();
    assert_eq!(desk.verified(), Verified::Offline);
    assert_eq!(desk.pools(), vec![Pool::Gp], "pool keys kept in the cache");
    assert_eq!(lock(&desk.store()).message_count().unwrap(), want);
    let last = lock(&desk.store()).audit_events(1).unwrap();
    assert_eq!(last[0].action, "unlock_offline");
    let offline = desk.activity_reader().sign_ins().await.unwrap();
    assert_eq!((offline.source.as_str(), offline.lines.len()), ("hub out of reach", 0));
    assert!(desk.lock("now", now).await.unwrap().is_none(), "offline: no hub token to keep");

    wipe(&ws, &keyring);
    wipe(&admin_ws, &keyring);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_hmac_secret_is_used_only_while_the_practice_allows_the_weaker_mode() {
    use sealbox_core::key::fallback::KeyMode;
    use sealbox_model::hub_api::PracticePolicy;
    let mut hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let dir = dirs.path().join("nurse");
    let mut ws = Workstation::open(dir.clone(), keyring.clone()).unwrap();
    let mut weak = SoftKey::new("1357").without_hmac_secret();
    let state = hub.state.clone();
    let count = |sql: &'static str| -> i64 {
        state.db.sqlite_blocking(|c| c.query_row(sql, [], |r| r.get(0))).unwrap()
    };
    let set_policy = |allow_weaker_keys: bool| {
        let policy = PracticePolicy { allow_weaker_keys, ..support::demo_practice() };
        state.db.call_blocking(|c| sealbox_hub::auth::policy::set(c, policy, "test", now)).unwrap();
    };
    let addr = hub.running.addr;
    let restart = |state: sealbox_hub::AppState| sealbox_hub::server::start(state, addr, None);

    // The practice requires hmac-secret (the default): refused before the
    // key is registered, nothing enrolled anywhere.
    let code = invite(&hub.state, Role::Nurse);
    let err = ws.enrol(&hub.url, &code, "Treatment room", &mut weak, now).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "this security key does not support hmac-secret, which this practice requires"
    );
    assert_eq!(count("SELECT COUNT(*) FROM devices"), 0);
    assert!(ws.profile().is_none());

    // The practice allows the weaker mode: enrolled in it, and it says so.
    set_policy(true);
    let desk = ws.enrol(&hub.url, &code, "Treatment room", &mut weak, now).await.unwrap();
    assert_eq!(desk.profile().key_mode, KeyMode::KeyringFallback);
    assert_eq!(count("SELECT COUNT(*) FROM devices"), 1);
    let written = std::fs::read_to_string(dir.join("profile.json")).unwrap();
    assert!(written.contains("\"key_mode\": \"keyring_fallback_weaker\""), "kept in the profile");
    let actions: Vec<String> =
        lock(&desk.store()).audit_events(5).unwrap().into_iter().map(|e| e.action).collect();
    assert!(
        actions.contains(&"key_mode:keyring_fallback_weaker".to_owned()),
        "named in the audit chain: {actions:?}"
    );
    assert!(
        actions.contains(
            &"practice_policy:max_idle=900,reauth=43200,weaker_keys=true,max_offline=259200,demo_keys=true"
                .to_owned()
        ),
        "the policy it was allowed under: {actions:?}"
    );
    desk.lock("enrolled", now).await.unwrap();

    // Unlocked with a touch the hub verified: the keyring's KEK is released.
    let desk = ws.unlock(&mut weak, now).await.unwrap();
    assert_eq!(desk.verified(), Verified::Online);
    let last = lock(&desk.store()).audit_events(1).unwrap();
    assert_eq!(last[0].action, "unlock:keyring_fallback_weaker");
    desk.lock("now", now).await.unwrap();
    // Another key (without the credential) releases nothing.
    let mut other = SoftKey::new("1357").without_hmac_secret();
    let err = ws.unlock(&mut other, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Key(KeyError::WrongKey)), "{err:?}");

    // With the hub out of reach the device verifies the touch itself.
    hub.running.stop().await.unwrap();
    let desk = ws.unlock(&mut weak, now).await.unwrap();
    assert_eq!(desk.verified(), Verified::Offline);
    let last = lock(&desk.store()).audit_events(1).unwrap();
    assert_eq!(last[0].action, "unlock_offline:keyring_fallback_weaker");
    desk.lock("now", now).await.unwrap();
    hub.running = restart(hub.state.clone()).await.unwrap();

    // The practice withdraws the weaker mode: the next online unlock is
    // refused, saying what to do, and its session is ended at once.
    set_policy(false);
    let err = ws.unlock(&mut weak, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::WeakerKeyRefused), "{err:?}");
    assert!(err.to_string().contains("ask your practice admin to enrol a key that has it"));
    assert_eq!(count("SELECT COUNT(*) FROM sessions WHERE ended_at_us IS NULL"), 0);
    // The device remembers: going offline (even after a restart) does not
    // get round it.
    hub.running.stop().await.unwrap();
    let mut restarted = Workstation::open(dir.clone(), keyring.clone()).unwrap();
    assert!(restarted.profile().unwrap().weaker_withdrawn);
    let err = restarted.unlock(&mut weak, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::WeakerKeyRefused), "{err:?}");

    // Allowed again: the next online unlock clears it.
    hub.running = restart(hub.state.clone()).await.unwrap();
    set_policy(true);
    let desk = restarted.unlock(&mut weak, now).await.unwrap();
    assert_eq!(desk.verified(), Verified::Online);
    assert!(!restarted.profile().unwrap().weaker_withdrawn);
    desk.lock("now", now).await.unwrap();
    wipe(&restarted, &keyring);
}
