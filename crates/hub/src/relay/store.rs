//! Rows of the relay's tables and the queries on them. Functions take a
//! connection or a transaction on either backend (`&dyn Sql`) and return
//! typed rows.

use sealbox_model::actor::StaffRef;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{ActionLogEntry, Base64Bytes, EnvelopeRecord, LoggedOp, Sender, ThreadMeta};
use sealbox_model::ids::{MessageId, PatientId, StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::role::Role;
use sealbox_model::thread_state::{Assignee, ThreadState};
use sealbox_model::triage::TriageSet;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use std::collections::HashMap;

use crate::args;
use crate::db::many::{Kind, Many};
use crate::db::sql::{begin_with, Backend, Param, Sql, SqlRow, Statement, ToParam, Tx};
use crate::db::time::{from_db, to_db};
use crate::db::DbError;

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The snake_case key of a unit-like serde enum value (Category, Role, ...).
pub fn key_of<T: Serialize>(value: &T) -> Result<String, DbError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(DbError::Corrupt { what: "enum key" }),
    }
}

/// The value of a snake_case key.
pub fn from_key<T: DeserializeOwned>(key: &str, what: &'static str) -> Result<T, DbError> {
    serde_json::from_value(serde_json::Value::String(key.to_owned())).map_err(|_| DbError::Corrupt { what })
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A thread as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRow {
    /// Id.
    pub id: ThreadId,
    /// The patient's pseudonym.
    pub patient_id: PatientId,
    /// Category.
    pub category: Category,
    /// State.
    pub state: ThreadState,
    /// Version.
    pub version: u64,
    /// Opened.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Who made the last change.
    pub updated_by: Option<StaffRef>,
    /// The latest priority a person gave it.
    pub triage: Option<TriageSet>,
    /// The thread it was merged into as a repeat.
    pub merged_into: Option<ThreadId>,
}

impl ThreadRow {
    /// The thread a patient's first message opens: state New, version 1.
    pub fn opened(id: ThreadId, patient: &PatientId, category: Category, now: Timestamp) -> ThreadRow {
        ThreadRow {
            id,
            patient_id: patient.clone(),
            category,
            state: ThreadState::New,
            version: 1,
            created_at: now,
            updated_at: now,
            updated_by: None,
            triage: None,
            merged_into: None,
        }
    }

    /// The thread moved on to `state` at `now` (by a staff member, or by
    /// the patient with `None`): the next version.
    pub fn moved(self, state: ThreadState, now: Timestamp, by: Option<StaffRef>) -> ThreadRow {
        ThreadRow { state, version: self.version.saturating_add(1), updated_at: now, updated_by: by, ..self }
    }
}

fn staff_from(id: Option<String>, role: Option<String>) -> Result<Option<StaffRef>, DbError> {
    match (id, role) {
        (Some(id), Some(role)) => {
            Ok(Some(StaffRef { id: StaffId(id), role: from_key::<Role>(&role, "role")? }))
        }
        _ => Ok(None),
    }
}

const THREAD_COLUMNS: &str =
    "t.id, t.patient_id, t.category, t.state, t.version, t.created_at_us, t.updated_at_us,
     t.updated_by_id, t.updated_by_role, t.triage, t.merged_into";

type RawThread =
    (i64, String, String, String, i64, i64, i64, Option<String>, Option<String>, Option<String>, Option<i64>);

fn raw_thread(r: &SqlRow) -> Result<RawThread, DbError> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn thread_row(raw: RawThread) -> Result<ThreadRow, DbError> {
    let (id, patient, category, state, version, created, updated, by_id, by_role, triage, merged_into) = raw;
    Ok(ThreadRow {
        id: ThreadId(to_u64(id)),
        patient_id: PatientId(patient),
        category: from_key(&category, "category")?,
        state: serde_json::from_str(&state).map_err(|_| DbError::Corrupt { what: "thread state" })?,
        version: to_u64(version),
        created_at: from_db(created)?,
        updated_at: from_db(updated)?,
        updated_by: staff_from(by_id, by_role)?,
        triage: triage
            .map(|t| serde_json::from_str(&t).map_err(|_| DbError::Corrupt { what: "thread triage" }))
            .transpose()?,
        merged_into: merged_into.map(|t| ThreadId(to_u64(t))),
    })
}

/// Loads a thread.
pub fn load_thread(conn: &dyn Sql, id: ThreadId) -> Result<Option<ThreadRow>, DbError> {
    Ok(load_threads(conn, &[id])?.remove(&id))
}

/// Loads the threads among `ids` that exist, by id: one query.
pub fn load_threads(conn: &dyn Sql, ids: &[ThreadId]) -> Result<HashMap<ThreadId, ThreadRow>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = threads_query(conn.backend(), ids);
    threads_from(conn.run(&query)?)
}

