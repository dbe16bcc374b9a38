//! The one error type of the codec. Every malformed or hostile input maps to a variant
//! here; nothing in this crate panics on bytes it reads.

use thiserror::Error;

/// Why reading or writing a data transfer message failed.
#[derive(Debug, Error)]
pub enum DataTransferError {
    /// The underlying stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// The stream ended in the middle of a message.
    #[error("connection closed in the middle of {what}")]
    Truncated {
        /// What was being read.
        what: &'static str,
    },

    /// The peer speaks another version of the protocol.
    #[error("unsupported data transfer version {got} (hafs speaks {expected})")]
    UnsupportedVersion {
        /// The version the peer sent.
        got: u16,
        /// The version hafs speaks.
        expected: u16,
    },

    /// The op code is not one Hadoop defines.
    #[error("unknown data transfer op code {0}")]
    UnknownOp(u8),

    /// A length field is larger than the limit for that field.
    #[error("{what} of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Which length.
        what: &'static str,
        /// The length received (or requested).
        len: u64,
        /// The limit.
        max: u64,
    },

    /// A protobuf message did not decode.
    #[error("malformed {what}: {source}")]
    Decode {
        /// Which message.
        what: &'static str,
        /// The protobuf decoder's reason.
        #[source]
        source: prost::DecodeError,
    },

    /// A packet's length fields contradict each other or its header.
    #[error("invalid packet: {0}")]
    InvalidPacket(String),

    /// A chunk's data does not match its checksum.
    #[error(
        "checksum error at offset {offset}: stored {expected:#010x}, computed {computed:#010x}"
    )]
    ChecksumMismatch {
        /// Offset (in the block, or in the buffer when no base was given) of the first
        /// byte of the first chunk that failed.
        offset: u64,
        /// The checksum that came with the data.
        expected: u32,
        /// The checksum of the data as received.
        computed: u32,
    },

    /// The checksum type or chunk size cannot be used.
    #[error("unsupported checksum: {0}")]
    UnsupportedChecksum(String),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, DataTransferError>;

impl DataTransferError {
    /// Map an `UnexpectedEof` I/O error to [`DataTransferError::Truncated`], keep others.
    pub(crate) fn from_read(err: std::io::Error, what: &'static str) -> Self {
        if err.kind() == std::io::ErrorKind::UnexpectedEof {
            DataTransferError::Truncated { what }
        } else {
            DataTransferError::Io(err)
        }
    }
}
