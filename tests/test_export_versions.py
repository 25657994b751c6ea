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
from builder.export.versions import IdenticalToLatest, existing_versions, parse_version

QUOTES = str(Path(sys.executable).with_name("quotes"))


def rows(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())["rows"]


def test_bump_after_include_proposed_keeps_silver_rows_and_shrinking_needs_allow_shrink(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 12, quotes=3)
    exports = tmp_path / "exports"
    v1 = export_dataset(ws, load_config(), version="1.0.0", include_proposed=True, exports_dir=exports,
                        progress=False)
    with pytest.raises(IdenticalToLatest) as same:   # silver rows remembered, not silently dropped: the same data
        export_dataset(ws, load_config(), bump="minor", exports_dir=exports, progress=False)
    assert same.value.folder == v1 and "identical to 1.0.0" in str(same.value)
    with pytest.raises(ExportError) as e:
        export_dataset(ws, load_config(), bump="minor", include_proposed=False, exports_dir=exports, progress=False)
    assert "fewer documents" in str(e.value) and "--allow-shrink" in str(e.value)
    assert existing_versions(exports / "quotes") == ["1.0.0"]  # nothing published
    assert not [p for p in (exports / "quotes").iterdir() if p.name.startswith(".tmp-")]
    v2 = export_dataset(ws, load_config(), bump="minor", include_proposed=False, exports_dir=exports,
                        progress=False, allow_shrink=True)
    assert v2.name == "1.1.0" and json.loads((v2 / "manifest.json").read_text())["include_proposed"] is False
    assert sum(rows(v2)["attributions"].values()) < sum(rows(v1)["attributions"].values())


