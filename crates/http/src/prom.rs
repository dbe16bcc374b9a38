//! `/prom`: the Prometheus text exposition format (version 0.0.4), as Hadoop 3.3+
//! serves it when `hadoop.prometheus.endpoint.enabled` is true.
//!
//! Beans that are metrics2 records export their gauges and counters under Hadoop's
//! names: the record name and the metric name joined, split at CamelCase humps and
//! lowercased (`FSNamesystem` + `MissingBlocks` → `fs_namesystem_missing_blocks`),
//! labelled with the record's tags, lowercased. Daemons add `hafs_*` series (and
//! histograms, which Hadoop's sink has not) through [`PromText`].

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use crate::jmx::{Bean, Kind};
use crate::response::{self, Response};

/// Tags left out of labels: they change with every sync and would leave a trail of
/// stale series behind (HADOOP-17804).
const UNSTABLE_TAGS: &[&str] = &["totalsynctimes", "numopenconnectionsperuser"];

/// Hadoop's `PrometheusMetricsSink.prometheusName`: split before an upper-case letter
/// that follows a lower-case letter or digit, and before an upper-case letter that
/// starts a lower-case word; join with `_`, lowercase; `-` becomes `_`.
pub fn hadoop_name(record: &str, metric: &str) -> String {
    let base: Vec<char> = format!("{}{}", capitalize(record), capitalize(metric))
        .replace('-', "_")
        .chars()
        .collect();
    let mut out = String::with_capacity(base.len() + 8);
    for (i, &c) in base.iter().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            let prev = base[i - 1];
            let after_lower = !(prev.is_ascii_uppercase() || prev == '_');
            let starts_word = base.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if after_lower || starts_word {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

struct Family {
    kind: &'static str,
    help: Option<String>,
    lines: Vec<String>,
}

/// The series of one scrape, grouped by metric family as the format requires.
#[derive(Default)]
pub struct PromText {
    families: BTreeMap<String, Family>,
}

impl PromText {
    pub fn new() -> PromText {
        PromText::default()
    }

    fn family(&mut self, name: &str, kind: &'static str) -> &mut Family {
        self.families.entry(name.to_string()).or_insert(Family {
            kind,
            help: None,
            lines: Vec::new(),
        })
    }

    /// A HELP line for `name` (Hadoop's own series have none).
    pub fn help(&mut self, name: &str, kind: &'static str, help: &str) {
        self.family(name, kind).help = Some(help.replace('\\', "\\\\").replace('\n', "\\n"));
    }

    pub fn gauge(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let line = sample(name, labels, value);
        self.family(name, "gauge").lines.push(line);
    }

    pub fn counter(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let line = sample(name, labels, value);
        self.family(name, "counter").lines.push(line);
    }

    /// A histogram: `buckets` are (upper bound, count of observations at or below
    /// it), ascending; `+Inf` is added from `count`.
    pub fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        buckets: &[(f64, u64)],
        sum: f64,
        count: u64,
    ) {
        let mut lines = Vec::with_capacity(buckets.len() + 3);
        for (le, n) in buckets {
            let le = format_value(*le);
            let mut l: Vec<(&str, &str)> = labels.to_vec();
            l.push(("le", &le));
            lines.push(sample(&format!("{name}_bucket"), &l, *n as f64));
        }
        let mut l: Vec<(&str, &str)> = labels.to_vec();
        l.push(("le", "+Inf"));
        lines.push(sample(&format!("{name}_bucket"), &l, count as f64));
        lines.push(sample(&format!("{name}_sum"), labels, sum));
        lines.push(sample(&format!("{name}_count"), labels, count as f64));
        self.family(name, "histogram").lines.extend(lines);
    }

    /// The gauges and counters of every bean that is a metrics2 record.
    pub fn add_beans(&mut self, beans: &[Bean]) {
        for bean in beans {
            let Some(record) = &bean.record else { continue };
            let tags: Vec<(String, String)> = bean
                .attrs
                .iter()
                .filter(|a| a.kind == Kind::Tag)
                .map(|a| {
                    let v = a
                        .value
                        .as_str()
                        .map_or_else(|| a.value.to_string(), str::to_string);
                    (a.name.to_ascii_lowercase(), v)
                })
                .filter(|(k, _)| !UNSTABLE_TAGS.contains(&k.as_str()))
                .collect();
            let labels: Vec<(&str, &str)> =
                tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            for a in &bean.attrs {
                let Some(v) = number(&a.value) else { continue };
                let name = hadoop_name(record, &a.name);
                match a.kind {
                    Kind::Gauge => self.gauge(&name, &labels, v),
                    Kind::Counter => self.counter(&name, &labels, v),
                    Kind::Tag | Kind::Info => {}
                }
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, f) in &self.families {
            if let Some(h) = &f.help {
                let _ = writeln!(out, "# HELP {name} {h}");
            }
            let _ = writeln!(out, "# TYPE {name} {}", f.kind);
            for l in &f.lines {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> String {
    let mut s = String::from(name);
    if !labels.is_empty() {
        s.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{k}=\"{}\"", escape_label(v));
        }
        s.push('}');
    }
    s.push(' ');
    s.push_str(&format_value(value));
    s
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The `/prom` response.
pub fn response(out: PromText) -> Response {
    response::full(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        out.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_hadoops_sink() {
        assert_eq!(
            hadoop_name("FSNamesystem", "MissingBlocks"),
            "fs_namesystem_missing_blocks"
        );
        assert_eq!(
            hadoop_name("FSNamesystem", "CapacityUsed"),
            "fs_namesystem_capacity_used"
        );
        assert_eq!(
            hadoop_name("FSNamesystem", "UnderReplicatedBlocks"),
            "fs_namesystem_under_replicated_blocks"
        );
        assert_eq!(
            hadoop_name("FSNamesystem", "NumLiveDataNodes"),
            "fs_namesystem_num_live_data_nodes"
        );
        assert_eq!(
            hadoop_name("FSNamesystem", "MillisSinceLastLoadedEdits"),
            "fs_namesystem_millis_since_last_loaded_edits"
        );
        assert_eq!(
            hadoop_name("JvmMetrics", "MemHeapUsedM"),
            "jvm_metrics_mem_heap_used_m"
        );
        assert_eq!(
            hadoop_name("rpc", "RpcQueueTimeAvgTime"),
            "rpc_rpc_queue_time_avg_time"
        );
        assert_eq!(
            hadoop_name("NameNodeActivity", "CreateFileOps"),
            "name_node_activity_create_file_ops"
        );
        assert_eq!(
            hadoop_name("Journal-ns1", "LastWrittenTxId"),
            "journal_ns1_last_written_tx_id"
        );
    }

    #[test]
    fn families_are_grouped_and_labels_escaped() {
        let mut p = PromText::new();
        p.gauge("a_b", &[("x", "q\"\\\n")], 1.5);
        p.counter("c_total", &[], 3.0);
        p.gauge("a_b", &[("x", "2")], 2.0);
        p.histogram(
            "h_seconds",
            &[("method", "m")],
            &[(0.001, 1), (0.01, 2)],
            0.5,
            3,
        );
        let text = p.render();
        assert_eq!(
            text,
            "# TYPE a_b gauge\na_b{x=\"q\\\"\\\\\\n\"} 1.5\na_b{x=\"2\"} 2\n\
             # TYPE c_total counter\nc_total 3\n\
             # TYPE h_seconds histogram\nh_seconds_bucket{method=\"m\",le=\"0.001\"} 1\n\
             h_seconds_bucket{method=\"m\",le=\"0.01\"} 2\nh_seconds_bucket{method=\"m\",le=\"+Inf\"} 3\n\
             h_seconds_sum{method=\"m\"} 0.5\nh_seconds_count{method=\"m\"} 3\n"
        );
    }
}
