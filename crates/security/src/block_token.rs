//! Block access tokens (Hadoop's `BlockTokenIdentifier`, `BlockKey`,
//! `BlockTokenSecretManager`, `ExportedBlockKeys`).
//!
//! The NameNode signs, for every located block it hands out, an identifier naming the
//! user, the block and the access modes, with a short-lived block key; the DataNode,
//! which holds the same keys (sent in the registration reply and in KeyUpdateCommands),
//! recomputes the password and checks the identifier before serving a byte.
//!
//! The identifier is Hadoop's legacy Writable form, which both the Java client (it
//! decodes the identifier to find the block pool and expiry) and hdfs-native parse:
//!
//! ```text
//! vlong expiryDate | vint keyId | string userId | string blockPoolId | vlong blockId
//! | vint n, n × Text AccessMode name | vint n, n × Text StorageType name
//! | vint n, n × string storageId | [vint len, handshakeSecret bytes]
//! ```
//!
//! where `string` is `WritableUtils.writeString` (int32 length, -1 for null, then UTF-8)
//! and `Text` is a vint length then UTF-8. The handshake secret is written only when
//! non-empty. The password is HMAC-SHA1 of the identifier bytes with the block key.
//!
//! In HA each NameNode draws key ids from its own range (`nnIndex × (i32::MAX /
//! numNNs)`, Hadoop's `intRange`), so a DataNode can hold the keys of both at once.

use std::collections::BTreeMap;
use std::fmt;

use hmac::{KeyInit, Mac};

/// The token kind Hadoop gives block tokens.
pub const BLOCK_TOKEN_KIND: &str = "HDFS_BLOCK_TOKEN";
/// The largest identifier decoded: a real one is ~200 bytes (more with storage ids).
pub const MAX_IDENTIFIER_LEN: usize = 16 * 1024;
/// Block keys are this many random bytes.
const KEY_LEN: usize = 64;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// Why a token was refused or could not be decoded. The messages are Hadoop's
/// `InvalidToken` texts so operators find the same words in both implementations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockTokenError {
    #[error("malformed block token identifier: {0}")]
    Malformed(String),
    #[error("{0}")]
    InvalidToken(String),
}

/// What a token lets its holder do to a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessMode {
    Read,
    Write,
    Copy,
    Replace,
}

impl AccessMode {
    pub fn name(self) -> &'static str {
        match self {
            AccessMode::Read => "READ",
            AccessMode::Write => "WRITE",
            AccessMode::Copy => "COPY",
            AccessMode::Replace => "REPLACE",
        }
    }

    fn from_name(s: &str) -> Option<AccessMode> {
        Some(match s {
            "READ" => AccessMode::Read,
            "WRITE" => AccessMode::Write,
            "COPY" => AccessMode::Copy,
            "REPLACE" => AccessMode::Replace,
            _ => return None,
        })
    }
}

impl fmt::Display for AccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The fields of a block token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockTokenIdentifier {
    /// Milliseconds since the epoch.
    pub expiry_date: i64,
    pub key_id: i32,
    pub user_id: String,
    pub block_pool_id: String,
    pub block_id: i64,
    pub modes: Vec<AccessMode>,
    /// Storage type names (`DISK`, …); hafs issues none.
    pub storage_types: Vec<String>,
    pub storage_ids: Vec<String>,
    pub handshake_secret: Vec<u8>,
}

impl fmt::Display for BlockTokenIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let modes: Vec<&str> = self.modes.iter().map(|m| m.name()).collect();
        write!(
            f,
            "block_token_identifier (expiryDate={}, keyId={}, userId={}, blockPoolId={}, blockId={}, access modes=[{}], storageTypes= [{}], storageIds= [{}])",
            self.expiry_date,
            self.key_id,
            self.user_id,
            self.block_pool_id,
            self.block_id,
            modes.join(", "),
            self.storage_types.join(", "),
            self.storage_ids.join(", ")
        )
    }
}

// ---------------------------------------------------------------- Writable codec

