//! `hafs debug`: Hadoop's DebugAdmin commands. For now `recoverLease`.

use std::time::Duration;

use hafs_client::DfsClient;
use hafs_conf::Configuration;

const USAGE: &str = "Usage: hafs debug <command> [arguments]\n\n\
These commands are for advanced users only.\n\n\
recoverLease -path <path> [-retries <num-retries>]";

/// Hadoop's DebugAdmin waits this long between recoverLease attempts.
const RETRY_SLEEP: Duration = Duration::from_secs(5);

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    match args.first().map(String::as_str) {
        Some("recoverLease") => recover_lease(conf, &args[1..]).await,
        Some("-help" | "-h" | "help") => {
            println!("{USAGE}");
            Ok(0)
        }
        _ => {
            eprintln!("{USAGE}");
            Ok(1)
        }
    }
}

async fn recover_lease(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let (mut path, mut retries) = (None, 1u32);
    let mut i = 0;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1)) {
            ("-path", Some(p)) => path = Some(p.clone()),
            ("-retries", Some(n)) => match n.parse::<u32>() {
                Ok(n) if n > 0 => retries = n,
                _ => {
                    eprintln!("Failed to parse the argument to -retries: {n}");
                    return Ok(1);
                }
            },
            _ => {
                eprintln!("recoverLease -path <path> [-retries <num-retries>]");
                return Ok(1);
            }
        }
        i += 2;
    }
    let Some(path) = path else {
        eprintln!("You must supply a -path argument to recoverLease.");
        return Ok(1);
    };
    let client = DfsClient::new(conf, None)?;
    for attempt in 1..=retries {
        match client.recover_lease(&path).await {
            Ok(true) => {
                println!("recoverLease SUCCEEDED on {path}");
                return Ok(0);
            }
            Ok(false) => println!("recoverLease returned false."),
            Err(e) => eprintln!("recoverLease got exception: {}", e.user_message()),
        }
        if attempt < retries {
            println!("Retrying in {} ms...", RETRY_SLEEP.as_millis());
            tokio::time::sleep(RETRY_SLEEP).await;
            println!("Retry #{attempt}");
        }
    }
    println!(
        "Giving up on recoverLease for {path} after {retries} {}",
        if retries == 1 { "try." } else { "tries." }
    );
    Ok(1)
}
