"""File readers: inputs -> raw records (text or HTML, with source and position) or rejects.

The readers are plain generator functions so other stages can reuse them
(``quotes propose FILE...``): ``read_path(path, cfg)`` picks one by extension,
``extract(raw, cfg)`` turns a raw record into a clean ``Extracted`` text or a ``Reject``,
and ``iter_records(paths, cfg)`` does both for every input.
"""
from __future__ import annotations

import glob
import json
import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.schema import Reject
from builder.ingest.text import Undecodable, decode_bytes, doc_id_of, normalize_text, publisher_from_text

FORMATS = {".txt": "txt", ".text": "txt", ".jsonl": "jsonl", ".html": "html", ".htm": "html",
           ".warc": "warc", ".warc.gz": "warc"}

HINTS = {
    "not_found": "check the path or glob: nothing matched it",
    "dangling_link": "the symbolic link points nowhere: fix or remove the link",
    "not_a_file": "only regular files are read (not FIFOs, sockets or devices): copy the data into a file",
    "bad_metadata": "metadata fields (url, title, publisher, date) must be strings: fix the record or the "
                    "[ingest] fields mapping",
    "unsupported_format": "ingest reads .txt, .jsonl, .html/.htm, .warc and .warc.gz: convert the file or leave it out",
    "read_error": "check that the file is readable and not corrupt",
    "extract_error": "the extractor failed on this record (detail has the error): check the input or report it",
    "too_large": "raise [ingest] max_bytes in quotes.toml, or split the input",
    "undecodable": "re-save the file as UTF-8 text",
    "malformed_json": "make each line of the .jsonl one JSON object",
    "missing_text": "give each record a string text field, or set [ingest] text_field in quotes.toml",
    "no_main_text": "the page has no article body to extract: save the article text as .txt instead",
    "malformed_warc": "the WARC is truncated or corrupt: re-fetch or re-pack it",
    "not_html": "only HTML responses of a WARC are ingested; nothing to do",
    "empty": "the text is empty after normalization; nothing to do",
    "too_short": "texts under [ingest] min_chars are dropped: lower min_chars in quotes.toml to keep them",
    "duplicate": "the same text is already ingested (detail names the document); nothing to do",
}


@dataclass(slots=True)
class Input:
    """One input file in a run, numbered in the run's fixed order; ``problem`` when unusable."""

    index: int
    path: str
    problem: str | None = None


@dataclass(slots=True)
class Raw:
    """A record read from an input: article text (``txt``) or a web page (``html``) still to extract."""

    source: str
    source_format: str
    position: int | None
    content: str
    kind: str = "txt"  # txt or html
    meta: dict[str, Any] = field(default_factory=dict)


def rejected(source: str, position: int | None, reason: str, detail: str | None = None) -> Reject:
    """An input or record that is not ingested: a ``Reject`` (schemas/reject.json) with its reason's hint."""
    return Reject(stage="ingest", source=source, position=position, reason=reason, hint=HINTS.get(reason, ""),
                  detail=detail)


@dataclass(slots=True)
class Extracted:
    """A clean document: normalized text, its id and provenance."""

    doc_id: str
    text: str
    source: str
    source_format: str
    position: int | None
    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    date: str | None = None


def format_of(path: str) -> str | None:
    """``txt``, ``jsonl``, ``html`` or ``warc`` from the file name; None if unsupported."""
    name = path.lower()
    for ext in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(ext):
            return FORMATS[ext]
    return None


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an input file (``not_found``, ``dangling_link``, ``not_a_file``),
    decided from its metadata alone: a FIFO or device is never opened."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "dangling_link" if os.path.islink(path) else "not_found"
    except OSError:
        return "not_found"
    return None if stat.S_ISREG(st.st_mode) else "not_a_file"


def _add(seen: dict[str, str | None], path: str | Path) -> None:
    problem = file_problem(path)
    key = str(Path(path).resolve()) if problem is None else str(Path(path).absolute())
    seen.setdefault(key, problem)


def expand_paths(paths: Iterable[str | Path]) -> list[Input]:
    """Files, folders (recursive, hidden entries skipped) and globs -> numbered, deduplicated inputs.

    Anything that is not a regular file (a dangling link, a FIFO, a socket) is an input with a
    ``problem``, reported as a reject; it is never opened.
    """
    seen: dict[str, str | None] = {}
    for arg in paths:
        arg = str(arg)
        p = Path(arg)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not _is_hidden(f, p) and not f.is_dir():
                    _add(seen, f)
        elif p.exists() or p.is_symlink():
            _add(seen, p)
        elif any(c in arg for c in "*?["):
            matches = [m for m in sorted(glob.glob(arg, recursive=True)) if not Path(m).is_dir()]
            if not matches:
                seen.setdefault(arg, "not_found")
            for m in matches:
                _add(seen, m)
        else:
            seen.setdefault(arg, "not_found")
    for path, problem in list(seen.items()):
        if problem is None and format_of(path) is None:
            seen[path] = "unsupported_format"
    return [Input(i, path, problem) for i, (path, problem) in enumerate(seen.items())]


