//! Schema migrations: applied in order, each once, each in a transaction.
//! To add one, append `("NNNN_name", include_str!(...))` to [`MIGRATIONS`].

use rusqlite::{params, Connection};

use super::DbError;

/// Every migration, in order. Names are recorded in `schema_migrations`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_relay", include_str!("../../migrations/0001_relay.sql")),
    ("0002_auth", include_str!("../../migrations/0002_auth.sql")),
    ("0003_counts_tokens", include_str!("../../migrations/0003_counts_tokens.sql")),
    ("0004_audit", include_str!("../../migrations/0004_audit.sql")),
    ("0005_registration", include_str!("../../migrations/0005_registration.sql")),
    ("0006_policy", include_str!("../../migrations/0006_policy.sql")),
    ("0007_hub_secrets", include_str!("../../migrations/0007_hub_secrets.sql")),
    ("0008_offline_allowance", include_str!("../../migrations/0008_offline_allowance.sql")),
    ("0009_demo_keys", include_str!("../../migrations/0009_demo_keys.sql")),
    ("0010_directory", include_str!("../../migrations/0010_directory.sql")),
    ("0011_directory_heads", include_str!("../../migrations/0011_directory_heads.sql")),
    ("0012_practice_key_shares", include_str!("../../migrations/0012_practice_key_shares.sql")),
    ("0013_triage", include_str!("../../migrations/0013_triage.sql")),
    ("0014_internal_notes", include_str!("../../migrations/0014_internal_notes.sql")),
    ("0015_merged", include_str!("../../migrations/0015_merged.sql")),
    ("0016_absence", include_str!("../../migrations/0016_absence.sql")),
    ("0017_attachments", include_str!("../../migrations/0017_attachments.sql")),
    ("0018_lock_on_key_removal", include_str!("../../migrations/0018_lock_on_key_removal.sql")),
    ("0019_patient_invites", include_str!("../../migrations/0019_patient_invites.sql")),
    ("0020_patient_notices", include_str!("../../migrations/0020_patient_notices.sql")),
    ("0021_renewal_questions", include_str!("../../migrations/0021_renewal_questions.sql")),
    ("0022_patient_sign_out", include_str!("../../migrations/0022_patient_sign_out.sql")),
];

/// Applies the migrations not yet recorded.
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             name TEXT PRIMARY KEY NOT NULL,
             applied_at_us INTEGER NOT NULL
         ) STRICT;",
    )?;
    for (name, sql) in MIGRATIONS {
        let tx = conn.transaction()?;
        let done: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)",
            params![name],
            |r| r.get(0),
        )?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at_us)
                 VALUES (?1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))",
                params![name],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
