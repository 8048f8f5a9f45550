//! DIAN RADIAN events 030–034: their codes and names, the order DIAN accepts them in, and
//! where Afacturar files their XML (`docs/provider-facts.md`, "DIAN RADIAN events").

use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{Datelike as _, NaiveDate};

/// A RADIAN event code, written as DIAN's 3-digit string (`030` …) in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventCode {
    /// `030`: acuse de recibo de la factura.
    AcuseRecibo,
    /// `031`: reclamo de la factura.
    Reclamo,
    /// `032`: recibo del bien o prestación del servicio.
    ReciboBien,
    /// `033`: aceptación expresa.
    AceptacionExpresa,
    /// `034`: aceptación tácita.
    AceptacionTacita,
}

impl EventCode {
    /// Every code, in numeric order.
    pub const ALL: [EventCode; 5] = [
        EventCode::AcuseRecibo,
        EventCode::Reclamo,
        EventCode::ReciboBien,
        EventCode::AceptacionExpresa,
        EventCode::AceptacionTacita,
    ];

    /// DIAN's 3-digit code: `030` … `034`.
    pub fn code(self) -> &'static str {
        match self {
            EventCode::AcuseRecibo => "030",
            EventCode::Reclamo => "031",
            EventCode::ReciboBien => "032",
            EventCode::AceptacionExpresa => "033",
            EventCode::AceptacionTacita => "034",
        }
    }

    /// The event's name for `historico_eventos`: the seed's wording where the seed shows
    /// one (030, 032, 033), otherwise the provider-facts table's (031, 034).
    pub fn descripcion(self) -> &'static str {
        match self {
            EventCode::AcuseRecibo => "Acuse de recibo de Factura Electrónica de Venta",
            EventCode::Reclamo => "Reclamo de la Factura Electrónica de Venta",
            EventCode::ReciboBien => "Recibo del bien o prestación del servicio",
            EventCode::AceptacionExpresa => "Aceptación expresa",
            EventCode::AceptacionTacita => "Aceptación tácita",
        }
    }

    /// The prefix of `identificacion_evento` (`PAR29`). PAR, PRE and PAC are the seed's;
    /// PRC (reclamo) and PAT (aceptación tácita) are this mock's choice, as the seed shows
    /// neither event.
    pub fn prefix(self) -> &'static str {
        match self {
            EventCode::AcuseRecibo => "PAR",
            EventCode::Reclamo => "PRC",
            EventCode::ReciboBien => "PRE",
            EventCode::AceptacionExpresa => "PAC",
            EventCode::AceptacionTacita => "PAT",
        }
    }

    /// Whether the buyer sends the event; only the tacit acceptance (034) comes from the
    /// seller, once three business days pass after 032 with no 031 or 033.
    pub fn sent_by_buyer(self) -> bool {
        !matches!(self, EventCode::AceptacionTacita)
    }

    /// Whether the event carries the `quien_recibio_documento` block (030 and 032 only).
    pub fn carries_receiver_block(self) -> bool {
        matches!(self, EventCode::AcuseRecibo | EventCode::ReciboBien)
    }
}

impl fmt::Display for EventCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A string that is none of `030`–`034` (nor `30`–`34`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown RADIAN event code `{0}`: expected 030, 031, 032, 033 or 034")]
pub struct UnknownEventCode(pub String);

impl FromStr for EventCode {
    type Err = UnknownEventCode;

    /// Accepts the 3-digit code and the same code without its leading zero, since clients
    /// that store the code as a number send `30`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "030" | "30" => Ok(EventCode::AcuseRecibo),
            "031" | "31" => Ok(EventCode::Reclamo),
            "032" | "32" => Ok(EventCode::ReciboBien),
            "033" | "33" => Ok(EventCode::AceptacionExpresa),
            "034" | "34" => Ok(EventCode::AceptacionTacita),
            other => Err(UnknownEventCode(other.to_owned())),
        }
    }
}

