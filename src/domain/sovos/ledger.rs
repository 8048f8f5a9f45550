//! The Sovos account behind an API key: its RFCs, its stamping movements, and the balance
//! (`saldos`) and consumption report computed from them (seed 002).
//!
//! Everything here is pure: no clock, no I/O. The caller passes the month and "now".

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// Why an account cannot answer: the domain's reasons, which Sovos words as 400-001 and
/// 400-002 (`render::sovos::SovosError` maps them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Not a real month written `yyyy-mm`.
    #[error("not a month written yyyy-mm (01-12)")]
    InvalidMonth,
    /// The RFC is not registered in the account.
    #[error("the RFC is not registered in the account")]
    RfcNotRegistered,
}

/// The movement type that counts as stamping (seed 002, `TipoMovimiento`).
pub const CONSUMO_DE_TIMBRE: &str = "Consumo de timbre";

/// A calendar month, as `MesConsulta` gives it (`yyyy-mm`, month 01–12, year 0000–9999).
///
/// The fields are private so that a `Month` is always a real month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// The month `month` (1–12) of `year` (0–9999, what `yyyy` can write).
    pub fn new(year: i32, month: u32) -> Result<Month, QueryError> {
        if (0..=9999).contains(&year) && (1..=12).contains(&month) {
            Ok(Month { year, month })
        } else {
            Err(QueryError::InvalidMonth)
        }
    }

    /// The month a date falls in.
    ///
    /// Dates outside years 0–9999 are clamped to those years, so `Display` stays `yyyy-mm`.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year().clamp(0, 9999),
            month: date.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month number, 1–12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        date_or_min(self.year, self.month, 1)
    }

    /// The last day of the month (29 February in leap years).
    pub fn last_day(self) -> NaiveDate {
        let days = match self.month {
            2 if is_leap_year(self.year) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        date_or_min(self.year, self.month, days)
    }

    /// Whether `date` falls in this month.
    pub fn contains(self, date: NaiveDate) -> bool {
        date.year() == self.year && date.month() == self.month
    }
}

/// Proleptic Gregorian leap year, as chrono counts them.
fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// `Month` only holds real months of years 0–9999, all of which chrono represents, so the
/// fallback is unreachable; it stands in for an `expect`.
fn date_or_min(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

impl FromStr for Month {
    type Err = QueryError;

    /// Exactly `yyyy-mm`: four ASCII digits, `-`, two ASCII digits, month 01–12. No spaces,
    /// no single-digit months, no day: the seed's 400-001 is the answer to anything else.
    fn from_str(text: &str) -> Result<Month, QueryError> {
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 7
            && bytes[4] == b'-'
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && bytes[5..].iter().all(u8::is_ascii_digit);
        if !shape_ok {
            return Err(QueryError::InvalidMonth);
        }
        let digits = |range: std::ops::Range<usize>| {
            bytes[range]
                .iter()
                .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'))
        };
        // At most 9999, so the conversion cannot fail.
        let year = i32::try_from(digits(0..4)).map_err(|_| QueryError::InvalidMonth)?;
        Month::new(year, digits(5..7))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The account's consumption type (`TipoConsumo`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum TipoConsumo {
    /// Prepaid.
    Prepago,
    /// Postpaid; the seed's examples are all postpaid, hence the default.
    #[default]
    Postpago,
}

impl TipoConsumo {
    /// The word the API writes: `Prepago` or `Postpago`.
    pub fn as_str(self) -> &'static str {
        match self {
            TipoConsumo::Prepago => "Prepago",
            TipoConsumo::Postpago => "Postpago",
        }
    }
}

impl fmt::Display for TipoConsumo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an RFC stands in the account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum RfcEstado {
    /// Registered in the account but not (yet) authorised to stamp: counted in `Registrados`.
    Registrado,
    /// Authorised to stamp: counted in `Autorizados`. The default, since an RFC is usually
    /// configured in the fake in order to stamp.
    #[default]
    Autorizado,
}

/// An RFC registered in the account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredRfc {
    /// The RFC, as the client sends it in `RFCConsulta` (compared exactly).
    pub rfc: String,
    /// Its state; `Autorizado` when omitted.
    #[serde(default)]
    pub estado: RfcEstado,
}

/// One movement of the account's ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Movimiento {
    /// The RFC the movement belongs to.
    pub rfc: String,
    /// The day of the movement (`"yyyy-mm-dd"` in the config).
    #[serde(deserialize_with = "iso_date")]
    pub fecha: NaiveDate,
    /// Its type; `Consumo de timbre` when omitted, the only type the seed shows.
    #[serde(default = "default_tipo_movimiento")]
    pub tipo_movimiento: String,
    /// How many procedures of that type.
    pub monto: u64,
}

