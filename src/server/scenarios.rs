//! Armed scenarios: a documented response, a delay or a fault for the next N matching requests.

use serde::{Deserialize, Serialize};

use crate::contract::Operation;
use crate::respond::DocumentedCode;

/// A fault at the connection or body level, as WireMock offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The connection is reset (TCP RST) without a response.
    ConnectionReset,
    /// The connection is closed without a response.
    EmptyResponse,
    /// The real answer's status line and headers, its body garbled (not valid JSON).
    MalformedBody,
    /// The real answer's status line and headers, its body stopping halfway through its
    /// announced length.
    TruncatedBody,
}

/// Which requests a scenario applies to, besides its operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Only requests naming this CUFE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cufe: Option<String>,
    /// Only requests with this `RFCConsulta`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rfc: Option<String>,
    /// Only requests with this Bearer token or `RCApiKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// What `POST /__admin/scenarios` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// The operation: `acuse_recibo_fev`, `saldos` …
    pub operation: Operation,
    /// A response the operation documents, by code (`afacturar::body::documented_codes`,
    /// `SovosError::documented_codes`): e.g. `12` on `historico_eventos`, `15` on
    /// `acuse_recibo_fev`, `400-003` on the Sovos reports. Absent: the request is processed
    /// normally (after the delay, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond: Option<String>,
    /// How many matching requests it applies to; `null` for every one. Default 1.
    #[serde(default = "one")]
    pub times: Option<u32>,
    /// Narrower matching.
    #[serde(default, rename = "match")]
    pub matching: Match,
    /// Wait this long before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// With `delay_ms`: wait a random time between `delay_ms` and this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_max_ms: Option<u64>,
    /// A fault instead of a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// With `fault: malformed_body` or `truncated_body`: the status to answer instead of the
    /// real answer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// With `respond: "28"` on `acuse_recibo_fev`: how long after the 28 the final result is
    /// POSTed to the request's `generalidades.webhook`. Default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_delay_ms: Option<u64>,
}

fn one() -> Option<u32> {
    Some(1)
}

impl ScenarioSpec {
    /// The documented response `code` for the next request of `operation`.
    ///
    /// ```
    /// use einvoice_mock::ScenarioSpec;
    /// use einvoice_mock::Operation;
    ///
    /// let spec = ScenarioSpec::respond(Operation::AcuseReciboFev, "15").times(2).cufe("f4…");
    /// assert!(spec.check().is_ok());
    /// ```
    pub fn respond(operation: Operation, code: &str) -> ScenarioSpec {
        ScenarioSpec {
            respond: Some(code.to_owned()),
            ..ScenarioSpec::pass_through(operation)
        }
    }

    /// A fault for the next request of `operation`.
    pub fn fault(operation: Operation, fault: Fault) -> ScenarioSpec {
        ScenarioSpec {
            fault: Some(fault),
            ..ScenarioSpec::pass_through(operation)
        }
    }

    /// The next request of `operation`, processed normally (add a delay).
    pub fn pass_through(operation: Operation) -> ScenarioSpec {
        ScenarioSpec {
            operation,
            respond: None,
            times: Some(1),
            matching: Match::default(),
            delay_ms: None,
            delay_max_ms: None,
            fault: None,
            status: None,
            webhook_delay_ms: None,
        }
    }

    /// Applies to the next `times` matching requests.
    pub fn times(mut self, times: u32) -> ScenarioSpec {
        self.times = Some(times);
        self
    }

    /// Applies to every matching request until disarmed.
    pub fn always(mut self) -> ScenarioSpec {
        self.times = None;
        self
    }

    /// Only requests naming this CUFE.
    pub fn cufe(mut self, cufe: &str) -> ScenarioSpec {
        self.matching.cufe = Some(cufe.to_owned());
        self
    }

    /// Only requests with this `RFCConsulta`.
    pub fn rfc(mut self, rfc: &str) -> ScenarioSpec {
        self.matching.rfc = Some(rfc.to_owned());
        self
    }

