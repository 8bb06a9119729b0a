//! Dates as users write them, and ages at a reference date.

use time::{Date, Month};

/// Parses `2019-03-05`, `2019/3/5`, `2019.3.5`, `20190305` and `2019年3月5日`.
pub fn parse(text: &str) -> Option<Date> {
    let t = text.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return ymd(t[0..4].parse().ok()?, t[4..6].parse().ok()?, t[6..8].parse().ok()?);
    }
    let t = t.trim_end_matches('日');
    let parts: Vec<&str> = t.split(['-', '/', '.', '年', '月']).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    ymd(parts[0].parse().ok()?, parts[1].parse().ok()?, parts[2].parse().ok()?)
}

fn ymd(y: i32, m: u8, d: u8) -> Option<Date> {
    if !(1800..=2200).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// ISO-8601 text, the form dates are stored in.
pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Whole years of age on `on` (the birthday counts on the day itself).
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut age = on.year() - birth.year();
    if (u8::from(on.month()), on.day()) < (u8::from(birth.month()), birth.day()) {
        age -= 1;
    }
    age
}

/// 31 December of a policy year: the reference date for ages in rules and the generator.
pub fn year_end(year: i32) -> Date {
    Date::from_calendar_date(year, Month::December, 31).expect("31 December exists")
}

/// Beijing time of a stored RFC 3339 instant: `2026-11-05 16:30`.
pub fn beijing(at: &str) -> String {
    let parsed = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339);
    match (parsed, time::UtcOffset::from_hms(8, 0, 0)) {
        (Ok(t), Ok(offset)) => {
            let t = t.to_offset(offset);
            format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        }
        _ => at.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_people_write() {
        for t in ["2019-03-05", "2019/3/5", "2019.3.5", "20190305", "2019年3月5日"] {
            assert_eq!(parse(t).map(iso).as_deref(), Some("2019-03-05"), "{t}");
        }
        assert_eq!(parse("2019-02-30"), None);
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        let b = parse("2000-06-15").unwrap();
        assert_eq!(age_on(b, parse("2016-06-14").unwrap()), 15);
        assert_eq!(age_on(b, parse("2016-06-15").unwrap()), 16);
    }
}
