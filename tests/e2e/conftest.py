"""Fixtures for the end-to-end tests: a running rsmbd on a free 127.0.0.1 port, and an smbclient runner.

The server log stays in the server's temporary directory; when a test fails its tail is attached to the test's
report. On teardown the server must still be running (a crash is a failure), must not have logged a panic, and must
exit with status 0 after SIGTERM.
"""

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rsmbd_server import RsmbdServer  # noqa: E402

LOG_TAIL_LINES = 300


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "rsmbd_server", None)
    if server is not None and report.failed:
        tail = "\n".join(server.log().splitlines()[-LOG_TAIL_LINES:])
        report.sections.append((f"rsmbd server log ({server.log_path}, last {LOG_TAIL_LINES} lines)", tail))


def pytest_configure(config):
    config.addinivalue_line("markers", "rsmbd_conf(extra_global=..., extra_share=...): smb.conf additions for `server`")


@pytest.fixture
def server(request, tmp_path_factory):
    """A started RsmbdServer; attributes: host, port, user, password, share (Path), unc, tmp, log().

    A test marked `@pytest.mark.rsmbd_conf(extra_global=..., extra_share=...)` gets those smb.conf lines."""
    marker = request.node.get_closest_marker("rsmbd_conf")
    srv = RsmbdServer(tmp_root=tmp_path_factory.getbasetemp(), **(marker.kwargs if marker else {}))
    request.node.rsmbd_server = srv
    srv.start()
    yield srv
    crashed = not srv.alive()
    code = srv.stop()
    assert not crashed, f"rsmbd died during the test (exit code {code})"
    assert code is not None, "rsmbd did not exit after SIGTERM/SIGKILL"
    assert code == 0, f"rsmbd exited with {code} after SIGTERM"
    assert "panicked at" not in srv.log(), "rsmbd logged a panic"
    shutil.rmtree(srv.share, ignore_errors=True)


@pytest.fixture
def smbclient(server):
    """run(commands, *extra_args, user=..., password=..., protocol=..., share=...) -> CompletedProcess."""

    def run(commands=None, *extra, user=None, password=None, protocol="SMB3_11", share=None, timeout=300):
        cred = f"{user or server.user}%{server.password if password is None else password}"
        args = ["smbclient", f"//{server.host}/{share or server.share_name}", "-p", str(server.port), "-U", cred]
        if protocol:
            args += ["-m", protocol]
        args += list(extra)
        if commands is not None:
            args += ["-c", commands]
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, errors="replace")

    return run


@pytest.fixture
def smb(server):
    """(connection, unc root, kwargs) for Python smbprotocol's smbclient calls on a signed connection pinned
    to dialect 3.1.1."""
    import smbclient
    from smbprotocol.connection import Connection, Dialects

    conn = Connection(uuid.uuid4(), server.host, server.port, require_signing=True)
    conn.connect(dialect=Dialects.SMB_3_1_1, timeout=20)
    cache = {f"{server.host}:{server.port}": conn}
    kwargs = {"port": server.port, "connection_cache": cache}
    smbclient.register_session(server.host, username=server.user, password=server.password, encrypt=False,
                               **kwargs)
    yield conn, f"\\\\{server.host}\\{server.share_name}", kwargs
    smbclient.reset_connection_cache(connection_cache=cache)
