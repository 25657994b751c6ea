"""The Label Studio project of a workspace (labeling config + guidelines), shared by ``quotes push``
and ``quotes pull``: found, created, or updated when the config or guidelines changed."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from builder.annotate.client import Studio, read_json, state_dir, write_json

ANNOTATION_DIR = Path(__file__).resolve().parents[2] / "annotation"


def labeling_config() -> str:
    return (ANNOTATION_DIR / "config.xml").read_text(encoding="utf-8")


def guidelines_html() -> str:
    """``annotation/guidelines.md`` rendered as HTML (CommonMark and tables, markdown-it-py) for the
    project's instructions."""
    from markdown_it import MarkdownIt

    md = (ANNOTATION_DIR / "guidelines.md").read_text(encoding="utf-8")
    return MarkdownIt("commonmark").enable("table").render(md)


def server_key(url: str) -> str:
    """A short stable key of a server URL, for state file names."""
    return hashlib.sha1(url.encode()).hexdigest()[:8]


def ensure_project(studio: Studio, workspace: Any, cfg: dict[str, Any]) -> tuple[int, bool]:
    """The project id (created, or updated when the config or guidelines changed)."""
    c = studio.client
    title = (cfg.get("studio") or {}).get("project_title") or "Quote attribution"
    config, guide = labeling_config(), guidelines_html()
    digest = hashlib.sha1((config + guide + title).encode()).hexdigest()
    file = state_dir(workspace) / "project.json"
    state = read_json(file, {}) or {}
    if state.get("url") == studio.url and state.get("project_id"):
        pid = state["project_id"]
        studio.call(c.projects.get, pid, what=f"project {pid} lookup")
        if state.get("digest") != digest:
            studio.call(c.projects.update, pid, title=title, label_config=config, expert_instruction=guide,
                        show_instruction=True, what="project update")
            write_json(file, {**state, "digest": digest})
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
