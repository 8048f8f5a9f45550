//! `bench-budget`: the requests `cargo xtask budget` counts instructions of.
//!
//! One case per run: an operation's success or its main error, sent through the whole
//! in-process stack — `einvoice_mock::app(state)` (the axum `Router`: intercept, verification,
//! journal, coverage, handler, state) with `tower::ServiceExt::oneshot` on a current-thread
//! runtime, no sockets and no log subscriber. Every request is built before it is measured;
//! the state a case needs (events recorded before a 032 or a 031, the history of a CUFE) is
//! prepared beforehand too. A warm-up fills the journal's rings past their capacity, so that
//! the measured requests pay what a long-running fake pays (an old entry dropped per entry
//! recorded). Only [`measured_requests`] runs between the counter's toggles: `xtask budget`
//! runs this binary under `valgrind --tool=callgrind --toggle-collect=*measured_requests*`.
//!
//! Every answer, warm-up and measured, is checked against what the case expects (status and
//! the start of the body): a case that stopped answering what it measures fails instead of
//! counting something else.
//!
//! `bench-budget --case NAME [--requests N]`, `bench-budget --list`.

use std::path::Path;

use axum::body::{Body, Bytes};
use axum::http::Request;
use axum::Router;
use einvoice_mock::EventCode;
use einvoice_mock::{app, AppState, Config};
use tower::ServiceExt as _;

const BOUNDARY: &str = "----einvoicebudget7MA4YWxkTrZu0gW";
/// The `cufe` of the acuse fixtures, replaced by the case's own.
const FIXTURE_CUFE: &str =
    "f46111923e8a010b647ed4192de51987ada7c2d18d136ab0184d66838c4ae9f5e9ca302f8e0d41fc0e5883357c2423a4";
/// Journal rings this small wrap during the warm-up (the default keeps 1000 entries).
const JOURNAL_CAPACITY: usize = 64;
/// Requests before the measured ones: past the journal's capacity.
const WARM_UP: usize = 2 * JOURNAL_CAPACITY;

/// Every case, in the order of `Operation::ALL`: each operation's success, then its main error.
const CASES: [&str; 16] = [
    "historico_eventos",
    "historico_eventos.malformed_cufe",
    "acuse_recibo_fev",
    "acuse_recibo_fev.semantic_error",
    "recibo_bien_servicio",
    "recibo_bien_servicio.lgc09",
    "reclamo",
    "reclamo.lgc03",
    "lector_cufe_tenedor_legitimo",
    "lector_cufe_tenedor_legitimo.no_lista_cufe",
    "saldos",
    "saldos.month_13",
    "saldos_pdf",
    "saldos_pdf.month_13",
    "saldos_csv",
    "saldos_csv.month_13",
];

/// A request and what its answer must start with.
struct Sent {
    request: Request<Body>,
    status: u16,
    prefix: &'static [u8],
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for case in CASES {
            println!("{case}");
        }
        return;
    }
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let Some(case) = value("--case").cloned() else {
        eprintln!("usage: bench-budget --case NAME [--requests N] | --list");
        std::process::exit(2);
    };
    let requests: usize = value("--requests")
        .map(|n| n.parse().expect("--requests takes a number"))
        .unwrap_or(200);
    if !CASES.contains(&case.as_str()) {
        eprintln!("bench-budget: unknown case `{case}` (--list shows them)");
        std::process::exit(2);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let state = state();
    let router = app(state.clone());
    let mut sent = (0..WARM_UP + requests)
        .map(|index| request(&state, &case, index))
        .collect::<Vec<_>>();
    let measured = sent.split_off(WARM_UP);
    let warm_up = answer_all(&runtime, &router, sent);
    let answers = measured_requests(&runtime, &router, measured);
    let checked = warm_up.len() + answers.len();
    for (status, prefix, answer) in warm_up.into_iter().chain(answers) {
        if let Err(message) = check(status, prefix, &answer) {
            eprintln!("bench-budget: {case}: {message}");
            std::process::exit(1);
        }
    }
    println!("case {case} requests {requests} answers_checked {checked}");
}

/// The fake with the embedded default configuration, a frozen clock (the same dates every
/// run) and small journal rings.
fn state() -> AppState {
    let mut config = Config::embedded_default();
    config.server.fixed_clock =
        Some(chrono::DateTime::parse_from_rfc3339("2022-11-30T21:22:17-05:00").expect("a date"));
    config.server.journal_capacity = Some(JOURNAL_CAPACITY);
    AppState::new(config).expect("the default configuration is valid")
}

/// The requests counted: the only function between the instruction counter's toggles. Not a
/// bare tail call (`black_box`), so that the counter sees it entered and left.
#[inline(never)]
fn measured_requests(
    runtime: &tokio::runtime::Runtime,
    router: &Router,
    sent: Vec<Sent>,
) -> Vec<(u16, &'static [u8], (u16, Bytes))> {
    std::hint::black_box(answer_all(runtime, router, sent))
}

fn answer_all(
    runtime: &tokio::runtime::Runtime,
    router: &Router,
    sent: Vec<Sent>,
) -> Vec<(u16, &'static [u8], (u16, Bytes))> {
    let mut answers = Vec::with_capacity(sent.len());
    runtime.block_on(async {
        for Sent {
            request,
            status,
            prefix,
        } in sent
        {
            let response = router
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            let got = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("the body");
            answers.push((status, prefix, (got, body)));
        }
    });
    answers
}

