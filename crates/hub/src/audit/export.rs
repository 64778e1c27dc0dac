//! `sealbox-hub audit export`: the practice's audit events in a time
//! window, as CSV or JSON, for a compliance officer. Each row says whether
//! its device's chain verifies up to and including it. Every export is
//! itself recorded (`audit_exports`, append-only).

use sealbox_model::jiff::Timestamp;
use serde::Serialize;

use super::check::check_device;
use crate::args;
use crate::db::sql::Sql;
use crate::db::DbError;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated, with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// One exported event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub object: String,
    /// The device that recorded it.
    pub device: String,
    /// Its place in that device's chain.
    pub seq: u64,
    /// Its hash (hex).
    pub hash: String,
    /// The device's chain verifies up to and including this event.
    pub verified: bool,
}

/// The events with `from <= at < to`, oldest first.
pub fn rows(conn: &dyn Sql, from: Timestamp, to: Timestamp) -> Result<Vec<Row>, DbError> {
    let raw = conn.query_map(
        "SELECT device_id, seq, at_ms, actor, action, object, hash FROM audit_links
         WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, device_id, seq",
        args![from.as_millisecond(), to.as_millisecond()],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<i64>(1)?,
                r.get::<i64>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
                r.get::<String>(5)?,
                r.get::<Vec<u8>>(6)?,
            ))
        },
    )?;
    let mut first_break: std::collections::BTreeMap<String, Option<u64>> = Default::default();
    let mut out = Vec::with_capacity(raw.len());
    for (device, seq, at_ms, actor, action, object, hash) in raw {
        if !first_break.contains_key(&device) {
            let broken = check_device(conn, &device)?.broken.map(|b| b.seq);
            first_break.insert(device.clone(), broken);
        }
        let seq = u64::try_from(seq).map_err(|_| DbError::Corrupt { what: "audit seq" })?;
        let verified = first_break.get(&device).copied().flatten().is_none_or(|b| seq < b);
        let at = Timestamp::from_millisecond(at_ms).map_err(|_| DbError::Corrupt { what: "audit time" })?;
        out.push(Row {
            at: at.to_string(),
            actor,
            action,
            object,
            device,
            seq,
            hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
            verified,
        });
    }
    Ok(out)
}

/// Records an export (who ran it, the window, how many events) in the
/// append-only `audit_exports` table, before the events are printed.
pub fn record(
    conn: &dyn Sql,
    at: Timestamp,
    run_by: &str,
    window: (Timestamp, Timestamp),
    format: Format,
    rows: usize,
) -> Result<(), DbError> {
    let format = match format {
        Format::Csv => "csv",
        Format::Json => "json",
    };
    conn.execute(
        "INSERT INTO audit_exports (at_us, run_by, from_ms, to_ms, format, rows) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            crate::db::time::to_db(at),
            run_by,
            window.0.as_millisecond(),
            window.1.as_millisecond(),
            format,
            i64::try_from(rows).unwrap_or(i64::MAX)
        ],
    )?;
    Ok(())
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// `rows` in `format`.
pub fn render(rows: &[Row], format: Format) -> Result<String, serde_json::Error> {
    match format {
        Format::Json => serde_json::to_string_pretty(rows),
        Format::Csv => {
            let mut out = String::from("at,actor,action,object,device,seq,hash,verified\n");
            for r in rows {
                let fields = [
                    csv_field(&r.at),
                    csv_field(&r.actor),
                    csv_field(&r.action),
                    csv_field(&r.object),
                    csv_field(&r.device),
                    r.seq.to_string(),
                    r.hash.clone(),
                    r.verified.to_string(),
                ];
                out.push_str(&fields.join(","));
                out.push('\n');
            }
            Ok(out)
        }
    }
}
