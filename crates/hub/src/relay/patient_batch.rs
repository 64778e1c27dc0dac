//! A batch of patient posts let in and stored together, in one
//! transaction: what it needs to know is read together — their channels,
//! the practice, what is stored under their message ids and threads, their
//! patients' buckets — each post is let in ([`admit`]) and decided in turn
//! in memory by the rule a post alone follows ([`super::patient::step`]),
//! and what they write goes in one statement per table
//! ([`write_together`]). Statements that need none of each other's results
//! are sent together ([`crate::db::sql::Sql::together`]), so on PostgreSQL,
//! where every round trip is to another process, a batch costs three
//! however many posts it holds (docs/benchmarks.md).

use std::collections::HashMap;

use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::Timestamp;

use super::channels::{self, Channel};
use super::envelope_check::{sealed_here, signed_by};
use super::group_commit::{Outcome, Post};
use super::patient::{step, Ingested, Step};
use super::rate_limit::Buckets;
use super::store::{self, ExistingEnvelope, NewEnvelope, ThreadRow};
use crate::db::sql::{Sql, SqlRow, Statement};
use crate::db::{practice, DbError};
use crate::http::ApiError;

/// Lets each post in, in order as one at a time would be: its token must
/// name a live channel (401), a token of that patient's bucket is taken
/// (429 when none is left; shared buckets in the caller's transaction),
/// its envelope must be signed by the channel's key (400). Each post's
/// channel, or why it is refused.
pub fn admit(
    conn: &dyn Sql,
    buckets: &Buckets,
    posts: &[Post],
) -> Result<Vec<Result<Channel, ApiError>>, DbError> {
    let tokens: Vec<&str> = posts.iter().map(|p| p.token.as_str()).collect();
    let channels = channels::by_tokens(conn, &tokens)?;
    let (admitted, store) = let_in(conn, buckets, posts, &channels, None)?;
    conn.together(&Vec::from_iter(store))?;
    Ok(admitted)
}

/// Posts let in, and the statement that stores their shared buckets.
type LetIn = (Vec<Result<Channel, ApiError>>, Option<Statement>);

/// [`admit`] once the posts' live `channels` (by token) are found (and
/// their shared buckets, when `bucket_rows` holds
/// [`Buckets::read_query`]'s rows), but for storing the shared buckets:
/// the statement that does, for the caller to run in its transaction.
fn let_in(
    conn: &dyn Sql,
    buckets: &Buckets,
    posts: &[Post],
    channels: &HashMap<String, Channel>,
    bucket_rows: Option<Vec<SqlRow>>,
) -> Result<LetIn, DbError> {
    let found: Vec<Option<&Channel>> = posts.iter().map(|p| channels.get(&p.token)).collect();
    let takes: Vec<(&str, Timestamp)> = posts
        .iter()
        .zip(&found)
        .filter_map(|(post, channel)| channel.map(|c| (c.patient_id.0.as_str(), post.now)))
        .collect();
    let taken = buckets.take_read(conn, &takes, bucket_rows)?;
    let mut results = taken.results.into_iter();
    let admitted = posts
        .iter()
        .zip(found)
        .map(|(post, channel)| {
            let Some(channel) = channel else {
                return Ok(Err(ApiError::unauthorized("unknown or revoked channel token")));
            };
            let admitted = match results.next().ok_or(DbError::NoRow)? {
                Err(wait) => Err(ApiError::too_many(wait)),
                Ok(()) => signed_by(channel, &post.seal).map(|()| channel.clone()),
            };
            Ok(admitted)
        })
        .collect::<Result<_, DbError>>()?;
    Ok((admitted, taken.store))
}

