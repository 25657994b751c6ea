"""Talking to Label Studio: credentials, the SDK client (its own bounded retries), clear errors.

Credentials come from (first found): the ``QUOTES_STUDIO_TOKEN`` environment variable,
``quotes.toml`` ``[studio] token``, or -- only for the local server's own URL -- the 0600
token file that ``quotes studio start`` wrote under ``workspace/studio/``: a token belongs to
the server it was made for. Tokens are stripped and checked before use, and never printed,
logged or written elsewhere: every error message that could carry one is redacted.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from builder.workspace.atomic import write_atomic
from builder.workspace.folder import quotes_command

TOKEN_ENV = "QUOTES_STUDIO_TOKEN"
URL_ENV = "QUOTES_STUDIO_URL"


def token_hint(workspace: Any = None) -> str:
    """What to do about a token that does not work (the commands it names carry ``workspace``'s -w)."""
    return (f"Use a valid API token: for the server `{quotes_command(workspace, 'studio start')}` runs, the token "
            f"file it wrote (`{quotes_command(workspace, 'studio status')}` shows where); for another server, open Label Studio > "
            "Account & Settings and copy either a Personal Access Token (a JWT refresh token; the SDK exchanges it "
            "for access tokens) or a legacy token (needs 'legacy tokens' enabled in Organization > API Tokens "
            f"Settings), then set {TOKEN_ENV} or [studio] token in quotes.toml.")


class StudioError(RuntimeError):
    """A Label Studio problem with a hint saying what to do next (shown without traceback)."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  hint: {self.hint}" if self.hint else base


def studio_dir(workspace: Any) -> Path:
    """``workspace/studio`` (0700): the local server's data, pid, log, token and password files."""
    d = workspace.local() / "studio"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    return d


def state_dir(workspace: Any) -> Path:
    """``workspace/state/studio``: push map and pull marks."""
    d = workspace.local() / "state" / "studio"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=1, sort_keys=True).encode())


def read_json(path: Path, default: Any = None) -> Any:
    return json.loads(path.read_text()) if path.exists() else default


def local_server(workspace: Any) -> dict[str, Any]:
    """What the last ``quotes studio start`` recorded ({} if none)."""
    return read_json(workspace.local() / "studio" / "server.json", {}) or {}


def local_urls(workspace: Any) -> list[str]:
    """Every URL the workspace's own server has had (its port may change when the old one is taken)."""
    local = local_server(workspace)
    return [u for u in [local.get("url"), *(local.get("urls") or [])] if u]


def is_local_url(workspace: Any, url: str | None) -> bool:
    """Whether ``url`` is (or was) the workspace's own server: its database, projects and tasks."""
    return any(same_server(url, u) for u in local_urls(workspace))


def resolve_url(workspace: Any, cfg: dict[str, Any], url: str | None = None) -> str:
    url = url or os.environ.get(URL_ENV) or (cfg.get("studio") or {}).get("url") or local_server(workspace).get("url")
    if not url:
        raise StudioError("no Label Studio server to talk to",
                          f"run `{quotes_command(workspace, 'studio start')}`, or pass --url / set [studio] url "
                          "in quotes.toml")
    return url.rstrip("/")


_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no blanks: what an HTTP header can carry
REDACTED = "<token>"


def clean_token(raw: Any, origin: str, workspace: Any = None) -> str:
    """``raw`` stripped of surrounding blanks; a clear error (without the token) when it cannot be one."""
    if not isinstance(raw, str):
        raise StudioError(f"the API token from {origin} is not a string", token_hint(workspace))
    token = raw.strip()
    if not token:
        raise StudioError(f"the API token from {origin} is empty", token_hint(workspace))
    if not _TOKEN_CHARS.fullmatch(token):
        raise StudioError(f"the API token from {origin} contains blanks or characters a token cannot have "
                          "(a stray quote, line break or paste error?)", token_hint(workspace))
    return token


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret (and its stripped form) replaced by ``<token>``."""
    for secret in secrets:
        for form in {secret, (secret or "").strip()}:
            if form and len(form) >= 4:
                text = text.replace(form, REDACTED)
    return text


def same_server(a: str | None, b: str | None) -> bool:
    """Whether two base URLs name the same server (scheme, host, port; a trailing slash ignored)."""
    from urllib.parse import urlsplit

    if not a or not b:
        return False
    pa, pb = urlsplit(a.rstrip("/")), urlsplit(b.rstrip("/"))

    def where(p):
        port = p.port or {"http": 80, "https": 443}.get(p.scheme)
        host = "127.0.0.1" if p.hostname in ("localhost", "127.0.0.1", "::1") else p.hostname
        return p.scheme, host, port, p.path.rstrip("/")

    return where(pa) == where(pb)


def resolve_token(workspace: Any, cfg: dict[str, Any], url: str | None = None) -> str:
    """The API token for ``url``: ``QUOTES_STUDIO_TOKEN``, ``[studio] token``, else the local server's
    token file -- only when ``url`` is the local server's URL (``url`` None: the local server)."""
    if os.environ.get(TOKEN_ENV) is not None and os.environ[TOKEN_ENV] != "":
        return clean_token(os.environ[TOKEN_ENV], f"the {TOKEN_ENV} environment variable", workspace)
    configured = (cfg.get("studio") or {}).get("token")
    if configured is not None:
        return clean_token(configured, "[studio] token in quotes.toml", workspace)
    local = local_server(workspace)
    if url is not None and not same_server(url, local.get("url")):
        raise StudioError(
            f"no API token for {url}: the local server's token is only ever sent to the local server "
            f"({local.get('url') or 'none started in this workspace'})",
            f"create a token in that Label Studio (Account & Settings > Personal Access Token), then "
            f"`export {TOKEN_ENV}=<the token>` (or set [studio] token in quotes.toml) and run the command again")
    file = local.get("token_file")
    if file and Path(file).exists():
        return clean_token(Path(file).read_text(), f"the local server's token file {file}", workspace)
    if file:
        raise StudioError(f"the local Label Studio server's API token file {file} is missing",
                          f"run `{quotes_command(workspace, 'studio start')}`: it sets the token up again "
                          "(annotations are kept)")
    raise StudioError("no Label Studio API token found", token_hint(workspace))