def _read_small(path: str, cfg: dict[str, Any]) -> bytes | Reject:
    """The bytes of a one-document file, or why not."""
    try:
        size = Path(path).stat().st_size
        if size > cfg["ingest"]["max_bytes"]:
            return rejected(path, None, "too_large", f"{size} bytes > max_bytes {cfg['ingest']['max_bytes']}")
        return Path(path).read_bytes()
    except OSError as e:
        return rejected(path, None, "read_error", str(e))


def _read_document(path: str, cfg: dict[str, Any], kind: str) -> Iterator[Raw | Reject]:
    """A one-document file (``kind`` txt or html) as one raw record, or why not."""
    data = _read_small(path, cfg)
    if isinstance(data, Reject):
        yield data
        return
    try:
        yield Raw(path, kind, None, decode_bytes(data), kind=kind)
    except Undecodable as e:
        yield rejected(path, None, "undecodable", str(e))


def read_txt(path: str, cfg: dict[str, Any]) -> Iterator[Raw | Reject]:
    """A plain-text article: one raw record, its text kept as scraped."""
    return _read_document(path, cfg, "txt")


def read_html(path: str, cfg: dict[str, Any]) -> Iterator[Raw | Reject]:
    """A saved web page: one raw record whose main text is extracted later."""
    return _read_document(path, cfg, "html")


def read_jsonl(path: str, cfg: dict[str, Any]) -> Iterator[Raw | Reject]:
    """One raw record per JSON line (1-based line numbers); field names from ``cfg["ingest"]``."""
    icfg = cfg["ingest"]
    text_field, names = icfg["text_field"], icfg["fields"]
    try:
        fh = open(path, "rb")
    except OSError as e:
        yield rejected(path, None, "read_error", str(e))
        return
    records = 0
    with fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            records += 1
            if len(line) > icfg["max_bytes"]:
                yield rejected(path, number, "too_large", f"{len(line)} bytes > max_bytes {icfg['max_bytes']}")
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                yield rejected(path, number, "malformed_json", str(e))
                continue
            if not isinstance(record, dict):
                yield rejected(path, number, "malformed_json", f"a JSON {type(record).__name__}, not an object")
                continue
            text = record.get(text_field)
            if not isinstance(text, str):
                yield rejected(path, number, "missing_text", f"no string field {text_field!r} "
                                                             f"(fields: {', '.join(sorted(record)) or 'none'})")
                continue
            bad = {name: type(record[name]).__name__ for name in names.values()
                   if not isinstance(record.get(name), (str, int, float, type(None))) or isinstance(record.get(name), bool)}
            if bad:
                yield rejected(path, number, "bad_metadata", "; ".join(
                    f"field {name!r} is a JSON {kind}, not a string" for name, kind in sorted(bad.items())))
                continue
            meta = {key: _str_or_none(record.get(name)) for key, name in names.items()}
            yield Raw(path, "jsonl", number, text, meta=meta)
    if records == 0:
        yield rejected(path, None, "empty", "no JSON lines")


def _str_or_none(value: Any) -> str | None:
    """A metadata value as text: strings as they are, numbers written out (a year, an id)."""
    return None if value is None else str(value)


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def gzip_break(path: str, chunk: int = 1 << 20) -> tuple[int, str] | None:
    """(byte offset, what) where a gzip file stops being whole: a member cut short or corrupt
    data; None when every member is complete. Output is decompressed and dropped, chunk by chunk."""
    offset = 0          # compressed bytes fed so far
    member_start = 0
    d = zlib.decompressobj(31)
    started = False
    with open(path, "rb") as fh:
        while True:
            data = fh.read(chunk)
            if not data:
                break
            while data:
                if not started and not data.strip(b"\0"):
                    offset += len(data)  # padding after the last member
                    break
                started = True
                try:
                    d.decompress(data, 1 << 16)
                    while d.unconsumed_tail:
                        d.decompress(d.unconsumed_tail, 1 << 16)
                except zlib.error as e:
                    return member_start, f"corrupt gzip data in the member starting at byte {member_start}: {e}"
                if d.eof:
                    used = len(data) - len(d.unused_data)
                    rest = d.unused_data
                    offset += used
                    member_start = offset
                    d, started, data = zlib.decompressobj(31), False, rest
                else:
                    offset += len(data)
                    data = b""
    if started:
        return member_start, f"the gzip member starting at byte {member_start} is cut short at byte {offset} (truncated file)"
    return None


def _cut_short(record) -> int:
    """Bytes of ``record`` that its Content-Length promises but the file does not hold (0: whole).
    Reads what is left of the record."""
    stream = record.raw_stream
    while stream.read(1 << 16):
        pass
    return max(int(getattr(stream, "limit", 0) or 0), 0)


