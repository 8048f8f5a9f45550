//! The body of a `saldos` answer, written by hand ([`crate::render::json`]): the same bytes
//! as serde_json's serialization of [`Saldos`] (its field names are seed 002's), which the
//! tests compare on generated balances.

use chrono::NaiveTime;

use crate::domain::datetime_text::DateTime;
use crate::domain::sovos::ledger::Saldos;
use crate::render::json::JsonText;

/// `saldos`'s JSON body.
pub fn saldos_json<S: AsRef<str>>(saldos: &Saldos<S>) -> Vec<u8> {
    let mut text = JsonText::with_capacity(160 + 110 * saldos.detalle.len());
    text.raw("{\"TipoConsumo\":")
        .string(saldos.tipo_consumo.as_str())
        .raw(",\"FechaActual\":")
        .datetime(DateTime(saldos.fecha_actual, 'T'))
        .raw(",\"Registrados\":")
        .unsigned(saldos.registrados)
        .raw(",\"Autorizados\":")
        .unsigned(saldos.autorizados)
        .raw(",\"GeneraronTimbre\":")
        .unsigned(saldos.generaron_timbre)
        .raw(",\"Transacciones\":")
        .unsigned(saldos.transacciones)
        .raw(",\"Detalle\":[");
    for (i, row) in saldos.detalle.iter().enumerate() {
        text.raw(if i == 0 { "{\"RFC\":" } else { ",{\"RFC\":" })
            .string(row.rfc.as_ref())
            .raw(",\"Fecha\":")
            .datetime(DateTime(row.fecha.and_time(NaiveTime::MIN), 'T'))
            .raw(",\"TipoMovimiento\":")
            .string(row.tipo_movimiento.as_ref())
            .raw(",\"Monto\":")
            .unsigned(row.monto)
            .raw("}");
    }
    text.raw("]}");
    text.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{NaiveDate, NaiveDateTime};
    use proptest::prelude::*;

    use super::*;
    use crate::domain::sovos::ledger::{Detalle, TipoConsumo};

    fn date() -> impl Strategy<Value = NaiveDate> {
        // Years of one to five digits, negative ones included: `DateTime`'s slow path too.
        (-20_000i32..20_000, 1u32..=12, 1u32..=28)
            .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn datetime() -> impl Strategy<Value = NaiveDateTime> {
        (date(), 0u32..24, 0u32..60, 0u32..60)
            .prop_map(|(d, h, m, s)| d.and_hms_opt(h, m, s).unwrap())
    }

    fn detalle() -> impl Strategy<Value = Detalle> {
        (any::<String>(), date(), any::<String>(), any::<u64>()).prop_map(
            |(rfc, fecha, tipo_movimiento, monto)| Detalle {
                rfc,
                fecha,
                tipo_movimiento,
                monto,
            },
        )
    }

    proptest! {
        #[test]
        fn the_body_is_what_serde_json_writes_for_the_balance(
            prepago in any::<bool>(),
            fecha_actual in datetime(),
            figures in any::<[u64; 4]>(),
            detalle in proptest::collection::vec(detalle(), 0..4),
        ) {
            let saldos = Saldos {
                tipo_consumo: if prepago { TipoConsumo::Prepago } else { TipoConsumo::Postpago },
                fecha_actual,
                registrados: figures[0],
                autorizados: figures[1],
                generaron_timbre: figures[2],
                transacciones: figures[3],
                detalle,
            };
            prop_assert_eq!(
                String::from_utf8(saldos_json(&saldos)).unwrap(),
                serde_json::to_string(&saldos).unwrap()
            );
        }
    }
}
