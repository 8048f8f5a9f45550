//! The PHP behaviour behind Afacturar's answers that a JSON Schema engine does not have:
//! `json_decode` (how the `data` field becomes a document), `filter_var(…,
//! FILTER_VALIDATE_URL)` (justinrainbow/json-schema 5.2's `format: uri`) and
//! PCRE's `$`.
//!
//! Each function follows PHP 8.2's C source rule for rule; `tests/contract/php_oracle.rs`
//! compares the whole chain with the PHP library itself.

use serde_json::{Map, Number, Value};

use super::document::Document;

/// `json_decode`'s default depth: a document may nest 511 arrays or objects, the 512th is
/// refused (the scalars inside count as the 512th level).
const PHP_JSON_DEPTH: usize = 512;

/// Why `json_decode` returned `NULL`: the text of PHP's `json_last_error_msg()`, and where the
/// decoder stopped (a byte offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonDecodeError {
    /// `json_last_error_msg()`: `Syntax error`, `Maximum stack depth exceeded` …
    pub message: &'static str,
    /// Byte offset of the token that failed.
    pub offset: usize,
}

const SYNTAX: &str = "Syntax error";
const DEPTH: &str = "Maximum stack depth exceeded";
const CTRL_CHAR: &str = "Control character error, possibly incorrectly encoded";
const UTF16: &str = "Single unpaired UTF-16 surrogate in unicode escape";
const PROPERTY_NAME: &str = "The decoded property name is invalid";
const UTF8: &str = "Malformed UTF-8 characters, possibly incorrectly encoded";

/// `json_decode($text)` (objects as `stdClass`, depth 512), as a [`Value`].
///
/// PHP's types carried over: an integer that does not fit in 64 bits is a float, `-0` is the
/// integer 0 (while `-0.0` is a float), and a float beyond the `f64` range is `INF` — which a
/// JSON value cannot hold, so it is represented by `f64::MAX` (`-INF` by `f64::MIN`): both are
/// floats that no schema of the contract accepts, and no message quotes them
/// (`docs/contract-notes.md`, A35).
pub fn json_decode(text: &str) -> Result<Value, JsonDecodeError> {
    json_decode_bytes(text.as_bytes())
}

/// [`json_decode`] of bytes as PHP receives them: a PHP string is bytes, and its scanner
/// checks UTF-8 itself. A byte that starts no UTF-8 sequence (`FF`, an overlong `C0 AF`, a
/// UTF-16 surrogate written as UTF-8 `ED A0 80`, a truncated or lone continuation byte) is
/// `Malformed UTF-8 characters, possibly incorrectly encoded`, wherever it is; a valid
/// non-ASCII character outside a string (a byte order mark first of all) is `Syntax error`
/// (contract note A48).
pub fn json_decode_bytes(bytes: &[u8]) -> Result<Value, JsonDecodeError> {
    match json_decode_bounded(bytes, usize::MAX) {
        Ok(value) => Ok(value),
        Err(Bounded::Refused(error)) => Err(error),
        // No document holds `usize::MAX` values.
        Err(Bounded::TooManyValues) => Err(syntax(bytes.len())),
    }
}

/// Why [`json_decode_bounded`] returned no document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bounded {
    /// The text read so far already holds more than the bound's values, counted as
    /// [`json_value_bound`](super::json_value_bound) counts them.
    TooManyValues,
    /// `json_decode` refuses the text before the bound was passed.
    Refused(JsonDecodeError),
}

/// [`json_decode_bytes`], stopping as soon as the text read holds more than `max_values`
/// values by [`json_value_bound`](super::json_value_bound)'s count (one, plus each `[`, `{`,
/// `,` and `:` outside strings): the bound is counted while decoding, where a separate pass
/// over the text cost a fifth as much as decoding it. A text the decoder refuses is not
/// counted to its end: whoever needs its whole count takes it.
pub(super) fn json_decode_bounded(bytes: &[u8], max_values: usize) -> Result<Value, Bounded> {
    let mut parser = Parser {
        bytes,
        // Checked once: then the runs of a string are slices of it, not checked one by one.
        text: std::str::from_utf8(bytes).ok(),
        pos: 0,
        depth: 0,
        structural_left: max_values.saturating_sub(1),
        too_many: false,
    };
    let decoded = parser.token().and_then(|first| {
        let value = parser.value(first)?;
        match parser.token()? {
            (Token::End, _) => Ok(value),
            (_, offset) => Err(syntax(offset)),
        }
    });
    decoded.map_err(|error| {
        if parser.too_many {
            Bounded::TooManyValues
        } else {
            Bounded::Refused(error)
        }
    })
}

