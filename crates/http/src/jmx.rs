//! `/jmx`: Hadoop's JMX JSON servlet (`JMXJsonServlet`) over the beans a daemon
//! reports. `{"beans":[{"name":…,"modelerType":…,<attributes>}]}`; `?qry=<ObjectName
//! pattern>` picks beans (default `*:*`), `?get=<bean>::<attribute>` one attribute.
//! Beans are made fresh for each request from the daemon's counters.

use serde_json::Value;

use crate::request::Request;
use crate::response::{self, Response};

/// How `/prom` renders an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A metrics2 gauge: `/prom` exports it when the bean is a metrics record.
    Gauge,
    /// A metrics2 counter.
    Counter,
    /// A metrics2 tag: `tag.<Name>` in JMX, a label in `/prom`.
    Tag,
    /// Shown in JMX only.
    Info,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub name: String,
    pub value: Value,
    pub kind: Kind,
}

/// One MBean: its ObjectName, its `modelerType`, and its attributes in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Bean {
    pub name: String,
    pub modeler_type: String,
    /// The metrics2 record name when the bean is a metrics source (Hadoop's Prometheus
    /// sink exports only those): `FSNamesystem`, `JournalNode`, …
    pub record: Option<String>,
    pub attrs: Vec<Attr>,
}

impl Bean {
    pub fn new(name: impl Into<String>, modeler_type: impl Into<String>) -> Bean {
        Bean {
            name: name.into(),
            modeler_type: modeler_type.into(),
            record: None,
            attrs: Vec::new(),
        }
    }

    /// Marks the bean as the metrics2 record `record` (exported by `/prom`).
    pub fn record(mut self, record: &str) -> Bean {
        self.record = Some(record.to_string());
        self
    }

    fn push(mut self, name: &str, value: Value, kind: Kind) -> Bean {
        self.attrs.push(Attr {
            name: name.to_string(),
            value,
            kind,
        });
        self
    }

    /// A JMX-only attribute (strings, JSON-in-a-string, booleans, figures no metrics2
    /// record has).
    pub fn attr(self, name: &str, value: impl Into<Value>) -> Bean {
        self.push(name, value.into(), Kind::Info)
    }

    pub fn gauge(self, name: &str, value: impl Into<Value>) -> Bean {
        self.push(name, value.into(), Kind::Gauge)
    }

    pub fn counter(self, name: &str, value: impl Into<Value>) -> Bean {
        self.push(name, value.into(), Kind::Counter)
    }

    /// A metrics2 tag, shown as `tag.<name>`.
    pub fn tag(self, name: &str, value: impl Into<String>) -> Bean {
        self.push(name, Value::String(value.into()), Kind::Tag)
    }

    /// An attribute's value by its JMX name (`tag.HAState` for a tag).
    pub fn get(&self, jmx_name: &str) -> Option<&Value> {
        self.attrs
            .iter()
            .find(|a| jmx_attr_name(a) == jmx_name)
            .map(|a| &a.value)
    }
}

fn jmx_attr_name(a: &Attr) -> String {
    if a.kind == Kind::Tag {
        format!("tag.{}", a.name)
    } else {
        a.name.clone()
    }
}

/// An ObjectName or ObjectName pattern: `domain:key=value,…` with `*` and `?` in the
/// domain and values, and a trailing `,*` (or a lone `*`) allowing other keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectNamePattern {
    domain: String,
    props: Vec<(String, String)>,
    /// Other keys allowed (`,*`).
    open: bool,
}

impl ObjectNamePattern {
    pub fn parse(s: &str) -> Result<ObjectNamePattern, String> {
        let (domain, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("Key properties cannot be empty: {s:?} has no ':'"))?;
        let mut props = Vec::new();
        let mut open = false;
        for p in rest.split(',') {
            if p == "*" {
                open = true;
                continue;
            }
            let (k, v) = p
                .split_once('=')
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .ok_or_else(|| format!("Invalid key property {p:?} in {s:?}"))?;
            props.push((k.to_string(), v.to_string()));
        }
        if props.is_empty() && !open {
            return Err(format!("Key properties cannot be empty: {s:?}"));
        }
        Ok(ObjectNamePattern {
            domain: domain.to_string(),
            props,
            open,
        })
    }

