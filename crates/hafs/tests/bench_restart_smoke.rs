//! `hafs bench restart` end to end with small numbers: the real binary builds a
//! namespace of several image sections, checkpoints it, logs edits after it, loads and
//! replays them (each load must give back exactly the namespace it built, or the
//! benchmark fails), then starts a NameNode on the name dir and reads from it over
//! RPC. No wall time is asserted; the figures must be there and consistent.

mod common;

use common::{hafs, number, run_ok, temp_dir};

fn line<'a>(stdout: &'a str, prefix: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{stdout}"))
        .split_whitespace()
        .collect()
}

#[test]
fn restart_loads_an_image_of_several_sections_replays_edits_and_serves_them() {
    let dir = temp_dir("hafs-bench-restart");
    std::fs::create_dir_all(&dir).unwrap();
    // 70,000 files: three image sections of 32,768 inodes.
    let (stdout, _) = run_ok(
        &[
            "bench", "restart", "-files", "70000", "-edits", "20000", "-runs", "2", "-lookups",
            "300",
        ],
        "-dir",
        &dir,
    );
    let head = line(&stdout, "restart:");
    assert_eq!(number(head[1]), 70_000.0, "{head:?}");
    // Files, one directory per thousand of them, and the root.
    assert_eq!(
        number(head[7].trim_start_matches('(')),
        70_071.0,
        "{head:?}"
    );
    let load = line(&stdout, "image load:");
    assert!(number(load[4]) > 0.0, "inodes/s: {load:?}");
    let replay = line(&stdout, "edit replay:");
    assert!(number(replay[4]) > 0.0, "edits/s: {replay:?}");
    let info = line(&stdout, "getFileInfo:");
    assert_eq!(number(info[7].trim_start_matches('(')), 300.0, "{info:?}");
    let listing = line(&stdout, "getListing:");
    // Random directories of the image hold 1000 files each (the edits add more
    // directories of their own, only partly filled, which are not listed).
    assert_eq!(
        number(listing[10]),
        1000.0,
        "entries per listing: {listing:?}"
    );
    std::fs::remove_dir_all(&dir).ok();

    // A bad value is refused with the option's name.
    let out = hafs()
        .args(["bench", "restart", "-files", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("-files"), "{stderr}");
}
