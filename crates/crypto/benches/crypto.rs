//! Throughput benchmark for rsmbd-crypto (issue 3, item 7): SMB3 message encryption (seal and
//! open, MS-SMB2 3.1.4.3) for each cipher and SMB2 signing (MS-SMB2 3.1.4.1) for each algorithm,
//! at 64 KiB and 1 MiB messages, single-threaded, reported in GiB/s (2^30 bytes per second).
//!
//! Run with `cargo bench -p rsmbd-crypto --bench crypto` (release profile), or with
//! `bash bench/crypto.sh` for the full report beside `openssl speed`. See bench/README.md.
//!
//! The harness is a few lines over `std::time::Instant` instead of criterion: criterion's
//! dependency tree and statistics are too heavy to build and run on the 2-core machine this project
//! is developed on. Each row: a warm-up that also calibrates how many operations fill one round,
//! then [`ROUNDS`] timed rounds; the median, min and max round are reported.
//!
//! Options: `--tsv FILE` also writes the rows as TSV; `--round-ms N` sets the round length
//! (default 100); `--filter TEXT` keeps only rows whose operation or algorithm contains TEXT;
//! `--iters N` runs exactly N operations per row in one round without warm-up (for callgrind and
//! `perf stat`). `cargo bench` passes `--bench`; without it (under `cargo test --all-targets`, or
//! when the binary is run by hand) each row runs once as a smoke test unless `--iters` says
//! otherwise, so pass `--bench` to time a hand-run binary.
//!
//! Seal uses a fresh counter nonce per message, as the server does. Open works in place with no
//! copy per message: both modes XOR the data with a keystream fixed by the nonce, so sealing a
//! buffer twice under one nonce brings it back, and the two tags of those seals let open toggle the
//! buffer between its two states for ever (each open still checks its tag).

// Benchmark code, not server code: the workspace's no-panic lints guard untrusted input, and a
// benchmark that cannot set itself up should simply stop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::exit;
use std::time::{Duration, Instant};

use rsmbd_crypto::{Cipher, CipherKey, SigningAlgorithm, SigningKey};

/// Message sizes measured: a typical READ/WRITE chunk and a large-MTU one.
const SIZES: [usize; 2] = [64 * 1024, 1024 * 1024];
const ROUNDS: usize = 5;
const WARM_UP: Duration = Duration::from_millis(100);
const GIB: f64 = (1u64 << 30) as f64;
/// Bytes of TRANSFORM_HEADER covered as AAD (Nonce through SessionId, MS-SMB2 2.2.41).
const AAD_LEN: usize = 32;

const CIPHERS: [(Cipher, &str); 4] = [
    (Cipher::Aes128Ccm, "AES-128-CCM"),
    (Cipher::Aes128Gcm, "AES-128-GCM"),
    (Cipher::Aes256Ccm, "AES-256-CCM"),
    (Cipher::Aes256Gcm, "AES-256-GCM"),
];
const SIGNERS: [(SigningAlgorithm, &str); 3] = [
    (SigningAlgorithm::HmacSha256, "HMAC-SHA256"),
    (SigningAlgorithm::AesCmac, "AES-128-CMAC"),
    (SigningAlgorithm::AesGmac, "AES-128-GMAC"),
];

struct Options {
    timed: bool,
    tsv: Option<PathBuf>,
    round: Duration,
    filter: Option<String>,
    iters: Option<u64>,
}

/// What one row measures: an operation of one algorithm on messages of `bytes` bytes.
#[derive(Clone, Copy)]
struct Case {
    op: &'static str,
    alg: &'static str,
    bytes: usize,
}

impl Case {
    fn new(op: &'static str, alg: &'static str, bytes: usize) -> Self {
        Case { op, alg, bytes }
    }
}

/// One table row: its case, the operations per round and each round's throughput in GiB/s.
struct Row {
    case: Case,
    ops_per_round: u64,
    gib_s: Vec<f64>,
}

