//! Reads: the inbox page in sealbox-model's order with keyset pagination, a
//! thread with its messages and views, full-text search, counts per pool.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};
use sealbox_crypto::audit_chain::Link;
use sealbox_model::category::Category;
use sealbox_model::ids::{MessageId, PatientId, StaffId, ThreadId};
use sealbox_model::inbox_order::{InboxSortKey, SQL_ORDER_BY};
use sealbox_model::jiff::civil::Date;
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, FreeText, Message, MessagePart, Thread};
use sealbox_model::nhs_number::NhsNumber;
use sealbox_model::patient::{DateOfBirth, DisplayName, Patient, PatientKey};
use sealbox_model::pool::Pool;
use sealbox_model::priority::Priority;
use sealbox_model::thread_state::{StateKind, ThreadState};

use super::write::{id_of, key_of, ms, OutboxItem};
use super::{Store, StoreError};

/// Which threads an inbox page shows. `None` fields do not filter; without a
/// `state`, closed threads are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxFilter {
    /// Only this queue.
    pub pool: Option<Pool>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only this life-cycle state.
    pub state: Option<StateKind>,
    /// Only threads held by (assigned to, in progress with, awaiting the
    /// patient for) this person.
    pub assignee: Option<StaffId>,
    /// Only these threads (a search's hits).
    pub threads: Option<Vec<ThreadId>>,
    /// Only threads nobody holds.
    pub unassigned: bool,
}

/// One inbox line. `Debug` is safe: the name redacts itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    /// The thread.
    pub thread: ThreadId,
    /// Its patient.
    pub patient: PatientId,
    /// The patient's name as shown.
    pub display_name: DisplayName,
    /// Queue.
    pub pool: Pool,
    /// Category.
    pub category: Category,
    /// Priority.
    pub priority: Priority,
    /// State.
    pub state: StateKind,
    /// Who holds it, if a person does.
    pub assignee: Option<StaffId>,
    /// The patient's date of birth (their age is shown).
    pub date_of_birth: DateOfBirth,
    /// Where it sorts (breached, urgent, due, received, id).
    pub sort_key: InboxSortKey,
}

/// A page of the inbox and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxPage {
    /// Rows in inbox order.
    pub rows: Vec<InboxRow>,
    /// Pass to the next call for the following page; None at the end.
    pub next: Option<InboxSortKey>,
}

/// Someone saw a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    /// The message.
    pub message: MessageId,
    /// Who.
    pub staff: StaffId,
    /// When.
    pub at: Timestamp,
}

/// A thread as the reading pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadDetail {
    /// The thread with its messages, oldest first.
    pub thread: Thread,
    /// The patient.
    pub patient: Patient,
    /// Who saw which message when, oldest first.
    pub views: Vec<MessageView>,
}

/// Open threads in one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolCount {
    /// The pool.
    pub pool: Pool,
    /// Open threads.
    pub open: u64,
    /// Of which breached.
    pub breached: u64,
    /// Of which red-flagged.
    pub urgent: u64,
}

/// How many threads match an inbox filter in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListCounts {
    /// Every match.
    pub total: u32,
    /// Of which urgent.
    pub urgent: u32,
    /// Of which past their response target.
    pub breached: u32,
}

/// A search result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchHit {
    /// The message that matched.
    pub message: MessageId,
    /// Its thread.
    pub thread: ThreadId,
    /// When it arrived.
    pub received: Timestamp,
}