fn check(status: u16, prefix: &[u8], (got, body): &(u16, Bytes)) -> Result<(), String> {
    if *got == status && body.starts_with(prefix) {
        return Ok(());
    }
    Err(format!(
        "expected {status} starting with {:?}, got {got}: {}",
        String::from_utf8_lossy(prefix),
        String::from_utf8_lossy(&body[..body.len().min(300)])
    ))
}

/// The `index`th request of `case` (and the state it needs, recorded now).
fn request(state: &AppState, case: &str, index: usize) -> Sent {
    let cufe = format!("{index:096x}");
    let record = |codes: &[EventCode]| {
        for code in codes {
            state
                .record_event(&cufe, *code, "830020470")
                .expect("a new event on a fresh CUFE");
        }
    };
    let ok = br#"{"codigo_error":0"#;
    match case {
        "historico_eventos" => {
            // The same 3-event history each time: recorded once.
            let cufe = format!("{:096x}", usize::MAX);
            if index == 0 {
                for code in [
                    EventCode::AcuseRecibo,
                    EventCode::ReciboBien,
                    EventCode::Reclamo,
                ] {
                    state
                        .record_event(&cufe, code, "830020470")
                        .expect("a new event");
                }
            }
            let body = multipart(&[("cufe", &cufe)]);
            sent(form("historico_eventos", body), 200, ok)
        }
        "historico_eventos.malformed_cufe" => {
            let body = multipart(&[("cufe", &cufe[..95])]);
            sent(
                form("historico_eventos", body),
                200,
                br#"{"codigo_error":12"#,
            )
        }
        "acuse_recibo_fev" => event_request("acuse_recibo_fev", "acuse_recibo_fev", &cufe, ok),
        "acuse_recibo_fev.semantic_error" => {
            let data = fixture("acuse_recibo_fev.data", "seed_003_ejemplo_1.json")
                .replace(FIXTURE_CUFE, &cufe)
                .replace("\"tipo_identificacion\": 13", "\"tipo_identificacion\": 99");
            let body = multipart(&[("data", &data), ("documento_obligado", "830020470")]);
            sent(
                form("acuse_recibo_fev", body),
                400,
                br#"{"codigo_error":400"#,
            )
        }
        "recibo_bien_servicio" => {
            record(&[EventCode::AcuseRecibo]);
            event_request("recibo_bien_servicio", "recibo_bien_servicio", &cufe, ok)
        }
        "recibo_bien_servicio.lgc09" => event_request(
            "recibo_bien_servicio",
            "recibo_bien_servicio",
            &cufe,
            br#"{"codigo_error":15"#,
        ),
        "reclamo" => {
            record(&[EventCode::AcuseRecibo, EventCode::ReciboBien]);
            event_request("reclamo", "reclamo", &cufe, ok)
        }
        "reclamo.lgc03" => {
            record(&[EventCode::AcuseRecibo]);
            event_request("reclamo", "reclamo", &cufe, br#"{"codigo_error":15"#)
        }
        "lector_cufe_tenedor_legitimo" => {
            let body = multipart(&[("documento_obligado", "830020470"), ("lista_cufe", &cufe)]);
            sent(
                form("lector_cufe_tenedor_legitimo", body),
                200,
                br#"{"codigo_error":"0""#,
            )
        }
        "lector_cufe_tenedor_legitimo.no_lista_cufe" => {
            let body = multipart(&[("documento_obligado", "830020470")]);
            sent(
                form("lector_cufe_tenedor_legitimo", body),
                200,
                br#"{"codigo_error":10"#,
            )
        }
        "saldos" => sovos("saldos", "2019-11", 200, br#"{"TipoConsumo""#),
        "saldos.month_13" => sovos("saldos", "2019-13", 400, b"{"),
        "saldos_pdf" => sovos("saldos/pdf", "2019-10", 200, b"%PDF"),
        "saldos_pdf.month_13" => sovos("saldos/pdf", "2019-13", 400, b"{"),
        "saldos_csv" => sovos("saldos/csv", "2019-10", 200, b""),
        "saldos_csv.month_13" => sovos("saldos/csv", "2019-13", 400, b"{"),
        other => unreachable!("{other} is checked against CASES"),
    }
}

fn sent(request: Request<Body>, status: u16, prefix: &'static [u8]) -> Sent {
    Sent {
        request,
        status,
        prefix,
    }
}

/// An event (030, 032, 031) for `cufe`: the operation's valid fixture with its CUFE replaced.
fn event_request(operation: &str, data: &str, cufe: &str, prefix: &'static [u8]) -> Sent {
    let name = match data {
        "acuse_recibo_fev" => "seed_003_ejemplo_1.json",
        "recibo_bien_servicio" => "ejemplo_como_seed_003.json",
        _ => "plantilla_del_reclamo_llena.json",
    };
    let data = fixture(&format!("{data}.data"), name).replace(FIXTURE_CUFE, cufe);
    let body = multipart(&[("data", &data), ("documento_obligado", "830020470")]);
    sent(form(operation, body), 200, prefix)
}

fn fixture(folder: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/afacturar")
        .join(folder)
        .join("valid")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

fn form(operation: &str, body: String) -> Request<Body> {
    Request::post(format!("/api/radian/{operation}"))
        .header("Authorization", "Bearer t")
        .header("Accept", "application/json")
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .expect("a request")
}

fn sovos(path: &str, month: &str, status: u16, prefix: &'static [u8]) -> Sent {
    let request = Request::post(format!("/api/rest/Timbre/{path}"))
        .header("RCApiKey", "k")
        .header("Content-Type", "application/json")
        .body(Body::from(format!(r#"{{"MesConsulta":"{month}"}}"#)))
        .expect("a request");
    sent(request, status, prefix)
}