/// [`json_decode_bytes`] by serde_json, for the texts serde_json reads as PHP does, as a
/// [`Document`]; `None` for the others, which [`json_decode_bounded`] decides: a text
/// serde_json refuses (its errors are not PHP's, and it stops at 128 levels where PHP goes to
/// 511), a float (PHP's `zend_strtod` rounds every literal exactly, serde_json's default
/// parser is not exact on long ones, and it reads `-0` as a float where PHP has the integer
/// 0), an integer beyond 64 signed bits (a float in PHP), a property name starting with NUL
/// (PHP refuses it), a repeated property name (which a [`Document`] does not hold).
/// On the seed's `data` it costs 13.5k instructions, where serde_json's `Value` of it cost 21k
/// and the decoder here more (callgrind on `serve`); a test compares the two on generated
/// texts.
/// It takes text: serde_json refuses any byte that is not UTF-8, and text checked once (by the
/// form, which has it as text already) is read as slices, not checked string by string (a
/// fifth of decoding an event's `data`).
pub(super) fn json_decode_plain(text: &str) -> Option<Document> {
    Document::parse_php(text)
}

fn syntax(offset: usize) -> JsonDecodeError {
    JsonDecodeError {
        message: SYNTAX,
        offset,
    }
}

#[derive(Debug)]
enum Token {
    End,
    BeginObject,
    EndObject,
    BeginArray,
    EndArray,
    Colon,
    Comma,
    Value(Value),
    String(String),
}

/// An array or object being read: its items, or its members and the key of the member whose
/// value is being read.
enum Open {
    Array(Vec<Value>),
    Object(Map<String, Value>, String, usize),
}

struct Parser<'a> {
    bytes: &'a [u8],
    /// `bytes`, when they are UTF-8 throughout.
    text: Option<&'a str>,
    pos: usize,
    depth: usize,
    /// How many more `[`, `{`, `,` and `:` the value bound allows.
    structural_left: usize,
    /// Whether decoding stopped because the bound was passed.
    too_many: bool,
}

/// The bytes that end a run of ordinary characters in a string: `"`, `\` and controls.
const ENDS_RUN: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