/// [`load_threads`]'s statement for `backend`, to run with others.
pub fn threads_query(backend: Backend, ids: &[ThreadId]) -> Statement {
    let mut m = Many::new(backend);
    let among = m.among(Kind::Int, &ids.iter().map(|id| id.0.param()).collect::<Vec<_>>());
    m.statement(format!("SELECT {THREAD_COLUMNS} FROM threads t WHERE t.id {among}"))
}

/// The threads [`threads_query`]'s `rows` hold, by id.
pub fn threads_from(rows: Vec<SqlRow>) -> Result<HashMap<ThreadId, ThreadRow>, DbError> {
    rows.iter().map(|r| thread_row(raw_thread(r)?).map(|t| (t.id, t))).collect()
}

/// Writes each of `threads` as it is now, in one statement: a new one is
/// inserted, a stored one takes its state, version and last change (its
/// category, priority and merge are set apart: [`set_triage`],
/// [`set_merged_into`]).
pub fn save_threads(conn: &dyn Sql, threads: &[&ThreadRow]) -> Result<(), DbError> {
    if threads.is_empty() {
        return Ok(());
    }
    let query = save_threads_query(conn.backend(), threads)?;
    conn.run(&query)?;
    Ok(())
}

/// [`save_threads`]' statement for `backend` (for one thread or more), to
/// run with others.
pub fn save_threads_query(backend: Backend, threads: &[&ThreadRow]) -> Result<Statement, DbError> {
    struct Owned {
        category: String,
        state: String,
        role: Option<&'static str>,
    }
    let owned = threads
        .iter()
        .map(|t| {
            Ok(Owned {
                category: key_of(&t.category)?,
                state: serde_json::to_string(&t.state)
                    .map_err(|_| DbError::Corrupt { what: "thread state" })?,
                role: t.updated_by.as_ref().map(|s| s.role.key()),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let mut params: Vec<Param<'_>> = Vec::with_capacity(threads.len() * 11);
    for (t, o) in threads.iter().zip(&owned) {
        params.extend([
            t.id.0.param(),
            t.patient_id.0.param(),
            o.category.param(),
            o.state.param(),
            t.state.kind().key().param(),
            Param::text_or_null(queue_pool(&t.state)),
            t.version.param(),
            Param::Int(to_db(t.created_at)),
            Param::Int(to_db(t.updated_at)),
            Param::text_or_null(t.updated_by.as_ref().map(|s| s.id.0.as_str())),
            Param::text_or_null(o.role),
        ]);
    }
    use Kind::{Int, Text};
    let mut m = Many::new(backend);
    let rows = m.rows(&[Int, Text, Text, Text, Text, Text, Int, Int, Int, Text, Text], &params);
    Ok(m.statement(format!(
        "INSERT INTO threads (id, patient_id, category, state, state_kind, queue_pool, version,
                              created_at_us, updated_at_us, updated_by_id, updated_by_role)
         {rows}
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, state_kind = excluded.state_kind,
             queue_pool = excluded.queue_pool, version = excluded.version,
             updated_at_us = excluded.updated_at_us, updated_by_id = excluded.updated_by_id,
             updated_by_role = excluded.updated_by_role"
    )))
}

/// The wire metadata of every thread changed with `after < seq <= upto`,
/// in thread order: one query, whatever the page size.
pub fn thread_metas_between(conn: &dyn Sql, after: u64, upto: u64) -> Result<Vec<ThreadMeta>, DbError> {
    thread_metas_from(conn.run(&thread_metas_query(after, upto))?)
}

/// [`thread_metas_between`]' statement, to run with others.
pub fn thread_metas_query(after: u64, upto: u64) -> Statement {
    Statement::kept(
        format!(
            "SELECT {THREAD_COLUMNS}, pc.x25519_public FROM threads t
         LEFT JOIN patient_channels pc ON pc.patient_id = t.patient_id
         WHERE t.id IN (SELECT thread_id FROM changes WHERE seq > ?1 AND seq <= ?2)
         ORDER BY t.id"
        ),
        args![after, upto],
    )
}

/// The thread metadata [`thread_metas_query`]'s `rows` hold.
pub fn thread_metas_from(rows: Vec<SqlRow>) -> Result<Vec<ThreadMeta>, DbError> {
    rows.iter()
        .map(|r| {
            let key: Option<Vec<u8>> = r.get(11)?;
            let row = thread_row(raw_thread(r)?)?;
            let key = key.ok_or(DbError::Corrupt { what: "thread without a patient channel" })?;
            Ok(ThreadMeta {
                thread_id: row.id,
                patient_id: row.patient_id,
                patient_x25519_public: Base64Bytes(key),
                category: row.category,
                state: row.state,
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
                updated_by: row.updated_by,
                triage: row.triage,
                merged_into: row.merged_into,
            })
        })
        .collect()
}

fn queue_pool(state: &ThreadState) -> Option<&'static str> {
    match state {
        ThreadState::Assigned { to: Assignee::Pool(p) } => Some(p.key()),
        _ => None,
    }
}

/// Records (or, with `None`, clears) the thread `id` was merged into.
pub fn set_merged_into(conn: &dyn Sql, id: ThreadId, into: Option<ThreadId>) -> Result<(), DbError> {
    conn.execute("UPDATE threads SET merged_into = ?2 WHERE id = ?1", args![id.0, into.map(|t| t.0)])?;
    Ok(())
}

/// Stores a person's triage decision: the category it gives and the
/// decision with who and when (the state and version move with
/// [`save_threads`]).
pub fn set_triage(conn: &dyn Sql, id: ThreadId, set: &TriageSet) -> Result<(), DbError> {
    let json = serde_json::to_string(set).map_err(|_| DbError::Corrupt { what: "thread triage" })?;
    conn.execute(
        "UPDATE threads SET category = ?2, triage = ?3 WHERE id = ?1",
        args![id.0, key_of(&set.decision.category)?, json],
    )?;
    Ok(())
}

/// The seed of PostgreSQL's advisory lock on the relay's writes (hashed
/// with the schema's name: each practice of a deployment has its own).
const RELAY_WRITE_LOCK: i64 = 0x5EA1_C4A6;

/// Makes the caller's transaction the relay's only writer until it ends,
/// as SQLite's single writer is: on PostgreSQL, with hub nodes writing at
/// once, a thread's version is read and moved on by one of them at a time,
/// and seqs become visible in their order (no reader sees seq 6 before seq
/// 5 commits: a sync cursor past a gap would skip it for good). A no-op
/// on SQLite. The transaction remembers it: taking it again costs nothing.
/// Practices sharing a database (each in its schema) do not wait for each
/// other.
pub fn lock_writes(conn: &dyn Sql) -> Result<(), DbError> {
    if conn.backend() == Backend::Postgres && !conn.write_locked() {
        conn.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema(), ?1))",
            args![RELAY_WRITE_LOCK],
        )?;
        conn.note_write_locked();
    }
    Ok(())
}

