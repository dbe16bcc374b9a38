#!/usr/bin/env bash
# Long fuzzing runs, for finding new bad inputs. (Every test run already replays the
# committed corpus and regression inputs: crates/fuzz-targets/tests/corpus.rs.)
#
#   bash scripts/fuzz.sh [TARGET|all] [SECONDS per target] [extra libFuzzer flags]
#   bash scripts/fuzz.sh all 3600          # an hour per target
#   bash scripts/fuzz.sh sasl_unwrap 600
#
# Installs cargo-fuzz (pinned) into $HAFS_CACHE/cargo-tools if missing, builds the
# fuzz/ project with `-s none` (coverage instrumentation, no sanitizer: works on the
# stable toolchain) and runs each target in one process for SECONDS (default 600).
# New interesting inputs are kept in fuzz/corpus-new/TARGET (not committed: minimize
# with `cargo fuzz cmin` and commit the few worth keeping to fuzz/corpus/TARGET). An
# input that crashes, hangs or exhausts memory is copied to fuzz/regressions/TARGET/;
# fix the parser and commit the input, and the corpus test replays it from then on.
# Exits 1 if any target found one.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
which="${1:-all}"
seconds="${2:-600}"
shift $(( $# > 2 ? 2 : $# ))

CARGO_FUZZ_VERSION=0.13.2
export HAFS_CACHE="${HAFS_CACHE:-$HOME/.cache/hafs}"
export PATH="$HAFS_CACHE/cargo-tools/bin:$PATH"
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$HAFS_CACHE/cargo-tools"
fi

targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^hafs-fuzz$')
if [[ "$which" != all ]]; then
    grep -qx "$which" <<<"$targets" || { echo "no fuzz target $which; targets: $(echo $targets)" >&2; exit 2; }
    targets="$which"
fi

cd fuzz
cargo fuzz build -s none

found=0
for t in $targets; do
    echo "==> $t for ${seconds}s"
    mkdir -p "corpus-new/$t" "artifacts/$t" "corpus/$t"
    seeds=("corpus/$t")
    [[ -d "regressions/$t" ]] && seeds+=("regressions/$t")
    # -rss_limit_mb: the parsers' bounds keep a process far below this; hitting it is a
    # bug. -timeout: one input taking seconds is a loop. (Huge single allocations abort
    # earlier, in the targets' own allocator.)
    if ! cargo fuzz run -s none "$t" "corpus-new/$t" "${seeds[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 "$@"; then
        found=1
    fi
    for a in "artifacts/$t"/*; do
        [[ -f "$a" ]] || continue
        mkdir -p "regressions/$t"
        cp "$a" "regressions/$t/"
        echo "!! $t: $(basename "$a") copied to fuzz/regressions/$t/" >&2
        found=1
    done
done
exit "$found"
