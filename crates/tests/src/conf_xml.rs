//! Writing Hadoop `*-site.xml` files.

use std::path::Path;

/// Writes a Hadoop configuration file (`<configuration><property>…`) with `props` in order.
pub fn write_site_xml(path: &Path, props: &[(String, String)]) {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration>\n");
    for (name, value) in props {
        xml.push_str(&format!(
            "  <property>\n    <name>{}</name>\n    <value>{}</value>\n  </property>\n",
            escape(name),
            escape(value)
        ));
    }
    xml.push_str("</configuration>\n");
    std::fs::write(path, xml).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
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
