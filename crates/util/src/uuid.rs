//! Random version-4 UUID strings, the form Hadoop uses for DataNode and storage ids
//! (`DS-<uuid>`) and cluster ids.

/// The canonical `8-4-4-4-12` lowercase hex form of `bytes`, with the version (4) and
/// variant (RFC 4122) bits set.
pub fn format_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h: String = bytes.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A new random UUID. These ids only need to be unique, not secret, so when the OS
/// random source fails (it practically never does) the time and the pid stand in,
/// unique enough for one machine, rather than a panic in a daemon that is formatting
/// or registering storage.
pub fn new_v4() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = (t ^ ((std::process::id() as u128) << 64)).to_be_bytes();
    }
    format_v4(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_with_version_and_variant() {
        let u = format_v4([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let u = new_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_ne!(u, new_v4());
    }
}
