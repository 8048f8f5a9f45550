//! Dates and times written and read in the providers' fixed layouts (`2019-11-02T00:00:00`,
//! `2022-11-30 21:22:17`, `2022/11/30`) without chrono's format strings, which are parsed
//! again on every call and showed in the profile of every answer (issue 5).

use std::fmt;

use chrono::{Datelike as _, NaiveDate, NaiveDateTime, NaiveTime, Timelike as _};

/// `yyyy{sep}mm{sep}dd`.
#[derive(Debug, Clone, Copy)]
pub struct Date(pub NaiveDate, pub char);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Date(date, sep) = *self;
        match (u8::try_from(sep), u16::try_from(date.year())) {
            (Ok(sep), Ok(year)) if sep.is_ascii() && year <= 9999 => {
                let mut text = [0u8; 10];
                digits(&mut text[0..4], year.into());
                text[4] = sep;
                digits(&mut text[5..7], date.month());
                text[7] = sep;
                digits(&mut text[8..10], date.day());
                f.write_str(ascii(&text))
            }
            _ => write!(
                f,
                "{:04}{sep}{:02}{sep}{:02}",
                date.year(),
                date.month(),
                date.day()
            ),
        }
    }
}

/// Writes `value` as `out.len()` decimal digits, zero-padded (the caller keeps it in range).
/// Dates are written on every answer; `write!` with widths went through `pad_integral` and
/// showed in the profile (issue 5).
pub(crate) fn digits(out: &mut [u8], mut value: u32) {
    for place in out.iter_mut().rev() {
        // `value % 10` is below 10.
        *place = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn ascii(text: &[u8]) -> &str {
    // Only ASCII digits and ASCII separators are written into `text`.
    std::str::from_utf8(text).unwrap_or_default()
}

/// `hh:mm:ss`.
#[derive(Debug, Clone, Copy)]
pub struct Time(pub NaiveTime);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = self.0;
        let mut text = *b"00:00:00";
        digits(&mut text[0..2], time.hour());
        digits(&mut text[3..5], time.minute());
        digits(&mut text[6..8], time.second());
        f.write_str(ascii(&text))
    }
}

/// `yyyy-mm-dd{between}hh:mm:ss`: `T` for Sovos, a space for Afacturar.
#[derive(Debug, Clone, Copy)]
pub struct DateTime(pub NaiveDateTime, pub char);

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ascii() {
            Some(text) => f.write_str(ascii(&text)),
            None => {
                let DateTime(at, between) = *self;
                write!(f, "{}{between}{}", Date(at.date(), '-'), Time(at.time()))
            }
        }
    }
}

impl DateTime {
    /// The 19 bytes of the text, when the year has four digits and `between` is ASCII (every
    /// date the providers write).
    pub fn ascii(&self) -> Option<[u8; 19]> {
        let DateTime(at, between) = *self;
        let between = u8::try_from(between).ok().filter(u8::is_ascii)?;
        let year = u16::try_from(at.year()).ok().filter(|&y| y <= 9999)?;
        let mut text = *b"0000-00-00 00:00:00";
        digits(&mut text[0..4], year.into());
        digits(&mut text[5..7], at.month());
        digits(&mut text[8..10], at.day());
        text[10] = between;
        digits(&mut text[11..13], at.hour());
        digits(&mut text[14..16], at.minute());
        digits(&mut text[17..19], at.second());
        Some(text)
    }

    /// The text, written without the formatter when [`DateTime::ascii`] can.
    pub fn text(&self) -> String {
        match self.ascii() {
            Some(text) => ascii(&text).to_owned(),
            None => self.to_string(),
        }
    }

    /// Serializes the text as one string: written into a stack buffer and handed over whole,
    /// instead of `collect_str`'s formatter (Sovos's answers carry a date per row).
    pub fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.ascii() {
            Some(text) => serializer.serialize_str(ascii(&text)),
            None => serializer.collect_str(self),
        }
    }
}

