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
    /// The passage of the documents that gives the `data` document's structure, when they name
    /// one (OpenAPI's request description cites it).
    pub payload_source: Option<&'static str>,
    /// The form fields whose absence refuses the form before any schema is checked
    /// ([`super::parse_form`]), in documentation order.
    pub required_form_fields: &'static [&'static str],
    /// Whether it registers a DIAN event from a `data` document (030, 032, 031).
    pub registers_event: bool,
    /// The media type of its success body.
    pub success_media_type: &'static str,
    /// The documents' examples of a request body (the form, or the JSON body), each
    /// conforming to [`OperationSpec::request_schema`].
    pub request_examples: &'static [Example],
    /// Every status the documents list, each with the response schemas that may describe it
    /// and the documents' examples of it.
    pub answers: &'static [DocumentedStatus],
    /// The documented answers other than success, by the provider's own code (Afacturar's
    /// `codigo_error` or error-table row, Sovos's `400-00n` or status): what a scenario may arm
    /// and what coverage counts. Their bodies are the provider's words, in `render`.
    pub documented_codes: &'static [&'static str],
}

impl OperationSpec {
    /// The schema of the request body: the form's fields, or Sovos's JSON body.
    pub fn request_schema(&self) -> &'static str {
        self.form_schema.unwrap_or(self.payload_schema)
    }
}

/// A status an operation documents: the response schemas its body follows, and what OpenAPI
/// says and shows of it.
#[derive(Debug, Clone, Copy)]
pub struct DocumentedStatus {
    /// The HTTP status.
    pub status: u16,
    /// The response schemas (names under `schemas/`) the documents give this answer, one of
    /// which describes the body (empty: a file of the row's `success_media_type`, checked by
    /// its content type).
    pub schemas: &'static [&'static str],
    /// Shapes the documents do not give this answer but a real provider's may take without
    /// being drift: the error table's generic ones. The proxy accepts them after `schemas`;
    /// OpenAPI does not describe them.
    pub tolerated: &'static [&'static str],
    /// What the answer means, for OpenAPI readers; `None`: the provider's wording for the
    /// status (an Afacturar error-table row).
    pub description: Option<&'static str>,
    /// The documents' examples of it, in the order OpenAPI shows them; the provider's words
    /// for the documented codes no example shows are added by OpenAPI from `render`.
    pub examples: &'static [Example],
}

/// An example of a request or an answer: a file under `fixtures/`, embedded.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    fixture: &'static str,
    text: &'static str,
    caption: Option<(&'static str, &'static str)>,
}

impl Example {
    /// Its path under `fixtures/`: `<provider>/<schema>/valid/<file>`, or a file that is not
    /// JSON (a report).
    pub fn fixture(&self) -> &'static str {
        self.fixture
    }

    /// The file's text.
    pub fn text(&self) -> &'static str {
        self.text
    }

    /// Whether the file holds a JSON document (else text, such as a CSV report).
    pub fn is_json(&self) -> bool {
        self.fixture.ends_with(".json")
    }

    /// Its name among the examples of one request or answer: the file's stem, unless the
    /// table names it.
    pub fn name(&self) -> &'static str {
        if let Some((name, _)) = self.caption {
            return name;
        }
        let file = self.fixture.rsplit('/').next().unwrap_or(self.fixture);
        file.split('.').next().unwrap_or(file)
    }

    /// What it shows, when the table says more than the file's path does.
    pub fn summary(&self) -> Option<&'static str> {
        self.caption.map(|(_, summary)| summary)
    }
}

/// An [`Example`] from its path under `fixtures/` (the text is embedded at compile time), with
/// an optional name and summary.
macro_rules! fixture {
    ($path:literal) => {
        Example {
            fixture: $path,
            text: include_str!(concat!("../../fixtures/", $path)),
            caption: None,
        }
    };
    ($path:literal, name: $name:literal, summary: $summary:literal) => {
        Example {
            caption: Some(($name, $summary)),
            ..fixture!($path)
        }
    };
}

const fn answer(status: u16, schemas: &'static [&'static str]) -> DocumentedStatus {
    DocumentedStatus {
        status,
        schemas,
        tolerated: &[],
        description: None,
        examples: &[],
    }
}

