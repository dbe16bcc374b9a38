//! A throwaway MIT Kerberos KDC for a secure local cluster and the Kerberos tests: realm
//! `HAFS.TEST` in a directory of its own, served by `krb5kdc` on a free loopback TCP
//! port, with service principals (`nn/localhost@HAFS.TEST`, one keytab each) and users
//! (`alice@HAFS.TEST`, with a `FILE:` ticket cache from `kinit`).
//!
//! Everything the MIT tools and library read comes from files in that directory, named
//! by [`Kdc::env`] (`KRB5_CONFIG`, `KRB5_KDC_PROFILE`, `KRB5RCACHEDIR`), so several
//! fixtures run side by side without touching `/etc/krb5.conf`. Java reads the same
//! krb5.conf through [`Kdc::java_option`]. The settings in it avoid what breaks a
//! loopback realm: no DNS for KDCs or realms, no reverse or forward canonicalization of
//! `localhost`, TCP only (`udp_preference_limit = 1`), AES enctypes only (Java 17 has no
//! DES and refuses RC4 by default), `FILE:` caches (Java reads no KEYRING or KCM cache).

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::error::{bail, Context, Result};
use crate::files::log_tail;
use crate::ports::{try_free_port, wait_for_port};

/// The realm every fixture serves (one per directory and port, so they never meet).
pub const REALM: &str = "HAFS.TEST";

/// What to run when an MIT tool is missing.
pub const TOOLS_MISSING: &str = "the MIT Kerberos KDC and tools are not installed: run \
     scripts/test-deps.sh (Debian packages krb5-kdc, krb5-admin-server, krb5-user)";

/// AES only: both the SHA-1 (RFC 3962) and SHA-2 (RFC 8009) families, which MIT 1.20 and
/// Java 17 share.
const ENCTYPES: &str = "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 \
     aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128";

/// How long `krb5kdc` may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How a user principal proves itself to `kinit`.
#[derive(Debug, Clone)]
enum UserSecret {
    Password(String),
    Keytab(PathBuf),
}

/// A running KDC; stopped (by pid) on [`Kdc::stop`] or drop. Its directory is the
/// caller's to remove.
#[derive(Debug)]
pub struct Kdc {
    dir: PathBuf,
    port: u16,
    server: Option<KdcProcess>,
    users: Mutex<HashMap<String, UserSecret>>,
}

