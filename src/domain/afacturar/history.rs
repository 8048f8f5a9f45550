//! One recorded RADIAN event, as the provider's history lists it: the record the ledger keeps
//! and renders back, and what the store persists.

/// One row of `historico_eventos`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HistoricoEvento {
    /// Per-CUFE number, from 1.
    pub numero: String,
    /// Event code: `030`, `032` …
    pub codigo: String,
    /// The event's name, in the seed's wording.
    pub descripcion: String,
    /// `yyyy-mm-dd hh:mm:ss`.
    pub fecha: String,
    /// The event's CUDE.
    pub cude: String,
    /// Prefix and sequence: `PAR29`.
    pub identificacion_evento: String,
    /// Who sent the event.
    pub emisor_nombre: String,
    /// Who sent the event.
    pub emisor_identificacion: String,
    /// Who received it.
    pub receptor_nombre: String,
    /// Who received it.
    pub receptor_identificacion: String,
}

/// Events with their CUFE; each CUFE's events in order.
pub type EventRows = Vec<(String, HistoricoEvento)>;

/// The rows `historico_eventos` lists: serializable, and able to say whether there are none.
pub trait HistoryList: serde::Serialize {
    /// No event: the answer is codigo 12.
    fn is_empty(&self) -> bool;
}

impl HistoryList for [HistoricoEvento] {
    fn is_empty(&self) -> bool {
        <[HistoricoEvento]>::is_empty(self)
    }
}
