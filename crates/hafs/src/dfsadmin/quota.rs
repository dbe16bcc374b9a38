//! `-setQuota`, `-clrQuota`, `-setSpaceQuota` and `-clrSpaceQuota` as Hadoop's DFSAdmin
//! has them: the same argument checks and messages, one setQuota call per directory
//! (a failure is reported as `<command>: <message>` and the others still run), exit -1
//! if any failed.

use hafs_client::proto::StorageTypeProto;
use hafs_client::{DfsClient, QUOTA_DONT_SET, QUOTA_RESET};

/// The four quota commands (named as on the command line).
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub enum QuotaCommand {
    SetQuota,
    ClrQuota,
    SetSpaceQuota,
    ClrSpaceQuota,
}

impl QuotaCommand {
    pub fn parse(cmd: &str) -> Option<QuotaCommand> {
        Some(match cmd {
            "-setQuota" => QuotaCommand::SetQuota,
            "-clrQuota" => QuotaCommand::ClrQuota,
            "-setSpaceQuota" => QuotaCommand::SetSpaceQuota,
            "-clrSpaceQuota" => QuotaCommand::ClrSpaceQuota,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            QuotaCommand::SetQuota => "setQuota",
            QuotaCommand::ClrQuota => "clrQuota",
            QuotaCommand::SetSpaceQuota => "setSpaceQuota",
            QuotaCommand::ClrSpaceQuota => "clrSpaceQuota",
        }
    }

    pub fn usage(self) -> &'static str {
        match self {
            QuotaCommand::SetQuota => "-setQuota <quota> <dirname>...<dirname>",
            QuotaCommand::ClrQuota => "-clrQuota <dirname>...<dirname>",
            QuotaCommand::SetSpaceQuota => {
                "-setSpaceQuota <quota> [-storageType <storagetype>] <dirname>...<dirname>"
            }
            QuotaCommand::ClrSpaceQuota => {
                "-clrSpaceQuota [-storageType <storagetype>] <dirname>...<dirname>"
            }
        }
    }

    /// Arguments before the directories (the quota).
    fn min_args(self) -> usize {
        match self {
            QuotaCommand::SetQuota | QuotaCommand::SetSpaceQuota => 2,
            QuotaCommand::ClrQuota | QuotaCommand::ClrSpaceQuota => 1,
        }
    }
}

/// Storage types that take quotas, in Hadoop's StorageType order.
const QUOTA_TYPES: [(&str, StorageTypeProto); 5] = [
    ("SSD", StorageTypeProto::Ssd),
    ("DISK", StorageTypeProto::Disk),
    ("ARCHIVE", StorageTypeProto::Archive),
    ("PROVIDED", StorageTypeProto::Provided),
    ("NVDIMM", StorageTypeProto::Nvdimm),
];

/// Hadoop's StorageType.parseStorageType (case-insensitive); RAM_DISK parses (the
/// NameNode refuses it).
fn parse_storage_type(s: &str) -> Option<StorageTypeProto> {
    let upper = s.to_ascii_uppercase();
    if upper == "RAM_DISK" {
        return Some(StorageTypeProto::RamDisk);
    }
    QUOTA_TYPES
        .iter()
        .find(|(n, _)| *n == upper)
        .map(|(_, t)| *t)
}

/// Hadoop's TraditionalBinaryPrefix.string2long: a number with an optional k, m, g, t,
/// p or e (binary) suffix.
fn string_to_long(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let Some(last) = s.chars().last() else {
        return Err("For input string: \"\"".into());
    };
    if last.is_ascii_digit() {
        return s
            .parse::<i64>()
            .map_err(|_| format!("For input string: \"{s}\""));
    }
    let shift = match last.to_ascii_lowercase() {
        'k' => 10,
        'm' => 20,
        'g' => 30,
        't' => 40,
        'p' => 50,
        'e' => 60,
        _ => {
            return Err(format!(
                "Invalid size prefix '{last}' in '{s}'. Allowed prefixes are k, m, g, t, p, e(case insensitive)"
            ))
        }
    };
    let digits = &s[..s.len() - last.len_utf8()];
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("For input string: \"{digits}\""))?;
    n.checked_mul(1i64 << shift)
        .ok_or_else(|| format!("{s} does not fit in a 64-bit integer"))
}

/// What the command line asked: the quota values to send and the directories.
struct Parsed {
    namespace: u64,
    space: u64,
    storage_type: Option<StorageTypeProto>,
    dirs: Vec<String>,
}

