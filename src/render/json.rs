//! JSON text written piece by piece, for the answers sent on every request of an operation
//! (a `saldos`, an event's success): serde_json's serializer costs a call chain per key and
//! per value, which was about a sixth of a `saldos` in process (`cargo xtask budget`). The
//! bytes are those serde_json writes for the same value: each body written here has a test
//! that compares the two on generated values.

use crate::domain::datetime_text::DateTime;

/// A JSON text being written: fixed fragments (keys, punctuation) as they are, strings
/// escaped as serde_json escapes them, numbers as serde_json writes them.
#[derive(Debug)]
pub struct JsonText {
    bytes: Vec<u8>,
}

impl JsonText {
    /// An empty text with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> JsonText {
        JsonText {
            bytes: Vec::with_capacity(capacity),
        }
    }

    /// `fragment` as it is: it must be JSON already (`{"key":`, `,`, `}`).
    pub fn raw(&mut self, fragment: &str) -> &mut JsonText {
        self.bytes.extend_from_slice(fragment.as_bytes());
        self
    }

    /// `value` as a JSON string, quotes included.
    pub fn string(&mut self, value: &str) -> &mut JsonText {
        if !needs_escape(value.as_bytes()) {
            self.bytes.push(b'"');
            self.bytes.extend_from_slice(value.as_bytes());
            self.bytes.push(b'"');
        } else {
            self.serialized(value);
        }
        self
    }

    /// A date and time as a JSON string, as [`DateTime`]'s `serialize` writes it.
    pub fn datetime(&mut self, value: DateTime) -> &mut JsonText {
        match value.ascii() {
            Some(text) => {
                self.bytes.push(b'"');
                self.bytes.extend_from_slice(&text);
                self.bytes.push(b'"');
            }
            None => self.serialized(&value.to_string()),
        }
        self
    }

    /// An unsigned integer.
    pub fn unsigned(&mut self, value: u64) -> &mut JsonText {
        self.bytes
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self
    }

    /// A float, as serde_json writes it (`null` when it is not finite).
    pub fn float(&mut self, value: f64) -> &mut JsonText {
        self.serialized(&value);
        self
    }

    fn serialized(&mut self, value: &(impl serde::Serialize + ?Sized)) {
        // Writing a string or a float into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.bytes, value);
    }

    /// The text.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Whether serde_json escapes any byte of `bytes`: `"`, `\\` and the controls below 0x20,
/// nothing else. From 16 bytes on, eight bytes are tested at a time as one `u64` (an event's
/// URL and CUDE are long): the compiler's vectoriser did not keep this loop within a chunk.
fn needs_escape(bytes: &[u8]) -> bool {
    let escaped = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    if bytes.len() < 16 {
        return bytes.iter().any(|&b| escaped(b));
    }
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether a byte of `word` is below `n`, exact for `n` up to 0x80: a byte below `n` sets
    // its top bit when `n` is subtracted (its distance to `n` is at most 0x80), a byte at or
    // above `n` only after a lower byte borrowed, which takes a byte below `n`; bytes with the
    // top bit already set are masked.
    let any_below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS != 0;
    let (words, rest) = bytes.as_chunks::<8>();
    words.iter().any(|&word| {
        let word = u64::from_ne_bytes(word);
        any_below(word, 0x20)
            || any_below(word ^ (ONES * u64::from(b'"')), 1)
            || any_below(word ^ (ONES * u64::from(b'\\')), 1)
    }) || rest.iter().any(|&b| escaped(b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn strings_and_numbers_are_written_as_serde_json_writes_them(
            text in any::<String>(),
            unsigned in any::<u64>(),
            float in any::<f64>(),
        ) {
            let mut ours = JsonText::with_capacity(0);
            ours.raw("[").string(&text).raw(",").unsigned(unsigned).raw(",").float(float).raw("]");
            let theirs = serde_json::to_vec(&(text, unsigned, float)).unwrap();
            prop_assert_eq!(ours.into_bytes(), theirs);
        }

        #[test]
        fn a_string_is_escaped_wherever_its_one_escape_falls(
            plain in "[^\"\\\\\\x00-\\x1f]{0,100}",
            escape in prop::sample::select(vec!['"', '\\', '\n', '\u{1f}', 'x']),
            at in any::<prop::sample::Index>(),
        ) {
            let mut text = plain;
            let boundaries: Vec<usize> =
                text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            text.insert(boundaries[at.index(boundaries.len())], escape);
            let mut ours = JsonText::with_capacity(0);
            ours.string(&text);
            prop_assert_eq!(ours.into_bytes(), serde_json::to_vec(&text).unwrap());
        }
    }
}
