//! UK bank holidays per nation, derived from the rules gov.uk publishes
//! (<https://www.gov.uk/bank-holidays>), plus the one-off holidays of recent
//! years. Practices add or remove dates in their calendar configuration
//! (local holidays, future one-offs announced by proclamation).

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The three bank-holiday jurisdictions of the UK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nation {
    /// England and Wales.
    EnglandAndWales,
    /// Scotland.
    Scotland,
    /// Northern Ireland.
    NorthernIreland,
}

impl Nation {
    /// Every nation.
    pub const ALL: [Nation; 3] = [Nation::EnglandAndWales, Nation::Scotland, Nation::NorthernIreland];
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Nation::EnglandAndWales => "england_and_wales",
            Nation::Scotland => "scotland",
            Nation::NorthernIreland => "northern_ireland",
        })
    }
}

/// Easter Sunday in the Gregorian calendar (anonymous Gregorian algorithm).
pub fn easter_sunday(year: i16) -> Result<Date, jiff::Error> {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, month as i8, day as i8)
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn nth_monday(year: i16, month: i8, nth: i8) -> Result<Date, jiff::Error> {
    Date::new(year, month, 1)?.nth_weekday_of_month(nth, Weekday::Monday)
}

/// (month, day) pairs.
type MonthDays = &'static [(i8, i8)];

/// One-off changes by royal proclamation: (year, removed, added), UK-wide.
const ONE_OFFS: &[(i16, MonthDays, MonthDays)] = &[
    // 2020: early May bank holiday moved to Friday 8 May (VE Day 75).
    (2020, &[(5, 4)], &[(5, 8)]),
    // 2022: spring bank holiday moved to 2 June, Platinum Jubilee 3 June,
    // State Funeral of Queen Elizabeth II 19 September.
    (2022, &[(5, 30)], &[(6, 2), (6, 3), (9, 19)]),
    // 2023: Coronation of King Charles III, 8 May.
    (2023, &[], &[(5, 8)]),
];

