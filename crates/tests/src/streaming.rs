//! A client process fed through its stdin while the test acts on the cluster:
//! `hadoop fs -put - /f` or `hafs dfs -put - /f`, so a fault can be injected in the
//! middle of a write, or the writer itself killed.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::command::describe;
use crate::paths::{hadoop_fs_script, hafs_bin, hafs_cache, jars_dir};
use crate::tools::ConfTarget;

/// A running client whose stdin the test writes.
#[derive(Debug)]
pub struct StreamingClient {
    cmdline: String,
    child: Child,
    stdin: Option<ChildStdin>,
    log: std::path::PathBuf,
}

/// The outcome of a [`StreamingClient`].
#[derive(Debug)]
pub struct StreamingResult {
    pub status: ExitStatus,
    /// stdout and stderr together.
    pub output: String,
}

impl StreamingClient {
    /// `hadoop fs <args>` (Java), stdin piped, output to `log`.
    pub fn java(target: &impl ConfTarget, args: &[&str], log: &std::path::Path) -> StreamingClient {
        let mut cmd = Command::new("bash");
        cmd.arg(hadoop_fs_script())
            .args(args)
            .env("HAFS_CACHE", hafs_cache())
            .env("HAFS_JARS", jars_dir())
            .env("HADOOP_CONF_DIR", target.conf_dir())
            .env_remove("HADOOP_USER_NAME");
        StreamingClient::spawn(cmd, log)
    }

    /// `hafs --config <conf> dfs <args>`, stdin piped, output to `log`.
    pub fn hafs_dfs(
        target: &impl ConfTarget,
        args: &[&str],
        log: &std::path::Path,
    ) -> StreamingClient {
        let mut cmd = Command::new(hafs_bin());
        cmd.env_remove("HADOOP_CONF_DIR")
            .envs(target.client_env())
            .arg("--config")
            .arg(target.conf_dir())
            .arg("dfs")
            .args(args);
        StreamingClient::spawn(cmd, log)
    }

    /// Any command (e.g. a Java program using Hadoop's client API), stdin piped,
    /// output to `log`, killed with its process group when dropped.
    pub fn command(cmd: Command, log: &std::path::Path) -> StreamingClient {
        StreamingClient::spawn(cmd, log)
    }

    /// A Java program given as one source file, run with the Hadoop client jars and the
    /// target's conf dir on the class path (Java's single-file source launcher).
    pub fn java_program(
        target: &impl ConfTarget,
        source: &std::path::Path,
        args: &[&str],
        log: &std::path::Path,
    ) -> StreamingClient {
        let log4j = hadoop_fs_script().with_file_name("hadoop-fs-log4j2.properties");
        let home = hafs_cache().join("hadoop-home");
        let _ = std::fs::create_dir_all(&home);
        let mut cmd = Command::new("java");
        cmd.arg("-XX:TieredStopAtLevel=1")
            .arg("-XX:+UseSerialGC")
            .arg(format!("-Dhadoop.home.dir={}", home.display()))
            .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
            .arg("-cp")
            .arg(format!(
                "{}:{}/*",
                target.conf_dir().display(),
                jars_dir().display()
            ))
            .arg(source)
            .args(args)
            .env_remove("HADOOP_USER_NAME");
        StreamingClient::spawn(cmd, log)
    }

    fn spawn(mut cmd: Command, log: &std::path::Path) -> StreamingClient {
        let cmdline = describe(&cmd);
        let out =
            std::fs::File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone log handle");
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0);
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
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{cmdline}`: {e}"));
        let stdin = child.stdin.take();
        StreamingClient {
            cmdline,
            child,
            stdin,
            log: log.to_path_buf(),
        }
    }

    /// Writes bytes to the client's stdin. Panics if the client exited.
    #[track_caller]
    pub fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        if let Err(e) = stdin.write_all(bytes).and_then(|_| stdin.flush()) {
            panic!(
                "writing to `{}` failed: {e}; output:\n{}",
                self.cmdline,
                self.output()
            );
        }
    }

    /// Closes stdin and waits up to `timeout` for the client to exit.
    #[track_caller]
    pub fn finish(mut self, timeout: Duration) -> StreamingResult {
        self.stdin.take();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return StreamingResult {
                    status,
                    output: self.output(),
                };
            }
            if Instant::now() >= deadline {
                self.kill_group();
                panic!(
                    "`{}` did not finish within {timeout:?}; output:\n{}",
                    self.cmdline,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL the client and everything it started (a crashed writer).
    pub fn kill(mut self) {
        self.kill_group();
    }

    fn kill_group(&mut self) {
        // SAFETY: plain syscall; the group id is our child's pid (process_group(0)).
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the client printed so far.
    pub fn output(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for StreamingClient {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill_group();
        }
    }
}
