//! `hafs storagepolicies`: Hadoop's `hdfs storagepolicies` (StoragePolicyAdmin).
//! `-listPolicies`, `-setStoragePolicy -path <path> -policy <policy>`,
//! `-getStoragePolicy -path <path>`, `-unsetStoragePolicy -path <path>`, with
//! Hadoop's output lines and exit codes: 0 done, 1 usage, 2 the NameNode refused
//! (printed as Hadoop's AdminHelper prints an exception: `SimpleName: message`).
//! `-satisfyStoragePolicy` (Hadoop's SPS) is not offered.

use hafs_client::{ClientError, DfsClient};
use hafs_conf::Configuration;
use hafs_proto::hdfs::{BlockStoragePolicyProto, StorageTypeProto};

const COMMANDS: [(&str, &str); 4] = [
    ("-listPolicies", "[-listPolicies]"),
    (
        "-setStoragePolicy",
        "[-setStoragePolicy -path <path> -policy <policy>]",
    ),
    ("-getStoragePolicy", "[-getStoragePolicy -path <path>]"),
    ("-unsetStoragePolicy", "[-unsetStoragePolicy -path <path>]"),
];

fn usage() -> String {
    let mut s = String::from("Usage: bin/hdfs storagepolicies [COMMAND]\n");
    for (_, short) in COMMANDS {
        s.push_str(&format!("          {short}\n"));
    }
    s.push_str("          [-help <command-name>]\n");
    s
}

/// Hadoop's BlockStoragePolicy.toString, from the wire form.
pub fn policy_string(p: &BlockStoragePolicyProto) -> String {
    let list = |l: Option<&hafs_proto::hdfs::StorageTypesProto>| {
        l.map(|l| {
            l.storage_types
                .iter()
                .map(|t| StorageTypeProto::try_from(*t).map_or("UNKNOWN", |t| t.as_str_name()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
    };
    format!(
        "BlockStoragePolicy{{{}:{}, storageTypes=[{}], creationFallbacks=[{}], \
         replicationFallbacks=[{}]}}",
        p.name,
        p.policy_id,
        list(Some(&p.creation_policy)),
        list(p.creation_fallback_policy.as_ref()),
        list(p.replication_fallback_policy.as_ref())
    )
}

/// How Hadoop's AdminHelper.prettifyException prints a failed call: the exception's
/// simple class name and the first line of its message. The Java client rethrows a
/// server exception as its own class only for the classes it unwraps (`unwrapped`);
/// any other stays a RemoteException.
fn prettify(e: &ClientError, unwrapped: &[&str]) -> String {
    match e {
        ClientError::Remote {
            class_name,
            message,
        } => {
            let simple = class_name.rsplit('.').next().unwrap_or(class_name);
            let shown = if unwrapped.contains(&simple) {
                simple
            } else {
                "RemoteException"
            };
            format!("{shown}: {}", message.lines().next().unwrap_or(""))
        }
        other => format!("IOException: {other}"),
    }
}

/// What DFSClient.setStoragePolicy and unsetStoragePolicy unwrap.
const SET_UNWRAPPED: &[&str] = &[
    "AccessControlException",
    "FileNotFoundException",
    "SafeModeException",
    "NSQuotaExceededException",
    "UnresolvedPathException",
    "SnapshotAccessControlException",
];
/// What DFSClient.getFileInfo unwraps.
const GET_UNWRAPPED: &[&str] = &[
    "AccessControlException",
    "FileNotFoundException",
    "UnresolvedPathException",
];

/// Hadoop's StringUtils.popOptionWithArgument: the value after `name`, removing
/// both; an option without its value is an IllegalArgumentException.
fn pop_option(args: &mut Vec<String>, name: &str) -> Result<Option<String>, String> {
    let Some(i) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    if i + 1 >= args.len() {
        return Err(format!(
            "IllegalArgumentException: option {name} requires 1 argument."
        ));
    }
    let v = args.remove(i + 1);
    args.remove(i);
    Ok(Some(v))
}

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let Some(command) = args.first() else {
        eprint!("{}", usage());
        return Ok(1);
    };
    let Some((name, short)) = COMMANDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(command))
    else {
        eprintln!("Can't understand command '{command}'");
        if !command.starts_with('-') {
            eprintln!("Command names must start with dashes.");
        }
        eprint!("{}", usage());
        return Ok(1);
    };
    let mut rest: Vec<String> = args[1..].to_vec();
    match run_command(conf, name, short, &mut rest).await {
        Ok(code) => Ok(code),
        // Hadoop's run() catches IllegalArgumentException: exit -1.
        Err(msg) => {
            eprintln!("{msg}");
            Ok(-1)
        }
    }
}

async fn run_command(
    conf: &Configuration,
    name: &str,
    short: &str,
    args: &mut Vec<String>,
) -> Result<i32, String> {
    let usage_of = |what: &str| format!("{what}\nUsage: {short}\n");
    if name == "-listPolicies" {
        let client = connect(conf)?;
        return Ok(match client.get_storage_policies().await {
            Ok(policies) => {
                println!("Block Storage Policies:");
                for p in &policies {
                    println!("\t{}", policy_string(p));
                }
                0
            }
            Err(e) => {
                eprintln!("{}", prettify(&e, &[]));
                2
            }
        });
    }
    let Some(path) = pop_option(args, "-path")? else {
        let what = match name {
            "-setStoragePolicy" => "Please specify the path for setting the storage policy.",
            "-getStoragePolicy" => "Please specify the path with -path.",
            _ => "Please specify the path from which the storage policy will be unsetd.",
        };
        eprint!("{}", usage_of(what));
        return Ok(1);
    };
    let client = connect(conf)?;
    match name {
        "-setStoragePolicy" => {
            let Some(policy) = pop_option(args, "-policy")? else {
                eprint!("{}", usage_of("Please specify the policy name."));
                return Ok(1);
            };
            match client.set_storage_policy(&path, &policy).await {
                Ok(()) => {
                    println!("Set storage policy {policy} on {path}");
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("{}", prettify(&e, SET_UNWRAPPED));
                    Ok(2)
                }
            }
        }
        "-unsetStoragePolicy" => match client.unset_storage_policy(&path).await {
            Ok(()) => {
                println!("Unset storage policy from {path}");
                Ok(0)
            }
            Err(e) => {
                eprintln!("{}", prettify(&e, SET_UNWRAPPED));
                Ok(2)
            }
        },
        _ => get_storage_policy(&client, &path).await,
    }
}

/// `-getStoragePolicy`: the policy in the file status (the inode's own or
/// inherited); "unspecified" when none is set on the path.
async fn get_storage_policy(client: &DfsClient, path: &str) -> Result<i32, String> {
    let status = match client.get_file_info(path).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            eprintln!("File/Directory does not exist: {path}");
            return Ok(2);
        }
        Err(e) => {
            eprintln!("{}", prettify(&e, GET_UNWRAPPED));
            return Ok(2);
        }
    };
    let id = status.storage_policy.unwrap_or(0);
    if id == 0 {
        println!("The storage policy of {path} is unspecified");
        return Ok(0);
    }
    match client.get_storage_policies().await {
        Ok(policies) => {
            if let Some(p) = policies.iter().find(|p| p.policy_id == id) {
                println!("The storage policy of {path}:\n{}", policy_string(p));
                return Ok(0);
            }
        }
        Err(e) => {
            eprintln!("{}", prettify(&e, &[]));
            return Ok(2);
        }
    }
    eprintln!("Cannot identify the storage policy for {path}");
    Ok(2)
}

