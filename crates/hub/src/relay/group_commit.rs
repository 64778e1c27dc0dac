//! Group commit for the patient channel. Posts that arrive together are
//! written in one transaction, each in its own savepoint (one refused post
//! never undoes another), so one `synchronous=FULL` commit — one fsync —
//! serves a whole batch. A post is answered only after its batch committed.

use std::sync::{Arc, OnceLock};

use sealbox_model::hub_api::PatientMessageRequest;
use sealbox_model::jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use super::channels::Channel;
use super::patient::{ingest_into, Ingested};
use crate::db::sql::{begin, Sql};
use crate::db::{Db, DbError};
use crate::http::ApiError;

/// Most posts written under one commit.
const MAX_BATCH: usize = 256;
/// Posts waiting for the writer before new ones wait to be queued.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Ingested, ApiError>>;

/// One patient post waiting for its batch.
pub struct Post {
    /// The patient's channel.
    pub channel: Channel,
    /// What they sent.
    pub req: PatientMessageRequest,
    /// The practice the envelope was sealed for.
    pub sealed_for: String,
    /// When it arrived.
    pub now: Timestamp,
}

struct Job {
    post: Post,
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
        tx.send(Job { post: Post { channel, req, sealed_for, now }, reply })
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
        let (posts, replies): (Vec<Post>, Vec<Reply>) = jobs.into_iter().map(|j| (j.post, j.reply)).unzip();
        let written = db.call(move |conn| Ok::<_, DbError>(write_batch(conn, &posts))).await;
        let outcomes = match written {
            Ok(Ok(outcomes)) => outcomes,
            Ok(Err(e)) => {
                log_failed_batch(&e);
                replies.iter().map(|_| Err(not_stored())).collect()
            }
            // The blocking task died: nothing is known of the batch, so
            // every waiting post gets an error and may be retried safely.
            Err(e) => {
                eprintln!("sealbox-hub: group commit: {e}");
                replies.iter().map(|_| Err(ApiError::from(DbError::Task))).collect()
            }
        };
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // The client may have gone; its message is stored anyway.
            let _ = reply.send(outcome);
        }
    }
}

/// Writes `posts` in one transaction, each in its own savepoint (a refused
/// post leaves the others as they were): each post's outcome, in order.
/// An error means the transaction did not commit and nothing is stored.
pub fn write_batch(conn: &dyn Sql, posts: &[Post]) -> Result<Vec<Result<Ingested, ApiError>>, DbError> {
    let tx = begin(conn)?;
    super::store::lock_writes(&tx)?;
    let outcomes = posts
        .iter()
        .map(|post| {
            let sp = tx.savepoint()?;
            let outcome = ingest_into(&sp, &post.channel, &post.req, &post.sealed_for, post.now)?;
            sp.commit()?;
            Ok(outcome)
        })
        .collect();
    tx.commit()?;
    Ok(outcomes)
}

/// A batch that could not be committed (disk full, I/O error): nothing of it
/// is stored. The cause (the database's message, never content) is logged
/// once.
fn log_failed_batch(cause: &DbError) {
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
