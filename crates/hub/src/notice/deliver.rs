//! Sending the notices that are due: after every change the hub publishes
//! (a reply among them) and once a minute for retries. A notice the relay
//! did not take stays, tried again after 1, 5 and 30 minutes, then every
//! 2 hours; it records the kind of failure, never the address.

use std::time::Duration;

use sealbox_model::jiff::SignedDuration;

use super::smtp::{parse_address, Mailer};
use super::BlindNotice;
use crate::args;
use crate::db::time::to_db;
use crate::db::DbError;
use crate::state::AppState;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Notices the relay took.
    pub sent: usize,
    /// Notices kept for a later try.
    pub failed: usize,
}

/// When to try again after `attempts` failures.
pub fn retry_after(attempts: u32) -> SignedDuration {
    match attempts {
        0 | 1 => SignedDuration::from_mins(1),
        2 => SignedDuration::from_mins(5),
        3 => SignedDuration::from_mins(30),
        _ => SignedDuration::from_hours(2),
    }
}

type Due = (String, String, i64, u32);

/// Sends every notice due now.
pub async fn send_due(state: &AppState, mailer: &Mailer) -> Result<Delivered, DbError> {
    let now = state.now();
    let (practice, due) = state
        .db
        .read(move |c| {
            let practice = crate::db::practice::get(c)?.map(|p| p.name).unwrap_or_default();
            let due: Vec<Due> = c.query_map(
                "SELECT n.patient_id, c.email, n.queued_at_us, n.attempts
                 FROM patient_notices n JOIN patient_contacts c USING (patient_id)
                 WHERE n.due_at_us <= ?1 ORDER BY n.due_at_us LIMIT 200",
                args![to_db(now)],
                |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, u32::try_from(r.get::<i64>(3)?).unwrap_or(u32::MAX)))
                },
            )?;
            Ok::<_, DbError>((practice, due))
        })
        .await?;
    let notice = BlindNotice::new(&practice, &mailer.public_url);
    let mut done = Delivered::default();
    for (patient, email, queued, attempts) in due {
        let who = patient.clone();
        let claimed = state.db.call(move |c| super::claim(c, &who, queued, now)).await?;
        if !claimed {
            // Another hub node is sending it.
            continue;
        }
        let outcome = match parse_address(&email) {
            Some(to) => mailer.send(&to, &notice).await.map_err(|e| e.to_string()),
            None => Err("the address is not an e-mail address".to_owned()),
        };
        let at = state.now();
        match outcome {
            Ok(()) => done.sent += 1,
            Err(_) => done.failed += 1,
        }
        state
            .db
            .call(move |c| {
                match outcome {
                    // Only the notice that went: one queued since is kept.
                    Ok(()) => c.execute(
                        "DELETE FROM patient_notices WHERE patient_id = ?1 AND queued_at_us = ?2",
                        args![patient, queued],
                    )?,
                    Err(why) => {
                        let tries = attempts.saturating_add(1);
                        let due = at.checked_add(retry_after(tries)).unwrap_or(at);
                        c.execute(
                            "UPDATE patient_notices SET attempts = ?2, due_at_us = ?3, last_error = ?4
                             WHERE patient_id = ?1",
                            args![patient, tries, to_db(due), why],
                        )?
                    }
                };
                Ok::<_, DbError>(())
            })
            .await?;
    }
    Ok(done)
}

/// Sends notices as they become due, until the hub stops.
pub async fn run(state: AppState, mailer: Mailer) {
    let mut changes = state.events.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            change = changes.recv() => {
                if matches!(change, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                    return;
                }
            }
        }
        // A failed round (the database busy) is tried again at the next.
        let _ = send_due(&state, &mailer).await;
    }
}
