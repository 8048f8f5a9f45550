//! Errors rendered as one line, for the places that must hold a `String` rather than an
//! error: messages folded into another error's text, and log fields.
//!
//! The crate's errors follow one rule: an error either writes its source into its own message
//! or exposes it through `source()`, never both (otherwise `main.rs`'s `{:#}`, which walks the
//! chain, prints the cause twice). So `to_string()` alone drops the cause of an error with a
//! source; [`chain`] keeps it.

use std::error::Error;
use std::fmt::Write as _;

/// `error` and each of its sources, joined by `": "` — what `anyhow`'s `{:#}` prints.
pub(crate) fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read x")]
    struct Outer {
        source: std::io::Error,
    }

    #[test]
    fn the_chain_names_each_cause_once() {
        let error = Outer {
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(chain(&error), "cannot read x: gone");
    }
}