@dataclass
class Studio:
    """An SDK client and what turns its failures into ``StudioError``s with a hint.

    The client retries by itself (label-studio-sdk's ``max_retries``, set from ``[studio]
    retries``): refused connections, dropped ones and 408/409/429/5xx answers, with exponential
    backoff and jitter; ``[studio] timeout`` bounds each request. ``call`` adds no retries."""

    client: Any
    url: str
    secret: str | None = field(default=None, repr=False)  # redacted from every error message
    workspace: Any = None  # the commands its hints name carry this workspace's -w (quotes_command)

    def call(self, fn: Callable[..., Any], *args: Any, what: str = "request", **kwargs: Any) -> Any:
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            return fn(*args, **kwargs)
        except ApiError as e:
            code = e.status_code or 0
            if code in (401, 403):
                raise StudioError(f"Label Studio at {self.url} rejected the API token ({code}) during {what}",
                                  token_hint(self.workspace)) from None
            if code == 404:
                raise StudioError(f"Label Studio at {self.url}: not found during {what} (404)",
                                  "the project or task was deleted on the server; remove "
                                  f"{self._state_folder()} to start a fresh project, or check --url") from None
            if code < 500 and code not in (408, 429):
                raise StudioError(f"Label Studio refused {what} ({code}): {self._safe(e.body)[:300]}",
                                  "check the labeling config and the data being sent") from None
            failure = f"{code}: {self._safe(e.body)[:200]}"
        except httpx.LocalProtocolError as e:  # e.g. an illegal header value: retrying cannot help
            raise StudioError(f"could not send {what} to {self.url}: {self._safe(e)[:200]}",
                              token_hint(self.workspace)) from None
        except (httpx.TransportError, ConnectionError) as e:
            failure = f"{type(e).__name__}: {self._safe(e)[:200]}"
        raise StudioError(f"Label Studio at {self.url} did not answer {what} ({failure})",
                          f"check that the server runs (`{quotes_command(self.workspace, 'studio status')}`), the URL, and the "
                          "network; "
                          "then run the command again: it resumes where it stopped")

    def _safe(self, value: Any) -> str:
        return redact(str(value), self.secret)

    def _state_folder(self) -> str:
        return self.workspace.sub("state", "studio") + "/" if self.workspace is not None else "workspace/state/studio/"


def not_studio_hint(workspace: Any) -> str:
    return ("check --url / QUOTES_STUDIO_URL / [studio] url: it must be the base URL of a Label Studio server "
            f"(e.g. http://127.0.0.1:8080), or run `{quotes_command(workspace, 'studio start')}` for a local one")


def pid_alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs (a zombie child of ours counts as dead, and is reaped)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def health(url: str, timeout: float = 3.0) -> bool:
    """Whether the server at ``url`` answers Label Studio's ``/health`` (no token needed)."""
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=timeout, follow_redirects=True).status_code == 200
    except (httpx.HTTPError, httpx.InvalidURL, ValueError):
        return False


def local_is_down(workspace: Any, url: str) -> None:
    """A clear error when ``url`` is the workspace's own server and it is not running (nothing answers)."""
    local = local_server(workspace)
    if same_server(url, local.get("url")) and not pid_alive(local.get("pid")) and not health(url):
        raise StudioError(f"the workspace's local Label Studio server is not running (nothing answers at {url})",
                          f"run `{quotes_command(workspace, 'studio start')}`, then the command again")


def connect(workspace: Any, cfg: dict[str, Any], url: str | None = None, token: str | None = None) -> Studio:
    """A ``Studio`` for the configured server; checks the token, and that it is Label Studio, with one request."""
    from label_studio_sdk import LabelStudio

    s = cfg.get("studio") or {}
    base = resolve_url(workspace, cfg, url)
    local_is_down(workspace, base)
    key = clean_token(token, "the caller", workspace) if token is not None else resolve_token(workspace, cfg, base)
    try:
        client = LabelStudio(base_url=base, api_key=key, timeout=float(s.get("timeout", 120)),
                             max_retries=int(s.get("retries", 4)))
    except Exception as e:  # a malformed or expired JWT fails here
        raise StudioError(f"could not use the API token: {type(e).__name__}", token_hint(workspace)) from None
    studio = Studio(client, base, secret=key, workspace=workspace)
    try:
        me = studio.call(client.users.whoami, what="token check")
    except StudioError as e:
        if "(404)" in str(e) or "refused token check" in str(e):
            raise StudioError(f"{base} answered, but not as Label Studio does (no /api/current-user/whoami)",
                              not_studio_hint(workspace)) from None
        raise
    except Exception as e:  # noqa: BLE001 - an answer the SDK cannot parse: not Label Studio
        raise StudioError(f"{base} answered, but not as Label Studio does ({type(e).__name__})",
                          not_studio_hint(workspace)) from None
    if not isinstance(getattr(me, "id", None), int):
        raise StudioError(f"{base} answered, but not as Label Studio does (no user in /api/current-user/whoami)",
                          not_studio_hint(workspace))
    return studio
