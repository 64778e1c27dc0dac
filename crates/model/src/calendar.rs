//! The practice's working calendar: opening hours per weekday in UK local
//! time (Europe/London, so BST/GMT changes are handled by the bundled tz
//! database), bank holidays for the practice's nation, and local closures.
//! All arithmetic takes instants from the caller; nothing reads the clock.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::bank_holidays::{bank_holidays, Nation};

/// The time zone every UK practice works in.
pub const UK_TIME_ZONE: &str = "Europe/London";

/// How far ahead the calendar searches for an open day before giving up.
const MAX_SEARCH_DAYS: usize = 800;

/// Calendar problems. None carries patient data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Opening must be before closing.
    #[error("opening hours must open before they close")]
    OpenAfterClose,
    /// No working day within the search horizon (no hours configured?).
    #[error("no working day within {0} days")]
    NoWorkingDay(usize),
    /// A date or time computation failed (out of the supported range, or the
    /// time zone database is missing).
    #[error("date arithmetic failed: {0}")]
    Time(String),
}

impl From<jiff::Error> for CalendarError {
    fn from(e: jiff::Error) -> Self {
        CalendarError::Time(e.to_string())
    }
}

/// Opening hours for one day, in local (wall-clock) time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawHours")]
pub struct OpeningHours {
    open: Time,
    close: Time,
}

#[derive(Deserialize)]
struct RawHours {
    open: Time,
    close: Time,
}

impl TryFrom<RawHours> for OpeningHours {
    type Error = CalendarError;
    fn try_from(raw: RawHours) -> Result<Self, Self::Error> {
        OpeningHours::new(raw.open, raw.close)
    }
}

impl OpeningHours {
    /// Hours from `open` to `close` (`open` must be earlier).
    pub fn new(open: Time, close: Time) -> Result<Self, CalendarError> {
        if open < close {
            Ok(OpeningHours { open, close })
        } else {
            Err(CalendarError::OpenAfterClose)
        }
    }

    /// Hours given as (hour, minute) pairs.
    pub fn hm(open: (i8, i8), close: (i8, i8)) -> Result<Self, CalendarError> {
        OpeningHours::new(Time::new(open.0, open.1, 0, 0)?, Time::new(close.0, close.1, 0, 0)?)
    }

    /// Opening time.
    pub fn open(&self) -> Time {
        self.open
    }

    /// Closing time.
    pub fn close(&self) -> Time {
        self.close
    }
}

/// Opening hours for each weekday; `None` means closed all day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    /// Monday.
    pub monday: Option<OpeningHours>,
    /// Tuesday.
    pub tuesday: Option<OpeningHours>,
    /// Wednesday.
    pub wednesday: Option<OpeningHours>,
    /// Thursday.
    pub thursday: Option<OpeningHours>,
    /// Friday.
    pub friday: Option<OpeningHours>,
    /// Saturday.
    pub saturday: Option<OpeningHours>,
    /// Sunday.
    pub sunday: Option<OpeningHours>,
}

impl WeeklyHours {
    /// GMS contract core hours: 08:00–18:30, Monday to Friday.
    pub fn gms_core_hours() -> Result<Self, CalendarError> {
        let day = Some(OpeningHours::hm((8, 0), (18, 30))?);
        Ok(WeeklyHours {
            monday: day,
            tuesday: day,
            wednesday: day,
            thursday: day,
            friday: day,
            saturday: None,
            sunday: None,
        })
    }

    /// The hours for a weekday.
    pub fn on(&self, weekday: Weekday) -> Option<OpeningHours> {
        match weekday {
            Weekday::Monday => self.monday,
            Weekday::Tuesday => self.tuesday,
            Weekday::Wednesday => self.wednesday,
            Weekday::Thursday => self.thursday,
            Weekday::Friday => self.friday,
            Weekday::Saturday => self.saturday,
            Weekday::Sunday => self.sunday,
        }
    }
}

/// What a practice configures about its calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarConfig {
    /// Which nation's bank holidays apply.
    pub nation: Nation,
    /// Opening hours.
    pub week: WeeklyHours,
    /// Extra closed days (training afternoons count if closed all day,
    /// new one-off bank holidays, local holidays).
    pub extra_closures: BTreeSet<Date>,
    /// Bank holidays on which the practice is open after all.
    pub open_on: BTreeSet<Date>,
}

impl CalendarConfig {
    /// Core hours and the nation's bank holidays, nothing else.
    pub fn default_for(nation: Nation) -> Result<Self, CalendarError> {
        Ok(CalendarConfig {
            nation,
            week: WeeklyHours::gms_core_hours()?,
            extra_closures: BTreeSet::new(),
            open_on: BTreeSet::new(),
        })
    }
}