/// `program` found on PATH or in the sbin directories Debian installs the KDC into
/// (a non-root PATH often lacks them).
fn tool(program: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from));
    for d in dirs {
        let p = d.join(program);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("`{program}` not found: {TOOLS_MISSING}")
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    let mut f = std::fs::File::open("/dev/urandom").context("opening /dev/urandom")?;
    std::io::Read::read_exact(&mut f, &mut buf).context("reading /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

impl Kdc {
    /// Creates the realm under `dir` (created if missing) and starts `krb5kdc` on a free
    /// loopback port; returns once it accepts connections.
    pub fn start(dir: &Path) -> Result<Kdc> {
        for t in ["kdb5_util", "krb5kdc", "kadmin.local", "kinit"] {
            tool(t)?;
        }
        std::fs::create_dir_all(dir.join("rcache"))
            .with_context(|| format!("creating {}", dir.display()))?;
        std::fs::create_dir_all(dir.join("keytabs"))
            .with_context(|| format!("creating {}", dir.display()))?;
        let dir =
            std::fs::canonicalize(dir).with_context(|| format!("resolving {}", dir.display()))?;
        let port = try_free_port().context("picking a port for the KDC")?;
        let mut kdc = Kdc {
            dir,
            port,
            server: None,
            users: Mutex::new(HashMap::new()),
        };
        kdc.write_config()?;
        kdc.create_database()?;
        kdc.launch()?;
        Ok(kdc)
    }

    fn write_config(&self) -> Result<()> {
        let d = self.dir.display();
        let port = self.port;
        let krb5_conf = format!(
            "[libdefaults]\n\
             \x20default_realm = {REALM}\n\
             \x20dns_lookup_kdc = false\n\
             \x20dns_lookup_realm = false\n\
             \x20dns_canonicalize_hostname = false\n\
             \x20rdns = false\n\
             \x20udp_preference_limit = 1\n\
             \x20forwardable = false\n\
             \x20default_tkt_enctypes = {ENCTYPES}\n\
             \x20default_tgs_enctypes = {ENCTYPES}\n\
             \x20permitted_enctypes = {ENCTYPES}\n\
             \x20default_ccache_name = FILE:{d}/ccache-default\n\
             \x20default_keytab_name = FILE:{d}/keytabs/default.keytab\n\
             \x20default_client_keytab_name = FILE:{d}/keytabs/default-client.keytab\n\
             \n[realms]\n\
             \x20{REALM} = {{\n\
             \x20 kdc = 127.0.0.1:{port}\n\
             \x20}}\n\
             \n[domain_realm]\n\
             \x20localhost = {REALM}\n\
             \x20.localhost = {REALM}\n\
             \x20127.0.0.1 = {REALM}\n"
        );
        let supported: Vec<String> = ENCTYPES
            .split_whitespace()
            .map(|e| format!("{e}:normal"))
            .collect();
        let kdc_conf = format!(
            "[kdcdefaults]\n\
             \x20kdc_listen = 127.0.0.1:{port}\n\
             \x20kdc_tcp_listen = 127.0.0.1:{port}\n\
             \n[realms]\n\
             \x20{REALM} = {{\n\
             \x20 database_name = {d}/principal\n\
             \x20 key_stash_file = {d}/stash\n\
             \x20 acl_file = {d}/kadm5.acl\n\
             \x20 kdc_listen = 127.0.0.1:{port}\n\
             \x20 kdc_tcp_listen = 127.0.0.1:{port}\n\
             \x20 master_key_type = aes256-cts-hmac-sha1-96\n\
             \x20 supported_enctypes = {}\n\
             \x20 max_life = 10h\n\
             \x20 max_renewable_life = 1d\n\
             \x20}}\n\
             \n[logging]\n\
             \x20kdc = FILE:{d}/kdc.log\n\
             \x20admin_server = FILE:{d}/kadmin.log\n\
             \x20default = FILE:{d}/krb5lib.log\n",
            supported.join(" ")
        );
        crate::files::write_text(&self.krb5_conf(), &krb5_conf)?;
        crate::files::write_text(&self.kdc_conf(), &kdc_conf)?;
        crate::files::write_text(&self.dir.join("kadm5.acl"), "")?;
        Ok(())
    }

    /// A command for an MIT tool with this realm's environment.
    pub fn command(&self, program: &str) -> Result<Command> {
        let mut cmd = Command::new(tool(program)?);
        cmd.envs(self.env())
            .env_remove("KRB5CCNAME")
            .env_remove("KRB5_KTNAME")
            .env_remove("KRB5_CLIENT_KTNAME")
            .stdin(Stdio::null());
        Ok(cmd)
    }

    /// Runs a command to completion; returns its stdout and stderr, or fails with them
    /// unless it succeeded.
    fn run(&self, what: &str, mut cmd: Command, stdin: Option<&str>) -> Result<String> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().with_context(|| format!("running {what}"))?;
        if let Some(input) = stdin {
            if let Some(mut s) = child.stdin.take() {
                s.write_all(input.as_bytes())
                    .with_context(|| format!("writing to {what}"))?;
            }
        }
        let out = child
            .wait_with_output()
            .with_context(|| format!("waiting for {what}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            bail!("{what} failed ({}):\n{text}", out.status);
        }
        Ok(text)
    }

    fn create_database(&self) -> Result<()> {
        let master = random_hex(16)?;
        let mut cmd = self.command("kdb5_util")?;
        cmd.args(["-r", REALM, "create", "-s", "-P", &master]);
        self.run("kdb5_util create", cmd, None)?;
        Ok(())
    }

    fn launch(&mut self) -> Result<()> {
        let log = self.dir.join("krb5kdc.out");
        let out =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("duplicating the KDC log handle")?;
        let mut cmd = self.command("krb5kdc")?;
        // -n: stay in the foreground, so the fixture owns the pid it stops.
        cmd.args(["-n", "-r", REALM]).stdout(out).stderr(err);
        let process = KdcProcess::spawn(cmd)?;
        tracing::debug!(pid = process.pid, port = self.port, dir = %self.dir.display(), "krb5kdc started");
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        self.server = Some(process);
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.server.as_ref().and_then(KdcProcess::exited) {
                self.stop();
                bail!(
                    "krb5kdc exited ({status}) before listening on {addr}; {}:\n{}\n{}",
                    log.display(),
                    log_tail(&log, 20).join("\n"),
                    log_tail(&self.dir.join("kdc.log"), 20).join("\n")
                );
            }
            if wait_for_port(addr, Duration::from_millis(200)) {
                return Ok(());
            }
        }
        self.stop();
        bail!(
            "krb5kdc did not listen on {addr} within {START_TIMEOUT:?}; see {}",
            log.display()
        )
    }

    /// The realm (`HAFS.TEST`).
    pub fn realm(&self) -> &'static str {
        REALM
    }

    /// The KDC's TCP (and UDP) port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pid of the running `krb5kdc`, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().map(|p| p.pid)
    }

    /// The fixture's directory (database, configs, keytabs, caches, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The generated krb5.conf (for clients and services).
    pub fn krb5_conf(&self) -> PathBuf {
        self.dir.join("krb5.conf")
    }

    /// The generated kdc.conf (for the KDC and kadmin.local).
    pub fn kdc_conf(&self) -> PathBuf {
        self.dir.join("kdc.conf")
    }

    /// `name@HAFS.TEST`.
    pub fn principal(&self, name: &str) -> String {
        format!("{name}@{REALM}")
    }

    /// The environment for MIT tools and anything using the MIT library (hafs daemons,
    /// hdfs-native): `KRB5_CONFIG`, `KRB5_KDC_PROFILE`, `KRB5RCACHEDIR`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KRB5_CONFIG", self.krb5_conf().display().to_string()),
            ("KRB5_KDC_PROFILE", self.kdc_conf().display().to_string()),
            (
                "KRB5RCACHEDIR",
                self.dir.join("rcache").display().to_string(),
            ),
        ]
    }

    /// The JVM option that points Java's Kerberos at this realm (for
    /// `HADOOP_FS_JAVA_OPTS` or a `java` command line); Java ignores `KRB5_CONFIG`.
    pub fn java_option(&self) -> String {
        format!("-Djava.security.krb5.conf={}", self.krb5_conf().display())
    }

    /// Runs one `kadmin.local` query against this realm's database.
    pub fn kadmin(&self, query: &str) -> Result<String> {
        let mut cmd = self.command("kadmin.local")?;
        cmd.args(["-r", REALM, "-q", query]);
        let out = self.run(&format!("kadmin.local -q {query:?}"), cmd, None)?;
        // kadmin.local exits 0 when a query fails and reports it on stderr as
        // `add_principal: Principal or policy already exists while creating "…"`.
        if out.contains(" while ") {
            bail!("kadmin.local -q {query:?} failed:\n{out}");
        }
        Ok(out)
    }

    /// Adds the service principal `service/host@HAFS.TEST` with a random key and writes
    /// it to a keytab of its own (`ktadd` re-randomizes keys, so principals never share
    /// a keytab). Returns the keytab's path.
    pub fn add_service(&self, service: &str, host: &str) -> Result<PathBuf> {
        let name = format!("{service}/{host}");
        self.add_with_keytab(&name, &format!("{service}_{host}"))
    }

    fn add_with_keytab(&self, name: &str, file: &str) -> Result<PathBuf> {
        check_name(name)?;
        let keytab = self.dir.join("keytabs").join(format!("{file}.keytab"));
        self.kadmin(&format!("addprinc -randkey {name}"))?;
        self.kadmin(&format!("ktadd -k {} {name}", keytab.display()))?;
        if !keytab.is_file() {
            bail!(
                "kadmin.local wrote no keytab {} for {name}",
                keytab.display()
            );
        }
        Ok(keytab)
    }

    /// Adds the user principal `user@HAFS.TEST` with `password`.
    pub fn add_user(&self, user: &str, password: &str) -> Result<()> {
        check_name(user)?;
        if password.is_empty() || password.contains(['"', '\n', ' ']) {
            bail!("test passwords must be non-empty without quotes, spaces or newlines");
        }
        self.kadmin(&format!("addprinc -pw {password} {user}"))?;
        self.users_lock()
            .insert(user.to_string(), UserSecret::Password(password.to_string()));
        Ok(())
    }

    /// Adds the user principal `user@HAFS.TEST` with a random key in a keytab of its own
    /// (a client keytab); returns the keytab's path.
    pub fn add_user_keytab(&self, user: &str) -> Result<PathBuf> {
        let keytab = self.add_with_keytab(user, &format!("user_{user}"))?;
        self.users_lock()
            .insert(user.to_string(), UserSecret::Keytab(keytab.clone()));
        Ok(keytab)
    }

    fn users_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, UserSecret>> {
        // A poisoned lock only means another thread panicked while adding a user; the
        // map is still right.
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh `FILE:` ticket cache holding a TGT for `user` (`kinit`), at
    /// `<dir>/ccache-<user>`; a user not added yet is added with a keytab first.
    /// Returns the cache file's path (`KRB5CCNAME=FILE:<path>`, Java's `ticketCache`).
    pub fn user_ccache(&self, user: &str) -> Result<PathBuf> {
        check_name(user)?;
        let secret = self.users_lock().get(user).cloned();
        let secret = match secret {
            Some(s) => s,
            None => UserSecret::Keytab(self.add_user_keytab(user)?),
        };
        let ccache = self.dir.join(format!("ccache-{}", user.replace('/', "_")));
        let _ = std::fs::remove_file(&ccache);
        let principal = self.principal(user);
        let mut cmd = self.command("kinit")?;
        cmd.arg("-c").arg(format!("FILE:{}", ccache.display()));
        match secret {
            UserSecret::Keytab(kt) => {
                cmd.arg("-kt").arg(kt).arg(&principal);
                self.run(&format!("kinit {principal}"), cmd, None)?;
            }
            UserSecret::Password(pw) => {
                cmd.arg(&principal);
                self.run(&format!("kinit {principal}"), cmd, Some(&format!("{pw}\n")))?;
            }
        }
        Ok(ccache)
    }

    /// Stops `krb5kdc` (by its pid) and waits for it; idempotent.
    pub fn stop(&mut self) {
        if let Some(p) = self.server.take() {
            p.stop();
        }
    }
}

