"""Names match without regard to case, as on Windows (`case sensitive = auto`, the default): smbclient reads,
overwrites, renames and deletes files and directories through names in another case, a name taken in
another case collides instead of making a second file, a rename that only changes case renames; with
`case sensitive = yes` names match exactly."""

import pytest


def ok(res):
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "NT_STATUS_" not in out, out
    return out


def test_any_case_reaches_the_stored_name(server, smbclient, tmp_path):
    (server.share / "Docs").mkdir()
    (server.share / "Docs" / "Report.TXT").write_bytes(b"stored")
    got = tmp_path / "got"
    ok(smbclient(f"get DOCS\\report.txt {got}"))
    assert got.read_bytes() == b"stored"
    new = tmp_path / "new"
    new.write_bytes(b"replaced")
    ok(smbclient(f"put {new} docs\\REPORT.txt"))
    assert sorted(p.name for p in (server.share / "Docs").iterdir()) == ["Report.TXT"]
    assert (server.share / "Docs" / "Report.TXT").read_bytes() == b"replaced"
    # A new file lands in the stored directory, under the name given.
    ok(smbclient(f"put {new} dOcS\\Other.txt"))
    assert (server.share / "Docs" / "Other.txt").read_bytes() == b"replaced"


def test_a_name_taken_in_another_case_collides(server, smbclient):
    (server.share / "Music").mkdir()
    out = smbclient("mkdir MUSIC").stdout
    assert "NT_STATUS_OBJECT_NAME_COLLISION" in out, out
    assert [p.name for p in server.share.iterdir()] == ["Music"]


def test_a_case_only_rename_renames_and_delete_finds_the_file(server, smbclient):
    (server.share / "draft.txt").write_bytes(b"x")
    ok(smbclient("rename draft.txt DRAFT.txt"))
    assert [p.name for p in server.share.iterdir()] == ["DRAFT.txt"]
    ok(smbclient("del Draft.TXT"))
    assert list(server.share.iterdir()) == []


@pytest.mark.rsmbd_conf(extra_share="case sensitive = yes\n")
def test_case_sensitive_shares_match_exactly(server, smbclient, tmp_path):
    (server.share / "Exact.txt").write_bytes(b"e")
    out = smbclient(f"get exact.txt {tmp_path / 'x'}").stdout
    assert "NT_STATUS_OBJECT_NAME_NOT_FOUND" in out, out
    ok(smbclient(f"get Exact.txt {tmp_path / 'y'}"))