/// Lets `posts` in and writes those let in, in one transaction with a few
/// statements for all of them: each post's outcome, in order, as letting
/// them in and storing them one by one in that order would give. An error
/// means nothing is stored (the caller may then store them one by one,
/// each in its own savepoint).
pub fn write_together(conn: &dyn Sql, buckets: &Buckets, posts: &[Post]) -> Result<Vec<Outcome>, DbError> {
    // What the batch reads first, sent with its BEGIN and write lock (one
    // round trip on PostgreSQL): its channels, the practice, the envelopes
    // stored under its message ids, its threads, and its patients' shared
    // buckets (locked).
    let tokens: Vec<&str> = posts.iter().map(|p| p.token.as_str()).collect();
    let hashes = channels::token_hashes(&tokens);
    let messages: Vec<MessageId> = posts.iter().map(|p| p.req.message_id).collect();
    let mut thread_ids: Vec<ThreadId> = posts.iter().map(|p| p.req.thread_id).collect();
    thread_ids.sort_unstable();
    thread_ids.dedup();
    let backend = conn.backend();
    let mut reads = vec![
        channels::by_hashes_query(backend, &hashes),
        practice::get_query(),
        store::envelopes_query(backend, &messages),
        store::threads_query(backend, &thread_ids),
    ];
    reads.extend(buckets.read_query(backend, &hashes));
    let (tx, read) = store::begin_writes_with(conn, reads)?;
    let mut read = read.into_iter();
    let mut next = || read.next().ok_or(DbError::NoRow);
    let channels = channels::by_hashes_from(&tokens, &hashes, next()?)?;
    let here = practice::from_rows(next()?)?;
    let mut stored = store::envelopes_from(next()?)?;
    let mut threads = store::threads_from(next()?)?;
    let bucket_rows = read.next();
    // A message stored before in a thread the batch does not name: its
    // thread too (to tell the patient's own duplicate from another's).
    let mut elsewhere: Vec<ThreadId> =
        stored.values().map(|e| e.thread_id).filter(|t| thread_ids.binary_search(t).is_err()).collect();
    elsewhere.sort_unstable();
    elsewhere.dedup();
    threads.extend(store::load_threads(&tx, &elsewhere)?);

    let (admitted, buckets_left) = let_in(&tx, buckets, posts, &channels, bucket_rows)?;
    let mut outcomes: Vec<Option<Outcome>> =
        admitted.iter().map(|a| a.as_ref().err().map(|refused| Err(refused.clone()))).collect();

    let mut changed: Vec<ThreadId> = Vec::new();
    let mut envelopes: Vec<(usize, NewEnvelope<'_>)> = Vec::new();
    for (i, (post, admitted)) in posts.iter().zip(&admitted).enumerate() {
        let Ok(channel) = admitted else {
            continue;
        };
        let decided = sealed_here(here.as_ref(), &post.seal.practice, "envelope").and_then(|()| {
            let req = &post.req;
            let existing = stored.get(&req.message_id);
            let seen = existing.map(|e| (e, threads.get(&e.thread_id).map(|t| &t.patient_id)));
            step(channel, req, seen, threads.get(&req.thread_id), post.now)
        });
        let req = &post.req;
        let thread = match decided {
            Err(refused) => {
                outcomes[i] = Some(Err(refused));
                continue;
            }
            Ok(Step::Duplicate) => {
                outcomes[i] = Some(Ok(Ingested::Duplicate));
                continue;
            }
            Ok(Step::Open) => ThreadRow::opened(req.thread_id, &channel.patient_id, req.category, post.now),
            Ok(Step::Reply(state)) => {
                threads.remove(&req.thread_id).ok_or(DbError::NoRow)?.moved(state, post.now, None)
            }
        };
        threads.insert(req.thread_id, thread);
        if !changed.contains(&req.thread_id) {
            changed.push(req.thread_id);
        }
        let body = req.envelope.as_slice();
        let kept = ExistingEnvelope {
            thread_id: req.thread_id,
            body_sha256: store::sha256(body).to_vec(),
            sender_kind: "patient".into(),
        };
        stored.insert(req.message_id, kept);
        let new = NewEnvelope {
            thread: req.thread_id,
            message: req.message_id,
            sender: None,
            body,
            at: post.now,
            internal: false,
        };
        envelopes.push((i, new));
    }

    // What the batch writes, in two round trips on PostgreSQL: its
    // buckets, threads and change-log rows (whose seqs the envelopes
    // take), then its envelopes with the commit.
    let rows: Vec<&ThreadRow> = changed.iter().filter_map(|id| threads.get(id)).collect();
    let (indexes, new): (Vec<usize>, Vec<NewEnvelope<'_>>) = envelopes.into_iter().unzip();
    let new_threads: Vec<ThreadId> = new.iter().map(|e| e.thread).collect();
    let mut writes = Vec::from_iter(buckets_left);
    if !rows.is_empty() {
        writes.push(store::save_threads_query(backend, &rows)?);
    }
    let mut seqs = Vec::new();
    if !new.is_empty() {
        writes.push(store::next_seqs_query(&tx, &new_threads, "envelope")?);
        let change_rows = tx.together(&writes)?.pop().ok_or(DbError::NoRow)?;
        seqs = store::seqs_from(change_rows, &new_threads)?;
        writes = vec![store::insert_envelopes_query(backend, &new, &seqs)];
    }
    tx.commit_with(writes)?;
    for (i, seq) in indexes.into_iter().zip(seqs) {
        outcomes[i] = Some(Ok(Ingested::Stored(seq)));
    }
    outcomes.into_iter().map(|o| o.ok_or(DbError::NoRow)).collect()
}
