//! AES in counter mode (`AES/CTR/NoPadding`), the cipher suite of Hadoop's encrypted
//! data transfer (`dfs.encrypt.data.transfer.cipher.suites`).
//!
//! Keystream block `n` of a stream is AES(key, IV + n), where the 16-byte IV is one
//! 128-bit big-endian number and the addition carries through all 16 bytes and wraps
//! at 2^128 (Hadoop's `AesCtrCodec.calculateIV`, and what the JCE's CTR mode does when
//! it increments its counter). Data is XORed with the keystream, so encrypting and
//! decrypting are the same operation; a stream is one long message from byte 0 with no
//! framing, each direction of a connection with its own key and IV.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Aes192, Aes256, Block};

/// AES's block size, and the length of a CTR IV.
pub const AES_BLOCK_SIZE: usize = 16;
/// Keystream blocks computed per AES call: enough for the hardware backends to
/// pipeline, small enough to stay in cache.
const BATCH_BLOCKS: usize = 64;

/// Why a key or IV cannot start a stream.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AesCtrError {
    #[error("Invalid AES key length: {0} bytes")]
    KeyLength(usize),
    #[error("Invalid AES/CTR IV length: {0} bytes (expected {AES_BLOCK_SIZE})")]
    IvLength(usize),
}

enum AesKey {
    Aes128(Box<Aes128>),
    Aes192(Box<Aes192>),
    Aes256(Box<Aes256>),
}

impl AesKey {
    fn encrypt_blocks(&self, blocks: &mut [Block]) {
        match self {
            AesKey::Aes128(k) => k.encrypt_blocks(blocks),
            AesKey::Aes192(k) => k.encrypt_blocks(blocks),
            AesKey::Aes256(k) => k.encrypt_blocks(blocks),
        }
    }
}

/// The counter block for keystream block `counter` of a stream that starts at
/// `init_iv`: the 128-bit big-endian sum, wrapping at 2^128.
pub fn calculate_iv(init_iv: &[u8; AES_BLOCK_SIZE], counter: u64) -> [u8; AES_BLOCK_SIZE] {
    u128::from_be_bytes(*init_iv)
        .wrapping_add(u128::from(counter))
        .to_be_bytes()
}

/// One direction of an AES-CTR stream: XORs bytes with the keystream, position by
/// position, across any split of the data into calls.
pub struct AesCtr {
    key: AesKey,
    iv: u128,
    /// Counter of the first block in `keystream`.
    block: u128,
    keystream: Vec<Block>,
    /// Bytes of `keystream` already used; `BATCH_BLOCKS * 16` when it must be refilled.
    used: usize,
}

impl std::fmt::Debug for AesCtr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key or IV.
        f.debug_struct("AesCtr").finish_non_exhaustive()
    }
}

impl AesCtr {
    /// A stream at byte 0 with a 16-, 24- or 32-byte key (AES-128/192/256) and a
    /// 16-byte IV.
    pub fn new(key: &[u8], iv: &[u8]) -> Result<AesCtr, AesCtrError> {
        let iv: [u8; AES_BLOCK_SIZE] =
            iv.try_into().map_err(|_| AesCtrError::IvLength(iv.len()))?;
        let bad = |_| AesCtrError::KeyLength(key.len());
        let key = match key.len() {
            16 => AesKey::Aes128(Box::new(Aes128::new_from_slice(key).map_err(bad)?)),
            24 => AesKey::Aes192(Box::new(Aes192::new_from_slice(key).map_err(bad)?)),
            32 => AesKey::Aes256(Box::new(Aes256::new_from_slice(key).map_err(bad)?)),
            n => return Err(AesCtrError::KeyLength(n)),
        };
        let iv = u128::from_be_bytes(iv);
        Ok(AesCtr {
            key,
            iv,
            block: 0,
            keystream: vec![Block::default(); BATCH_BLOCKS],
            used: BATCH_BLOCKS * AES_BLOCK_SIZE,
        })
    }

    /// The key length in bits.
    pub fn key_bits(&self) -> usize {
        match self.key {
            AesKey::Aes128(_) => 128,
            AesKey::Aes192(_) => 192,
            AesKey::Aes256(_) => 256,
        }
    }

    fn refill(&mut self) {
        for (i, b) in self.keystream.iter_mut().enumerate() {
            let counter = self.iv.wrapping_add(self.block.wrapping_add(i as u128));
            b.copy_from_slice(&counter.to_be_bytes());
        }
        self.key.encrypt_blocks(&mut self.keystream);
        self.block = self.block.wrapping_add(BATCH_BLOCKS as u128);
        self.used = 0;
    }

    /// Encrypts (or decrypts) `data` in place, continuing the stream.
    pub fn apply_keystream(&mut self, mut data: &mut [u8]) {
        while !data.is_empty() {
            if self.used == BATCH_BLOCKS * AES_BLOCK_SIZE {
                self.refill();
            }
            let ks = Block::slice_as_flattened(&self.keystream);
            let n = data.len().min(ks.len() - self.used);
            let (now, rest) = data.split_at_mut(n);
            for (d, k) in now.iter_mut().zip(&ks[self.used..self.used + n]) {
                *d ^= k;
            }
            self.used += n;
            data = rest;
        }
    }
}

