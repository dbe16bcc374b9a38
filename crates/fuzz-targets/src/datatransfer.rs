//! DataTransfer, the DataNode's streaming protocol: op requests, packets, acks and
//! responses, and the SASL handshake that opens a protected connection.

use hafs_datatransfer::sasl::{read_magic, server_handshake, TokenPasswordLookup};
use hafs_datatransfer::{
    read_ack, read_client_read_status, read_op, read_op_response, read_packet, read_transfer_ack,
    DataChecksum, OpRequest,
};
use hafs_security::block_token::{base64_decode, BlockTokenIdentifier};
use hafs_security::sasl::Qop;

use crate::block_on;

/// Ops or packets looked at per input.
const MAX_MESSAGES: usize = 64;

/// A client's stream to a DataNode's xceiver: op requests one after another; after a
/// WRITE_BLOCK, the packets that follow it, checked against the checksum it asked for.
pub fn datatransfer_op(data: &[u8]) {
    let mut r = data;
    block_on(async {
        for _ in 0..MAX_MESSAGES {
            let Ok(Some(op)) = read_op(&mut r).await else {
                return;
            };
            let token = match &op {
                OpRequest::WriteBlock(m) => m.header.base_header.token.as_ref(),
                OpRequest::ReadBlock(m) => m.header.base_header.token.as_ref(),
                OpRequest::CopyBlock(m) => m.header.token.as_ref(),
                OpRequest::ReplaceBlock(m) => m.header.token.as_ref(),
                OpRequest::BlockChecksum(m) => m.header.token.as_ref(),
                OpRequest::TransferBlock(m) => m.header.base_header.token.as_ref(),
                OpRequest::Unsupported(_) => None,
            };
            if let Some(t) = token {
                let _ = BlockTokenIdentifier::decode(&t.identifier);
            }
            if let OpRequest::WriteBlock(m) = &op {
                let Ok(checksum) = DataChecksum::from_proto(&m.requested_checksum) else {
                    return;
                };
                for _ in 0..MAX_MESSAGES {
                    match read_packet(&mut r).await {
                        Ok(p) => {
                            let _ = p.verify(&checksum);
                            if p.is_last_in_block() {
                                break;
                            }
                        }
                        Err(_) => return,
                    }
                }
            }
        }
    });
}

/// The other messages of the stream, each parser on the whole input: packets (a
/// client reading a block), pipeline acks, op responses, a reader's status, a
/// transfer's ack, and a block's `.meta` file header.
pub fn datatransfer_packet(data: &[u8]) {
    let checksum = DataChecksum::crc32c_default();
    block_on(async {
        let mut r = data;
        for _ in 0..MAX_MESSAGES {
            match read_packet(&mut r).await {
                Ok(p) => {
                    let _ = p.verify(&checksum);
                }
                Err(_) => break,
            }
        }
        let mut r = data;
        for _ in 0..MAX_MESSAGES {
            if read_ack(&mut r).await.is_err() {
                break;
            }
        }
        let _ = read_op_response(&mut &data[..]).await;
        let _ = read_client_read_status(&mut &data[..]).await;
        let _ = read_transfer_ack(&mut &data[..]).await;
    });
    let _ = DataChecksum::from_meta_header(data);
}

/// A client opening a protected connection: the 0xDEADBEEF magic, then its DIGEST-MD5
/// messages, read by the DataNode's side of the handshake (answers go nowhere). The
/// user name is checked as a DataNode does, as a base64 block token identifier.
pub fn datatransfer_sasl(data: &[u8]) {
    let lookup: TokenPasswordLookup = Box::new(|user: &str| {
        let bytes = base64_decode(user).ok_or_else(|| "not base64".to_string())?;
        BlockTokenIdentifier::decode(&bytes).map_err(|e| e.to_string())?;
        Ok(b"fuzz-password".to_vec())
    });
    let qops = [Qop::Privacy, Qop::Integrity, Qop::Authentication];
    block_on(async {
        let mut r = data;
        let mut w = tokio::io::sink();
        if read_magic(&mut r).await.is_ok() {
            let _ = server_handshake(&mut r, &mut w, &qops, lookup).await;
        }
    });
}
