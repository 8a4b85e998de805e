#!/usr/bin/env bash
# Server benchmark (issue 5): rsmbd against Samba's smbd on the same machine, same share, same user, same
# clients. See bench/README.md ("Server benchmark against Samba") for every row and how to read the ratios.
#
# Usage: bash bench/run.sh [--runs N] [--quick] [--only GROUPS] [--servers rsmbd|samba|both] [--size MIB]
#                          [--protection LIST] [--no-install] [--keep] [--perf FILE]
#   --runs N      measure every row N times per server, alternating the servers (default 3)
#   --quick       one run with small sizes (64 MiB files, 200 files, 50 connections, 2 s smbtorture runs)
#   --only GROUPS comma-separated subset of: get,put,copy,meta,acl,parallel,torture,leases,memory,ceilings; seq = get,put
#                 (default: all); also soak (SOAK_CLIENTS clients of mixed work for SOAK_SECONDS, default 32
#                 and 600; bench/soak.py), which runs only when named
#   --servers S   rsmbd, samba or both (default both)
#   --size MIB    size of the sequential get/put file and of each parallel file (default 1024 and 256)
#   --protection LIST  comma-separated subset of off,sign,encrypt for get and put (default: all three)
#   --no-install  do not install missing tools
#   --keep        leave the temporary directory (configs, server logs) in place; the data tmpfs is always removed
#   --perf FILE   record rsmbd with perf (cpu-clock, DWARF call chains) into FILE while the rows run; the memory
#                 rows restart rsmbd, so the profile ends there
# Environment: RSMBD_BIN (use this binary, skip the build), CARGO_TARGET_DIR, CARGO_JOBS (default 2),
#   RSMBD_REV (what the results name as the rsmbd revision; default: git HEAD of this repository),
#   RSMBD_WRAPPER (command prefix for rsmbd, e.g. "valgrind --tool=callgrind ..."), RSMBD_LOG (default warn).
# Needs root (apt-get, Samba's smbd, a tmpfs mount): run as a normal user it builds, then re-runs itself with sudo.
# Writes bench/results/server-<UTC stamp>.md, .tsv (summary), -raw.tsv (every measurement) and .log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
RESULTS="$BENCH/results"
BENCH_USER=rsmbdbench
SHARE=data
START=$SECONDS

RUNS=3 QUICK=0 ONLY=all SERVERS=both INSTALL=1 KEEP=0 SIZE_MIB="" PROTECTIONS="off sign encrypt" PERF_OUT=""
ORIG_ARGS=("$@")
ARGS_TEXT="$*"
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) RUNS=$2; shift ;;
    --quick) QUICK=1 ;;
    --only) ONLY=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --size) SIZE_MIB=$2; shift ;;
    --protection) PROTECTIONS=${2//,/ }; shift ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    --perf) PERF_OUT=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [ "$QUICK" -eq 1 ]; then
    RUNS=1 BIG_MIB=64 PAR_MIB=64 META_FILES=200 TORTURE_SECS=2 CONNS=${CONNS:-50} LEASE_OPENS=200
else
    BIG_MIB=1024 PAR_MIB=256 META_FILES=2000 TORTURE_SECS=10 CONNS=${CONNS:-300} LEASE_OPENS=2000
fi
if [ -n "$SIZE_MIB" ]; then BIG_MIB=$SIZE_MIB PAR_MIB=$SIZE_MIB; fi
PAR_CLIENTS=8
LIST_REPEAT=5
IPERF_SECS=5
case "$SERVERS" in
both) SERVER_LIST=(rsmbd samba) ;;
rsmbd | samba) SERVER_LIST=("$SERVERS") ;;
*) echo "--servers must be rsmbd, samba or both" >&2; exit 2 ;;
esac

say() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() { say "error: $*"; exit 1; }
want() { # group; "seq" stands for get and put; soak runs only when named
    [[ ",$ONLY," == *",$1,"* ]] && return 0
    [ "$1" != soak ] && { [ "$ONLY" = all ] || { [[ $1 == get || $1 == put ]] && [[ ",$ONLY," == *,seq,* ]]; }; }
}

# ---------------------------------------------------------------- tools and build