def read_warc(path: str, cfg: dict[str, Any]) -> Iterator[Raw | Reject]:
    """HTML responses of a WARC (plain or gzipped); position is the 1-based record number.

    A truncated or corrupt file yields its whole records, then a ``malformed_warc`` reject at
    the first record it could not read whole, naming the byte offset reached.
    """
    from warcio.archiveiterator import ArchiveIterator

    broken = gzip_break(path) if path.lower().endswith(".gz") else None
    number = 0
    try:
        fh = open(path, "rb")
    except OSError as e:
        yield rejected(path, None, "read_error", str(e))
        return
    with fh:
        try:
            it = ArchiveIterator(fh)
            for record in it:
                if broken is not None and it.get_record_offset() >= broken[0]:
                    break  # this record lies in the damaged part: reported below
                number += 1
                if record.format != "warc" or not record.rec_type:
                    yield rejected(path, number, "malformed_warc", "not a WARC record (no WARC-Type header)")
                    return
                content_type = record.http_headers.get_header("Content-Type") if record.http_headers else None
                wanted = record.rec_type == "response" and "html" in (content_type or "").lower()
                payload = record.content_stream().read(cfg["ingest"]["max_bytes"] + 1) if wanted else b""
                missing = _cut_short(record)
                if missing:
                    yield rejected(path, number, "malformed_warc", f"record {number} is cut short: {missing} bytes of "
                                   f"its Content-Length are missing (truncated file); reading stopped after "
                                   f"{number - 1} whole record(s)")
                    return
                if record.rec_type != "response":
                    continue
                if not wanted:
                    yield rejected(path, number, "not_html", f"Content-Type {content_type}")
                    continue
                if len(payload) > cfg["ingest"]["max_bytes"]:
                    yield rejected(path, number, "too_large", f"payload > max_bytes {cfg['ingest']['max_bytes']}")
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                try:
                    html = decode_bytes(payload, _charset(content_type))
                except Undecodable as e:
                    yield rejected(path, number, "undecodable", str(e))
                    continue
                yield Raw(path, "warc", number, html, kind="html", meta={"url": url})
        except Exception as e:  # warcio raises several types on corrupt input
            yield rejected(path, number + 1, "malformed_warc", f"{type(e).__name__}: {e}")
            return
    if broken is not None:
        yield rejected(path, number + 1, "malformed_warc",
                       f"{broken[1]}; reading stopped at record {number + 1} (byte {broken[0]}), "
                       f"after {number} whole record(s)")
        return
    if number == 0:
        yield rejected(path, None, "empty", "no WARC records")


READERS = {"txt": read_txt, "jsonl": read_jsonl, "html": read_html, "warc": read_warc}


def read_path(path: str, cfg: dict[str, Any]) -> Iterator[Raw | Reject]:
    """The raw records of one input file, by its extension."""
    fmt = format_of(path)
    if fmt is None:
        yield rejected(path, None, "unsupported_format")
        return
    yield from READERS[fmt](path, cfg)


def read_input(item: Input, cfg: dict[str, Any]) -> Iterator[Raw | Reject]:
    """The raw records of one numbered input (or the reject saying why it has none)."""
    if item.problem:
        yield rejected(item.path, None, item.problem)
        return
    yield from read_path(item.path, cfg)


def html_main_text(html: str, url: str | None = None, precision: bool = True) -> dict[str, str | None] | None:
    """Main text and metadata of a web page with trafilatura; None when it finds no body.

    ``precision`` (``[ingest] favor_precision``, default on) drops in-article promotions
    ("[Read: ...]", related links) and bylines/dates lines at some risk of dropping real text.
    """
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                      favor_precision=precision)
    if doc is None or not (doc.text or "").strip():
        return None
    return {"text": doc.text, "title": doc.title, "publisher": doc.sitename or doc.hostname,
            "date": doc.date, "url": doc.url or url}


def extract(raw: Raw, cfg: dict[str, Any]) -> Extracted | Reject:
    """A raw record as a clean document (HTML main text, normalized), or why it is not one."""
    meta = dict(raw.meta)
    text = raw.content
    if raw.kind == "html":
        page = html_main_text(raw.content, meta.get("url"), cfg["ingest"].get("favor_precision", True))
        if page is None:
            return rejected(raw.source, raw.position, "no_main_text", "trafilatura found no article body")
        text = page.pop("text")
        meta = {**page, **{k: v for k, v in meta.items() if v}}
    text = normalize_text(text)
    if not text:
        return rejected(raw.source, raw.position, "empty")
    min_chars = cfg["ingest"]["min_chars"]
    if len(text) < min_chars:
        return rejected(raw.source, raw.position, "too_short", f"{len(text)} characters < min_chars {min_chars}")
    return Extracted(doc_id_of(text), text, raw.source, raw.source_format, raw.position,
                     title=meta.get("title"), publisher=meta.get("publisher") or publisher_from_text(text),
                     url=meta.get("url"), date=meta.get("date"))


def iter_records(paths: Iterable[str | Path], cfg: dict[str, Any]) -> Iterator[Extracted | Reject]:
    """Every clean document or reject of ``paths``, in a fixed order (no deduplication)."""
    for item in expand_paths(paths):
        for raw in read_input(item, cfg):
            yield raw if isinstance(raw, Reject) else extract(raw, cfg)