/// Hadoop's CommandFormat checks and each command's own parsing; Err is the message
/// after `<command>: ` (the usage line follows it).
fn parse(cmd: QuotaCommand, args: &[String]) -> Result<Parsed, String> {
    let mut rest: Vec<String> = args.to_vec();
    // -storageType <t> is an option of the space commands, anywhere after the quota.
    let mut type_word = None;
    if matches!(
        cmd,
        QuotaCommand::SetSpaceQuota | QuotaCommand::ClrSpaceQuota
    ) {
        if let Some(i) = rest.iter().position(|a| a == "-storageType") {
            if i + 1 < rest.len() {
                type_word = Some(rest.remove(i + 1));
                rest.remove(i);
            }
        }
    }
    if let Some(opt) = rest.iter().find(|a| a.starts_with('-') && a.len() > 1) {
        return Err(format!("Illegal option {opt}"));
    }
    if rest.len() < cmd.min_args() {
        return Err(format!(
            "Not enough arguments: expected {} but got {}",
            cmd.min_args(),
            rest.len()
        ));
    }
    let storage_type = match (&type_word, cmd) {
        (None, _) => None,
        (Some(w), QuotaCommand::SetSpaceQuota) => Some(parse_storage_type(w).ok_or_else(|| {
            let names: Vec<&str> = QUOTA_TYPES.iter().map(|(n, _)| *n).collect();
            format!(
                "Storage type {w} is not available. Available storage types are [{}]",
                names.join(", ")
            )
        })?),
        (Some(w), _) => Some(parse_storage_type(w).ok_or_else(|| {
            format!(
                "No enum constant org.apache.hadoop.fs.StorageType.{}",
                w.to_ascii_uppercase()
            )
        })?),
    };
    let (namespace, space) = match cmd {
        QuotaCommand::SetQuota => (string_to_long(&rest.remove(0))? as u64, QUOTA_DONT_SET),
        QuotaCommand::ClrQuota => (QUOTA_RESET, QUOTA_DONT_SET),
        QuotaCommand::SetSpaceQuota => (QUOTA_DONT_SET, string_to_long(&rest.remove(0))? as u64),
        QuotaCommand::ClrSpaceQuota => (QUOTA_DONT_SET, QUOTA_RESET),
    };
    Ok(Parsed {
        namespace,
        space,
        storage_type,
        dirs: rest,
    })
}

/// DFSClient's own checks before the call (an IllegalArgumentException in Java).
fn client_check(p: &Parsed) -> Result<(), String> {
    let (ns, ss) = (p.namespace as i64, p.space as i64);
    let special = |q: i64| q == QUOTA_DONT_SET as i64 || q == QUOTA_RESET as i64;
    if let Some(t) = p.storage_type {
        if ss <= 0 && !special(ss) {
            return Err(format!("Invalid values for quota :{ss}"));
        }
        if t == StorageTypeProto::RamDisk {
            return Err("Don't support Quota for storage type : RAM_DISK".into());
        }
    } else if (ns <= 0 && !special(ns)) || (ss < 0 && !special(ss)) {
        return Err(format!("Invalid values for quota : {ns} and {ss}"));
    }
    Ok(())
}

/// Runs one quota command; returns the exit code (0, or -1 as Hadoop's).
pub async fn run(client: &DfsClient, cmd: QuotaCommand, args: &[String]) -> i32 {
    let name = cmd.name();
    let usage_fail = |msg: &str| {
        eprintln!("{name}: {msg}");
        eprintln!("Usage: hafs dfsadmin [{}]", cmd.usage());
        super::FAILED
    };
    let parsed = match parse(cmd, args) {
        Ok(p) => p,
        Err(msg) => return usage_fail(&msg),
    };
    if let Err(msg) = client_check(&parsed) {
        return usage_fail(&msg);
    }
    let mut code = 0;
    for dir in &parsed.dirs {
        let r = client
            .set_quota(dir, parsed.namespace, parsed.space, parsed.storage_type)
            .await;
        if let Err(e) = r {
            eprintln!("{name}: {}", e.user_message());
            code = super::FAILED;
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sizes_take_binary_prefixes() {
        assert_eq!(string_to_long("10"), Ok(10));
        assert_eq!(string_to_long("5m"), Ok(5 << 20));
        assert_eq!(string_to_long("1K"), Ok(1024));
        assert_eq!(
            string_to_long("1z").unwrap_err(),
            "Invalid size prefix 'z' in '1z'. Allowed prefixes are k, m, g, t, p, e(case insensitive)"
        );
    }

    #[test]
    fn arguments_are_checked_as_dfsadmin_does() {
        let e = |c, a: &[&str]| parse(c, &args(a)).err().unwrap();
        assert_eq!(
            e(QuotaCommand::SetQuota, &["5"]),
            "Not enough arguments: expected 2 but got 1"
        );
        assert_eq!(
            e(QuotaCommand::SetQuota, &["-5", "/x"]),
            "Illegal option -5"
        );
        assert_eq!(
            e(QuotaCommand::SetSpaceQuota, &["1k", "-storageType", "FOO", "/x"]),
            "Storage type FOO is not available. Available storage types are [SSD, DISK, ARCHIVE, PROVIDED, NVDIMM]"
        );
        assert_eq!(
            e(QuotaCommand::ClrSpaceQuota, &["-storageType", "foo", "/x"]),
            "No enum constant org.apache.hadoop.fs.StorageType.FOO"
        );
        let p = parse(
            QuotaCommand::SetSpaceQuota,
            &args(&["2m", "-storageType", "disk", "/a", "/b"]),
        )
        .unwrap();
        assert_eq!((p.namespace, p.space), (QUOTA_DONT_SET, 2 << 20));
        assert_eq!(p.storage_type, Some(StorageTypeProto::Disk));
        assert_eq!(p.dirs, ["/a", "/b"]);
    }
}
