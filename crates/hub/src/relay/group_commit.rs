//! Group commit for the patient channel. Posts that arrive together are
//! written in one transaction, each in its own savepoint (one refused post
//! never undoes another), so one `synchronous=FULL` commit — one fsync —
//! serves a whole batch. A post is answered only after its batch committed.

use std::sync::{Arc, OnceLock};

use rusqlite::Connection;
use sealbox_model::hub_api::PatientMessageRequest;
use sealbox_model::jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use super::channels::Channel;
use super::patient::{ingest_into, Ingested};
use crate::db::{Db, DbError};
use crate::http::ApiError;

/// Most posts written under one commit.
const MAX_BATCH: usize = 256;
/// Posts waiting for the writer before new ones wait to be queued.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Ingested, ApiError>>;

struct Job {
    channel: Channel,
    req: PatientMessageRequest,
    sealed_for: String,
    now: Timestamp,
    reply: Reply,
}

/// The queue in front of the writer; started on first use (inside the
/// server's runtime), shared by every clone of the state.
#[derive(Clone, Default)]
pub struct GroupCommit {
    tx: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl GroupCommit {
    /// Stores one patient message; resolves once it is committed (or refused).
    pub async fn submit(
        &self,
        db: &Db,
        channel: Channel,
        req: PatientMessageRequest,
        sealed_for: String,
        now: Timestamp,
    ) -> Result<Ingested, ApiError> {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(db.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        tx.send(Job { channel, req, sealed_for, now, reply })
            .await
            .map_err(|_| ApiError::from(DbError::Task))?;
        answer.await.map_err(|_| ApiError::from(DbError::Task))?
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let answered = db.call(move |conn| Ok::<_, DbError>(write_batch(conn, jobs))).await;
        match answered {
            Ok(replies) => {
                for (reply, outcome) in replies {
                    // The client may have gone; its message is stored anyway.
                    let _ = reply.send(outcome);
                }
            }
            // The blocking task died: its replies were dropped, so every
            // waiting post gets an error (500) and may be retried safely.
            Err(e) => eprintln!("sealbox-hub: group commit: {e}"),
        }
    }
}

fn write_batch(conn: &mut Connection, jobs: Vec<Job>) -> Vec<(Reply, Result<Ingested, ApiError>)> {
    let mut out = Vec::with_capacity(jobs.len());
    let mut tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => {
            log_failed_batch(&e);
            return jobs.into_iter().map(|j| (j.reply, Err(not_stored()))).collect();
        }
    };
    for job in jobs {
        let outcome = (|| {
            let sp = tx.savepoint()?;
            let outcome = ingest_into(&sp, &job.channel, &job.req, &job.sealed_for, job.now)?;
            sp.commit()?;
            Ok::<_, ApiError>(outcome)
        })();
        out.push((job.reply, outcome));
    }
    if let Err(e) = tx.commit() {
        log_failed_batch(&e);
        return out.into_iter().map(|(reply, _)| (reply, Err(not_stored()))).collect();
    }
    out
}

/// A batch that could not be committed (disk full, I/O error): nothing of it
/// is stored. The cause (SQLite's message, never content) is logged once.
fn log_failed_batch(cause: &rusqlite::Error) {
    eprintln!("sealbox-hub: group commit failed, batch not stored: {cause}");
}

/// What each post of a failed batch is told: not stored, safe to retry.
fn not_stored() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "not_stored",
        "the message was not stored; send it again",
    )
}
