//! `hafs namenode`: run the NameNode, `-format` its storage, or `-bootstrapStandby` it
//! from another NameNode of its HA nameservice.

mod bootstrap_standby;

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context};
use hafs_conf::Configuration;
use hafs_namenode::{storage, NameNode, NameNodeConfig};

const USAGE: &str = "Usage: hafs namenode [-observer] [-format [-clusterid cid] [-force] [-nonInteractive]] [-initializeSharedEdits [-force]] [-bootstrapStandby [-force] [-nonInteractive]]";

pub async fn run(conf: Configuration, args: &[String]) -> anyhow::Result<i32> {
    // One hdfs-site.xml may describe several nameservices: read this NameNode's own
    // `key.<ns>.<nn>` values (its keytab and principal too) before anything else.
    let conf = hafs_namenode::config::resolve_own_keys(&conf)?;
    let config = NameNodeConfig::from_conf(&conf)?;
    crate::security::login_daemon(
        &conf,
        hafs_ipc::auth::ServiceRole::NameNode,
        crate::security::host_of(&config.rpc_bind),
    )?;
    match args.first().map(String::as_str) {
        None => serve(config, false).await,
        // Hadoop's `hdfs namenode -observer`: an HA NameNode that starts as an Observer.
        Some("-observer") if args.len() == 1 => {
            if config.ha.is_none() {
                eprintln!(
                    "hafs namenode: -observer needs an HA nameservice (dfs.ha.namenodes.<ns>)"
                );
                return Ok(1);
            }
            serve(config, true).await
        }
        Some("-format") => {
            let code = format(&config, &args[1..])?;
            if code == 0 {
                let force = args.iter().any(|a| a == "-force");
                crate::journalnode_cmd::format_shared_edits(&config, force).await?;
                format_shared_dir(&config, force)?;
            }
            Ok(code)
        }
        Some("-bootstrapStandby") => bootstrap_standby::run(&config, &args[1..]).await,
        Some("-initializeSharedEdits") => {
            crate::journalnode_cmd::initialize_shared_edits(&config, &args[1..]).await
        }
        Some("-h" | "-help" | "--help") => {
            println!("{USAGE}");
            Ok(0)
        }
        Some(other) => {
            eprintln!("hafs namenode: unknown option '{other}'\n{USAGE}");
            Ok(1)
        }
    }
}

async fn serve(config: NameNodeConfig, observer: bool) -> anyhow::Result<i32> {
    let nn = NameNode::start(config).await?;
    if observer {
        nn.become_observer().await?;
    }
    // Tests and scripts wait for this line.
    println!(
        "namenode ready: rpc {} http {} state {}",
        nn.rpc_addr(),
        nn.http_addr(),
        nn.ha_state_name()
    );
    let _ = std::io::stdout().flush();
    nn.run(crate::shutdown::shutdown_signal()).await?;
    Ok(0)
}

fn format(config: &NameNodeConfig, args: &[String]) -> anyhow::Result<i32> {
    let (mut cluster_id, mut force, mut non_interactive) = (None, false, false);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-clusterid" | "-clusterId" => {
                let v = args.get(i + 1).context("-clusterid needs an id")?;
                if v.is_empty() {
                    bail!("-clusterid needs a non-empty id");
                }
                cluster_id = Some(v.clone());
                i += 2;
            }
            "-force" => {
                force = true;
                i += 1;
            }
            "-nonInteractive" => {
                non_interactive = true;
                i += 1;
            }
            other => bail!("unknown -format option '{other}'\n{USAGE}"),
        }
    }
    let existing: Vec<_> = config
        .name_dirs
        .iter()
        .filter(|d| d.join("current").join("VERSION").exists())
        .collect();
    if !existing.is_empty() && !force {
        for d in &existing {
            if non_interactive {
                eprintln!(
                    "Running in non-interactive mode, and data appears to exist in Storage \
                     Directory root= {}; location= null. Not formatting.",
                    d.display()
                );
                return Ok(1);
            }
            if !confirm(&format!(
                "Re-format filesystem in Storage Directory root= {}; location= null ? (Y or N) ",
                d.display()
            ))? {
                eprintln!("Format aborted in Storage Directory root= {}", d.display());
                return Ok(1);
            }
        }
    }
    let info =
        storage::new_storage_info_at(cluster_id.as_deref(), &block_pool_ip(&config.rpc_bind));
    storage::format(
        &config.name_dirs,
        &info,
        &config.superuser,
        &config.supergroup,
        true,
    )?;
    for d in &config.name_dirs {
        eprintln!(
            "Storage directory {} has been successfully formatted.",
            d.display()
        );
    }
    eprintln!("clusterID: {}", info.cluster_id);
    Ok(0)
}

/// `-format` with a `file://` shared edits dir: formats it with the name dirs' identity.
fn format_shared_dir(config: &NameNodeConfig, force: bool) -> anyhow::Result<()> {
    let Some(dir) = &config.shared_dir else {
        return Ok(());
    };
    let first = config
        .name_dirs
        .first()
        .context("dfs.namenode.name.dir is empty")?;
    let info =
        hafs_journal::StorageDir::new(first.clone()).load(hafs_journal::StorageType::NameNode)?;
    hafs_journal::shared_dir::format_shared_dir(dir, &info, force)
        .with_context(|| format!("could not format the shared edits dir {}", dir.display()))?;
    eprintln!("Formatted the shared edits dir {}.", dir.display());
    Ok(())
}

pub(crate) fn confirm(prompt: &str) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprint!("{prompt}");
    } else {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "Y" | "y"))
}

/// The IP address in a new block pool id: the NameNode's RPC host resolved (Hadoop
/// uses the host's default IP), or loopback when it cannot be resolved or is a
/// wildcard.
fn block_pool_ip(rpc_bind: &str) -> String {
    use std::net::ToSocketAddrs;
    let host = crate::security::host_of(rpc_bind)
        .trim_start_matches('[')
        .trim_end_matches(']');
    (host, 0u16)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.find(|a| a.is_ipv4()))
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .map_or_else(|| "127.0.0.1".to_string(), |ip| ip.to_string())
}