impl Parser<'_> {
    /// The next token, as PHP's re2c scanner cuts it: a malformed token is an error of its
    /// own kind (control character, lone surrogate …) before the grammar sees it.
    fn token(&mut self) -> Result<(Token, usize), JsonDecodeError> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&byte) = self.bytes.get(start) else {
            return Ok((Token::End, start));
        };
        let error = |message| JsonDecodeError {
            message,
            offset: start,
        };
        self.pos += 1;
        if let b'{' | b'[' | b':' | b',' = byte {
            if self.structural_left == 0 {
                self.too_many = true;
                return Err(error(SYNTAX));
            }
            self.structural_left -= 1;
        }
        let token = match byte {
            b'{' => Token::BeginObject,
            b'}' => Token::EndObject,
            b'[' => Token::BeginArray,
            b']' => Token::EndArray,
            b':' => Token::Colon,
            b',' => Token::Comma,
            b'"' => Token::String(self.string()?),
            b'-' | b'0'..=b'9' => Token::Value(self.number(start)?),
            b't' | b'f' | b'n' => {
                let rest = &self.bytes[start..];
                let (word, value) = if rest.starts_with(b"true") {
                    ("true", Value::Bool(true))
                } else if rest.starts_with(b"false") {
                    ("false", Value::Bool(false))
                } else if rest.starts_with(b"null") {
                    ("null", Value::Null)
                } else {
                    return Err(error(SYNTAX));
                };
                self.pos = start + word.len();
                Token::Value(value)
            }
            0x00..=0x1f => return Err(error(CTRL_CHAR)),
            // PHP's scanner: a whole UTF-8 character is a token the grammar refuses, anything
            // else is not UTF-8 at all.
            0x80.. if utf8_char_len(&self.bytes[start..]).is_none() => return Err(error(UTF8)),
            _ => return Err(error(SYNTAX)),
        };
        Ok((token, start))
    }

    fn number(&mut self, start: usize) -> Result<Value, JsonDecodeError> {
        let digits = |parser: &mut Self| {
            let from = parser.pos;
            while parser.bytes.get(parser.pos).is_some_and(u8::is_ascii_digit) {
                parser.pos += 1;
            }
            parser.pos - from
        };
        let mut pos = start;
        if self.bytes[pos] == b'-' {
            pos += 1;
        }
        match self.bytes.get(pos) {
            Some(b'0') => self.pos = pos + 1,
            Some(b'1'..=b'9') => {
                self.pos = pos;
                digits(self);
            }
            _ => return Err(syntax(start)),
        }
        let mut is_double = false;
        if self.bytes.get(self.pos) == Some(&b'.')
            && self.bytes.get(self.pos + 1).is_some_and(u8::is_ascii_digit)
        {
            self.pos += 1;
            digits(self);
            is_double = true;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            let mark = self.pos;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                // Not an exponent: the number ends before the `e`, which is then a bad token.
                self.pos = mark;
            } else {
                is_double = true;
            }
        }
        // ASCII digits, signs, `.` and `e` only: always UTF-8.
        let literal =
            std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|_| syntax(start))?;
        if !is_double {
            // PHP keeps an integer that fits in 64 bits (`-0` is 0) and makes a float of one
            // that does not.
            if let Ok(int) = literal.parse::<i64>() {
                return Ok(Value::Number(Number::from(int)));
            }
        }
        let float: f64 = literal.parse().map_err(|_| syntax(start))?;
        Ok(Value::Number(php_float(float)))
    }

    fn string(&mut self) -> Result<String, JsonDecodeError> {
        let mut out = String::new();
        loop {
            let at = self.pos;
            let error = |message| JsonDecodeError {
                message,
                offset: at,
            };
            // PHP's scanner reads the string's terminating NUL as a control character.
            let Some(&byte) = self.bytes.get(at) else {
                return Err(error(CTRL_CHAR));
            };
            match byte {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let escape = self.bytes.get(at + 1).copied();
                    self.pos = at + 2;
                    let simple = match escape {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let unit = self.hex4(at + 2).ok_or_else(|| error(SYNTAX))?;
                            self.pos = at + 6;
                            let c = match unit {
                                0xd800..=0xdbff => {
                                    let low = (self.bytes.get(at + 6) == Some(&b'\\')
                                        && self.bytes.get(at + 7) == Some(&b'u'))
                                    .then(|| self.hex4(at + 8))
                                    .flatten()
                                    .filter(|low| (0xdc00..=0xdfff).contains(low))
                                    .ok_or_else(|| error(UTF16))?;
                                    self.pos = at + 12;
                                    let code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                                    char::from_u32(code).ok_or_else(|| error(UTF16))?
                                }
                                0xdc00..=0xdfff => return Err(error(UTF16)),
                                _ => char::from_u32(unit).ok_or_else(|| error(SYNTAX))?,
                            };
                            out.push(c);
                            continue;
                        }
                        _ => return Err(error(SYNTAX)),
                    };
                    out.push(simple);
                }
                0x00..=0x1f => return Err(error(CTRL_CHAR)),
                _ => {
                    // Copy the run of ordinary characters at once, checked as UTF-8 as PHP's
                    // scanner checks it: the first byte that starts no character is the error.
                    let end = self.bytes[at..]
                        .iter()
                        .position(|&b| ENDS_RUN[usize::from(b)])
                        .map_or(self.bytes.len(), |n| at + n);
                    // A run ends at an ASCII byte (or the end), so it is a slice of `text`.
                    let run = match self.text.and_then(|text| text.get(at..end)) {
                        Some(run) => Ok(run),
                        None => std::str::from_utf8(&self.bytes[at..end]),
                    };
                    match run {
                        Ok(run) => out.push_str(run),
                        Err(bad) => {
                            return Err(JsonDecodeError {
                                message: UTF8,
                                offset: at + bad.valid_up_to(),
                            })
                        }
                    }
                    self.pos = end;
                }
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        digits.iter().try_fold(0u32, |acc, &b| {
            let digit = (b as char).to_digit(16)?;
            Some(acc * 16 + digit)
        })
    }

    /// The value that starts with `first`. Iterative (an explicit stack of open arrays and
    /// objects), so that 511 levels need no deep recursion.
    fn value(&mut self, first: (Token, usize)) -> Result<Value, JsonDecodeError> {
        let mut stack: Vec<Open> = Vec::new();
        let (mut token, mut offset) = first;
        loop {
            let mut value = match token {
                Token::Value(value) => value,
                Token::String(string) => Value::String(string),
                Token::BeginArray => {
                    self.enter(offset)?;
                    let next = self.token()?;
                    if let Token::EndArray = next.0 {
                        self.depth -= 1;
                        Value::Array(Vec::new())
                    } else {
                        stack.push(Open::Array(Vec::new()));
                        (token, offset) = next;
                        continue;
                    }
                }
                Token::BeginObject => {
                    self.enter(offset)?;
                    let next = self.token()?;
                    if let Token::EndObject = next.0 {
                        self.depth -= 1;
                        Value::Object(Map::new())
                    } else {
                        let (key, key_at) = self.member_key(next)?;
                        stack.push(Open::Object(Map::new(), key, key_at));
                        (token, offset) = self.token()?;
                        continue;
                    }
                }
                _ => return Err(syntax(offset)),
            };
            // `value` is complete: add it to the containers it closes, up to one that goes on.
            loop {
                match stack.last_mut() {
                    None => return Ok(value),
                    Some(Open::Array(items)) => {
                        items.push(value);
                        match self.token()? {
                            (Token::Comma, _) => {
                                (token, offset) = self.token()?;
                                break;
                            }
                            (Token::EndArray, _) => {
                                let Some(Open::Array(items)) = stack.pop() else {
                                    return Err(syntax(offset));
                                };
                                self.depth -= 1;
                                value = Value::Array(items);
                            }
                            (_, at) => return Err(syntax(at)),
                        }
                    }
                    Some(Open::Object(map, key, key_at)) => {
                        // An object (not an array) cannot have a property whose name starts
                        // with NUL; PHP says so as soon as the member is complete.
                        if key.starts_with('\0') {
                            return Err(JsonDecodeError {
                                message: PROPERTY_NAME,
                                offset: *key_at,
                            });
                        }
                        // A repeated key keeps its first place and takes the last value, as
                        // a PHP object property does.
                        map.insert(std::mem::take(key), value);
                        match self.token()? {
                            (Token::Comma, _) => {
                                let next = self.token()?;
                                (*key, *key_at) = self.member_key(next)?;
                                (token, offset) = self.token()?;
                                break;
                            }
                            (Token::EndObject, _) => {
                                let Some(Open::Object(map, ..)) = stack.pop() else {
                                    return Err(syntax(offset));
                                };
                                self.depth -= 1;
                                value = Value::Object(map);
                            }
                            (_, at) => return Err(syntax(at)),
                        }
                    }
                }
            }
        }
    }

    /// A member's key and its colon.
    fn member_key(
        &mut self,
        (token, offset): (Token, usize),
    ) -> Result<(String, usize), JsonDecodeError> {
        let Token::String(key) = token else {
            return Err(syntax(offset));
        };
        match self.token()? {
            (Token::Colon, _) => Ok((key, offset)),
            (_, at) => Err(syntax(at)),
        }
    }

    /// One more array or object level: PHP refuses the 512th as soon as it opens.
    fn enter(&mut self, offset: usize) -> Result<(), JsonDecodeError> {
        self.depth += 1;
        if self.depth >= PHP_JSON_DEPTH {
            return Err(JsonDecodeError {
                message: DEPTH,
                offset,
            });
        }
        Ok(())
    }
}

