//! Java's `hadoop fs` and hdfs-native authenticate to a secure hafs NameNode with nothing
//! but a token file (`HADOOP_TOKEN_FILE_LOCATION`, no Kerberos ticket): TOKEN/DIGEST-MD5
//! at every quality of protection, calls run as the token's owner, and a cancelled token
//! is refused with Hadoop's InvalidToken.
//!
//! The NameNode runs in process (Kerberos is not available to issue the token over RPC,
//! so it is issued through the secret manager directly).

use std::path::Path;
use std::process::Command;

use hafs_conf::Configuration;
use hafs_namenode::security::token_method::now_ms;
use hafs_namenode::{storage, NameNode, NameNodeConfig};
use hafs_security::token::storage::{Credentials, Format};
use hafs_security::token::Token;
use hafs_tests::{
    hadoop_fs_script, hafs_cache, jars_dir, python_bin, run_with_timeout, write_site_xml,
    CmdOutput, DEFAULT_CMD_TIMEOUT,
};

/// A secure NameNode needs its own principal and keytab even when every client here
/// brings a token: a throwaway realm provides them. Its environment is this test
/// process's, set once before the first Kerberos call (nextest runs each test in a
/// process of its own).
type Realm = (hafs_cluster::Kdc, std::path::PathBuf, std::path::PathBuf);

fn realm() -> &'static Realm {
    static REALM: std::sync::OnceLock<Realm> = std::sync::OnceLock::new();
    REALM.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("hafs-token-kdc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let kdc = hafs_cluster::Kdc::start(&dir).expect("start a KDC");
        for (k, v) in kdc.env() {
            std::env::set_var(k, v);
        }
        let keytab = kdc.add_service("nn", "localhost").expect("nn keytab");
        let http_keytab = kdc.add_service("HTTP", "localhost").expect("HTTP keytab");
        (kdc, keytab, http_keytab)
    })
}

fn nn_config(dir: &Path, port: u16, qop: &str) -> NameNodeConfig {
    let (_, keytab, http_keytab) = realm();
    let mut conf = Configuration::new();
    // A secure NameNode's HTTP server authenticates with SPNEGO.
    conf.set(
        "dfs.web.authentication.kerberos.principal",
        "HTTP/_HOST@HAFS.TEST",
    );
    conf.set(
        "dfs.web.authentication.kerberos.keytab",
        http_keytab.display().to_string(),
    );
    conf.set("dfs.namenode.kerberos.principal", "nn/_HOST@HAFS.TEST");
    conf.set("dfs.namenode.keytab.file", keytab.display().to_string());
    conf.set("fs.defaultFS", format!("hdfs://127.0.0.1:{port}"));
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set(
        "dfs.namenode.name.dir",
        format!("file://{}/name", dir.display()),
    );
    conf.set("hadoop.security.authentication", "kerberos");
    conf.set("hadoop.rpc.protection", qop);
    NameNodeConfig::from_conf(&conf).unwrap()
}

fn java_fs(conf_dir: &Path, token_file: &Path, args: &[&str]) -> CmdOutput {
    let mut cmd = Command::new("bash");
    cmd.arg(hadoop_fs_script())
        .args(args)
        .env("HAFS_CACHE", hafs_cache())
        .env("HAFS_JARS", jars_dir())
        .env("HADOOP_CONF_DIR", conf_dir)
        .env("HADOOP_TOKEN_FILE_LOCATION", token_file)
        // No krb5.conf here: name the realm so Hadoop's Kerberos name rules load.
        .env(
            "HADOOP_FS_JAVA_OPTS",
            "-Djava.security.krb5.realm=HAFS.TEST -Djava.security.krb5.kdc=127.0.0.1",
        )
        .env_remove("HADOOP_USER_NAME")
        .env_remove("KRB5CCNAME");
    run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
}

fn hdfs_native(conf_dir: &Path, token_file: &Path, port: u16, script: &str) -> CmdOutput {
    let mut cmd = Command::new(python_bin());
    cmd.arg("-c")
        .arg(script)
        .env("HAFS_FS_URI", format!("hdfs://127.0.0.1:{port}"))
        .env("HADOOP_CONF_DIR", conf_dir)
        .env("HADOOP_TOKEN_FILE_LOCATION", token_file)
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("HADOOP_USER_NAME")
        .env_remove("KRB5CCNAME");
    run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
}

/// hdfs-native lists the root with the token, and a mkdir is refused as alice.
const NATIVE_SCRIPT: &str = r#"
import os
from hdfs_native import Client
c = Client(os.environ['HAFS_FS_URI'])
st = c.get_file_info('/')
print('OWNER', st.owner)
try:
    c.mkdirs('/alice-native')
    print('MKDIR-OK')