/// Begins a transaction holding the relay's write lock ([`lock_writes`]),
/// in one round trip.
pub fn begin_writes(conn: &dyn Sql) -> Result<Tx<'_>, DbError> {
    Ok(begin_writes_with(conn, Vec::new())?.0)
}

/// [`begin_writes`] with `reads` run in the transaction once it holds the
/// lock, all in one round trip: the transaction and each read's rows.
pub fn begin_writes_with(
    conn: &dyn Sql,
    reads: Vec<Statement>,
) -> Result<(Tx<'_>, Vec<Vec<SqlRow>>), DbError> {
    match conn.backend() {
        Backend::Sqlite => begin_with(conn, reads),
        Backend::Postgres => {
            let lock = Statement::kept(
                "SELECT pg_advisory_xact_lock(hashtextextended(current_schema(), ?1))".into(),
                &[Param::Int(RELAY_WRITE_LOCK)],
            );
            let (tx, mut rows) = begin_with(conn, std::iter::once(lock).chain(reads).collect())?;
            tx.note_write_locked();
            rows.remove(0);
            Ok((tx, rows))
        }
    }
}

/// The start of the PostgreSQL channel every hub node listens on for new
/// changes; the schema's name completes it (`sealbox_changes_public`), so
/// practices sharing a database each hear only their own.
pub const CHANGES_CHANNEL: &str = "sealbox_changes_";

