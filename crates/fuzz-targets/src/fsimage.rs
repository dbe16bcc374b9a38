//! fsimage files: the checksummed frame, and the namespace encoding inside it. The
//! body is also loaded straight from the input, so the fuzzer need not forge a
//! checksum to reach the loader (a damaged disk cannot, but a bug in our writer could).

use std::path::Path;

use hafs_namenode::fsimage::decode;
use hafs_namenode::namespace::{Namespace, NamespaceConfig};

pub fn fsimage(data: &[u8]) {
    if let Ok((_, body)) = decode(Path::new("fsimage_fuzz"), data) {
        let _ = Namespace::load_image(NamespaceConfig::default(), body);
    }
    let _ = Namespace::load_image(NamespaceConfig::default(), data);
}
