#!/usr/bin/env python3
"""Run Samba's smbtorture against rsmbd and compare the results with knownfail.txt.

Each line of tests.txt names a suite or a single test (`smb2.rename`, `smb2.create.blob`), optionally followed by
extra smbtorture arguments. Every line gets its own freshly started rsmbd with an empty share (see
tests/e2e/rsmbd_server.py) and its own time limit; a test that has not reported a result when the time limit hits,
or when smbtorture exits early, counts as a failure, as does the server dying.

knownfail.txt holds one full test name per line (`#` starts a comment; a line `re:<regex>` matches names by
regular expression; `flaky:<name>` marks a test that may pass or fail). Exit status is non-zero when a test
fails that is not listed (a regression) or when a listed test passes (newly passing: remove it from the list).
`--update-knownfail` rewrites the list from this run.
"""

import argparse
import dataclasses
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))

from rsmbd_server import RsmbdServer  # noqa: E402

TESTS_FILE = HERE / "tests.txt"
KNOWNFAIL_FILE = HERE / "knownfail.txt"
DEFAULT_TIMEOUT = 120
# Options that make smbtorture behave against a server that is not Samba.
TORTURE_OPTIONS = [
    "--option=torture:sharedelay=100000",
    "--option=torture:writetimeupdatedelay=500000",
]
RESULT = re.compile(r"^(success|successful|failure|fail|error|skip|xfail|uxsuccess): (.+?)(?: \[(.*))?$")
PASS, FAIL, SKIP = "pass", "fail", "skip"
OUTCOME = {
    "success": PASS,
    "successful": PASS,
    "uxsuccess": PASS,
    "failure": FAIL,
    "fail": FAIL,
    "error": FAIL,
    "xfail": FAIL,
    "skip": SKIP,
}
SERVER_DIED = "server-died"
TIMED_OUT = "timed-out"
SERVER_PANICKED = "server-panicked"
PANIC = "panicked at"


def read_lines(path):
    """Non-empty lines of a file with `#` comments removed."""
    if not path.exists():
        return []
    out = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def parse_output(text):
    """{test name: (outcome, first detail line)} from smbtorture's subunit-style output.

    A result line may open a `[` detail block that runs to a line holding only `]`; lines inside are details.
    """
    results = {}
    in_detail = None
    for line in text.splitlines():
        if in_detail is not None:
            if line.strip() == "]":
                in_detail = None
            elif not results[in_detail][1] and line.strip():
                results[in_detail] = (results[in_detail][0], line.strip())
            continue
        m = RESULT.match(line)
        if not m:
            continue
        name, outcome, rest = m.group(2), OUTCOME[m.group(1)], m.group(3)
        detail = ""
        if rest is not None:
            detail = rest.rstrip("]").strip()
            if not rest.rstrip().endswith("]"):
                in_detail = name
        results[name] = (outcome, detail)
    return results