/// `krb5kdc` run from a thread of its own that lives exactly as long as the fixture.
///
/// The child gets `PR_SET_PDEATHSIG`, so that a test process killed without running
/// destructors (a runner's timeout, a fixture kept in a static) takes its KDC down
/// instead of leaking it. Linux sends that signal when the *thread* that spawned the
/// child ends, and test threads end with their test, so the spawning thread is this
/// keeper, which ends only on [`KdcProcess::stop`].
#[derive(Debug)]
struct KdcProcess {
    pid: u32,
    exit: Arc<Mutex<Option<ExitStatus>>>,
    stop: mpsc::Sender<()>,
    keeper: Option<std::thread::JoinHandle<()>>,
}

impl KdcProcess {
    fn spawn(mut cmd: Command) -> Result<KdcProcess> {
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            use std::os::unix::process::CommandExt;
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
        let exit = Arc::new(Mutex::new(None));
        let (started_tx, started_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let exit_w = Arc::clone(&exit);
        let keeper = std::thread::Builder::new()
            .name("krb5kdc-keeper".into())
            .spawn(move || {
                let mut child = match cmd.spawn() {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                let _ = started_tx.send(Ok(child.id()));
                loop {
                    match stop_rx.recv_timeout(Duration::from_millis(50)) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            if let Ok(Some(status)) = child.try_wait() {
                                *exit_w.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
                                // Wait for stop; keeping the thread keeps nothing alive.
                                let _ = stop_rx.recv();
                                return;
                            }
                        }
                        // Stop asked, or the fixture is gone.
                        _ => {
                            // SIGKILL: the KDC holds nothing worth flushing (the database
                            // is written by kadmin.local, not by it).
                            if let Err(e) = child.kill() {
                                tracing::warn!(pid = child.id(), "stopping krb5kdc: {e}");
                            }
                            let _ = child.wait();
                            return;
                        }
                    }
                }
            })
            .context("starting the krb5kdc keeper thread")?;
        let pid = started_rx
            .recv()
            .context("the krb5kdc keeper thread ended")?
            .context("starting krb5kdc")?;
        Ok(KdcProcess {
            pid,
            exit,
            stop: stop_tx,
            keeper: Some(keeper),
        })
    }

    fn exited(&self) -> Option<ExitStatus> {
        *self.exit.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stop(mut self) {
        let _ = self.stop.send(());
        if let Some(k) = self.keeper.take() {
            let _ = k.join();
        }
        tracing::debug!(pid = self.pid, "krb5kdc stopped");
    }
}

/// Principal names go into kadmin.local queries: only plain names, no quoting games.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    if !ok {
        bail!("principal name {name:?}: use letters, digits, '/', '.', '-', '_' only");
    }
    Ok(())
}

impl Drop for Kdc {
    fn drop(&mut self) {
        self.stop();
    }
}
