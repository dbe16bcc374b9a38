//! Output of the data commands (`-df`, `-checksum`, progress bar), kept pure for tests.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::format;

/// Columns of `-df`: Filesystem, then right-aligned Size, Used, Available, Use%
/// (Hadoop's TableListing, two spaces between columns).
pub fn df_lines(fs: &str, capacity: u64, used: u64, remaining: u64, human: bool) -> Vec<String> {
    let pct = if capacity == 0 {
        0.0
    } else {
        used as f64 * 100.0 / capacity as f64
    };
    let rows = [
        [
            "Filesystem".to_string(),
            "Size".into(),
            "Used".into(),
            "Available".into(),
            "Use%".into(),
        ],
        [
            fs.to_string(),
            format::size(capacity, human),
            format::size(used, human),
            format::size(remaining, human),
            format!("{pct:.0}%"),
        ],
    ];
    let mut widths = [0usize; 5];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let mut line = format!("{:<w$}", r[0], w = widths[0]);
            for i in 1..5 {
                line.push_str(&format!("  {:>w$}", r[i], w = widths[i]));
            }
            line
        })
        .collect()
}

/// `-checksum`'s line: path, algorithm, hex (or NONE for a file without blocks).
pub fn checksum_line(display: &str, algorithm_and_hex: Option<(String, String)>) -> String {
    match algorithm_and_hex {
        Some((alg, hex)) => format!("{display}\t{alg}\t{hex}"),
        None => format!("{display}\tNONE\t"),
    }
}

/// Files smaller than this never show a progress bar.
const PROGRESS_MIN_BYTES: u64 = 8 << 20;
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// A one-line progress bar on stderr, only when stderr is a terminal.
pub struct Progress {
    name: String,
    total: u64,
    done: u64,
    started: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
}

impl Progress {
    pub fn new(name: &str, total: u64) -> Progress {
        let enabled = total >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal();
        Progress {
            name: name.to_string(),
            total,
            done: 0,
            started: Instant::now(),
            last_draw: None,
            enabled,
        }
    }

    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.last_draw.is_some_and(|t| now - t < PROGRESS_EVERY) {
            return;
        }
        self.last_draw = Some(now);
        eprint!(
            "\r{}",
            progress_line(&self.name, self.done, self.total, now - self.started)
        );
    }

    pub fn finish(&mut self) {
        if self.enabled && self.last_draw.is_some() {
            eprintln!(
                "\r{}",
                progress_line(&self.name, self.done, self.total, self.started.elapsed())
            );
        }
    }
}

/// `name  [#####.....]  45%  12.0 M/27.0 M  3.1 MB/s`.
pub fn progress_line(name: &str, done: u64, total: u64, elapsed: Duration) -> String {
    const WIDTH: usize = 30;
    let frac = if total == 0 {
        1.0
    } else {
        (done as f64 / total as f64).min(1.0)
    };
    let filled = (frac * WIDTH as f64) as usize;
    let secs = elapsed.as_secs_f64().max(0.001);
    let rate = format::human_size((done as f64 / secs) as i64);
    format!(
        "{name}  [{}{}] {:>3.0}%  {}/{}  {rate}/s",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        frac * 100.0,
        format::human_size(done as i64),
        format::human_size(total as i64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_aligns_like_hadoop() {
        let l = df_lines("hdfs://ns", 1000, 250, 700, false);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0], "Filesystem  Size  Used  Available  Use%");
        assert_eq!(l[1], "hdfs://ns   1000   250        700   25%");
        let h = df_lines("hdfs://ns", 3 << 30, 0, 3 << 30, true);
        assert!(h[1].contains("3 G"), "{}", h[1]);
        assert!(h[1].ends_with("0%"));
        assert!(df_lines("x", 0, 0, 0, false)[1].ends_with("0%"));
    }

    #[test]
    fn checksum_lines() {
        assert_eq!(
            checksum_line(
                "/a",
                Some(("MD5-of-0MD5-of-512CRC32C".into(), "00000200".into()))
            ),
            "/a\tMD5-of-0MD5-of-512CRC32C\t00000200"
        );
        assert_eq!(checksum_line("/e", None), "/e\tNONE\t");
    }

    #[test]
    fn progress_line_shows_fraction() {
        let l = progress_line("f", 50, 100, Duration::from_secs(1));
        assert!(l.contains(" 50%"), "{l}");
        assert!(
            l.contains(&format!("[{}{}]", "#".repeat(15), ".".repeat(15))),
            "{l}"
        );
        let l = progress_line("f", 0, 0, Duration::ZERO);
        assert!(l.contains("100%"), "{l}");
    }
}
