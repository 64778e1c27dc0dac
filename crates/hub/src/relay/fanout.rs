//! Fan-out across hub nodes on one PostgreSQL database. Every change a
//! node commits is announced with NOTIFY (`store::next_seq`: its seq and
//! thread id only, on its practice's channel); each node LISTENs and hands
//! what it hears to its own [`EventBus`](super::events::EventBus), so a
//! message posted to node A reaches the event streams open on node B (a
//! node hears its own changes too: the bus passes each seq on once). A notification is lost only
//! while the listening connection is down, so after every (re)connect the
//! node first reads the change log past the last seq it passed on: a lost
//! notification delays an event, never drops it.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use sealbox_model::ids::ThreadId;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

use super::store::{self, CHANGES_CHANNEL};
use crate::db::postgres::Postgres;
use crate::db::DbError;
use crate::state::AppState;

/// How long a node waits before listening again after losing the database.
const RECONNECT: Duration = Duration::from_secs(1);

/// Most change-log entries read in one catch-up page.
const CATCH_UP_PAGE: u32 = 1000;

/// Listens until the runtime stops (a no-op on SQLite, where one process
/// is the only writer and tells its bus itself).
pub async fn run_listener(state: AppState) {
    let Some(pg) = state.db.postgres().cloned() else {
        return;
    };
    let mut passed_on = match state.db.read(|c| store::latest_seq(c)).await {
        Ok(seq) => seq,
        Err(e) => {
            eprintln!("sealbox-hub: fan-out: {e}");
            0
        }
    };
    loop {
        if let Err(e) = listen(&state, &pg, &mut passed_on).await {
            eprintln!("sealbox-hub: fan-out: {e}; listening again");
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// One listening connection's life: LISTEN, catch up, then pass on each
/// notification; returns when the connection is lost.
async fn listen(state: &AppState, pg: &Postgres, passed_on: &mut u64) -> Result<(), DbError> {
    let (client, mut connection) = pg.connect_one().await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut messages = stream::poll_fn(move |cx| connection.poll_message(cx));
    let driver = tokio::spawn(async move {
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    // This practice's channel: the connection works in its schema, as the
    // writers' do. Quoted, as pg_notify takes the name as it is.
    let schema: String = client.query_one("SELECT current_schema()", &[]).await?.try_get(0)?;
    let channel = format!("{CHANGES_CHANNEL}{schema}").replace('"', "\"\"");
    client.batch_execute(&format!("LISTEN \"{channel}\"")).await?;
    // Listening: whatever committed before now is in the log.
    catch_up(state, passed_on).await?;
    while let Some(payload) = rx.recv().await {
        match parse(&payload) {
            Some((seq, thread)) if seq > *passed_on => {
                state.events.changed(seq, thread);
                *passed_on = seq;
            }
            // Already passed on (by the catch-up), or not ours.
            _ => {}
        }
    }
    driver.abort();
    Err(DbError::Postgres { code: String::new(), message: "the listening connection closed".into() })
}

/// Passes on every change committed after `passed_on`.
async fn catch_up(state: &AppState, passed_on: &mut u64) -> Result<(), DbError> {
    loop {
        let after = *passed_on;
        let changes = state.db.read(move |c| store::changes_after(c, after, CATCH_UP_PAGE)).await?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(());
        };
        for change in &changes {
            state.events.changed(change.seq, change.thread);
        }
        *passed_on = last;
    }
}

/// A notification's payload: `"<seq> <thread id>"`.
fn parse(payload: &str) -> Option<(u64, ThreadId)> {
    let (seq, thread) = payload.split_once(' ')?;
    Some((seq.parse().ok()?, ThreadId(thread.parse().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_a_seq_and_a_thread_and_nothing_else() {
        assert_eq!(parse("17 42"), Some((17, ThreadId(42))));
        assert_eq!(parse("17"), None);
        assert_eq!(parse("17 42 x"), None);
        assert_eq!(parse("x 42"), None);
    }
}