install_tools() {
    local pkgs=()
    command -v smbd >/dev/null || [ -x /usr/sbin/smbd ] || pkgs+=(samba)
    command -v smbclient >/dev/null || pkgs+=(smbclient)
    command -v smbtorture >/dev/null || pkgs+=(samba-testsuite)
    command -v iperf3 >/dev/null || pkgs+=(iperf3)
    command -v openssl >/dev/null || pkgs+=(openssl)
    command -v python3 >/dev/null || pkgs+=(python3 python3-pip)
    if [ -n "$PERF_OUT" ]; then command -v perf >/dev/null || pkgs+=(linux-perf); fi
    if [ ${#pkgs[@]} -gt 0 ]; then
        say "installing ${pkgs[*]} (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
    fi
    if ! python3 -c 'import smbprotocol' 2>/dev/null; then
        say "installing smbprotocol (pip)"
        python3 -m pip install -q smbprotocol ||
            python3 -m pip install -q --break-system-packages smbprotocol
    fi
}

build_rsmbd() {
    if [ -n "${RSMBD_BIN:-}" ]; then
        [ -x "$RSMBD_BIN" ] || die "RSMBD_BIN=$RSMBD_BIN is not an executable"
        return
    fi
    command -v cargo >/dev/null || die "cargo not found: install the Rust toolchain (rustup)"
    say "building rsmbd (cargo build --release -p rsmbd)"
    (cd "$ROOT" && cargo build --release -q -j"${CARGO_JOBS:-2}" -p rsmbd)
    RSMBD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/rsmbd"
    [[ $RSMBD_BIN == /* ]] || RSMBD_BIN="$ROOT/$RSMBD_BIN"
}

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "must run as root (apt-get, smbd, tmpfs mount) and sudo is missing"
    build_rsmbd
    say "re-running as root with sudo"
    exec sudo RSMBD_BIN="$RSMBD_BIN" RSMBD_WRAPPER="${RSMBD_WRAPPER:-}" RSMBD_LOG="${RSMBD_LOG:-}" \
        bash "$0" "${ORIG_ARGS[@]}"
fi
[ "$INSTALL" -eq 1 ] && install_tools
build_rsmbd
SMBD=$(command -v smbd || echo /usr/sbin/smbd)
SMBPASSWD=$(command -v smbpasswd || echo /usr/sbin/smbpasswd)

# ---------------------------------------------------------------- workspace, cleanup

WORK=$(mktemp -d /tmp/rsmbd-bench.XXXXXX)
chmod 0711 "$WORK" # the share user must reach the mount point (smbd changes into the share as that user)
MNT="$WORK/mnt"
MOUNTED=0 CREATED_USER=0
declare -A PID PORT DIR

# Descendants of pid $1 (children first found by parent pid, recursively).
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}

# SIGTERM to pid $1, up to 60 s for it to exit (a server under valgrind writes its profile then), then SIGKILL
# to it and whatever it left behind.
stop_tree() {
    local pid=$1 rest i
    kill -0 "$pid" 2>/dev/null || return 0
    rest=$(descendants "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL "$pid" $rest $(descendants "$pid") 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? job pid
    trap - EXIT INT TERM
    for job in $(jobs -p); do stop_tree "$job"; done
    for pid in "${PID[@]}"; do stop_tree "$pid"; done
    # Anything still running from our directory (e.g. a helper smbd started for our private config).
    for pid in $(grep -lsF "$WORK" /proc/[0-9]*/cmdline | cut -d/ -f3); do
        [ "$pid" != $$ ] && kill -KILL "$pid" 2>/dev/null || true
    done
    if [ "$MOUNTED" -eq 1 ]; then umount "$MNT" 2>/dev/null || umount -l "$MNT" || true; fi
    if [ "$KEEP" -eq 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
    if [ "$CREATED_USER" -eq 1 ]; then userdel "$BENCH_USER" 2>/dev/null || true; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$MNT" "$RESULTS"
need_mib=$((BIG_MIB * 3 + PAR_MIB * PAR_CLIENTS + 256))
if mount -t tmpfs -o "size=${need_mib}m,mode=0755" rsmbd-bench "$MNT" 2>/dev/null; then
    MOUNTED=1
    FS_NOTE="tmpfs mounted for this run (size ${need_mib} MiB)"
else
    MNT=$(mktemp -d /dev/shm/rsmbd-bench.XXXXXX)
    ln -s "$MNT" "$WORK/mnt-shm"
    FS_NOTE="/dev/shm (could not mount a tmpfs)"
fi
say "workspace $WORK, data on $MNT ($FS_NOTE)"

if ! id "$BENCH_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_USER"
    CREATED_USER=1
fi
PASSWORD="B3nch-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_PASSWORD=$PASSWORD
AUTH="$WORK/auth.txt"
(umask 077 && printf 'username = %s\npassword = %s\n' "$BENCH_USER" "$PASSWORD" >"$AUTH")
CLIENT_CONF="$WORK/client.conf"
mkdir -p "$WORK/client"
cat >"$CLIENT_CONF" <<EOF
[global]
lock directory = $WORK/client
state directory = $WORK/client
cache directory = $WORK/client
private dir = $WORK/client
EOF

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- data

make_data() {
    local srv i
    mkdir -p "$MNT/src" "$MNT/client"
    say "writing test files on $MNT (${BIG_MIB} MiB, ${PAR_CLIENTS} x ${PAR_MIB} MiB)"
    head -c "${BIG_MIB}M" /dev/urandom >"$MNT/src/big.bin"
    head -c 65536 /dev/urandom >"$MNT/src/small.bin"
    for i in $(seq "$PAR_CLIENTS"); do head -c "${PAR_MIB}M" /dev/urandom >"$MNT/src/p$i.bin"; done
    for srv in "${SERVER_LIST[@]}"; do
        DIR[$srv]="$MNT/$srv"
        mkdir -p "${DIR[$srv]}/par" "${DIR[$srv]}/meta" "${DIR[$srv]}-acl"
        # Hard links: both shares serve the very same tmpfs pages.
        ln "$MNT/src/big.bin" "${DIR[$srv]}/big.bin"
        ln "$MNT/src/small.bin" "${DIR[$srv]}/small.bin"
        for i in $(seq "$PAR_CLIENTS"); do ln "$MNT/src/p$i.bin" "${DIR[$srv]}/par/p$i.bin"; done
    done
    chown -R "$BENCH_USER:" "$MNT"
}

# ---------------------------------------------------------------- servers

# True once something listens on TCP port $1 (read from /proc/net/tcp: connecting to find out would cost smbd a
# fork and iperf3 its one test); false if pid $2 died first or after $3 seconds.
wait_port() { # port pid seconds
    local i hex
    hex=$(printf '%04X' "$1")
    for i in $(seq $(($3 * 10))); do
        kill -0 "$2" 2>/dev/null || return 1
        awk -v p="$hex" '$4 == "0A" && substr($2, index($2, ":") + 1) == p { f = 1 } END { exit !f }' \
            /proc/net/tcp && return 0
        sleep 0.1
    done
    return 1
}

setup_rsmbd() {
    local d="$WORK/rsmbd"
    mkdir -p "$d"
    PORT[rsmbd]=$(free_port)
    cat >"$d/smb.conf" <<EOF
[global]
smb ports = ${PORT[rsmbd]}
interfaces = 127.0.0.1
bind interfaces only = yes
passdb backend = smbpasswd:$d/smbpasswd
# Every client of the bench connects from 127.0.0.1; the memory rows hold ${CONNS} connections at once.
max connections per address = $((CONNS + 1024))
max tcp connections = $((CONNS + 1024))
[$SHARE]
path = ${DIR[rsmbd]}
read only = no
# The ACL row's share: NT ACLs are stored by default.
[acl]
path = ${DIR[rsmbd]}-acl
read only = no
EOF
    printf '%s\n' "$PASSWORD" | "$RSMBD_BIN" user add "$BENCH_USER" --config "$d/smb.conf" >/dev/null
}

launch_rsmbd() {
    local d="$WORK/rsmbd"
    # shellcheck disable=SC2086
    RSMBD_LOG=${RSMBD_LOG:-warn} ${RSMBD_WRAPPER:-} "$RSMBD_BIN" serve --config "$d/smb.conf" \
        </dev/null >>"$d/server.log" 2>&1 &
    PID[rsmbd]=$!
    wait_port "${PORT[rsmbd]}" "${PID[rsmbd]}" 120 || { tail -20 "$d/server.log" >&2; die "rsmbd did not start"; }
    say "started rsmbd $("$RSMBD_BIN" --version 2>/dev/null | head -1) on port ${PORT[rsmbd]} (pid ${PID[rsmbd]})"
}

setup_samba() {
    local d="$WORK/samba" sub
    for sub in lock state cache private pid ncalrpc binddns; do mkdir -p "$d/$sub"; done
    PORT[samba]=$(free_port)
    cat >"$d/smb.conf" <<EOF
[global]
server role = standalone server
smb ports = ${PORT[samba]}
interfaces = 127.0.0.1
bind interfaces only = yes
disable netbios = yes
lock directory = $d/lock
state directory = $d/state
cache directory = $d/cache
private dir = $d/private
pid directory = $d/pid
ncalrpc dir = $d/ncalrpc
binddns dir = $d/binddns
log file = $d/log.%m
log level = 0
max log size = 0
passdb backend = smbpasswd:$d/private/smbpasswd
load printers = no
printcap name = /dev/null
disable spoolss = yes
usershare path =
[$SHARE]
path = ${DIR[samba]}
read only = no
# The ACL row's share: Samba keeps NT ACLs with acl_xattr, as rsmbd does (no POSIX ACLs beside them).
[acl]
path = ${DIR[samba]}-acl
read only = no
vfs objects = acl_xattr
acl_xattr:ignore system acls = yes
EOF
    printf '%s\n%s\n' "$PASSWORD" "$PASSWORD" | "$SMBPASSWD" -c "$d/smb.conf" -a -s "$BENCH_USER" >/dev/null 2>&1 ||
        die "smbpasswd -a failed"
}

launch_samba() {
    local d="$WORK/samba"
    # smbd signals its whole process group when it stops: give it one of its own (setsid without fork: a
    # background job of a script is no group leader, so the pid stays smbd's).
    setsid "$SMBD" -F --no-process-group -s "$d/smb.conf" </dev/null >>"$d/stdout.log" 2>&1 &
    PID[samba]=$!
    wait_port "${PORT[samba]}" "${PID[samba]}" 30 || { tail -20 "$d"/log.* >&2; die "smbd did not start"; }
    say "started Samba smbd $("$SMBD" --version) on port ${PORT[samba]} (pid ${PID[samba]})"
}

# A fresh server process on the same port and configuration (for the memory rows).
restart() { # server
    stop_tree "${PID[$1]}"
    "launch_$1"
}

# ---------------------------------------------------------------- measuring

RAW="" LOG="" ELAPSED=0 RUN=0

# record ROW LABEL UNIT BETTER SERVER VALUE
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$RUN" "$6" >>"$RAW"; }

# timed NAME CMD...: runs CMD with its output in $WORK/last.out, sets ELAPSED (seconds); on failure copies the
# output's tail to the log.
timed() {
    local name=$1 t0 rc=0
    shift
    t0=$EPOCHREALTIME
    "$@" >"$WORK/last.out" 2>&1 || rc=$?
    ELAPSED=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }')
    if [ "$rc" -ne 0 ]; then
        { echo "== $name: exit $rc (run $RUN)"; tail -20 "$WORK/last.out"; } >>"$LOG"
    fi
    return "$rc"
}

failed() { echo "== $1 (run $RUN)" >>"$LOG"; }
protection_name() { case "$1" in off) echo plain ;; sign) echo signed ;; *) echo encrypted ;; esac; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.3f", n / t; else print "NA" }'; }

smbc() { # server args...
    local srv=$1
    shift
    smbclient "//127.0.0.1/$SHARE" -p "${PORT[$srv]}" -A "$AUTH" -s "$CLIENT_CONF" -m SMB3_11 "$@"
}

seq_get() { # server protection
    local srv=$1 prot=$2 out="$MNT/client/get.bin" v=NA
    rm -f "$out"
    if timed "get $prot $srv" smbc "$srv" --client-protection="$prot" -c "get big.bin $out"; then
        if [ "$(stat -c %s "$out" 2>/dev/null)" = $((BIG_MIB << 20)) ]; then
            v=$(rate "$BIG_MIB" "$ELAPSED")
        else failed "get $prot $srv: wrong size"; fi
    fi
    rm -f "$out"
    record "get-$prot" "Sequential get ${BIG_MIB} MiB, $(protection_name "$prot")" MiB/s higher "$srv" "$v"
}

seq_put() { # server protection
    local srv=$1 prot=$2 dst="${DIR[$1]}/put.bin" v=NA
    rm -f "$dst"
    if timed "put $prot $srv" smbc "$srv" --client-protection="$prot" -c "put $MNT/src/big.bin put.bin"; then
        if [ "$(stat -c %s "$dst" 2>/dev/null)" = $((BIG_MIB << 20)) ]; then
            v=$(rate "$BIG_MIB" "$ELAPSED")
        else failed "put $prot $srv: wrong size"; fi
    fi
    rm -f "$dst"
    record "put-$prot" "Sequential put ${BIG_MIB} MiB, $(protection_name "$prot")" MiB/s higher "$srv" "$v"
}

copy() { # server: server-side copy of the big file (bench/server_copy.py, FSCTL_SRV_COPYCHUNK_WRITE)
    local srv=$1 dst="${DIR[$1]}/copy.bin" v=NA secs
    rm -f "$dst"
    if secs=$(python3 "$BENCH/server_copy.py" --port "${PORT[$srv]}" --user "$BENCH_USER" --share "$SHARE" \
        big.bin copy.bin 2>>"$LOG"); then
        if [ "$(stat -c %s "$dst" 2>/dev/null)" = $((BIG_MIB << 20)) ]; then
            v=$(rate "$BIG_MIB" "$secs")
        else failed "copy $srv: wrong size"; fi
    else failed "copy $srv"; fi
    rm -f "$dst"
    record copy "Server-side copy ${BIG_MIB} MiB (smbprotocol copyfile, COPYCHUNK_WRITE)" MiB/s higher "$srv" "$v"
}

# An smbclient session running the command script $2; ELAPSED is its time minus that of an empty session
# (connect, negotiate, session setup, tree connect, logoff), measured just before.
script_session() { # server script
    local base
    timed "empty session $1" smbc "$1" --client-protection=off <<<"" || return 1
    base=$ELAPSED
    timed "script session $1" smbc "$1" --client-protection=off <"$2" || return 1
    ELAPSED=$(awk -v a="$ELAPSED" -v b="$base" 'BEGIN { printf "%.6f", a - b }')
}

meta() { # server
    local srv=$1 dir="${DIR[$1]}/meta" s="$WORK/meta" c=NA l=NA d=NA i n
    rm -rf "${dir:?}"/*
    : >"$WORK/empty" # smbclient only puts regular files
    { echo "cd meta"; for i in $(seq -w "$META_FILES"); do echo "put $WORK/empty f$i"; done; } >"$s.create"
    { echo "cd meta"; for i in $(seq "$LIST_REPEAT"); do echo "ls"; done; } >"$s.list"
    printf 'cd meta\ndel f*\n' >"$s.delete"
    if script_session "$srv" "$s.create"; then
        n=$(find "$dir" -type f | wc -l)
        if [ "$n" -eq "$META_FILES" ]; then c=$(rate "$META_FILES" "$ELAPSED"); else failed "create $srv: $n files"; fi
    fi
    if script_session "$srv" "$s.list"; then
        n=$(grep -c ' f[0-9]' "$WORK/last.out" || true)
        if [ "$n" -eq $((META_FILES * LIST_REPEAT)) ]; then l=$(rate "$n" "$ELAPSED"); else failed "list $srv: $n"; fi
    fi
    if script_session "$srv" "$s.delete"; then
        n=$(find "$dir" -type f | wc -l)
        if [ "$n" -eq 0 ]; then d=$(rate "$META_FILES" "$ELAPSED"); else failed "delete $srv: $n left"; fi
    fi
    rm -rf "${dir:?}"/*
    record meta-create "Create+close ${META_FILES} files" files/s higher "$srv" "$c"
    record meta-list "List ${META_FILES}-entry directory" entries/s higher "$srv" "$l"
    record meta-delete "Delete ${META_FILES} files" files/s higher "$srv" "$d"
}

# The create row again in a directory whose NT ACL every new file inherits (share [acl], see bench/acl_dir.py):
# the cost of reading the parent's descriptor, computing the inherited one and storing it per file.
meta_acl() { # server
    local srv=$1 dir="${DIR[$1]}-acl/inherit" s="$WORK/meta-acl" c=NA n i
    rm -rf "$dir"
    python3 "$BENCH/acl_dir.py" "$dir" || { failed "acl_dir.py $srv"; return; }
    : >"$WORK/empty"
    { echo "cd inherit"; for i in $(seq -w "$META_FILES"); do echo "put $WORK/empty f$i"; done; } >"$s.create"
    if SHARE=acl script_session "$srv" "$s.create"; then
        n=$(find "$dir" -type f | wc -l)
        if [ "$n" -eq "$META_FILES" ]; then c=$(rate "$META_FILES" "$ELAPSED"); else failed "acl create $srv: $n files"; fi
    fi
    rm -rf "$dir"
    record meta-create-acl "Create+close ${META_FILES} files, inherited ACL" files/s higher "$srv" "$c"
}

# Re-opens of one small file under a read-handle lease that a first open holds (bench/leases.py).
leases() { # server
    local srv=$1 v=NA out
    if out=$(python3 "$BENCH/leases.py" --host 127.0.0.1 --port "${PORT[$srv]}" --user "$BENCH_USER" \
        --share "$SHARE" --file small.bin --count "$LEASE_OPENS" 2>"$WORK/leases.err"); then
        v=$(cut -f1 <<<"$out")
    else
        { echo "== leases.py $srv failed (run $RUN)"; tail -20 "$WORK/leases.err"; } >>"$LOG"
    fi
    record lease-reopen "Open+read 4 KiB+close one file ${LEASE_OPENS} times under an RH lease" opens/s higher "$srv" "$v"
}

parallel() { # server
    local srv=$1 i pids=() ok=1 t0 v=NA
    t0=$EPOCHREALTIME
    for i in $(seq "$PAR_CLIENTS"); do
        smbc "$srv" --client-protection=off -c "get par/p$i.bin /dev/null" >"$WORK/par$i.out" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}"; then
            ok=0
            { echo "== parallel $srv client $((i + 1)) failed (run $RUN)"; tail -5 "$WORK/par$((i + 1)).out"; } >>"$LOG"
        fi
    done
    ELAPSED=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }')
    [ "$ok" -eq 1 ] && v=$(rate $((PAR_CLIENTS * PAR_MIB)) "$ELAPSED")
    record parallel "${PAR_CLIENTS} clients each reading ${PAR_MIB} MiB" "MiB/s total" higher "$srv" "$v"
}

torture() { # server test nprocs key label unit
    local srv=$1 test=$2 n=$3 key=$4 v=NA
    if timed "smbtorture $test $n $srv" smbtorture "//127.0.0.1/$SHARE" -p "${PORT[$srv]}" -A "$AUTH" \
        -s "$CLIENT_CONF" -m SMB3_11 --option=torture:nprocs="$n" --option=torture:timelimit="$TORTURE_SECS" \
        --option=torture:progress=no "smb2.bench.$test"; then
        v=$(grep -o "$key\[num/s=[0-9]*" "$WORK/last.out" | tail -1 | cut -d= -f2)
        [ -n "$v" ] || { v=NA; failed "smbtorture $test $n $srv: no $key rate in output"; }
    fi
    record "$test-$n" "$5" "$6" higher "$srv" "$v"
}

# SOAK_CLIENTS clients of mixed work for SOAK_SECONDS (bench/soak.py); by hand only (--only soak).
soak() { # server
    local srv=$1 out
    out=$(python3 "$BENCH/soak.py" --port "${PORT[$srv]}" --user "$BENCH_USER" --share "$SHARE" \
        --clients "${SOAK_CLIENTS:-32}" --seconds "${SOAK_SECONDS:-600}" --server-pid "${PID[$srv]}" \
        --marker "$WORK/$srv/" 2>"$WORK/soak-$srv.err") || { failed "soak $srv"; return; }
    cat "$WORK/soak-$srv.err" >>"$LOG"
    soak_value() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
    mib() { awk -v k="$(soak_value "$1")" 'BEGIN { printf "%.1f", k / 1024 }'; }
    record soak-ops "Soak: operations/s (${SOAK_CLIENTS:-32} clients, ${SOAK_SECONDS:-600} s)" ops/s higher "$srv" \
        "$(rate "$(soak_value ops)" "${SOAK_SECONDS:-600}")"
    record soak-errors "Soak: failed operations" count lower "$srv" "$(soak_value errors)"
    record soak-mismatch "Soak: reads that returned other bytes" count lower "$srv" "$(soak_value mismatches)"
    record soak-pss-max "Soak: largest server PSS under load" MiB lower "$srv" "$(mib pss_max_kib)"
    record soak-pss-end "Soak: server PSS 20 s after the load" MiB lower "$srv" "$(mib pss_end_kib)"
}

server_pss_mib() { # server: its PSS now, in MiB
    python3 "$BENCH/sessions.py" --pss-only --server-pid "${PID[$1]}" --marker "$WORK/$1/" |
        awk -F'\t' '$1 == "pss_idle_kib" { printf "%.1f", $2 / 1024 }'
}

memory() { # server
    local srv=$1 p=NA s=NA idle=NA late=NA out retained
    retained=$(server_pss_mib "$srv") || retained=NA
    record pss-retained "Server PSS after the rows above, no connection" MiB lower "$srv" "${retained:-NA}"
    sleep 20 # memory the server frees once the load has ended (rsmbd trims its buffer pool after 10 s idle)
    retained=$(server_pss_mib "$srv") || retained=NA
    record pss-later "Server PSS 20 s after the rows above" MiB lower "$srv" "${retained:-NA}"
    restart "$srv"
    sleep 1 # let a fresh smbd start its helper processes before the first reading
    if out=$(python3 "$BENCH/sessions.py" --port "${PORT[$srv]}" --user "$BENCH_USER" --share "$SHARE" \
        --count "$CONNS" --server-pid "${PID[$srv]}" --marker "$WORK/$srv/" 2>"$WORK/sessions.err"); then
        s=$(awk -F'\t' '$1 == "setups_per_s" { print $2 }' <<<"$out")
        idle=$(awk -F'\t' '$1 == "pss_idle_kib" { printf "%.1f", $2 / 1024 }' <<<"$out")
        p=$(awk -F'\t' '$1 == "pss_per_conn_kib" { print $2 }' <<<"$out")
        late=$(awk -F'\t' '$1 == "new_client_ms" { print $2 }' <<<"$out")
    else
        { echo "== sessions.py $srv failed (run $RUN)"; tail -20 "$WORK/sessions.err"; } >>"$LOG"
    fi
    record pss-idle "Server PSS, fresh process, no connection" MiB lower "$srv" "$idle"
    record pss-conn "PSS per idle authenticated connection (${CONNS} open)" KiB lower "$srv" "$p"
    record setups "Connect + negotiate + session setup (${CONNS} sequential)" setups/s higher "$srv" "$s"
    record late "A new client while ${CONNS} are open: logon, write and read 64 KiB" ms lower "$srv" "$late"
    sleep 20
    retained=$(server_pss_mib "$srv") || retained=NA
    record pss-after-conns "Server PSS 20 s after the ${CONNS} connections closed" MiB lower "$srv" "${retained:-NA}"
}

ceilings() {
    local port pid v=NA
    port=$(free_port)
    iperf3 -s -B 127.0.0.1 -p "$port" >"$WORK/iperf3-server.out" 2>&1 &
    pid=$!
    PID[iperf3]=$pid
    if ! wait_port "$port" "$pid" 10; then
        failed "iperf3 server did not start"
    elif timed iperf3 iperf3 -c 127.0.0.1 -p "$port" -t "$IPERF_SECS" -J; then
        v=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8 / 2**20)' \
            <"$WORK/last.out" 2>&1) || { failed "iperf3 output: $v"; v=NA; }
    fi
    stop_tree "$pid"
    unset 'PID[iperf3]'
    record ceil-tcp "Loopback TCP, iperf3 ${IPERF_SECS} s, 1 stream" MiB/s higher machine "$v"
    v=NA
    if timed "dd" dd if="$MNT/src/big.bin" of=/dev/null bs=1M; then v=$(rate "$BIG_MIB" "$ELAPSED"); fi
    record ceil-tmpfs "tmpfs read (dd ${BIG_MIB} MiB, bs=1M)" MiB/s higher machine "$v"
    v=NA
    if timed "openssl speed" openssl speed -mr -evp aes-128-gcm -bytes 65536 -seconds 2; then
        v=$(awk -F: '/^\+F:/ { printf "%.1f", $4 / 2^20 }' "$WORK/last.out")
        [ -n "$v" ] || v=NA
    fi
    record ceil-aes "AES-128-GCM, one core (openssl speed -evp, 64 KiB)" MiB/s higher machine "$v"
}

# One run: every row, for each server in turn; the server going first alternates from run to run.
one_run() {
    local order=("${SERVER_LIST[@]}") srv prot n
    if [ ${#order[@]} -eq 2 ] && [ $((RUN % 2)) -eq 0 ]; then order=("${order[1]}" "${order[0]}"); fi
    say "run $RUN/$RUNS (order: ${order[*]})"
    for prot in $PROTECTIONS; do
        if want get; then for srv in "${order[@]}"; do seq_get "$srv" "$prot"; done; fi
        if want put; then for srv in "${order[@]}"; do seq_put "$srv" "$prot"; done; fi
    done
    if want copy; then for srv in "${order[@]}"; do copy "$srv"; done; fi
    if want meta; then for srv in "${order[@]}"; do meta "$srv"; done; fi
    if want acl; then for srv in "${order[@]}"; do meta_acl "$srv"; done; fi
    if want parallel; then for srv in "${order[@]}"; do parallel "$srv"; done; fi
    if want torture; then
        for n in 4 64; do
            for srv in "${order[@]}"; do
                torture "$srv" echo "$n" echo "smbtorture smb2.bench.echo, $n connections" echos/s
            done
        done
        for n in 4 16; do
            for srv in "${order[@]}"; do
                torture "$srv" path-contention-shared "$n" open \
                    "smbtorture smb2.bench.path-contention-shared, $n connections" "open+close/s"
            done
        done
    fi
    if want leases; then for srv in "${order[@]}"; do leases "$srv"; done; fi
    if want memory; then for srv in "${order[@]}"; do memory "$srv"; done; fi
    if want soak; then for srv in "${order[@]}"; do soak "$srv"; done; fi
    if want ceilings; then ceilings; fi
}

# ---------------------------------------------------------------- main

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$RESULTS/server-$STAMP"
RAW="$OUT-raw.tsv" LOG="$OUT.log"
: >"$RAW"
echo "# bench/run.sh${ARGS_TEXT:+ $ARGS_TEXT}, started $(date -u '+%Y-%m-%d %H:%M:%S UTC')" >"$LOG"
make_data
for srv in "${SERVER_LIST[@]}"; do "setup_$srv" && "launch_$srv"; done
if [ -n "$PERF_OUT" ]; then
    [ -n "${PID[rsmbd]:-}" ] || die "--perf profiles rsmbd: use --servers rsmbd or both"
    perf record -q -e cpu-clock -F 700 --call-graph dwarf,16384 -p "${PID[rsmbd]}" -o "$PERF_OUT" \
        >"$WORK/perf.out" 2>&1 &
    PID[perf]=$!
    sleep 1
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for RUN in $(seq "$RUNS"); do one_run; done
if [ -n "${PID[perf]:-}" ]; then
    kill -INT "${PID[perf]}" 2>/dev/null || true
    wait "${PID[perf]}" 2>/dev/null || true
    unset 'PID[perf]'
    say "perf profile of rsmbd: $PERF_OUT"
fi
for srv in "${SERVER_LIST[@]}"; do
    kill -0 "${PID[$srv]}" 2>/dev/null || { echo "== $srv was not running at the end" >>"$LOG"; say "$srv died"; }
done

CPU=$(awk -F'\t*: ' '
    $1 == "model name" && !name { name = $2 }
    $1 == "cpu family" && !family { family = $2 }
    $1 == "model" && !model { model = $2 }
    END { printf "%s (family %s, model %s)", name, family, model }' /proc/cpuinfo)
if [ -n "${RSMBD_REV:-}" ]; then
    REV=$RSMBD_REV
else
    REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$ROOT" diff --quiet HEAD 2>/dev/null || REV="$REV with uncommitted changes"
fi
cat >"$OUT.header.md" <<EOF
# rsmbd vs Samba, $(date -u '+%Y-%m-%d %H:%M UTC')

Command: \`bash bench/run.sh${ARGS_TEXT:+ $ARGS_TEXT}\` ($RUNS run(s), $(((SECONDS - START) / 60)) min $(((SECONDS - START) % 60)) s in all).
Machine: nproc = $(nproc), CPU $CPU, $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 2^20 }' /proc/meminfo),
kernel $(uname -r), load average $LOAD_BEFORE before the runs and $(cut -d' ' -f1-3 /proc/loadavg) after.
Data on $FS_NOTE.
rsmbd: \`$RSMBD_BIN\` (built from $REV), RSMBD_LOG=${RSMBD_LOG:-warn}. Samba: $("$SMBD" --version), log level 0.
Clients: smbclient and smbtorture $(smbclient --version | sed 's/^Version //'), Python smbprotocol $(python3 -c 'import importlib.metadata as m; print(m.version("smbprotocol"))').
Ratio = rsmbd median / Samba median: above 1 is better for rsmbd on "higher" rows, below 1 on "lower" rows.
EOF
python3 "$BENCH/report.py" --raw "$RAW" --header "$OUT.header.md" --md "$OUT.md" --tsv "$OUT.tsv"
rm -f "$OUT.header.md"
cat "$OUT.md"
if [ "$(grep -c '^==' "$LOG")" -gt 0 ]; then say "some measurements failed: see $LOG"; fi
say "results: $OUT.md, $OUT.tsv, $OUT-raw.tsv, $OUT.log"
