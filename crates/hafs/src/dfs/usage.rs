//! Usage and help text of the supported commands.

/// (name, usage, description)
const COMMANDS: &[(&str, &str, &str)] = &[
    ("appendToFile", "<localsrc> ... <dst>", "Append the contents of local files (or stdin with -) to a file, creating it if needed."),
    ("cat", "[-ignoreCrc] <src> ...", "Print the contents of files to stdout."),
    ("checksum", "<src> ...", "Print the checksum of files (MD5-of-MD5-of-CRC32C, as Hadoop)."),
    ("chgrp", "[-R] GROUP PATH...", "Change the group of files; -R recurses."),
    ("chmod", "[-R] <MODE[,MODE]... | OCTALMODE> PATH...", "Change the permissions of files; -R recurses. MODE is like u+x,g-w or a=r; OCTALMODE like 755."),
    ("chown", "[-R] [OWNER][:[GROUP]] PATH...", "Change the owner and group of files; -R recurses."),
    ("concat", "<target path> <src path> <src path> ...", "Concatenate existing source files into the target file; the sources (files with data, in the target's directory) are removed."),
    ("copyFromLocal", "[-f] [-p] [-d] <localsrc> ... <dst>", "Identical to -put."),
    ("copyToLocal", "[-f] [-p] [-ignoreCrc] <src> ... <localdst>", "Identical to -get."),
    ("count", "[-q] [-h] [-v] <path> ...", "Count directories, files and bytes under the paths; -q adds quotas, -h human-readable sizes, -v a header line."),
    ("cp", "[-f] [-p] [-d] <src> ... <dst>", "Copy files; -f overwrites, -p preserves times, owner and permission, -d skips the temporary ._COPYING_ file."),
    ("df", "[-h] [<path> ...]", "Show the capacity, used and free space of the file system; -h human-readable sizes."),
    ("du", "[-s] [-h] [-v] <path> ...", "Show the space used by the files that match the pattern; -s totals, -h human-readable sizes, -v a header line."),
    ("getfacl", "[-R] <path>", "Display the Access Control Lists (ACLs) of files and directories, the default ACL of a directory included; -R recurses."),
    ("get", "[-f] [-p] [-ignoreCrc] <src> ... <localdst>", "Copy files to the local file system; -p preserves times and permission, -ignoreCrc skips checksum verification."),
    ("head", "<file>", "Show the first kilobyte of a file."),
    ("help", "[cmd ...]", "Display help for the given commands, or all of them."),
    ("ls", "[-d] [-h] [-R] [<path> ...]", "List the contents of the paths; -d lists directories as plain files, -h shows human-readable sizes, -R recurses."),
    ("mkdir", "[-p] <path> ...", "Create directories; -p creates parents and accepts existing directories."),
    ("mv", "<src> ... <dst>", "Move files; with several sources the destination must be a directory."),
    ("put", "[-f] [-p] [-d] <localsrc> ... <dst>", "Copy local files (or stdin with -) to the file system; -f overwrites, -p preserves times and permission, -d skips the temporary ._COPYING_ file."),
    ("rm", "[-f] [-r|-R] [-skipTrash] <src> ...", "Delete files; -r deletes directories recursively, -f ignores missing files, -skipTrash bypasses the trash."),
    ("rmdir", "[--ignore-fail-on-non-empty] <dir> ...", "Remove empty directories."),
    ("setfacl", "[-R] [{-b|-k} {-m|-x <acl_spec>} <path>]|[--set <acl_spec> <path>]", "Set the Access Control Lists (ACLs) of files and directories: -b removes all but the base entries, -k the default ACL, -m modifies, -x removes entries, --set replaces the ACL; -R recurses."),
    ("setrep", "[-R] [-w] <rep> <path> ...", "Set the replication of files (directories: every file below); -w waits until it is reached."),
    ("stat", "[format] <path> ...", "Print file information in the format: %a %A permissions, %b size, %F type, %g group, %n name, %o block size, %r replication, %u owner, %x %X access time, %y %Y modification time."),
    ("tail", "[-f] [-s <sleep interval>] <file>", "Show the last kilobyte of a file; -f keeps printing data as it is appended, polling every -s milliseconds (5000)."),
    ("test", "-[defsz] <path>", "Answer questions about <path> through the exit code: -d directory, -e exists, -f file, -s non-empty, -z zero length."),
    ("touchz", "<path> ...", "Create zero-length files; an error if a file exists with non-zero length."),
    ("truncate", "[-w] <length> <path> ...", "Truncate files to a length; -w waits for block recovery."),
    ("usage", "[cmd ...]", "Display the usage of the given commands, or all of them."),
];

/// The command name (without '-') if `arg` is a supported `-command`.
pub fn known_command(arg: &str) -> Option<&'static str> {
    let name = arg.strip_prefix('-')?;
    COMMANDS.iter().find(|c| c.0 == name).map(|c| c.0)
}

pub fn usage_line(name: &str) -> String {
    match COMMANDS.iter().find(|c| c.0 == name) {
        Some((n, u, _)) => format!("-{n} {u}"),
        None => format!("-{name}"),
    }
}

/// `Usage: hafs dfs [generic options] -cmd ...` on stderr, after a usage error.
pub fn print_command_usage(name: &str) {
    eprintln!("Usage: hafs dfs [generic options] {}", usage_line(name));
}

pub fn print_all_usage() {
    eprintln!("Usage: hafs dfs [generic options]");
    for (n, _, _) in COMMANDS {
        eprintln!("\t[{}]", usage_line(n));
    }
    eprintln!();
    eprintln!("Generic options: -D <property=value>, -fs <hdfs://authority>, -conf <file>");
}

fn selected(args: &[String]) -> Vec<&'static (&'static str, &'static str, &'static str)> {
    if args.is_empty() {
        COMMANDS.iter().collect()
    } else {
        args.iter()
            .filter_map(|a| COMMANDS.iter().find(|c| c.0 == a.trim_start_matches('-')))
            .collect()
    }
}

pub fn print_usage(args: &[String]) {
    for (n, _, _) in selected(args) {
        println!("Usage: hafs dfs [generic options] {}", usage_line(n));
    }
}

pub fn print_help(args: &[String]) {
    if args.is_empty() {
        println!("Usage: hafs dfs [generic options]");
        for (n, _, _) in COMMANDS {
            println!("\t[{}]", usage_line(n));
        }
        println!();
    }
    for (n, _, d) in selected(args) {
        println!("{} :\n  {d}\n", usage_line(n));
    }
}
