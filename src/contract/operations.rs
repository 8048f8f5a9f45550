//! The operation table: everything the fake, the proxy, OpenAPI, coverage, scenarios and the
//! command line know about an operation, one row each. The rest of the crate derives from it
//! (ARCHITECTURE.md, "How to add an operation").

use super::{Operation, Provider};

/// One documented operation.
#[derive(Debug)]
pub struct OperationSpec {
    /// The enum value this row describes (the table is in [`Operation::ALL`] order).
    pub operation: Operation,
    /// The name on the command line, in reports and scenarios.
    pub name: &'static str,
    /// The provider that documents it.
    pub provider: Provider,
    /// The path the provider serves it on; the method is always `POST`.
    pub path: &'static str,
    /// One line: what it is and which document shows it.
    pub summary: &'static str,
    /// What the fake answers, for OpenAPI readers.
    pub description: &'static str,
    /// The schema [`super::validate`] checks: the `data` document of an event, the form fields
    /// of a query, the JSON body of a Sovos request.
    pub payload_schema: &'static str,
    /// The schema of the form fields, for Afacturar's form operations.
    pub form_schema: Option<&'static str>,
    /// The form fields whose absence refuses the form before any schema is checked
    /// ([`super::parse_form`]), in documentation order.
    pub required_form_fields: &'static [&'static str],
    /// Whether it registers a DIAN event from a `data` document (030, 032, 031).
    pub registers_event: bool,
    /// The media type of its success body.
    pub success_media_type: &'static str,
    /// Every status the documents list, each with the response schemas that may describe it
    /// (empty: a file, checked by its content type).
    pub answers: &'static [DocumentedStatus],
    /// The documented answers other than success, by the provider's own code (Afacturar's
    /// `codigo_error` or error-table row, Sovos's `400-00n` or status): what a scenario may arm
    /// and what coverage counts. Their bodies are the provider's words, in `render`.
    pub documented_codes: &'static [&'static str],
}

/// A status an operation documents and the response schemas its body may follow.
#[derive(Debug, Clone, Copy)]
pub struct DocumentedStatus {
    /// The HTTP status.
    pub status: u16,
    /// The response schemas (names under `schemas/`) one of which describes the body.
    pub schemas: &'static [&'static str],
}

const fn answer(status: u16, schemas: &'static [&'static str]) -> DocumentedStatus {
    DocumentedStatus { status, schemas }
}

/// Afacturar's error table (seed 003): rows answered by every operation, HTTP status = code.
const AFACTURAR_ERROR_ROWS: [DocumentedStatus; 10] = [
    answer(403, AFACTURAR_HTTP_ERROR),
    answer(404, AFACTURAR_HTTP_ERROR),
    answer(405, AFACTURAR_HTTP_ERROR),
    answer(409, AFACTURAR_HTTP_ERROR),
    answer(415, AFACTURAR_HTTP_ERROR),
    answer(422, AFACTURAR_HTTP_ERROR),
    answer(429, AFACTURAR_HTTP_ERROR),
    answer(500, AFACTURAR_HTTP_ERROR),
    answer(503, AFACTURAR_HTTP_ERROR),
    answer(400, AFACTURAR_HTTP_ERROR),
];
const AFACTURAR_HTTP_ERROR: &[&str] = &["afacturar/http_error", "afacturar/error"];
const AFACTURAR_401: DocumentedStatus =
    answer(401, &["afacturar/unauthenticated", "afacturar/http_error"]);

/// The statuses of an Afacturar operation: its own 200 (and 400, for the event operations),
/// 401, and the error table's rows.
const fn afacturar(
    ok: &'static [&'static str],
    bad_request: Option<&'static [&'static str]>,
) -> [DocumentedStatus; 12] {
    let rows = AFACTURAR_ERROR_ROWS;
    let bad_request = match bad_request {
        Some(schemas) => answer(400, schemas),
        None => rows[9],
    };
    [
        answer(200, ok),
        bad_request,
        AFACTURAR_401,
        rows[0],
        rows[1],
        rows[2],
        rows[3],
        rows[4],
        rows[5],
        rows[6],
        rows[7],
        rows[8],
    ]
}

