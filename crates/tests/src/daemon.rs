//! A long-running child process (a NameNode, later DataNodes, JournalNodes, ZKFCs, or a
//! whole sandbox) with its output in a log file, and the signals fault tests need.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One running child process. Dropping it kills its whole process group.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Child,
    log_path: PathBuf,
    exit: Option<ExitStatus>,
}

impl Daemon {
    /// Starts `cmd` with stdout and stderr appended to `log_path`, stdin closed, in a new
    /// process group of its own (so everything it starts can be killed together and a
    /// terminal Ctrl-C goes only to the test runner).
    pub fn spawn(name: &str, mut cmd: Command, log_path: &Path) -> Daemon {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .unwrap_or_else(|e| panic!("cannot open log {}: {e}", log_path.display()));
        let cmdline = crate::command::describe(&cmd);
        let _ = writeln!(log, "=== harness: starting {name}: {cmdline}");
        let log_err = log.try_clone().expect("clone log file handle");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .process_group(0);
        // If the test process dies without running destructors (killed by a test
        // runner's timeout), take the daemon down too instead of leaking it.
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                );
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} (`{cmdline}`): {e}"));
        Daemon {
            name: name.to_string(),
            child,
            log_path: log_path.to_path_buf(),
            exit: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The whole log so far (lossy UTF-8).
    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| format!("<cannot read {}: {e}>", self.log_path.display()))
    }

    /// The last `n` lines of the log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Whether the process has exited; reaps it if so.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(status);
            }
        }
        self.exit
    }

    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none()
    }

    /// Sends `signal` to the process itself.
    pub fn signal(&self, signal: libc::c_int) {
        if self.exit.is_some() {
            panic!("{}: cannot signal a process that already exited", self.name);
        }
        // SAFETY: plain syscall on a pid we spawned and have not reaped.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        if rc != 0 {
            panic!(
                "{}: kill({}, {signal}) failed: {}",
                self.name,
                self.child.id(),
                std::io::Error::last_os_error()
            );
        }
    }

    /// SIGSTOP: the process freezes, sockets stay open (a long GC pause).
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT after [`Daemon::pause`].
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// SIGKILL to the whole process group (a crash: no shutdown code runs), then reap.
    pub fn kill(&mut self) -> ExitStatus {
        if let Some(status) = self.exit_status() {
            return status;
        }
        // SAFETY: plain syscall; the group id is our child's pid (process_group(0)).
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let status = self.child.wait().expect("wait for killed daemon");
        self.exit = Some(status);
        status
    }

    /// SIGTERM and wait up to `grace` for a clean exit; returns its status, or `None` if
    /// it had to be killed after `grace`.
    pub fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.exit_status() {
            return Some(status);
        }
        // A paused process cannot act on SIGTERM.
        self.signal(libc::SIGCONT);
        self.signal(libc::SIGTERM);
        match self.wait_timeout(grace) {
            Some(status) => Some(status),
            None => {
                self.kill();
                None
            }
        }
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until a log line contains `needle` and returns that line, or panics with
    /// the log after `timeout` or if the process exits first.
    #[track_caller]
    pub fn wait_for_log_line(&mut self, needle: &str, timeout: Duration) -> String {
        self.wait_for_log_line_after(needle, 0, timeout)
    }

    /// Length in bytes of the log so far: pass it to
    /// [`Daemon::wait_for_log_line_after`] to wait for a line logged later (logs are
    /// appended across restarts).
    pub fn log_len(&self) -> usize {
        std::fs::metadata(&self.log_path)
            .map(|m| m.len() as usize)
            .unwrap_or(0)
    }

    /// Like [`Daemon::wait_for_log_line`], looking only at bytes after `offset`.
    #[track_caller]
    pub fn wait_for_log_line_after(
        &mut self,
        needle: &str,
        offset: usize,
        timeout: Duration,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let bytes = std::fs::read(&self.log_path).unwrap_or_default();
            let tail = String::from_utf8_lossy(&bytes[offset.min(bytes.len())..]).into_owned();
            if let Some(line) = tail.lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            if let Some(status) = self.exit_status() {
                panic!(
                    "{} exited ({status}) before logging {needle:?}; log {}:\n{}",
                    self.name,
                    self.log_path.display(),
                    self.log_tail(200)
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} did not log {needle:?} within {timeout:?}; log {}:\n{}",
                    self.name,
                    self.log_path.display(),
                    self.log_tail(200)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exit.is_none() {
            // Never leave a daemon behind, whatever state the test left it in.
            self.kill();
        }
    }
}
