//! Contract coverage: for every operation, how often the client received each documented
//! answer and sent each documented request field. Counted by `intercept` from what the fake
//! (or, behind the proxy, the provider) answered; survives `DELETE /__admin/requests`, cleared
//! by `POST /__admin/reset`.

use serde::Serialize;

use crate::contract::{documented_fields, Operation};
use crate::respond;

/// The counters.
#[derive(Debug, Clone)]
pub struct Coverage {
    operations: Vec<OperationCounts>,
}

#[derive(Debug, Clone)]
struct OperationCounts {
    operation: Operation,
    responses: Vec<(&'static str, u64)>,
    fields: Vec<(&'static str, u64)>,
}

/// One documented answer and how often it was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseHits {
    /// The code, as scenarios name it (`0`/`200` for a success).
    pub code: &'static str,
    /// Times the client received it.
    pub hits: u64,
}

/// One documented request field and how often it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldHits {
    /// Dotted path, arrays as `evento[]`.
    pub path: &'static str,
    /// Requests that carried it.
    pub sent: u64,
}

/// One operation's coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationCoverage {
    /// The operation.
    pub operation: Operation,
    /// Its documented answers.
    pub responses: Vec<ResponseHits>,
    /// Its documented request fields.
    pub fields: Vec<FieldHits>,
}

/// What `GET /__admin/coverage` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    /// Every operation.
    pub operations: Vec<OperationCoverage>,
    /// Documented answers received and fields sent at least once.
    pub covered: u64,
    /// Documented answers and fields in all.
    pub documented: u64,
    /// `covered` of `documented`, in percent (one decimal).
    pub percent: f64,
}

impl Default for Coverage {
    fn default() -> Self {
        Coverage::new()
    }
}

impl Coverage {
    /// Every documented answer and field, none seen yet.
    pub fn new() -> Coverage {
        Coverage {
            operations: Operation::ALL
                .into_iter()
                .map(|operation| OperationCounts {
                    operation,
                    responses: respond::documented_answers(operation)
                        .into_iter()
                        .map(|code| (code, 0))
                        .collect(),
                    fields: documented_fields(operation)
                        .iter()
                        .map(|path| (path.as_str(), 0))
                        .collect(),
                })
                .collect(),
        }
    }

    /// Forgets every count.
    pub fn clear(&mut self) {
        *self = Coverage::new();
    }

    /// Counts one request of `operation`: the documented answer it received (`code`), if
    /// any, and the fields it sent (`Verdict::sent_fields`).
    pub fn count(&mut self, operation: Operation, code: Option<&str>, sent: &[bool]) {
        let Some(counts) = self
            .operations
            .iter_mut()
            .find(|c| c.operation == operation)
        else {
            return;
        };
        if let Some(code) = code {
            if let Some(hit) = counts.responses.iter_mut().find(|(c, _)| *c == code) {
                hit.1 += 1;
            }
        }
        for (field, _) in counts.fields.iter_mut().zip(sent).filter(|(_, &sent)| sent) {
            field.1 += 1;
        }
    }

    /// The report.
    pub fn report(&self) -> CoverageReport {
        let mut covered = 0;
        let mut documented = 0;
        let operations = self
            .operations
            .iter()
            .map(|counts| {
                let responses: Vec<ResponseHits> = counts
                    .responses
                    .iter()
                    .map(|&(code, hits)| ResponseHits { code, hits })
                    .collect();
                let fields: Vec<FieldHits> = counts
                    .fields
                    .iter()
                    .map(|&(path, sent)| FieldHits { path, sent })
                    .collect();
                documented += (responses.len() + fields.len()) as u64;
                covered += responses.iter().filter(|r| r.hits > 0).count() as u64
                    + fields.iter().filter(|f| f.sent > 0).count() as u64;
                OperationCoverage {
                    operation: counts.operation,
                    responses,
                    fields,
                }
            })
            .collect();
        let percent = if documented == 0 {
            100.0
        } else {
            (covered as f64 * 1000.0 / documented as f64).round() / 10.0
        };
        CoverageReport {
            operations,
            covered,
            documented,
            percent,
        }
    }
}

impl CoverageReport {
    /// One line per operation, for the log at shutdown.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "contract coverage: {} of {} documented answers and fields ({}%)",
            self.covered, self.documented, self.percent
        )];
        for op in &self.operations {
            let hit = op.responses.iter().filter(|r| r.hits > 0).count();
            let sent = op.fields.iter().filter(|f| f.sent > 0).count();
            let missing: Vec<&str> = op
                .responses
                .iter()
                .filter(|r| r.hits == 0)
                .map(|r| r.code)
                .collect();
            lines.push(format!(
                "  {}: answers {hit}/{} (never: {}), fields {sent}/{}",
                op.operation,
                op.responses.len(),
                if missing.is_empty() {
                    "-".to_owned()
                } else {
                    missing.join(", ")
                },
                op.fields.len()
            ));
        }
        lines
    }
}
