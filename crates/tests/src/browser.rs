//! A real headless browser for the web UI tests: Debian's Chromium driven by npm's
//! `playwright-core` (both installed by scripts/test-deps.sh) through
//! `crates/tests/browser/driver.cjs`, one JSON command per line. A missing Node,
//! Chromium or playwright-core panics naming the script, so the test never skips.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::paths::{hafs_cache, workspace_root};

/// One browser page, alive until dropped.
pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// A console error or uncaught exception the page produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleError {
    pub text: String,
    /// The resource it is about, when the browser says.
    pub url: String,
}

fn chromium() -> PathBuf {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    panic!("chromium not found: run scripts/test-deps.sh (it installs Debian's chromium)");
}

fn playwright_core() -> PathBuf {
    let dir = hafs_cache()
        .join("npm")
        .join("node_modules")
        .join("playwright-core");
    if !dir.join("package.json").is_file() {
        panic!(
            "playwright-core not found in {}: run scripts/test-deps.sh",
            dir.display()
        );
    }
    dir
}

/// Where the UI tests save screenshots for a person to look at:
/// `HAFS_UI_SCREENSHOTS`, else `<workspace>/target/ui-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("HAFS_UI_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join("ui-screenshots"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

impl Browser {
    pub fn launch() -> Browser {
        let driver = workspace_root()
            .join("crates")
            .join("tests")
            .join("browser")
            .join("driver.cjs");
        let mut child = Command::new("node")
            .arg(&driver)
            .env("HAFS_PLAYWRIGHT_CORE", playwright_core())
            .env("HAFS_CHROMIUM", chromium())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run node (Node >= 20; scripts/test-deps.sh names it): {e}")
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Browser {
            child,
            stdin,
            stdout,
        }
    }

    fn call(&mut self, command: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{command}").map_err(|e| format!("browser driver gone: {e}"))?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("browser driver: {e}"))?;
        if line.is_empty() {
            return Err(format!("browser driver exited during {command}"));
        }
        let reply: Value = serde_json::from_str(&line)
            .map_err(|e| format!("browser driver answered {line:?}: {e}"))?;
        if reply["ok"] == true {
            Ok(reply["value"].clone())
        } else {
            Err(reply["error"].as_str().unwrap_or("?").to_string())
        }
    }

    #[track_caller]
    fn must(&mut self, command: Value) -> Value {
        let what = command.to_string();
        self.call(command)
            .unwrap_or_else(|e| panic!("browser: {what}: {e}"))
    }

    pub fn open(&mut self, url: &str) {
        self.must(json!({"cmd": "open", "url": url}));
    }

    /// Waits until the JavaScript expression `js` is truthy in the page (polled every
    /// 200 ms), returning its value; `Err` with the browser's words on timeout.
    pub fn wait(&mut self, js: &str, timeout: Duration) -> Result<Value, String> {
        self.call(json!({"cmd": "wait", "js": js, "timeout": timeout.as_millis() as u64}))
    }

    #[track_caller]
    pub fn eval(&mut self, js: &str) -> Value {
        self.must(json!({"cmd": "eval", "js": js}))
    }

    #[track_caller]
    pub fn fill(&mut self, selector: &str, text: &str) {
        self.must(json!({"cmd": "fill", "selector": selector, "text": text}));
    }

    #[track_caller]
    pub fn click(&mut self, selector: &str) {
        self.must(json!({"cmd": "click", "selector": selector}));
    }

    /// Chooses `path` in the file input `selector`, as a user picking a file.
    #[track_caller]
    pub fn set_file(&mut self, selector: &str, path: &Path) {
        self.must(json!({"cmd": "files", "selector": selector, "path": path}));
    }

    /// Saves a full-page screenshot as `<screenshot_dir>/<name>.png`; returns its path.
    #[track_caller]
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        let path = screenshot_dir().join(format!("{name}.png"));
        self.must(json!({"cmd": "screenshot", "path": path}));
        path
    }

    #[track_caller]
    pub fn console_errors(&mut self) -> Vec<ConsoleError> {
        let v = self.must(json!({"cmd": "errors"}));
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| ConsoleError {
                        text: e["text"].as_str().unwrap_or("").to_string(),
                        url: e["url"].as_str().unwrap_or("").to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"cmd": "close"}));
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
