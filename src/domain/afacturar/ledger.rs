//! The events registered per CUFE: what `historico_eventos` lists and what DIAN's ordering
//! rules are checked against.
//!
//! # Layout
//!
//! A million recorded events must fit in 300 MB of process memory, so the ledger keeps each
//! event packed and builds its `historico_eventos` row when asked:
//!
//! - `slots`: every event, in the order it was registered (80 bytes each): its code, the index
//!   of the next event of the same CUFE, and its row packed — the CUDE as 48 bytes, `fecha` as
//!   seconds, the number of `identificacion_evento` after its prefix, and both parties as
//!   indexes into a table of the (few) distinct parties. `numero` is the position in the
//!   history, `codigo` and `descripcion` come from the code.
//! - `histories`: one per CUFE (56 bytes): the CUFE as 48 bytes, and its first slot. A CUFE's
//!   events are a chain through the slots; DIAN's rules allow at most one event per code, so
//!   a chain holds at most five.
//! - `index`: the histories hashed by CUFE, a `HashTable<u32>` (5 bytes a bucket, 8–10 bytes a
//!   CUFE at a load factor between 7/16 and 7/8), so lookups stay flat as the ledger grows.
//!
//! That is ~150 bytes for an event on its own CUFE, ~80 for each further event of a CUFE.
//!
//! Whatever does not pack exactly is kept verbatim beside: a CUFE that is not 96 lowercase hex
//! characters (the seed's has 95), and a row that the packed form would not give back
//! byte for byte (a CUDE or `identificacion_evento` given as is, a row restored from the
//! store that does not follow the rules). Packing checks the round trip, so every row is read
//! back exactly as it was registered.

use std::collections::HashMap;
use std::hash::BuildHasher as _;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime};
use hashbrown::{DefaultHashBuilder, HashTable};
use serde::ser::{SerializeSeq as _, SerializeStruct as _};
use serde::{Serialize, Serializer};