impl serde::Serialize for EventCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for EventCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A DIAN rejection of an event, shown as `Regla: <rule>, Rechazo: <message>`.
///
/// Only LGC01's message is DIAN's own text (seed 003); DIAN does not publish the others, so
/// they are plain Spanish paraphrases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Regla: {rule}, Rechazo: {message}")]
pub struct DianRejection {
    /// The rule code: `LGC01` …
    pub rule: &'static str,
    /// The rejection text.
    pub message: &'static str,
}

impl DianRejection {
    /// The same event code is already registered for the CUFE (DIAN's exact text).
    pub const LGC01: DianRejection = DianRejection {
        rule: "LGC01",
        message: "Evento registrado previamente",
    };
    /// 031 after an acceptance 033 or 034 (paraphrased).
    pub const LGC02: DianRejection = DianRejection {
        rule: "LGC02",
        message: "La factura ya fue aceptada (033 o 034); no admite Reclamo (031)",
    };
    /// 031 with no 032 (paraphrased).
    pub const LGC03: DianRejection = DianRejection {
        rule: "LGC03",
        message: "No existe el evento Recibo del bien o prestación del servicio (032) para el CUFE",
    };
    /// 033 or 034 after a 031 (paraphrased).
    pub const LGC04: DianRejection = DianRejection {
        rule: "LGC04",
        message: "Existe un Reclamo (031) para el CUFE; la factura no puede ser aceptada",
    };
    /// 034 after a 033 (paraphrased).
    pub const LGC05: DianRejection = DianRejection {
        rule: "LGC05",
        message: "Ya existe el evento Aceptación expresa (033) para el CUFE",
    };
    /// 033 after a 034 (paraphrased).
    pub const LGC07: DianRejection = DianRejection {
        rule: "LGC07",
        message: "Ya existe el evento Aceptación tácita (034) para el CUFE",
    };
    /// 032 with no 030 (paraphrased).
    pub const LGC09: DianRejection = DianRejection {
        rule: "LGC09",
        message: "No existe el evento Acuse de recibo (030) para el CUFE",
    };
    /// 033 with no 032 (paraphrased).
    pub const LGC12: DianRejection = DianRejection {
        rule: "LGC12",
        message: "No existe el evento Recibo del bien o prestación del servicio (032) para el CUFE",
    };
    /// 033 with no 030 (paraphrased).
    pub const LGC13: DianRejection = DianRejection {
        rule: "LGC13",
        message: "No existe el evento Acuse de recibo (030) para el CUFE",
    };
    /// 034 with no 032 (paraphrased).
    pub const LGC14: DianRejection = DianRejection {
        rule: "LGC14",
        message: "No existe el evento Recibo del bien o prestación del servicio (032) para el CUFE",
    };
}

/// Whether DIAN accepts `new` for a CUFE that already has the events `existing`.
///
/// Order of checks, first failing one wins: LGC01 (the same code already present) before
/// anything else; then the missing predecessors, earliest in the 030 → 032 chain first,
/// since a history without its prerequisites is the more basic fault; then the conflicting
/// events, in the order of the provider-facts table. So 033 is checked LGC13, LGC12, LGC04,
/// LGC07; 034 LGC14, LGC04, LGC05; 031 LGC03, LGC02.
pub fn check_order(existing: &[EventCode], new: EventCode) -> Result<(), DianRejection> {
    use EventCode::{AceptacionExpresa, AceptacionTacita, AcuseRecibo, ReciboBien, Reclamo};

    let has = |code: EventCode| existing.contains(&code);
    if has(new) {
        return Err(DianRejection::LGC01);
    }
    // Each rule: the rejection and whether it applies, in checking order.
    let rules: &[(bool, DianRejection)] = match new {
        AcuseRecibo => &[],
        ReciboBien => &[(!has(AcuseRecibo), DianRejection::LGC09)],
        Reclamo => &[
            (!has(ReciboBien), DianRejection::LGC03),
            (
                has(AceptacionExpresa) || has(AceptacionTacita),
                DianRejection::LGC02,
            ),
        ],
        AceptacionExpresa => &[
            (!has(AcuseRecibo), DianRejection::LGC13),
            (!has(ReciboBien), DianRejection::LGC12),
            (has(Reclamo), DianRejection::LGC04),
            (has(AceptacionTacita), DianRejection::LGC07),
        ],
        AceptacionTacita => &[
            (!has(ReciboBien), DianRejection::LGC14),
            (has(Reclamo), DianRejection::LGC04),
            (has(AceptacionExpresa), DianRejection::LGC05),
        ],
    };
    match rules.iter().find(|(applies, _)| *applies) {
        Some((_, rejection)) => Err(*rejection),
        None => Ok(()),
    }
}