const EVENT_ANSWERS: [DocumentedStatus; 12] = afacturar(
    &[
        "afacturar/acuse_recibo_fev.success",
        "afacturar/acuse_recibo_fev.dian_error",
        "afacturar/error",
    ],
    Some(&[
        "afacturar/acuse_recibo_fev.semantic_error",
        "afacturar/acuse_recibo_fev.data_error",
        "afacturar/http_error",
    ]),
);
const HISTORICO_ANSWERS: [DocumentedStatus; 12] = afacturar(
    &[
        "afacturar/historico_eventos.success",
        "afacturar/historico_eventos.sin_eventos",
        "afacturar/error",
    ],
    None,
);
const LECTOR_ANSWERS: [DocumentedStatus; 12] = afacturar(
    &[
        "afacturar/lector_cufe_tenedor_legitimo.success",
        "afacturar/lector_cufe_tenedor_legitimo.validation_error",
        "afacturar/lector_cufe_tenedor_legitimo.token_error",
        "afacturar/error",
    ],
    None,
);
const SOVOS_ERRORS: &[&str] = &["sovos/errors"];
const fn sovos(ok: &'static [&'static str]) -> [DocumentedStatus; 5] {
    [
        answer(200, ok),
        answer(400, SOVOS_ERRORS),
        answer(401, SOVOS_ERRORS),
        answer(404, SOVOS_ERRORS),
        answer(500, SOVOS_ERRORS),
    ]
}
const SALDOS_ANSWERS: [DocumentedStatus; 5] = sovos(&["sovos/saldos.success"]);
// The reports answer a file, not JSON: checked by content type.
const REPORT_ANSWERS: [DocumentedStatus; 5] = sovos(&[]);

/// Every code some Afacturar operation documents, in the order the rows list them: the rows of
/// seed 003's error table, codigo 12 of seed 001, `400-datos` for the data 400, and the
/// legitimate-holder query's codes 10 and 11.
pub const AFACTURAR_CODES: [&str; 17] = [
    "10",
    "11",
    "12",
    "15",
    "28",
    "400",
    "400-datos",
    "401",
    "403",
    "404",
    "405",
    "409",
    "415",
    "422",
    "429",
    "500",
    "503",
];

// Afacturar's error table (seed 003): 401 and the rows 403 to 503 answer on every operation.
const HISTORICO_CODES: &[&str] = &[
    "12", "401", "403", "404", "405", "409", "415", "422", "429", "500", "503",
];
const EVENT_CODES: &[&str] = &[
    "15",
    "28",
    "400",
    "400-datos",
    "401",
    "403",
    "404",
    "405",
    "409",
    "415",
    "422",
    "429",
    "500",
    "503",
];
const LECTOR_CODES: &[&str] = &[
    "10", "11", "28", "401", "403", "404", "405", "409", "415", "422", "429", "500", "503",
];
const SALDOS_CODES: &[&str] = &["400-001", "400-002", "401", "404", "500"];
// 400-003 (format not supported) only on the reports.
const REPORT_CODES: &[&str] = &["400-001", "400-002", "400-003", "401", "404", "500"];