use super::cude::{cude, CudeInput};
use super::events::{check_order, DianRejection, EventCode};
use super::history::{EventRows, HistoricoEvento, HistoryList};
use crate::domain::datetime_text;
use crate::domain::storage::{EventStore, InMemory, StorageError};

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
    Storage(#[from] StorageError),
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

/// Every registered event, per CUFE, in order. See the module documentation for the layout.
#[derive(Debug, Clone)]
pub struct EventLedger {
    /// Every event, in the order it was registered.
    slots: Vec<Slot>,
    /// One per CUFE, in the order of its first event.
    histories: Vec<History>,
    /// Positions in `histories`, hashed by CUFE.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// The distinct parties the packed rows point to.
    parties: Vec<EventParty>,
    /// Positions in `parties`, hashed by party.
    party_index: HashTable<u32>,
    /// The CUFEs that are not 96 lowercase hex characters.
    text_cufes: Vec<Box<str>>,
    /// The rows that do not pack exactly.
    verbatim_rows: Vec<HistoricoEvento>,
    next_sequence: HashMap<&'static str, u64>,
    first_sequence: u64,
    store: Arc<dyn EventStore>,
}

/// A CUFE's events: the first one's slot, the others chained from it.
#[derive(Debug, Clone)]
struct History {
    cufe: Cufe,
    first: u32,
}

/// A CUFE as stored.
#[derive(Debug, Clone)]
enum Cufe {
    /// 96 lowercase hex characters, decoded.
    Hex([u8; 48]),
    /// Anything else: its position in `text_cufes`.
    Text(u32),
}

/// A CUFE as looked up: decoded when it can be, so that it compares with what is stored.
#[derive(Debug, Clone, Copy)]
enum CufeKey<'a> {
    Hex([u8; 48]),
    Text(&'a str),
}

impl<'a> CufeKey<'a> {
    fn of(cufe: &'a str) -> CufeKey<'a> {
        decode_hex(cufe).map_or(CufeKey::Text(cufe), CufeKey::Hex)
    }
}

/// One registered event.
#[derive(Debug, Clone)]
struct Slot {
    code: EventCode,
    /// The next event of the same CUFE; 0 for none (slot 0 is always the first of its CUFE).
    next: u32,
    row: Row,
}

/// An event's `historico_eventos` row, as stored.
#[derive(Debug, Clone)]
enum Row {
    /// Every field follows from these and the event's code and position.
    Packed {
        /// The CUDE, decoded from 96 lowercase hex characters.
        cude: [u8; 48],
        /// `fecha`, seconds since 1970-01-01 00:00:00 (of Colombian time).
        fecha: i64,
        /// `identificacion_evento` after the code's prefix.
        sequence: u32,
        /// Position in `parties`.
        emisor: u32,
        /// Position in `parties`.
        receptor: u32,
    },
    /// The row does not pack exactly: its position in `verbatim_rows`.
    Verbatim(u32),
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
            slots: Vec::new(),
            histories: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            parties: Vec::new(),
            party_index: HashTable::new(),
            text_cufes: Vec::new(),
            verbatim_rows: Vec::new(),
            next_sequence: HashMap::new(),
            first_sequence,
            store: Arc::new(InMemory),
        }
    }

    /// From here on, every change is written to `store` before it is acknowledged.
    pub fn attach(&mut self, store: Arc<dyn EventStore>) {
        self.store = store;
    }

    /// Rebuilds a ledger from persisted rows (in order) and sequences.
    pub fn restore(
        first_sequence: u64,
        rows: impl IntoIterator<Item = (String, HistoricoEvento)>,
        sequences: &[(String, u64)],
    ) -> Result<EventLedger, String> {
        let mut ledger = EventLedger::new(first_sequence);
        for (cufe, row) in rows {
            let code: EventCode = row
                .codigo
                .parse()
                .map_err(|_| format!("stored event with unknown code `{}`", row.codigo))?;
            let history = ledger.find(CufeKey::of(&cufe));
            ledger.append(history, &cufe, code, &row);
        }
        for (prefix, next) in sequences {
            if let Some(code) = EventCode::ALL.into_iter().find(|c| c.prefix() == prefix) {
                ledger.next_sequence.insert(code.prefix(), *next);
            }
        }
        Ok(ledger)
    }

    /// Every event with its CUFE (each CUFE's events in order, CUFEs in the order of their
    /// first event), and the sequences: what a store needs to hold this ledger.
    pub fn export(&self) -> (EventRows, Vec<(&'static str, u64)>) {
        let events = self
            .histories
            .iter()
            .flat_map(|history| {
                let cufe = self.cufe_text(&history.cufe);
                self.chain(history.first)
                    .enumerate()
                    .map(move |(position, slot)| (cufe.to_owned(), self.render(slot, position)))
            })
            .collect();
        let mut sequences: Vec<(&'static str, u64)> =
            self.next_sequence.iter().map(|(p, n)| (*p, *n)).collect();
        // A HashMap's order changes from process to process; the store's seed fingerprint
        // must not.
        sequences.sort_unstable();
        (events, sequences)
    }

    /// The events of `cufe`, in order.
    pub fn history(&self, cufe: &str) -> Vec<StoredEvent> {
        self.find(CufeKey::of(cufe))
            .map(|history| {
                self.chain(self.histories[history as usize].first)
                    .enumerate()
                    .map(|(position, slot)| StoredEvent {
                        code: slot.code,
                        row: self.render(slot, position),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The events of `cufe` as `historico_eventos` lists them, to serialize while the ledger
    /// is borrowed: the same JSON as [`EventLedger::history`]'s rows, without building each
    /// row's ten strings first.
    pub fn history_rows(&self, cufe: &str) -> HistoryRows<'_> {
        HistoryRows {
            ledger: self,
            first: self
                .find(CufeKey::of(cufe))
                .map(|history| self.histories[history as usize].first),
        }
    }

    /// How many events the ledger holds, all CUFEs together.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the ledger holds no event.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
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
    pub fn record(&mut self, event: NewEvent) -> Result<StoredEvent, RecordError> {
        let history = self.find(CufeKey::of(&event.cufe));
        let existing: Vec<EventCode> = history
            .map(|h| {
                self.chain(self.histories[h as usize].first)
                    .map(|slot| slot.code)
                    .collect()
            })
            .unwrap_or_default();
        let numero = itoa::Buffer::new().format(existing.len() + 1).to_owned();
        let (identificacion_evento, consumed) = match event.identificacion_evento.clone() {
            Some(id) => (id, None),
            None => {
                let (id, consumed) = self.allocate_id(event.code);
                (id, Some(consumed))
            }
        };
        let fecha = datetime_text::DateTime(event.at, ' ').text();
        let cude = event.cude.clone().unwrap_or_else(|| {
            // `fecha` is the date as `Date(…, '-')` writes it, a space, and the time.
            let (fec_emi, time) = fecha.split_once(' ').unwrap_or((&fecha, ""));
            let hor_emi = [time, "-05:00"].concat();
            // Num_DE is the event document's own number, its `identificacion_evento`: unique
            // per event, so two events never share a CUDE (contract note A20).
            cude(&CudeInput {
                num_de: &identificacion_evento,
                fec_emi,
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
        self.append(history, &event.cufe, event.code, &row);
        Ok(StoredEvent {
            code: event.code,
            row,
        })
    }

    /// The position in `histories` of `cufe`'s history, if it has one.
    fn find(&self, cufe: CufeKey<'_>) -> Option<u32> {
        let hash = hash_cufe(&self.hasher, cufe);
        self.index
            .find(hash, |&h| {
                same_cufe(&self.text_cufes, &self.histories[h as usize].cufe, cufe)
            })
            .copied()
    }

    /// The slots of a history, in order, from its first.
    fn chain(&self, first: u32) -> impl Iterator<Item = &Slot> + '_ {
        std::iter::successors(Some(&self.slots[first as usize]), |slot| {
            (slot.next != 0).then(|| &self.slots[slot.next as usize])
        })
    }

    /// The text of a stored CUFE.
    fn cufe_text(&self, cufe: &Cufe) -> String {
        match cufe {
            Cufe::Hex(bytes) => encode_hex(bytes),
            Cufe::Text(position) => self.text_cufes[*position as usize].to_string(),
        }
    }

    /// Adds `row` as the last event of `cufe`, whose history is at `history` (if it has one).
    fn append(&mut self, history: Option<u32>, cufe: &str, code: EventCode, row: &HistoricoEvento) {
        let slot = to_u32(self.slots.len());
        let position = match history {
            Some(h) => {
                let mut last = self.histories[h as usize].first;
                let mut position = 1;
                while self.slots[last as usize].next != 0 {
                    last = self.slots[last as usize].next;
                    position += 1;
                }
                self.slots[last as usize].next = slot;
                position
            }
            None => {
                let key = CufeKey::of(cufe);
                let stored = match key {
                    CufeKey::Hex(bytes) => Cufe::Hex(bytes),
                    CufeKey::Text(text) => {
                        self.text_cufes.push(text.into());
                        Cufe::Text(to_u32(self.text_cufes.len() - 1))
                    }
                };
                let h = to_u32(self.histories.len());
                self.histories.push(History {
                    cufe: stored,
                    first: slot,
                });
                let (hasher, histories, text_cufes) =
                    (&self.hasher, &self.histories, &self.text_cufes);
                self.index.insert_unique(hash_cufe(hasher, key), h, |&h| {
                    hash_cufe(hasher, cufe_key(text_cufes, &histories[h as usize].cufe))
                });
                0
            }
        };
        let row = self.pack(code, position, row);
        self.slots.push(Slot { code, next: 0, row });
    }

    /// `row` packed, when the packed form gives it back exactly; otherwise kept verbatim.
    ///
    /// Each field is checked where it could differ instead of rendering the row again and
    /// comparing (that took a dozen allocations on every recorded event, issue 5): the CUDE
    /// decodes only from lowercase hex and `fecha` parses only from the exact layout, so both
    /// render back as they were; numbers must be written without sign or leading zeros; the
    /// parties are kept as given. Debug builds still render and compare.
    fn pack(&mut self, code: EventCode, position: usize, row: &HistoricoEvento) -> Row {
        let packed = (|| {
            let cude = decode_hex(&row.cude)?;
            let fecha = datetime_text::parse_datetime(&row.fecha, ' ')?
                .and_utc()
                .timestamp();
            let sequence =
                canonical_decimal(row.identificacion_evento.strip_prefix(code.prefix())?)?;
            let renders_back = canonical_decimal::<usize>(&row.numero) == Some(position + 1)
                && row.codigo == code.code()
                && row.descripcion == code.descripcion();
            renders_back.then_some((cude, fecha, sequence))
        })();
        if let Some((cude, fecha, sequence)) = packed {
            let packed = Row::Packed {
                cude,
                fecha,
                sequence,
                emisor: self.intern(&row.emisor_nombre, &row.emisor_identificacion),
                receptor: self.intern(&row.receptor_nombre, &row.receptor_identificacion),
            };
            debug_assert_eq!(self.render_row(code, position, &packed), *row);
            return packed;
        }
        self.verbatim_rows.push(row.clone());
        Row::Verbatim(to_u32(self.verbatim_rows.len() - 1))
    }

    /// The position in `parties` of this party, added if new.
    fn intern(&mut self, nombre: &str, identificacion: &str) -> u32 {
        let hash = self.hasher.hash_one((nombre, identificacion));
        let parties = &self.parties;
        if let Some(&found) = self.party_index.find(hash, |&p| {
            let party = &parties[p as usize];
            party.nombre == nombre && party.identificacion == identificacion
        }) {
            return found;
        }
        let p = to_u32(self.parties.len());
        self.parties.push(EventParty {
            nombre: nombre.to_owned(),
            identificacion: identificacion.to_owned(),
        });
        let (hasher, parties) = (&self.hasher, &self.parties);
        self.party_index.insert_unique(hash, p, |&p| {
            let party = &parties[p as usize];
            hasher.hash_one((party.nombre.as_str(), party.identificacion.as_str()))
        });
        p
    }

    /// The `historico_eventos` row of `slot`, the event at `position` (from 0) of its CUFE.
    fn render(&self, slot: &Slot, position: usize) -> HistoricoEvento {
        self.render_row(slot.code, position, &slot.row)
    }

    fn render_row(&self, code: EventCode, position: usize, row: &Row) -> HistoricoEvento {
        match self.view(code, position, row) {
            RowView::Packed(packed) => HistoricoEvento {
                numero: packed.numero.to_string(),
                codigo: code.code().to_owned(),
                descripcion: code.descripcion().to_owned(),
                fecha: packed.fecha.map(|at| at.to_string()).unwrap_or_default(),
                cude: packed.cude().to_owned(),
                identificacion_evento: packed.identificacion_evento.to_string(),
                emisor_nombre: packed.emisor.nombre.clone(),
                emisor_identificacion: packed.emisor.identificacion.clone(),
                receptor_nombre: packed.receptor.nombre.clone(),
                receptor_identificacion: packed.receptor.identificacion.clone(),
            },
            RowView::Verbatim(row) => row.clone(),
        }
    }

    /// The row of the event at `position` (from 0) of its CUFE, its fields ready to write:
    /// what [`EventLedger::render_row`] and [`HistoryRows`] both write from.
    fn view<'a>(&'a self, code: EventCode, position: usize, row: &'a Row) -> RowView<'a> {
        match row {
            Row::Packed {
                cude,
                fecha,
                sequence,
                emisor,
                receptor,
            } => RowView::Packed(PackedRow {
                numero: position + 1,
                // Packing checked that the seconds give the text back.
                fecha: DateTime::from_timestamp(*fecha, 0)
                    .map(|at| datetime_text::DateTime(at.naive_utc(), ' ')),
                cude: hex_digits(cude),
                identificacion_evento: EventId(code.prefix(), *sequence),
                emisor: &self.parties[*emisor as usize],
                receptor: &self.parties[*receptor as usize],
            }),
            Row::Verbatim(row) => RowView::Verbatim(&self.verbatim_rows[*row as usize]),
        }
    }
}

/// A stored row, ready to write.
enum RowView<'a> {
    Packed(PackedRow<'a>),
    Verbatim(&'a HistoricoEvento),
}

/// The fields of a packed row that are not the code's own (`codigo`, `descripcion`).
struct PackedRow<'a> {
    numero: usize,
    /// `None` only for seconds out of chrono's range, which packing never stores.
    fecha: Option<datetime_text::DateTime>,
    cude: [u8; 96],
    identificacion_evento: EventId,
    emisor: &'a EventParty,
    receptor: &'a EventParty,
}

impl PackedRow<'_> {
    fn cude(&self) -> &str {
        // Only lowercase hex digits were written.
        std::str::from_utf8(&self.cude).unwrap_or_default()
    }
}

/// A CUFE's rows, serialized straight from the ledger ([`EventLedger::history_rows`]). Rows
/// were rendered into `HistoricoEvento`s and then serialized: ten allocations a row on every
/// `historico_eventos` (issue 5). A test checks that both give the same JSON.
#[derive(Debug, Clone, Copy)]
pub struct HistoryRows<'a> {
    ledger: &'a EventLedger,
    first: Option<u32>,
}

impl HistoryList for HistoryRows<'_> {
    fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

impl Serialize for HistoryRows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rows = serializer.serialize_seq(None)?;
        if let Some(first) = self.first {
            for (position, slot) in self.ledger.chain(first).enumerate() {
                rows.serialize_element(&RowRef {
                    ledger: self.ledger,
                    slot,
                    position,
                })?;
            }
        }
        rows.end()
    }
}

/// One stored row, serialized as [`EventLedger::render_row`] would render it.
struct RowRef<'a> {
    ledger: &'a EventLedger,
    slot: &'a Slot,
    position: usize,
}

/// A value written as a JSON string through its `Display`.
struct AsText<T>(T);

impl<T: std::fmt::Display> Serialize for AsText<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// `identificacion_evento`: the code's prefix and the sequence.
struct EventId(&'static str, u32);

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.0, self.1)
    }
}

impl Serialize for RowRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let code = self.slot.code;
        let packed = match self.ledger.view(code, self.position, &self.slot.row) {
            RowView::Packed(packed) => packed,
            RowView::Verbatim(row) => return row.serialize(serializer),
        };
        let mut row = serializer.serialize_struct("HistoricoEvento", 10)?;
        row.serialize_field("numero", &AsText(packed.numero))?;
        row.serialize_field("codigo", code.code())?;
        row.serialize_field("descripcion", code.descripcion())?;
        match packed.fecha {
            Some(at) => row.serialize_field("fecha", &AsText(at))?,
            None => row.serialize_field("fecha", "")?,
        }
        row.serialize_field("cude", packed.cude())?;
        row.serialize_field(
            "identificacion_evento",
            &AsText(&packed.identificacion_evento),
        )?;
        row.serialize_field("emisor_nombre", &packed.emisor.nombre)?;
        row.serialize_field("emisor_identificacion", &packed.emisor.identificacion)?;
        row.serialize_field("receptor_nombre", &packed.receptor.nombre)?;
        row.serialize_field("receptor_identificacion", &packed.receptor.identificacion)?;
        row.end()
    }
}

