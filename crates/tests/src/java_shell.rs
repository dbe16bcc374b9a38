//! The Java `hadoop fs` shell kept running for a test that runs dozens of commands
//! (crates/tests/java/HafsShellSession.java): each command is the real FsShell with a fresh
//! Configuration and fresh clients, only the JVM's start-up is shared. A scenario test that
//! checks the same state on every NameNode, after a failover and after a restart, saves
//! most of its time this way.
//!
//! What a session cannot do, use [`crate::java_fs`] for: read stdin (`-put -`), run in a
//! secure cluster as several users (one process has one ticket cache), or take JVM flags.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;

use crate::command::{CmdOutput, DEFAULT_CMD_TIMEOUT};
use crate::java::java_class_command;
use crate::tools::ConfTarget;

const REPLY_PREFIX: &str = "HAFS-SHELL ";

/// One running `HafsShellSession` JVM; commands run one at a time.
pub struct JavaShell {
    inner: Mutex<Session>,
}

struct Session {
    child: Child,
    stdin: ChildStdin,
    /// Reply lines (or the reader's end) from the JVM's stdout.
    replies: Receiver<String>,
}

impl JavaShell {
    /// Starts the shell JVM with the target's conf dir and client environment.
    #[track_caller]
    pub fn start(target: &impl ConfTarget) -> JavaShell {
        let mut cmd = java_class_command(target, "HafsShellSession", &[]);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start the HafsShellSession JVM");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        JavaShell {
            inner: Mutex::new(Session {
                child,
                stdin,
                replies,
            }),
        }
    }

    /// `hadoop fs <args…>` as the cluster's default user.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> CmdOutput {
        self.run_as_user("", args)
    }

    /// `hadoop fs <args…>` as `user` (simple authentication, like `HADOOP_USER_NAME`).
    #[track_caller]
    pub fn run_as(&self, user: &str, args: &[&str]) -> CmdOutput {
        assert!(!user.is_empty(), "run_as needs a user name");
        self.run_as_user(user, args)
    }

    #[track_caller]
    fn run_as_user(&self, user: &str, args: &[&str]) -> CmdOutput {
        let cmdline = if user.is_empty() {
            format!("hadoop fs (session) {}", args.join(" "))
        } else {
            format!(
                "HADOOP_USER_NAME={user} hadoop fs (session) {}",
                args.join(" ")
            )
        };
        let mut request = hex(user.as_bytes());
        for a in args {
            request.push('\t');
            request.push_str(&hex(a.as_bytes()));
        }
        request.push('\n');
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = s
            .stdin
            .write_all(request.as_bytes())
            .and_then(|_| s.stdin.flush())
        {
            panic!("{cmdline}: the shell JVM is gone ({e})");
        }
        let line = loop {
            match s.replies.recv_timeout(DEFAULT_CMD_TIMEOUT) {
                Ok(line) if line.starts_with(REPLY_PREFIX) => break line,
                // Anything else on stdout is not ours (a library printing); skip it.
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = s.child.kill();
                    panic!("{cmdline}: no answer within {DEFAULT_CMD_TIMEOUT:?}; JVM killed");
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = s.child.wait().ok();
                    panic!("{cmdline}: the shell JVM exited ({status:?})");
                }
            }
        };
        parse_reply(&cmdline, &line)
    }
}

impl std::fmt::Debug for JavaShell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JavaShell")
    }
}

impl Drop for JavaShell {
    fn drop(&mut self) {
        let s = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = s.child.kill();
        let _ = s.child.wait();
    }
}

fn parse_reply(cmdline: &str, line: &str) -> CmdOutput {
    let mut parts = line[REPLY_PREFIX.len()..].split(' ');
    let code: Option<i32> = parts.next().and_then(|c| c.parse().ok());
    let stdout = parts.next().and_then(unhex);
    let stderr = parts.next().and_then(unhex);
    let (Some(code), Some(stdout), Some(stderr)) = (code, stdout, stderr) else {
        panic!("{cmdline}: malformed reply from the shell JVM: {line:?}");
    };
    CmdOutput {
        cmdline: cmdline.to_string(),
        // A process's exit code is its low byte, as `hadoop fs` exiting would report it.
        status: ExitStatus::from_raw((code & 0xff) << 8),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_any_bytes() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&all)).unwrap(), all);
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn a_reply_becomes_the_commands_output() {
        let out = parse_reply("x", "HAFS-SHELL 1 6869 626f6f");
        assert_eq!(out.code(), Some(1));
        assert_eq!(out.stdout, "hi");
        assert_eq!(out.stderr, "boo");
        // Java's exit(-1) is 255 to the caller.
        assert_eq!(parse_reply("x", "HAFS-SHELL -1  ").code(), Some(255));
    }
}