fn main() {
    let opts = parse_args();
    println!("{}", header(&opts));
    println!("| Operation | Algorithm | Size | Median GiB/s | Min GiB/s | Max GiB/s |");
    println!("|---|---|---|---:|---:|---:|");
    let mut rows = Vec::new();
    for bytes in SIZES {
        for (cipher, alg) in CIPHERS {
            bench(&opts, &mut rows, Case::new("seal", alg, bytes), || {
                seal_op(cipher, bytes)
            });
            bench(&opts, &mut rows, Case::new("open", alg, bytes), || {
                open_op(cipher, bytes)
            });
        }
        for (signer, alg) in SIGNERS {
            bench(&opts, &mut rows, Case::new("sign", alg, bytes), || {
                sign_op(signer, bytes)
            });
        }
    }
    if let Some(path) = &opts.tsv {
        std::fs::write(path, tsv(&rows)).expect("write TSV file");
    }
}

fn parse_args() -> Options {
    let mut opts = Options {
        timed: false,
        tsv: None,
        round: Duration::from_millis(100),
        filter: None,
        iters: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage(&arg));
        match arg.as_str() {
            "--bench" => opts.timed = true,
            "--tsv" => opts.tsv = Some(PathBuf::from(value())),
            "--round-ms" => opts.round = Duration::from_millis(number(&value())),
            "--filter" => opts.filter = Some(value()),
            "--iters" => opts.iters = Some(number(&value()).max(1)),
            _ => usage(&arg),
        }
    }
    if !opts.timed && opts.iters.is_none() {
        opts.iters = Some(1);
    }
    opts
}

fn number(text: &str) -> u64 {
    text.parse().unwrap_or_else(|_| usage(text))
}

fn usage(bad: &str) -> ! {
    eprintln!("bad argument {bad:?}");
    eprintln!("usage: crypto [--bench] [--tsv FILE] [--round-ms N] [--filter TEXT] [--iters N]");
    exit(2)
}

fn header(opts: &Options) -> String {
    match opts.iters {
        Some(n) => format!("{n} operation(s) per row, one round, no warm-up.\n"),
        None => format!(
            "Single thread; per row {} ms warm-up, then {ROUNDS} rounds of ~{} ms; \
             GiB/s = 2^30 B/s.\n",
            WARM_UP.as_millis(),
            opts.round.as_millis()
        ),
    }
}

/// Sets up and measures one case unless the filter drops it, prints its row and keeps it.
fn bench<R: FnMut()>(opts: &Options, rows: &mut Vec<Row>, case: Case, setup: impl FnOnce() -> R) {
    let wanted = match &opts.filter {
        None => true,
        Some(f) => case.op.contains(f.as_str()) || case.alg.contains(f.as_str()),
    };
    if !wanted {
        return;
    }
    let row = measure(opts, case, setup());
    println!("{}", markdown_row(&row));
    rows.push(row);
}

fn measure(opts: &Options, case: Case, mut run: impl FnMut()) -> Row {
    let (ops_per_round, rounds) = match opts.iters {
        Some(n) => (n, 1),
        None => (calibrate(&mut run, opts.round), ROUNDS),
    };
    let gib_s = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..ops_per_round {
                run();
            }
            let secs = start.elapsed().as_secs_f64();
            (case.bytes as f64 * ops_per_round as f64) / secs / GIB
        })
        .collect();
    Row {
        case,
        ops_per_round,
        gib_s,
    }
}

/// Runs the operation for [`WARM_UP`] and returns how many operations fill one round.
fn calibrate(run: &mut impl FnMut(), round: Duration) -> u64 {
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < WARM_UP {
        run();
        count += 1;
    }
    let per_op = start.elapsed().as_secs_f64() / count as f64;
    ((round.as_secs_f64() / per_op).round() as u64).max(1)
}

/// A nonce of `len` bytes whose first eight bytes count up, one value per message.
struct NonceCounter {
    buf: [u8; 12],
    len: usize,
    next: u64,
}

