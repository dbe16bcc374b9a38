//! A Kerberos realm for a secure [`MiniCluster`](crate::MiniCluster): a throwaway MIT KDC
//! (`hafs_cluster::Kdc`), one keytab per service principal (`nn/localhost`,
//! `dn/localhost`, `jn/localhost`, and `HTTP/localhost` for the NameNodes' SPNEGO), users with ticket caches, the security keys of the
//! site files, and the environment daemons and clients run with.

use std::path::{Path, PathBuf};

use hafs_cluster::Kdc;

/// The users a secure cluster's realm knows (each gets a ticket cache on demand).
pub const USERS: &[&str] = &["alice", "bob", "hdfs"];

/// The rules that make every service principal the superuser `hdfs`, as Hadoop's
/// SecureMode guide shows, and everyone else their first component.
pub const AUTH_TO_LOCAL: &str = "RULE:[2:$1/$2@$0](nn/.*@HAFS.TEST)s/.*/hdfs/\n\
RULE:[2:$1/$2@$0](dn/.*@HAFS.TEST)s/.*/hdfs/\n\
RULE:[2:$1/$2@$0](jn/.*@HAFS.TEST)s/.*/hdfs/\n\
DEFAULT";

#[derive(Debug)]
pub struct SecureRealm {
    kdc: Kdc,
    protection: String,
    nn_keytab: PathBuf,
    dn_keytab: PathBuf,
    jn_keytab: PathBuf,
    http_keytab: PathBuf,
}

impl SecureRealm {
    /// Starts a KDC in `dir` with the service principals and [`USERS`].
    #[track_caller]
    pub fn start(dir: &Path, protection: &str) -> SecureRealm {
        let kdc = Kdc::start(dir).unwrap_or_else(|e| panic!("cannot start the KDC: {e}"));
        let keytab = |service: &str| {
            kdc.add_service(service, "localhost")
                .unwrap_or_else(|e| panic!("cannot add {service}/localhost: {e}"))
        };
        let (nn_keytab, dn_keytab, jn_keytab) = (keytab("nn"), keytab("dn"), keytab("jn"));
        let http_keytab = keytab("HTTP");
        for user in USERS {
            kdc.add_user(user, &format!("{user}-password"))
                .unwrap_or_else(|e| panic!("cannot add user {user}: {e}"));
        }
        SecureRealm {
            kdc,
            protection: protection.to_string(),
            nn_keytab,
            dn_keytab,
            jn_keytab,
            http_keytab,
        }
    }

    /// The keytab of `nn/localhost` (a test logs in with it to act as a NameNode).
    pub fn nn_keytab(&self) -> &Path {
        &self.nn_keytab
    }

    pub fn kdc(&self) -> &Kdc {
        &self.kdc
    }

    /// `hadoop.rpc.protection` of the cluster.
    pub fn protection(&self) -> &str {
        &self.protection
    }

    /// The security keys every daemon and client of the cluster reads.
    pub fn site(&self) -> Vec<(String, String)> {
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        let path = |p: &PathBuf| p.display().to_string();
        vec![
            kv("hadoop.security.authentication", "kerberos"),
            kv("hadoop.security.authorization", "true"),
            kv("hadoop.rpc.protection", &self.protection),
            // The data path as Hadoop's secure mode has it: block access tokens, and the
            // SASL handshake on every DataNode connection at the same protection (a
            // Kerberos DataNode on an unprivileged port refuses to start without it).
            kv("dfs.block.access.token.enable", "true"),
            kv("dfs.data.transfer.protection", &self.protection),
            kv("hadoop.security.auth_to_local", AUTH_TO_LOCAL),
            kv("dfs.namenode.kerberos.principal", "nn/_HOST@HAFS.TEST"),
            kv("dfs.namenode.keytab.file", &path(&self.nn_keytab)),
            kv("dfs.datanode.kerberos.principal", "dn/_HOST@HAFS.TEST"),
            kv("dfs.datanode.keytab.file", &path(&self.dn_keytab)),
            kv("dfs.journalnode.kerberos.principal", "jn/_HOST@HAFS.TEST"),
            kv("dfs.journalnode.keytab.file", &path(&self.jn_keytab)),
            // SPNEGO on the NameNodes' HTTP servers (image transfer, status page).
            kv(
                "dfs.web.authentication.kerberos.principal",
                "HTTP/_HOST@HAFS.TEST",
            ),
            kv(
                "dfs.web.authentication.kerberos.keytab",
                &path(&self.http_keytab),
            ),
            // Java's HAAdmin and controller clients find the principal through this.
            kv(
                "hadoop.security.service.user.name.key",
                "dfs.namenode.kerberos.principal",
            ),
        ]
    }

    /// What daemons run with: the realm's krb5.conf and replay cache dir.
    pub fn daemon_env(&self) -> Vec<(String, String)> {
        self.kdc
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    /// What a client run as `user` needs: the realm's krb5.conf (for the MIT library
    /// and for Java), and `user`'s ticket cache.
    #[track_caller]
    pub fn user_env(&self, user: &str) -> Vec<(String, String)> {
        let ccache = self
            .kdc
            .user_ccache(user)
            .unwrap_or_else(|e| panic!("kinit {user}: {e}"));
        let mut env = self.no_ticket_env();
        env.push(("KRB5CCNAME".into(), format!("FILE:{}", ccache.display())));
        env
    }

    /// A client with the realm's configuration but no ticket.
    pub fn no_ticket_env(&self) -> Vec<(String, String)> {
        let mut env = self.daemon_env();
        env.push((
            "KRB5CCNAME".into(),
            format!("FILE:{}", self.kdc.dir().join("no-such-ccache").display()),
        ));
        env.push(("HADOOP_FS_JAVA_OPTS".into(), self.kdc.java_option()));
        // The real `hdfs` command (scripts/hdfs) reads its JVM flags from here.
        env.push(("HDFS_JAVA_OPTS".into(), self.kdc.java_option()));
        env
    }
}

/// A KDC shared by every test of one test binary, for tests that call the MIT library
/// in process: the library reads `KRB5_CONFIG` from the process environment, so a
/// binary can use one realm only. The first call starts it in a temporary directory
/// named after `label` and sets the environment (with an empty default ticket cache);
/// later calls return the same one. The KDC is killed and its directory removed when
/// the process exits (a static is never dropped).
pub fn process_kdc(label: &str) -> &'static Kdc {
    static KDC: std::sync::OnceLock<(Kdc, crate::TempDir)> = std::sync::OnceLock::new();
    static CLEANUP: std::sync::OnceLock<(u32, PathBuf)> = std::sync::OnceLock::new();
    extern "C" fn clean_up_at_exit() {
        if let Some((pid, dir)) = CLEANUP.get() {
            // SAFETY: plain syscall on the pid of the KDC this process started.
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
            if std::env::var_os("HAFS_KEEP_TMP").is_none() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
    &KDC.get_or_init(|| {
        let dir = crate::TempDir::new(label);
        let kdc = Kdc::start(dir.path()).expect("start the KDC (scripts/test-deps.sh)");
        let _ = CLEANUP.set((kdc.pid().unwrap(), dir.path().to_path_buf()));
        // SAFETY: registers a plain extern "C" function.
        unsafe { libc::atexit(clean_up_at_exit) };
        for (k, v) in kdc.env() {
            // Before any GSS call in this binary; every caller waits for this.
            std::env::set_var(k, v);
        }
        std::env::set_var(
            "KRB5CCNAME",
            format!("FILE:{}/no-default-ccache", dir.path().display()),
        );
        (kdc, dir)
    })
    .0
}
