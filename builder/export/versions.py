"""Version names, and publishing a version folder atomically (build beside, rename into place)."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# canonical semver core: no leading zeros ("01.0.0" is not a version), no prefix or suffix
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
BUMPS = ("major", "minor", "patch")
TMP_PREFIX = ".tmp-"


class ExportError(ValueError):
    """An export that cannot go ahead; the message says what to do instead."""


class ExportUsageError(ExportError):
    """A wrong ``--version``, ``--bump`` or ``--exports-dir``, refused before anything is read or written
    (exit 2)."""


def parse_version(version: str) -> tuple[int, int, int]:
    m = SEMVER.match(version or "")
    if not m:
        raise ExportUsageError(f"version {version!r} is not X.Y.Z in canonical form (numbers without leading zeros, "
                          "e.g. 1.0.0)")
    return int(m[1]), int(m[2]), int(m[3])


def existing_versions(root: Path) -> list[str]:
    """Published versions under ``root`` (``exports/<name>``), oldest first."""
    if not root.is_dir():
        return []
    found = [p.name for p in root.iterdir() if p.is_dir() and SEMVER.match(p.name)]
    return sorted(found, key=parse_version)


def bumped(latest: str | None, bump: str) -> str:
    """The version after ``latest`` (``0.0.0`` when there is none)."""
    if bump not in BUMPS:
        raise ExportUsageError(f"--bump {bump!r}: choose one of {', '.join(BUMPS)}")
    major, minor, patch = parse_version(latest or "0.0.0")
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


class VersionBehind(ExportUsageError):
    """``--version`` names a version below the latest published one."""


class IdenticalToLatest(ExportError):
    """The build holds the very files of the latest version: nothing is published (not a failure)."""

    def __init__(self, message: str, folder: Path):
        super().__init__(message)
        self.folder = folder   # the latest version, which already holds this data


def check_version_ahead(root: Path, version: str | None) -> None:
    """``VersionBehind`` when ``version`` (a canonical X.Y.Z not yet published under ``root``) is
    below the latest published version: versions only go up. Anything else is left to
    ``target_version`` (not X.Y.Z, or published already: "never overwritten")."""
    if not version or not SEMVER.match(version) or (root / version).exists():
        return
    versions = existing_versions(root)
    if not versions or parse_version(version) > parse_version(versions[-1]):
        return
    latest = versions[-1]
    raise VersionBehind(
        f"version {version} is below {latest}, the latest version of {root}: versions only go up, and nothing "
        f"was written. Pass --version {bumped(latest, 'patch')} (or --bump patch) for a fix, --version "
        f"{bumped(latest, 'minor')} (or --bump minor) for new data")


def target_version(root: Path, version: str | None, bump: str | None) -> str:
    """The version to write: ``version`` as given (above the latest one), or the latest one bumped."""
    if version and bump:
        raise ExportUsageError("pass either --version or --bump, not both")
    if not version and not bump:
        raise ExportUsageError("say which version to write: --version X.Y.Z or --bump patch|minor|major")
    if version:
        parse_version(version)
        check_version_ahead(root, version)
    else:
        versions = existing_versions(root)
        version = bumped(versions[-1] if versions else None, bump)
    if (root / version).exists():
        latest = existing_versions(root)[-1]
        raise ExportUsageError(
            f"{root / version} exists and versions are never overwritten: "
            f"use --bump patch|minor|major (latest is {latest}) or another --version")
    return version


def last_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the latest published version under ``root`` (None when there is none)."""
    versions = existing_versions(root)
    if not versions:
        return None
    try:
        manifest = json.loads((root / versions[-1] / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


CARD = "README.md"   # the dataset card names its version: two versions of the same data differ there only


def check_identical(files: dict[str, dict[str, Any]], last: dict[str, Any] | None, root: Path,
                    card_as: Callable[[str], str]) -> None:
    """``IdenticalToLatest`` when ``files``, a new build's data files (path -> sha256 and bytes, the card
    aside), are exactly those the latest version's manifest lists, and its card would read as the latest
    version's does but for the version (``card_as(latest)``: the new card written for that version): a
    new version would hold the same data under another name. Another set of files (a new format, one
    split more or less), another card (a new license) or a latest version whose files no longer match
    its manifest (``verify_manifest``) is new."""
    if not last or not isinstance(last.get("files"), dict):
        return
    if {name: entry for name, entry in last["files"].items() if name != CARD} != files:
        return
    latest = str(last.get("version"))
    card = root / latest / CARD
    if not card.is_file() or card.read_text("utf-8") != card_as(latest):
        return
    from builder.export.manifest import verify_manifest

    if verify_manifest(root / latest):   # a damaged copy holds nothing: publish the data again
        return
    raise IdenticalToLatest(
        f"nothing was written: this export is identical to {latest} ({root / latest}), the latest version (the "
        "same data files, byte for byte, as its manifest.json lists them, and the same card). Use that version; "
        "for a new one, change the workspace first (pull new annotations, propose again) or the export settings",
        root / latest)


def include_proposed_setting(flag: bool | None, configured: bool, last: dict[str, Any] | None) -> bool:
    """Whether silver rows are exported: ``--include-proposed`` / ``--annotated-only`` when given, else
    ``[export] include_proposed`` when true, else what the latest version did (remembered, so that
    ``--bump`` keeps a dataset's silver rows)."""
    if flag is not None:
        return flag
    if configured:
        return True
    return bool((last or {}).get("include_proposed", False))


def _total(counts: dict[str, dict[str, int]] | None, config: str) -> int:
    return sum(((counts or {}).get(config) or {}).values())


FEWER_QUOTES = 0.5   # a version with at most this share of the last version's attributions is said out loud
SHRINK_CONFIGS = ("documents",)  # documents do not go away; quotes do (annotators delete false ones, proposers change)


def check_shrink(counts: dict[str, dict[str, int]], last: dict[str, Any] | None, version: str,
                 include_proposed: bool, allow_shrink: bool, propose_command: str = "quotes propose") -> None:
    """``ExportError`` when ``version`` would have fewer documents than the latest version, unless
    ``allow_shrink``. Fewer quotes is no error: an annotator deleting a false quote, or a new
    proposer proposing fewer, is what a new version is for (``quotes export diff`` lists them)."""
    if last is None or allow_shrink:
        return
    shrunk = [f"{config}: {_total(counts, config)} rows, {_total(last.get('rows'), config)} in {last.get('version')}"
              for config in SHRINK_CONFIGS if _total(counts, config) < _total(last.get("rows"), config)]
    if not shrunk:
        return
    if last.get("include_proposed") and not include_proposed:
        why = (f"{last.get('version')} was exported with proposed (silver) rows, this one without. Nothing was "
               "published. To keep the silver rows, pass --include-proposed (or set [export] include_proposed = "
               "true in quotes.toml); to drop them, export again with --allow-shrink")
    else:
        kind = "annotated or proposed" if include_proposed else "annotated"
        why = (f"some documents of {last.get('version')} are no longer in the workspace or no longer {kind} "
               f"(removed annotations, or a proposing run that did not finish: run `{propose_command}` again). Nothing "
               "was published. If that is what you want, export again with --allow-shrink")
    raise ExportError(f"version {version} would have fewer documents than {last.get('version')} "
                      f"({'; '.join(shrunk)}): {why}")


def version_notes(folder: Path) -> list[str]:
    """What to know of the version at ``folder`` beside the version before it: its rows beside that
    version's (``Rows: attributions 86 (87 in 0.1.0), documents 12 (12 in 0.1.0)``), and whether
    that one came from another workspace or from the very same inputs. Empty for a first version."""
    versions = existing_versions(folder.parent)
    older = [v for v in versions if parse_version(v) < parse_version(folder.name)]
    if not older:
        return []
    try:
        now = json.loads((folder / "manifest.json").read_text("utf-8"))
        before = json.loads((folder.parent / older[-1] / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return []
    rows = ", ".join(f"{config} {_total(now.get('rows'), config)} ({_total(before.get('rows'), config)} in "
                     f"{older[-1]})" for config in ("attributions", "documents"))
    notes = [f"Rows: {rows}; `quotes export diff {older[-1]} {folder.name}` lists the quotes added, removed and "
             "changed"]
    quotes_now, quotes_before = _total(now.get("rows"), "attributions"), _total(before.get("rows"), "attributions")
    if quotes_before and quotes_now <= quotes_before * FEWER_QUOTES:
        notes.append(f"Warning: {folder.name} has {quotes_now} attributions, at most {FEWER_QUOTES:.0%} of "
                     f"{older[-1]}'s {quotes_before}: published all the same (annotators delete false quotes, "
                     "proposers change), but if that is not what happened, check which proposer made the silver "
                     f"rows (`quotes export diff {older[-1]} {folder.name}`) and export again")
    ws_now, ws_before = now.get("workspace") or {}, before.get("workspace") or {}
    if ws_before.get("path") and not same_workspace(ws_now, ws_before):
        notes.append(f"Note: {older[-1]} was exported from workspace {ws_before['path']}, this one from "
                     f"{ws_now.get('path')}: both are versions of one dataset ({folder.parent.name})")
    elif ws_before.get("fingerprint") == ws_now.get("fingerprint") and now.get("rows") == before.get("rows"):
        notes.append(f"Note: the workspace has not changed since {older[-1]}: the two versions hold the same rows")
    return notes


def same_workspace(now: dict[str, Any], before: dict[str, Any]) -> bool:
    """Whether two manifests' ``workspace`` entries name one workspace: by their ``location_key``s;
    a version exported before them recorded only the path as given (``workspace``, ``../p/workspace``),
    read from the current folder (``workspace_location``)."""
    from builder.export.manifest import location_key

    keys = [w.get("location") or (location_key(w["path"]) if w.get("path") else None) for w in (now, before)]
    return keys[0] is not None and keys[0] == keys[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_builds(root: Path) -> list[Path]:
    """Remove build folders left by exports that died (their process is gone)."""
    removed = []
    if not root.is_dir():
        return removed
    for p in root.iterdir():
        if not p.name.startswith(TMP_PREFIX):
            continue
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another export is building right now
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


@contextlib.contextmanager
def removed_unless_published(root: Path) -> Iterator[Path]:
    """``root`` (``exports/<name>``) made with its missing parents; an export that fails removes again
    those of them it made and that are still empty, so a failed first export leaves no folder behind."""
    made = [p for p in (root, *root.parents) if not p.exists()]   # deepest first
    root.mkdir(parents=True, exist_ok=True)
    try:
        yield root
    except BaseException:
        for folder in made:
            try:
                folder.rmdir()   # only an empty one: another export's build or version stays
            except OSError:
                break
        raise


def build_folder(root: Path, version: str) -> Path:
    """A fresh private build folder beside the target (ignored by ``existing_versions``)."""
    tmp = root / f"{TMP_PREFIX}{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def publish(built: Path, final: Path) -> Path:
    """Move a complete build into place with one ``os.rename``; never replaces a version; then make
    it read-only."""
    from builder.workspace.atomic import publish_folder
    from builder.workspace.faults import fault

    fault("export:before-publish")
    try:
        publish_folder(built, final)
    except FileExistsError:
        raise ExportError(f"{final} appeared while building (another export?): versions are never "
                          "overwritten; export again with --bump") from None
    except OSError as exc:  # e.g. a concurrent export won the race
        raise ExportError(f"could not publish {final}: {exc}; export again with --bump") from exc
    fault("export:after-publish")
    make_read_only(final)
    return final


def make_read_only(folder: Path) -> None:
    """Files r--r--r--, folders r-xr-xr-x: a published version is not edited by mistake (deepest first)."""
    for dirpath, _dirs, files in os.walk(folder, topdown=False):
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o444)
        os.chmod(dirpath, 0o555)


def make_writable(folder: Path) -> None:
    """Undo ``make_read_only`` (to delete a version on purpose, e.g. in tests and benches)."""
    for dirpath, _dirs, files in os.walk(folder):
        os.chmod(dirpath, 0o755)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)
