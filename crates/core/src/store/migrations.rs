//! Schema migrations: numbered SQL files under `crates/core/migrations/`,
//! compiled in. `PRAGMA user_version` holds the version a database is at;
//! each step runs in its own transaction together with the version bump, so a
//! crash leaves the database at the previous version or the next, never
//! between.
//!
//! Policy: migrations are append-only. A released file is never edited (the
//! test `migration_files_are_frozen` pins their checksums); a change is a new
//! file with the next number. A database newer than [`LATEST`] is refused
//! (`SchemaTooNew`), not downgraded.

use rusqlite::Connection;

use super::StoreError;

/// (version, SQL): applying `SQL` to a database at `version - 1` brings it to
/// `version`.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_initial.sql")),
    (2, include_str!("../../migrations/0002_search_drafts_quarantine.sql")),
    (3, include_str!("../../migrations/0003_hub_version.sql")),
    (4, include_str!("../../migrations/0004_audit_device.sql")),
    (5, include_str!("../../migrations/0005_reply_key.sql")),
    (6, include_str!("../../migrations/0006_patient_pinning.sql")),
    (7, include_str!("../../migrations/0007_patient_key_pinning.sql")),
    (8, include_str!("../../migrations/0008_triage_decision.sql")),
    (9, include_str!("../../migrations/0009_duplicates_on_behalf.sql")),
    (10, include_str!("../../migrations/0010_save_to_record.sql")),
];

/// The newest schema version this build knows.
pub const LATEST: i64 = 10;

/// Migrates `conn` up to `target` (≤ [`LATEST`]). Returns the versions applied.
pub fn migrate(conn: &mut Connection, target: i64) -> Result<Vec<i64>, StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST {
        return Err(StoreError::SchemaTooNew { found: current, supported: LATEST });
    }
    let mut applied = Vec::new();
    for &(version, sql) in MIGRATIONS {
        if version <= current || version > target {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {version};"))?;
        tx.commit()?;
        applied.push(version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_latest_is_last() {
        for (i, (v, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.0), Some(LATEST));
    }

    /// FNV-1a, enough to notice an edit.
    fn fnv(s: &str) -> u64 {
        s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    }

    #[test]
    fn migration_files_are_frozen() {
        // Editing a released migration breaks every cache already at that
        // version. Add a new file instead; only append to this list.
        let pinned: &[(i64, u64)] = &[
            (1, PIN_1),
            (2, PIN_2),
            (3, PIN_3),
            (4, PIN_4),
            (5, PIN_5),
            (6, PIN_6),
            (7, PIN_7),
            (8, PIN_8),
            (9, PIN_9),
            (10, PIN_10),
        ];
        for ((v, sql), (pv, pin)) in MIGRATIONS.iter().zip(pinned) {
            assert_eq!(v, pv);
            assert_eq!(fnv(sql), *pin, "migration {v} was edited");
        }
        assert_eq!(MIGRATIONS.len(), pinned.len(), "pin the new migration's checksum here");
    }

    const PIN_1: u64 = 2767890964537680046;
    const PIN_2: u64 = 1926212385753089326;
    const PIN_3: u64 = 14518150669945124922;
    const PIN_4: u64 = 498163629922141505;
    const PIN_5: u64 = 9006632017918564234;
    const PIN_6: u64 = 2740769971441293254;
    const PIN_7: u64 = 5983217873367395980;
    const PIN_8: u64 = 16788623698864400103;
    const PIN_9: u64 = 13645801517652590776;
    const PIN_10: u64 = 12525793018981217374;
}