/// The table, in [`Operation::ALL`] order.
pub static OPERATIONS: [OperationSpec; 8] = [
    OperationSpec {
        operation: Operation::HistoricoEventos,
        name: "historico_eventos",
        provider: Provider::Afacturar,
        path: "/api/radian/historico_eventos",
        summary: "The events registered for a CUFE (seed 001)",
        description: "Answers the CUFE's events in order (codigo_error 0) or codigo_error 12 \"Sin eventos\", both with HTTP 200. The provider documents no 400 for a malformed CUFE: the fake looks the CUFE up as given (docs/contract-notes.md A1).",
        payload_schema: "afacturar/historico_eventos.request",
        form_schema: Some("afacturar/historico_eventos.request"),
        required_form_fields: &["cufe"],
        registers_event: false,
        success_media_type: "application/json",
        answers: &HISTORICO_ANSWERS,
        documented_codes: HISTORICO_CODES,
    },
    OperationSpec {
        operation: Operation::AcuseReciboFev,
        name: "acuse_recibo_fev",
        provider: Provider::Afacturar,
        path: "/api/radian/acuse_recibo_fev",
        summary: "Acuse de recibo (DIAN event 030) of an electronic invoice (seed 003)",
        description: "Registers event 030 for each `evento`. Success answers the CUDE (SHA-384, 96 hex) and the event's XML URL; a repeated acuse is rejected by DIAN (codigo_error 15, rule LGC01) with HTTP 200; a form or `data` document that breaks the contract gets the semantic 400, worded as Afacturar's PHP validator words it.",
        payload_schema: "afacturar/acuse_recibo_fev.data",
        form_schema: Some("afacturar/acuse_recibo_fev.request"),
        required_form_fields: &["documento_obligado", "data"],
        registers_event: true,
        success_media_type: "application/json",
        answers: &EVENT_ANSWERS,
        documented_codes: EVENT_CODES,
    },
    OperationSpec {
        operation: Operation::ReciboBienServicio,
        name: "recibo_bien_servicio",
        provider: Provider::Afacturar,
        path: "/api/radian/recibo_bien_servicio",
        summary: "Recibo del bien o prestación del servicio (DIAN event 032; the provider's recibo_bs page)",
        description: "Registers event 032 for each `evento`, after the invoice's acuse (030; else DIAN 15, rule LGC09). The envelope and every answer are acuse_recibo_fev's (docs/contract-notes.md A42).",
        payload_schema: "afacturar/recibo_bien_servicio.data",
        form_schema: Some("afacturar/recibo_bien_servicio.request"),
        required_form_fields: &["documento_obligado", "data"],
        registers_event: true,
        success_media_type: "application/json",
        answers: &EVENT_ANSWERS,
        documented_codes: EVENT_CODES,
    },
    OperationSpec {
        operation: Operation::Reclamo,
        name: "reclamo",
        provider: Provider::Afacturar,
        path: "/api/radian/reclamo",
        summary: "Reclamo (DIAN event 031; the provider's reclamo page)",
        description: "Registers event 031 for each `evento`: `encabezado.tipo_reclamo` 01-04 comes first. Needs the recibo del bien (032; else DIAN 15, rule LGC03) and is refused after an acceptance (033/034, LGC02). The envelope and every answer are acuse_recibo_fev's (docs/contract-notes.md A43, A44).",
        payload_schema: "afacturar/reclamo.data",
        form_schema: Some("afacturar/reclamo.request"),
        required_form_fields: &["documento_obligado", "data"],
        registers_event: true,
        success_media_type: "application/json",
        answers: &EVENT_ANSWERS,
        documented_codes: EVENT_CODES,
    },
    OperationSpec {
        operation: Operation::LectorCufeTenedorLegitimo,
        name: "lector_cufe_tenedor_legitimo",
        provider: Provider::Afacturar,
        path: "/api/radian/lector_cufe_tenedor_legitimo",
        summary: "The legitimate holder of each CUFE (the provider's legtimo_tenedor page)",
        description: "For each of 1 to 20 CUFEs, its legitimate holder: the invoice's seller (docs/contract-notes.md A46). A form that breaks the contract is codigo_error 10 with Laravel-worded messages; a token that does not belong to `documento_obligado` is codigo_error 11.",
        payload_schema: "afacturar/lector_cufe_tenedor_legitimo.request",
        form_schema: Some("afacturar/lector_cufe_tenedor_legitimo.request"),
        required_form_fields: &[],
        registers_event: false,
        success_media_type: "application/json",
        answers: &LECTOR_ANSWERS,
        documented_codes: LECTOR_CODES,
    },
    OperationSpec {
        operation: Operation::Saldos,
        name: "saldos",
        provider: Provider::Sovos,
        path: "/api/rest/Timbre/saldos",
        summary: "Stamping balance of a month (seed 002)",
        description: "The account's figures for `MesConsulta`, restricted to `RFCConsulta` when given (docs/contract-notes.md S9-S12).",
        payload_schema: "sovos/saldos.request",
        form_schema: None,
        required_form_fields: &[],
        registers_event: false,
        success_media_type: "application/json",
        answers: &SALDOS_ANSWERS,
        documented_codes: SALDOS_CODES,
    },
    OperationSpec {
        operation: Operation::SaldosPdf,
        name: "saldos_pdf",
        provider: Provider::Sovos,
        path: "/api/rest/Timbre/saldos/pdf",
        summary: "Consumption report of a month, as PDF (seed 002)",
        description: "A PDF attachment with the CSV report's sections (docs/contract-notes.md S13). `RFCConsulta` must not be sent (400-002). Any other format than `pdf` and `csv` under `/api/rest/Timbre/saldos/` answers 400-003.",
        payload_schema: "sovos/reporte.request",
        form_schema: None,
        required_form_fields: &[],
        registers_event: false,
        success_media_type: "application/pdf",
        answers: &REPORT_ANSWERS,
        documented_codes: REPORT_CODES,
    },
    OperationSpec {
        operation: Operation::SaldosCsv,
        name: "saldos_csv",
        provider: Provider::Sovos,
        path: "/api/rest/Timbre/saldos/csv",
        summary: "Consumption report of a month, as CSV (seed 002)",
        description: "The documented CSV as an attachment (docs/contract-notes.md S7, S8). `RFCConsulta` must not be sent (400-002). Any other format than `pdf` and `csv` under `/api/rest/Timbre/saldos/` answers 400-003.",
        payload_schema: "sovos/reporte.request",
        form_schema: None,
        required_form_fields: &[],
        registers_event: false,
        success_media_type: "text/csv",
        answers: &REPORT_ANSWERS,
        documented_codes: REPORT_CODES,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_row_per_operation_in_order() {
        assert_eq!(OPERATIONS.len(), Operation::ALL.len());
        for (row, op) in OPERATIONS.iter().zip(Operation::ALL) {
            assert_eq!(row.operation, op);
        }
    }

    #[test]
    fn every_afacturar_operation_documents_the_whole_error_table() {
        let rows = [
            "401", "403", "404", "405", "409", "415", "422", "429", "500", "503",
        ];
        for row in OPERATIONS
            .iter()
            .filter(|r| r.provider == Provider::Afacturar)
        {
            for code in rows {
                assert!(row.documented_codes.contains(&code), "{}: {code}", row.name);
            }
        }
    }

    #[test]
    fn afacturars_codes_are_exactly_its_rows_codes_in_their_order() {
        let mut union: Vec<&str> = OPERATIONS
            .iter()
            .filter(|r| r.provider == Provider::Afacturar)
            .flat_map(|r| r.documented_codes.iter().copied())
            .collect();
        union.sort_by_key(|code| AFACTURAR_CODES.iter().position(|c| c == code));
        union.dedup();
        assert_eq!(union, AFACTURAR_CODES);
        for row in OPERATIONS
            .iter()
            .filter(|r| r.provider == Provider::Afacturar)
        {
            let mut ordered = row.documented_codes.to_vec();
            ordered.sort_by_key(|code| AFACTURAR_CODES.iter().position(|c| c == code));
            assert_eq!(ordered, row.documented_codes, "{}", row.name);
        }
    }

    #[test]
    fn every_schema_the_table_names_is_embedded() {
        let embedded: Vec<&str> = crate::contract::SCHEMA_FILES
            .iter()
            .map(|(n, _)| *n)
            .collect();
        for row in &OPERATIONS {
            let named = row
                .answers
                .iter()
                .flat_map(|a| a.schemas.iter())
                .chain([&row.payload_schema])
                .chain(row.form_schema.iter());
            for schema in named {
                assert!(embedded.contains(schema), "{}: {schema}", row.name);
            }
        }
    }
}