/// The length of the UTF-8 character `bytes` starts with, if it starts with one (the
/// definition PHP's JSON scanner uses, which is Unicode's: no overlongs, no surrogates,
/// nothing past U+10FFFF).
fn utf8_char_len(bytes: &[u8]) -> Option<usize> {
    let len = match bytes.first()? {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    std::str::from_utf8(bytes.get(..len)?).ok().map(|_| len)
}

/// A PHP float as a JSON number: `INF` and `-INF` (which JSON cannot hold) become the largest
/// finite floats (see [`json_decode`]).
fn php_float(float: f64) -> Number {
    let finite = if float.is_finite() {
        float
    } else if float > 0.0 {
        f64::MAX
    } else {
        f64::MIN
    };
    Number::from_f64(finite).unwrap_or_else(|| Number::from(0))
}

/// `preg_match('#' . $pattern . '#u', $subject)` where the engine's ECMA-262 match failed: a
/// PCRE `$` (no `D` modifier) also matches before a final newline, so a subject ending in
/// `\n` matches when the pattern matches the subject without it. Valid for patterns whose
/// `$` anchors the end only, as every pattern of the contract does.
pub fn pcre_matches_before_final_newline(pattern: &str, subject: &str) -> bool {
    let Some(stripped) = subject.strip_suffix('\n') else {
        return false;
    };
    // Compiled once per pattern: a document can hold a thousand such values, and compiling
    // costs far more than matching. The contract's patterns are few; others are not kept.
    type Cache = std::sync::Mutex<std::collections::HashMap<String, Option<regex::Regex>>>;
    static COMPILED: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let cache = COMPILED.get_or_init(Cache::default);
    let mut compiled = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let regex = match compiled.get(pattern) {
        Some(regex) => regex.clone(),
        None => {
            let regex = regex::Regex::new(pattern).ok();
            if compiled.len() < 64 {
                compiled.insert(pattern.to_owned(), regex.clone());
            }
            regex
        }
    };
    drop(compiled);
    regex.is_some_and(|re| re.is_match(stripped))
}

/// `filter_var($value, FILTER_VALIDATE_URL) !== false` (PHP 8.2, `ext/filter`), for a string.
pub fn filter_validate_url(value: &str) -> bool {
    // FILTER_SANITIZE_URL first: a URL with any character it would remove is refused.
    const KEPT: &[u8] = b"$-_.+!*'(),{}|\\^~[]`<>#%\";/?:@&=";
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || KEPT.contains(&b))
    {
        return false;
    }
    let Some(url) = parse_url(value.as_bytes()) else {
        return false;
    };
    let Some(scheme) = url.scheme else {
        return false;
    };
    let is_web = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    if is_web {
        let Some(host) = url.host else {
            return false;
        };
        // A bracketed IPv6 address is a valid host; the user info is still checked below.
        let bracketed = host.len() >= 2 && host[0] == b'[' && host[host.len() - 1] == b']';
        let ipv6 = bracketed && validate_ipv6(&host[1..host.len() - 1]);
        if !ipv6 && !validate_hostname(host) {
            return false;
        }
    }
    if url.host.is_none() && !matches!(scheme, b"mailto" | b"news" | b"file") {
        return false;
    }
    url.user.is_none_or(userinfo_valid) && url.pass.is_none_or(userinfo_valid)
}

