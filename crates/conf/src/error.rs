//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while loading, reading or writing configuration.
///
/// Every variant names what the operator has to fix: the file and position for a
/// malformed resource, the key and offending value for a bad setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    /// A file or directory could not be read or written.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A configuration resource is not well-formed Hadoop XML.
    #[error("malformed configuration file {resource} at line {line}, column {column}: {message}")]
    Xml {
        resource: String,
        line: u32,
        column: u32,
        message: String,
    },

    /// A known key holds a value that does not parse as its declared type.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: String,
    },

    /// `${var}` expansion did not terminate within Hadoop's bound, which means the
    /// value refers to itself directly or through other keys.
    #[error(
        "variable substitution depth too large ({max}) in {key} = {value:?}: \
         the value refers to itself, directly or through other keys"
    )]
    SubstitutionDepth {
        key: String,
        value: String,
        max: usize,
    },

    /// A key that the requested operation needs has no value.
    #[error("{key} is not set: {hint}")]
    NotSet { key: String, hint: String },

    /// The security settings cannot work together (a Kerberos daemon without its
    /// principal or keytab, a keytab that does not hold the principal, a bad rule).
    #[error("{0}")]
    Security(String),

    /// A `-D` generic option that is not of the form `key=value`.
    #[error("invalid definition {text:?}: expected key=value")]
    BadDefinition { text: String },
}

impl ConfError {
    /// Shorthand used by the typed accessors and validation.
    pub(crate) fn bad_value(key: &str, value: &str, expected: impl Into<String>) -> Self {
        ConfError::BadValue {
            key: key.to_string(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}
