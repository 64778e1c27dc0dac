//! Group commit for the patient channel. Posts that arrive together are
//! let in together — their channels found, their tokens taken, their
//! signers checked — and written with a few statements for all of them
//! ([`super::patient_batch::write_together`]), in one transaction, so one
//! `synchronous=FULL` commit — one fsync — and on PostgreSQL three round
//! trips serve a whole batch; one refused post never undoes another.
//! Should that write fail, the batch is written again one post at a time,
//! each in its own savepoint, so a post the database refuses costs no
//! other its place. A post is answered only after its batch committed.

use std::sync::{Arc, OnceLock};

use sealbox_model::hub_api::PatientMessageRequest;
use sealbox_model::jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use super::envelope_check::PatientSeal;
use super::patient::{ingest_into, Ingested};
use super::patient_batch::{admit, write_together};
use super::rate_limit::Buckets;
use crate::db::sql::Sql;
use crate::db::{Db, DbError};
use crate::http::ApiError;

/// Most posts written under one commit.
const MAX_BATCH: usize = 256;
/// Posts waiting for the writer before new ones wait to be queued.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Outcome>;

/// One patient post waiting for its batch: well-formed, its envelope's
/// signature checked, its channel not yet known.
pub struct Post {
    /// The bearer token it came with.
    pub token: String,
    /// What they sent.
    pub req: PatientMessageRequest,
    /// What the envelope says of itself.
    pub seal: PatientSeal,
    /// When it arrived.
    pub now: Timestamp,
}

/// A post's outcome.
pub type Outcome = Result<Ingested, ApiError>;

struct Job {
    post: Post,
    reply: Reply,
}

/// The queue in front of the writer; started on first use (inside the
/// server's runtime), shared by every clone of the state.
#[derive(Clone)]
pub struct GroupCommit {
    buckets: Buckets,
    tx: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl GroupCommit {
    /// A writer taking patients' tokens from `buckets`.
    pub fn new(buckets: Buckets) -> GroupCommit {
        GroupCommit { buckets, tx: Arc::default() }
    }

    /// Stores one patient message; resolves once it is committed (or refused).
    pub async fn submit(&self, db: &Db, post: Post) -> Result<Ingested, ApiError> {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(db.clone(), self.buckets.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        tx.send(Job { post, reply }).await.map_err(|_| ApiError::from(DbError::Task))?;
        answer.await.map_err(|_| ApiError::from(DbError::Task))?
    }
}

async fn run(db: Db, buckets: Buckets, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (posts, replies): (Vec<Post>, Vec<Reply>) = jobs.into_iter().map(|j| (j.post, j.reply)).unzip();
        let buckets = buckets.clone();
        let written = db.call(move |conn| Ok::<_, DbError>(write_batch(conn, &buckets, &posts))).await;
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

/// Lets `posts` in and writes those let in, in one transaction: together,
/// or should that fail, one by one, each in its own savepoint (a post
/// refused even by the database leaves the others as they were): each
/// post's outcome, in order. An error means the transaction did not commit
/// and nothing is stored. (A post of a batch written again one by one has
/// taken two tokens of a bucket kept in memory: the first transaction's
/// shared buckets rolled back with it, memory did not.)
pub fn write_batch(conn: &dyn Sql, buckets: &Buckets, posts: &[Post]) -> Result<Vec<Outcome>, DbError> {
    match write_together(conn, buckets, posts) {
        Ok(outcomes) => Ok(outcomes),
        Err(cause) => {
            eprintln!("sealbox-hub: group commit: the batch written together failed ({cause}); writing it post by post");
            write_one_by_one(conn, buckets, posts)
        }
    }
}

/// [`write_batch`]'s second way: each post let in, then written in its own
/// savepoint.
pub fn write_one_by_one(conn: &dyn Sql, buckets: &Buckets, posts: &[Post]) -> Result<Vec<Outcome>, DbError> {
    let tx = super::store::begin_writes(conn)?;
    let admitted = admit(&tx, buckets, posts)?;
    let outcomes = posts
        .iter()
        .zip(admitted)
        .map(|(post, admitted)| {
            let channel = admitted?;
            let sp = tx.savepoint()?;
            let outcome = ingest_into(&sp, &channel, &post.req, &post.seal.practice, post.now)?;
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
