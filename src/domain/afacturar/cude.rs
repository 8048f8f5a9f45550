//! DIAN's event CUDE and the NIT check digit (`docs/provider-facts.md`, "CUFE and
//! CUDE" and "Colombian identification").

use sha2::{Digest, Sha384};

/// The nine fields whose plain concatenation, in this order, is hashed into an event's CUDE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CudeInput<'a> {
    /// `Num_DE`: the event number.
    pub num_de: &'a str,
    /// `Fec_Emi`: the event's date, `yyyy-mm-dd`.
    pub fec_emi: &'a str,
    /// `Hor_Emi`: the event's time with its offset, `hh:mm:ss-05:00`.
    pub hor_emi: &'a str,
    /// `NitFE`: the sender's NIT, without check digit.
    pub nit_fe: &'a str,
    /// `DocAdq`: the receiver's document number.
    pub doc_adq: &'a str,
    /// `ResponseCode`: the event code, `030` …
    pub response_code: &'a str,
    /// `ID`: the invoice number, prefix included (`FE123`).
    pub id: &'a str,
    /// `DocumentTypeCode`: `01` for the electronic sales invoice.
    pub document_type_code: &'a str,
    /// `SoftwarePIN`: the PIN of the software that signs the event.
    pub software_pin: &'a str,
}

impl CudeInput<'_> {
    /// The string that is hashed: the fields joined with no separator.
    pub fn concatenated(&self) -> String {
        [
            self.num_de,
            self.fec_emi,
            self.hor_emi,
            self.nit_fe,
            self.doc_adq,
            self.response_code,
            self.id,
            self.document_type_code,
            self.software_pin,
        ]
        .concat()
    }
}

/// SHA-384 of `text` as 96 lowercase hex characters, the way DIAN writes CUFE and CUDE.
pub fn sha384_hex(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha384::digest(text.as_bytes());
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// An event's CUDE: SHA-384 of the fields' concatenation, 96 lowercase hex characters.
pub fn cude(input: &CudeInput<'_>) -> String {
    sha384_hex(&input.concatenated())
}

/// DIAN's weights for the NIT check digit, applied from the rightmost digit leftwards.
const NIT_WEIGHTS: [u32; 15] = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71];

/// The NIT's check digit (dígito de verificación), or `None` when `nit` is empty, holds
/// anything but ASCII digits, or is longer than the 15 digits DIAN has weights for.
pub fn nit_check_digit(nit: &str) -> Option<u8> {
    if nit.is_empty() || nit.len() > NIT_WEIGHTS.len() {
        return None;
    }
    let mut sum = 0u32;
    for (byte, weight) in nit.bytes().rev().zip(NIT_WEIGHTS) {
        if !byte.is_ascii_digit() {
            return None;
        }
        sum += u32::from(byte - b'0') * weight;
    }
    // r is below 11, so both branches fit in a u8.
    let r = u8::try_from(sum % 11).ok()?;
    Some(if r <= 1 { r } else { 11 - r })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_INPUT: &str = "12019-04-3019:48:50-05:0099998888800197268030FE1230111111";
    const VECTOR_CUDE: &str = "0d91ba25b01f5e7dbda870a11b274501d3a62a73e91932c473c86c93f12a142a2ac45876efcde3e679024a01c0be41f9";

    /// DIAN's test vector split into its fields: the NIT is `99998888` (8 digits, so that
    /// `800197268` follows it) and the PIN is `11111`.
    fn vector_fields() -> CudeInput<'static> {
        CudeInput {
            num_de: "1",
            fec_emi: "2019-04-30",
            hor_emi: "19:48:50-05:00",
            nit_fe: "99998888",
            doc_adq: "800197268",
            response_code: "030",
            id: "FE123",
            document_type_code: "01",
            software_pin: "11111",
        }
    }

    #[test]
    fn the_raw_dian_test_vector_hashes_to_its_published_cude() {
        assert_eq!(sha384_hex(VECTOR_INPUT), VECTOR_CUDE);
    }

    #[test]
    fn the_split_fields_concatenate_back_to_the_dian_test_vector() {
        assert_eq!(vector_fields().concatenated(), VECTOR_INPUT);
    }

    #[test]
    fn cude_of_the_split_fields_is_the_dian_test_vector_cude() {
        assert_eq!(cude(&vector_fields()), VECTOR_CUDE);
    }

    #[test]
    fn a_cude_is_96_lowercase_hex_characters() {
        let value = cude(&CudeInput {
            num_de: "2",
            ..vector_fields()
        });
        assert_eq!(value.len(), 96);
        assert!(value
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_ne!(value, VECTOR_CUDE);
    }

    #[test]
    fn the_check_digit_of_830020470_is_5() {
        assert_eq!(nit_check_digit("830020470"), Some(5));
    }

    #[test]
    fn the_check_digit_of_800197268_is_4() {
        assert_eq!(nit_check_digit("800197268"), Some(4));
    }

    #[test]
    fn the_check_digit_of_901002487_is_0() {
        assert_eq!(nit_check_digit("901002487"), Some(0));
    }

    #[test]
    fn a_nit_with_non_digits_has_no_check_digit() {
        assert_eq!(nit_check_digit("830020470-5"), None);
        assert_eq!(nit_check_digit("83002047a"), None);
        assert_eq!(nit_check_digit(" 830020470"), None);
        assert_eq!(nit_check_digit("８３０"), None);
    }

    #[test]
    fn an_empty_nit_has_no_check_digit() {
        assert_eq!(nit_check_digit(""), None);
    }

    #[test]
    fn a_nit_longer_than_15_digits_has_no_check_digit() {
        assert!(nit_check_digit("123456789012345").is_some());
        assert_eq!(nit_check_digit("1234567890123456"), None);
    }
}