/// A movement's `fecha`, with an error that shows the expected format.
fn iso_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|error| {
        serde::de::Error::custom(format!(
            "fecha `{text}` ({error}): expected a day written yyyy-mm-dd, like `2019-10-17`"
        ))
    })
}

fn default_tipo_movimiento() -> String {
    CONSUMO_DE_TIMBRE.to_owned()
}

/// The account an API key opens: its name, consumption type, RFCs and ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The account's name (the report's `Cuenta`).
    pub cuenta: String,
    /// `Postpago` when omitted.
    #[serde(default)]
    pub tipo_consumo: TipoConsumo,
    /// The registered RFCs.
    #[serde(default)]
    pub rfcs: Vec<RegisteredRfc>,
    /// The ledger, in any order.
    #[serde(default)]
    pub movimientos: Vec<Movimiento>,
}

/// A configured account that contradicts itself (see [`Account::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The same RFC is listed twice in `rfcs`.
    #[error("account {cuenta:?}: RFC {rfc} is registered twice")]
    DuplicateRfc {
        /// The account.
        cuenta: String,
        /// The repeated RFC.
        rfc: String,
    },
    /// A movement belongs to an RFC that is not in `rfcs`.
    #[error(
        "account {cuenta:?}: the movement of {fecha} belongs to RFC {rfc}, which is not registered"
    )]
    UnregisteredRfc {
        /// The account.
        cuenta: String,
        /// The movement's RFC.
        rfc: String,
        /// The movement's day.
        fecha: NaiveDate,
    },
}

/// The balance a `saldos` request answers, serialised exactly as seed 002's examples. `S` is
/// the type of `Detalle`'s texts: borrowed from the account ([`Account::saldos`]), or owned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Saldos<S = String> {
    /// `TipoConsumo`.
    #[serde(rename = "TipoConsumo")]
    pub tipo_consumo: TipoConsumo,
    /// `FechaActual`, `yyyy-mm-ddThh:MM:ss` (whole seconds).
    #[serde(rename = "FechaActual", with = "local_datetime")]
    pub fecha_actual: NaiveDateTime,
    /// `Registrados`: RFCs registered but not authorised.
    #[serde(rename = "Registrados")]
    pub registrados: u64,
    /// `Autorizados`: RFCs authorised to stamp.
    #[serde(rename = "Autorizados")]
    pub autorizados: u64,
    /// `GeneraronTimbre`: RFCs that stamped at least once in the month.
    #[serde(rename = "GeneraronTimbre")]
    pub generaron_timbre: u64,
    /// `Transacciones`: stamps made in the month.
    #[serde(rename = "Transacciones")]
    pub transacciones: u64,
    /// `Detalle`: the month's movements per RFC, day and type.
    #[serde(rename = "Detalle")]
    pub detalle: Vec<Detalle<S>>,
}

/// One line of `Detalle` (and one row of the report); `S` as for [`Saldos`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Detalle<S = String> {
    /// `RFC`.
    #[serde(rename = "RFC")]
    pub rfc: S,
    /// `Fecha`, written `yyyy-mm-ddT00:00:00`.
    #[serde(rename = "Fecha", with = "midnight")]
    pub fecha: NaiveDate,
    /// `TipoMovimiento`.
    #[serde(rename = "TipoMovimiento")]
    pub tipo_movimiento: S,
    /// `Monto`: the sum of that day's movements of that type for that RFC.
    #[serde(rename = "Monto")]
    pub monto: u64,
}

impl Detalle<&str> {
    /// The same line with texts of its own.
    pub fn into_owned(self) -> Detalle {
        Detalle {
            rfc: self.rfc.to_owned(),
            fecha: self.fecha,
            tipo_movimiento: self.tipo_movimiento.to_owned(),
            monto: self.monto,
        }
    }
}

/// The data of a consumption report (`saldos/csv`, `saldos/pdf`), whatever its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `Cuenta`.
    pub cuenta: String,
    /// `TipoConsumo`.
    pub tipo_consumo: TipoConsumo,
    /// `FechaInicioConsulta`: the month's first day at 00:00:00.
    pub fecha_inicio: NaiveDateTime,
    /// `FechaFinConsulta`: the month's last day at 00:00:00 (as the seed writes it).
    pub fecha_fin: NaiveDateTime,
    /// `FechaActual`, whole seconds.
    pub fecha_actual: NaiveDateTime,
    /// `Registrados`.
    pub registrados: u64,
    /// `Autorizados`.
    pub autorizados: u64,
    /// `Generaron Timbre`.
    pub generaron_timbre: u64,
    /// `Consumo de todos los RFC`.
    pub transacciones: u64,
    /// The table: the month's movements per RFC, day and type.
    pub rows: Vec<Detalle>,
}

/// The figures common to `saldos` and the report, their texts borrowed from the account.
struct Figures<'a> {
    registrados: u64,
    autorizados: u64,
    generaron_timbre: u64,
    transacciones: u64,
    detalle: Vec<Detalle<&'a str>>,
}