/// Takes the next change-log sequence number for `thread` (under
/// [`lock_writes`]). On PostgreSQL the other hub nodes are told at commit
/// (NOTIFY is transactional): the seq and the thread id, nothing else.
pub fn next_seq(conn: &dyn Sql, thread: ThreadId, kind: &str) -> Result<u64, DbError> {
    next_seqs(conn, &[thread], kind)?.first().copied().ok_or(DbError::NoRow)
}

/// [`next_seq`] for each of `threads` in order, in one statement:
/// consecutive seqs, the first for `threads[0]`. On PostgreSQL the same
/// statement tells the other nodes (a NOTIFY per change, sent at commit).
pub fn next_seqs(conn: &dyn Sql, threads: &[ThreadId], kind: &str) -> Result<Vec<u64>, DbError> {
    if threads.is_empty() {
        return Ok(Vec::new());
    }
    let query = next_seqs_query(conn, threads, kind)?;
    seqs_from(conn.run(&query)?, threads)
}

/// [`next_seqs`]' statement, to run with others in the transaction on
/// `conn`, which it makes hold the write lock first ([`lock_writes`]).
pub fn next_seqs_query(conn: &dyn Sql, threads: &[ThreadId], kind: &str) -> Result<Statement, DbError> {
    lock_writes(conn)?;
    let ids: Vec<Param<'_>> = threads.iter().map(|t| t.0.param()).collect();
    let mut m = Many::new(conn.backend());
    let rows = m.rows_sharing(&[Kind::Int], &ids, &[(Kind::Text, kind.param())]);
    let insert = format!("INSERT INTO changes (thread_id, kind) {rows} RETURNING seq, thread_id");
    let sql = match conn.backend() {
        Backend::Sqlite => insert,
        Backend::Postgres => {
            let channel = m.one(CHANGES_CHANNEL.param());
            format!(
                "WITH c AS ({insert})
                 SELECT seq, thread_id, pg_notify({channel} || current_schema(), seq || ' ' || thread_id) FROM c"
            )
        }
    };
    Ok(m.statement(sql))
}

/// The seqs [`next_seqs_query`]'s `rows` took for `threads`, in order.
pub fn seqs_from(rows: Vec<SqlRow>, threads: &[ThreadId]) -> Result<Vec<u64>, DbError> {
    let mut taken = rows
        .iter()
        .map(|r| Ok((r.get::<u64>(0)?, ThreadId(r.get(1)?))))
        .collect::<Result<Vec<_>, DbError>>()?;
    // Both engines number the rows in the order they are listed; RETURNING
    // need not list them so, hence the sort, and the check that each seq
    // went to its own row.
    taken.sort_unstable_by_key(|(seq, _)| *seq);
    if taken.iter().map(|(_, t)| t).ne(threads.iter()) {
        return Err(DbError::Corrupt { what: "change log order" });
    }
    Ok(taken.into_iter().map(|(seq, _)| seq).collect())
}

