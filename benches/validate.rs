//! How long the contract takes: parsing a payload, validating it, rendering the provider's
//! error body for an invalid one, and compiling every schema.
//!
//! `cargo bench --bench validate -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use einvoice_mock::internals::render::afacturar::body::{self, Meta};
use einvoice_mock::SovosError;
use einvoice_mock::{Contract, Operation};
use serde_json::Value;

/// The bytes of a fixture under `fixtures/`.
fn fixture_bytes(relative: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the fixture is JSON")
}

/// The conforming payloads: seed 003's Ejemplo 1 and seed 002's balance request for one RFC.
const VALID: [(&str, Operation, &str); 2] = [
    (
        "acuse_recibo_fev/ejemplo_1",
        Operation::AcuseReciboFev,
        "afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json",
    ),
    (
        "saldos/rfc_especifico",
        Operation::Saldos,
        "sovos/saldos.request/valid/seed_002_rfc_especifico.json",
    ),
];

/// `serde_json::from_slice` of the bytes, then `validate` of the parsed value, per payload.
fn parse_and_validate(c: &mut Criterion) {
    let contract = Contract::global();
    for (label, operation, file) in VALID {
        let bytes = fixture_bytes(file);
        let value = parse(&bytes);
        assert!(
            contract.validate(operation, &value).is_valid(),
            "{file} must conform"
        );

        let mut group = c.benchmark_group(label);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("parse", |b| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(&bytes)))
        });
        group.bench_function("validate", |b| {
            b.iter(|| contract.validate(operation, black_box(&value)))
        });
        group.finish();
    }
}

/// An invalid payload: validate, then render the error body the provider sends.
fn validate_and_render_invalid(c: &mut Criterion) {
    let contract = Contract::global();
    let mut group = c.benchmark_group("invalid");

    let apellido = parse(&fixture_bytes(
        "afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json",
    ));
    let meta = Meta {
        tiempo_ejecucion: 0.05,
        transaccion: "ODMwMDIwNDcw63992e98b9569".into(),
        entorno: "DOCUMENTO_NO_VALIDO".into(),
    };
    assert!(!contract
        .validate(Operation::AcuseReciboFev, &apellido)
        .is_valid());
    group.bench_function("acuse_recibo_fev/apellido/validate+render", |b| {
        b.iter(|| {
            let data = black_box(&apellido);
            let violations = contract.validate(Operation::AcuseReciboFev, data);
            body::semantic_error(body::resultado(&violations, data), &meta)
        })
    });

    let saldos = serde_json::json!({ "MesConsulta": "2019-13", "RFCConsulta": "A&D061009TY8" });
    assert!(!contract.validate(Operation::Saldos, &saldos).is_valid());
    group.bench_function("saldos/bad_month/validate+render", |b| {
        b.iter(|| {
            let violations = contract.validate(Operation::Saldos, black_box(&saldos));
            SovosError::for_violations(Operation::Saldos, &violations).map(SovosError::body)
        })
    });
    group.finish();
}

/// Compiling every embedded schema, what `Contract::global` pays once.
fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("contract");
    group.sample_size(20);
    group.bench_function("compile", |b| {
        b.iter(|| Contract::compile().expect("the embedded schemas compile"))
    });
    group.finish();
}

criterion_group!(
    benches,
    parse_and_validate,
    validate_and_render_invalid,
    compile
);
criterion_main!(benches);
