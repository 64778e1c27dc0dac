//! Blind notifications through the desktop's real notification service (a
//! recording org.freedesktop.Notifications on `cargo xtask test`'s private
//! session bus): shown from counts while unlocked, and while locked from
//! the hub's events held with the counts-only token — which opens nothing
//! else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use sealbox_core::notify::desktop::{DesktopNotifications, NotificationSink};
use sealbox_core::notify::locked::LockedWatch;
use sealbox_core::notify::{Arrivals, BlindNotifier};
use sealbox_core::sync::client::HubClient;
use sealbox_core::sync::SyncError;
use sealbox_hub::config::RatePolicy;
use sealbox_model::hub_api::Cursor;
use sealbox_model::jiff::{SignedDuration, Timestamp};
use sealbox_model::message::{FreeText, MessagePart};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_sim::{send, traffic, SendOptions};
use tokio::sync::watch;

/// "Sealbox: 3 new messages (1 urgent)" → 3.
fn count(summary: &str) -> u32 {
    summary.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_blind_whether_unlocked_or_locked() {
    // The recording service also clicks every notification that offers it.
    let recorded = support::notifications::clicking_service();

    // Unlocked: counts from a sync, straight to the desktop service.
    let mut arrivals = Arrivals::default();
    arrivals.add(Pool::Gp, true);
    arrivals.add(Pool::Nurse, false);
    let shown = BlindNotifier::new(true).arrived(arrivals, false, Timestamp::now()).unwrap();
    DesktopNotifications.show(&shown).unwrap();
    let (app, summary, body) = recorded.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        (app.as_str(), summary.as_str(), body.as_str()),
        ("Sealbox", "Sealbox: 2 new messages (1 urgent)", "In the GP and nurse queues.")
    );

    // Clicked: the notification's open action runs (the shell focuses the window).
    let (opened_tx, opened) = std::sync::mpsc::channel();
    DesktopNotifications.show_then(&shown, move || opened_tx.send(()).unwrap()).unwrap();
    let (_, again, _) = recorded.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(again, "Sealbox: 2 new messages (1 urgent)");
    opened.recv_timeout(Duration::from_secs(10)).expect("the click ran the open action");

    // Locked: the session is dropped; the counts-only token is all we hold.
    let hub = support::start_hub(20, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    support::pool_keys::publish(&hub.state);
    let gp = support::login::enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let counts = HubClient::new(&hub.url, gp.counts_token.clone()).unwrap();
    let refused = counts.sync_page(Cursor(0), 10).await.unwrap_err();
    assert!(matches!(refused, SyncError::SessionEnded), "the counts-only token opens no sync: {refused:?}");

    // Patients write, with marker text; each new thread waits in the GP pool.
    let mut plan = traffic::plan(21, 20, 12);
    for (i, m) in plan.iter_mut().enumerate() {
        for part in &mut m.parts {
            if let MessagePart::FreeText(t) = part {
                *t = FreeText::new(format!("{} QZX-LOCKED-{i}", t.reveal()));
            }
        }
    }
    let threads: BTreeSet<u64> = plan.iter().map(|m| m.thread_id.0).collect();
    let expected = u32::try_from(threads.len()).unwrap();

    let (stop_tx, stop) = watch::channel(false);
    // Each reading of the clock is 31 s later: no notification waits for
    // the coalescing window, so every arrival is shown as it comes.
    let tick = std::sync::atomic::AtomicI64::new(0);
    let now = || {
        let n = tick.fetch_add(31, std::sync::atomic::Ordering::SeqCst);
        Timestamp::now().checked_add(SignedDuration::from_secs(n)).unwrap()
    };
    let mut notifier = BlindNotifier::new(true);
    // What the service records, awaited without blocking the watcher.
    let (tx, mut forwarded) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while let Ok(item) = recorded.recv() {
            if tx.send(item).is_err() {
                return;
            }
        }
    });
    // The baseline is read before anyone posts.
    let watch = LockedWatch::connect(&[(counts, Role::Gp)], Duration::from_secs(30)).await.unwrap();
    let watching = watch.run(&mut notifier, &DesktopNotifications, &now, stop, Duration::from_secs(30));
    let driver = async {
        let client = support::client();
        let summary = send::send(
            &client,
            &hub.url,
            &hub.patients(),
            &plan,
            SendOptions { rate_per_sec: None, concurrency: 1 },
        )
        .await
        .unwrap();
        assert_eq!(summary.accepted, plan.len());
        let mut total = 0;
        let mut texts = Vec::new();
        while total < expected {
            let (_, summary, body) =
                tokio::time::timeout(Duration::from_secs(30), forwarded.recv()).await.unwrap().unwrap();
            total += count(&summary);
            texts.push(format!("{summary} {body}"));
        }
        stop_tx.send(true).unwrap();
        (total, texts)
    };
    let (shown, (total, texts)) = tokio::join!(watching, driver);
    let shown = shown.unwrap();
    assert_eq!(total, expected, "every new thread counted once");
    assert_eq!(shown.iter().map(|n| count(n.summary())).sum::<u32>(), expected);
    for text in &texts {
        assert!(text.starts_with("Sealbox: "), "{text}");
        // Where the new threads wait (each category's home queue), nothing else.
        assert!(
            text.contains(" In the ") && (text.ends_with(" queue.") || text.ends_with(" queues.")),
            "{text}"
        );
        assert!(!text.contains("QZX") && !text.contains("urgent"), "locked counts carry no content: {text}");
    }
}
