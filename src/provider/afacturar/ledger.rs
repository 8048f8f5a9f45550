//! The events registered per CUFE: what `historico_eventos` lists and what DIAN's ordering
//! rules are checked against.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::body::HistoricoEvento;
use super::cude::{cude, CudeInput};
use super::events::{check_order, DianRejection, EventCode};
use crate::store::{EventRows, Store, StoreError};

/// A party of an event: who sent it or who received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventParty {
    /// Its name.
    pub nombre: String,
    /// Its identification.
    pub identificacion: String,
}

/// An event to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The invoice.
    pub cufe: String,
    /// Which event.
    pub code: EventCode,
    /// When, in Colombian time (UTC−5).
    pub at: NaiveDateTime,
    /// Who sends it.
    pub emisor: EventParty,
    /// Who receives it (the other party of the invoice).
    pub receptor: EventParty,
    /// The invoice number, part of the CUDE.
    pub numero_factura: String,
    /// The software PIN, part of the CUDE.
    pub software_pin: String,
    /// A CUDE to keep verbatim instead of computing one (seed data).
    pub cude: Option<String>,
    /// An `identificacion_evento` to keep verbatim instead of allocating one (seed data).
    pub identificacion_evento: Option<String>,
}

/// A registered event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Which event.
    pub code: EventCode,
    /// The row `historico_eventos` shows.
    pub row: HistoricoEvento,
}

/// An event DIAN refused, with what the attempt was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The rule it broke.
    pub rejection: DianRejection,
    /// The attempt: its CUDE, `identificacion_evento` and date.
    pub attempt: Box<HistoricoEvento>,
}

/// Why an event was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// DIAN's rules refuse it.
    #[error("{}", .0.rejection)]
    Rejected(Rejected),
    /// It could not be persisted, so it was not acknowledged.
    #[error(transparent)]
    Storage(#[from] StoreError),
}

impl RecordError {
    /// The DIAN rejection, if that is why.
    pub fn rejection(&self) -> Option<&DianRejection> {
        match self {
            RecordError::Rejected(rejected) => Some(&rejected.rejection),
            RecordError::Storage(_) => None,
        }
    }
}

/// Every registered event, per CUFE, in order.
#[derive(Debug, Clone)]
pub struct EventLedger {
    histories: HashMap<String, Vec<StoredEvent>>,
    next_sequence: HashMap<&'static str, u64>,
    first_sequence: u64,
    store: Arc<Store>,
}

impl Default for EventLedger {
    fn default() -> Self {
        EventLedger::new(0)
    }
}

impl EventLedger {
    /// An empty ledger whose `identificacion_evento` numbers start at `first_sequence`.
    pub fn new(first_sequence: u64) -> EventLedger {
        EventLedger {
            histories: HashMap::new(),
            next_sequence: HashMap::new(),
            first_sequence,
            store: Arc::new(Store::memory()),
        }
    }

    /// From here on, every change is written to `store` before it is acknowledged.
    pub fn attach(&mut self, store: Arc<Store>) {
        self.store = store;
    }

    /// Rebuilds a ledger from persisted rows (in order) and sequences.
    pub fn restore(
        first_sequence: u64,
        rows: EventRows,
        sequences: &[(String, u64)],
    ) -> Result<EventLedger, String> {
        let mut ledger = EventLedger::new(first_sequence);
        for (cufe, row) in rows {
            let code: EventCode = row
                .codigo
                .parse()
                .map_err(|_| format!("stored event with unknown code `{}`", row.codigo))?;
            ledger
                .histories
                .entry(cufe)
                .or_default()
                .push(StoredEvent { code, row });
        }
        for (prefix, next) in sequences {
            if let Some(code) = EventCode::ALL.into_iter().find(|c| c.prefix() == prefix) {
                ledger.next_sequence.insert(code.prefix(), *next);
            }
        }
        Ok(ledger)
    }

