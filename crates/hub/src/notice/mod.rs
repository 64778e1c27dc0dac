//! Blind notices to patients (issue 25): when the practice replies, a
//! patient who gave an e-mail address when joining is told that there is
//! a message to read, and nothing else. [`BlindNotice`] has no field that
//! could carry a word of the reply, a medicine, a result or a name: only
//! the practice's name and the link to the patient app. The hub could not
//! put more in if it tried: it cannot read the replies.
//!
//! A reply queues a notice in the same transaction that stores it
//! ([`queue`]); [`deliver::send_due`] sends what is due through the
//! practice's SMTP relay (STARTTLS, `smtp.rs`), one notice per patient
//! however many replies, and keeps a notice that failed for later.

pub mod deliver;
pub mod smtp;

use crate::db::sql::Sql;
use sealbox_model::ids::PatientId;
use sealbox_model::jiff::{SignedDuration, Timestamp};

use crate::db::time::to_db;
use crate::db::DbError;

/// The whole of what a patient is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindNotice {
    practice: String,
    link: String,
}

impl BlindNotice {
    /// The notice of `practice` (its name), linking to the patient app at
    /// `public_url`.
    pub fn new(practice: &str, public_url: &str) -> Self {
        BlindNotice {
            practice: practice.to_owned(),
            link: format!("{}/patient/", public_url.trim_end_matches('/')),
        }
    }

    /// The e-mail's subject.
    pub fn subject(&self) -> String {
        format!("New message from {}", self.practice)
    }

    /// The e-mail's text.
    pub fn body(&self) -> String {
        format!(
            "You have a new message from {practice}. Open your secure messages to read it.\n\n{link}\n\n\
             This e-mail does not contain your message. Please do not reply to it.\n\
             If you need help now, call 999 in an emergency, or 111.\n",
            practice = self.practice,
            link = self.link
        )
    }
}

/// Keeps the address `patient` gave to be told of replies.
pub fn set_contact(conn: &dyn Sql, patient: &PatientId, email: &str, now: Timestamp) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO patient_contacts (patient_id, email, created_at_us) VALUES (?1, ?2, ?3)
         ON CONFLICT (patient_id) DO UPDATE SET email = excluded.email, created_at_us = excluded.created_at_us",
        crate::args![patient.0, email, to_db(now)],
    )?;
    Ok(())
}

/// Queues a notice for `patient` if they gave an address (one waiting
/// notice per patient: more replies before it goes change nothing).
pub fn queue(conn: &dyn Sql, patient: &PatientId, now: Timestamp) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO patient_notices (patient_id, queued_at_us, due_at_us)
         SELECT patient_id, ?2, ?2 FROM patient_contacts WHERE patient_id = ?1
         ON CONFLICT (patient_id) DO NOTHING",
        crate::args![patient.0, to_db(now)],
    )?;
    Ok(())
}

/// How long a node that claimed a notice has to send it before another
/// may (it died mid-send: the patient may be told twice, never not at all).
pub const CLAIM: SignedDuration = SignedDuration::from_mins(5);

/// Claims the notice queued for `patient` at `queued` for sending now:
/// true for the one caller that moved it from due to claimed (until
/// `now + CLAIM`), false for any other — on several hub nodes, each
/// notice is sent by one of them.
pub fn claim(conn: &dyn Sql, patient: &str, queued: i64, now: Timestamp) -> Result<bool, DbError> {
    let until = now.checked_add(CLAIM).unwrap_or(now);
    let claimed = conn.execute(
        "UPDATE patient_notices SET due_at_us = ?3
         WHERE patient_id = ?1 AND queued_at_us = ?2 AND due_at_us <= ?4",
        crate::args![patient, queued, to_db(until), to_db(now)],
    )?;
    Ok(claimed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_says_who_wrote_and_where_to_read_it_and_nothing_else() {
        let notice = BlindNotice::new("Riverside Surgery", "https://hub.example/");
        assert_eq!(notice.subject(), "New message from Riverside Surgery");
        let body = notice.body();
        assert!(body.starts_with(
            "You have a new message from Riverside Surgery. Open your secure messages to read it.\n\nhttps://hub.example/patient/\n"
        ));
        // Everything else is fixed text.
        let fixed = body.replace("Riverside Surgery", "").replace("https://hub.example/patient/", "");
        assert_eq!(fixed, BlindNotice::new("", "").body().replace("/patient/", ""));
    }
}