except Exception as e:
    print('MKDIR-REFUSED', e)
"#;

async fn issue(nn: &NameNode, owner: &str) -> Token {
    let fsn = &nn.fsn;
    let now = now_ms();
    fsn.roll_master_key_if_due(now).await.unwrap();
    let cfg = fsn.config.delegation_tokens;
    let (token, _) = fsn
        .mutate_op("issue delegation token", None, |ns| {
            let (edit, token) = ns
                .delegation_tokens()
                .plan_issue(now, &cfg, owner, "yarn", "")
                .unwrap();
            Ok((Some(edit), token))
        })
        .await
        .unwrap();
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_and_hdfs_native_authenticate_with_a_token_file_at_every_protection() {
    for qop in ["authentication", "integrity", "privacy"] {
        let dir =
            std::env::temp_dir().join(format!("hafs-token-java-{qop}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = hafs_tests::free_port();
        let config = nn_config(&dir, port, qop);
        let info = storage::new_storage_info(Some("CID-tokens"));
        storage::format(&config.name_dirs, &info, "root", "supergroup", false).unwrap();
        let nn = NameNode::start(config).await.unwrap();
        let token = issue(&nn, "alice@HAFS.TEST").await;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let fsn = nn.fsn.clone();
        let run = tokio::spawn(nn.run(async {
            let _ = stop_rx.await;
        }));

        let conf_dir = dir.join("conf");
        std::fs::create_dir_all(&conf_dir).unwrap();
        let props = |kv: &[(&str, String)]| -> Vec<(String, String)> {
            kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
        };
        write_site_xml(
            &conf_dir.join("core-site.xml"),
            &props(&[
                ("fs.defaultFS", format!("hdfs://127.0.0.1:{port}")),
                ("hadoop.security.authentication", "kerberos".into()),
                ("hadoop.rpc.protection", qop.into()),
            ]),
        );
        // Java's DelegationTokenSelector looks for the service ip:port of the NameNode.
        let mut held = token.clone();
        held.service = format!("127.0.0.1:{port}");
        let mut creds = Credentials::default();
        creds.add_token(held);
        let token_file = dir.join("tokens");
        std::fs::write(&token_file, creds.write_storage_file(Format::Writable)).unwrap();

        let (c, t) = (conf_dir.clone(), token_file.clone());
        let out = tokio::task::spawn_blocking(move || java_fs(&c, &t, &["-ls", "-d", "/"]))
            .await
            .unwrap();
        assert!(out.success(), "{qop}: -ls with a token:\n{out}");
        assert!(out.stdout.contains("root supergroup"), "{qop}:\n{out}");
        // Calls run as alice: root's directory refuses her.
        let (c, t) = (conf_dir.clone(), token_file.clone());
        let out = tokio::task::spawn_blocking(move || java_fs(&c, &t, &["-mkdir", "/alice"]))
            .await
            .unwrap();
        assert!(!out.success(), "{qop}:\n{out}");
        assert!(
            out.stderr
                .contains("Permission denied: user=alice, access=WRITE"),
            "{qop}:\n{out}"
        );
        // hdfs-native with the same file.
        let (c, t) = (conf_dir.clone(), token_file.clone());
        let out = tokio::task::spawn_blocking(move || hdfs_native(&c, &t, port, NATIVE_SCRIPT))
            .await
            .unwrap();
        assert!(out.success(), "{qop}: hdfs-native with a token:\n{out}");
        assert!(out.stdout.contains("OWNER root"), "{qop}:\n{out}");
        assert!(out.stdout.contains("MKDIR-REFUSED"), "{qop}:\n{out}");
        assert!(out.stdout.contains("user=alice"), "{qop}:\n{out}");

        // Cancelled: refused with Hadoop's InvalidToken message.
        fsn.mutate_op("cancel delegation token", None, |ns| {
            let edit = ns
                .delegation_tokens()
                .plan_cancel(&token, "alice@HAFS.TEST", "alice")
                .unwrap();
            Ok((Some(edit), ()))
        })
        .await
        .unwrap();
        let (c, t) = (conf_dir.clone(), token_file.clone());
        let out = tokio::task::spawn_blocking(move || java_fs(&c, &t, &["-ls", "-d", "/"]))
            .await
            .unwrap();
        assert!(!out.success(), "{qop}:\n{out}");
        assert!(
            out.stderr.contains("can't be found in cache"),
            "{qop}:\n{out}"
        );

        let _ = stop_tx.send(());
        run.await.unwrap().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
    // The realm's KDC dies with this process (its parent-death signal); its files go now.
    let _ = std::fs::remove_dir_all(realm().0.dir());
}
