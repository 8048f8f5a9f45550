//! The clock the providers answer by: the real one, or frozen for reproducible answers; and the
//! providers' local times (Colombia for Afacturar, Mexico City for Sovos).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

/// Colombia's offset: UTC−5, no daylight saving.
const COLOMBIA: i32 = -5 * 3600;
/// Mexico City's offset: UTC−6, no daylight saving since 2022.
const MEXICO: i32 = -6 * 3600;

/// The clock: the real one, or frozen at a configured moment.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    /// The real clock (`None`), or one frozen at `fixed`.
    pub fn new(fixed: Option<DateTime<Utc>>) -> Clock {
        Clock { fixed }
    }

    /// Now, in UTC.
    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
    }

    fn local(&self, offset_seconds: i32) -> NaiveDateTime {
        // Both offsets are constants well inside chrono's ±24 h range.
        #[allow(clippy::expect_used)]
        let offset = FixedOffset::east_opt(offset_seconds).expect("a valid offset");
        self.now().with_timezone(&offset).naive_local()
    }

    /// Now in Colombia (Afacturar's dates).
    pub fn colombia(&self) -> NaiveDateTime {
        self.local(COLOMBIA)
    }

    /// Now in Mexico City (Sovos's dates).
    pub fn mexico(&self) -> NaiveDateTime {
        self.local(MEXICO)
    }
}
