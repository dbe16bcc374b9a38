//! `hafs dfsadmin`: Hadoop's DFSAdmin commands that exist so far.

use hafs_client::proto::SafeModeActionProto;
use hafs_client::DfsClient;
use hafs_conf::Configuration;

const USAGE: &str = "Usage: hafs dfsadmin
\t[-report]
\t[-safemode <enter | leave | get | wait | forceExit>]
\t[-saveNamespace]
\t[-rollEdits]
\t[-help]";

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return Ok(1);
    };
    if matches!(cmd.as_str(), "-help" | "-h") {
        println!("{USAGE}");
        return Ok(0);
    }
    let client = DfsClient::new(conf, None)?;
    let result = match cmd.as_str() {
        "-safemode" => safemode(&client, args.get(1).map(String::as_str)).await,
        "-saveNamespace" => match client.save_namespace(0, 0).await {
            Ok(_) => {
                println!("Save namespace successful");
                Ok(0)
            }
            Err(e) => Err(e),
        },
        "-rollEdits" => client.roll_edits().await.map(|txid| {
            println!("Successfully rolled edit logs.");
            println!("New segment starts at txid {txid}");
            0
        }),
        "-report" => report(&client).await,
        other => {
            eprintln!(
                "{}: Unknown command",
                &other[other.starts_with('-') as usize..]
            );
            eprintln!("{USAGE}");
            return Ok(1);
        }
    };
    match result {
        Ok(code) => Ok(code),
        Err(e) => {
            let cmd = cmd.trim_start_matches('-');
            eprintln!("{cmd}: {}", e.user_message());
            Ok(1)
        }
    }
}

async fn safemode(
    client: &DfsClient,
    action: Option<&str>,
) -> Result<i32, hafs_client::ClientError> {
    let action = match action {
        Some("enter") => SafeModeActionProto::SafemodeEnter,
        Some("leave") => SafeModeActionProto::SafemodeLeave,
        Some("forceExit") => SafeModeActionProto::SafemodeForceExit,
        Some("get") => SafeModeActionProto::SafemodeGet,
        Some("wait") => {
            // Bounded by the user: Hadoop's wait blocks until safe mode is off.
            loop {
                if !client
                    .set_safe_mode(SafeModeActionProto::SafemodeGet, false)
                    .await?
                {
                    println!("Safe mode is OFF");
                    return Ok(0);
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
        _ => {
            eprintln!("Usage: hafs dfsadmin [-safemode enter | leave | get | wait | forceExit]");
            return Ok(1);
        }
    };
    let on = client.set_safe_mode(action, false).await?;
    println!("Safe mode is {}", if on { "ON" } else { "OFF" });
    Ok(0)
}

async fn report(client: &DfsClient) -> Result<i32, hafs_client::ClientError> {
    let s = client.get_fs_stats().await?;
    let dns = client
        .get_datanode_report(hafs_client::proto::DatanodeReportTypeProto::All)
        .await?;
    println!("Configured Capacity: {}", s.capacity);
    println!("DFS Used: {}", s.used);
    println!("DFS Remaining: {}", s.remaining);
    println!("Under replicated blocks: {}", s.under_replicated);
    println!("Blocks with corrupt replicas: {}", s.corrupt_blocks);
    println!("Missing blocks: {}", s.missing_blocks);
    println!();
    println!("-------------------------------------------------");
    println!("Live datanodes ({}):", dns.len());
    Ok(0)
}
