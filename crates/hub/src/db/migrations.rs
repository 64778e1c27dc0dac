//! Schema migrations: applied in order, each once, each in a transaction.
//! Every migration exists twice, in step: `migrations/NNNN_name.sql` for
//! SQLite and `migrations/postgres/NNNN_name.sql` for PostgreSQL (the same
//! tables and columns; only the DDL's dialect differs). To add one, write
//! both and append them to [`MIGRATIONS`] and [`PG_MIGRATIONS`].

use super::sql::{begin, Backend, Sql};
use super::DbError;
use crate::args;

/// Every SQLite migration, in order. Names are recorded in `schema_migrations`.
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
    ("0023_patient_rate", include_str!("../../migrations/0023_patient_rate.sql")),
];

/// Every PostgreSQL migration, in the same order under the same names.
pub const PG_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_relay", include_str!("../../migrations/postgres/0001_relay.sql")),
    ("0002_auth", include_str!("../../migrations/postgres/0002_auth.sql")),
    ("0003_counts_tokens", include_str!("../../migrations/postgres/0003_counts_tokens.sql")),
    ("0004_audit", include_str!("../../migrations/postgres/0004_audit.sql")),
    ("0005_registration", include_str!("../../migrations/postgres/0005_registration.sql")),
    ("0006_policy", include_str!("../../migrations/postgres/0006_policy.sql")),
    ("0007_hub_secrets", include_str!("../../migrations/postgres/0007_hub_secrets.sql")),
    ("0008_offline_allowance", include_str!("../../migrations/postgres/0008_offline_allowance.sql")),
    ("0009_demo_keys", include_str!("../../migrations/postgres/0009_demo_keys.sql")),
    ("0010_directory", include_str!("../../migrations/postgres/0010_directory.sql")),
    ("0011_directory_heads", include_str!("../../migrations/postgres/0011_directory_heads.sql")),
    ("0012_practice_key_shares", include_str!("../../migrations/postgres/0012_practice_key_shares.sql")),
    ("0013_triage", include_str!("../../migrations/postgres/0013_triage.sql")),
    ("0014_internal_notes", include_str!("../../migrations/postgres/0014_internal_notes.sql")),
    ("0015_merged", include_str!("../../migrations/postgres/0015_merged.sql")),
    ("0016_absence", include_str!("../../migrations/postgres/0016_absence.sql")),
    ("0017_attachments", include_str!("../../migrations/postgres/0017_attachments.sql")),
    ("0018_lock_on_key_removal", include_str!("../../migrations/postgres/0018_lock_on_key_removal.sql")),
    ("0019_patient_invites", include_str!("../../migrations/postgres/0019_patient_invites.sql")),
    ("0020_patient_notices", include_str!("../../migrations/postgres/0020_patient_notices.sql")),
    ("0021_renewal_questions", include_str!("../../migrations/postgres/0021_renewal_questions.sql")),
    ("0022_patient_sign_out", include_str!("../../migrations/postgres/0022_patient_sign_out.sql")),
    ("0023_patient_rate", include_str!("../../migrations/postgres/0023_patient_rate.sql")),
];

/// A key for PostgreSQL's advisory lock: nodes starting together migrate
/// one after another.
const MIGRATION_LOCK: i64 = 0x5EA1_B0C5;

/// Applies the migrations not yet recorded.
pub fn migrate(conn: &dyn Sql) -> Result<(), DbError> {
    let (list, ledger) = match conn.backend() {
        Backend::Sqlite => (
            MIGRATIONS,
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 name TEXT PRIMARY KEY NOT NULL,
                 applied_at_us INTEGER NOT NULL
             ) STRICT;"
                .to_owned(),
        ),
        Backend::Postgres => (
            PG_MIGRATIONS,
            format!(
                "SELECT pg_advisory_lock({MIGRATION_LOCK});
                 CREATE TABLE IF NOT EXISTS schema_migrations (
                     name TEXT PRIMARY KEY NOT NULL,
                     applied_at_us BIGINT NOT NULL
                 );
                 SELECT pg_advisory_unlock({MIGRATION_LOCK});"
            ),
        ),
    };
    conn.batch(&ledger)?;
    for (name, sql) in list {
        let tx = begin(conn)?;
        if conn.backend() == Backend::Postgres {
            tx.query("SELECT pg_advisory_xact_lock(?1)", args![MIGRATION_LOCK])?;
        }
        let tx_sql: &dyn Sql = &tx;
        let done =
            tx_sql.query_opt("SELECT 1 FROM schema_migrations WHERE name = ?1", args![*name])?.is_some();
        if !done {
            tx.batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at_us) VALUES (?1, ?2)",
                args![*name, super::time::to_db(sealbox_model::jiff::Timestamp::now())],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
