"""Export settings are remembered; a smaller version needs --allow-shrink; versions are canonical semver."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder.config import load_config
from builder.export import ExportError, export_dataset
from builder.export.synthetic import write_synthetic_workspace
from builder.export.versions import existing_versions, parse_version

QUOTES = str(Path(sys.executable).with_name("quotes"))


def rows(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())["rows"]


def test_bump_after_include_proposed_keeps_silver_rows_and_shrinking_needs_allow_shrink(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 12, quotes=3)
    exports = tmp_path / "exports"
    v1 = export_dataset(ws, load_config(), version="1.0.0", include_proposed=True, exports_dir=exports,
                        progress=False)
    v2 = export_dataset(ws, load_config(), bump="minor", exports_dir=exports, progress=False)
    assert v2.name == "1.1.0" and rows(v2) == rows(v1)  # silver rows remembered, not silently dropped
    assert json.loads((v2 / "manifest.json").read_text())["include_proposed"] is True
    with pytest.raises(ExportError) as e:
        export_dataset(ws, load_config(), bump="minor", include_proposed=False, exports_dir=exports, progress=False)
    assert "fewer documents" in str(e.value) and "--allow-shrink" in str(e.value)
    assert existing_versions(exports / "quotes") == ["1.0.0", "1.1.0"]  # nothing published
    assert not [p for p in (exports / "quotes").iterdir() if p.name.startswith(".tmp-")]
    v3 = export_dataset(ws, load_config(), bump="minor", include_proposed=False, exports_dir=exports,
                        progress=False, allow_shrink=True)
    assert sum(rows(v3)["attributions"].values()) < sum(rows(v2)["attributions"].values())


def test_cli_remembers_include_proposed_and_refuses_shrinking(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 12, quotes=3)
    (tmp_path / "quotes.toml").write_text(f'[workspace]\npath = "{ws.path}"\n[export]\ninclude_proposed = true\n')

    def export(*args):
        return subprocess.run([QUOTES, "export", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    first = export("--version", "1.0.0")
    assert first.returncode == 0, first.stderr
    assert json.loads((tmp_path / "exports/quotes/1.0.0/manifest.json").read_text())["include_proposed"] is True
    (tmp_path / "quotes.toml").write_text(f'[workspace]\npath = "{ws.path}"\n')
    assert export("--bump", "minor").returncode == 0  # remembered from 1.0.0
    shrink = export("--bump", "minor", "--annotated-only")
    assert shrink.returncode == 1 and "--allow-shrink" in shrink.stderr and "Traceback" not in shrink.stderr
    assert export("--bump", "minor", "--annotated-only", "--allow-shrink").returncode == 0
    assert sorted(p.name for p in (tmp_path / "exports/quotes").iterdir()) == ["1.0.0", "1.1.0", "1.2.0"]
    bad = export("--version", "01.0.0")
    assert bad.returncode == 1 and "canonical" in bad.stderr


def test_cli_publishes_a_version_with_fewer_quotes_and_says_so(tmp_path):
    """The README loop: annotators delete false quotes, `quotes export --bump minor` publishes
    the smaller version (no --allow-shrink) and prints its rows beside the last version's."""
    three = write_synthetic_workspace(tmp_path / "ws3", 12, quotes=3)
    two = write_synthetic_workspace(tmp_path / "ws2", 12, quotes=2)

    def export(ws, *args):
        (tmp_path / "quotes.toml").write_text(f'[workspace]\npath = "{ws.path}"\n')
        return subprocess.run([QUOTES, "export", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert export(three, "--version", "1.0.0").returncode == 0
    fewer = export(two, "--bump", "minor")
    assert fewer.returncode == 0, fewer.stderr
    before, after = rows(tmp_path / "exports/quotes/1.0.0"), rows(tmp_path / "exports/quotes/1.1.0")
    assert sum(after["attributions"].values()) < sum(before["attributions"].values())
    assert (f"Rows: attributions {sum(after['attributions'].values())} "
            f"({sum(before['attributions'].values())} in 1.0.0)") in fewer.stdout
    assert "1.0.0 was exported from workspace" in fewer.stdout   # another workspace: said, not refused
    same = export(two, "--bump", "minor")
    assert same.returncode == 0 and "has not changed since 1.1.0" in same.stdout
    assert "Warning" not in fewer.stdout   # a third fewer: the Rows line says it
    one = write_synthetic_workspace(tmp_path / "ws1", 12, quotes=1)
    collapsed = export(one, "--bump", "minor")   # half of 1.2.0's or fewer: said out loud, published all the same
    assert collapsed.returncode == 0 and "Warning: 1.3.0 has" in " ".join(collapsed.stdout.split())


@pytest.mark.parametrize("version", ["01.0.0", "1.00.0", "1.0.01", "v1.0.0", "1.0", "1.0.0-rc1", " 1.0.0"])
def test_versions_are_canonical_semver(version):
    with pytest.raises(ExportError):
        parse_version(version)
    assert parse_version("10.0.0") == (10, 0, 0) and parse_version("0.0.0") == (0, 0, 0)


def test_fewer_quotes_is_a_new_version_fewer_documents_needs_allow_shrink():
    """An annotator deleting a false quote (or a new proposer proposing fewer) makes a version with
    fewer quotes: published. Documents that went away are refused, saying where they went."""
    from builder.export.versions import check_shrink

    last = {"version": "0.1.0", "include_proposed": True, "rows": {"attributions": {"train": 9},
                                                                  "documents": {"train": 3}}}
    check_shrink({"attributions": {"train": 8}, "documents": {"train": 3}}, last, "0.2.0", True, False)
    with pytest.raises(ExportError) as e:
        check_shrink({"attributions": {"train": 9}, "documents": {"train": 2}}, last, "0.2.0", True, False)
    said = str(e.value)
    assert "fewer documents" in said and "quotes propose" in said and "--allow-shrink" in said
    assert "--include-proposed" not in said   # they are already included
    with pytest.raises(ExportError) as e:
        check_shrink({"documents": {"train": 2}}, last, "0.2.0", False, False)
    assert "--include-proposed" in str(e.value)


def test_one_workspace_named_two_ways_is_one_workspace(tmp_path):
    """`workspace` from p/ and `../p/workspace` from q/ once read as two workspaces ("Note: 1.0.0 was
    exported from workspace workspace, this one from ../p/workspace"); the manifest records the
    absolute folder, whatever folder the command ran from."""
    project, elsewhere = tmp_path / "p", tmp_path / "q"
    write_synthetic_workspace(project / "workspace", 12, quotes=2)
    elsewhere.mkdir()

    def export(cwd, *args):
        return subprocess.run([QUOTES, "export", *args], cwd=cwd, capture_output=True, text=True, timeout=300)

    assert export(project, "-w", "workspace", "--version", "1.0.0").returncode == 0
    again = export(elsewhere, "-w", "../p/workspace", "--exports-dir", "../p/exports", "--bump", "minor",
                   "--include-proposed")
    assert again.returncode == 0, again.stderr
    assert "Rows:" in again.stdout and "exported from workspace" not in again.stdout, again.stdout
    recorded = {json.loads((project / "exports/quotes" / v / "manifest.json").read_text())["workspace"]["path"]
                for v in ("1.0.0", "1.1.0")}
    assert recorded == {str((project / "workspace").resolve())}
    other = write_synthetic_workspace(tmp_path / "other", 12, quotes=3)   # another workspace is still said
    moved = export(project, "-w", other.path, "--bump", "minor", "--include-proposed")
    assert moved.returncode == 0 and "1.1.0 was exported from workspace" in moved.stdout, moved.stdout


def test_older_manifests_relative_workspace_paths_are_read_from_the_current_folder(tmp_path, monkeypatch):
    from builder.export.versions import same_workspace

    (tmp_path / "p" / "workspace").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "p")
    assert same_workspace("workspace", str(tmp_path / "p" / "workspace"))
    assert same_workspace("./workspace/", "../p/workspace")
    assert not same_workspace("workspace", "../workspace") and not same_workspace(None, "workspace")
    assert same_workspace("s3://bucket/ws", "s3://bucket/ws") and not same_workspace("s3://bucket/ws", "ws")