/// A position in one of the ledger's tables.
fn to_u32(position: usize) -> u32 {
    // 2^32 events would take some 600 GB: the ledger cannot get there in memory first.
    u32::try_from(position).expect("the event ledger holds fewer than 2^32 entries")
}

fn cufe_key<'a>(text_cufes: &'a [Box<str>], cufe: &Cufe) -> CufeKey<'a> {
    match cufe {
        Cufe::Hex(bytes) => CufeKey::Hex(*bytes),
        Cufe::Text(position) => CufeKey::Text(&text_cufes[*position as usize]),
    }
}

fn hash_cufe(hasher: &DefaultHashBuilder, cufe: CufeKey<'_>) -> u64 {
    match cufe {
        CufeKey::Hex(bytes) => hasher.hash_one(bytes),
        CufeKey::Text(text) => hasher.hash_one(text),
    }
}

fn same_cufe(text_cufes: &[Box<str>], stored: &Cufe, key: CufeKey<'_>) -> bool {
    match (stored, key) {
        (Cufe::Hex(stored), CufeKey::Hex(key)) => *stored == key,
        (Cufe::Text(position), CufeKey::Text(key)) => &*text_cufes[*position as usize] == key,
        _ => false,
    }
}

/// A number written as [`ToString`] writes it (digits only, no leading zero); `None` for any
/// other text, which would not render back the same.
fn canonical_decimal<T: std::str::FromStr>(text: &str) -> Option<T> {
    let bytes = text.as_bytes();
    let canonical = !bytes.is_empty()
        && bytes.iter().all(u8::is_ascii_digit)
        && (bytes.len() == 1 || bytes[0] != b'0');
    canonical.then(|| text.parse().ok()).flatten()
}

