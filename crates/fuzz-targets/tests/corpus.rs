//! Replays every committed fuzz input through its target: the seeds under
//! `fuzz/corpus/<target>/` and every input that once crashed a parser, under
//! `fuzz/regressions/<target>/`. Runs on every test run, without cargo-fuzz or
//! libFuzzer, in a few seconds. `HAFS_BLESS=1` (re)writes the generated seeds first.
//!
//! The process's allocator aborts on any single allocation above
//! `hafs_fuzz_targets::MAX_ALLOCATION`, as in the fuzz binaries.

use std::path::{Path, PathBuf};

use hafs_fuzz_targets::{seeds::seeds, target, BoundedAllocator, TARGETS};

#[global_allocator]
static ALLOCATOR: BoundedAllocator = BoundedAllocator;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.expect("a readable corpus directory").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Runs `name` on `input`, naming the file in the panic message if the target panics.
fn replay(name: &str, file: &Path) {
    let input = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let t = target(name).unwrap_or_else(|| panic!("no target {name}"));
    let result = std::panic::catch_unwind(|| t(&input));
    if result.is_err() {
        panic!("target {name} panicked on {}", file.display());
    }
}

#[test]
fn every_committed_input_passes_its_target() {
    if std::env::var_os("HAFS_BLESS").is_some() {
        for s in seeds() {
            let dir = fuzz_dir().join("corpus").join(s.target);
            std::fs::create_dir_all(&dir).expect("corpus dir");
            std::fs::write(dir.join(format!("seed-{}", s.name)), &s.bytes).expect("write seed");
        }
    }
    let mut total = 0;
    for (name, _) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(
            !corpus.is_empty(),
            "target {name} has no committed corpus under fuzz/corpus/{name} (HAFS_BLESS=1 writes the seeds)"
        );
        let regressions = files(&fuzz_dir().join("regressions").join(name));
        for f in corpus.iter().chain(&regressions) {
            replay(name, f);
            total += 1;
        }
    }
    // Directories must be named for targets, or their inputs would silently never run.
    for kind in ["corpus", "regressions"] {
        for dir in std::fs::read_dir(fuzz_dir().join(kind))
            .into_iter()
            .flatten()
        {
            let dir = dir.expect("a readable fuzz directory").path();
            let n = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            assert!(
                target(&n).is_some(),
                "fuzz/{kind}/{n} is not named for a target"
            );
        }
    }
    eprintln!("replayed {total} inputs over {} targets", TARGETS.len());
}

#[test]
fn every_generated_seed_passes_its_target() {
    let all = seeds();
    for (name, _) in TARGETS {
        assert!(
            all.iter().any(|s| s.target == *name),
            "target {name} has no generated seed"
        );
    }
    for s in &all {
        let t = target(s.target).unwrap_or_else(|| panic!("seed for unknown target {}", s.target));
        t(&s.bytes);
    }
}
