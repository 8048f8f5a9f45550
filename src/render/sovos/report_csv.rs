//! The consumption report as CSV (`saldos/csv`), laid out byte for byte as seed 002's example.

use chrono::{NaiveDateTime, NaiveTime};

use crate::domain::sovos::ledger::Report;

/// The RFC column is padded to this many characters: the seed writes `AAA010101AAA ,`, a
/// 12-character RFC in a 13-character column (the length of an individual's RFC).
const RFC_WIDTH: usize = 13;

/// The report as the CSV text Sovos attaches: four sections separated by blank lines, lines
/// ending in `\n`, the last one included.
pub fn render(report: &Report) -> String {
    let mut csv = String::new();
    let mut line = |text: &str| {
        csv.push_str(text);
        csv.push('\n');
    };

    line("Cuenta,TipoConsumo,FechaInicioConsulta,FechaFinConsulta,FechaActual");
    line(&format!(
        "{},{},{},{},{}",
        field(&report.cuenta),
        report.tipo_consumo,
        iso(report.fecha_inicio),
        iso(report.fecha_fin),
        iso(report.fecha_actual),
    ));
    line("");
    line("Estado de los RFC");
    line(&format!("Registrados,{}", report.registrados));
    line(&format!("Autorizados,{}", report.autorizados));
    line(&format!("Generaron Timbre,{}", report.generaron_timbre));
    line("");
    line("Transacciones");
    line(&format!(
        "Consumo de todos los RFC:,{}",
        report.transacciones
    ));
    line("");
    line("RFC,Fecha,Tipo movimiento,Monto");
    for row in &report.rows {
        // Pad before quoting: the padding belongs to the value, as in the seed.
        let rfc = format!("{:<width$}", row.rfc, width = RFC_WIDTH);
        line(&format!(
            "{},{},{},{}",
            field(&rfc),
            us_datetime(row.fecha.and_time(NaiveTime::MIN)),
            field(&row.tipo_movimiento),
            row.monto
        ));
    }
    csv
}

/// `2019-10-01T00:00:00`, as the header line writes its dates.
fn iso(datetime: NaiveDateTime) -> String {
    datetime.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `10/17/2019 12:00:00 AM`: the rows' dates, in the US style of the .NET platform behind
/// Sovos (month/day/year without leading zeros, 12-hour clock).
pub fn us_datetime(datetime: NaiveDateTime) -> String {
    datetime.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

/// A text value, quoted as RFC 4180 (which Excel reads) only if it needs to be; the seed's
/// values never do, so its bytes are unchanged.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

// A failed unwrap is a failed test, which is what a test wants.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::sovos::ledger::{
        Account, Detalle, Month, Movimiento, RegisteredRfc, RfcEstado, TipoConsumo,
        CONSUMO_DE_TIMBRE,
    };
    use chrono::NaiveDate;

    const SEED_CSV: &str = include_str!("../../../fixtures/sovos/reports/seed_002_reporte.csv");

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// The seed's report case: account `Pruebas` with one authorised RFC that stamped 3 times
    /// on 2019-10-17. (The default seed has two authorised RFCs, so its Autorizados is 2.)
    fn seed_report_account() -> Account {
        Account {
            cuenta: "Pruebas".to_owned(),
            tipo_consumo: TipoConsumo::Postpago,
            rfcs: vec![RegisteredRfc {
                rfc: "AAA010101AAA".to_owned(),
                estado: RfcEstado::Autorizado,
            }],
            movimientos: vec![Movimiento {
                rfc: "AAA010101AAA".to_owned(),
                fecha: day("2019-10-17"),
                tipo_movimiento: CONSUMO_DE_TIMBRE.to_owned(),
                monto: 3,
            }],
        }
    }

    fn october() -> Month {
        "2019-10".parse().unwrap()
    }

    #[test]
    fn the_seed_report_is_rendered_byte_for_byte() {
        let report = seed_report_account().report(october(), at("2019-11-20T16:57:53"));
        assert_eq!(
            (
                report.registrados,
                report.autorizados,
                report.generaron_timbre
            ),
            (0, 1, 1)
        );
        assert_eq!(render(&report), SEED_CSV);
    }

    #[test]
    fn the_default_seed_differs_from_the_seed_report_only_in_autorizados() {
        let report = Account::default_seed().report(october(), at("2019-11-20T16:57:53"));
        assert_eq!(
            render(&report),
            SEED_CSV.replace("Autorizados,1\n", "Autorizados,2\n")
        );
    }

    #[test]
    fn an_empty_month_ends_with_the_table_header() {
        let report =
            seed_report_account().report("2019-12".parse().unwrap(), at("2020-01-02T09:05:07"));
        let csv = render(&report);
        assert!(csv.starts_with(
            "Cuenta,TipoConsumo,FechaInicioConsulta,FechaFinConsulta,FechaActual\n\
             Pruebas,Postpago,2019-12-01T00:00:00,2019-12-31T00:00:00,2020-01-02T09:05:07\n"
        ));
        assert!(csv.contains("Generaron Timbre,0\n"));
        assert!(csv.contains("Consumo de todos los RFC:,0\n"));
        assert!(csv.ends_with("\n\nRFC,Fecha,Tipo movimiento,Monto\n"));
    }

    #[test]
    fn a_13_character_rfc_is_not_padded_and_rows_follow_date_order() {
        let mut account = seed_report_account();
        account.rfcs.push(RegisteredRfc {
            rfc: "XAXX010101000".to_owned(),
            estado: RfcEstado::Autorizado,
        });
        account.movimientos.push(Movimiento {
            rfc: "XAXX010101000".to_owned(),
            fecha: day("2019-10-02"),
            tipo_movimiento: CONSUMO_DE_TIMBRE.to_owned(),
            monto: 12,
        });
        let csv = render(&account.report(october(), at("2019-11-20T16:57:53")));
        assert!(csv.ends_with(
            "RFC,Fecha,Tipo movimiento,Monto\n\
             XAXX010101000,10/2/2019 12:00:00 AM,Consumo de timbre,12\n\
             AAA010101AAA ,10/17/2019 12:00:00 AM,Consumo de timbre,3\n"
        ));
        assert!(csv.contains("Consumo de todos los RFC:,15\n"));
    }

    #[test]
    fn us_dates_have_no_leading_zeros_and_a_12_hour_clock() {
        assert_eq!(
            us_datetime(at("2019-10-17T00:00:00")),
            "10/17/2019 12:00:00 AM"
        );
        assert_eq!(
            us_datetime(at("2019-01-05T09:07:03")),
            "1/5/2019 9:07:03 AM"
        );
        assert_eq!(
            us_datetime(at("2019-12-31T12:00:00")),
            "12/31/2019 12:00:00 PM"
        );
        assert_eq!(
            us_datetime(at("2019-12-31T23:59:59")),
            "12/31/2019 11:59:59 PM"
        );
    }

    #[test]
    fn values_with_commas_or_quotes_are_quoted() {
        let mut account = seed_report_account();
        account.cuenta = "Pruebas, \"S.A.\"".to_owned();
        let report = account.report(october(), at("2019-11-20T16:57:53"));
        let csv = render(&report);
        assert!(
            csv.contains("\n\"Pruebas, \"\"S.A.\"\"\",Postpago,"),
            "{csv}"
        );

        let report = Report {
            rows: vec![Detalle {
                tipo_movimiento: "Timbre, cancelado".to_owned(),
                ..report.rows[0].clone()
            }],
            ..report
        };
        assert!(render(&report).contains(",\"Timbre, cancelado\",3\n"));
    }
}