/// 96 lowercase hex characters as 48 bytes; `None` for anything else.
fn decode_hex(text: &str) -> Option<[u8; 48]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let text = text.as_bytes();
    if text.len() != 96 {
        return None;
    }
    let mut bytes = [0u8; 48];
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(bytes)
}

/// 48 bytes as 96 lowercase hex characters.
fn encode_hex(bytes: &[u8; 48]) -> String {
    String::from_utf8_lossy(&hex_digits(bytes)).into_owned()
}

/// 48 bytes as 96 lowercase hex digits.
fn hex_digits(bytes: &[u8; 48]) -> [u8; 96] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 96];
    for (pair, byte) in text.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0x0f)];
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// The seed's CUFE: 95 characters, so it does not pack.
    const SEED_CUFE: &str = "aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137";

    fn cufe(index: u64) -> String {
        format!("{index:096x}")
    }

    fn party(nombre: &str, identificacion: &str) -> EventParty {
        EventParty {
            nombre: nombre.to_owned(),
            identificacion: identificacion.to_owned(),
        }
    }

    /// An event for `cufe` sent at `second` seconds past 2024-03-05 10:00:00 (and some
    /// nanoseconds, which `fecha` drops), with a computed CUDE and an allocated id.
    fn event(cufe: &str, code: EventCode, second: u32) -> NewEvent {
        let at = NaiveDate::from_ymd_opt(2024, 3, 5)
            .and_then(|d| d.and_hms_nano_opt(10, 0, second, 123_456_789))
            .unwrap();
        NewEvent {
            cufe: cufe.to_owned(),
            code,
            at,
            emisor: party("COMPRADOR SAS", "900123456"),
            receptor: party("VENDEDOR LTDA", "800987654"),
            numero_factura: "FE123".to_owned(),
            software_pin: "12345".to_owned(),
            cude: None,
            identificacion_evento: None,
        }
    }

    fn rows(ledger: &EventLedger, cufe: &str) -> Vec<HistoricoEvento> {
        ledger.history(cufe).into_iter().map(|e| e.row).collect()
    }

    /// Records acuse, recibo and aceptación on `cufe`, one second apart.
    #[test]
    fn export_lists_the_sequences_in_one_order_whatever_the_map_holds() {
        let mut ledger = EventLedger::new(29);
        record_three(&mut ledger, &cufe(7));
        let (_, sequences) = ledger.export();
        assert!(sequences.len() >= 2, "{sequences:?}");
        assert!(sequences.windows(2).all(|w| w[0] <= w[1]), "{sequences:?}");
    }

    fn record_three(ledger: &mut EventLedger, cufe: &str) -> Vec<StoredEvent> {
        [
            EventCode::AcuseRecibo,
            EventCode::ReciboBien,
            EventCode::AceptacionExpresa,
        ]
        .into_iter()
        .zip(0..)
        .map(|(code, second)| ledger.record(event(cufe, code, second)).unwrap())
        .collect()
    }

    #[test]
    fn canonical_events_round_trip_to_the_same_rows() {
        let mut ledger = EventLedger::new(29);
        let recorded = record_three(&mut ledger, &cufe(7));
        let history = ledger.history(&cufe(7));
        assert_eq!(history, recorded);
        assert_eq!(history[0].row.numero, "1");
        assert_eq!(history[0].row.fecha, "2024-03-05 10:00:00");
        assert_eq!(history[0].row.identificacion_evento, "PAR29");
        assert_eq!(history[1].row.identificacion_evento, "PRE29");
        assert_eq!(history[2].row.numero, "3");
        assert_eq!(history[2].row.descripcion, "Aceptación expresa");
        assert_eq!(history[2].row.cude.len(), 96);
        // All packed: nothing kept verbatim, both parties stored once.
        assert!(ledger.verbatim_rows.is_empty());
        assert!(ledger.text_cufes.is_empty());
        assert_eq!(ledger.parties.len(), 2);
        assert_eq!(ledger.len(), 3);
    }

    #[test]
    fn a_non_canonical_row_is_returned_verbatim() {
        let mut ledger = EventLedger::new(1);
        let mut seeded = event(SEED_CUFE, EventCode::AcuseRecibo, 0);
        // Uppercase, and an id whose number has a leading zero: neither packs.
        seeded.cude = Some("E6C2667A".repeat(12));
        seeded.identificacion_evento = Some("PAR029".to_owned());
        let stored = ledger.record(seeded).unwrap();
        let mut verbatim_cude = event(&SEED_CUFE.to_uppercase(), EventCode::AcuseRecibo, 0);
        verbatim_cude.cude = Some("5c21".to_owned());
        let other = ledger.record(verbatim_cude).unwrap();

        assert_eq!(stored.row.cude, "E6C2667A".repeat(12));
        assert_eq!(stored.row.identificacion_evento, "PAR029");
        assert_eq!(rows(&ledger, SEED_CUFE), [stored.row]);
        assert_eq!(rows(&ledger, &SEED_CUFE.to_uppercase()), [other.row]);
        assert_eq!(ledger.text_cufes.len(), 2);
        assert_eq!(ledger.verbatim_rows.len(), 2);
    }

    #[test]
    fn rows_serialize_from_the_ledger_as_the_rendered_rows_do() {
        let mut ledger = EventLedger::new(29);
        // Packed: three events on one CUFE, one on another.
        record_three(&mut ledger, &cufe(7));
        ledger
            .record(event(&cufe(8), EventCode::AcuseRecibo, 59))
            .unwrap();
        // Verbatim: a text CUFE, an uppercase CUDE, a leading zero, quotes and accents.
        let mut seeded = event(SEED_CUFE, EventCode::AcuseRecibo, 0);
        seeded.cude = Some("E6C2667A".repeat(12));
        seeded.identificacion_evento = Some("PAR029".to_owned());
        seeded.emisor = party("ENERGÍA \"S.A.\" \\ Ñ", "9999999");
        ledger.record(seeded).unwrap();
        let mut packed_after_verbatim = event(SEED_CUFE, EventCode::ReciboBien, 1);
        packed_after_verbatim.receptor = party("", "");
        ledger.record(packed_after_verbatim).unwrap();

        for cufe in [cufe(7), cufe(8), SEED_CUFE.to_owned(), cufe(9)] {
            let rendered = serde_json::to_string(&rows(&ledger, &cufe)).unwrap();
            let view = ledger.history_rows(&cufe);
            assert_eq!(serde_json::to_string(&view).unwrap(), rendered, "{cufe}");
            assert_eq!(view.is_empty(), rendered == "[]", "{cufe}");
        }
        assert!(!ledger.verbatim_rows.is_empty());
        assert!(ledger
            .slots
            .iter()
            .any(|slot| matches!(slot.row, Row::Packed { .. })));
    }

    #[test]
    fn a_cufe_in_uppercase_is_another_cufe() {
        let lower = "ab".repeat(48);
        let mut ledger = EventLedger::new(1);
        ledger
            .record(event(&lower, EventCode::AcuseRecibo, 0))
            .unwrap();
        assert_eq!(ledger.history(&lower).len(), 1);
        assert!(ledger.history(&lower.to_uppercase()).is_empty());
        assert!(ledger.history(&lower[..95]).is_empty());
        assert!(ledger.history("").is_empty());
    }

    #[test]
    fn histories_stay_in_order_across_interleaved_cufes() {
        let mut ledger = EventLedger::new(1);
        let cufes = [cufe(1), SEED_CUFE.to_owned(), cufe(2)];
        let codes = [
            EventCode::AcuseRecibo,
            EventCode::ReciboBien,
            EventCode::Reclamo,
        ];
        let mut expected: Vec<Vec<StoredEvent>> = vec![Vec::new(); cufes.len()];
        for (step, code) in codes.into_iter().enumerate() {
            for (which, cufe) in cufes.iter().enumerate() {
                let second = u32::try_from(step * 3 + which).unwrap();
                expected[which].push(ledger.record(event(cufe, code, second)).unwrap());
            }
        }
        for (cufe, expected) in cufes.iter().zip(&expected) {
            let history = ledger.history(cufe);
            assert_eq!(&history, expected, "{cufe}");
            let numeros: Vec<&str> = history.iter().map(|e| e.row.numero.as_str()).collect();
            assert_eq!(numeros, ["1", "2", "3"]);
        }
        assert_eq!(ledger.len(), 9);
        // A refused event leaves the history as it was.
        let refused = ledger.record(event(&cufes[0], EventCode::AceptacionExpresa, 59));
        assert_eq!(
            refused.err().as_ref().and_then(RecordError::rejection),
            Some(&DianRejection::LGC04)
        );
        assert_eq!(ledger.history(&cufes[0]), expected[0]);
    }

    #[test]
    fn export_then_restore_gives_the_same_histories() {
        let mut ledger = EventLedger::new(5);
        for index in 0..4 {
            ledger
                .record(event(&cufe(index), EventCode::AcuseRecibo, 1))
                .unwrap();
        }
        ledger
            .record(event(&cufe(2), EventCode::ReciboBien, 2))
            .unwrap();
        let mut seeded = event(SEED_CUFE, EventCode::AcuseRecibo, 3);
        seeded.cude = Some("5c214161".to_owned());
        ledger.record(seeded).unwrap();

        let (events, sequences) = ledger.export();
        assert_eq!(events.len(), 6);
        let sequences: Vec<(String, u64)> = sequences
            .iter()
            .map(|(p, n)| ((*p).to_owned(), *n))
            .collect();
        let restored = EventLedger::restore(5, events.clone(), &sequences).unwrap();
        for cufe in [cufe(0), cufe(1), cufe(2), cufe(3), SEED_CUFE.to_owned()] {
            assert_eq!(restored.history(&cufe), ledger.history(&cufe), "{cufe}");
        }
        assert_eq!(restored.export().0, events);
        assert_eq!(restored.next_sequence, ledger.next_sequence);
    }

    #[test]
    fn restored_rows_that_break_the_rules_come_back_as_stored() {
        let mut ledger = EventLedger::new(1);
        let row = ledger
            .record(event(&cufe(1), EventCode::AcuseRecibo, 0))
            .unwrap()
            .row;
        // A code without its leading zero, a number out of place, an unparsable date.
        let odd = [
            HistoricoEvento {
                codigo: "30".to_owned(),
                ..row.clone()
            },
            HistoricoEvento {
                numero: "7".to_owned(),
                ..row.clone()
            },
            HistoricoEvento {
                fecha: "2024-03-05T10:00:00".to_owned(),
                ..row.clone()
            },
            HistoricoEvento {
                descripcion: "Acuse".to_owned(),
                ..row.clone()
            },
        ];
        let stored: EventRows = odd.iter().map(|r| (cufe(9), r.clone())).collect();
        let restored = EventLedger::restore(1, stored, &[]).unwrap();
        assert_eq!(rows(&restored, &cufe(9)), odd);
        assert_eq!(restored.verbatim_rows.len(), 4);
    }

    #[test]
    fn an_event_on_its_own_cufe_fits_the_byte_budget() {
        // 1M events on distinct CUFEs within 300 MB: slot + history + index bucket ≤ ~170 B.
        assert!(std::mem::size_of::<Slot>() <= 80);
        assert!(std::mem::size_of::<History>() <= 56);
    }
}