    /// Only requests with this Bearer token or `RCApiKey`.
    pub fn token(mut self, token: &str) -> ScenarioSpec {
        self.matching.token = Some(token.to_owned());
        self
    }

    /// Wait this long before answering.
    pub fn delay(mut self, delay: std::time::Duration) -> ScenarioSpec {
        self.delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// With code 28: deliver the final result to the webhook this long after.
    pub fn webhook_after(mut self, delay: std::time::Duration) -> ScenarioSpec {
        self.webhook_delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        self
    }
}

/// A scenario that cannot be armed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(pub String);

impl ScenarioSpec {
    /// Checks that the response code is documented for the operation.
    pub fn check(&self) -> Result<(), ScenarioError> {
        self.documented().map(|_| ())
    }

    /// The documented response to arm, checked; `None` when the spec names none.
    pub fn documented(&self) -> Result<Option<DocumentedCode>, ScenarioError> {
        let mut documented = None;
        if let Some(code) = &self.respond {
            documented = Some(DocumentedCode::of_operation(self.operation, code).map_err(
                |unknown| {
                    ScenarioError(format!(
                        "`{code}` is not a documented response of {}; documented: {}",
                        self.operation,
                        unknown.documented.join(", ")
                    ))
                },
            )?);
            if self.fault.is_some() {
                return Err(ScenarioError(
                    "give either `respond` or `fault`, not both".into(),
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.delay_ms, self.delay_max_ms) {
            if max < min {
                return Err(ScenarioError(
                    "`delay_max_ms` must not be below `delay_ms`".into(),
                ));
            }
        }
        if self.delay_max_ms.is_some() && self.delay_ms.is_none() {
            return Err(ScenarioError("`delay_max_ms` needs `delay_ms`".into()));
        }
        if let Some(status) = self.status {
            if !matches!(
                self.fault,
                Some(Fault::MalformedBody | Fault::TruncatedBody)
            ) {
                return Err(ScenarioError(
                    "`status` goes with `fault: malformed_body` or `truncated_body`".into(),
                ));
            }
            if !(100..=599).contains(&status) {
                return Err(ScenarioError(format!(
                    "`status` {status} is not an HTTP status (100-599)"
                )));
            }
        }
        for (name, value) in [
            ("match.cufe", &self.matching.cufe),
            ("match.rfc", &self.matching.rfc),
            ("match.token", &self.matching.token),
        ] {
            if value.as_ref().is_some_and(|v| v.len() > MAX_MATCH_BYTES) {
                return Err(ScenarioError(format!(
                    "`{name}` is longer than {MAX_MATCH_BYTES} bytes"
                )));
            }
            // No CUFE, RFC or token holds one, and JSON would write each back six bytes wide.
            if value
                .as_ref()
                .is_some_and(|v| v.chars().any(char::is_control))
            {
                return Err(ScenarioError(format!(
                    "`{name}` holds a control character; no CUFE, RFC or token does"
                )));
            }
        }
        if self.times == Some(0) {
            return Err(ScenarioError(
                "`times` must be at least 1 (or null for every request)".into(),
            ));
        }
        Ok(documented)
    }

    /// The delay to apply, drawn when it is a range.
    pub fn draw_delay(&self) -> Option<std::time::Duration> {
        let min = self.delay_ms?;
        let ms = match self.delay_max_ms {
            Some(max) if max > min => fastrand::u64(min..=max),
            _ => min,
        };
        Some(std::time::Duration::from_millis(ms))
    }
}

/// An armed scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Its id, for `DELETE /__admin/scenarios/{id}`.
    pub id: u64,
    /// What was armed.
    #[serde(flatten)]
    pub spec: ScenarioSpec,
    /// How many more requests it applies to (`null`: unlimited).
    pub remaining: Option<u32>,
    /// How many requests it has applied to.
    pub hits: u32,
    /// `spec.respond` as checked when armed.
    #[serde(skip)]
    pub respond: Option<DocumentedCode>,
}

/// What a request offers for matching.
#[derive(Debug, Clone, Copy)]
pub struct RequestKeys<'a> {
    /// The operation.
    pub operation: Operation,
    /// CUFEs named by the request.
    pub cufes: &'a [&'a str],
    /// `RFCConsulta`.
    pub rfc: Option<&'a str>,
    /// Bearer token or `RCApiKey`.
    pub token: Option<&'a str>,
}

/// Scenarios armed at once at most: each is matched against every request, and the admin API
/// stores what it is given.
pub const MAX_ARMED_SCENARIOS: usize = 1_000;

/// The longest `match.cufe`, `match.rfc` or `match.token`, in bytes: a CUFE is 96 characters,
/// an RFC 13, a real token a few hundred.
pub const MAX_MATCH_BYTES: usize = 4 * 1024;

/// Code-28 replays waiting for their delay at most (past it, the 28 is still answered but its
/// webhook delivery is recorded as not scheduled).
pub const MAX_PENDING_REPLAYS: usize = 64;
/// Request bytes those replays may hold, in all.
pub const MAX_PENDING_REPLAY_BYTES: usize = 16 * 1024 * 1024;

/// A code-28 replay waiting for its delay: what it holds, and how to cancel it.
#[derive(Debug)]
struct PendingReplay {
    id: u64,
    scenario: u64,
    bytes: usize,
    handle: tokio::task::AbortHandle,
}

/// The armed scenarios, first armed first matched, and the code-28 replays they scheduled.
#[derive(Debug, Default)]
pub struct Scenarios {
    armed: Vec<Scenario>,
    next_id: u64,
    pending: Vec<PendingReplay>,
    next_replay: u64,
}

impl Scenarios {
    /// Arms `spec`.
    pub fn arm(&mut self, spec: ScenarioSpec) -> Result<Scenario, ScenarioError> {
        let respond = spec.documented()?;
        if self.armed.len() >= MAX_ARMED_SCENARIOS {
            return Err(ScenarioError(format!(
                "{MAX_ARMED_SCENARIOS} scenarios are armed already; disarm some first"
            )));
        }
        self.next_id += 1;
        let scenario = Scenario {
            id: self.next_id,
            remaining: spec.times,
            spec,
            hits: 0,
            respond,
        };
        self.armed.push(scenario.clone());
        Ok(scenario)
    }