def test_cli_remembers_include_proposed_and_refuses_shrinking(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 12, quotes=3)
    (tmp_path / "quotes.toml").write_text(f'[workspace]\npath = "{ws.path}"\n[export]\ninclude_proposed = true\n')

    def export(*args):
        return subprocess.run([QUOTES, "export", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    first = export("--version", "1.0.0")
    assert first.returncode == 0, first.stderr
    assert json.loads((tmp_path / "exports/quotes/1.0.0/manifest.json").read_text())["include_proposed"] is True
    (tmp_path / "quotes.toml").write_text(f'[workspace]\npath = "{ws.path}"\n')
    remembered = export("--bump", "minor")   # silver rows remembered from 1.0.0: the same data, not published
    assert remembered.returncode == 0 and "identical to 1.0.0" in remembered.stdout, remembered.stdout
    shrink = export("--bump", "minor", "--annotated-only")
    assert shrink.returncode == 1 and "--allow-shrink" in shrink.stderr and "Traceback" not in shrink.stderr
    assert export("--bump", "minor", "--annotated-only", "--allow-shrink").returncode == 0
    assert sorted(p.name for p in (tmp_path / "exports/quotes").iterdir()) == ["1.0.0", "1.1.0"]
    bad = export("--version", "01.0.0")
    assert bad.returncode == 2 and "canonical" in bad.stderr


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
    same = export(two, "--bump", "minor")   # the same rows again: not published
    assert same.returncode == 0 and "identical to 1.1.0" in same.stdout
    assert "Warning" not in fewer.stdout   # a third fewer: the Rows line says it
    one = write_synthetic_workspace(tmp_path / "ws1", 12, quotes=1)
    collapsed = export(one, "--bump", "minor")   # half of 1.1.0's or fewer: said out loud, published all the same
    assert collapsed.returncode == 0 and "Warning: 1.2.0 has" in " ".join(collapsed.stdout.split())


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


def _listing(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*"))


def test_cli_refuses_a_version_below_the_latest_before_writing_anything(tmp_path):
    """`--version 0.0.1` after 0.1.1 was published silently (not even the Rows line): now exit 2,
    naming the latest version and the next ones to pass, with nothing written."""
    ws = write_synthetic_workspace(tmp_path / "ws", 6, quotes=2, annotate_every=2)

    def export(*args):
        return subprocess.run([QUOTES, "export", "-w", ws.path, *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)

    assert export("--version", "0.1.1").returncode == 0
    before = _listing(tmp_path)
    for version in ("0.0.1", "0.1.0"):
        low = export("--version", version, "--include-proposed")   # other rows: refused for its version alone
        said = " ".join(low.stderr.split())
        assert low.returncode == 2 and "Traceback" not in said, said
        assert f"version {version} is below 0.1.1" in said and "nothing was written" in said, said
        assert "--version 0.1.2 (or --bump patch)" in said and "--version 0.2.0 (or --bump minor)" in said, said
        assert _listing(tmp_path) == before   # no version, no build folder, no rejects file
    same = export("--version", "0.1.1", "--include-proposed")   # equal: the "never overwritten" refusal, as before
    assert same.returncode == 2 and "never overwritten" in same.stderr and "latest is 0.1.1" in same.stderr
    assert export("--version", "0.2.0", "--include-proposed").returncode == 0   # above the latest: published
    assert existing_versions(tmp_path / "exports" / "quotes") == ["0.1.1", "0.2.0"]


def test_cli_does_not_publish_an_export_identical_to_the_latest_version(tmp_path):
    """The same rows again made a new version with only a Note: now nothing is written, it says
    which version holds that data already, exit 0; new rows, or the same rows with another card (a
    new license), are published as before."""
    ws = write_synthetic_workspace(tmp_path / "ws", 12, quotes=2)

    def export(*args):
        return subprocess.run([QUOTES, "export", "-w", ws.path, *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)

    assert export("--version", "1.0.0").returncode == 0
    root = tmp_path / "exports" / "quotes"
    before = _listing(root)
    for args in (("--bump", "minor"), ("--version", "2.0.0")):
        same = export(*args)
        said = " ".join(same.stdout.split())
        assert same.returncode == 0, same.stderr
        assert "identical to 1.0.0" in said and "nothing was written" in said and "Exported" not in said, said
        assert "load_dataset('exports/quotes/1.0.0'" in said, said
        assert _listing(root) == before
    (tmp_path / "quotes.toml").write_text('[export]\nlicense = "cc-by-4.0"\n')   # the same rows, another card
    licensed = export("--bump", "patch")
    assert licensed.returncode == 0 and "Exported" in licensed.stdout, licensed.stdout + licensed.stderr
    assert "cc-by-4.0" in (root / "1.0.1" / "README.md").read_text()
    more = export("--bump", "minor", "--include-proposed")   # silver rows: new data, a new version
    assert more.returncode == 0 and "Exported" in more.stdout
    assert existing_versions(root) == ["1.0.0", "1.0.1", "1.1.0"]
    helped = subprocess.run([QUOTES, "export", "--help"], capture_output=True, text=True, env={**os.environ,
                            "COLUMNS": "200"})
    assert "identical to the latest version" in " ".join(helped.stdout.split())


def test_one_workspace_named_two_ways_is_one_workspace(tmp_path):
    """`workspace` from p/ and `../p/workspace` from q/ once read as two workspaces ("Note: 1.0.0 was
    exported from workspace workspace, this one from ../p/workspace"); the manifest records the
    path as given and a hash of the absolute folder, whatever folder the command ran from, and no
    folder name of the machine (a published dataset would carry it)."""
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
    recorded = [json.loads((project / "exports/quotes" / v / "manifest.json").read_text())["workspace"]
                for v in ("1.0.0", "1.1.0")]
    assert [w["path"] for w in recorded] == ["workspace", "workspace"]   # its name; the folders above are the machine's
    assert recorded[0]["location"] == recorded[1]["location"]
    absolute = export(elsewhere, "-w", str(project / "workspace"), "--exports-dir", "../p/exports", "--bump", "minor",
                      "--annotated-only", "--allow-shrink")
    assert absolute.returncode == 0 and "exported from workspace" not in absolute.stdout, absolute.stdout
    for v in ("1.0.0", "1.1.0", "1.2.0"):
        assert str(tmp_path) not in (project / "exports/quotes" / v / "manifest.json").read_text()
    other = write_synthetic_workspace(tmp_path / "other", 12, quotes=3)   # another workspace is still said
    moved = export(project, "-w", other.path, "--bump", "minor", "--include-proposed")
    assert moved.returncode == 0 and "1.2.0 was exported from workspace" in moved.stdout, moved.stdout


def test_older_manifests_relative_workspace_paths_are_read_from_the_current_folder(tmp_path, monkeypatch):
    from builder.export.versions import same_workspace

    (tmp_path / "p" / "workspace").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "p")

    def same(a, b):
        return same_workspace({"path": a} if a else {}, {"path": b} if b else {})

    assert same("workspace", str(tmp_path / "p" / "workspace"))
    assert same("./workspace/", "../p/workspace")
    assert not same("workspace", "../workspace") and not same(None, "workspace")
    assert same("s3://bucket/ws", "s3://bucket/ws") and not same("s3://bucket/ws", "ws")
    assert same_workspace({"path": "a", "location": "k1"}, {"path": "b", "location": "k1"})   # by the key
    assert not same_workspace({"path": "a", "location": "k1"}, {"path": "a", "location": "k2"})


def test_two_exports_at_once_publish_new_data_once_and_versions_only_go_up(tmp_path):
    """`--version 2.0.0` and `--bump patch` started together once both published the same rows (2.0.0,
    then 1.0.1 after it): each read the latest version before the other published. One export of a
    workspace runs at a time now (the workspace's export lock), the second sees the first's version."""
    ws = write_synthetic_workspace(tmp_path / "ws", 12, quotes=2)
    base = [QUOTES, "export", "-w", ws.path]
    assert subprocess.run([*base, "--version", "1.0.0"], cwd=tmp_path, capture_output=True, timeout=300).returncode == 0
    runs = [subprocess.Popen([*base, *args, "--include-proposed"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for args in (("--version", "2.0.0"), ("--bump", "patch"))]
    said = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], said
    assert len(existing_versions(tmp_path / "exports" / "quotes")) == 2, said   # 1.0.0 and one new version
    assert sum("identical to" in out for out, _err in said) == 1, said