    /// Every event with its CUFE (each CUFE's events in order), and the sequences: what a
    /// store needs to hold this ledger.
    pub fn export(&self) -> (EventRows, Vec<(&'static str, u64)>) {
        let events = self
            .histories
            .iter()
            .flat_map(|(cufe, events)| events.iter().map(move |e| (cufe.clone(), e.row.clone())))
            .collect();
        let sequences = self.next_sequence.iter().map(|(p, n)| (*p, *n)).collect();
        (events, sequences)
    }

    /// The events of `cufe`, in order.
    pub fn history(&self, cufe: &str) -> &[StoredEvent] {
        self.histories.get(cufe).map_or(&[], Vec::as_slice)
    }

    /// How many events the ledger holds, all CUFEs together.
    pub fn len(&self) -> usize {
        self.histories.values().map(Vec::len).sum()
    }

    /// Whether the ledger holds no event.
    pub fn is_empty(&self) -> bool {
        self.histories.is_empty()
    }

    /// The next `identificacion_evento` for `code`, and the sequence value to persist.
    fn allocate_id(&mut self, code: EventCode) -> (String, (&'static str, u64)) {
        let next = self
            .next_sequence
            .entry(code.prefix())
            .or_insert(self.first_sequence);
        let id = format!("{}{}", code.prefix(), next);
        *next += 1;
        (id, (code.prefix(), *next))
    }

    /// Registers `event` if DIAN's rules allow it. Numbers follow per CUFE without gaps; a
    /// refused attempt still consumes an `identificacion_evento`, as the seed's `PAR170` shows.
    pub fn record(&mut self, event: NewEvent) -> Result<&StoredEvent, RecordError> {
        let existing: Vec<EventCode> = self.history(&event.cufe).iter().map(|e| e.code).collect();
        let numero = (existing.len() + 1).to_string();
        let (identificacion_evento, consumed) = match event.identificacion_evento.clone() {
            Some(id) => (id, None),
            None => {
                let (id, consumed) = self.allocate_id(event.code);
                (id, Some(consumed))
            }
        };
        let fecha = event.at.format("%Y-%m-%d %H:%M:%S").to_string();
        let cude = event.cude.clone().unwrap_or_else(|| {
            let fec_emi = event.at.format("%Y-%m-%d").to_string();
            let hor_emi = format!("{}-05:00", event.at.format("%H:%M:%S"));
            cude(&CudeInput {
                num_de: &numero,
                fec_emi: &fec_emi,
                hor_emi: &hor_emi,
                nit_fe: &event.emisor.identificacion,
                doc_adq: &event.receptor.identificacion,
                response_code: event.code.code(),
                id: &event.numero_factura,
                document_type_code: "01",
                software_pin: &event.software_pin,
            })
        });
        let row = HistoricoEvento {
            numero,
            codigo: event.code.code().to_owned(),
            descripcion: event.code.descripcion().to_owned(),
            fecha,
            cude,
            identificacion_evento,
            emisor_nombre: event.emisor.nombre,
            emisor_identificacion: event.emisor.identificacion,
            receptor_nombre: event.receptor.nombre,
            receptor_identificacion: event.receptor.identificacion,
        };
        if let Err(rejection) = check_order(&existing, event.code) {
            if let Some((prefix, next)) = consumed {
                self.store.save_sequence(prefix, next)?;
            }
            return Err(RecordError::Rejected(Rejected {
                rejection,
                attempt: Box::new(row),
            }));
        }
        self.store.append_event(&event.cufe, &row, consumed)?;
        // Most CUFEs get one or two events: the default capacity of 4 would waste ~750 bytes.
        let history = self
            .histories
            .entry(event.cufe)
            .or_insert_with(|| Vec::with_capacity(1));
        history.push(StoredEvent {
            code: event.code,
            row,
        });
        // Just pushed: the history is not empty.
        Ok(&history[history.len() - 1])
    }
}
