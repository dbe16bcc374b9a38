//! RFC 2831's security layer (§2.3 integrity, §2.4 confidentiality) as Java's
//! `com.sun.security.sasl.digest` speaks it with cipher 3des.
//!
//! Integrity: `msg | HMAC-MD5(Ki, seq | msg)[..10] | 0x0001 | seq`.
//! Privacy:   `3DES-EDE2-CBC(Kc, msg | pad | HMAC-MD5(Ki, seq | msg)[..10]) | 0x0001 | seq`,
//! the CBC chain running on from one message to the next in each direction.
//! `seq` is a big-endian u32 counted per direction from 0.

use des::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::TdesEde2;
use hmac::{Hmac, Mac};
use md5::Md5;

use super::keys::{constant_time_eq, SessionKeys};
use crate::sasl::{Qop, SaslError};

const MAC_LEN: usize = 10;
/// `0x0001 | seq`.
const TRAILER_LEN: usize = 6;
const MESSAGE_TYPE: [u8; 2] = [0, 1];
const BLOCK: usize = 8;

/// Which end of the connection this layer serves: it sends with its own keys and checks
/// with the peer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

/// The negotiated layer of one connection, both directions.
pub(crate) struct SecurityLayer {
    qop: Qop,
    send_ki: [u8; 16],
    recv_ki: [u8; 16],
    send_seq: u32,
    recv_seq: u32,
    /// Present at privacy only.
    send_cbc: Option<Cbc>,
    recv_cbc: Option<Cbc>,
    /// Set after a rejected message: the CBC chain (and the peer) can no longer be trusted.
    broken: bool,
}

impl SecurityLayer {
    pub(crate) fn new(qop: Qop, side: Side, keys: &SessionKeys) -> SecurityLayer {
        assert!(qop.wraps(), "no security layer at qop auth");
        let (send_ki, recv_ki, send_kc, recv_kc) = match side {
            Side::Client => (
                keys.client_integrity,
                keys.server_integrity,
                keys.client_confidentiality,
                keys.server_confidentiality,
            ),
            Side::Server => (
                keys.server_integrity,
                keys.client_integrity,
                keys.server_confidentiality,
                keys.client_confidentiality,
            ),
        };
        let privacy = qop == Qop::Privacy;
        SecurityLayer {
            qop,
            send_ki,
            recv_ki,
            send_seq: 0,
            recv_seq: 0,
            send_cbc: privacy.then(|| Cbc::new(&send_kc)),
            recv_cbc: privacy.then(|| Cbc::new(&recv_kc)),
            broken: false,
        }
    }

    /// The largest message whose wrapped form fits in `peer_maxbuf` bytes (Java's
    /// `javax.security.sasl.rawsendsize`): 16 bytes of MAC and trailer, plus at privacy up
    /// to 8 of padding.
    pub(crate) fn max_message(&self, peer_maxbuf: u32) -> usize {
        let overhead = MAC_LEN + TRAILER_LEN + if self.qop == Qop::Privacy { BLOCK } else { 0 };
        (peer_maxbuf as usize).saturating_sub(overhead)
    }

    pub(crate) fn wrap(&mut self, msg: &[u8]) -> Result<Vec<u8>, SaslError> {
        if self.broken {
            return Err(broken());
        }
        let seq = self.send_seq;
        // Four billion messages on one connection: refuse rather than reuse a number.
        self.send_seq = seq
            .checked_add(1)
            .ok_or_else(|| SaslError::Integrity("DIGEST-MD5: sequence number exhausted".into()))?;
        let mac = mac10(&self.send_ki, seq, msg);
        let mut out = match &mut self.send_cbc {
            None => {
                let mut out = Vec::with_capacity(msg.len() + MAC_LEN + TRAILER_LEN);
                out.extend_from_slice(msg);
                out.extend_from_slice(&mac);
                out
            }
            Some(cbc) => {
                // 1 to 8 bytes, each holding the pad length, to fill the last block.
                let pad = BLOCK - (msg.len() + MAC_LEN) % BLOCK;
                let mut out = Vec::with_capacity(msg.len() + pad + MAC_LEN + TRAILER_LEN);
                out.extend_from_slice(msg);
                out.resize(msg.len() + pad, pad as u8);
                out.extend_from_slice(&mac);
                debug_assert_eq!(out.len() % BLOCK, 0);
                cbc.encrypt(&mut out);
                out
            }
        };
        out.extend_from_slice(&MESSAGE_TYPE);
        out.extend_from_slice(&seq.to_be_bytes());
        Ok(out)
    }