/// `len` bytes from the OS random generator, for keys and IVs.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    getrandom::fill(&mut b).expect("the OS random generator failed");
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // NIST SP 800-38A, F.5: CTR-AES{128,192,256}.Encrypt, initial counter
    // f0f1…feff, four blocks of plaintext.
    const CTR_IV: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    const PLAIN: &str = concat!(
        "6bc1bee22e409f96e93d7e117393172a",
        "ae2d8a571e03ac9c9eb76fac45af8e51",
        "30c81c46a35ce411e5fbc1191a0a52ef",
        "f69f2445df4f9b17ad2b417be66c3710"
    );

    fn check_vector(key: &str, cipher: &str) {
        let key = hex(key);
        let plain = hex(PLAIN);
        let expected = hex(cipher);
        // One call.
        let mut c = AesCtr::new(&key, &hex(CTR_IV)).unwrap();
        let mut data = plain.clone();
        c.apply_keystream(&mut data);
        assert_eq!(data, expected);
        // Uneven pieces give the same stream.
        let mut c = AesCtr::new(&key, &hex(CTR_IV)).unwrap();
        let mut data = plain.clone();
        let (mut pos, mut step) = (0, 1);
        while pos < data.len() {
            let end = (pos + step).min(data.len());
            c.apply_keystream(&mut data[pos..end]);
            pos = end;
            step += 6;
        }
        assert_eq!(data, expected);
        // Decrypting is the same operation.
        let mut d = AesCtr::new(&key, &hex(CTR_IV)).unwrap();
        d.apply_keystream(&mut data);
        assert_eq!(data, plain);
    }

    #[test]
    fn nist_sp800_38a_ctr_aes128() {
        check_vector(
            "2b7e151628aed2a6abf7158809cf4f3c",
            concat!(
                "874d6191b620e3261bef6864990db6ce",
                "9806f66b7970fdff8617187bb9fffdff",
                "5ae4df3edbd5d35e5b4f09020db03eab",
                "1e031dda2fbe03d1792170a0f3009cee"
            ),
        );
    }

    #[test]
    fn nist_sp800_38a_ctr_aes192() {
        check_vector(
            "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
            concat!(
                "1abc932417521ca24f2b0459fe7e6e0b",
                "090339ec0aa6faefd5ccc2c6f4ce8e94",
                "1e36b26bd1ebc670d1bd1d665620abf7",
                "4f78a7f6d29809585a97daec58c6b050"
            ),
        );
    }

    #[test]
    fn nist_sp800_38a_ctr_aes256() {
        check_vector(
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            concat!(
                "601ec313775789a5b7a7f504bbf3d228",
                "f443e3ca4d62b59aca84e990cacaf5c5",
                "2b0930daa23de94ce87017ba2d84988d",
                "dfc9c58db67aada613c2dd08457941a6"
            ),
        );
    }

    #[test]
    fn iv_arithmetic_carries_through_all_sixteen_bytes_and_wraps() {
        let mut iv = [0u8; 16];
        iv[8..].copy_from_slice(&[0xff; 8]);
        // The low 64 bits overflow into the high half (a 64-bit counter would not).
        let mut want = [0u8; 16];
        want[7] = 1;
        assert_eq!(calculate_iv(&iv, 1), want);
        // All ones plus one wraps to zero.
        assert_eq!(calculate_iv(&[0xff; 16], 1), [0u8; 16]);
        assert_eq!(calculate_iv(&[0xff; 16], 2)[15], 1);
        // A plain sum below any carry.
        let mut base = [0u8; 16];
        base[15] = 0x10;
        let got = calculate_iv(&base, 0x0102);
        assert_eq!(&got[14..], &[0x01, 0x12]);
        assert_eq!(calculate_iv(&base, 0), base);
    }

    /// The stream crosses the counter's wrap at 2^128 exactly as block-by-block
    /// encryption with `calculate_iv` does.
    #[test]
    fn keystream_follows_the_iv_across_the_wrap() {
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c");
        let mut iv = [0xffu8; 16];
        iv[15] = 0xfe; // two blocks before the wrap
        let blocks = BATCH_BLOCKS + 3; // and across a refill
        let mut data = vec![0u8; blocks * AES_BLOCK_SIZE];
        let mut c = AesCtr::new(&key, &iv).unwrap();
        c.apply_keystream(&mut data);
        let aes = Aes128::new_from_slice(&key).unwrap();
        for n in 0..blocks {
            let mut b = Block::from(calculate_iv(&iv, n as u64));
            aes.encrypt_block(&mut b);
            assert_eq!(&data[n * 16..n * 16 + 16], &b[..], "block {n}");
        }
    }

    #[test]
    fn bad_lengths_are_named() {
        assert_eq!(
            AesCtr::new(&[0; 20], &[0; 16]).unwrap_err().to_string(),
            "Invalid AES key length: 20 bytes"
        );
        assert_eq!(
            AesCtr::new(&[0; 16], &[0; 8]).unwrap_err(),
            AesCtrError::IvLength(8)
        );
        assert_eq!(AesCtr::new(&[0; 32], &[0; 16]).unwrap().key_bits(), 256);
    }
}