fn put_vlong(out: &mut Vec<u8>, v: i64) {
    // Hadoop's WritableUtils.writeVLong: one byte for -112..=127, else a length/sign
    // byte and the big-endian magnitude (one's complement when negative).
    if (-112..=127).contains(&v) {
        out.push(v as i8 as u8);
        return;
    }
    let (mut len, mag) = if v < 0 { (-120i32, !v) } else { (-112i32, v) };
    let mut tmp = mag;
    while tmp != 0 {
        tmp >>= 8;
        len -= 1;
    }
    out.push(len as i8 as u8);
    let n = if len < -120 {
        -(len + 120)
    } else {
        -(len + 112)
    };
    for idx in (0..n).rev() {
        out.push((mag >> (idx * 8)) as u8);
    }
}

fn put_int_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as i32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    put_vlong(out, s.len() as i64);
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn bad(what: &str) -> BlockTokenError {
        BlockTokenError::Malformed(what.to_string())
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], BlockTokenError> {
        if n > self.buf.len() {
            return Err(Self::bad(&format!("{what} runs past the end")));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn vlong(&mut self, what: &str) -> Result<i64, BlockTokenError> {
        let first = self.take(1, what)?[0] as i8;
        if first >= -112 {
            return Ok(first as i64);
        }
        let negative = first < -120;
        let n = if negative {
            -119 - first as i32
        } else {
            -111 - first as i32
        } as usize;
        let bytes = self.take(n - 1, what)?;
        let mut v: i64 = 0;
        for &b in bytes {
            v = (v << 8) | b as i64;
        }
        Ok(if negative { !v } else { v })
    }

    fn vint(&mut self, what: &str) -> Result<i32, BlockTokenError> {
        let v = self.vlong(what)?;
        i32::try_from(v).map_err(|_| Self::bad(&format!("{what} {v} out of int range")))
    }

    fn count(&mut self, what: &str) -> Result<usize, BlockTokenError> {
        let n = self.vint(what)?;
        // Every element takes at least one byte: a count above what is left is a lie.
        if n < 0 || n as usize > self.buf.len() {
            return Err(Self::bad(&format!("{what} count {n}")));
        }
        Ok(n as usize)
    }

    fn utf8(bytes: &[u8], what: &str) -> Result<String, BlockTokenError> {
        String::from_utf8(bytes.to_vec()).map_err(|_| Self::bad(&format!("{what} is not UTF-8")))
    }

    fn int_string(&mut self, what: &str) -> Result<String, BlockTokenError> {
        let len = i32::from_be_bytes(self.take(4, what)?.try_into().unwrap_or([0; 4]));
        if len == -1 {
            return Ok(String::new()); // Java's null
        }
        if len < 0 {
            return Err(Self::bad(&format!("{what} length {len}")));
        }
        let bytes = self.take(len as usize, what)?;
        Self::utf8(bytes, what)
    }

    fn text(&mut self, what: &str) -> Result<String, BlockTokenError> {
        let len = self.count(what)?;
        let bytes = self.take(len, what)?;
        Self::utf8(bytes, what)
    }
}

impl BlockTokenIdentifier {
    /// The legacy Writable bytes (what the password signs and the token carries).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.block_pool_id.len() + self.user_id.len());
        put_vlong(&mut out, self.expiry_date);
        put_vlong(&mut out, self.key_id as i64);
        put_int_string(&mut out, &self.user_id);
        put_int_string(&mut out, &self.block_pool_id);
        put_vlong(&mut out, self.block_id);
        put_vlong(&mut out, self.modes.len() as i64);
        for m in &self.modes {
            put_text(&mut out, m.name());
        }
        put_vlong(&mut out, self.storage_types.len() as i64);
        for t in &self.storage_types {
            put_text(&mut out, t);
        }
        put_vlong(&mut out, self.storage_ids.len() as i64);
        for s in &self.storage_ids {
            put_int_string(&mut out, s);
        }
        if !self.handshake_secret.is_empty() {
            put_vlong(&mut out, self.handshake_secret.len() as i64);
            out.extend_from_slice(&self.handshake_secret);
        }
        out
    }

    /// Decodes the legacy Writable form. The trailing sections (modes, storage types,
    /// storage ids, handshake secret) may be absent, as in identifiers from older
    /// Hadoop versions. Any bad length or unknown mode is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<BlockTokenIdentifier, BlockTokenError> {
        if bytes.is_empty() {
            return Err(Reader::bad("empty identifier"));
        }
        if bytes.len() > MAX_IDENTIFIER_LEN {
            return Err(Reader::bad(&format!("{} bytes", bytes.len())));
        }
        let mut r = Reader { buf: bytes };
        let mut id = BlockTokenIdentifier {
            expiry_date: r.vlong("expiryDate")?,
            key_id: r.vint("keyId")?,
            user_id: r.int_string("userId")?,
            block_pool_id: r.int_string("blockPoolId")?,
            block_id: r.vlong("blockId")?,
            ..Default::default()
        };
        if !r.buf.is_empty() {
            for _ in 0..r.count("access modes")? {
                let name = r.text("access mode")?;
                let mode = AccessMode::from_name(&name)
                    .ok_or_else(|| Reader::bad(&format!("unknown access mode '{name}'")))?;
                id.modes.push(mode);
            }
        }
        if !r.buf.is_empty() {
            for _ in 0..r.count("storage types")? {
                id.storage_types.push(r.text("storage type")?);
            }
        }
        if !r.buf.is_empty() {
            for _ in 0..r.count("storage ids")? {
                id.storage_ids.push(r.int_string("storage id")?);
            }
        }
        if !r.buf.is_empty() {
            let n = r.count("handshake secret")?;
            id.handshake_secret = r.take(n, "handshake secret")?.to_vec();
        }
        if !r.buf.is_empty() {
            return Err(Reader::bad(&format!("{} trailing bytes", r.buf.len())));
        }
        Ok(id)
    }
}