    pub(crate) fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        if self.broken {
            return Err(broken());
        }
        let res = self.open(data);
        if res.is_err() {
            self.broken = true;
        }
        res
    }

    fn open(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        let Some(body_len) = data.len().checked_sub(TRAILER_LEN) else {
            return Err(rejected(format!("{} bytes is too short", data.len())));
        };
        let (body, trailer) = data.split_at(body_len);
        if trailer[..2] != MESSAGE_TYPE {
            return Err(rejected(format!(
                "message type {:02x}{:02x}, expected 0001",
                trailer[0], trailer[1]
            )));
        }
        let seq = u32::from_be_bytes([trailer[2], trailer[3], trailer[4], trailer[5]]);
        // A replayed, dropped or reordered message shows here before any crypto runs.
        if seq != self.recv_seq {
            return Err(rejected(format!(
                "out of sequence: expected {}, got {seq}",
                self.recv_seq
            )));
        }
        let msg = match &mut self.recv_cbc {
            None => {
                let Some(msg_len) = body.len().checked_sub(MAC_LEN) else {
                    return Err(rejected(format!("{} bytes is too short", data.len())));
                };
                let (msg, mac) = body.split_at(msg_len);
                if !constant_time_eq(mac, &mac10(&self.recv_ki, seq, msg)) {
                    return Err(rejected("MAC mismatch".into()));
                }
                msg.to_vec()
            }
            Some(cbc) => {
                // The smallest message (empty) is 8 bytes of pad and a 10-byte MAC: 2 blocks.
                if body.len() < 2 * BLOCK || body.len() % BLOCK != 0 {
                    return Err(rejected(format!(
                        "encrypted part of {} bytes is not whole 3DES blocks",
                        body.len()
                    )));
                }
                let mut plain = body.to_vec();
                cbc.decrypt(&mut plain);
                let (padded, mac) = plain.split_at(plain.len() - MAC_LEN);
                let pad = padded[padded.len() - 1] as usize;
                // Padding and MAC failures read the same, so the peer learns nothing from
                // which check failed.
                // The pad length is peer data: it may claim more bytes than there are.
                let pad_ok = (1..=BLOCK.min(padded.len())).contains(&pad)
                    && padded[padded.len() - pad..]
                        .iter()
                        .all(|&b| b as usize == pad);
                let msg = &padded[..padded.len() - if pad_ok { pad } else { 0 }];
                let mac_ok = constant_time_eq(mac, &mac10(&self.recv_ki, seq, msg));
                if !(pad_ok && mac_ok) {
                    return Err(rejected("MAC mismatch".into()));
                }
                msg.to_vec()
            }
        };
        // Only a checked message moves the counter, and it only goes up by one.
        self.recv_seq = self
            .recv_seq
            .checked_add(1)
            .ok_or_else(|| rejected("sequence number exhausted".into()))?;
        Ok(msg)
    }
}