/// The latest sequence number (0 when empty).
pub fn latest_seq(conn: &dyn Sql) -> Result<u64, DbError> {
    latest_seq_from(conn.run(&latest_seq_query())?)
}

/// [`latest_seq`]'s statement, to run with others.
pub fn latest_seq_query() -> Statement {
    Statement::kept("SELECT MAX(seq) FROM changes".into(), &[])
}

/// The seq [`latest_seq_query`]'s `rows` hold (0 when the log is empty).
pub fn latest_seq_from(rows: Vec<SqlRow>) -> Result<u64, DbError> {
    let seq: Option<i64> = rows.first().ok_or(DbError::NoRow)?.get(0)?;
    Ok(seq.map(to_u64).unwrap_or(0))
}

/// An envelope already stored under a message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingEnvelope {
    /// Its thread.
    pub thread_id: ThreadId,
    /// Hash of its bytes.
    pub body_sha256: Vec<u8>,
    /// Who sent it.
    pub sender_kind: String,
}

/// The envelope stored under `message`, if any.
pub fn find_envelope(conn: &dyn Sql, message: MessageId) -> Result<Option<ExistingEnvelope>, DbError> {
    Ok(find_envelopes(conn, &[message])?.remove(&message))
}

/// The envelopes stored under any of `messages`, by message id: one query.
pub fn find_envelopes(
    conn: &dyn Sql,
    messages: &[MessageId],
) -> Result<HashMap<MessageId, ExistingEnvelope>, DbError> {
    if messages.is_empty() {
        return Ok(HashMap::new());
    }
    let query = envelopes_query(conn.backend(), messages);
    envelopes_from(conn.run(&query)?)
}

/// [`find_envelopes`]' statement for `backend`, to run with others.
pub fn envelopes_query(backend: Backend, messages: &[MessageId]) -> Statement {
    let mut m = Many::new(backend);
    let among = m.among(Kind::Int, &messages.iter().map(|id| id.0.param()).collect::<Vec<_>>());
    m.statement(format!(
        "SELECT message_id, thread_id, body_sha256, sender_kind FROM envelopes WHERE message_id {among}"
    ))
}

/// The envelopes [`envelopes_query`]'s `rows` hold, by message id.
pub fn envelopes_from(rows: Vec<SqlRow>) -> Result<HashMap<MessageId, ExistingEnvelope>, DbError> {
    rows.iter()
        .map(|r| {
            let found = ExistingEnvelope {
                thread_id: ThreadId(r.get(1)?),
                body_sha256: r.get(2)?,
                sender_kind: r.get(3)?,
            };
            Ok((MessageId(r.get(0)?), found))
        })
        .collect()
}

/// An envelope to store.
pub struct NewEnvelope<'a> {
    /// Its thread.
    pub thread: ThreadId,
    /// Its id.
    pub message: MessageId,
    /// The staff member who sent it; `None`: the patient.
    pub sender: Option<&'a StaffRef>,
    /// The sealed bytes.
    pub body: &'a [u8],
    /// When it arrived.
    pub at: Timestamp,
    /// A staff envelope that is an internal note (never among the
    /// patient's replies).
    pub internal: bool,
}

/// Stores an envelope with the next seq; returns the seq. A staff envelope
/// is an internal note when `internal` (never among the patient's replies).
pub fn insert_envelope(
    conn: &dyn Sql,
    thread: ThreadId,
    message: MessageId,
    sender: Option<&StaffRef>,
    body: &[u8],
    now: Timestamp,
    internal: bool,
) -> Result<u64, DbError> {
    let one = NewEnvelope { thread, message, sender, body, at: now, internal };
    insert_envelopes(conn, &[one])?.first().copied().ok_or(DbError::NoRow)
}

