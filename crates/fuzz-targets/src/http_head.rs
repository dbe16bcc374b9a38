//! The head of an HTTP request to the NameNode's web server (image transfer, JMX,
//! WebHDFS): request line, headers, query parameters.

use std::time::Duration;

use hafs_namenode::http::request::{percent_decode, read_head};

use crate::block_on;

pub fn http_request_head(data: &[u8]) {
    let mut r = data;
    if let Ok(req) = block_on(read_head(&mut r, Duration::from_secs(60))) {
        let _ = req.content_length();
        let _ = req.param("op");
        let _ = req.header("authorization");
    }
    let _ = percent_decode(&String::from_utf8_lossy(data));
}
