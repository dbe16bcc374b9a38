//! Running a client command to completion with a deadline, keeping everything a failed
//! assertion needs to explain itself.

use std::fmt;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A command that takes longer than this is killed and the test fails.
pub const DEFAULT_CMD_TIMEOUT: Duration = Duration::from_secs(120);

/// What a finished command printed and how it exited.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    /// The command line, for messages.
    pub cmdline: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    /// The exit code; `None` when the process died of a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Non-empty stdout lines.
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Panics, showing the command, exit status, stdout and stderr, unless it exited 0.
    #[track_caller]
    pub fn ok(self) -> CmdOutput {
        if !self.success() {
            panic!("command failed unexpectedly:\n{self}");
        }
        self
    }

    /// Panics, showing everything, unless the command exited with `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> CmdOutput {
        if self.code() != Some(code) {
            panic!("expected exit code {code}:\n{self}");
        }
        self
    }

    /// Panics, showing everything, unless the command exited with a non-zero code.
    #[track_caller]
    pub fn expect_failure(self) -> CmdOutput {
        match self.code() {
            Some(c) if c != 0 => self,
            _ => panic!("expected the command to fail:\n{self}"),
        }
    }

    /// Panics unless stderr contains `needle`.
    #[track_caller]
    pub fn expect_stderr_contains(self, needle: &str) -> CmdOutput {
        if !self.stderr.contains(needle) {
            panic!("expected stderr to contain {needle:?}:\n{self}");
        }
        self
    }
}

impl fmt::Display for CmdOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  command: {}", self.cmdline)?;
        writeln!(f, "  status:  {}", self.status)?;
        writeln!(f, "  stdout:\n{}", indent(&self.stdout))?;
        write!(f, "  stderr:\n{}", indent(&self.stderr))
    }
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    <empty>".to_string();
    }
    text.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A printable form of `cmd`: program, args, and the env vars it sets.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            s.push_str(&format!("{}={} ", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    s.push_str(&cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.contains(char::is_whitespace) || a.is_empty() {
            s.push_str(&format!(" '{a}'"));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// Runs `cmd` (stdin closed, stdout/stderr captured) until it exits or `timeout` passes;
/// on timeout the process is killed and the test panics with what it printed so far.
#[track_caller]
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> CmdOutput {
    let cmdline = describe(&cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{cmdline}`: {e}"));
    // Drain both pipes on their own threads so a chatty command never blocks on a full pipe.
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let status = child.wait().expect("wait after kill");
                let output = CmdOutput {
                    cmdline,
                    status,
                    stdout: join(out),
                    stderr: join(err),
                };
                panic!("command timed out after {timeout:?} and was killed:\n{output}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for `{cmdline}` failed: {e}"),
        }
    };
    CmdOutput {
        cmdline,
        status,
        stdout: join(out),
        stderr: join(err),
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn join(handle: std::thread::JoinHandle<String>) -> String {
    handle
        .join()
        .unwrap_or_else(|_| "<reader thread panicked>".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_exit_code() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let out = run_with_timeout(cmd, Duration::from_secs(10));
        assert_eq!(out.code(), Some(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        let out = out
            .expect_code(3)
            .expect_failure()
            .expect_stderr_contains("err");
        assert!(format!("{out}").contains("exit status: 3"));
    }

    #[test]
    #[should_panic(expected = "command failed unexpectedly")]
    fn ok_panics_on_failure() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 1"]);
        run_with_timeout(cmd, Duration::from_secs(10)).ok();
    }

    #[test]
    #[should_panic(expected = "timed out")]
    fn timeout_kills_the_command() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        run_with_timeout(cmd, Duration::from_millis(200));
    }
}
