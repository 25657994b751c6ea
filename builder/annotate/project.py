"""The Label Studio project of a workspace (labeling config + guidelines), shared by ``quotes push``
and ``quotes pull``: found, created, or updated when the config or guidelines changed."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from builder.annotate.client import Studio, is_local_url, local_urls, read_json, state_dir, write_json
from builder.workspace.atomic import fsync_path

ANNOTATION_DIR = Path(__file__).resolve().parents[2] / "annotation"


def labeling_config() -> str:
    return (ANNOTATION_DIR / "config.xml").read_text(encoding="utf-8")


def guidelines_html() -> str:
    """``annotation/guidelines.md`` rendered as HTML (CommonMark and tables, markdown-it-py) for the
    project's instructions."""
    from markdown_it import MarkdownIt

    md = (ANNOTATION_DIR / "guidelines.md").read_text(encoding="utf-8")
    return MarkdownIt("commonmark").enable("table").render(md)


LOCAL = "local"  # the key of the workspace's own server, whatever its port


def _url_key(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()[:8]


def server_key(url: str, workspace: Any = None) -> str:
    """A short stable key of a server, for state file names: ``local`` for the workspace's own server
    (its push map and pull mark survive a change of port), else a digest of the URL."""
    if workspace is not None and is_local_url(workspace, url):
        return LOCAL
    return _url_key(url)


def same_project_server(workspace: Any, a: str | None, b: str | None) -> bool:
    """Whether URLs ``a`` and ``b`` reach the same server's projects (the local server under any port)."""
    return bool(a and b) and server_key(a, workspace) == server_key(b, workspace)


def state_file(workspace: Any, kind: str, url: str, project_id: int) -> Path:
    """``state/studio/<kind>-<server key>-<project>.json``; the local server's file of an older
    workspace, named after the URL it had then, is renamed to the ``local`` key first."""
    folder = state_dir(workspace)
    key = server_key(url, workspace)
    path = folder / f"{kind}-{key}-{project_id}.json"
    if key == LOCAL and not path.exists():
        for old_url in local_urls(workspace):
            old = folder / f"{kind}-{_url_key(old_url)}-{project_id}.json"
            try:
                os.replace(old, path)
            except FileNotFoundError:
                continue
            fsync_path(folder)
            break
    return path


def ensure_project(studio: Studio, workspace: Any, cfg: dict[str, Any]) -> tuple[int, bool]:
    """The project id (created, or updated when the config or guidelines changed)."""
    c = studio.client
    title = (cfg.get("studio") or {}).get("project_title") or "Quote attribution"
    config, guide = labeling_config(), guidelines_html()
    digest = hashlib.sha1((config + guide + title).encode()).hexdigest()
    file = state_dir(workspace) / "project.json"
    state = read_json(file, {}) or {}
    if same_project_server(workspace, state.get("url"), studio.url) and state.get("project_id"):
        pid = state["project_id"]
        studio.call(c.projects.get, pid, what=f"project {pid} lookup")
        if state.get("digest") != digest:
            studio.call(c.projects.update, pid, title=title, label_config=config, expert_instruction=guide,
                        show_instruction=True, what="project update")
        if state.get("digest") != digest or state.get("url") != studio.url:
            write_json(file, {**state, "digest": digest, "url": studio.url})
        return pid, False
    found = [p for p in studio.call(lambda: list(c.projects.list(title=title)), what="project list")
             if p.title == title]
    if found:
        pid = found[0].id
        studio.call(c.projects.update, pid, label_config=config, expert_instruction=guide,
                    show_instruction=True, what="project update")
        created = False
    else:
        p = studio.call(c.projects.create, title=title, label_config=config, expert_instruction=guide,
                        show_instruction=True, what="project creation")
        pid, created = p.id, True
    write_json(file, {"url": studio.url, "project_id": pid, "title": title, "digest": digest})
    return pid, created