/// HMAC-SHA1 of the identifier bytes with the block key (Hadoop's
/// `SecretManager.createPassword`).
pub fn token_password(identifier: &[u8], key: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(identifier);
    mac.finalize().into_bytes().to_vec()
}

/// Compares without an early exit, so a forger learns nothing from timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A block token as carried on the wire (`TokenProto` with kind `HDFS_BLOCK_TOKEN`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockToken {
    pub identifier: Vec<u8>,
    pub password: Vec<u8>,
}

impl BlockToken {
    pub fn is_empty(&self) -> bool {
        self.identifier.is_empty()
    }
}

/// One block key: an id, when it stops being accepted, and the HMAC key.
#[derive(Clone, PartialEq, Eq)]
pub struct BlockKey {
    pub key_id: i32,
    /// Milliseconds since the epoch.
    pub expiry_date: i64,
    pub key: Vec<u8>,
}

impl fmt::Debug for BlockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key bytes.
        write!(
            f,
            "BlockKey(keyId={}, expiryDate={})",
            self.key_id, self.expiry_date
        )
    }
}

/// What a NameNode sends its DataNodes (`ExportedBlockKeysProto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedBlockKeys {
    pub enabled: bool,
    pub key_update_interval_ms: u64,
    pub token_lifetime_ms: u64,
    pub current_key: BlockKey,
    pub all_keys: Vec<BlockKey>,
}

/// Hadoop's `BlockTokenSecretManager`: the master (NameNode) generates and rolls keys;
/// a slave (DataNode) only receives them, but both check and generate tokens.
pub struct BlockTokenSecretManager {
    master: bool,
    key_update_interval_ms: i64,
    token_lifetime_ms: i64,
    /// This NameNode's key id range: `[range_start, range_start + range_len)`.
    range_start: i32,
    range_len: i32,
    serial_no: i32,
    current_key: Option<BlockKey>,
    next_key: Option<BlockKey>,
    all_keys: BTreeMap<i32, BlockKey>,
}

fn random_key() -> Vec<u8> {
    let mut key = vec![0u8; KEY_LEN];
    // The OS generator failing is not something to limp on with a weak key.
    getrandom::fill(&mut key).expect("the OS random generator failed");
    key
}