fn mac10(ki: &[u8; 16], seq: u32, msg: &[u8]) -> [u8; MAC_LEN] {
    let mut h = <Hmac<Md5> as KeyInit>::new_from_slice(ki).expect("HMAC takes any key length");
    h.update(&seq.to_be_bytes());
    h.update(msg);
    let full = h.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

fn rejected(why: String) -> SaslError {
    SaslError::Integrity(format!("DIGEST-MD5: {why}"))
}

fn broken() -> SaslError {
    rejected("an earlier message was rejected; the connection must close".into())
}

/// 3DES-EDE2 in CBC mode with the chain kept between messages, as Java's
/// `DESede/CBC/NoPadding` cipher object is reused for the life of the connection.
struct Cbc {
    cipher: TdesEde2,
    chain: [u8; BLOCK],
}

impl Cbc {
    /// Keys K1 and K2 from the first 14 bytes of Kc (56 bits each, spread to 8 bytes with
    /// parity); the IV is Kc[8..16], bytes that overlap the key material as RFC 2831 says.
    fn new(kc: &[u8; 16]) -> Cbc {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&des_key_with_parity(kc[..7].try_into().expect("7 bytes")));
        key[8..].copy_from_slice(&des_key_with_parity(kc[7..14].try_into().expect("7 bytes")));
        let mut chain = [0u8; BLOCK];
        chain.copy_from_slice(&kc[8..16]);
        Cbc {
            cipher: TdesEde2::new(&Array(key)),
            chain,
        }
    }

    fn encrypt(&mut self, data: &mut [u8]) {
        debug_assert_eq!(data.len() % BLOCK, 0);
        for block in data.chunks_exact_mut(BLOCK) {
            let mut arr: des::cipher::Block<TdesEde2> = Array(self.chain);
            for (a, p) in arr.0.iter_mut().zip(block.iter()) {
                *a ^= p;
            }
            self.cipher.encrypt_block(&mut arr);
            block.copy_from_slice(&arr.0);
            self.chain = arr.0;
        }
    }

    fn decrypt(&mut self, data: &mut [u8]) {
        debug_assert_eq!(data.len() % BLOCK, 0);
        for block in data.chunks_exact_mut(BLOCK) {
            let mut cipher_text = [0u8; BLOCK];
            cipher_text.copy_from_slice(block);
            let mut arr = Array(cipher_text);
            self.cipher.decrypt_block(&mut arr);
            for ((out, plain), chain) in block.iter_mut().zip(arr.0).zip(self.chain) {
                *out = plain ^ chain;
            }
            self.chain = cipher_text;
        }
    }
}

