//! Direct HAServiceProtocol calls from the harness (`org.apache.hadoop.ha.HAServiceProtocol`
//! on a NameNode's client RPC port), for querying a NameNode's HA state quickly and for
//! the transitions the harness itself needs. Tests of the admin command use
//! `hafs haadmin` instead (see [`crate::MiniCluster::haadmin`]).
//!
//! The requests are tiny and fixed, so they are written as protobuf bytes here rather
//! than through generated types: this keeps the harness independent of the
//! `ha_service.proto` build and makes the wire bytes explicit.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::{next_call_id, ClientConfig, RpcClient};

/// Hadoop's protocol name for HAServiceProtocol.
pub const HA_SERVICE_PROTOCOL: &str = "org.apache.hadoop.ha.HAServiceProtocol";

/// `HAStateChangeRequestInfoProto { reqSource = REQUEST_BY_USER (0) }` wrapped as field 1
/// (`reqInfo`) of TransitionToActive/StandbyRequestProto.
const REQ_INFO_BY_USER: [u8; 4] = [0x0a, 0x02, 0x08, 0x00];
/// The same with `REQUEST_BY_USER_FORCED (1)`.
const REQ_INFO_BY_USER_FORCED: [u8; 4] = [0x0a, 0x02, 0x08, 0x01];

/// How long a transition may take (a transition to Active replays the log tail).
const TRANSITION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a state query may take: a paused (SIGSTOP) NameNode accepts the
/// connection in the kernel but never answers.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// A NameNode's HA state as `getServiceStatus` reports it, in Hadoop's lower-case words.
pub fn ha_state_name(code: u64) -> &'static str {
    match code {
        0 => "initializing",
        1 => "active",
        2 => "standby",
        3 => "observer",
        _ => "unknown",
    }
}

/// Calls `method` on the HAServiceProtocol at `addr` with a raw request body; returns
/// the raw response or the error text (remote exception class and message included).
/// Gives up after `timeout`.
pub fn ha_call(
    addr: SocketAddr,
    method: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let cfg = ClientConfig {
        connect_timeout: timeout.min(Duration::from_secs(2)),
        call_timeout: timeout,
        // The NameNode's superuser is the OS user that runs it, as the harness does.
        ..ClientConfig::new(crate::paths::current_user())
    };
    let client = RpcClient::new(addr.to_string(), HA_SERVICE_PROTOCOL, cfg);
    let body = Bytes::copy_from_slice(body);
    rt.block_on(async {
        match tokio::time::timeout(
            timeout + Duration::from_secs(1),
            client.call_raw(method, body, next_call_id(), 0),
        )
        .await
        {
            Ok(Ok(resp)) => Ok(resp.to_vec()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("{method} to {addr}: no answer in {timeout:?}")),
        }
    })
}

/// `getServiceStatus`: the state's name ("active", "standby", ...).
pub fn get_service_state(addr: SocketAddr) -> Result<&'static str, String> {
    let resp = ha_call(addr, "getServiceStatus", &[], QUERY_TIMEOUT)?;
    // GetServiceStatusResponseProto: field 1 (state) is a varint enum, tag byte 0x08.
    let code = first_varint_field(&resp, 1)
        .ok_or_else(|| format!("getServiceStatus from {addr}: no state in {resp:02x?}"))?;
    Ok(ha_state_name(code))
}

/// `transitionToActive` as a user request (`forced`: REQUEST_BY_USER_FORCED, which a
/// NameNode under automatic failover accepts).
pub fn transition_to_active(addr: SocketAddr, forced: bool) -> Result<(), String> {
    let body = if forced {
        REQ_INFO_BY_USER_FORCED
    } else {
        REQ_INFO_BY_USER
    };
    ha_call(addr, "transitionToActive", &body, TRANSITION_TIMEOUT).map(|_| ())
}

/// `transitionToStandby` as a user request.
pub fn transition_to_standby(addr: SocketAddr, forced: bool) -> Result<(), String> {
    let body = if forced {
        REQ_INFO_BY_USER_FORCED
    } else {
        REQ_INFO_BY_USER
    };
    ha_call(addr, "transitionToStandby", &body, TRANSITION_TIMEOUT).map(|_| ())
}

/// The value of the first varint field numbered `field` in a protobuf message, skipping
/// other fields; `None` if absent or the bytes are malformed.
fn first_varint_field(msg: &[u8], field: u64) -> Option<u64> {
    let mut pos = 0;
    while pos < msg.len() {
        let key = read_varint(msg, &mut pos)?;
        let (number, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => {
                let v = read_varint(msg, &mut pos)?;
                if number == field {
                    return Some(v);
                }
            }
            1 => pos = pos.checked_add(8)?,
            2 => {
                let len = usize::try_from(read_varint(msg, &mut pos)?).ok()?;
                pos = pos.checked_add(len)?;
            }
            5 => pos = pos.checked_add(4)?,
            _ => return None,
        }
    }
    None
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    // At most 10 bytes encode a u64.
    for shift in 0..10 {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << (7 * shift);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_state_field_among_others() {
        // readyToBecomeActive (2) = true, then state (1) = STANDBY.
        assert_eq!(first_varint_field(&[0x10, 0x01, 0x08, 0x02], 1), Some(2));
        // notReadyReason (3) = "ab", then state = ACTIVE.
        assert_eq!(
            first_varint_field(&[0x1a, 0x02, b'a', b'b', 0x08, 0x01], 1),
            Some(1)
        );
        assert_eq!(first_varint_field(&[], 1), None);
        assert_eq!(first_varint_field(&[0x08], 1), None);
        assert_eq!(first_varint_field(&[0x1a, 0x7f], 1), None);
        assert_eq!(ha_state_name(1), "active");
        assert_eq!(ha_state_name(2), "standby");
    }
}