/// Stores `envelopes`, each with the next seq, in two statements (the
/// change log's, then theirs); their seqs, in order.
pub fn insert_envelopes(conn: &dyn Sql, envelopes: &[NewEnvelope<'_>]) -> Result<Vec<u64>, DbError> {
    let threads: Vec<ThreadId> = envelopes.iter().map(|e| e.thread).collect();
    let seqs = next_seqs(conn, &threads, "envelope")?;
    if envelopes.is_empty() {
        return Ok(seqs);
    }
    let query = insert_envelopes_query(conn.backend(), envelopes, &seqs);
    conn.run(&query)?;
    Ok(seqs)
}

/// The statement for `backend` that stores `envelopes` under `seqs` (one
/// each, taken by [`next_seqs`] for their threads, in order), to run with
/// others.
pub fn insert_envelopes_query(backend: Backend, envelopes: &[NewEnvelope<'_>], seqs: &[u64]) -> Statement {
    use Kind::{Blob, Int, Text};
    const KINDS: [Kind; 10] = [Int, Int, Int, Text, Text, Text, Int, Blob, Blob, Int];
    let hashes: Vec<[u8; 32]> = envelopes.iter().map(|e| sha256(e.body)).collect();
    let mut params: Vec<Param<'_>> = Vec::with_capacity(envelopes.len() * KINDS.len());
    for ((e, seq), hash) in envelopes.iter().zip(seqs).zip(&hashes) {
        params.extend([
            seq.param(),
            e.message.0.param(),
            e.thread.0.param(),
            if e.sender.is_some() { "staff" } else { "patient" }.param(),
            Param::text_or_null(e.sender.map(|s| s.id.0.as_str())),
            Param::text_or_null(e.sender.map(|s| s.role.key())),
            Param::Int(to_db(e.at)),
            e.body.param(),
            hash.param(),
            e.internal.param(),
        ]);
    }
    let mut m = Many::new(backend);
    let rows = m.rows(&KINDS, &params);
    m.statement(format!(
        "INSERT INTO envelopes (seq, message_id, thread_id, sender_kind, sender_id, sender_role,
                                received_at_us, body, body_sha256, internal)
         {rows}"
    ))
}

/// Records an applied action with the next seq; returns the seq.
pub fn insert_action(
    conn: &dyn Sql,
    thread: ThreadId,
    op: &LoggedOp,
    by: &StaffRef,
    version: u64,
    now: Timestamp,
) -> Result<u64, DbError> {
    let seq = next_seq(conn, thread, "action")?;
    let op_json = serde_json::to_string(op).map_err(|_| DbError::Corrupt { what: "action op" })?;
    conn.execute(
        "INSERT INTO actions (seq, thread_id, op, by_id, by_role, at_us, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![seq, thread.0, op_json, by.id.0, by.role.key(), to_db(now), version],
    )?;
    Ok(seq)
}

const ENVELOPE_COLUMNS: &str =
    "e.seq, e.thread_id, e.message_id, e.sender_kind, e.sender_id, e.sender_role, e.received_at_us, e.body";

fn envelope_from_row(r: &SqlRow) -> Result<RawEnvelope, DbError> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

type RawEnvelope = (i64, i64, i64, String, Option<String>, Option<String>, i64, Vec<u8>);

fn envelope_record(raw: RawEnvelope) -> Result<EnvelopeRecord, DbError> {
    let (seq, thread, message, kind, sid, srole, at, body) = raw;
    let sender = match (kind.as_str(), staff_from(sid, srole)?) {
        ("staff", Some(staff)) => Sender::Staff { staff },
        ("patient", None) => Sender::Patient,
        _ => return Err(DbError::Corrupt { what: "envelope sender" }),
    };
    Ok(EnvelopeRecord {
        seq: to_u64(seq),
        thread_id: ThreadId(to_u64(thread)),
        message_id: MessageId(to_u64(message)),
        sender,
        received_at: from_db(at)?,
        envelope: Base64Bytes(body),
    })
}

/// Envelopes with `after < seq <= upto`, in order.
pub fn envelopes_between(conn: &dyn Sql, after: u64, upto: u64) -> Result<Vec<EnvelopeRecord>, DbError> {
    envelope_records_from(conn.run(&envelopes_between_query(after, upto))?)
}

/// [`envelopes_between`]' statement, to run with others.
pub fn envelopes_between_query(after: u64, upto: u64) -> Statement {
    Statement::kept(
        format!("SELECT {ENVELOPE_COLUMNS} FROM envelopes e WHERE e.seq > ?1 AND e.seq <= ?2 ORDER BY e.seq"),
        args![after, upto],
    )
}

/// The envelopes [`envelopes_between_query`]'s `rows` hold, in seq order.
pub fn envelope_records_from(rows: Vec<SqlRow>) -> Result<Vec<EnvelopeRecord>, DbError> {
    rows.iter().map(|r| envelope_record(envelope_from_row(r)?)).collect()
}

/// Staff replies to `patient` after `after`, at most `limit`.
pub fn replies_for_patient(
    conn: &dyn Sql,
    patient: &PatientId,
    after: u64,
    limit: u32,
) -> Result<Vec<EnvelopeRecord>, DbError> {
    conn.query_map(
        &format!(
            "SELECT {ENVELOPE_COLUMNS} FROM envelopes e JOIN threads t ON t.id = e.thread_id
             WHERE t.patient_id = ?1 AND e.sender_kind = 'staff' AND e.internal = 0 AND e.seq > ?2
             ORDER BY e.seq LIMIT ?3"
        ),
        args![patient.0, after, limit],
        |r| envelope_record(envelope_from_row(&r)?),
    )
}

/// Actions with `after < seq <= upto`, in order.
pub fn actions_between(conn: &dyn Sql, after: u64, upto: u64) -> Result<Vec<ActionLogEntry>, DbError> {
    actions_from(conn.run(&actions_between_query(after, upto))?)
}

/// [`actions_between`]' statement, to run with others.
pub fn actions_between_query(after: u64, upto: u64) -> Statement {
    Statement::kept(
        "SELECT seq, thread_id, op, by_id, by_role, at_us, version FROM actions
         WHERE seq > ?1 AND seq <= ?2 ORDER BY seq"
            .into(),
        args![after, upto],
    )
}

/// The actions [`actions_between_query`]'s `rows` hold, in seq order.
pub fn actions_from(rows: Vec<SqlRow>) -> Result<Vec<ActionLogEntry>, DbError> {
    rows.into_iter()
        .map(|r| {
            let op: String = r.get(2)?;
            let by_role: String = r.get(4)?;
            Ok(ActionLogEntry {
                seq: r.get(0)?,
                thread_id: ThreadId(r.get(1)?),
                op: serde_json::from_str(&op).map_err(|_| DbError::Corrupt { what: "action op" })?,
                by: StaffRef { id: StaffId(r.get(3)?), role: from_key(&by_role, "role")? },
                at: from_db(r.get(5)?)?,
                version: r.get(6)?,
            })
        })
        .collect()
}

/// What a change-log entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A stored envelope.
    Envelope,
    /// An applied action.
    Action,
}

/// One change-log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Its place in the log.
    pub seq: u64,
    /// What it is.
    pub kind: ChangeKind,
    /// The thread it touched.
    pub thread: ThreadId,
}

/// The first `limit` change-log entries after `after`.
pub fn changes_after(conn: &dyn Sql, after: u64, limit: u32) -> Result<Vec<Change>, DbError> {
    changes_from(conn.run(&changes_after_query(after, limit))?)
}

/// [`changes_after`]' statement, to run with others.
pub fn changes_after_query(after: u64, limit: u32) -> Statement {
    Statement::kept(
        "SELECT seq, kind, thread_id FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2".into(),
        args![after, limit],
    )
}

/// The changes [`changes_after_query`]'s `rows` hold, in seq order.
pub fn changes_from(rows: Vec<SqlRow>) -> Result<Vec<Change>, DbError> {
    rows.into_iter()
        .map(|r| {
            let kind = match r.get::<String>(1)?.as_str() {
                "envelope" => ChangeKind::Envelope,
                "action" => ChangeKind::Action,
                _ => return Err(DbError::Corrupt { what: "change kind" }),
            };
            Ok(Change { seq: r.get(0)?, kind, thread: ThreadId(r.get(2)?) })
        })
        .collect()
}