impl NonceCounter {
    fn new(cipher: Cipher) -> Self {
        NonceCounter {
            buf: [0; 12],
            len: cipher.nonce_len(),
            next: 1,
        }
    }

    fn advance(&mut self) -> &[u8] {
        self.buf[..8].copy_from_slice(&self.next.to_le_bytes());
        self.next += 1;
        &self.buf[..self.len]
    }
}

fn cipher_key(cipher: Cipher) -> CipherKey {
    CipherKey::new(cipher, &vec![0x42; cipher.key_len()]).expect("cipher key")
}

fn seal_op(cipher: Cipher, bytes: usize) -> impl FnMut() {
    let key = cipher_key(cipher);
    let mut nonce = NonceCounter::new(cipher);
    let aad = [0x5a; AAD_LEN];
    let mut data = vec![0xa5; bytes];
    move || {
        let tag = key
            .seal(nonce.advance(), &aad, black_box(&mut data))
            .unwrap();
        black_box(tag);
    }
}

fn open_op(cipher: Cipher, bytes: usize) -> impl FnMut() {
    let key = cipher_key(cipher);
    let nonce = NonceCounter::new(cipher).advance().to_vec();
    let aad = [0x5a; AAD_LEN];
    let mut data = vec![0xa5; bytes];
    // data holds A; seal turns it into B and returns B's tag, a second seal turns it back into A.
    let tag_b = key.seal(&nonce, &aad, &mut data).unwrap();
    let tag_a = key.seal(&nonce, &aad, &mut data).unwrap();
    let tags = [tag_a, tag_b];
    let mut state = 0;
    move || {
        key.open(&nonce, &aad, black_box(&mut data), &tags[state])
            .unwrap();
        state ^= 1;
    }
}

/// Signs a PDU whose 64-byte SMB2 header (MS-SMB2 2.2.1.2) is a signed READ response; the
/// MessageId counts up so every AES-GMAC nonce is fresh.
fn sign_op(alg: SigningAlgorithm, bytes: usize) -> impl FnMut() {
    let key = SigningKey::new(alg, [0x42; 16]);
    let mut pdu = vec![0xa5; bytes];
    pdu[..64].fill(0);
    pdu[..4].copy_from_slice(b"\xfeSMB");
    pdu[4..6].copy_from_slice(&64u16.to_le_bytes());
    pdu[12..14].copy_from_slice(&0x0008u16.to_le_bytes()); // READ
    pdu[16..20].copy_from_slice(&0x0000_0009u32.to_le_bytes()); // SERVER_TO_REDIR | SIGNED
    let mut message_id = 0u64;
    move || {
        message_id += 1;
        pdu[24..32].copy_from_slice(&message_id.to_le_bytes());
        key.sign(black_box(&mut pdu));
        black_box(&pdu[48..64]);
    }
}

/// Median, min and max of the rounds.
fn stats(row: &Row) -> (f64, f64, f64) {
    let mut sorted = row.gib_s.clone();
    sorted.sort_by(f64::total_cmp);
    (
        sorted[sorted.len() / 2],
        sorted[0],
        sorted[sorted.len() - 1],
    )
}

fn size_label(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

fn markdown_row(row: &Row) -> String {
    let (median, min, max) = stats(row);
    format!(
        "| {} | {} | {} | {median:.2} | {min:.2} | {max:.2} |",
        row.case.op,
        row.case.alg,
        size_label(row.case.bytes)
    )
}

fn tsv(rows: &[Row]) -> String {
    let mut out = String::from(
        "operation\talgorithm\tbytes\tmedian_gib_s\tmin_gib_s\tmax_gib_s\tops_per_round\n",
    );
    for row in rows {
        let (median, min, max) = stats(row);
        writeln!(
            out,
            "{}\t{}\t{}\t{median:.4}\t{min:.4}\t{max:.4}\t{}",
            row.case.op, row.case.alg, row.case.bytes, row.ops_per_round
        )
        .unwrap();
    }
    out
}