impl BlockTokenSecretManager {
    /// A NameNode's manager: `nn_index` of `num_nns` picks its key id range; keys are
    /// generated at once (current and next) as of `now_ms`.
    pub fn new_master(
        key_update_interval_ms: i64,
        token_lifetime_ms: i64,
        nn_index: usize,
        num_nns: usize,
        now_ms: i64,
    ) -> BlockTokenSecretManager {
        let num_nns = num_nns.max(1) as i32;
        let range_len = i32::MAX / num_nns;
        let range_start = range_len * (nn_index as i32).clamp(0, num_nns - 1);
        let mut seed = [0u8; 4];
        getrandom::fill(&mut seed).expect("the OS random generator failed");
        let mut m = BlockTokenSecretManager {
            master: true,
            key_update_interval_ms,
            token_lifetime_ms,
            range_start,
            range_len,
            serial_no: 0,
            current_key: None,
            next_key: None,
            all_keys: BTreeMap::new(),
        };
        m.set_serial_no((u32::from_be_bytes(seed) & 0x7fff_ffff) as i32);
        m.generate_keys(now_ms);
        m
    }

    /// A DataNode's manager: no keys until [`add_keys`](Self::add_keys).
    pub fn new_slave(key_update_interval_ms: i64, token_lifetime_ms: i64) -> Self {
        BlockTokenSecretManager {
            master: false,
            key_update_interval_ms,
            token_lifetime_ms,
            range_start: 0,
            range_len: i32::MAX,
            serial_no: 0,
            current_key: None,
            next_key: None,
            all_keys: BTreeMap::new(),
        }
    }

    fn set_serial_no(&mut self, n: i32) {
        self.serial_no = n.rem_euclid(self.range_len) + self.range_start;
    }

    fn next_serial(&mut self) -> i32 {
        let n = self.serial_no.wrapping_add(1).max(0);
        self.set_serial_no(n);
        self.serial_no
    }

    fn generate_keys(&mut self, now: i64) {
        let (i, l) = (self.key_update_interval_ms, self.token_lifetime_ms);
        let id = self.next_serial();
        let current = BlockKey {
            key_id: id,
            expiry_date: now + 2 * i + l,
            key: random_key(),
        };
        let id = self.next_serial();
        let next = BlockKey {
            key_id: id,
            expiry_date: now + 3 * i + l,
            key: random_key(),
        };
        self.all_keys.insert(current.key_id, current.clone());
        self.all_keys.insert(next.key_id, next.clone());
        self.current_key = Some(current);
        self.next_key = Some(next);
    }

    /// The key ids this manager may generate (for tests and logs).
    pub fn key_id_range(&self) -> std::ops::Range<i64> {
        self.range_start as i64..self.range_start as i64 + self.range_len as i64
    }

    pub fn current_key_id(&self) -> Option<i32> {
        self.current_key.as_ref().map(|k| k.key_id)
    }

    /// Rolls keys on the master (`BlockTokenSecretManager.updateKeys`): drop expired
    /// keys, shorten the current key's life to one interval plus a token lifetime, make
    /// the next key current and create a new next key. Returns false on a slave.
    pub fn update_keys(&mut self, now: i64) -> bool {
        if !self.master {
            return false;
        }
        self.remove_expired_keys(now);
        let (i, l) = (self.key_update_interval_ms, self.token_lifetime_ms);
        if let Some(mut cur) = self.current_key.take() {
            cur.expiry_date = now + i + l;
            self.all_keys.insert(cur.key_id, cur);
        }
        self.current_key = self.next_key.take();
        let id = self.next_serial();
        let next = BlockKey {
            key_id: id,
            expiry_date: now + 2 * i + l,
            key: random_key(),
        };
        self.all_keys.insert(next.key_id, next.clone());
        self.next_key = Some(next);
        true
    }

    fn remove_expired_keys(&mut self, now: i64) {
        self.all_keys.retain(|_, k| k.expiry_date >= now);
    }

    /// The keys for DataNodes (`exportKeys`).
    pub fn export_keys(&self) -> Option<ExportedBlockKeys> {
        let current = self.current_key.clone()?;
        Some(ExportedBlockKeys {
            enabled: true,
            key_update_interval_ms: self.key_update_interval_ms.max(0) as u64,
            token_lifetime_ms: self.token_lifetime_ms.max(0) as u64,
            current_key: current,
            all_keys: self.all_keys.values().cloned().collect(),
        })
    }

