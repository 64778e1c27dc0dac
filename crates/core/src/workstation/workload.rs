//! The workload view: per queue this workstation reads and per colleague
//! holding threads, what is open, due by the end of today (UK) and past its
//! target; and the clinician's own day — what they hold, and how many
//! threads they closed today here. Counts and staff names only.

use sealbox_model::api::{Deputy, WorkloadRow, WorkloadView};
use sealbox_model::calendar::uk_time_zone;
use sealbox_model::ids::StaffId;
use sealbox_model::jiff::Timestamp;

use super::{Desk, WorkstationError};
use crate::status::shown_time;
use crate::store::workload::Load;

fn row(label: String, load: Load) -> WorkloadRow {
    let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    WorkloadRow { label, open: n(load.open), due_today: n(load.due_today), breached: n(load.breached) }
}

impl Desk {
    /// The workload at `now` (see the module docs).
    pub fn workload(&self, now: Timestamp) -> Result<WorkloadView, WorkstationError> {
        let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
        let today = now.to_zoned(tz.clone()).date();
        let day = |d: sealbox_model::jiff::civil::Date| {
            d.to_zoned(tz.clone()).map(|z| z.timestamp()).map_err(|_| WorkstationError::Rules)
        };
        let start = day(today)?;
        let end = day(today.tomorrow().map_err(|_| WorkstationError::Rules)?)?;
        let me = self.me();
        let directory = self.staff()?;
        let reads = self.pools();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let load = store.workload(now, end)?;
        let finished = store.closed_by_since(&me.id.0, start)?;
        drop(store);
        let queues = load
            .pools
            .iter()
            .filter(|(pool, _)| reads.contains(pool))
            .map(|(pool, l)| row(pool.queue_title().to_owned(), *l))
            .collect();
        let mine = load.holders.iter().find(|(id, _)| *id == me.id.0).map(|(_, l)| *l);
        // You first, then colleagues with the most open.
        let people = mine
            .map(|l| row("You".to_owned(), l))
            .into_iter()
            .chain(
                load.holders
                    .iter()
                    .filter(|(id, _)| *id != me.id.0)
                    .map(|(id, l)| row(directory.shown(&StaffId(id.clone())), *l)),
            )
            .collect();
        let holding = mine.map_or(0, |l| l.open);
        let deputies = directory
            .staff
            .iter()
            .filter(|s| s.active && s.id != me.id)
            .map(|s| Deputy { id: s.id.0.clone(), label: directory.shown(&s.id) })
            .collect();
        Ok(WorkloadView {
            deputies,
            queues,
            people,
            holding: u32::try_from(holding).unwrap_or(u32::MAX),
            finished_today: u32::try_from(finished).unwrap_or(u32::MAX),
            as_of: shown_time(now, &tz),
        })
    }
}
