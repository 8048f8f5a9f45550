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
/// nothing else. Long strings (an event's URL, its CUDE) are checked 16 bytes at a time
/// without an early exit, which the compiler turns into vector compares; a byte at a time
/// stays cheaper for the short ones.
fn needs_escape(bytes: &[u8]) -> bool {
    let escaped = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    if bytes.len() < 32 {
        return bytes.iter().any(|&b| escaped(b));
    }
    let (chunks, rest) = bytes.as_chunks::<16>();
    let mut lanes = [false; 16];
    for chunk in chunks {
        for (lane, &b) in lanes.iter_mut().zip(chunk) {
            *lane |= escaped(b);
        }
    }
    lanes.contains(&true) || rest.iter().any(|&b| escaped(b))
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
            plain in "[ -~&&[^\"\\\\]]{0,100}",
            escape in prop::sample::select(vec!['"', '\\', '\n', '\u{1f}', 'x']),
            at in any::<prop::sample::Index>(),
        ) {
            let mut text = plain;
            text.insert(at.index(text.len() + 1), escape);
            let mut ours = JsonText::with_capacity(0);
            ours.string(&text);
            prop_assert_eq!(ours.into_bytes(), serde_json::to_vec(&text).unwrap());
        }
    }
}
