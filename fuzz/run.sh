#!/usr/bin/env bash
# Build the fuzz targets with libFuzzer instrumentation on the stable toolchain, then run each one for
# SECONDS (default 20) from its committed corpus. New inputs go to a scratch directory, so the
# committed corpus only changes when someone merges on purpose (see README.md).
# Exits non-zero if any target crashes, hangs (-timeout) or goes over -rss_limit_mb; the failing input
# is kept in fuzz/artifacts/.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

SECS=${1:-20}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    mapfile -t TARGETS < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^rsmbd-fuzz$')
fi
HOST=$(rustc -vV | sed -n 's/^host: //p')

# What cargo-fuzz passes, minus the sanitizer (nightly only): coverage counters, comparison tracing
# and `cfg(fuzzing)`. `--target` keeps these flags off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
echo "fuzz: building ${#TARGETS[@]} targets for $HOST"
cargo build --release --target "$HOST" -j"${FUZZ_JOBS:-2}" --bins || exit 1
BIN=target/$HOST/release

mkdir -p artifacts
failed=()
for t in "${TARGETS[@]}"; do
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/rsmbd-fuzz-$t-XXXXXX")
    mkdir -p "corpus/$t"
    log="$scratch.log"
    (
        ulimit -v $((4 << 20)) # KiB: 4 GiB of address space
        "$BIN/$t" "$scratch" "corpus/$t" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 \
            -max_len=65536 -print_final_stats=1 -artifact_prefix="artifacts/$t-" >"$log" 2>&1
    )
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
    printf 'fuzz %-18s %4ss  %10s execs  %7s exec/s  %s  rc=%s\n' "$t" "$SECS" "${execs:-?}" "${speed:-?}" "${cov:-?}" "$rc"
    if [ "$rc" -ne 0 ]; then
        failed+=("$t")
        tail -n 40 "$log"
    fi
    rm -rf "$scratch" "$log"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets ran ${SECS}s each without a finding"