impl Account {
    /// The embedded default account, reproducing seed 002: account `Pruebas`, postpaid, RFCs
    /// `A&D061009TY8` and `AAA010101AAA` (both authorised: both stamp, and the seed counts
    /// stamps "of the authorized RFCs"), and the movements the seed's examples show.
    pub fn default_seed() -> Account {
        let movimiento = |rfc: &str, year, month, day, monto| Movimiento {
            rfc: rfc.to_owned(),
            fecha: date_or_min(year, month, day),
            tipo_movimiento: CONSUMO_DE_TIMBRE.to_owned(),
            monto,
        };
        let autorizado = |rfc: &str| RegisteredRfc {
            rfc: rfc.to_owned(),
            estado: RfcEstado::Autorizado,
        };
        Account {
            cuenta: "Pruebas".to_owned(),
            tipo_consumo: TipoConsumo::Postpago,
            rfcs: vec![autorizado("A&D061009TY8"), autorizado("AAA010101AAA")],
            movimientos: vec![
                movimiento("A&D061009TY8", 2019, 11, 2, 1),
                movimiento("AAA010101AAA", 2019, 11, 3, 1),
                movimiento("AAA010101AAA", 2019, 10, 17, 3),
            ],
        }
    }

    /// Checks that the account does not contradict itself: no RFC listed twice, no movement
    /// of an unregistered RFC. `saldos` and `report` work on any account; this is for the
    /// loader of a config file, to catch its typos.
    pub fn validate(&self) -> Result<(), AccountError> {
        let mut registered = BTreeSet::new();
        for entry in &self.rfcs {
            if !registered.insert(entry.rfc.as_str()) {
                return Err(AccountError::DuplicateRfc {
                    cuenta: self.cuenta.clone(),
                    rfc: entry.rfc.clone(),
                });
            }
        }
        for movimiento in &self.movimientos {
            if !registered.contains(movimiento.rfc.as_str()) {
                return Err(AccountError::UnregisteredRfc {
                    cuenta: self.cuenta.clone(),
                    rfc: movimiento.rfc.clone(),
                    fecha: movimiento.fecha,
                });
            }
        }
        Ok(())
    }

    /// Whether `rfc` is registered in the account (exact comparison).
    pub fn is_registered(&self, rfc: &str) -> bool {
        self.rfcs.iter().any(|entry| entry.rfc == rfc)
    }

    /// The balance of `month` (the `saldos` response), for every RFC or, with `rfc`, for that
    /// RFC alone: then every figure, `Registrados` and `Autorizados` included, is computed over
    /// that one RFC, so those two say its state (1/0 or 0/1).
    ///
    /// `Err(QueryError::RfcNotRegistered)` (400-002) if `rfc` is not registered. `Detalle`'s
    /// texts are borrowed from the account: the answer is written without a copy of each.
    pub fn saldos(
        &self,
        month: Month,
        rfc: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<Saldos<&str>, QueryError> {
        if let Some(rfc) = rfc {
            if !self.is_registered(rfc) {
                return Err(QueryError::RfcNotRegistered);
            }
        }
        let figures = self.figures(month, rfc);
        Ok(Saldos {
            tipo_consumo: self.tipo_consumo,
            fecha_actual: whole_seconds(now),
            registrados: figures.registrados,
            autorizados: figures.autorizados,
            generaron_timbre: figures.generaron_timbre,
            transacciones: figures.transacciones,
            detalle: figures.detalle,
        })
    }

    /// The consumption report of `month`, over every RFC (the reports take no RFC).
    pub fn report(&self, month: Month, now: NaiveDateTime) -> Report {
        let figures = self.figures(month, None);
        Report {
            cuenta: self.cuenta.clone(),
            tipo_consumo: self.tipo_consumo,
            fecha_inicio: month.first_day().and_time(NaiveTime::MIN),
            fecha_fin: month.last_day().and_time(NaiveTime::MIN),
            fecha_actual: whole_seconds(now),
            registrados: figures.registrados,
            autorizados: figures.autorizados,
            generaron_timbre: figures.generaron_timbre,
            transacciones: figures.transacciones,
            rows: figures
                .detalle
                .into_iter()
                .map(Detalle::into_owned)
                .collect(),
        }
    }

    /// The figures of `month`, over every RFC or over `only`.
    fn figures(&self, month: Month, only: Option<&str>) -> Figures<'_> {
        let wanted = |rfc: &str| only.is_none_or(|only| only == rfc);

        // An RFC listed twice counts once, with its first state: a stable sort keeps each
        // RFC's first entry first. Vectors sorted once, rather than ordered sets and maps,
        // since an account holds a handful of RFCs and a month a handful of movements.
        let mut listed: Vec<(&str, RfcEstado)> = self
            .rfcs
            .iter()
            .filter(|entry| wanted(&entry.rfc))
            .map(|entry| (entry.rfc.as_str(), entry.estado))
            .collect();
        listed.sort_by_key(|&(rfc, _)| rfc);
        listed.dedup_by_key(|&mut (rfc, _)| rfc);
        let (mut registrados, mut autorizados) = (0u64, 0u64);
        for (_, estado) in &listed {
            match estado {
                RfcEstado::Registrado => registrados += 1,
                RfcEstado::Autorizado => autorizados += 1,
            }
        }

        let mut detalle: Vec<Detalle<&str>> = self
            .movimientos
            .iter()
            .filter(|m| month.contains(m.fecha) && wanted(&m.rfc))
            .map(|m| Detalle {
                rfc: m.rfc.as_str(),
                fecha: m.fecha,
                tipo_movimiento: m.tipo_movimiento.as_str(),
                monto: m.monto,
            })
            .collect();
        let mut transacciones = 0u64;
        let mut stamped: Vec<&str> = Vec::new();
        for line in detalle
            .iter()
            .filter(|d| d.tipo_movimiento == CONSUMO_DE_TIMBRE)
        {
            transacciones = transacciones.saturating_add(line.monto);
            // "At least one successful UUID": a movement of 0 stamps is none.
            if line.monto > 0 {
                stamped.push(line.rfc);
            }
        }
        stamped.sort_unstable();
        stamped.dedup();
        // Detalle's order is (day, RFC, type); one line per key, its movements summed.
        fn key<'a>(line: &Detalle<&'a str>) -> (NaiveDate, &'a str, &'a str) {
            (line.fecha, line.rfc, line.tipo_movimiento)
        }
        detalle.sort_by(|a, b| key(a).cmp(&key(b)));
        detalle.dedup_by(|later, kept| {
            let same = key(later) == key(kept);
            if same {
                kept.monto = kept.monto.saturating_add(later.monto);
            }
            same
        });