fn connect(conf: &Configuration) -> Result<DfsClient, String> {
    DfsClient::new(conf, None).map_err(|e| format!("IOException: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_policies_as_hadoop() {
        let p = BlockStoragePolicyProto {
            policy_id: 7,
            name: "HOT".into(),
            creation_policy: hafs_proto::hdfs::StorageTypesProto {
                storage_types: vec![1],
            },
            creation_fallback_policy: Some(Default::default()),
            replication_fallback_policy: Some(hafs_proto::hdfs::StorageTypesProto {
                storage_types: vec![3],
            }),
        };
        assert_eq!(
            policy_string(&p),
            "BlockStoragePolicy{HOT:7, storageTypes=[DISK], creationFallbacks=[], \
             replicationFallbacks=[ARCHIVE]}"
        );
    }

    #[test]
    fn options_and_exceptions() {
        let mut a: Vec<String> = ["-path", "/x", "-policy", "COLD"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(pop_option(&mut a, "-path").unwrap().as_deref(), Some("/x"));
        assert_eq!(pop_option(&mut a, "-nope").unwrap(), None);
        let mut b = vec!["-path".to_string()];
        assert!(pop_option(&mut b, "-path").is_err());
        let e = ClientError::Remote {
            class_name: "org.apache.hadoop.HadoopIllegalArgumentException".into(),
            message: "Cannot find a block policy with the name X".into(),
        };
        assert_eq!(
            prettify(&e, SET_UNWRAPPED),
            "RemoteException: Cannot find a block policy with the name X"
        );
        let e = ClientError::Remote {
            class_name: "java.io.FileNotFoundException".into(),
            message: "File/Directory does not exist: /x\n\tat ...".into(),
        };
        assert_eq!(
            prettify(&e, SET_UNWRAPPED),
            "FileNotFoundException: File/Directory does not exist: /x"
        );
    }
}