/// Reads `yyyy-mm-dd{between}hh:mm:ss` exactly as [`DateTime`] writes it; anything else
/// (other widths, signs, spaces) is `None`.
pub fn parse_datetime(text: &str, between: char) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || char::from(bytes[10]) != between
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &text[range];
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())
            .flatten()
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0..4)?).ok()?,
        number(5..7)?,
        number(8..10)?,
    )?;
    let time = NaiveTime::from_hms_opt(number(11..13)?, number(14..16)?, number(17..19)?)?;
    Some(date.and_time(time))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn samples() -> Vec<NaiveDateTime> {
        [
            "2019-11-02 00:00:00",
            "0999-01-09 09:05:07",
            "2026-12-31 23:59:59",
            "2022-11-30 21:22:17",
            "0000-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "1970-02-28 12:34:56",
        ]
        .iter()
        .map(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").unwrap())
        .collect()
    }

    #[test]
    fn every_layout_is_written_exactly_as_chrono_formats_it() {
        for at in samples() {
            assert_eq!(
                DateTime(at, 'T').to_string(),
                at.format("%Y-%m-%dT%H:%M:%S").to_string()
            );
            assert_eq!(
                DateTime(at, ' ').to_string(),
                at.format("%Y-%m-%d %H:%M:%S").to_string()
            );
            assert_eq!(
                Date(at.date(), '/').to_string(),
                at.format("%Y/%m/%d").to_string()
            );
            assert_eq!(
                Time(at.time()).to_string(),
                at.format("%H:%M:%S").to_string()
            );
        }
    }

    #[test]
    fn serialized_as_json_it_is_the_displayed_text_as_one_string() {
        let mut moments = samples();
        // Outside four digits: the formatter's path.
        for year in [10_000, -1] {
            let date = NaiveDate::from_ymd_opt(year, 3, 4).unwrap();
            moments.push(date.and_hms_opt(5, 6, 7).unwrap());
        }
        for at in moments {
            for between in ['T', ' ', 'é'] {
                let moment = DateTime(at, between);
                let mut json = Vec::new();
                moment
                    .serialize(&mut serde_json::Serializer::new(&mut json))
                    .unwrap();
                assert_eq!(
                    String::from_utf8(json).unwrap(),
                    serde_json::to_string(&moment.to_string()).unwrap()
                );
            }
        }
    }

    #[test]
    fn the_text_is_the_displayed_text_and_splits_into_the_date_and_the_time() {
        let mut moments = samples();
        for year in [10_000, -1, -10_000] {
            let date = NaiveDate::from_ymd_opt(year, 3, 4).unwrap();
            moments.push(date.and_hms_opt(5, 6, 7).unwrap());
        }
        for at in moments {
            for between in ['T', ' ', 'é'] {
                assert_eq!(
                    DateTime(at, between).text(),
                    DateTime(at, between).to_string()
                );
            }
            // What the event ledger reads the CUDE's date and time from.
            let date = Date(at.date(), '-').to_string();
            let time = Time(at.time()).to_string();
            assert_eq!(
                DateTime(at, ' ').text().split_once(' '),
                Some((date.as_str(), time.as_str()))
            );
        }
    }

    #[test]
    fn reading_gives_back_what_was_written_and_refuses_anything_else() {
        for at in samples() {
            assert_eq!(
                parse_datetime(&DateTime(at, ' ').to_string(), ' '),
                Some(at)
            );
            assert_eq!(
                parse_datetime(&DateTime(at, 'T').to_string(), 'T'),
                Some(at)
            );
        }
        for text in [
            "2022-11-30T21:22:17",
            "2022-11-30 21:22:1",
            "2022-11-30 21:22:170",
            "2022-13-30 21:22:17",
            "2022-11-30 24:00:00",
            "+022-11-30 21:22:17",
            "2022-11-30 2 :22:17",
            "2022-11-30 21:22:17Z",
        ] {
            assert_eq!(parse_datetime(text, ' '), None, "{text}");
        }
    }
}
