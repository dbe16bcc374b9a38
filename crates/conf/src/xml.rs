//! Hadoop's XML resource format: reading `*-site.xml` and writing one crash-safely.
//!
//! ```xml
//! <configuration>
//!   <property><name>k</name><value>v</value><final>true</final></property>
//! </configuration>
//! ```

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::ConfError;

/// Resources larger than this are refused rather than read into memory; real site
/// files are a few kilobytes.
pub const MAX_RESOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// One `<property>` as written in a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawProperty {
    pub name: String,
    pub value: String,
    pub is_final: bool,
}

/// Reads a resource file; see [`parse_resource`].
pub(crate) fn read_resource(path: &Path) -> Result<Vec<RawProperty>, ConfError> {
    let io_err = |source| ConfError::Io {
        op: "read configuration file",
        path: path.to_path_buf(),
        source,
    };
    let len = fs::metadata(path).map_err(io_err)?.len();
    if len > MAX_RESOURCE_BYTES {
        return Err(ConfError::Xml {
            resource: path.display().to_string(),
            line: 1,
            column: 1,
            message: format!("file is {len} bytes, more than the {MAX_RESOURCE_BYTES} allowed"),
        });
    }
    let bytes = fs::read(path).map_err(io_err)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        ConfError::Xml {
            resource: path.display().to_string(),
            line,
            column,
            message: "file is not valid UTF-8".to_string(),
        }
    })?;
    parse_resource(&path.display().to_string(), &text)
}

/// 1-based line and column just after `prefix`.
fn line_column(prefix: &[u8]) -> (u32, u32) {
    let line = prefix.iter().filter(|b| **b == b'\n').count() + 1;
    let column = prefix.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// Parses the text of a Hadoop configuration resource.
///
/// Like Hadoop: the root must be `<configuration>`; a property's name, value and
/// final flag may be child elements or attributes; the name is trimmed but the value
/// is kept as written; a property with no name is skipped with a warning, and one
/// with an absent or empty value is skipped (so it does not clear a default).
pub(crate) fn parse_resource(resource: &str, text: &str) -> Result<Vec<RawProperty>, ConfError> {
    let options = roxmltree::ParsingOptions {
        // Some site files carry a DOCTYPE; roxmltree bounds entity expansion itself.
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        let pos = e.pos();
        ConfError::Xml {
            resource: resource.to_string(),
            line: pos.row,
            column: pos.col,
            message: e.to_string(),
        }
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "configuration" {
        let pos = doc.text_pos_at(root.range().start);
        return Err(ConfError::Xml {
            resource: resource.to_string(),
            line: pos.row,
            column: pos.col,
            message: format!(
                "top-level element is <{}>, expected <configuration>",
                root.tag_name().name()
            ),
        });
    }
    let mut out = Vec::new();
    collect_properties(&doc, root, resource, &mut out);
    Ok(out)
}

fn collect_properties(
    doc: &roxmltree::Document,
    parent: roxmltree::Node,
    resource: &str,
    out: &mut Vec<RawProperty>,
) {
    for node in parent.children().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "property" => {
                if let Some(prop) = read_property(doc, node, resource) {
                    out.push(prop);
                }
            }
            // Old Hadoop releases accepted nested <configuration> blocks.
            "configuration" => collect_properties(doc, node, resource, out),
            "include" => {
                let pos = doc.text_pos_at(node.range().start);
                tracing::warn!(
                    "{resource}:{}:{}: XInclude is not supported; the include is ignored",
                    pos.row,
                    pos.col
                );
            }
            _ => {}
        }
    }
}

fn read_property(
    doc: &roxmltree::Document,
    node: roxmltree::Node,
    resource: &str,
) -> Option<RawProperty> {
    let mut name = node.attribute("name").map(str::to_string);
    let mut value = node.attribute("value").map(str::to_string);
    let mut is_final = node.attribute("final").map(|f| f.trim() == "true");
    for child in node.children().filter(|n| n.is_element()) {
        match child.tag_name().name() {
            "name" => name = Some(element_text(child)),
            "value" => value = Some(element_text(child)),
            "final" => is_final = Some(element_text(child).trim() == "true"),
            _ => {}
        }
    }
    let pos = doc.text_pos_at(node.range().start);
    let name = name.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() {
        tracing::warn!(
            "{resource}:{}:{}: <property> without a name is ignored",
            pos.row,
            pos.col
        );
        return None;
    }
    let value = value.unwrap_or_default();
    if value.is_empty() {
        tracing::debug!("{resource}: {name} has an empty value and is ignored, as Hadoop does");
        return None;
    }
    Some(RawProperty {
        name,
        value,
        is_final: is_final.unwrap_or(false),
    })
}

