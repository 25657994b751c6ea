"""Reading gold and predictions into plain records.

Gold comes in two forms:

* Label Studio JSON exports (``../shared/gold/*.json``): a list of tasks with
  ``data.text``, ``data.doc_id``, ``data.publisher`` and ``annotations[0].result``.
* brat standoff folders such as ``../shared/polnear-dev/`` (``text/<stem>.txt`` and
  ``attributions/<stem>_<annotator>.ann``). brat ``T`` lines Source / Cue / Content become
  Speaker / Cue / Quote regions, ``E`` lines become ``said_by`` and ``cue`` relations.
  A discontinuous Content (``start end;start end``) becomes one Quote region per fragment
  (fragments with only whitespace between them, brat's cuts at line breaks, are one),
  as our scheme splits a quote interrupted by its cue. ``Content2`` is a further Quote of
  the same attribution. When several annotators annotated an article, the FIRST
  annotator file in sorted file-name order is the gold (deterministic; the others are
  ignored). brat gold has no quote type, no coreference and no outlet role, so the
  scorer skips type and outlet figures for it (``GoldDoc.has_types`` / ``has_outlets``).

Predictions are Label Studio tasks with ``predictions[0].result`` (``load_predictions``)
or ``Proposal`` records (``predictions_from_proposals``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from builder.records.scheme import SchemeError
from builder.records.studio import regions_from_results
from builder.schema import Region, Relation, from_row


@dataclass
class GoldDoc:
    """One gold-annotated article."""

    doc_id: str
    text: str
    regions: list[Region]
    relations: list[Relation]
    publisher: str | None = None
    source: str = ""  # the file it came from
    annotator: str | None = None
    has_types: bool = True  # gold carries quote_type (Label Studio) or not (brat)
    has_outlets: bool = True  # gold marks Outlet regions / via relations
    has_coref: bool = True  # gold links refers_to (so canonical names are full names)
    scope: str | None = None  # the notion of attribution it follows: None (our scheme) or "broad" (PolNeAR)


@dataclass
class PredDoc:
    """The predicted regions and relations of one document."""

    doc_id: str
    regions: list[Region]
    relations: list[Relation]
    text: str | None = None
    model_version: str | None = None


@dataclass
class Problem:
    """An input the scorer could not use (or used partly), with what to do about it."""

    source: str
    reason: str
    hint: str
    detail: str | None = None


class GoldError(ValueError):
    """Gold or prediction input that cannot be read at all."""


# -- Label Studio JSON ---------------------------------------------------------------

def _read_tasks(path: Path) -> list[dict[str, Any]]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldError(f"{path}: cannot read JSON ({exc}); pass a Label Studio JSON export") from exc
    if isinstance(tasks, dict):  # a single task
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise GoldError(f"{path}: top level is not a list of tasks; pass a Label Studio JSON export")
    return tasks


def _task_results(task: dict[str, Any], key: str) -> list[dict[str, Any]] | None:
    """The result list of the first usable (not cancelled) annotation / prediction."""
    for item in task.get(key) or []:
        if isinstance(item, dict) and not item.get("was_cancelled"):
            return item.get("result") or []
    return None


def gold_from_tasks(tasks: list[dict[str, Any]], source: str, problems: list[Problem]) -> list[GoldDoc]:
    """GoldDocs of Label Studio tasks (``annotations[0].result``); bad tasks go to ``problems``."""
    docs = []
    for i, task in enumerate(tasks):
        where = f"{source}#{i}"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            problems.append(Problem(where, "no_text", "each task needs data.text"))
            continue
        results = _task_results(task, "annotations")
        if results is None:
            problems.append(Problem(where, "no_annotation", "annotate the task or drop it from the gold"))
            continue
        text = data["text"]
        try:
            regions, relations = regions_from_results(results, text)
        except (SchemeError, KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(where, "bad_annotation", "fix it (check with ../shared/gold/validate.py)", str(exc)))
            continue
        ann = (task.get("annotations") or [{}])[0]
        docs.append(GoldDoc(
            doc_id=str(data.get("doc_id") or task.get("id") or where), text=text,
            regions=regions, relations=relations, publisher=data.get("publisher"),
            source=where, annotator=str(ann.get("completed_by")) if ann.get("completed_by") is not None else None,
        ))
    return docs


# -- brat standoff -------------------------------------------------------------------

BRAT_LABELS = {"Source": "Speaker", "Cue": "Cue", "Content": "Quote", "Content2": "Quote"}
_T_LINE = re.compile(r"^(T\d+)\t(\S+) ([\d ;]+)\t(.*)$")


def _fragments(offsets: str) -> list[tuple[int, int]]:
    out = []
    for part in offsets.split(";"):
        start, end = part.split()
        out.append((int(start), int(end)))
    return out


def _joined(frags: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Fragments with only whitespace between them joined into one: brat cuts a span at each
    sentence/line break, which is not a discontinuity (an interrupting cue is)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(frags):
        if out and not text[out[-1][1]:start].strip():
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def parse_brat(ann: str, text: str, doc_id: str = "") -> tuple[list[Region], list[Relation]]:
    """Regions and relations of one brat ``.ann`` file over ``text``.

    Source -> Speaker, Cue -> Cue, Content/Content2 -> Quote (one region per fragment of a
    discontinuous span, fragments separated by whitespace only joined); each ``E`` line gives its quotes ``said_by`` its Source and ``cue``
    its Cue. Other labels (Attribution triggers, Discard, Discuss) are ignored. Raises
    ``GoldError`` when a span lies outside the text.
    """
    spans: dict[str, list[Region]] = {}
    for line in ann.splitlines():
        m = _T_LINE.match(line)
        if not m or m.group(2) not in BRAT_LABELS:
            continue
        tid, label = m.group(1), BRAT_LABELS[m.group(2)]
        frags = []
        pieces = _fragments(m.group(3))
        for start, end in pieces:
            if not 0 <= start < end <= len(text):
                raise GoldError(f"{doc_id}: {tid} offsets {start}:{end} outside the text ({len(text)} chars)")
        for k, (start, end) in enumerate(_joined(pieces, text)):
            start, end = _trim(text, start, end)
            if start == end:
                continue
            rid = tid if k == 0 else f"{tid}.{k}"
            frags.append(Region(id=rid, label=label, start=start, end=end, text=text[start:end]))
        spans[tid] = frags
    relations: list[Relation] = []
    for line in ann.splitlines():
        if not line.startswith("E"):
            continue
        roles: dict[str, list[str]] = {}
        for arg in line.split("\t", 1)[1].split():
            role, _, tid = arg.partition(":")
            roles.setdefault(re.sub(r"\d+$", "", role), []).append(tid)
        source = next((r for t in roles.get("Source", []) for r in spans.get(t, [])), None)
        cue = next((r for t in roles.get("Cue", []) for r in spans.get(t, [])), None)
        for tid in roles.get("Content", []):
            for q in spans.get(tid, []):
                if source:
                    relations.append(Relation(from_id=q.id, to_id=source.id, label="said_by"))
                if cue:
                    relations.append(Relation(from_id=q.id, to_id=cue.id, label="cue"))
    regions = sorted((r for frags in spans.values() for r in frags), key=lambda r: (r.start, r.end, r.id))
    return regions, _unique(relations)


def _unique(relations: list[Relation]) -> list[Relation]:
    seen, out = set(), []
    for r in relations:
        key = (r.from_id, r.to_id, r.label)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def is_brat_folder(path: Path) -> bool:
    return path.is_dir() and (path / "text").is_dir() and (path / "attributions").is_dir()


def _annotator_files(folder: Path) -> dict[str, list[Path]]:
    """stem -> its ``.ann`` files (sorted), from ``attributions/<stem>_<annotator>.ann``."""
    by_stem: dict[str, list[Path]] = {}
    for ann in sorted((folder / "attributions").glob("*.ann")):
        stem = ann.stem.rsplit("_", 1)[0]
        by_stem.setdefault(stem, []).append(ann)
    return by_stem


def _brat_publishers(folder: Path) -> dict[str, str]:
    meta = folder / "metadata.tsv"
    if not meta.is_file():
        return {}
    lines = meta.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t") if lines else []
    if "filename" not in head or "publisher" not in head:
        return {}
    fi, pi = head.index("filename"), head.index("publisher")
    return {cols[fi]: cols[pi] for cols in (ln.split("\t") for ln in lines[1:]) if len(cols) > max(fi, pi)}


def gold_from_brat(folder: Path, problems: list[Problem]) -> list[GoldDoc]:
    """GoldDocs of a brat folder; the first annotator (sorted file names) of each article."""
    anns = _annotator_files(folder)
    publishers = _brat_publishers(folder)
    docs = []
    for txt in sorted((folder / "text").glob("*.txt")):
        stem = txt.stem
        files = anns.get(stem)
        if not files:
            problems.append(Problem(str(txt), "no_annotation", f"add attributions/{stem}_<annotator>.ann"))
            continue
        chosen = files[0]
        text = txt.read_text(encoding="utf-8")
        try:
            regions, relations = parse_brat(chosen.read_text(encoding="utf-8"), text, stem)
        except (GoldError, ValueError) as exc:
            problems.append(Problem(str(chosen), "bad_annotation", "fix the .ann offsets", str(exc)))
            continue
        docs.append(GoldDoc(
            doc_id=stem, text=text, regions=regions, relations=relations,
            publisher=publishers.get(stem), source=str(chosen),
            annotator=chosen.stem.rsplit("_", 1)[1], has_types=False, has_outlets=False, has_coref=False,
            scope="broad",  # PolNeAR also attributes thoughts, beliefs and intentions
        ))
    for stem in sorted(set(anns) - {t.stem for t in (folder / "text").glob("*.txt")}):
        problems.append(Problem(str(anns[stem][0]), "no_text", f"add text/{stem}.txt"))
    return docs


# -- entry points --------------------------------------------------------------------

def _expand(paths: Iterable[str | Path]) -> list[Path]:
    out = []
    for p in map(Path, paths):
        if p.is_dir() and not is_brat_folder(p):
            out += sorted(p.glob("*.json"))
        else:
            out.append(p)
    return out


def load_gold(paths: Iterable[str | Path], problems: list[Problem] | None = None) -> list[GoldDoc]:
    """Gold documents from Label Studio JSON files, folders of ``*.json``, or brat folders.

    Unusable tasks or files are appended to ``problems`` (when given) and skipped; a path
    that does not exist raises ``GoldError``. Duplicate doc_ids keep the first.
    """
    problems = [] if problems is None else problems
    docs: list[GoldDoc] = []
    for path in _expand(paths):
        if not path.exists():
            raise GoldError(f"{path} does not exist; pass Label Studio JSON files or folders, or a brat folder")
        if is_brat_folder(path):
            docs += gold_from_brat(path, problems)
            continue
        try:
            docs += gold_from_tasks(_read_tasks(path), str(path), problems)
        except GoldError as exc:
            problems.append(Problem(str(path), "unreadable", "pass a Label Studio JSON export", str(exc)))
    seen: set[str] = set()
    unique = []
    for d in docs:
        if d.doc_id in seen:
            problems.append(Problem(d.source, "duplicate_doc_id", "keep one gold annotation per document", d.doc_id))
            continue
        seen.add(d.doc_id)
        unique.append(d)
    return unique


def load_predictions(path: str | Path, problems: list[Problem] | None = None) -> dict[str, PredDoc]:
    """doc_id -> PredDoc from Label Studio tasks with ``predictions[0].result``.

    Tasks without predictions predict nothing (empty regions). Raises ``GoldError`` when the
    file cannot be read.
    """
    problems = [] if problems is None else problems
    path = Path(path)
    out: dict[str, PredDoc] = {}
    for i, task in enumerate(_read_tasks(path)):
        where = f"{path}#{i}"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            problems.append(Problem(where, "no_text", "each task needs data.text"))
            continue
        preds = task.get("predictions") or []
        first = preds[0] if preds and isinstance(preds[0], dict) else {}
        doc_id = str(data.get("doc_id") or task.get("id") or where)
        try:
            regions, relations = regions_from_results(first.get("result") or [], data["text"])
        except (SchemeError, KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(where, "bad_prediction", "fix the predicted result list", str(exc)))
            continue
        out[doc_id] = PredDoc(doc_id=doc_id, regions=regions, relations=relations,
                              text=data["text"], model_version=first.get("model_version"))
    return out


def predictions_from_proposals(proposals: Iterable[Any], texts: dict[str, str] | None = None) -> dict[str, PredDoc]:
    """doc_id -> PredDoc from ``Proposal`` records (or Proposal rows as dicts)."""
    out = {}
    for p in proposals:
        get = p.get if isinstance(p, dict) else lambda k, p=p: getattr(p, k)
        doc_id = get("doc_id")
        out[doc_id] = PredDoc(
            doc_id=doc_id,
            regions=[from_row(Region, r) for r in get("regions") or []],
            relations=[from_row(Relation, r) for r in get("relations") or []],
            text=(texts or {}).get(doc_id), model_version=get("model_version"),
        )
    return out