def list_tests(suite):
    """Test names smbtorture would run for a suite (its `--list` output, in `--fullname` spelling)."""
    try:
        res = subprocess.run(["smbtorture", "--list", suite], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    names = []
    for line in res.stdout.splitlines():
        parts = line.strip().split(".")
        if len(parts) > 1 and parts[-1] == parts[-2]:  # `--list` repeats a test case's name as its only step
            parts = parts[:-1]
        name = ".".join(parts)
        if name == suite or name.startswith(suite + "."):
            names.append(name)
    return names


@dataclasses.dataclass
class ServerSetup:
    """What a tests.txt line asks of its server: smb.conf lines for [global] and the test share, further shares
    (name to lines) and files to put in the share first (name to size in bytes)."""
    global_lines: str = ""
    share_lines: str = ""
    shares: dict = dataclasses.field(default_factory=dict)
    files: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def parse(cls, extra):
        """The setup arguments of a line (`"global=PARAM = VALUE"` adds to [global], `"share=PARAM = VALUE"` to the
        test share, `"othershare=NAME:PARAM = VALUE"` makes a further share NAME with its own empty directory,
        `file=NAME:SIZE` puts a file of SIZE bytes in the share); returns it and the other arguments."""
        setup = cls()
        rest = []
        for arg in extra:
            key, _, value = arg.partition("=")
            if key == "global":
                setup.global_lines += value + "\n"
            elif key == "share":
                setup.share_lines += value + "\n"
            elif key == "othershare":
                share, param = value.split(":", 1)
                setup.shares[share] = setup.shares.get(share, "") + param + "\n"
            elif key == "file":
                fname, size = value.split(":", 1)
                setup.files[fname] = int(size)
            else:
                rest.append(arg)
        return setup, rest


def run_torture(name, extra, timeout, log, setup):
    """Run smbtorture for one name against a fresh server; returns (results, timed out, server died, seconds)."""
    with RsmbdServer(extra_global=setup.global_lines, extra_share=setup.share_lines,
                     extra_shares=setup.shares) as srv:
        for fname, size in setup.files.items():
            (srv.share / fname).write_bytes(bytes(i % 251 for i in range(size)))
        # Line-buffered, so the results printed before a time-out are not lost when smbtorture is killed.
        # It runs in the log directory because it leaves empty smbtortureXXXXXX directories in its cwd.
        # RPC suites take a DCE/RPC binding (named pipes over SMB) instead of a share.
        if name.startswith("rpc."):
            target = [f"ncacn_np:{srv.host}", f"--option=smb ports={srv.port}"]
        else:
            target = [srv.unc, "-p", str(srv.port)]
        args = ["stdbuf", "-oL", "smbtorture", *target, "-U", f"{srv.user}%{srv.password}"]
        args += ["--fullname", *TORTURE_OPTIONS, *extra, name]
        started = time.monotonic()
        timed_out = False
        try:
            res = subprocess.run(args, capture_output=True, timeout=timeout, cwd=log.parent)
            stdout, stderr = res.stdout, res.stderr
        except subprocess.TimeoutExpired as e:
            timed_out = True
            stdout, stderr = e.stdout or b"", e.stderr or b""
        elapsed = time.monotonic() - started
        died = not srv.alive()
        server_log = srv.log()
    stdout, stderr = stdout.decode(errors="replace"), stderr.decode(errors="replace")
    with open(log, "a") as f:
        f.write(f"$ {shlex.join(args)}\n# {elapsed:.1f}s\n{stdout}\n--- stderr ---\n{stderr}\n")
        f.write(f"--- rsmbd log ---\n{server_log}\n")
    return parse_output(stdout), timed_out, died, elapsed


def run_line(line, timeout, outdir):
    """Run one tests.txt line. Returns ({test name: (outcome, detail)}, seconds).

    When smbtorture stops early (it crashes on some unexpected replies) the tests it did not reach are run one
    by one; after a time-out they count as failed.
    """
    suite, *extra = shlex.split(line)
    # `timeout=N` on a line gives that line N seconds instead of --timeout (suites that wait for
    # break timeouts run longer than most).
    for arg in [a for a in extra if a.startswith("timeout=")]:
        extra.remove(arg)
        timeout = max(timeout, int(arg.split("=", 1)[1]))
    setup, extra = ServerSetup.parse(extra)
    expected = list_tests(suite)
    log = outdir / f"{suite}.log"
    log.unlink(missing_ok=True)
    results, timed_out, died, elapsed = run_torture(suite, extra, timeout, log, setup)
    missing = [n for n in expected if n not in results]
    if missing and not timed_out and len(expected) > 1:
        for name in missing:
            res, sub_timed_out, sub_died, sub_elapsed = run_torture(name, extra, timeout, log, setup)
            results.update(res)
            elapsed += sub_elapsed
            died = died or sub_died
            if sub_timed_out:
                results.setdefault(name, (FAIL, TIMED_OUT))
    reason = TIMED_OUT if timed_out else "no result (smbtorture stopped early)"
    for name in expected:
        results.setdefault(name, (FAIL, reason))
    if not results:
        results[suite] = (FAIL, reason)
    if died:
        results[f"{suite}.{SERVER_DIED}"] = (FAIL, f"rsmbd exited during the run; see {log}")
    if PANIC in log.read_text(errors="replace"):
        results[f"{suite}.{SERVER_PANICKED}"] = (FAIL, f"rsmbd logged a panic; see {log}")
    return results, elapsed


class KnownFail:
    """knownfail.txt: exact names, `re:<regex>` patterns, and `flaky:<name>` tests allowed to pass or fail."""

    def __init__(self, lines, reasons=None):
        self.reasons = reasons or {}
        self.names = {l for l in lines if not l.startswith(("re:", "flaky:"))}
        self.kept_lines = [l for l in lines if l.startswith(("re:", "flaky:"))]
        self.patterns = [re.compile(l[3:].strip()) for l in lines if l.startswith("re:")]
        self.flaky = {l[6:].strip() for l in lines if l.startswith("flaky:")}

    def matches(self, name):
        return name in self.names or name in self.flaky or self.matches_pattern(name)

    def matches_pattern(self, name):
        return any(p.fullmatch(name) for p in self.patterns)

    def expects_failure(self, name):
        """Listed, and a pass would be news (flaky tests are not)."""
        return self.matches(name) and name not in self.flaky


def read_reasons(path):
    """{entry: reason} from the `name  # reason` lines of knownfail.txt."""
    if not path.exists():
        return {}
    pairs = (raw.split("#", 1) for raw in path.read_text().splitlines() if "#" in raw)
    return {name.strip(): reason.strip() for name, reason in pairs if name.strip()}


def failure_reason(detail):
    """A knownfail reason from smbtorture's first detail line, without the source path prefix."""
    return re.sub(r"^(\.\./)+source4/torture/", "", detail or "failed")[:160]


def write_knownfail(failed, reasons):
    header = [
        "# smbtorture tests that fail against rsmbd today, one full test name per line, each with its reason",
        "# (kept when edited by hand; otherwise smbtorture's first failure line).",
        "# Generated by `tests/torture/run.py --update-knownfail`; `re:<regex>` lines match by pattern,",
        "# `flaky:<name>` lines mark tests that may pass or fail (both kinds are kept on update).",
        "# A listed test that starts passing fails the run until it is removed from this list.",
    ]
    body = [f"{n}  # {reasons[n]}" if reasons.get(n) else n for n in sorted(failed)]
    KNOWNFAIL_FILE.write_text("\n".join(header + body) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update-knownfail", action="store_true", help="rewrite knownfail.txt from this run")
    ap.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per tests.txt line")
    ap.add_argument("--keep", metavar="DIR", help="write smbtorture and server logs here (default: a temp dir)")
    ap.add_argument("only", nargs="*", help="run only these tests.txt lines (default: all)")
    args = ap.parse_args()

    lines = read_lines(TESTS_FILE)
    if args.only:
        lines = [l for l in lines if shlex.split(l)[0] in args.only] or args.only
    outdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rsmbd-torture-"))
    outdir.mkdir(parents=True, exist_ok=True)
    known = KnownFail(read_lines(KNOWNFAIL_FILE), read_reasons(KNOWNFAIL_FILE))
    suites = [shlex.split(l)[0] for l in lines]

    results = {}
    for line, suite in zip(lines, suites):
        res, elapsed = run_line(line, args.timeout, outdir)
        results.update(res)
        n_pass = sum(1 for o, _ in res.values() if o == PASS)
        n_fail = sum(1 for o, _ in res.values() if o == FAIL)
        n_known = sum(1 for n, (o, _) in res.items() if o == FAIL and known.matches(n))
        n_skip = sum(1 for o, _ in res.values() if o == SKIP)
        print(
            f"{suite:28s} {n_pass:4d} pass {n_fail:4d} fail ({n_known} known) {n_skip:3d} skip  {elapsed:6.1f}s",
            flush=True,
        )

    regressions = sorted(n for n, (o, _) in results.items() if o == FAIL and not known.matches(n))
    newly_passing = sorted(n for n, (o, _) in results.items() if o == PASS and known.expects_failure(n))
    expected_fail = sorted(n for n, (o, _) in results.items() if o == FAIL and known.matches(n))
    passed = sorted(n for n, (o, _) in results.items() if o == PASS)
    skipped = sorted(n for n, (o, _) in results.items() if o == SKIP)

    print()
    for regression in regressions:
        print(f"REGRESSION: {regression}: {results[regression][1]}")
    for name in newly_passing:
        verb = "dropped from knownfail" if args.update_knownfail else "remove from knownfail"
        print(f"NEWLY PASSING, {verb}: {name}")

    if args.update_knownfail:
        keep = {n for n in known.names if n not in results}  # entries for tests not run this time
        failed = {n for n, (o, _) in results.items() if o == FAIL}
        failed = {n for n in failed if not known.matches_pattern(n) and n not in known.flaky}
        entries = keep | failed | set(known.kept_lines)
        reasons = {n: failure_reason(results[n][1]) for n in failed} | known.reasons
        write_knownfail(entries, reasons)
        print(f"rewrote {KNOWNFAIL_FILE}: {len(entries)} entries")
        expected_fail = sorted(n for n, (o, _) in results.items() if o == FAIL)
        regressions, newly_passing = [], []

    print(f"logs: {outdir}")
    print(
        f"torture: {len(passed)} passed, {len(expected_fail)} known failures, {len(skipped)} skipped, "
        f"{len(regressions)} regressions, {len(newly_passing)} newly passing"
    )
    # Counted for the overall summary: unexpected outcomes fail; passes and known failures do not.
    print(f"TORTURE-SUMMARY passed={len(passed) - len(newly_passing)} failed={len(regressions) + len(newly_passing)}")
    return 1 if regressions or newly_passing else 0


if __name__ == "__main__":
    sys.exit(main())