#[derive(Debug, Default)]
struct Url<'a> {
    scheme: Option<&'a [u8]>,
    user: Option<&'a [u8]>,
    pass: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
}

fn rfind(slice: &[u8], byte: u8) -> Option<usize> {
    slice.iter().rposition(|&b| b == byte)
}

fn find(slice: &[u8], byte: u8) -> Option<usize> {
    slice.iter().position(|&b| b == byte)
}

/// C's `strtol(s, &end, 10)` on a port: the value and whether any digit was read.
fn strtol(s: &[u8]) -> (i64, bool) {
    let mut i = 0;
    while s
        .get(i)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'))
    {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let from = i;
    let mut n: i64 = 0;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    (if negative { -n } else { n }, i > from)
}

/// `php_url_parse_ex2` (ext/standard/url.c), the parts `FILTER_VALIDATE_URL` looks at.
fn parse_url(str: &[u8]) -> Option<Url<'_>> {
    let mut url = Url::default();
    let ue = str.len();
    let mut s = 0;
    let mut has_port = false;
    let is_scheme_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-');
    let relative_scheme = |s: usize| s + 1 < ue && str[s] == b'/' && str[s + 1] == b'/';

    enum Next {
        Port(usize),
        Host,
        Path,
    }
    let next = match find(str, b':') {
        Some(e) if e != 0 => {
            if let Some(_bad) = str[..e].iter().position(|&b| !is_scheme_char(b)) {
                let question = find(str, b'?').unwrap_or(ue);
                if e + 1 < ue && e < question {
                    Next::Port(e)
                } else if relative_scheme(s) {
                    s += 2;
                    Next::Host
                } else {
                    Next::Path
                }
            } else if e + 1 == ue {
                // Only a scheme.
                url.scheme = Some(&str[..e]);
                return Some(url);
            } else if str[e + 1] != b'/' {
                // `a.com:80` is a host and a port, `mailto:x` a scheme and a path.
                let mut p = e + 1;
                while p < ue && str[p].is_ascii_digit() {
                    p += 1;
                }
                if (p == ue || str[p] == b'/') && p - e < 7 {
                    Next::Port(e)
                } else {
                    url.scheme = Some(&str[..e]);
                    s = e + 1;
                    Next::Path
                }
            } else {
                url.scheme = Some(&str[..e]);
                if e + 2 < ue && str[e + 2] == b'/' {
                    s = e + 3;
                    if str[..e].eq_ignore_ascii_case(b"file") && e + 3 < ue && str[e + 3] == b'/' {
                        if e + 5 < ue && str[e + 5] == b':' {
                            s = e + 4;
                        }
                        Next::Path
                    } else {
                        Next::Host
                    }
                } else {
                    s = e + 1;
                    Next::Path
                }
            }
        }
        Some(e) => Next::Port(e),
        None if relative_scheme(s) => {
            s += 2;
            Next::Host
        }
        None => Next::Path,
    };
    let to_host = match next {
        Next::Path => false,
        Next::Host => true,
        Next::Port(e) => {
            let p = e + 1;
            let mut pp = p;
            while pp < ue && pp - p < 6 && str[pp].is_ascii_digit() {
                pp += 1;
            }
            if pp - p > 0 && pp - p < 6 && (pp == ue || str[pp] == b'/') {
                let (port, read) = strtol(&str[p..pp]);
                if (0..=65535).contains(&port) && read {
                    has_port = true;
                    if relative_scheme(s) {
                        s += 2;
                    }
                    true
                } else {
                    return None;
                }
            } else if p == pp && pp == ue {
                return None;
            } else if relative_scheme(s) {
                s += 2;
                true
            } else {
                false
            }
        }
    };
    if to_host {
        let e = s + str[s..]
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(ue - s);
        if let Some(at) = rfind(&str[s..e], b'@').map(|i| s + i) {
            match find(&str[s..at], b':').map(|i| s + i) {
                Some(colon) => {
                    url.user = Some(&str[s..colon]);
                    url.pass = Some(&str[colon + 1..at]);
                }
                None => url.user = Some(&str[s..at]),
            }
            s = at + 1;
        }
        let colon = if s < ue && str[s] == b'[' && e > 0 && str[e - 1] == b']' {
            None
        } else {
            rfind(&str[s.min(e)..e], b':').map(|i| s + i)
        };
        let host_end = match colon {
            Some(p) => {
                if !has_port {
                    let digits = &str[p + 1..e];
                    if digits.len() > 5 {
                        return None;
                    }
                    if !digits.is_empty() {
                        let (port, read) = strtol(digits);
                        if !((0..=65535).contains(&port) && read) {
                            return None;
                        }
                    }
                }
                p
            }
            None => e,
        };
        if host_end <= s {
            return None;
        }
        url.host = Some(&str[s..host_end]);
    }
    Some(url)
}