/// A working calendar ready for arithmetic.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    tz: TimeZone,
    config: CalendarConfig,
}

/// One day's opening as two instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// Opens.
    pub start: Timestamp,
    /// Closes.
    pub end: Timestamp,
}

impl WorkingCalendar {
    /// A calendar in Europe/London for `config`.
    pub fn new(config: CalendarConfig) -> Result<Self, CalendarError> {
        Ok(WorkingCalendar { tz: uk_time_zone()?, config })
    }

    /// Core hours with the nation's bank holidays.
    pub fn uk_default(nation: Nation) -> Result<Self, CalendarError> {
        WorkingCalendar::new(CalendarConfig::default_for(nation)?)
    }

    /// The configuration.
    pub fn config(&self) -> &CalendarConfig {
        &self.config
    }

    /// The UK local date of an instant.
    pub fn local_date(&self, at: Timestamp) -> Date {
        at.to_zoned(self.tz.clone()).date()
    }

    /// True if `date` is a bank holiday in the practice's nation (before the
    /// practice's own overrides).
    pub fn is_bank_holiday(&self, date: Date) -> Result<bool, CalendarError> {
        Ok(bank_holidays(self.config.nation, date.year())?.contains(&date))
    }

    /// The practice's opening on `date`, if it opens at all.
    pub fn session(&self, date: Date) -> Result<Option<Session>, CalendarError> {
        let Some(hours) = self.config.week.on(date.weekday()) else {
            return Ok(None);
        };
        if self.config.extra_closures.contains(&date) {
            return Ok(None);
        }
        if self.is_bank_holiday(date)? && !self.config.open_on.contains(&date) {
            return Ok(None);
        }
        let start = self.tz.to_timestamp(date.to_datetime(hours.open()))?;
        let end = self.tz.to_timestamp(date.to_datetime(hours.close()))?;
        Ok(Some(Session { start, end }))
    }

    /// True if the practice is open at `at`.
    pub fn is_open_at(&self, at: Timestamp) -> Result<bool, CalendarError> {
        Ok(self.session(self.local_date(at))?.is_some_and(|s| s.start <= at && at < s.end))
    }

    /// The first session that ends after `at` (the one `at` falls in, or the
    /// next one).
    pub fn session_at_or_after(&self, at: Timestamp) -> Result<Session, CalendarError> {
        let mut date = self.local_date(at);
        for _ in 0..MAX_SEARCH_DAYS {
            if let Some(s) = self.session(date)? {
                if s.end > at {
                    return Ok(s);
                }
            }
            date = date.tomorrow()?;
        }
        Err(CalendarError::NoWorkingDay(MAX_SEARCH_DAYS))
    }

    /// When the working clock starts for something received at `at`: `at`
    /// itself during opening hours, otherwise the next opening.
    pub fn clock_start(&self, at: Timestamp) -> Result<Timestamp, CalendarError> {
        let s = self.session_at_or_after(at)?;
        Ok(s.start.max(at))
    }

    /// Adds `amount` of working time to `from`.
    pub fn add_working_time(
        &self,
        from: Timestamp,
        amount: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        let mut left = amount.max(SignedDuration::ZERO);
        let mut at = self.clock_start(from)?;
        for _ in 0..MAX_SEARCH_DAYS * 2 {
            let s = self.session_at_or_after(at)?;
            let begin = s.start.max(at);
            let available = s.end.duration_since(begin);
            if left <= available {
                return Ok(begin.checked_add(left)?);
            }
            left -= available;
            at = s.end;
        }
        Err(CalendarError::NoWorkingDay(MAX_SEARCH_DAYS))
    }

    /// The close of the `n`-th working day after the day the clock starts
    /// (n = 0: the close of the starting day itself).
    pub fn close_of_working_day(&self, from: Timestamp, n: u32) -> Result<Timestamp, CalendarError> {
        let mut s = self.session_at_or_after(from)?;
        for _ in 0..n {
            s = self.session_at_or_after(s.end)?;
        }
        Ok(s.end)
    }

    /// Working time from `a` to `b`: positive if `b` is later, negative if
    /// earlier.
    pub fn working_time_between(&self, a: Timestamp, b: Timestamp) -> Result<SignedDuration, CalendarError> {
        if b < a {
            return Ok(-self.working_time_between(b, a)?);
        }
        let mut total = SignedDuration::ZERO;
        let mut date = self.local_date(a);
        let last = self.local_date(b);
        while date <= last {
            if let Some(s) = self.session(date)? {
                let lo = s.start.max(a);
                let hi = s.end.min(b);
                if hi > lo {
                    total += hi.duration_since(lo);
                }
            }
            date = date.tomorrow()?;
        }
        Ok(total)
    }
}