/// `FROM ... WHERE ...` of the inbox for `filter`, with its arguments
/// (values always bound, never spliced).
fn inbox_where(filter: &InboxFilter) -> (String, Vec<Value>) {
    let mut sql = String::from(
        "FROM triage t JOIN threads th ON th.thread_key = t.thread_key
                       JOIN patients p ON p.id = th.patient_id
         WHERE 1",
    );
    let mut args: Vec<Value> = Vec::new();
    let mut eq = |sql: &mut String, col: &str, v: Value| {
        args.push(v);
        sql.push_str(&format!(" AND t.{col} = ?{}", args.len()));
    };
    if let Some(p) = filter.pool {
        eq(&mut sql, "pool", Value::Text(p.key().into()));
    }
    if let Some(c) = filter.category {
        eq(&mut sql, "category", Value::Text(c.key().into()));
    }
    if let Some(p) = filter.priority {
        eq(&mut sql, "priority", Value::Text(p.key().into()));
    }
    match filter.state {
        Some(s) => eq(&mut sql, "state", Value::Text(s.key().into())),
        None => sql.push_str(" AND t.state <> 'closed'"),
    }
    if let Some(a) = &filter.assignee {
        eq(&mut sql, "assignee_staff", Value::Text(a.0.clone()));
    }
    if filter.unassigned {
        sql.push_str(" AND t.assignee_staff IS NULL");
    }
    if let Some(threads) = &filter.threads {
        let first = args.len() + 1;
        args.extend(threads.iter().map(|t| Value::Integer(key_of(t.0))));
        let marks: Vec<String> = (first..first + threads.len()).map(|i| format!("?{i}")).collect();
        sql.push_str(&format!(" AND t.thread_key IN ({})", marks.join(", ")));
    }
    (sql, args)
}

/// The inbox order (sealbox-model's) on the triage table.
fn inbox_order() -> String {
    SQL_ORDER_BY.split(',').map(|c| format!("t.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

pub(super) fn parse_key<T: Copy>(
    all: &[T],
    key: fn(T) -> &'static str,
    s: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    all.iter().copied().find(|v| key(*v) == s).ok_or(StoreError::Decode(what))
}

fn ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|_| StoreError::Decode("timestamp"))
}

fn sort_key_from(r: &Row<'_>, first: usize) -> rusqlite::Result<[i64; 5]> {
    Ok([r.get(first)?, r.get(first + 1)?, r.get(first + 2)?, r.get(first + 3)?, r.get(first + 4)?])
}

fn decode_sort_key(k: [i64; 5]) -> InboxSortKey {
    InboxSortKey {
        breached: k[0] == 0,
        urgent: k[1] == 0,
        due_ms: (k[2] != i64::MAX).then_some(k[2]),
        received_ms: k[3],
        thread: ThreadId(id_of(k[4])),
    }
}

pub(super) fn decode_json<T: serde::de::DeserializeOwned>(
    s: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|_| StoreError::Decode(what))
}