/// `_php_filter_validate_domain(…, FILTER_FLAG_HOSTNAME)`.
fn validate_hostname(domain: &[u8]) -> bool {
    let mut l = domain.len();
    if l > 0 && domain[l - 1] == b'.' {
        l -= 1;
    }
    if l > 253 {
        return false;
    }
    let at = |i: usize| domain.get(i).copied().unwrap_or(0);
    if at(0) == b'.' || !at(0).is_ascii_alphanumeric() {
        return false;
    }
    let mut label = 1;
    for (i, &c) in domain.iter().enumerate().take(l) {
        if c == b'.' {
            if at(i + 1) == b'.'
                || i == 0
                || !at(i - 1).is_ascii_alphanumeric()
                || !at(i + 1).is_ascii_alphanumeric()
            {
                return false;
            }
            label = 1;
        } else {
            if label > 63 || (c != b'-' && !c.is_ascii_alphanumeric()) {
                return false;
            }
            label += 1;
        }
    }
    true
}

/// `is_userinfo_valid` (ext/filter): unreserved and sub-delimiter characters, `:`, and `%`
/// followed by a decimal digit and a hex digit.
fn userinfo_valid(s: &[u8]) -> bool {
    const VALID: &[u8] = b"-._~!$&'()*+,;=:";
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_alphanumeric() || VALID.contains(&c) {
            i += 1;
        } else if c == b'%'
            && i + 3 <= s.len()
            && s[i + 1].is_ascii_digit()
            && s[i + 2].is_ascii_hexdigit()
        {
            i += 3;
        } else {
            return false;
        }
    }
    true
}

/// `_php_filter_validate_ipv4`: four decimal parts 0–255 without leading zeros.
fn validate_ipv4(s: &[u8]) -> bool {
    let mut i = 0;
    let mut parts = 0;
    while i < s.len() {
        if !s[i].is_ascii_digit() {
            return false;
        }
        let leading_zero = s[i] == b'0';
        let mut digits = 1;
        let mut num = u32::from(s[i] - b'0');
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            num = num * 10 + u32::from(s[i] - b'0');
            digits += 1;
            i += 1;
            if num > 255 || digits > 3 {
                return false;
            }
        }
        if leading_zero && (num != 0 || digits > 1) {
            return false;
        }
        parts += 1;
        if parts == 4 {
            return i == s.len();
        }
        if i >= s.len() || s[i] != b'.' {
            return false;
        }
        i += 1;
    }
    false
}