    /// The armed scenarios.
    pub fn list(&self) -> &[Scenario] {
        &self.armed
    }

    /// Disarms every scenario, and cancels their pending replays.
    pub fn clear(&mut self) {
        self.armed.clear();
        for replay in self.pending.drain(..) {
            replay.handle.abort();
        }
    }

    /// Disarms one scenario, and cancels its pending replays; whether it existed.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.armed.len();
        self.armed.retain(|s| s.id != id);
        self.pending.retain(|replay| {
            let keep = replay.scenario != id;
            if !keep {
                replay.handle.abort();
            }
            keep
        });
        self.armed.len() != before
    }

    /// Schedules a code-28 replay of `bytes` request bytes for `scenario` with `spawn`, within
    /// [`MAX_PENDING_REPLAYS`] and [`MAX_PENDING_REPLAY_BYTES`]; `spawn` gets the replay's id,
    /// for [`Scenarios::replay_done`]. `false` when over a bound (nothing is spawned).
    pub fn schedule_replay(
        &mut self,
        scenario: u64,
        bytes: usize,
        spawn: impl FnOnce(u64) -> tokio::task::AbortHandle,
    ) -> bool {
        let held: usize = self.pending.iter().map(|replay| replay.bytes).sum();
        if self.pending.len() >= MAX_PENDING_REPLAYS
            || held.saturating_add(bytes) > MAX_PENDING_REPLAY_BYTES
        {
            return false;
        }
        self.next_replay += 1;
        let id = self.next_replay;
        // Under the scenarios' lock: the replay cannot report itself done before it is listed.
        let handle = spawn(id);
        self.pending.push(PendingReplay {
            id,
            scenario,
            bytes,
            handle,
        });
        true
    }