/// The 3-digit code between the NIT and the year in the seed's file names. In DIAN's file
/// naming this slot is the technology provider's code; the seed always shows `055`.
pub const FILE_NAME_PROVIDER_CODE: &str = "055";

/// `url_representacion_xml` of an event, following DIAN file naming as the seed shows it:
/// `<base>/eventos/yyyy/mm/dd/ar<NIT to 10 digits>055<yy><sequence to 8 characters>.xml`.
///
/// `base` is everything before `/eventos/` (a trailing `/` is dropped); `nit` and
/// `sequence` are left-padded with zeros, never truncated. The sequence is `00000001` on
/// success and the event id (`PAR170` → `00PAR170`) on a DIAN rejection.
pub fn url_representacion_xml(base: &str, date: NaiveDate, nit: &str, sequence: &str) -> String {
    // Piece by piece rather than `format!` with widths: every event registered writes one.
    let zero_padded = |url: &mut String, text: &str, width: usize| {
        url.extend(std::iter::repeat_n(
            '0',
            width.saturating_sub(text.chars().count()),
        ));
        url.push_str(text);
    };
    let base = base.trim_end_matches('/');
    let mut url = String::with_capacity(base.len() + 64 + nit.len() + sequence.len());
    url.push_str(base);
    url.push_str("/eventos/");
    let _ = write!(url, "{}", crate::domain::datetime_text::Date(date, '/'));
    url.push_str("/ar");
    zero_padded(&mut url, nit, 10);
    url.push_str(FILE_NAME_PROVIDER_CODE);
    let mut yy = [0u8; 2];
    crate::domain::datetime_text::digits(&mut yy, date.year().rem_euclid(100).unsigned_abs());
    url.extend(yy.map(char::from));
    zero_padded(&mut url, sequence, 8);
    url.push_str(".xml");
    url
}

#[cfg(test)]
mod tests {
    use super::EventCode::{AceptacionExpresa, AceptacionTacita, AcuseRecibo, ReciboBien, Reclamo};
    use super::*;

    /// Registers the events one by one, each checked against the ones before it.
    fn accept_in_order(events: &[EventCode]) -> Result<(), (usize, DianRejection)> {
        for (index, event) in events.iter().enumerate() {
            check_order(&events[..index], *event).map_err(|rejection| (index, rejection))?;
        }
        Ok(())
    }