    pub fn matches(&self, name: &str) -> bool {
        let Some((domain, rest)) = name.split_once(':') else {
            return false;
        };
        if !glob(&self.domain, domain) {
            return false;
        }
        let props: Vec<(&str, &str)> = rest.split(',').filter_map(|p| p.split_once('=')).collect();
        let all_found = self
            .props
            .iter()
            .all(|(k, pat)| props.iter().any(|(bk, bv)| bk == k && glob(pat, bv)));
        all_found && (self.open || props.len() == self.props.len())
    }
}

/// `*` any run, `?` any one character.
fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    // Iterative matching with one backtrack point: linear in practice, never recursive.
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn bean_json(bean: &Bean, only: Option<&str>) -> String {
    let mut out = String::from("{\n    \"name\" : ");
    out.push_str(&Value::String(bean.name.clone()).to_string());
    out.push_str(",\n    \"modelerType\" : ");
    out.push_str(&Value::String(bean.modeler_type.clone()).to_string());
    for a in &bean.attrs {
        let name = jmx_attr_name(a);
        if only.is_some_and(|o| o != name) {
            continue;
        }
        out.push_str(",\n    ");
        out.push_str(&Value::String(name).to_string());
        out.push_str(" : ");
        out.push_str(&a.value.to_string());
    }
    out.push_str("\n  }");
    out
}

fn error_json(message: &str) -> String {
    let mut m = serde_json::Map::new();
    m.insert("result".into(), "ERROR".into());
    m.insert("message".into(), message.into());
    Value::Object(m).to_string()
}

/// Hadoop's servlet type, including its spelling of the charset.
const JMX_CONTENT_TYPE: &str = "application/json; charset=utf8";

fn jmx_response(status: u16, body: String) -> Response {
    let r = response::full(status, JMX_CONTENT_TYPE, body);
    // Web UIs read the other NameNodes' beans from the page (Hadoop sets these too).
    let r = response::with_header(r, "access-control-allow-methods", "GET");
    response::with_header(r, "access-control-allow-origin", "*")
}

/// Answers `GET /jmx`.
pub fn serve(req: &Request, beans: Vec<Bean>) -> Response {
    render(req.param("qry"), req.param("get"), beans)
}

