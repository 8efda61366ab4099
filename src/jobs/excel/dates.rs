//! ISO 8601 dates and durations, as .ods files store them, turned into the
//! serial numbers Excel uses: days since 1899-12-30, the time of day as a
//! fraction. Only for `--dates-as-numbers`; text that does not parse is
//! `None` (and the cell is skipped).

/// `2021-01-01` or `2021-01-01T10:30:00[.5]` as a serial number.
pub(super) fn iso_date(s: &str) -> Option<f64> {
    let (date, time) = s.split_once('T').unwrap_or((s, ""));
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day) - days_from_civil(1899, 12, 30);
    let seconds = if time.is_empty() {
        0.0
    } else {
        let mut hms = time.splitn(3, ':');
        let h: f64 = hms.next()?.parse().ok()?;
        let m: f64 = hms.next()?.parse().ok()?;
        let s: f64 = hms.next().unwrap_or("0").parse().ok()?;
        h * 3600.0 + m * 60.0 + s
    };
    Some(days as f64 + seconds / 86_400.0)
}

/// `PT10H30M`, `P1DT2H`, `-PT0.5S` as a number of days.
pub(super) fn iso_duration(s: &str) -> Option<f64> {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, s),
    };
    let rest = rest.strip_prefix('P')?;
    let mut days = 0.0;
    let mut in_time = false;
    let mut number = String::new();
    for ch in rest.chars() {
        let unit_days = match (ch, in_time) {
            ('T', false) if number.is_empty() => {
                in_time = true;
                continue;
            }
            ('0'..='9' | '.', _) => {
                number.push(ch);
                continue;
            }
            ('D', false) => 1.0,
            ('W', false) => 7.0,
            ('H', true) => 1.0 / 24.0,
            ('M', true) => 1.0 / 1_440.0,
            ('S', true) => 1.0 / 86_400.0,
            _ => return None,
        };
        days += number.parse::<f64>().ok()? * unit_days;
        number.clear();
    }
    number.is_empty().then_some(sign * days)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_excel_serial_numbers() {
        // Excel shows 44197 for 2021-01-01, and 45943.5 for 2025-10-13 12:00.
        assert_eq!(iso_date("2021-01-01"), Some(44197.0));
        assert_eq!(iso_date("2025-10-13T12:00:00"), Some(45943.5));
        assert_eq!(iso_date("1899-12-30"), Some(0.0));
        assert_eq!(iso_date("2021-13-01"), None);
        assert_eq!(iso_date("soon"), None);
    }

    #[test]
    fn durations_are_days() {
        assert_eq!(iso_duration("PT12H"), Some(0.5));
        assert_eq!(iso_duration("P1DT6H"), Some(1.25));
        assert_eq!(iso_duration("-PT36H"), Some(-1.5));
        assert_eq!(iso_duration("PT12H30M00S"), Some(0.5 + 30.0 / 1440.0));
        assert_eq!(iso_duration("12:00"), None);
        assert_eq!(iso_duration("PT5"), None);
    }
}
