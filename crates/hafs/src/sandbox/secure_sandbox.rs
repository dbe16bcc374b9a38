//! `hafs sandbox --secure`: the realm beside the cluster. A throwaway MIT KDC in
//! `DIR/kdc` (made anew each run: keytabs are regenerated, the cluster's storage is
//! kept), one keytab per daemon principal (`nn/localhost`, `dn/localhost`,
//! `jn/localhost`, `HTTP/localhost` for the NameNodes' SPNEGO), users `alice` (password `alice`) and `hdfs` (the superuser, with a
//! keytab), and the security keys every daemon and client reads.
//!
//! The daemons inherit this process's environment, which is how the MIT library in each
//! of them finds the realm (`KRB5_CONFIG`); the sandbox itself asks the NameNodes for
//! their HA state over RPC, as `hdfs`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use hafs_cluster::Kdc;
use hafs_conf::Configuration;
use hafs_ipc::auth::{set_process_login, SecuritySettings};

/// The realm of a secure sandbox; the KDC stops when this is dropped.
pub struct SandboxRealm {
    kdc: Kdc,
    /// Security keys for every daemon and client.
    pub site: Vec<(String, String)>,
    alice_ccache: PathBuf,
}

/// Starts the KDC and makes this process a client of the realm, as `hdfs`.
pub fn start(dir: &Path, protection: &str) -> anyhow::Result<SandboxRealm> {
    hafs_security::sasl::Qop::parse_hadoop_list(protection)
        .with_context(|| format!("--secure {protection}"))?;
    let kdc_dir = dir.join("kdc");
    if kdc_dir.exists() {
        std::fs::remove_dir_all(&kdc_dir)
            .with_context(|| format!("removing the last run's realm {}", kdc_dir.display()))?;
    }
    std::fs::create_dir_all(&kdc_dir)?;
    let kdc = Kdc::start(&kdc_dir).context("starting the sandbox's KDC")?;
    let keytab = |service: &str| -> anyhow::Result<String> {
        Ok(kdc
            .add_service(service, "localhost")
            .with_context(|| format!("adding {service}/localhost"))?
            .display()
            .to_string())
    };
    let (nn, dn, jn) = (keytab("nn")?, keytab("dn")?, keytab("jn")?);
    let http = keytab("HTTP")?;
    kdc.add_user("alice", "alice").context("adding alice")?;
    let alice_ccache = kdc.user_ccache("alice").context("kinit alice")?;
    let hdfs_ccache = kdc.user_ccache("hdfs").context("kinit hdfs")?;
    let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
    let site = vec![
        kv("hadoop.security.authentication", "kerberos"),
        kv("hadoop.security.authorization", "true"),
        kv("hadoop.rpc.protection", protection),
        kv("dfs.block.access.token.enable", "true"),
        kv("dfs.data.transfer.protection", protection),
        kv(
            "hadoop.security.auth_to_local",
            "RULE:[2:$1/$2@$0](nn/.*@HAFS.TEST)s/.*/hdfs/\n\
             RULE:[2:$1/$2@$0](dn/.*@HAFS.TEST)s/.*/hdfs/\n\
             RULE:[2:$1/$2@$0](jn/.*@HAFS.TEST)s/.*/hdfs/\n\
             DEFAULT",
        ),
        kv(
            "hadoop.security.service.user.name.key",
            "dfs.namenode.kerberos.principal",
        ),
        kv("dfs.namenode.kerberos.principal", "nn/_HOST@HAFS.TEST"),
        kv("dfs.namenode.keytab.file", &nn),
        kv("dfs.datanode.kerberos.principal", "dn/_HOST@HAFS.TEST"),
        kv("dfs.datanode.keytab.file", &dn),
        kv("dfs.journalnode.kerberos.principal", "jn/_HOST@HAFS.TEST"),
        kv("dfs.journalnode.keytab.file", &jn),
        kv(
            "dfs.web.authentication.kerberos.principal",
            "HTTP/_HOST@HAFS.TEST",
        ),
        kv("dfs.web.authentication.kerberos.keytab", &http),
    ];
    // Before any Kerberos call of this process, and inherited by every daemon started
    // from here. Nothing else in this process reads these variables concurrently.
    for (k, v) in kdc.env() {
        std::env::set_var(k, v);
    }
    std::env::set_var("KRB5CCNAME", format!("FILE:{}", hdfs_ccache.display()));
    let mut conf = Configuration::new();
    for (k, v) in &site {
        conf.set(k, v);
    }
    let settings = SecuritySettings::from_conf(&conf)?;
    set_process_login(settings.user_login());
    Ok(SandboxRealm {
        kdc,
        site,
        alice_ccache,
    })
}

impl SandboxRealm {
    /// As the superuser, the directories a new user expects: a world-writable `/tmp`
    /// and `/user/alice` owned by alice (what an operator sets up on a new cluster).
    pub fn prepare_namespace(&self, hafs_bin: &Path, conf_dir: &Path) -> anyhow::Result<()> {
        let steps: [&[&str]; 3] = [
            &["-mkdir", "-p", "/tmp", "/user/alice"],
            &["-chmod", "1777", "/tmp"],
            &["-chown", "alice", "/user/alice"],
        ];
        for args in steps {
            let out = std::process::Command::new(hafs_bin)
                .arg("--config")
                .arg(conf_dir)
                .arg("dfs")
                .args(args)
                .output()
                .with_context(|| format!("running hafs dfs {}", args.join(" ")))?;
            if !out.status.success() {
                anyhow::bail!(
                    "hafs dfs {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Ok(())
    }

    /// What a person needs to talk to the secure sandbox, appended to the ready line.
    pub fn ready_hint(&self) -> String {
        format!(
            "; secure (Kerberos realm {realm}, KDC on 127.0.0.1:{port}): export KRB5_CONFIG={conf} \
             KRB5CCNAME=FILE:{ccache} (alice's ticket; or kinit alice, password alice), \
             and for Java HADOOP_OPTS=-Djava.security.krb5.conf={conf}",
            realm = self.kdc.realm(),
            port = self.kdc.port(),
            conf = self.kdc.krb5_conf().display(),
            ccache = self.alice_ccache.display(),
        )
    }
}