impl DocumentedStatus {
    const fn tolerating(self, tolerated: &'static [&'static str]) -> DocumentedStatus {
        DocumentedStatus { tolerated, ..self }
    }

    const fn described(self, description: &'static str) -> DocumentedStatus {
        DocumentedStatus {
            description: Some(description),
            ..self
        }
    }

    const fn shown_by(self, examples: &'static [Example]) -> DocumentedStatus {
        DocumentedStatus { examples, ..self }
    }
}

/// A row of Afacturar's error table (seed 003): HTTP status = code, in the "Salida con errores
/// HTTP" shape.
const fn table_row(status: u16) -> DocumentedStatus {
    answer(status, &["afacturar/http_error"]).tolerating(&["afacturar/error"])
}

/// Afacturar's error table (seed 003): rows answered by every operation.
const AFACTURAR_ERROR_ROWS: [DocumentedStatus; 10] = [
    table_row(403),
    table_row(404),
    table_row(405),
    table_row(409),
    table_row(415).described("The body is neither `multipart/form-data` nor `application/x-www-form-urlencoded` (error table row 415)."),
    table_row(422),
    table_row(429).described("More requests per minute on the token than the limit (the provider documents 120; the fake applies it with `serve --rate-limit N`, docs/contract-notes.md A28)."),
    table_row(500)
        .described("Internal error; the body is seed 003's 'Salida con errores HTTP', verbatim (docs/contract-notes.md A27).")
        .shown_by(&[fixture!("afacturar/http_error/valid/seed_003_errores_http.json")]),
    table_row(503),
    table_row(400),
];
const AFACTURAR_401: DocumentedStatus = answer(401, &["afacturar/unauthenticated"])
    .tolerating(&["afacturar/http_error"])
    .described("Missing or unknown Bearer token.")
    .shown_by(&[fixture!(
        "afacturar/unauthenticated/valid/seed_001_salida_con_errores_de_datos.json"
    )]);