/// All text directly inside an element (text and CDATA), concatenated.
fn element_text(node: roxmltree::Node) -> String {
    node.children()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// Renders properties as a Hadoop configuration file.
///
/// Fails if a key or value holds a character XML 1.0 cannot carry (control
/// characters other than tab, newline and carriage return).
pub fn site_xml_string<K: AsRef<str>, V: AsRef<str>>(
    props: &[(K, V)],
) -> Result<String, ConfError> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration>\n");
    for (key, value) in props {
        let (key, value) = (key.as_ref(), value.as_ref());
        let key_xml = escape(key)
            .ok_or_else(|| ConfError::bad_value(key, value, "a key without control characters"))?;
        let value_xml = escape(value).ok_or_else(|| {
            ConfError::bad_value(key, value, "a value without control characters")
        })?;
        out.push_str("  <property>\n    <name>");
        out.push_str(&key_xml);
        out.push_str("</name>\n    <value>");
        out.push_str(&value_xml);
        out.push_str("</value>\n  </property>\n");
    }
    out.push_str("</configuration>\n");
    Ok(out)
}

/// XML-escapes text for element content; `None` if it cannot be represented.
fn escape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A literal CR would be normalised to LF by every reader.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// Writes a Hadoop-format site file (e.g. `hdfs-site.xml`) so that a reader sees
/// either the old file or the complete new one: the text goes to a temporary file in
/// the same directory, which is synced, renamed over `path`, and the directory synced.
pub fn write_site_xml<K: AsRef<str>, V: AsRef<str>>(
    path: &Path,
    props: &[(K, V)],
) -> Result<(), ConfError> {
    let text = site_xml_string(props)?;
    let io_err = |op, p: &Path| {
        let p = p.to_path_buf();
        move |source| ConfError::Io {
            op,
            path: p,
            source,
        }
    };
    let file_name = path.file_name().ok_or_else(|| ConfError::Io {
        op: "write configuration file",
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name"),
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(tmp_name);

    let result = (|| {
        let mut file = fs::File::create(&tmp).map_err(io_err("create", &tmp))?;
        file.write_all(text.as_bytes())
            .map_err(io_err("write", &tmp))?;
        file.sync_all().map_err(io_err("sync", &tmp))?;
        drop(file);
        fs::rename(&tmp, path).map_err(io_err("rename into place", path))?;
        let dir_handle = fs::File::open(&dir).map_err(io_err("open directory", &dir))?;
        dir_handle
            .sync_all()
            .map_err(io_err("sync directory", &dir))
    })();
    if result.is_err() {
        // Best effort: a stray temporary file is harmless but untidy.
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(text: &str) -> Vec<RawProperty> {
        parse_resource("test.xml", text).expect("parses")
    }

    #[test]
    fn reads_elements_attributes_and_final() {
        let got = props(
            r#"<?xml version="1.0"?>
            <configuration>
              <property><name> a.b </name><value> 1 </value><final>true</final></property>
              <property name="c" value="2" final="true"/>
              <property><name>d</name><value><![CDATA[x<y]]></value><description>z</description></property>
            </configuration>"#,
        );
        assert_eq!(
            got,
            vec![
                RawProperty {
                    name: "a.b".into(),
                    value: " 1 ".into(),
                    is_final: true
                },
                RawProperty {
                    name: "c".into(),
                    value: "2".into(),
                    is_final: true
                },
                RawProperty {
                    name: "d".into(),
                    value: "x<y".into(),
                    is_final: false
                },
            ]
        );
    }

    #[test]
    fn skips_nameless_and_empty_properties() {
        let got = props(
            "<configuration><property><value>1</value></property>\
             <property><name>e</name><value></value></property>\
             <property><name>f</name></property></configuration>",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn malformed_xml_names_file_line_and_column() {
        let err = parse_resource(
            "/etc/hadoop/hdfs-site.xml",
            "<configuration>\n  <property>\n    <name>a</nam>\n</configuration>",
        )
        .unwrap_err();
        match &err {
            ConfError::Xml { resource, line, .. } => {
                assert_eq!(resource, "/etc/hadoop/hdfs-site.xml");
                assert_eq!(*line, 3);
            }
            other => panic!("unexpected {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("/etc/hadoop/hdfs-site.xml"), "{text}");
        assert!(text.contains("line 3"), "{text}");
    }

    #[test]
    fn wrong_root_is_an_error() {
        let err = parse_resource("x.xml", "<conf><property/></conf>").unwrap_err();
        assert!(
            err.to_string().contains("expected <configuration>"),
            "{err}"
        );
    }

    #[test]
    fn escapes_specials_and_refuses_control_characters() {
        let xml = site_xml_string(&[("k&<>", "v\"'&<>\r\n\t")]).unwrap();
        let got = props(&xml);
        assert_eq!(got[0].name, "k&<>");
        assert_eq!(got[0].value, "v\"'&<>\r\n\t");
        assert!(site_xml_string(&[("k", "a\u{1}b")]).is_err());
    }
}