/// Spreads 56 key bits over 8 bytes, 7 in the high bits of each, and sets the low bit
/// for odd parity (DES ignores it; Java sets it, and so do we, to hand DES a proper key).
fn des_key_with_parity(bits56: [u8; 7]) -> [u8; 8] {
    let mut wide = [0u8; 8];
    wide[1..].copy_from_slice(&bits56);
    let bits = u64::from_be_bytes(wide);
    let mut out = [0u8; 8];
    for (i, o) in out.iter_mut().enumerate() {
        let seven = ((bits >> (49 - 7 * i)) & 0x7f) as u8;
        let b = seven << 1;
        *o = if b.count_ones() % 2 == 0 { b | 1 } else { b };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn des_parity_spreads_seven_bits_per_byte() {
        let k = des_key_with_parity([0xff; 7]);
        assert_eq!(k, [0xfe; 8]); // seven ones: already odd
        let k = des_key_with_parity([0; 7]);
        assert_eq!(k, [0x01; 8]);
        // The first output byte holds the first 7 input bits.
        let k = des_key_with_parity([0b1010_1010, 0, 0, 0, 0, 0, 0]);
        assert_eq!(k[0] & 0xfe, 0b1010_1010);
        assert_eq!(k[1] & 0xfe, 0);
        for b in des_key_with_parity([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]) {
            assert_eq!(b.count_ones() % 2, 1);
        }
    }

    fn pair(qop: Qop) -> (SecurityLayer, SecurityLayer) {
        let keys = SessionKeys::derive(&[7u8; 16]);
        (
            SecurityLayer::new(qop, Side::Client, &keys),
            SecurityLayer::new(qop, Side::Server, &keys),
        )
    }

    #[test]
    fn wrapped_sizes_match_java() {
        // Measured with Java 17: 5 bytes wrap to 21 at integrity and 22 at privacy.
        let (mut c, _) = pair(Qop::Integrity);
        assert_eq!(c.wrap(b"hello").unwrap().len(), 21);
        let (mut c, _) = pair(Qop::Privacy);
        assert_eq!(c.wrap(b"hello").unwrap().len(), 22);
    }

    #[test]
    fn every_length_round_trips_both_ways() {
        for qop in [Qop::Integrity, Qop::Privacy] {
            let (mut c, mut s) = pair(qop);
            for n in 0..70 {
                let msg: Vec<u8> = (0..n as u8).collect();
                let w = c.wrap(&msg).unwrap();
                assert_eq!(s.unwrap(&w).unwrap(), msg);
                let w = s.wrap(&msg).unwrap();
                assert_eq!(c.unwrap(&w).unwrap(), msg);
            }
        }
    }

    #[test]
    fn privacy_hides_the_message_and_chains_blocks() {
        let (mut c, _) = pair(Qop::Privacy);
        let a = c.wrap(b"same same same").unwrap();
        let b = c.wrap(b"same same same").unwrap();
        assert!(!a.windows(4).any(|w| w == b"same"));
        // The chain continues, so identical plaintexts give different ciphertexts.
        assert_ne!(a[..a.len() - 6], b[..b.len() - 6]);
    }

    #[test]
    fn replay_reorder_and_bit_flips_are_rejected() {
        for qop in [Qop::Integrity, Qop::Privacy] {
            let (mut c, mut s) = pair(qop);
            let m0 = c.wrap(b"first").unwrap();
            let m1 = c.wrap(b"second").unwrap();
            assert!(s.unwrap(&m1).is_err(), "reordered");
            assert!(
                s.unwrap(&m0).is_err(),
                "layer stays closed after a rejection"
            );

            let (mut c, mut s) = pair(qop);
            let m0 = c.wrap(b"first").unwrap();
            s.unwrap(&m0).unwrap();
            assert!(s.unwrap(&m0).is_err(), "replayed");

            let (mut c, _) = pair(qop);
            let m0 = c.wrap(b"some payload bytes").unwrap();
            for bit in 0..m0.len() * 8 {
                let (_, mut s) = pair(qop);
                let mut bad = m0.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(s.unwrap(&bad).is_err(), "{qop} bit {bit}");
            }
            let (_, mut s) = pair(qop);
            assert!(s.unwrap(&m0[..m0.len() - 1]).is_err());
            let (_, mut s) = pair(qop);
            assert!(s.unwrap(&[]).is_err());
        }
    }

    /// The smallest encrypted part (16 bytes) leaves 6 bytes before the MAC; a decrypted
    /// pad length of 7 or 8 there must be refused, not sliced past the start.
    #[test]
    fn a_pad_longer_than_the_message_is_refused() {
        let keys = SessionKeys::derive(&[7u8; 16]);
        for pad in [6u8, 7, 8] {
            // Encrypt a forged plaintext with the client's own key and chain.
            let mut cbc = Cbc::new(&keys.client_confidentiality);
            let mut plain = vec![pad; 6];
            plain.extend_from_slice(&mac10(&keys.client_integrity, 0, &[]));
            cbc.encrypt(&mut plain);
            plain.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
            let mut s = SecurityLayer::new(Qop::Privacy, Side::Server, &keys);
            let res = s.unwrap(&plain);
            // Six bytes of pad 6 over an empty message is genuine; 7 and 8 are not.
            assert_eq!(res.is_ok(), pad == 6, "pad {pad}: {res:?}");
        }
    }

    #[test]
    fn max_message_fits_the_peer_buffer() {
        for qop in [Qop::Integrity, Qop::Privacy] {
            let (mut c, _) = pair(qop);
            let n = c.max_message(65536);
            for len in [n - 7, n] {
                assert!(c.wrap(&vec![0; len]).unwrap().len() <= 65536);
            }
        }
    }
}
