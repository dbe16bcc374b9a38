//! Writing Hadoop `*-site.xml` files.

use std::path::Path;

/// Writes a Hadoop configuration file (`<configuration><property>…`) with `props` in
/// order, as every hafs tool writes one; panics (failing the test) when it cannot.
pub fn write_site_xml(path: &Path, props: &[(String, String)]) {
    if let Err(e) = hafs_cluster::files::write_site(path, props) {
        panic!("{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_values() {
        let dir = crate::TempDir::new("conf-xml");
        let path = dir.join("core-site.xml");
        write_site_xml(&path, &[("a.b".into(), "x<y&'z'".into())]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("<name>a.b</name>"));
        assert!(text.contains("<value>x&lt;y&amp;&apos;z&apos;</value>"));
    }
}