/// Europe/London from the bundled tz database.
pub fn uk_time_zone() -> Result<TimeZone, CalendarError> {
    Ok(TimeZone::get(UK_TIME_ZONE)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::uk_default(Nation::EnglandAndWales).unwrap()
    }

    /// A UK wall-clock time as an instant.
    pub(crate) fn uk(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        uk_time_zone().unwrap().to_timestamp(Date::new(y, mo, d).unwrap().at(h, mi, 0, 0)).unwrap()
    }

    #[test]
    fn opening_follows_bst_and_gmt() {
        // 08:00 local is 07:00 UTC in summer and 08:00 UTC in winter.
        let summer = cal().session(Date::new(2025, 7, 1).unwrap()).unwrap().unwrap();
        assert_eq!(summer.start.to_string(), "2025-07-01T07:00:00Z");
        let winter = cal().session(Date::new(2025, 12, 2).unwrap()).unwrap().unwrap();
        assert_eq!(winter.start.to_string(), "2025-12-02T08:00:00Z");
    }

    #[test]
    fn weekends_and_bank_holidays_are_closed_per_nation() {
        let ew = cal();
        let sc = WorkingCalendar::uk_default(Nation::Scotland).unwrap();
        let easter_monday = Date::new(2025, 4, 21).unwrap();
        assert!(ew.session(easter_monday).unwrap().is_none());
        assert!(sc.session(easter_monday).unwrap().is_some());
        assert!(ew.session(Date::new(2025, 4, 19).unwrap()).unwrap().is_none());
    }

    #[test]
    fn practice_overrides_apply() {
        let mut config = CalendarConfig::default_for(Nation::EnglandAndWales).unwrap();
        let training = Date::new(2025, 3, 12).unwrap();
        let easter_monday = Date::new(2025, 4, 21).unwrap();
        config.extra_closures.insert(training);
        config.open_on.insert(easter_monday);
        let c = WorkingCalendar::new(config).unwrap();
        assert!(c.session(training).unwrap().is_none());
        assert!(c.session(easter_monday).unwrap().is_some());
    }

    #[test]
    fn working_time_skips_nights_weekends_and_holidays() {
        let c = cal();
        // Friday 17:00 → Tuesday 09:00 across Easter Monday 2025: 1.5h + 1h.
        let got = c.working_time_between(uk(2025, 4, 17, 17, 0), uk(2025, 4, 22, 9, 0)).unwrap();
        assert_eq!(got, SignedDuration::from_mins(150));
        assert_eq!(c.working_time_between(uk(2025, 4, 22, 9, 0), uk(2025, 4, 17, 17, 0)).unwrap(), -got);
    }

    #[test]
    fn adding_working_time_carries_over_to_the_next_open_day() {
        let c = cal();
        // Friday 16:00 + 4h → Monday 09:30 (2.5h Friday, 1.5h Monday).
        let due = c.add_working_time(uk(2025, 3, 7, 16, 0), SignedDuration::from_hours(4)).unwrap();
        assert_eq!(due, uk(2025, 3, 10, 9, 30));
        // Received Saturday: clock starts Monday 08:00.
        assert_eq!(c.clock_start(uk(2025, 3, 8, 11, 0)).unwrap(), uk(2025, 3, 10, 8, 0));
        // Across the spring clock change (30 March 2025): still wall-clock hours.
        let due = c.add_working_time(uk(2025, 3, 28, 17, 0), SignedDuration::from_hours(3)).unwrap();
        assert_eq!(due, uk(2025, 3, 31, 9, 30));
    }

    #[test]
    fn a_calendar_with_no_hours_is_an_error_not_a_hang() {
        let mut config = CalendarConfig::default_for(Nation::Scotland).unwrap();
        config.week = WeeklyHours {
            monday: None,
            tuesday: None,
            wednesday: None,
            thursday: None,
            friday: None,
            saturday: None,
            sunday: None,
        };
        let c = WorkingCalendar::new(config).unwrap();
        assert!(matches!(c.clock_start(uk(2025, 1, 6, 9, 0)), Err(CalendarError::NoWorkingDay(_))));
    }

    #[test]
    fn opening_hours_validate() {
        assert_eq!(OpeningHours::hm((18, 0), (8, 0)), Err(CalendarError::OpenAfterClose));
        let json = r#"{"open":"18:00:00","close":"08:00:00"}"#;
        assert!(serde_json::from_str::<OpeningHours>(json).is_err());
        let json = r#"{"open":"08:00:00","close":"13:00:00"}"#;
        assert!(serde_json::from_str::<OpeningHours>(json).is_ok());
    }
}
