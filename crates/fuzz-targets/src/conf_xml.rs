//! Hadoop configuration XML (`core-site.xml`, `hdfs-site.xml`, …), then every value
//! through variable substitution and the typed accessors the daemons read keys with.

use std::time::Duration;

use hafs_conf::{Configuration, TimeUnit};

/// Keys whose values are expanded and parsed per input: bounds the work of one input.
const MAX_KEYS: usize = 64;

pub fn conf_xml(data: &[u8]) {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let mut conf = Configuration::new();
    if conf.add_resource_str("fuzz-site.xml", xml).is_err() {
        return;
    }
    let keys: Vec<String> = conf
        .iter()
        .take(MAX_KEYS)
        .map(|(k, _)| k.to_string())
        .collect();
    for key in &keys {
        let _ = conf.try_get(key);
        let _ = conf.get_i64(key, 0);
        let _ = conf.get_u32(key, 0);
        let _ = conf.get_bool(key, false);
        let _ = conf.get_f64(key, 0.0);
        let _ = conf.get_time_duration(key, Duration::ZERO, TimeUnit::Millis);
        let _ = conf.get_size_bytes(key, 0);
        let _ = conf.get_trimmed_strings(key);
    }
    let _ = conf.get_octal_umask();
}