impl Store {
    /// Marks as breached every open thread whose due time is at or before
    /// `now`; returns how many changed. [`Store::inbox_page`] calls it.
    pub fn refresh_breaches(&mut self, now: Timestamp) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE triage SET breached_rank = 0 WHERE breached_rank = 1 AND due_ms <= ?1",
            [ms(now)],
        )?)
    }

    /// Up to `limit` threads matching `filter` in inbox order, starting after
    /// `after` (the previous page's `next`). Breach flags are refreshed to
    /// `now` first; a thread that breaches between two pages moves up and may
    /// be missed by the later page — refresh from the first page to see it.
    pub fn inbox_page(
        &mut self,
        filter: &InboxFilter,
        after: Option<&InboxSortKey>,
        limit: u32,
        now: Timestamp,
    ) -> Result<InboxPage, StoreError> {
        self.refresh_breaches(now)?;
        let (mut sql, mut args) = inbox_where(filter);
        if let Some(k) = after {
            let start = args.len();
            args.extend(k.encode().into_iter().map(Value::Integer));
            sql.push_str(&format!(
                " AND (t.breached_rank, t.urgent_rank, t.due_ms, t.received_ms, t.thread_key) > (?{}, ?{}, ?{}, ?{}, ?{})",
                start + 1,
                start + 2,
                start + 3,
                start + 4,
                start + 5
            ));
        }
        args.push(Value::Integer(i64::from(limit) + 1));
        sql.push_str(&format!(" ORDER BY {} LIMIT ?{}", inbox_order(), args.len()));
        let mut rows = self.inbox_rows(&sql, &args)?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(|r| r.sort_key) } else { None };
        Ok(InboxPage { rows, next })
    }

    /// The `limit` rows from position `offset` of the inbox matching
    /// `filter`, and how many match in all (of which urgent, breached):
    /// what a virtual list shows around its scroll position, with counts
    /// that do not depend on which rows are loaded. Breach flags are
    /// refreshed first.
    pub fn inbox_window(
        &mut self,
        filter: &InboxFilter,
        offset: u32,
        limit: u32,
        now: Timestamp,
    ) -> Result<(Vec<InboxRow>, ListCounts), StoreError> {
        self.refresh_breaches(now)?;
        let (mut sql, mut args) = inbox_where(filter);
        let (total, urgent, breached): (i64, i64, i64) = self
            .conn
            .prepare_cached(&format!(
                "SELECT count(*), coalesce(sum(t.urgent_rank = 0), 0), coalesce(sum(t.breached_rank = 0), 0) {sql}"
            ))?
            .query_row(params_from_iter(args.iter()), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        args.push(Value::Integer(i64::from(limit)));
        args.push(Value::Integer(i64::from(offset)));
        sql.push_str(&format!(
            " ORDER BY {} LIMIT ?{} OFFSET ?{}",
            inbox_order(),
            args.len() - 1,
            args.len()
        ));
        let rows = self.inbox_rows(&sql, &args)?;
        let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        Ok((rows, ListCounts { total: n(total), urgent: n(urgent), breached: n(breached) }))
    }

    fn inbox_rows(&self, from_where: &str, args: &[Value]) -> Result<Vec<InboxRow>, StoreError> {
        let sql = format!(
            "SELECT t.thread_key, th.patient_id, p.display_name, t.pool, t.category, t.priority, t.state,
                    t.breached_rank, t.urgent_rank, t.due_ms, t.received_ms, t.thread_key,
                    t.assignee_staff, p.date_of_birth {from_where}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let raw = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    sort_key_from(r, 7)?,
                    (r.get::<_, Option<String>>(12)?, r.get::<_, String>(13)?),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut rows = Vec::with_capacity(raw.len());
        for (patient, name, pool, category, priority, state, key, (assignee, dob)) in raw {
            rows.push(InboxRow {
                thread: ThreadId(id_of(key[4])),
                patient: PatientId(patient),
                display_name: DisplayName::new(name),
                pool: parse_key(&Pool::ALL, Pool::key, &pool, "pool")?,
                category: parse_key(&Category::ALL, Category::key, &category, "category")?,
                priority: parse_key(&Priority::ALL, Priority::key, &priority, "priority")?,
                state: parse_key(&StateKind::ALL, StateKind::key, &state, "state")?,
                assignee: assignee.map(StaffId),
                date_of_birth: DateOfBirth::new(
                    dob.parse().map_err(|_| StoreError::Decode("date of birth"))?,
                ),
                sort_key: decode_sort_key(key),
            });
        }
        Ok(rows)
    }

    /// The newest message the patient wrote on each of `threads` (those
    /// with one): what an inbox row previews. One query for a window of rows.
    pub fn latest_patient_messages(
        &self,
        threads: &[ThreadId],
    ) -> Result<std::collections::HashMap<ThreadId, Message>, StoreError> {
        let keys = serde_json::to_string(&threads.iter().map(|t| key_of(t.0)).collect::<Vec<_>>())
            .map_err(|_| StoreError::Decode("thread keys"))?;
        let patient = serde_json::to_string(&Author::Patient).map_err(|_| StoreError::Decode("author"))?;
        let mut stmt = self.conn.prepare_cached(
            "WITH latest AS (
                 SELECT (SELECT m.message_key FROM messages m
                         WHERE m.thread_key = w.value AND m.author_json = ?2
                         ORDER BY m.received_ms DESC, m.message_key DESC LIMIT 1) AS mk
                 FROM json_each(?1) w)
             SELECT m.thread_key, m.message_key, m.received_ms, p.body_json
             FROM latest JOIN messages m ON m.message_key = latest.mk
                         LEFT JOIN parts p ON p.message_key = m.message_key
             ORDER BY m.message_key, p.idx",
        )?;
        let rows = stmt
            .query_map(params![keys, patient], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut latest = std::collections::HashMap::new();
        for (tk, mk, received, body) in rows {
            let message = latest.entry(ThreadId(id_of(tk))).or_insert(Message {
                id: MessageId(id_of(mk)),
                author: Author::Patient,
                received_at: ts(received)?,
                parts: Vec::new(),
            });
            if let Some(b) = body {
                message.parts.push(decode_json::<MessagePart>(&b, "message part")?);
            }
        }
        Ok(latest)
    }

    /// A thread with its patient, messages (oldest first) and views; None if
    /// it is not cached.
    pub fn thread(&self, id: ThreadId) -> Result<Option<ThreadDetail>, StoreError> {
        let key = key_of(id.0);
        let head = self
            .conn
            .query_row(
                "SELECT th.patient_id, th.state_json, t.category, t.priority
                 FROM threads th JOIN triage t ON t.thread_key = th.thread_key WHERE th.thread_key = ?1",
                [key],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((patient_id, state_json, category, priority)) = head else {
            return Ok(None);
        };
        let patient = self.patient(&PatientId(patient_id.clone()))?.ok_or(StoreError::Decode("patient"))?;
        let mut msgs = self.conn.prepare_cached(
            "SELECT message_key, author_json, received_ms FROM messages WHERE thread_key = ?1
             ORDER BY received_ms, message_key",
        )?;
        let heads = msgs
            .query_map([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut parts =
            self.conn.prepare_cached("SELECT body_json FROM parts WHERE message_key = ?1 ORDER BY idx")?;
        let mut messages = Vec::with_capacity(heads.len());
        for (mk, author, received) in heads {
            let bodies = parts.query_map([mk], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
            let parts = bodies
                .iter()
                .map(|b| decode_json::<MessagePart>(b, "message part"))
                .collect::<Result<Vec<_>, _>>()?;
            messages.push(Message {
                id: MessageId(id_of(mk)),
                author: decode_json::<Author>(&author, "author")?,
                received_at: ts(received)?,
                parts,
            });
        }
        let mut views_stmt = self.conn.prepare_cached(
            "SELECT v.message_key, v.staff_id, v.seen_ms FROM views v JOIN messages m ON m.message_key = v.message_key
             WHERE m.thread_key = ?1 ORDER BY v.seen_ms, v.message_key, v.staff_id",
        )?;
        let views = views_stmt
            .query_map([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|(m, s, at)| {
                Ok(MessageView { message: MessageId(id_of(m)), staff: StaffId(s), at: ts(at)? })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let thread = Thread {
            id,
            patient: PatientId(patient_id),
            category: parse_key(&Category::ALL, Category::key, &category, "category")?,
            priority: parse_key(&Priority::ALL, Priority::key, &priority, "priority")?,
            state: decode_json::<ThreadState>(&state_json, "thread state")?,
            messages,
        };
        Ok(Some(ThreadDetail { thread, patient, views }))
    }

    /// A cached patient.
    pub fn patient(&self, id: &PatientId) -> Result<Option<Patient>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT display_name, date_of_birth, nhs_number FROM patients WHERE id = ?1",
                [&id.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|details| patient_from(id, details)).transpose()
    }

    /// The oldest change to `id`'s details waiting for a person to confirm
    /// (see `Writer::pin_patient`): its id and the details it names.
    pub fn pending_patient_change(&self, id: &PatientId) -> Result<Option<(i64, Patient)>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, display_name, date_of_birth, nhs_number FROM patient_detail_changes
                 WHERE patient_id = ?1 ORDER BY id LIMIT 1",
                [&id.0],
                |r| Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))),
            )
            .optional()?;
        row.map(|(change, details)| Ok((change, patient_from(id, details)?))).transpose()
    }

    /// Messages whose text matches every word of `query` (words are matched
    /// as prefixes, FTS5 syntax in the input is treated as plain text), newest
    /// first, at most `limit`.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>, StoreError> {
        let terms: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| format!("\"{w}\"*"))
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let fts_query = zeroize::Zeroizing::new(terms.join(" "));
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.message_key, m.thread_key, m.received_ms
             FROM message_fts f JOIN messages m ON m.message_key = f.rowid
             WHERE message_fts MATCH ?1 ORDER BY m.received_ms DESC, m.message_key DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![fts_query.as_str(), i64::from(limit)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(m, t, at)| {
                Ok(SearchHit { message: MessageId(id_of(m)), thread: ThreadId(id_of(t)), received: ts(at)? })
            })
            .collect()
    }

    /// Threads whose patient's name contains `text` (any case), or whose
    /// NHS number or date of birth `text` is (`PatientKey`), at most `limit`.
    pub fn threads_of_patients_named(&self, text: &str, limit: u32) -> Result<Vec<ThreadId>, StoreError> {
        let escaped = text.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        if escaped.is_empty() {
            return Ok(Vec::new());
        }
        let pattern = zeroize::Zeroizing::new(format!("%{escaped}%"));
        let (nhs, born) = match PatientKey::parse(text) {
            Some(PatientKey::Nhs(n)) => (Some(n.reveal().to_owned()), None),
            Some(PatientKey::Born(d)) => (None, Some(d.to_string())),
            None => (None, None),
        };
        let (nhs, born) = (zeroize::Zeroizing::new(nhs), zeroize::Zeroizing::new(born));
        let keys = self
            .conn
            .prepare_cached(
                "SELECT th.thread_key FROM threads th JOIN patients p ON p.id = th.patient_id
                 WHERE p.display_name LIKE ?1 ESCAPE '\\' OR p.nhs_number = ?3 OR p.date_of_birth = ?4
                 LIMIT ?2",
            )?
            .query_map(params![pattern.as_str(), i64::from(limit), nhs.as_deref(), born.as_deref()], |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keys.into_iter().map(|k| ThreadId(id_of(k))).collect())
    }

    /// Open threads per pool (every pool listed, zero included).
    pub fn pool_counts(&mut self, now: Timestamp) -> Result<Vec<PoolCount>, StoreError> {
        self.refresh_breaches(now)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT pool, count(*), sum(breached_rank = 0), sum(urgent_rank = 0)
             FROM triage WHERE state <> 'closed' GROUP BY pool",
        )?;
        let found = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out: Vec<PoolCount> =
            Pool::ALL.iter().map(|&pool| PoolCount { pool, open: 0, breached: 0, urgent: 0 }).collect();
        for (pool, open, breached, urgent) in found {
            let pool = parse_key(&Pool::ALL, Pool::key, &pool, "pool")?;
            if let Some(c) = out.iter_mut().find(|c| c.pool == pool) {
                c.open = open.unsigned_abs();
                c.breached = breached.unsigned_abs();
                c.urgent = urgent.unsigned_abs();
            }
        }
        Ok(out)
    }

    /// Queued actions, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idempotency_key, kind, thread_key, payload, created_ms FROM outbox ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(idempotency_key, kind, thread, payload, created)| {
                Ok(OutboxItem {
                    idempotency_key,
                    kind,
                    thread: thread.map(|k| ThreadId(id_of(k))),
                    payload,
                    created: ts(created)?,
                })
            })
            .collect()
    }

    /// Where a cached message sits: its thread's category and when it
    /// arrived (what an activity line names it by); `None` if not cached.
    pub fn message_place(&self, id: MessageId) -> Result<Option<(Category, Timestamp)>, StoreError> {
        let found = self
            .conn
            .prepare_cached(
                "SELECT t.category, m.received_ms FROM messages m JOIN triage t ON t.thread_key = m.thread_key
                 WHERE m.message_key = ?1",
            )?
            .query_row([key_of(id.0)], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .optional()?;
        match found {
            Some((category, at)) => {
                Ok(Some((parse_key(&Category::ALL, Category::key, &category, "category")?, ts(at)?)))
            }
            None => Ok(None),
        }
    }

    /// The draft reply on a thread.
    pub fn draft(&self, thread: ThreadId) -> Result<Option<FreeText>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT body FROM drafts WHERE thread_key = ?1", [key_of(thread.0)], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .map(FreeText::new))
    }

    /// The hub sync cursor.
    pub fn sync_cursor(&self) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT cursor FROM sync_cursor WHERE id = 1", [], |r| r.get(0)).optional()?)
    }

    /// The patient's other threads of `category`, newest first: id, when
    /// the latest patient message arrived, state key.
    pub fn patient_threads(
        &self,
        patient: &PatientId,
        category: Category,
        except: ThreadId,
        limit: u32,
    ) -> Result<Vec<(ThreadId, Timestamp, String)>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT th.thread_key, t.received_ms, t.state FROM threads th JOIN triage t ON t.thread_key = th.thread_key
                 WHERE th.patient_id = ?1 AND t.category = ?2 AND th.thread_key != ?3
                 ORDER BY t.received_ms DESC LIMIT ?4",
            )?
            .query_map(params![patient.0, category.key(), key_of(except.0), i64::from(limit)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|(k, ms, state)| Ok((ThreadId(id_of(k)), ts(ms)?, state))).collect()
    }

    /// The patient's X25519 public key of a cached thread, as the hub
    /// reported it (`None`: no such thread, or not synced since schema 5).
    pub fn patient_key(&self, thread: ThreadId) -> Result<Option<[u8; 32]>, StoreError> {
        let key: Option<Option<Vec<u8>>> = self
            .conn
            .query_row("SELECT patient_key FROM threads WHERE thread_key = ?1", [key_of(thread.0)], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(key.flatten().and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok()))
    }

    /// A setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// The newest `limit` audit links, newest first.
    pub fn audit_events(&self, limit: u32) -> Result<Vec<Link>, StoreError> {
        self.audit_query(
            "SELECT seq, at_ms, actor, device, action, object, prev_hash, hash FROM audit_events
             ORDER BY seq DESC LIMIT ?1",
            i64::from(limit),
        )
    }

    /// The audit links after `seq`, in stored order (by seq).
    pub fn audit_links_after(&self, seq: u64) -> Result<Vec<Link>, StoreError> {
        self.audit_query(
            "SELECT seq, at_ms, actor, device, action, object, prev_hash, hash FROM audit_events
             WHERE seq > ?1 ORDER BY seq",
            i64::try_from(seq).unwrap_or(i64::MAX),
        )
    }

    fn audit_query(&self, sql: &str, arg: i64) -> Result<Vec<Link>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([arg], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Vec<u8>>(6)?,
                r.get::<_, Vec<u8>>(7)?,
            ))
        })?;
        let hash = |b: Vec<u8>| -> Result<[u8; 32], StoreError> {
            b.try_into().map_err(|_| StoreError::Decode("audit hash"))
        };
        rows.map(|row| {
            let (seq, at_ms, actor, device, action, object, prev, h) = row?;
            Ok(Link {
                seq: u64::try_from(seq).map_err(|_| StoreError::Decode("audit seq"))?,
                at_ms,
                actor,
                device,
                action,
                object,
                prev_hash: hash(prev)?,
                hash: hash(h)?,
            })
        })
        .collect()
    }

    /// Number of cached messages.
    pub fn message_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
        Ok(n.unsigned_abs())
    }
}

/// A patient from stored (name, date of birth, NHS number) text.
fn patient_from(id: &PatientId, (name, dob, nhs): (String, String, String)) -> Result<Patient, StoreError> {
    let dob: Date = dob.parse().map_err(|_| StoreError::Decode("date of birth"))?;
    Ok(Patient {
        id: id.clone(),
        display_name: DisplayName::new(name),
        date_of_birth: DateOfBirth::new(dob),
        // Empty: the patient gave none.
        nhs_number: match nhs.as_str() {
            "" => None,
            text => Some(NhsNumber::parse(text).map_err(|_| StoreError::Decode("NHS number"))?),
        },
    })
}