/// The `/jmx` answer for `qry` / `get` over `beans`.
pub fn render(qry: Option<&str>, get: Option<&str>, beans: Vec<Bean>) -> Response {
    let (pattern, attribute) = match get {
        Some(g) => {
            let parts: Vec<&str> = g.split("::").collect();
            if parts.len() != 2 {
                return jmx_response(400, error_json("query format is not as expected."));
            }
            (parts[0], Some(parts[1]))
        }
        None => (qry.unwrap_or("*:*"), None),
    };
    let pattern = match ObjectNamePattern::parse(pattern) {
        Ok(p) => p,
        Err(e) => return jmx_response(400, error_json(&e)),
    };
    let mut listed = Vec::new();
    let mut missing = false;
    for bean in beans.iter().filter(|b| pattern.matches(&b.name)) {
        if let Some(attr) = attribute {
            if bean.get(attr).is_none() {
                // Hadoop's servlet: the bean with an error in it, and 404.
                let mut m = serde_json::Map::new();
                m.insert("name".into(), bean.name.clone().into());
                m.insert("modelerType".into(), bean.modeler_type.clone().into());
                m.insert("result".into(), "ERROR".into());
                m.insert(
                    "message".into(),
                    format!("No attribute with name {attr} was found.").into(),
                );
                listed.push(Value::Object(m).to_string());
                missing = true;
                break;
            }
        }
        listed.push(bean_json(bean, attribute));
    }
    let status = if missing { 404 } else { 200 };
    let body = format!("{{\n  \"beans\" : [ {} ]\n}}\n", listed.join(", "));
    jmx_response(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beans() -> Vec<Bean> {
        vec![
            Bean::new(
                "Hadoop:service=NameNode,name=NameNodeStatus",
                "org.apache.hadoop.hdfs.server.namenode.NameNode",
            )
            .attr("State", "active"),
            Bean::new("Hadoop:service=NameNode,name=FSNamesystem", "FSNamesystem")
                .record("FSNamesystem")
                .tag("HAState", "active")
                .gauge("MissingBlocks", 3),
            Bean::new("hafs:service=NameNode,name=Process", "Process").gauge("Threads", 9),
        ]
    }

    fn body(r: Response) -> (u16, Value) {
        let status = r.status().as_u16();
        let crate::response::Body::Full(Some(b)) = r.into_body() else {
            panic!("not a whole body")
        };
        (status, serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn object_name_patterns_match_as_jmx_does() {
        let p = ObjectNamePattern::parse("Hadoop:service=NameNode,name=*").unwrap();
        assert!(p.matches("Hadoop:service=NameNode,name=FSNamesystem"));
        assert!(!p.matches("Hadoop:service=DataNode,name=FSNamesystem"));
        assert!(!p.matches("Hadoop:service=NameNode,name=X,extra=1"));
        let p = ObjectNamePattern::parse("Hadoop:service=NameNode,*").unwrap();
        assert!(p.matches("Hadoop:service=NameNode,name=X,extra=1"));
        let p = ObjectNamePattern::parse("*:*").unwrap();
        assert!(p.matches("hafs:service=NameNode,name=Process"));
        let p = ObjectNamePattern::parse("Hadoop:service=NameNode,name=FS*State").unwrap();
        assert!(p.matches("Hadoop:service=NameNode,name=FSNamesystemState"));
        assert!(!p.matches("Hadoop:service=NameNode,name=FSNamesystem"));
        for bad in ["nocolon", "Hadoop:", "Hadoop:name", "Hadoop:=x"] {
            assert!(ObjectNamePattern::parse(bad).is_err(), "{bad}");
        }
        assert!(glob("a*b*c", "aXXbYYc") && !glob("a*b*c", "aXXbYY"));
    }

    #[test]
    fn qry_and_get_pick_beans_and_attributes() {
        let (s, v) = body(render(None, None, beans()));
        assert_eq!(s, 200);
        assert_eq!(v["beans"].as_array().unwrap().len(), 3);
        let (_, v) = body(render(
            Some("Hadoop:service=NameNode,name=*"),
            None,
            beans(),
        ));
        let b = v["beans"].as_array().unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[1]["tag.HAState"], "active");
        assert_eq!(b[1]["MissingBlocks"], 3);
        assert_eq!(
            b[0]["modelerType"],
            "org.apache.hadoop.hdfs.server.namenode.NameNode"
        );
        let (s, v) = body(render(
            None,
            Some("Hadoop:service=NameNode,name=NameNodeStatus::State"),
            beans(),
        ));
        assert_eq!(s, 200);
        assert_eq!(v["beans"][0]["State"], "active");
        assert_eq!(v["beans"][0].as_object().unwrap().len(), 3);
        let (s, v) = body(render(
            None,
            Some("Hadoop:service=NameNode,name=NameNodeStatus::Nope"),
            beans(),
        ));
        assert_eq!(s, 404);
        assert_eq!(v["beans"][0]["result"], "ERROR");
        let (s, v) = body(render(None, Some("no-separator"), beans()));
        assert_eq!((s, v["result"].as_str()), (400, Some("ERROR")));
        let (s, _) = body(render(Some("broken"), None, beans()));
        assert_eq!(s, 400);
        let (s, v) = body(render(Some("Nothing:name=here"), None, beans()));
        assert_eq!((s, v["beans"].as_array().unwrap().len()), (200, 0));
    }
}