/// The statuses of an Afacturar operation: its own 200 (and 400, for the event operations),
/// 401, and the error table's rows.
const fn afacturar(
    ok: DocumentedStatus,
    bad_request: Option<DocumentedStatus>,
) -> [DocumentedStatus; 12] {
    let rows = AFACTURAR_ERROR_ROWS;
    let bad_request = match bad_request {
        Some(answer) => answer,
        None => rows[9],
    };
    [
        ok,
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

/// The shapes of Afacturar's answer to a form it cannot use (a missing field, a `data` that is
/// not JSON, a document that breaks the schema), on every operation that checks its form
/// with the PHP validator.
const FORM_400_SCHEMAS: &[&str] = &[
    "afacturar/acuse_recibo_fev.semantic_error",
    "afacturar/acuse_recibo_fev.data_error",
];
const FORM_400_DESCRIPTION: &str = "The form or its `data` document breaks the contract: the semantic 400 (one `resultado` entry per violation, worded as Afacturar's PHP validator words it; a missing field or a `data` that is not JSON as in docs/contract-notes.md A12), or business-rule errors (the data 400, nested arrays).";

// The recibo_bs and reclamo pages repeat seed 003's envelope and examples.
const EVENT_ANSWERS: [DocumentedStatus; 12] = afacturar(
    answer(
        200,
        &[
            "afacturar/acuse_recibo_fev.success",
            "afacturar/acuse_recibo_fev.dian_error",
            "afacturar/error",
        ],
    )
    .described("Processed (HTTP 200 whatever the outcome, docs/contract-notes.md A10): the event was registered (codigo_error 0, with its CUDE and XML URL), DIAN rejected it (codigo_error 15, e.g. rule LGC01 on a repeated acuse), or the operation took too long (codigo_error 28).")
    .shown_by(&[
        fixture!("afacturar/acuse_recibo_fev.success/valid/seed_003_salida_exitosa.json"),
        fixture!("afacturar/acuse_recibo_fev.dian_error/valid/seed_003_error_dian.json"),
    ]),
    Some(
        answer(400, FORM_400_SCHEMAS)
        .tolerating(&["afacturar/http_error"])
        .described(FORM_400_DESCRIPTION)
        .shown_by(&[
            fixture!(
                "afacturar/acuse_recibo_fev.semantic_error/valid/seed_003_errores_de_semantica.json"
            ),
            fixture!("afacturar/acuse_recibo_fev.data_error/valid/seed_003_errores_de_datos.json"),
        ]),
    ),
);
const HISTORICO_ANSWERS: [DocumentedStatus; 12] = afacturar(
    answer(
        200,
        &[
            "afacturar/historico_eventos.success",
            "afacturar/historico_eventos.sin_eventos",
            "afacturar/error",
        ],
    )
    .described("Processed (HTTP 200 whatever the outcome, docs/contract-notes.md A10): the CUFE's events in order (codigo_error 0), none (codigo_error 12, \"Sin eventos\"), or the operation took too long (codigo_error 28).")
    .shown_by(&[
        fixture!("afacturar/historico_eventos.success/valid/seed_001_salida_exitosa.json"),
        fixture!("afacturar/historico_eventos.sin_eventos/valid/seed_001_sin_eventos.json"),
    ]),
    // The fake answers a form it cannot use (no `cufe`) with the semantic 400; the error
    // table's 400 row is what the documents show for the query, so a provider answering it is
    // tolerated.
    Some(
        answer(400, FORM_400_SCHEMAS)
            .tolerating(&["afacturar/http_error", "afacturar/error"])
            .described(FORM_400_DESCRIPTION),
    ),
);
const LECTOR_ANSWERS: [DocumentedStatus; 12] = afacturar(
    answer(
        200,
        &[
            "afacturar/lector_cufe_tenedor_legitimo.success",
            "afacturar/lector_cufe_tenedor_legitimo.validation_error",
            "afacturar/lector_cufe_tenedor_legitimo.token_error",
        ],
    )
    .tolerating(&["afacturar/error"])
    .described("Processed (HTTP 200 whatever the outcome, docs/contract-notes.md A46): each CUFE's legitimate holder (codigo_error \"0\", every value a string, as the page's template shows), the form's messages (codigo_error 10), a token that is not the obligado's (codigo_error 11), or the operation took too long (codigo_error 28).")
    // The page's two examples share a file name: each is named by its code, so that neither
    // takes the other's place.
    .shown_by(&[
        fixture!("afacturar/lector_cufe_tenedor_legitimo.success/valid/plantilla_de_la_pagina.json"),
        fixture!(
            "afacturar/lector_cufe_tenedor_legitimo.validation_error/valid/ejemplo_de_la_pagina.json",
            name: "codigo_10_ejemplo_de_la_pagina",
            summary: "fixtures/afacturar/lector_cufe_tenedor_legitimo.validation_error/valid/ejemplo_de_la_pagina.json"
        ),
        fixture!(
            "afacturar/lector_cufe_tenedor_legitimo.token_error/valid/ejemplo_de_la_pagina.json",
            name: "codigo_11_ejemplo_de_la_pagina",
            summary: "fixtures/afacturar/lector_cufe_tenedor_legitimo.token_error/valid/ejemplo_de_la_pagina.json"
        ),
    ]),
    None,
);
const SOVOS_ERRORS: &[&str] = &["sovos/errors"];
/// The statuses of a Sovos operation: its 200 and 400, and the errors every operation answers.
const fn sovos(ok: DocumentedStatus, bad_request: DocumentedStatus) -> [DocumentedStatus; 5] {
    [
        ok,
        bad_request,
        answer(401, SOVOS_ERRORS).described("Missing or unknown `RCApiKey`."),
        answer(404, SOVOS_ERRORS)
            .described("The URL does not exist (documented; answered here when armed)."),
        answer(500, SOVOS_ERRORS)
            .described("Sovos platform error (documented; answered here when armed)."),
    ]
}
const SALDOS_ANSWERS: [DocumentedStatus; 5] = sovos(
    answer(200, &["sovos/saldos.success"])
        .described("The balance of the month, computed from the account (docs/contract-notes.md S9).")
        .shown_by(&[
            fixture!("sovos/saldos.success/valid/seed_002_todos_los_rfc.json"),
            fixture!("sovos/saldos.success/valid/seed_002_rfc_especifico.json"),
        ]),
    answer(400, SOVOS_ERRORS)
        .described("400-001: `MesConsulta` missing or not a yyyy-mm month (or a body that is not JSON); 400-002: `RFCConsulta` is not registered in the API key's account.")
        .shown_by(&[fixture!("sovos/errors/valid/seed_002_400_001.json")]),
);
const REPORT_BAD_REQUEST: DocumentedStatus = answer(400, SOVOS_ERRORS)
    .described("400-001: `MesConsulta` missing or not a yyyy-mm month (or a body that is not JSON); 400-002: `RFCConsulta` was sent; 400-003: a format other than pdf and csv (`/api/rest/Timbre/saldos/<format>`).")
    .shown_by(&[
        fixture!("sovos/errors/valid/seed_002_400_001.json"),
        fixture!("sovos/errors/valid/seed_002_400_002.json"),
    ]);
// The reports answer a file, not JSON: checked by content type.
const PDF_ANSWERS: [DocumentedStatus; 5] = sovos(
    answer(200, &[]).described("The report as a PDF attachment."),
    REPORT_BAD_REQUEST,
);
const CSV_ANSWERS: [DocumentedStatus; 5] = sovos(
    answer(200, &[])
        .described("The report as a CSV attachment (UTF-8, `\\n` line endings).")
        .shown_by(&[fixture!("sovos/reports/seed_002_reporte.csv")]),
    REPORT_BAD_REQUEST,
);

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
        payload_source: None,
        required_form_fields: &["cufe"],
        registers_event: false,
        success_media_type: "application/json",
        request_examples: &[fixture!(
            "afacturar/historico_eventos.request/valid/cufe_del_curl_de_seed_003.json",
            name: "cufe",
            summary: "A CUFE (the one of seed 003's curl example)"
        )],
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
        payload_source: Some("seed 003 'Estructura de JSON de entrada'"),
        required_form_fields: &["documento_obligado", "data"],
        registers_event: true,
        success_media_type: "application/json",
        request_examples: &[
            fixture!("afacturar/acuse_recibo_fev.request/valid/seed_003_curl_form.json"),
            fixture!("afacturar/acuse_recibo_fev.request/valid/seed_003_csharp_form.json"),
        ],
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
        payload_source: None,
        required_form_fields: &["documento_obligado", "data"],
        registers_event: true,
        success_media_type: "application/json",
        request_examples: &[fixture!(
            "afacturar/recibo_bien_servicio.request/valid/formulario.json"
        )],
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
        payload_source: None,
        required_form_fields: &["documento_obligado", "data"],
        registers_event: true,
        success_media_type: "application/json",
        request_examples: &[fixture!("afacturar/reclamo.request/valid/formulario.json")],
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
        payload_source: None,
        required_form_fields: &[],
        registers_event: false,
        success_media_type: "application/json",
        request_examples: &[fixture!(
            "afacturar/lector_cufe_tenedor_legitimo.request/valid/un_cufe.json"
        )],
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
        payload_source: None,
        required_form_fields: &[],
        registers_event: false,
        success_media_type: "application/json",
        request_examples: &[
            fixture!("sovos/saldos.request/valid/seed_002_todos_los_rfc.json"),
            fixture!("sovos/saldos.request/valid/seed_002_rfc_especifico.json"),
        ],
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
        payload_source: None,
        required_form_fields: &[],
        registers_event: false,
        success_media_type: "application/pdf",
        request_examples: &[fixture!("sovos/reporte.request/valid/seed_002_reporte.json")],
        answers: &PDF_ANSWERS,
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
        payload_source: None,
        required_form_fields: &[],
        registers_event: false,
        success_media_type: "text/csv",
        request_examples: &[fixture!("sovos/reporte.request/valid/seed_002_reporte.json")],
        answers: &CSV_ANSWERS,
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
    fn an_example_is_named_by_its_file_stem_unless_the_table_names_it() {
        let report = fixture!("sovos/reports/seed_002_reporte.csv");
        assert_eq!(report.name(), "seed_002_reporte");
        assert_eq!(report.summary(), None);
        assert!(!report.is_json());
        let cufe = &OPERATIONS[0].request_examples[0];
        assert_eq!(cufe.name(), "cufe");
        assert_eq!(
            cufe.summary(),
            Some("A CUFE (the one of seed 003's curl example)")
        );
        assert!(cufe.is_json());
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
                .flat_map(|a| a.schemas.iter().chain(a.tolerated))
                .chain([&row.payload_schema])
                .chain(row.form_schema.iter());
            for schema in named {
                assert!(embedded.contains(schema), "{}: {schema}", row.name);
            }
        }
    }
}
