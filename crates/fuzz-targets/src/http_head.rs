//! HTTP input hafs parses itself (heads are otherwise hyper's): a response head from
//! another NameNode (image transfer, fsck) and the query strings and paths of requests
//! to any daemon.

use std::time::Duration;

use hafs_http::query::{parse_query, path_decode};
use hafs_namenode::http::head::{parse_headers, read_raw_head};

use crate::block_on;

pub fn http_request_head(data: &[u8]) {
    let mut r = data;
    if let Ok((head, _rest)) = block_on(read_raw_head(&mut r, Duration::from_secs(60))) {
        if let Ok(text) = std::str::from_utf8(&head) {
            let _ = parse_headers(text.split("\r\n").skip(1));
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = parse_query(&text);
    let _ = path_decode(&text);
}