/// `_php_filter_validate_ipv6`.
fn validate_ipv6(str: &[u8]) -> bool {
    if find(str, b':').is_none() {
        return false;
    }
    let mut len = str.len();
    let mut blocks = 0;
    if let Some(dot) = find(str, b'.') {
        let mut v4 = dot;
        while v4 > 0 && str[v4 - 1] != b':' {
            v4 -= 1;
        }
        if !validate_ipv4(&str[v4..]) {
            return false;
        }
        len = v4;
        if len < 2 {
            return false;
        }
        if str[v4 - 2] != b':' {
            len -= 1;
        }
        blocks = 2;
    }
    let mut compressed = false;
    let mut i = 0;
    while i < len {
        if str[i] == b':' {
            i += 1;
            if i >= len {
                return false;
            }
            if str[i] == b':' {
                if compressed {
                    return false;
                }
                compressed = true;
                blocks += 1;
                i += 1;
                if i == len {
                    return blocks <= 8;
                }
            } else if i - 1 == 0 {
                return false;
            }
        }
        let mut n = 0;
        while i < len && str[i].is_ascii_hexdigit() {
            n += 1;
            i += 1;
        }
        if !(1..=4).contains(&n) {
            return false;
        }
        blocks += 1;
        if blocks > 8 {
            return false;
        }
    }
    (compressed && blocks <= 8) || blocks == 8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Number literals where PHP and serde_json part ways, and plain ones.
    const NUMBERS: [&str; 16] = [
        "0",
        "-0",
        "-0.0",
        "7",
        "-12",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "1e400",
        "-1e-400",
        "1.5",
        "0.1000000000000000055511151231257827",
        "1E2",
        "123456789012345678901234567890",
    ];

    /// Strings, property names included, with escapes, NUL and non-ASCII characters.
    fn string_literal() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
            Just(r#""\u0000a""#.to_owned()),
            Just(r#""\ud83d\ude00""#.to_owned()),
            Just(r#""\ud800""#.to_owned()),
            Just("\"a\tb\"".to_owned()),
            Just(r#""cufe""#.to_owned()),
        ]
    }

    /// JSON texts (mostly well-formed) built from those pieces, with PHP's whitespace.
    fn text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            proptest::sample::select(&NUMBERS[..]).prop_map(str::to_owned),
            string_literal(),
            Just("true".to_owned()),
            Just("null".to_owned()),
            Just("nul".to_owned()),
        ];
        leaf.prop_recursive(5, 40, 4, |inner| {
            let space = proptest::sample::select(vec!["", " ", "\n\t", "\r\n  "]);
            prop_oneof![
                (
                    proptest::collection::vec(inner.clone(), 0..4),
                    space.clone()
                )
                    .prop_map(|(items, space)| format!("[{space}{}]", items.join(","))),
                (
                    proptest::collection::vec((string_literal(), inner), 0..4),
                    space
                )
                    .prop_map(|(members, space)| {
                        let members: Vec<String> = members
                            .into_iter()
                            .map(|(key, value)| format!("{space}{key}{space}:{value}"))
                            .collect();
                        format!("{{{}}}", members.join(","))
                    }),
            ]
        })
    }

    proptest! {
        #[test]
        fn what_serde_json_decodes_on_phps_behalf_php_decodes_alike(text in text()) {
            if let Some(plain) = json_decode_plain(&text) {
                let php = json_decode(&text);
                prop_assert!(php.is_ok(), "PHP refuses {text}: {php:?}");
                // The text form tells integers from floats and keeps the members' order.
                prop_assert_eq!(
                    serde_json::to_string(&plain.root().to_value()).unwrap(),
                    serde_json::to_string(&php.unwrap()).unwrap()
                );
            }
        }
    }

    #[test]
    fn serde_json_decodes_a_plain_document_and_leaves_the_others_to_php() {
        let document = include_str!(
            "../../fixtures/afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json"
        );
        assert!(json_decode_plain(document).is_some());
        for text in [
            "-0",
            "1.5",
            "9223372036854775808",
            r#"{"\u0000a":1}"#,
            r#"{"a":1,"a":2}"#,
            "\u{feff}{}",
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
        ] {
            assert!(json_decode_plain(text).is_none(), "{text}");
        }
    }

    #[test]
    fn json_decode_keeps_phps_number_types() {
        assert_eq!(json_decode("-0").unwrap(), Value::from(0));
        assert!(json_decode("-0.0").unwrap().is_f64());
        assert!(json_decode("9223372036854775807").unwrap().is_i64());
        assert!(json_decode("9223372036854775808").unwrap().is_f64());
        assert!(json_decode("-9223372036854775808").unwrap().is_i64());
        assert_eq!(json_decode("1e400").unwrap().as_f64(), Some(f64::MAX));
    }

    #[test]
    fn json_decode_reports_phps_error_messages() {
        let message = |text: &str| json_decode(text).unwrap_err().message;
        assert_eq!(message(""), SYNTAX);
        assert_eq!(message("[1,]"), SYNTAX);
        assert_eq!(message("TRUE"), SYNTAX);
        assert_eq!(message("[1 \"\t\"]"), CTRL_CHAR);
        assert_eq!(message("\"abc"), CTRL_CHAR);
        assert_eq!(message("[1]\0"), CTRL_CHAR);
        assert_eq!(message(r#""\ud800\u0041""#), UTF16);
        assert_eq!(message(r#"{"\u0000a":1"#), PROPERTY_NAME);
        assert_eq!(message(&"[".repeat(512)), DEPTH);
        assert!(json_decode(&format!("{}{}", "[".repeat(511), "]".repeat(511))).is_ok());
    }

    #[test]
    fn json_decode_checks_utf8_as_phps_scanner_does() {
        let message = |bytes: &[u8]| json_decode_bytes(bytes).unwrap_err().message;
        assert_eq!(message(b"\xef\xbb\xbf{}"), SYNTAX);
        assert_eq!(message("€".as_bytes()), SYNTAX);
        for bytes in [
            &b"\xff\xfe{\x00}\x00"[..],
            b"[\"\xff\"]",
            b"[\"\xc0\xaf\"]",
            b"[\"\xed\xa0\x80\"]",
            b"[\"\xf4\x90\x80\x80\"]",
            b"[\"\x80\"]",
            b"[\"\xe2\x82\"]",
            b"[\"\xf0\x9f\x98",
            b"[1, \xff]",
        ] {
            assert_eq!(message(bytes), UTF8, "{}", bytes.escape_ascii());
        }
        // The grammar refuses `]` before the scanner reaches the byte after it.
        assert_eq!(message(b"]\xff"), SYNTAX);
        assert_eq!(
            json_decode_bytes("[\"ñ€😀\u{feff}\u{fffe}\"]".as_bytes()).unwrap(),
            serde_json::json!(["ñ€😀\u{feff}\u{fffe}"])
        );
    }

    proptest! {
        #[test]
        fn a_string_of_any_bytes_decodes_exactly_when_it_is_utf8(
            pieces in proptest::collection::vec(
                prop_oneof![
                    any::<char>().prop_map(|c| c.to_string().into_bytes()),
                    any::<u8>().prop_map(|b| vec![b]),
                ],
                0..12,
            )
        ) {
            // Quotes, backslashes and control characters are the scanner's other business.
            let plain: Vec<u8> = pieces
                .concat()
                .into_iter()
                .filter(|&b| b >= 0x20 && b != b'"' && b != b'\\')
                .collect();
            let document = [&b"[\""[..], &plain, b"\"]"].concat();
            match std::str::from_utf8(&plain) {
                Ok(text) => prop_assert_eq!(
                    json_decode_bytes(&document).unwrap(),
                    serde_json::json!([text])
                ),
                Err(_) => prop_assert_eq!(json_decode_bytes(&document).unwrap_err().message, UTF8),
            }
        }
    }

    #[test]
    fn filter_var_accepts_and_refuses_urls_as_php_does() {
        for url in [
            "https://ejemplo.com/a|b",
            "https://ejemplo.com/{x}",
            "https://ejemplo.com/%zz",
            "https://ejemplo.com/#a#b",
            "https://[::1]/x",
            "https://u:p@ejemplo.com:443/",
        ] {
            assert!(filter_validate_url(url), "{url}");
        }
        for url in [
            "https://",
            "https://ejemplo_x.com",
            "https://ejemplo.com:65536/",
            "https://-ejemplo.com",
            "https://u{@[::1]/",
            "https:///ruta",
            "https:ejemplo.com",
            "https://ejemplo.com/ a",
            "ejemplo.com",
        ] {
            assert!(!filter_validate_url(url), "{url}");
        }
    }
}
