//! The web UI: one page, its script and its style sheet, compiled into the binary (no
//! CDN, nothing to install beside it). The page reads every NameNode's `/jmx` (CORS
//! lets it read the peers') and this NameNode's WebHDFS; see `ui/hafs-ui.js`.
//!
//! `/`, `/index.html` and Hadoop's `/dfshealth.html` serve the page; the plain-text
//! status for scripts stays at `/status`.

use hafs_http::response::{self, Response};

const INDEX_HTML: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/hafs-ui.js");
const STYLE: &str = include_str!("ui/hafs-ui.css");

/// The asset at `path`, if it is one.
pub fn asset(path: &str) -> Option<Response> {
    let (content_type, body) = match path {
        "/" | "/index.html" | "/dfshealth.html" => ("text/html; charset=utf-8", INDEX_HTML),
        "/static/hafs-ui.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "/static/hafs-ui.css" => ("text/css; charset=utf-8", STYLE),
        _ => return None,
    };
    let r = response::full(200, content_type, body);
    // The assets change only with the binary; a browser may keep them for a minute.
    Some(response::with_header(r, "cache-control", "max-age=60"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_only_assets_that_are_served() {
        for path in [
            "/",
            "/dfshealth.html",
            "/static/hafs-ui.js",
            "/static/hafs-ui.css",
        ] {
            assert!(asset(path).is_some(), "{path}");
        }
        assert!(asset("/static/other.js").is_none());
        for referenced in ["/static/hafs-ui.js", "/static/hafs-ui.css"] {
            assert!(INDEX_HTML.contains(referenced), "{referenced}");
        }
        // Nothing fetched from elsewhere: no absolute URL in the page.
        assert!(!INDEX_HTML.contains("http://") && !INDEX_HTML.contains("https://"));
    }
}
