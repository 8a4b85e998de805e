#!/usr/bin/env bash
# Crypto benchmark (issue 3, item 7): runs the rsmbd-crypto bench (seal/open per cipher, sign per
# algorithm, 64 KiB and 1 MiB) and `openssl speed -evp` for AES-128/256-GCM on the same machine,
# then writes both side by side to bench/results/crypto-<UTC timestamp>.md and .tsv.
#
# Environment: CARGO_TARGET_DIR (default: cargo's own), CARGO_JOBS (default 1, so the build does
# not starve other work on a small machine), OPENSSL (default: openssl), OPENSSL_SECONDS
# (default 2).
# Extra arguments go to the bench binary, e.g. `bash bench/crypto.sh --round-ms 300`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
results="$root/bench/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
md="$results/crypto-$stamp.md"
tsv="$results/crypto-$stamp.tsv"
openssl=${OPENSSL:-openssl}
seconds=${OPENSSL_SECONDS:-2}
size=65536
load=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$results"

# Prints the bytes/s `openssl speed -mr` reports for cipher $1 at buffer size $2, or nothing.
speed_column() {
    awk -F: -v want="$2" '
        /^\+H:/ { for (i = 2; i <= NF; i++) if ($i == want) col = i + 2 }
        /^\+F:/ && col { print $col }'
}

# Prints "<bytes/s> <buffer size>" for cipher $1: at 64 KiB with -bytes, else (an OpenSSL without
# -bytes) the 16384 column of the default table.
openssl_speed() {
    local out value
    if out=$("$openssl" speed -mr -evp "$1" -bytes "$size" -seconds "$seconds" 2>/dev/null) &&
        value=$(speed_column "$1" "$size" <<<"$out") && [[ -n $value ]]; then
        echo "$value $size"
        return
    fi
    out=$("$openssl" speed -mr -evp "$1" -seconds "$seconds" 2>/dev/null) || return 0
    value=$(speed_column "$1" 16384 <<<"$out")
    if [[ -n $value ]]; then
        echo "$value 16384"
    fi
}

# Prints the median GiB/s of one bench row from the TSV: operation $1, algorithm $2, bytes $3.
bench_median() {
    awk -F'\t' -v op="$1" -v alg="$2" -v bytes="$3" \
        '$1 == op && $2 == alg && $3 == bytes { print $4 }' "$tsv"
}

echo "Building and running the rsmbd-crypto bench (release profile)..." >&2
table=$(cd "$root" &&
    cargo bench -j"${CARGO_JOBS:-1}" -p rsmbd-crypto --bench crypto -- --tsv "$tsv" "$@")

comparison="| Cipher (seal, 64 KiB) | rsmbd median GiB/s | openssl speed -evp GiB/s | buffer |"
comparison+=" rsmbd / openssl |"$'\n'"|---|---:|---:|---:|---:|"
for cipher in aes-128-gcm aes-256-gcm; do
    name=${cipher^^}
    echo "Running $openssl speed -evp $cipher for ${seconds}s..." >&2
    read -r bytes_s buffer < <(openssl_speed "$cipher") || true
    ours=$(bench_median seal "$name" "$size")
    if [[ -z ${bytes_s:-} || -z $ours ]]; then
        comparison+=$'\n'"| $name | ${ours:-n/a} | n/a (openssl speed failed) | | |"
        continue
    fi
    theirs=$(awk -v b="$bytes_s" 'BEGIN { printf "%.2f", b / 2^30 }')
    ratio=$(awk -v a="$ours" -v b="$bytes_s" 'BEGIN { printf "%.2f", a / (b / 2^30) }')
    comparison+=$'\n'"| $name | $(printf %.2f "$ours") | $theirs | $buffer | $ratio |"
    printf 'openssl-speed-evp\t%s\t%s\t%.4f\t\t\t\n' "$name" "$buffer" \
        "$(awk -v b="$bytes_s" 'BEGIN { print b / 2^30 }')" >>"$tsv"
done

cpu=$(awk -F'\t*: ' '
    $1 == "model name" && !name { name = $2 }
    $1 == "cpu family" && !family { family = $2 }
    $1 == "model" && !model { model = $2 }
    END { printf "%s (family %s, model %s)", name, family, model }' /proc/cpuinfo)
cat >"$md" <<EOF
# rsmbd crypto benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')

- Machine: $(nproc) cores, $cpu; load average before the run: $load
- $(rustc --version); $("$openssl" version)
- The machine is small and shared (other builds may run), so numbers are noisy: compare medians,
  and treat differences under ~10% as noise.

## rsmbd-crypto

$table

## Beside OpenSSL

\`openssl speed -evp\` (single thread, like the seal rows) times repeated encrypt-update calls on
one buffer, with no per-message nonce, AAD or tag, so it carries less overhead per message than a
seal.
A large gap usually means the two libraries picked different AES-GCM code paths for this CPU
(aws-lc has VAES/AVX-512 ones; older OpenSSL builds stop at AES-NI/AVX).

$comparison
EOF

cat "$md"
echo >&2
echo "Wrote $md and $tsv" >&2