    /// A replay ran (or failed): it no longer holds anything.
    pub fn replay_done(&mut self, id: u64) {
        self.pending.retain(|replay| replay.id != id);
    }

    /// How many replays are waiting, and the request bytes they hold.
    pub fn pending_replays(&self) -> (usize, usize) {
        (
            self.pending.len(),
            self.pending.iter().map(|replay| replay.bytes).sum(),
        )
    }

    /// Whether no scenario is armed.
    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    /// The first scenario matching `keys`, consumed once; exhausted scenarios are disarmed.
    pub fn take(&mut self, keys: RequestKeys<'_>) -> Option<Scenario> {
        let index = self.armed.iter().position(|s| matches(&s.spec, keys))?;
        let scenario = &mut self.armed[index];
        scenario.hits += 1;
        if let Some(remaining) = scenario.remaining.as_mut() {
            *remaining -= 1;
        }
        let taken = scenario.clone();
        if taken.remaining == Some(0) {
            self.armed.remove(index);
        }
        Some(taken)
    }
}

fn matches(spec: &ScenarioSpec, keys: RequestKeys<'_>) -> bool {
    spec.operation == keys.operation
        && spec
            .matching
            .cufe
            .as_deref()
            .is_none_or(|c| keys.cufes.contains(&c))
        && spec
            .matching
            .rfc
            .as_deref()
            .is_none_or(|r| keys.rfc == Some(r))
        && spec
            .matching
            .token
            .as_deref()
            .is_none_or(|t| keys.token == Some(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> ScenarioSpec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_scenario_applies_to_the_next_n_matching_requests_then_disarms() {
        let mut scenarios = Scenarios::default();
        scenarios
            .arm(spec(serde_json::json!({"operation": "saldos", "respond": "500", "times": 2, "match": {"rfc": "AAA010101AAA"}})))
            .unwrap();
        let keys = |rfc| RequestKeys {
            operation: Operation::Saldos,
            cufes: &[],
            rfc,
            token: None,
        };
        assert!(scenarios.take(keys(None)).is_none());
        assert!(scenarios.take(keys(Some("AAA010101AAA"))).is_some());
        assert!(scenarios.take(keys(Some("AAA010101AAA"))).is_some());
        assert!(scenarios.take(keys(Some("AAA010101AAA"))).is_none());
        assert!(scenarios.list().is_empty());
    }

    #[test]
    fn an_undocumented_code_is_refused_with_the_documented_list() {
        let error = spec(serde_json::json!({"operation": "saldos", "respond": "15"}))
            .check()
            .unwrap_err();
        assert!(error.0.contains("400-001"), "{error}");
        assert!(!error.0.contains("400-003"), "the reports' code: {error}");
    }

    #[test]
    fn a_code_of_another_operation_of_the_same_provider_is_refused() {
        for (operation, code) in [
            ("historico_eventos", "15"),
            ("historico_eventos", "28"),
            ("historico_eventos", "400"),
            ("acuse_recibo_fev", "12"),
            ("saldos", "400-003"),
        ] {
            let armed = spec(serde_json::json!({"operation": operation, "respond": code}));
            assert!(armed.check().is_err(), "{operation} {code}");
        }
        for (operation, code) in [
            ("historico_eventos", "12"),
            ("historico_eventos", "503"),
            ("acuse_recibo_fev", "15"),
            ("acuse_recibo_fev", "429"),
            ("saldos_pdf", "400-003"),
            ("saldos", "400-002"),
        ] {
            let armed = spec(serde_json::json!({"operation": operation, "respond": code}));
            assert!(armed.check().is_ok(), "{operation} {code}");
        }
    }
}