    /// Takes keys from a NameNode (slave side, `addKeys`). Keys from another NameNode
    /// have other ids and are kept side by side; the current key for tokens this
    /// DataNode generates itself is the latest one received.
    pub fn add_keys(&mut self, exported: &ExportedBlockKeys, now: i64) {
        if self.master {
            return;
        }
        self.remove_expired_keys(now);
        self.current_key = Some(exported.current_key.clone());
        for k in exported.all_keys.iter().chain([&exported.current_key]) {
            self.all_keys.insert(k.key_id, k.clone());
        }
        // The lifetime of tokens this DataNode generates follows the NameNode's.
        self.key_update_interval_ms = exported.key_update_interval_ms.min(i64::MAX as u64) as i64;
        self.token_lifetime_ms = exported.token_lifetime_ms.min(i64::MAX as u64) as i64;
    }

    pub fn has_keys(&self) -> bool {
        self.current_key.is_some()
    }

    /// A token for `user` on `block_pool_id`/`block_id` with `modes`, signed with the
    /// current key and valid for one token lifetime from `now`.
    pub fn generate_token(
        &self,
        user: &str,
        block_pool_id: &str,
        block_id: i64,
        modes: &[AccessMode],
        now: i64,
    ) -> Result<BlockToken, BlockTokenError> {
        let key = self.current_key.as_ref().ok_or_else(|| {
            BlockTokenError::InvalidToken("No block keys are available yet".into())
        })?;
        let id = BlockTokenIdentifier {
            expiry_date: now.saturating_add(self.token_lifetime_ms),
            key_id: key.key_id,
            user_id: user.to_string(),
            block_pool_id: block_pool_id.to_string(),
            block_id,
            modes: modes.to_vec(),
            ..Default::default()
        };
        let identifier = id.encode();
        let password = token_password(&identifier, &key.key);
        Ok(BlockToken {
            identifier,
            password,
        })
    }

    /// The password the token's key gives `identifier` (Hadoop's `retrievePassword`),
    /// for SASL and for [`check_access`](Self::check_access).
    pub fn retrieve_password(
        &self,
        id: &BlockTokenIdentifier,
        identifier: &[u8],
        now: i64,
    ) -> Result<Vec<u8>, BlockTokenError> {
        if id.expiry_date < now {
            return Err(BlockTokenError::InvalidToken(format!(
                "Block token with {id} is expired."
            )));
        }
        let key = self.all_keys.get(&id.key_id).ok_or_else(|| {
            BlockTokenError::InvalidToken(format!(
                "Can't re-compute password for {id}, since the required block key (keyID={}) doesn't exist.",
                id.key_id
            ))
        })?;
        Ok(token_password(identifier, &key.key))
    }

    /// Checks `token` for `mode` on the block (`checkAccess`): it must decode, be for
    /// this block, carry the mode, not be expired, be signed by a known key, and — when
    /// `user` is given — belong to that user.
    pub fn check_access(
        &self,
        token: &BlockToken,
        user: Option<&str>,
        block_pool_id: &str,
        block_id: i64,
        mode: AccessMode,
        now: i64,
    ) -> Result<BlockTokenIdentifier, BlockTokenError> {
        if token.identifier.is_empty() {
            return Err(BlockTokenError::InvalidToken(
                "Block token is empty; block access tokens are enabled".into(),
            ));
        }
        let id = BlockTokenIdentifier::decode(&token.identifier)
            .map_err(|e| BlockTokenError::InvalidToken(e.to_string()))?;
        if let Some(u) = user {
            if u != id.user_id {
                return Err(BlockTokenError::InvalidToken(format!(
                    "Block token with {id} doesn't belong to user {u}"
                )));
            }
        }
        if id.block_pool_id != block_pool_id || id.block_id != block_id {
            return Err(BlockTokenError::InvalidToken(format!(
                "Block token with {id} doesn't apply to block {block_pool_id}:blk_{block_id}"
            )));
        }
        if !id.modes.contains(&mode) {
            return Err(BlockTokenError::InvalidToken(format!(
                "Block token with {id} doesn't have {mode} permission"
            )));
        }
        let expected = self.retrieve_password(&id, &token.identifier, now)?;
        if !constant_time_eq(&expected, &token.password) {
            return Err(BlockTokenError::InvalidToken(format!(
                "Block token with {id} doesn't have the correct token password"
            )));
        }
        Ok(id)
    }
}

/// Standard base64 with padding (Hadoop's SASL names and passwords for tokens).
pub fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` for anything else.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
