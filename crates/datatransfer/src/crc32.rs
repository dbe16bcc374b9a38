//! CRC-32 with the zlib / IEEE 802.3 polynomial (Hadoop's `CRC32` checksum type).
//!
//! Hadoop defaults to CRC32C, but a client configured with `dfs.checksum.type=CRC32`
//! writes blocks checksummed this way, so the DataNode must be able to verify them. A
//! byte-at-a-time table (1 KiB, built at compile time) is enough for that rare path;
//! the common CRC32C path uses the hardware-accelerated `crc32c` crate.

/// The reversed (LSB-first) form of polynomial 0x04C11DB7.
const POLY_REVERSED: u32 = 0xEDB8_8320;

const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REVERSED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Continue a CRC-32 over `data` (start with `crc = 0`), like `crc32c::crc32c_append`.
pub fn crc32_append(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c = TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    crc32_append(0, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn append_equals_whole() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let (a, b) = data.split_at(377);
        assert_eq!(crc32_append(crc32(a), b), crc32(&data));
    }
}