        Figures {
            registrados,
            autorizados,
            generaron_timbre: stamped.len() as u64,
            transacciones,
            detalle,
        }
    }
}

/// The seed writes whole seconds; a clock's nanoseconds would only break equality.
fn whole_seconds(now: NaiveDateTime) -> NaiveDateTime {
    now.with_nanosecond(0).unwrap_or(now)
}

/// `yyyy-mm-ddThh:MM:ss`, the seed's `FechaActual`.
mod local_datetime {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::domain::datetime_text::DateTime;

    pub(super) const FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

    pub(super) fn serialize<S: Serializer>(
        value: &NaiveDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        DateTime(*value, 'T').serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<NaiveDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        NaiveDateTime::parse_from_str(&text, FORMAT).map_err(serde::de::Error::custom)
    }
}

/// A day written as a local datetime at midnight, the seed's `Fecha` (`2019-11-02T00:00:00`).
mod midnight {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    use serde::{Deserialize, Deserializer, Serializer};

    use super::local_datetime::FORMAT;
    use crate::domain::datetime_text::DateTime;

    pub(super) fn serialize<S: Serializer>(
        value: &NaiveDate,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        DateTime(value.and_time(NaiveTime::MIN), 'T').serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(deserializer)?;
        let datetime =
            NaiveDateTime::parse_from_str(&text, FORMAT).map_err(serde::de::Error::custom)?;
        // A time other than midnight would be silently lost.
        if datetime.time() != NaiveTime::MIN {
            return Err(serde::de::Error::custom(format!(
                "Fecha {text} is not at 00:00:00"
            )));
        }
        Ok(datetime.date())
    }
}