/// The bank holidays of `nation` in `year`, sorted.
pub fn bank_holidays(nation: Nation, year: i16) -> Result<Vec<Date>, jiff::Error> {
    let mut days: Vec<Date> = Vec::new();
    let easter = easter_sunday(year)?;
    days.push(easter.checked_sub(jiff::Span::new().days(2))?);
    if nation != Nation::Scotland {
        days.push(easter.checked_add(jiff::Span::new().days(1))?);
    }
    days.push(nth_monday(year, 5, 1)?);
    days.push(nth_monday(year, 5, -1)?);
    days.push(match nation {
        Nation::Scotland => nth_monday(year, 8, 1)?,
        _ => nth_monday(year, 8, -1)?,
    });
    // Fixed dates, in calendar order; one on a weekend (or on a day already
    // taken) moves to the next free weekday ("substitute day").
    let mut fixed: Vec<(i8, i8)> = vec![(1, 1)];
    match nation {
        Nation::Scotland => {
            fixed.push((1, 2));
            fixed.push((11, 30));
        }
        Nation::NorthernIreland => {
            fixed.push((3, 17));
            fixed.push((7, 12));
        }
        Nation::EnglandAndWales => {}
    }
    fixed.push((12, 25));
    fixed.push((12, 26));
    for (month, day) in fixed {
        let mut d = Date::new(year, month, day)?;
        while is_weekend(d) || days.contains(&d) {
            d = d.tomorrow()?;
        }
        days.push(d);
    }
    for (y, removed, added) in ONE_OFFS {
        if *y == year {
            for (m, d) in *removed {
                let gone = Date::new(year, *m, *d)?;
                days.retain(|x| *x != gone);
            }
            for (m, d) in *added {
                days.push(Date::new(year, *m, *d)?);
            }
        }
    }
    days.sort();
    days.dedup();
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(year: i16, md: &[(i8, i8)]) -> Vec<Date> {
        md.iter().map(|(m, d)| Date::new(year, *m, *d).unwrap()).collect()
    }

    #[test]
    fn easter_matches_known_dates() {
        for (y, m, d) in
            [(2019, 4, 21), (2024, 3, 31), (2025, 4, 20), (2026, 4, 5), (2027, 3, 28), (2038, 4, 25)]
        {
            assert_eq!(easter_sunday(y).unwrap(), Date::new(y, m, d).unwrap(), "{y}");
        }
    }

    // Expected lists copied from gov.uk/bank-holidays.
    #[test]
    fn england_and_wales_2025_and_2026_match_gov_uk() {
        assert_eq!(
            bank_holidays(Nation::EnglandAndWales, 2025).unwrap(),
            dates(2025, &[(1, 1), (4, 18), (4, 21), (5, 5), (5, 26), (8, 25), (12, 25), (12, 26)])
        );
        assert_eq!(
            bank_holidays(Nation::EnglandAndWales, 2026).unwrap(),
            dates(2026, &[(1, 1), (4, 3), (4, 6), (5, 4), (5, 25), (8, 31), (12, 25), (12, 28)])
        );
    }

    #[test]
    fn scotland_2025_and_2026_match_gov_uk() {
        assert_eq!(
            bank_holidays(Nation::Scotland, 2025).unwrap(),
            dates(2025, &[(1, 1), (1, 2), (4, 18), (5, 5), (5, 26), (8, 4), (12, 1), (12, 25), (12, 26)])
        );
        assert_eq!(
            bank_holidays(Nation::Scotland, 2026).unwrap(),
            dates(2026, &[(1, 1), (1, 2), (4, 3), (5, 4), (5, 25), (8, 3), (11, 30), (12, 25), (12, 28)])
        );
    }

    #[test]
    fn northern_ireland_2025_and_2026_match_gov_uk() {
        assert_eq!(
            bank_holidays(Nation::NorthernIreland, 2025).unwrap(),
            dates(
                2025,
                &[(1, 1), (3, 17), (4, 18), (4, 21), (5, 5), (5, 26), (7, 14), (8, 25), (12, 25), (12, 26)]
            )
        );
        assert_eq!(
            bank_holidays(Nation::NorthernIreland, 2026).unwrap(),
            dates(
                2026,
                &[(1, 1), (3, 17), (4, 3), (4, 6), (5, 4), (5, 25), (7, 13), (8, 31), (12, 25), (12, 28)]
            )
        );
    }

    #[test]
    fn substitute_days_and_one_offs() {
        // 2022: New Year on Saturday, Christmas on Sunday; Jubilee changes.
        assert_eq!(bank_holidays(Nation::Scotland, 2022).unwrap()[..2], dates(2022, &[(1, 3), (1, 4)])[..]);
        let ew22 = bank_holidays(Nation::EnglandAndWales, 2022).unwrap();
        assert_eq!(
            ew22,
            dates(
                2022,
                &[(1, 3), (4, 15), (4, 18), (5, 2), (6, 2), (6, 3), (8, 29), (9, 19), (12, 26), (12, 27)]
            )
        );
        assert!(bank_holidays(Nation::NorthernIreland, 2023)
            .unwrap()
            .contains(&Date::new(2023, 5, 8).unwrap()));
        let ew20 = bank_holidays(Nation::EnglandAndWales, 2020).unwrap();
        assert!(ew20.contains(&Date::new(2020, 5, 8).unwrap()));
        assert!(!ew20.contains(&Date::new(2020, 5, 4).unwrap()));
    }

    #[test]
    fn no_bank_holiday_falls_on_a_weekend() {
        for nation in Nation::ALL {
            for year in 2018..=2040 {
                for d in bank_holidays(nation, year).unwrap() {
                    assert!(!is_weekend(d), "{nation} {d}");
                }
            }
        }
    }
}
