"""Talking to Label Studio: credentials, the SDK client, bounded retries, clear errors.

Credentials come from (first found): the ``QUOTES_STUDIO_TOKEN`` environment variable,
``quotes.toml`` ``[studio] token``, or the 0600 token file that ``quotes studio start``
wrote under ``workspace/studio/``. They are never printed, logged or written elsewhere.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

TOKEN_ENV = "QUOTES_STUDIO_TOKEN"
URL_ENV = "QUOTES_STUDIO_URL"
TOKEN_HINT = (
    "Use a valid API token: for the server `quotes studio start` runs, the token file it wrote "
    "(`quotes studio status` shows where); for another server, open Label Studio > Account & Settings "
    "and copy either a Personal Access Token (a JWT refresh token; the SDK exchanges it for access tokens) "
    "or a legacy token (needs 'legacy tokens' enabled in Organization > API Tokens Settings), then set "
    f"{TOKEN_ENV} or [studio] token in quotes.toml."
)


class StudioError(RuntimeError):
    """A Label Studio problem with a hint saying what to do next (shown without traceback)."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  hint: {self.hint}" if self.hint else base


def studio_dir(workspace: Any) -> Path:
    """``workspace/studio``: the local server's data, pid, log, token and password files."""
    d = workspace.local() / "studio"
    d.mkdir(parents=True, exist_ok=True)
    return d


def state_dir(workspace: Any) -> Path:
    """``workspace/state/studio``: push map and pull marks."""
    d = workspace.local() / "state" / "studio"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` via a temp file + fsync + rename (crash-safe)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=1, sort_keys=True).encode())


def read_json(path: Path, default: Any = None) -> Any:
    return json.loads(path.read_text()) if path.exists() else default


def local_server(workspace: Any) -> dict[str, Any]:
    """What the last ``quotes studio start`` recorded ({} if none)."""
    return read_json(workspace.local() / "studio" / "server.json", {}) or {}


def resolve_url(workspace: Any, cfg: dict[str, Any], url: str | None = None) -> str:
    url = url or os.environ.get(URL_ENV) or (cfg.get("studio") or {}).get("url") or local_server(workspace).get("url")
    if not url:
        raise StudioError("no Label Studio server to talk to",
                          "run `quotes studio start`, or pass --url / set [studio] url in quotes.toml")
    return url.rstrip("/")


def resolve_token(workspace: Any, cfg: dict[str, Any]) -> str:
    token = os.environ.get(TOKEN_ENV) or (cfg.get("studio") or {}).get("token")
    if not token:
        file = local_server(workspace).get("token_file")
        if file and Path(file).exists():
            token = Path(file).read_text().strip()
    if not token:
        raise StudioError("no Label Studio API token found", TOKEN_HINT)
    return token


@dataclass
class Studio:
    """An SDK client plus the retry policy; ``call`` runs one API call with retries."""

    client: Any
    url: str
    retries: int = 4
    backoff: float = 0.5

    def call(self, fn: Callable[..., Any], *args: Any, what: str = "request", **kwargs: Any) -> Any:
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                return fn(*args, **kwargs)
            except ApiError as e:
                code = e.status_code or 0
                if code in (401, 403):
                    raise StudioError(f"Label Studio at {self.url} rejected the API token ({code}) during {what}",
                                      TOKEN_HINT) from None
                if code == 404:
                    raise StudioError(f"Label Studio at {self.url}: not found during {what} (404)",
                                      "the project or task was deleted on the server; remove "
                                      "workspace/state/studio/ to start a fresh project, or check --url") from None
                if code < 500 and code != 429:
                    raise StudioError(f"Label Studio refused {what} ({code}): {str(e.body)[:300]}",
                                      "check the labeling config and the data being sent") from None
                last = e
            except (httpx.TransportError, ConnectionError) as e:
                last = e
            if attempt < self.retries:
                time.sleep(min(self.backoff * 2 ** attempt, 8.0))
        raise StudioError(f"Label Studio at {self.url} did not answer {what} after {self.retries + 1} tries: "
                          f"{type(last).__name__}: {str(last)[:200]}",
                          "check that the server runs (`quotes studio status`), the URL, and the network; "
                          "then run the command again: it resumes where it stopped")


def connect(workspace: Any, cfg: dict[str, Any], url: str | None = None, token: str | None = None) -> Studio:
    """A ``Studio`` for the configured server; checks the token with one request."""
    from label_studio_sdk import LabelStudio

    s = cfg.get("studio") or {}
    base = resolve_url(workspace, cfg, url)
    key = token or resolve_token(workspace, cfg)
    try:
        client = LabelStudio(base_url=base, api_key=key, timeout=float(s.get("timeout", 120)))
    except Exception as e:  # a malformed JWT fails here
        raise StudioError(f"could not use the API token: {type(e).__name__}", TOKEN_HINT) from None
    studio = Studio(client, base, retries=int(s.get("retries", 4)), backoff=float(s.get("backoff", 0.5)))
    studio.call(client.users.whoami, what="token check")
    return studio
