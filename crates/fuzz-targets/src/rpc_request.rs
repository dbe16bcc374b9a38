//! The request message of every method of every protocol hafs serves, decoded by the
//! method table the server dispatches with (so a method added to a table is fuzzed
//! without touching this file).

use std::sync::LazyLock;

use hafs_ipc::{ProtocolService, RpcError};

struct Table {
    protocol: &'static str,
    /// Sorted, so an input picks the same method in every process.
    methods: Vec<&'static str>,
    decode: fn(&str, &[u8]) -> Result<(), RpcError>,
}

fn decode_with<S: ProtocolService>(method: &str, request: &[u8]) -> Result<(), RpcError> {
    S::methods().decode_request(method, request)
}

fn table<S: ProtocolService>() -> Table {
    let mut methods: Vec<&'static str> = S::methods().rows().map(|m| m.name).collect();
    methods.sort_unstable();
    Table {
        protocol: S::methods().protocol(),
        methods,
        decode: decode_with::<S>,
    }
}

/// The servers' protocols: the NameNode's, the JournalNode's, the DataNode's. (The
/// failover controller's ZKFCProtocol lives in hafs-ha, left out to keep this crate
/// off ZooKeeper's client; its two requests are empty messages.)
static TABLES: LazyLock<Vec<Table>> = LazyLock::new(|| {
    vec![
        table::<hafs_namenode::client_protocol::ClientProtocolService>(),
        table::<hafs_namenode::datanode_protocol::DatanodeProtocolService>(),
        table::<hafs_namenode::ha_service::HaServiceProtocolService>(),
        table::<hafs_journal::server::JournalNode>(),
        table::<hafs_datanode::client_datanode::ClientDatanodeService>(),
        table::<hafs_datanode::interdatanode::InterDatanodeService>(),
    ]
});

/// Every method, as (protocol, method), in a fixed order: the seed generator writes one
/// input per method.
pub fn methods() -> Vec<(&'static str, &'static str)> {
    TABLES
        .iter()
        .flat_map(|t| t.methods.iter().map(|m| (t.protocol, *m)))
        .collect()
}

/// Decodes `request` as the server would for a call naming `protocol` and `method`.
pub(crate) fn decode_by_name(protocol: &str, method: &str, request: &[u8]) {
    if let Some(t) = TABLES.iter().find(|t| t.protocol == protocol) {
        let _ = (t.decode)(method, request);
    }
}

/// Input: two bytes choosing a method (the first the protocol, the second the method,
/// both modulo the count), then the encoded request message.
pub fn rpc_request(data: &[u8]) {
    let [p, m, request @ ..] = data else {
        return;
    };
    let t = &TABLES[usize::from(*p) % TABLES.len()];
    let method = t.methods[usize::from(*m) % t.methods.len()];
    let _ = (t.decode)(method, request);
}

/// The two selector bytes that make [`rpc_request`] decode `protocol`.`method`.
pub fn selector(protocol: &str, method: &str) -> Option<[u8; 2]> {
    let p = TABLES.iter().position(|t| t.protocol == protocol)?;
    let m = TABLES[p].methods.iter().position(|n| *n == method)?;
    Some([u8::try_from(p).ok()?, u8::try_from(m).ok()?])
}