// A failed unwrap is a failed test, which is what a test wants.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::strategy::Just;
    use serde_json::Value;

    fn month(text: &str) -> Month {
        text.parse().unwrap()
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn detalle<'a>(rfc: &'a str, fecha: &str, monto: u64) -> Detalle<&'a str> {
        Detalle {
            rfc,
            fecha: day(fecha),
            tipo_movimiento: CONSUMO_DE_TIMBRE,
            monto,
        }
    }

    fn movimiento(rfc: &str, fecha: &str, tipo: &str, monto: u64) -> Movimiento {
        Movimiento {
            rfc: rfc.to_owned(),
            fecha: day(fecha),
            tipo_movimiento: tipo.to_owned(),
            monto,
        }
    }

    /// The keys of a JSON object, in order.
    fn keys(value: &Value) -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    // Month

    #[test]
    fn a_yyyy_mm_month_parses_and_displays_back() {
        for text in ["2019-01", "2019-11", "2019-12", "0000-01", "9999-12"] {
            assert_eq!(month(text).to_string(), text);
        }
        let november = month("2019-11");
        assert_eq!((november.year(), november.month()), (2019, 11));
    }

    #[test]
    fn a_month_outside_01_to_12_is_400_001() {
        for text in ["2019-00", "2019-13", "2019-99"] {
            assert_eq!(
                text.parse::<Month>(),
                Err(QueryError::InvalidMonth),
                "{text}"
            );
        }
    }

    #[test]
    fn a_month_of_the_wrong_shape_is_400_001() {
        for text in [
            "2019-1",
            "201911",
            " 2019-11",
            "2019-11 ",
            "2019-11-01",
            "19-11",
            "2019/11",
            "2019-1a",
            "+019-11",
            "２０19-11",
            "",
        ] {
            assert_eq!(
                text.parse::<Month>(),
                Err(QueryError::InvalidMonth),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_month_built_from_numbers_must_be_real() {
        assert!(Month::new(2019, 0).is_err());
        assert!(Month::new(2019, 13).is_err());
        assert!(Month::new(-1, 1).is_err());
        assert!(Month::new(10_000, 1).is_err());
        assert_eq!(Month::new(2019, 10), Ok(month("2019-10")));
        assert_eq!(Month::of(day("2019-10-17")), month("2019-10"));
    }

    #[test]
    fn february_ends_on_the_29th_in_leap_years_only() {
        assert_eq!(month("2020-02").last_day(), day("2020-02-29"));
        assert_eq!(month("2000-02").last_day(), day("2000-02-29"));
        assert_eq!(month("2019-02").last_day(), day("2019-02-28"));
        assert_eq!(month("1900-02").last_day(), day("1900-02-28"));
    }

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day() {
        let october = month("2019-10");
        assert_eq!(october.first_day(), day("2019-10-01"));
        assert_eq!(october.last_day(), day("2019-10-31"));
        assert_eq!(month("2019-11").last_day(), day("2019-11-30"));
        assert_eq!(month("2019-12").last_day(), day("2019-12-31"));
        assert!(october.contains(day("2019-10-31")));
        assert!(!october.contains(day("2019-11-01")));
        assert!(!october.contains(day("2018-10-17")));
    }

    // saldos against the seed's examples

    #[test]
    fn saldos_of_all_rfcs_match_the_seed_example_where_it_is_consistent() {
        let account = Account::default_seed();
        let saldos = account
            .saldos(month("2019-11"), None, at("2019-11-19T13:53:41"))
            .unwrap();
        let ours = serde_json::to_value(&saldos).unwrap();
        let mut seed: Value = serde_json::from_str(include_str!(
            "../../../fixtures/sovos/saldos.success/valid/seed_002_todos_los_rfc.json"
        ))
        .unwrap();

        assert_eq!(keys(&ours), keys(&seed), "field order");
        assert_eq!(ours["Detalle"], seed["Detalle"]);
        assert_eq!(ours["Transacciones"], seed["Transacciones"]);
        // The seed's 0/0/0 cannot hold with two stamping RFCs: ours are 0 registered, both
        // authorised, both stamped. Everything else is the seed's.
        assert_eq!(
            (
                saldos.registrados,
                saldos.autorizados,
                saldos.generaron_timbre
            ),
            (0, 2, 2)
        );
        seed["Autorizados"] = 2.into();
        seed["GeneraronTimbre"] = 2.into();
        assert_eq!(ours, seed);
    }

    #[test]
    fn saldos_of_one_rfc_match_the_seed_example_where_it_is_consistent() {
        let account = Account::default_seed();
        let saldos = account
            .saldos(
                month("2019-11"),
                Some("A&D061009TY8"),
                at("2019-11-19T13:55:49"),
            )
            .unwrap();
        let ours = serde_json::to_value(&saldos).unwrap();
        let mut seed: Value = serde_json::from_str(include_str!(
            "../../../fixtures/sovos/saldos.success/valid/seed_002_rfc_especifico.json"
        ))
        .unwrap();

        assert_eq!(keys(&ours), keys(&seed), "field order");
        assert_eq!(ours["Detalle"], seed["Detalle"]);
        assert_eq!(ours["Transacciones"], seed["Transacciones"]);
        // Over the one RFC: it is authorised and it stamped.
        assert_eq!(
            (
                saldos.registrados,
                saldos.autorizados,
                saldos.generaron_timbre
            ),
            (0, 1, 1)
        );
        seed["Autorizados"] = 1.into();
        seed["GeneraronTimbre"] = 1.into();
        assert_eq!(ours, seed);
    }

    #[test]
    fn saldos_serialise_with_the_seed_field_names_and_date_formats() {
        let account = Account::default_seed();
        let saldos = account
            .saldos(
                month("2019-11"),
                Some("AAA010101AAA"),
                at("2019-11-19T13:55:49"),
            )
            .unwrap();
        assert_eq!(
            serde_json::to_string(&saldos).unwrap(),
            r#"{"TipoConsumo":"Postpago","FechaActual":"2019-11-19T13:55:49","Registrados":0,"Autorizados":1,"GeneraronTimbre":1,"Transacciones":1,"Detalle":[{"RFC":"AAA010101AAA","Fecha":"2019-11-03T00:00:00","TipoMovimiento":"Consumo de timbre","Monto":1}]}"#
        );
        let text = serde_json::to_string(&saldos).unwrap();
        let back: Saldos<&str> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, saldos);
    }

    #[test]
    fn fecha_actual_drops_the_clock_s_fraction_of_a_second() {
        let now = at("2019-11-19T13:53:41") + chrono::Duration::milliseconds(987);
        let account = Account::default_seed();
        let saldos = account.saldos(month("2019-11"), None, now).unwrap();
        assert_eq!(saldos.fecha_actual, at("2019-11-19T13:53:41"));
        let json = serde_json::to_value(&saldos).unwrap();
        assert_eq!(json["FechaActual"], "2019-11-19T13:53:41");
    }

    #[test]
    fn an_unregistered_rfc_is_400_002() {
        let account = Account::default_seed();
        let result = account.saldos(
            month("2019-11"),
            Some("EKU9003173C9"),
            at("2019-11-19T13:55:49"),
        );
        assert_eq!(result, Err(QueryError::RfcNotRegistered));
        // Exact comparison: another spelling is another RFC.
        let result = account.saldos(
            month("2019-11"),
            Some("aaa010101aaa"),
            at("2019-11-19T13:55:49"),
        );
        assert_eq!(result, Err(QueryError::RfcNotRegistered));
    }

    #[test]
    fn a_month_without_movements_has_zero_figures_and_an_empty_detalle() {
        let account = Account::default_seed();
        for mes in ["2019-01", "2019-12"] {
            let saldos = account
                .saldos(month(mes), None, at("2019-11-19T13:53:41"))
                .unwrap();
            assert_eq!(saldos.generaron_timbre, 0);
            assert_eq!(saldos.transacciones, 0);
            assert!(saldos.detalle.is_empty());
            // The RFCs' states do not depend on the month.
            assert_eq!((saldos.registrados, saldos.autorizados), (0, 2));
        }
        let saldos = account
            .saldos(
                month("2019-12"),
                Some("A&D061009TY8"),
                at("2019-11-19T13:55:49"),
            )
            .unwrap();
        assert_eq!((saldos.generaron_timbre, saldos.transacciones), (0, 0));
        assert!(saldos.detalle.is_empty());
    }

    #[test]
    fn two_movements_of_one_rfc_on_one_day_are_one_line_of_detalle() {
        let mut account = Account::default_seed();
        account.movimientos.push(movimiento(
            "AAA010101AAA",
            "2019-11-03",
            CONSUMO_DE_TIMBRE,
            4,
        ));
        let saldos = account
            .saldos(month("2019-11"), None, at("2019-11-19T13:53:41"))
            .unwrap();
        assert_eq!(
            saldos.detalle,
            vec![
                detalle("A&D061009TY8", "2019-11-02", 1),
                detalle("AAA010101AAA", "2019-11-03", 5),
            ]
        );
        assert_eq!(saldos.transacciones, 6);
        assert_eq!(saldos.generaron_timbre, 2);
    }

    #[test]
    fn detalle_is_sorted_by_date_then_rfc_whatever_the_ledger_order() {
        let account = Account {
            movimientos: vec![
                movimiento("AAA010101AAA", "2019-11-05", CONSUMO_DE_TIMBRE, 1),
                movimiento("AAA010101AAA", "2019-11-02", CONSUMO_DE_TIMBRE, 2),
                movimiento("A&D061009TY8", "2019-11-05", CONSUMO_DE_TIMBRE, 3),
            ],
            ..Account::default_seed()
        };
        let saldos = account
            .saldos(month("2019-11"), None, at("2019-11-19T13:53:41"))
            .unwrap();
        assert_eq!(
            saldos.detalle,
            vec![
                detalle("AAA010101AAA", "2019-11-02", 2),
                detalle("A&D061009TY8", "2019-11-05", 3),
                detalle("AAA010101AAA", "2019-11-05", 1),
            ]
        );
    }

    #[test]
    fn other_movement_types_are_detailed_but_are_not_stamps() {
        let account = Account {
            movimientos: vec![
                movimiento("AAA010101AAA", "2019-11-03", "Compra de timbres", 100),
                movimiento("AAA010101AAA", "2019-11-03", CONSUMO_DE_TIMBRE, 2),
                movimiento("A&D061009TY8", "2019-11-04", CONSUMO_DE_TIMBRE, 0),
            ],
            ..Account::default_seed()
        };
        let saldos = account
            .saldos(month("2019-11"), None, at("2019-11-19T13:53:41"))
            .unwrap();
        assert_eq!(saldos.transacciones, 2);
        // A movement of 0 stamps is not "at least one successful UUID".
        assert_eq!(saldos.generaron_timbre, 1);
        let tipos: Vec<_> = saldos
            .detalle
            .iter()
            .map(|d| (d.rfc, d.tipo_movimiento, d.monto))
            .collect();
        assert_eq!(
            tipos,
            vec![
                ("AAA010101AAA", "Compra de timbres", 100),
                ("AAA010101AAA", CONSUMO_DE_TIMBRE, 2),
                ("A&D061009TY8", CONSUMO_DE_TIMBRE, 0),
            ]
        );
    }

    #[test]
    fn registrados_counts_registered_but_unauthorised_rfcs() {
        let account = Account {
            rfcs: vec![
                RegisteredRfc {
                    rfc: "A&D061009TY8".to_owned(),
                    estado: RfcEstado::Registrado,
                },
                RegisteredRfc {
                    rfc: "AAA010101AAA".to_owned(),
                    estado: RfcEstado::Autorizado,
                },
                RegisteredRfc {
                    rfc: "EKU9003173C9".to_owned(),
                    estado: RfcEstado::Registrado,
                },
            ],
            ..Account::default_seed()
        };
        let now = at("2019-11-19T13:53:41");
        let all = account.saldos(month("2019-11"), None, now).unwrap();
        assert_eq!((all.registrados, all.autorizados), (2, 1));
        let one = account
            .saldos(month("2019-11"), Some("EKU9003173C9"), now)
            .unwrap();
        assert_eq!((one.registrados, one.autorizados), (1, 0));
    }

    // report

    #[test]
    fn the_report_of_october_2019_holds_the_seed_figures() {
        let report = Account::default_seed().report(month("2019-10"), at("2019-11-20T16:57:53"));
        assert_eq!(report.cuenta, "Pruebas");
        assert_eq!(report.tipo_consumo, TipoConsumo::Postpago);
        assert_eq!(report.fecha_inicio, at("2019-10-01T00:00:00"));
        assert_eq!(report.fecha_fin, at("2019-10-31T00:00:00"));
        assert_eq!(report.fecha_actual, at("2019-11-20T16:57:53"));
        assert_eq!(report.generaron_timbre, 1);
        assert_eq!(report.transacciones, 3);
        assert_eq!(
            report.rows,
            vec![detalle("AAA010101AAA", "2019-10-17", 3).into_owned()]
        );
        // The seed's report says Autorizados 1; the default seed has two authorised RFCs.
        assert_eq!((report.registrados, report.autorizados), (0, 2));
    }

    // config

    #[test]
    fn an_account_loads_from_toml_with_defaults() {
        let account: Account = toml::from_str(
            r#"
            cuenta = "Pruebas"

            [[rfcs]]
            rfc = "A&D061009TY8"

            [[rfcs]]
            rfc = "AAA010101AAA"
            estado = "Registrado"

            [[movimientos]]
            rfc = "A&D061009TY8"
            fecha = "2019-11-02"
            monto = 1
            "#,
        )
        .unwrap();
        assert_eq!(account.tipo_consumo, TipoConsumo::Postpago);
        assert_eq!(account.rfcs[0].estado, RfcEstado::Autorizado);
        assert_eq!(account.rfcs[1].estado, RfcEstado::Registrado);
        assert_eq!(
            account.movimientos,
            vec![movimiento(
                "A&D061009TY8",
                "2019-11-02",
                CONSUMO_DE_TIMBRE,
                1
            )]
        );
        assert_eq!(account.validate(), Ok(()));
    }

    #[test]
    fn the_default_seed_round_trips_through_toml() {
        let seed = Account::default_seed();
        let text = toml::to_string(&seed).unwrap();
        assert!(text.contains("fecha = \"2019-10-17\""), "{text}");
        assert_eq!(toml::from_str::<Account>(&text).unwrap(), seed);
    }

    #[test]
    fn a_misspelt_config_field_is_refused() {
        let result =
            toml::from_str::<Account>("cuenta = \"Pruebas\"\ntipo_consumos = \"Prepago\"\n");
        assert!(result.is_err());
    }

    #[test]
    fn validate_finds_duplicate_rfcs_and_movements_of_unregistered_rfcs() {
        assert_eq!(Account::default_seed().validate(), Ok(()));

        let mut duplicated = Account::default_seed();
        duplicated.rfcs.push(RegisteredRfc {
            rfc: "AAA010101AAA".to_owned(),
            estado: RfcEstado::Registrado,
        });
        assert!(matches!(
            duplicated.validate(),
            Err(AccountError::DuplicateRfc { rfc, .. }) if rfc == "AAA010101AAA"
        ));
        // Counted once, with its first state.
        let saldos = duplicated
            .saldos(month("2019-11"), None, at("2019-11-19T13:53:41"))
            .unwrap();
        assert_eq!((saldos.registrados, saldos.autorizados), (0, 2));

        let mut stray = Account::default_seed();
        stray.movimientos.push(movimiento(
            "EKU9003173C9",
            "2019-11-05",
            CONSUMO_DE_TIMBRE,
            1,
        ));
        assert!(matches!(
            stray.validate(),
            Err(AccountError::UnregisteredRfc { rfc, .. }) if rfc == "EKU9003173C9"
        ));
    }

    /// The figures as ordered sets and a map compute them, the way `figures` did before it
    /// sorted vectors: the oracle of the property below.
    fn figures_by_maps<'a>(
        account: &'a Account,
        month: Month,
        only: Option<&str>,
    ) -> Saldos<&'a str> {
        use std::collections::BTreeMap;
        let wanted = |rfc: &str| only.is_none_or(|only| only == rfc);
        let mut seen = BTreeSet::new();
        let (mut registrados, mut autorizados) = (0u64, 0u64);
        for entry in account.rfcs.iter().filter(|entry| wanted(&entry.rfc)) {
            if seen.insert(entry.rfc.as_str()) {
                match entry.estado {
                    RfcEstado::Registrado => registrados += 1,
                    RfcEstado::Autorizado => autorizados += 1,
                }
            }
        }
        let mut detalle: BTreeMap<(NaiveDate, &str, &str), u64> = BTreeMap::new();
        let mut stamped = BTreeSet::new();
        let mut transacciones = 0u64;
        for m in account
            .movimientos
            .iter()
            .filter(|m| month.contains(m.fecha) && wanted(&m.rfc))
        {
            let monto = detalle
                .entry((m.fecha, m.rfc.as_str(), m.tipo_movimiento.as_str()))
                .or_insert(0);
            *monto = monto.saturating_add(m.monto);
            if m.tipo_movimiento == CONSUMO_DE_TIMBRE {
                transacciones = transacciones.saturating_add(m.monto);
                if m.monto > 0 {
                    stamped.insert(m.rfc.as_str());
                }
            }
        }
        Saldos {
            tipo_consumo: account.tipo_consumo,
            fecha_actual: at("2019-11-19T13:53:41"),
            registrados,
            autorizados,
            generaron_timbre: stamped.len() as u64,
            transacciones,
            detalle: detalle
                .into_iter()
                .map(|((fecha, rfc, tipo_movimiento), monto)| Detalle {
                    rfc,
                    fecha,
                    tipo_movimiento,
                    monto,
                })
                .collect(),
        }
    }

    proptest::proptest! {
        #[test]
        fn the_figures_are_those_of_ordered_sets_and_a_map(
            rfcs in proptest::collection::vec((0usize..4, proptest::bool::ANY), 0..6),
            movimientos in proptest::collection::vec(
                (0usize..4, 1u32..=3, 1u32..=3, 0usize..3, proptest::prop_oneof![Just(0u64), 1u64..5, Just(u64::MAX - 1), Just(u64::MAX)]),
                0..12,
            ),
            only in proptest::option::of(0usize..4),
            mes in 1u32..=3,
        ) {
            const RFCS: [&str; 4] = ["AAA010101AAA", "A&D061009TY8", "EKU9003173C9", "XAXX010101000"];
            const TIPOS: [&str; 3] = [CONSUMO_DE_TIMBRE, "Cancelacion", "Abono"];
            let account = Account {
                cuenta: "Pruebas".to_owned(),
                tipo_consumo: TipoConsumo::Postpago,
                rfcs: rfcs
                    .iter()
                    .map(|&(rfc, registered)| RegisteredRfc {
                        rfc: RFCS[rfc].to_owned(),
                        estado: if registered { RfcEstado::Registrado } else { RfcEstado::Autorizado },
                    })
                    .collect(),
                movimientos: movimientos
                    .iter()
                    .map(|&(rfc, mes, dia, tipo, monto)| Movimiento {
                        rfc: RFCS[rfc].to_owned(),
                        fecha: NaiveDate::from_ymd_opt(2019, mes, dia).unwrap(),
                        tipo_movimiento: TIPOS[tipo].to_owned(),
                        monto,
                    })
                    .collect(),
            };
            let month = Month::new(2019, mes).unwrap();
            let only = only.map(|rfc| RFCS[rfc]);
            match account.saldos(month, only, at("2019-11-19T13:53:41")) {
                Ok(ours) => proptest::prop_assert_eq!(ours, figures_by_maps(&account, month, only)),
                Err(error) => {
                    proptest::prop_assert_eq!(error, QueryError::RfcNotRegistered);
                    proptest::prop_assert!(only.is_some_and(|rfc| !account.is_registered(rfc)));
                }
            }
        }
    }
}