    fn rule_of(existing: &[EventCode], new: EventCode) -> Option<&'static str> {
        check_order(existing, new)
            .err()
            .map(|rejection| rejection.rule)
    }

    // --- codes ---

    #[test]
    fn codes_are_the_three_digit_dian_strings() {
        let codes: Vec<&str> = EventCode::ALL.iter().map(|code| code.code()).collect();
        assert_eq!(codes, ["030", "031", "032", "033", "034"]);
    }

    #[test]
    fn codes_parse_with_or_without_the_leading_zero() {
        for code in EventCode::ALL {
            assert_eq!(code.code().parse::<EventCode>(), Ok(code));
            assert_eq!(code.code()[1..].parse::<EventCode>(), Ok(code));
        }
    }

    #[test]
    fn other_codes_do_not_parse() {
        for text in ["", "0", "029", "035", "0030", " 030", "030 ", "AR", "3"] {
            assert_eq!(
                text.parse::<EventCode>(),
                Err(UnknownEventCode(text.to_owned())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn serde_writes_and_reads_the_three_digit_string() {
        let json = serde_json::to_string(&[AcuseRecibo, AceptacionTacita]).ok();
        assert_eq!(json.as_deref(), Some(r#"["030","034"]"#));
        let parsed: Result<Vec<EventCode>, _> = serde_json::from_str(r#"["032","33"]"#);
        assert_eq!(parsed.ok(), Some(vec![ReciboBien, AceptacionExpresa]));
        assert!(serde_json::from_str::<EventCode>(r#""036""#).is_err());
        assert!(serde_json::from_str::<EventCode>("30").is_err());
    }

    #[test]
    fn display_is_the_code() {
        assert_eq!(Reclamo.to_string(), "031");
    }

    #[test]
    fn descriptions_use_the_seed_wording_then_the_provider_facts_names() {
        assert_eq!(
            AcuseRecibo.descripcion(),
            "Acuse de recibo de Factura Electrónica de Venta"
        );
        assert_eq!(
            Reclamo.descripcion(),
            "Reclamo de la Factura Electrónica de Venta"
        );
        assert_eq!(
            ReciboBien.descripcion(),
            "Recibo del bien o prestación del servicio"
        );
        assert_eq!(AceptacionExpresa.descripcion(), "Aceptación expresa");
        assert_eq!(AceptacionTacita.descripcion(), "Aceptación tácita");
    }

    #[test]
    fn prefixes_match_the_seed_and_are_distinct() {
        assert_eq!(AcuseRecibo.prefix(), "PAR");
        assert_eq!(ReciboBien.prefix(), "PRE");
        assert_eq!(AceptacionExpresa.prefix(), "PAC");
        assert_eq!(Reclamo.prefix(), "PRC");
        assert_eq!(AceptacionTacita.prefix(), "PAT");
        let mut prefixes: Vec<&str> = EventCode::ALL.iter().map(|code| code.prefix()).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        assert_eq!(prefixes.len(), 5);
    }

    #[test]
    fn only_the_tacit_acceptance_is_sent_by_the_seller() {
        let by_seller: Vec<EventCode> = EventCode::ALL
            .into_iter()
            .filter(|code| !code.sent_by_buyer())
            .collect();
        assert_eq!(by_seller, [AceptacionTacita]);
    }

    #[test]
    fn only_030_and_032_carry_the_receiver_block() {
        let with_block: Vec<EventCode> = EventCode::ALL
            .into_iter()
            .filter(|code| code.carries_receiver_block())
            .collect();
        assert_eq!(with_block, [AcuseRecibo, ReciboBien]);
    }

    // --- rejections ---

    #[test]
    fn lgc01_displays_as_dian_words_it() {
        assert_eq!(
            DianRejection::LGC01.to_string(),
            "Regla: LGC01, Rechazo: Evento registrado previamente"
        );
    }

    #[test]
    fn lgc09_displays_its_paraphrase() {
        assert_eq!(
            DianRejection::LGC09.to_string(),
            "Regla: LGC09, Rechazo: No existe el evento Acuse de recibo (030) para el CUFE"
        );
    }

    // --- rules table: LGC01 ---

    #[test]
    fn a_second_030_for_the_same_cufe_is_lgc01() {
        assert_eq!(
            check_order(&[AcuseRecibo], AcuseRecibo),
            Err(DianRejection::LGC01)
        );
    }

    #[test]
    fn any_repeated_code_is_lgc01() {
        let full = [AcuseRecibo, ReciboBien, AceptacionExpresa];
        assert_eq!(rule_of(&full, ReciboBien), Some("LGC01"));
        assert_eq!(rule_of(&full, AceptacionExpresa), Some("LGC01"));
        assert_eq!(
            rule_of(&[AcuseRecibo, ReciboBien, Reclamo], Reclamo),
            Some("LGC01")
        );
        assert_eq!(
            rule_of(
                &[AcuseRecibo, ReciboBien, AceptacionTacita],
                AceptacionTacita
            ),
            Some("LGC01")
        );
    }

    #[test]
    fn lgc01_is_checked_before_every_other_rule() {
        // A repeated 033 in a history that would also break LGC13, LGC12 and LGC07.
        assert_eq!(
            rule_of(&[AceptacionExpresa, AceptacionTacita], AceptacionExpresa),
            Some("LGC01")
        );
        // A repeated 031 where LGC02 would also apply.
        assert_eq!(
            rule_of(&[ReciboBien, Reclamo, AceptacionExpresa], Reclamo),
            Some("LGC01")
        );
    }

    // --- rules table: 030 and 032 ---

    #[test]
    fn a_first_030_is_accepted() {
        assert_eq!(check_order(&[], AcuseRecibo), Ok(()));
    }

    #[test]
    fn a_032_without_030_is_lgc09() {
        assert_eq!(check_order(&[], ReciboBien), Err(DianRejection::LGC09));
    }

    #[test]
    fn a_032_after_030_is_accepted() {
        assert_eq!(check_order(&[AcuseRecibo], ReciboBien), Ok(()));
    }

    // --- rules table: 031 ---

    #[test]
    fn a_031_without_032_is_lgc03() {
        assert_eq!(rule_of(&[], Reclamo), Some("LGC03"));
        assert_eq!(rule_of(&[AcuseRecibo], Reclamo), Some("LGC03"));
    }

    #[test]
    fn a_031_after_033_is_lgc02() {
        assert_eq!(
            rule_of(&[AcuseRecibo, ReciboBien, AceptacionExpresa], Reclamo),
            Some("LGC02")
        );
    }

    #[test]
    fn a_031_after_034_is_lgc02() {
        assert_eq!(
            rule_of(&[AcuseRecibo, ReciboBien, AceptacionTacita], Reclamo),
            Some("LGC02")
        );
    }

    #[test]
    fn a_031_missing_032_and_after_an_acceptance_is_lgc03_first() {
        assert_eq!(rule_of(&[AceptacionExpresa], Reclamo), Some("LGC03"));
    }

    #[test]
    fn the_sequence_030_032_031_is_accepted() {
        assert_eq!(accept_in_order(&[AcuseRecibo, ReciboBien, Reclamo]), Ok(()));
    }

    // --- rules table: 033 ---

    #[test]
    fn a_033_without_030_is_lgc13() {
        assert_eq!(rule_of(&[], AceptacionExpresa), Some("LGC13"));
        assert_eq!(rule_of(&[ReciboBien], AceptacionExpresa), Some("LGC13"));
    }

    #[test]
    fn a_033_without_032_is_lgc12() {
        assert_eq!(rule_of(&[AcuseRecibo], AceptacionExpresa), Some("LGC12"));
    }

    #[test]
    fn a_033_after_031_is_lgc04() {
        assert_eq!(
            rule_of(&[AcuseRecibo, ReciboBien, Reclamo], AceptacionExpresa),
            Some("LGC04")
        );
    }

    #[test]
    fn a_033_after_034_is_lgc07() {
        assert_eq!(
            rule_of(
                &[AcuseRecibo, ReciboBien, AceptacionTacita],
                AceptacionExpresa
            ),
            Some("LGC07")
        );
    }

    #[test]
    fn a_033_after_both_031_and_034_is_lgc04_first() {
        assert_eq!(
            rule_of(
                &[AcuseRecibo, ReciboBien, Reclamo, AceptacionTacita],
                AceptacionExpresa
            ),
            Some("LGC04")
        );
    }

    #[test]
    fn the_sequence_030_032_033_is_accepted() {
        assert_eq!(
            accept_in_order(&[AcuseRecibo, ReciboBien, AceptacionExpresa]),
            Ok(())
        );
    }

    // --- rules table: 034 ---

    #[test]
    fn a_034_without_032_is_lgc14() {
        assert_eq!(rule_of(&[], AceptacionTacita), Some("LGC14"));
        assert_eq!(rule_of(&[AcuseRecibo], AceptacionTacita), Some("LGC14"));
    }

    #[test]
    fn a_034_after_031_is_lgc04() {
        assert_eq!(
            rule_of(&[AcuseRecibo, ReciboBien, Reclamo], AceptacionTacita),
            Some("LGC04")
        );
    }

    #[test]
    fn a_034_after_033_is_lgc05() {
        assert_eq!(
            rule_of(
                &[AcuseRecibo, ReciboBien, AceptacionExpresa],
                AceptacionTacita
            ),
            Some("LGC05")
        );
    }

    #[test]
    fn a_034_after_both_031_and_033_is_lgc04_first() {
        assert_eq!(
            rule_of(
                &[AcuseRecibo, ReciboBien, Reclamo, AceptacionExpresa],
                AceptacionTacita
            ),
            Some("LGC04")
        );
    }

    #[test]
    fn the_sequence_030_032_034_is_accepted() {
        assert_eq!(
            accept_in_order(&[AcuseRecibo, ReciboBien, AceptacionTacita]),
            Ok(())
        );
    }

    // --- the seed's history ---

    #[test]
    fn the_seed_history_030_032_033_is_accepted_in_order() {
        // Seed 001: numero 1 PAR29 (030), 2 PRE27 (032), 3 PAC20 (033).
        let seed: Vec<EventCode> = ["030", "032", "033"]
            .iter()
            .filter_map(|code| code.parse().ok())
            .collect();
        assert_eq!(seed, [AcuseRecibo, ReciboBien, AceptacionExpresa]);
        assert_eq!(accept_in_order(&seed), Ok(()));
    }

    #[test]
    fn the_seed_history_out_of_order_is_rejected() {
        assert_eq!(
            accept_in_order(&[AcuseRecibo, AceptacionExpresa, ReciboBien]),
            Err((1, DianRejection::LGC12))
        );
    }

    // --- url_representacion_xml ---

    const SEED_BASE: &str =
        "https://afacturar.archivamos.com/310c4707/1e552c715fe8f7e53626bd261ce6681d3db495f8";

    #[test]
    fn the_success_url_of_seed_003_is_reproduced() {
        let date = NaiveDate::from_ymd_opt(2022, 7, 15);
        assert_eq!(
            date.map(|date| url_representacion_xml(SEED_BASE, date, "830020470", "1")),
            Some(
                "https://afacturar.archivamos.com/310c4707/1e552c715fe8f7e53626bd261ce6681d3db495f8/eventos/2022/07/15/ar08300204700552200000001.xml"
                    .to_owned()
            )
        );
    }

    #[test]
    fn the_dian_rejection_url_of_seed_003_is_reproduced() {
        let date = NaiveDate::from_ymd_opt(2022, 12, 13);
        assert_eq!(
            date.map(|date| url_representacion_xml(SEED_BASE, date, "830020470", "PAR170")),
            Some(
                "https://afacturar.archivamos.com/310c4707/1e552c715fe8f7e53626bd261ce6681d3db495f8/eventos/2022/12/13/ar08300204700552200PAR170.xml"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_trailing_slash_on_the_base_is_not_doubled() {
        let date = NaiveDate::from_ymd_opt(2023, 1, 2);
        assert_eq!(
            date.map(|date| url_representacion_xml("https://x/", date, "9", "00000012")),
            Some("https://x/eventos/2023/01/02/ar00000000090552300000012.xml".to_owned())
        );
    }

    proptest::proptest! {
        #[test]
        fn the_url_pads_as_the_format_string_of_its_rule_pads(
            nit in "[0-9ñ]{0,12}",
            sequence in "[0-9A-Zé]{0,10}",
            days in -800_000i64..800_000,
        ) {
            let date = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(days);
            let expected = format!(
                "https://x/eventos/{path}/ar{nit:0>10}{FILE_NAME_PROVIDER_CODE}{yy:02}{sequence:0>8}.xml",
                path = crate::domain::datetime_text::Date(date, '/'),
                yy = date.year().rem_euclid(100),
            );
            proptest::prop_assert_eq!(url_representacion_xml("https://x", date, &nit, &sequence), expected);
        }
    }
}
