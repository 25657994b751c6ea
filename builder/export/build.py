"""``export_dataset``: the workspace -> an immutable, versioned Hugging Face dataset folder."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from builder.config import DEFAULTS, Workspace
from builder.export.card import CardStats, render
from builder.export.docbin import FORMATS, docbins_from_parquet
from builder.export.inputs import AnnotationRow, InputIndex
from builder.export.manifest import code_version, file_entries, last_pull, workspace_state, write_manifest
from builder.export.rows import (EXPORT_VERSION, RowError, Tokenizer, attribution_rows, check_regions,
                                 document_row, source_from_dicts, token_rows)
from builder.export.splits import check_ratios, split_of
from builder.export.versions import (ExportError, ExportUsageError, build_folder, check_identical, check_shrink, clean_stale_builds,
                                     include_proposed_setting, last_manifest, publish, removed_unless_published,
                                     target_version)
from builder.export.writer import CONFIG_RECORDS, SplitWriter, data_file
from builder.records.agreement import annotator_agreement
from builder.records.choice import choose
from builder.schema import Reject, class_names
from builder.store import count_rows, parquet_files, read_rows
from builder.workspace.folder import quotes_command
from builder.workspace.rejects import write_rejects

PAUSE_ENV = "QUOTES_EXPORT_PAUSE_S"  # test hook: sleep this long once the data files are written


def load_command(folder: Path) -> str:
    """A shell line loading ``folder``'s attributions with this Python (the one that has ``datasets``:
    ``.venv/bin/python`` after ``make demo``, not whatever ``python`` is on the PATH)."""
    from builder.options import program

    return (f"{shlex.quote(program('python'))} -c \"import datasets; "
            f"print(datasets.load_dataset('{folder}', 'attributions'))\"")


def export_dataset(workspace: Workspace | str | Path, cfg: dict[str, Any], version: str | None = None,
                   bump: str | None = None, include_proposed: bool | None = None, name: str | None = None,
                   exports_dir: str | Path | None = None, progress: bool = True,
                   formats: list[str] | None = None, allow_shrink: bool = False) -> Path:
    """Write ``<exports_dir>/<name>/<version>/`` from the workspace and return its path.

    ``version`` ("X.Y.Z") or ``bump`` ("patch", "minor", "major" over the latest version)
    names it; an existing version is never overwritten (``ExportError``). ``formats`` (default
    ``[export] formats``) adds other formats: ``"spacy"`` writes ``spacy/<split>.spacy`` DocBins
    of the ``tokens`` windows. Annotated documents
    are exported; ``include_proposed`` adds the proposals of unannotated ones as silver rows
    (None: ``[export] include_proposed``, else what the latest version did). A version with
    fewer documents than the latest one is refused unless ``allow_shrink``; a ``version`` below the
    latest one is refused (``VersionBehind``); an export whose data files are the latest version's
    is not published (``IdenticalToLatest``, which names that version's folder).
    The folder is built beside the target and renamed into place only when complete.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(str(workspace))
    ecfg = {**DEFAULTS["export"], **(cfg.get("export") or {})}
    formats = list(ecfg["formats"] if formats is None else formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ExportError(f"unknown export format(s) {', '.join(unknown)}: use {', '.join(FORMATS)}")
    ratios = check_ratios(ecfg["ratios"])
    check_exports_dir(exports_dir or ecfg["exports_dir"])
    root = export_root(cfg, name, exports_dir)
    from builder.workspace.lock import workspace_lock

    with workspace_lock(ws, "export"), removed_unless_published(root):   # one export of a workspace at a time
        return _export(ws, root, ecfg, formats, ratios, version, bump, include_proposed, name, progress, allow_shrink)


def export_root(cfg: dict[str, Any], name: str | None = None, exports_dir: str | Path | None = None) -> Path:
    """``<exports_dir>/<name>``, the folder of a dataset's versions: ``--exports-dir`` and ``--name`` when
    given, else ``[export] exports_dir`` and ``name``."""
    ecfg = {**DEFAULTS["export"], **(cfg.get("export") or {})}
    return Path(exports_dir or ecfg["exports_dir"]) / (name or ecfg["name"])


def check_exports_dir(exports_dir: str | Path) -> None:
    """``ExportUsageError`` when ``exports_dir`` is, or is inside, a published export version or a
    pipeline folder (``published_above``): a new version written there would change it."""
    from builder.workspace.atomic import published_above

    inside = published_above(exports_dir)
    if not inside:
        return
    folder, what = inside
    where = "is" if folder == Path(os.path.abspath(exports_dir)) else "is inside"
    if what == "an exported dataset version":   # <exports>/<name>/<version>: its exports folder is two up
        instead = f"the folder that holds its datasets, --exports-dir {_shown(folder.parents[1])}"
    else:
        instead = "a folder outside it, e.g. --exports-dir exports"
    raise ExportUsageError(f"exports folder {exports_dir} {where} {folder}, {what}, which is never changed: a new "
                           f"version must not be written there. Pass {instead} (or set [export] exports_dir)")


def _shown(folder: Path) -> str:
    """``folder`` relative to the current folder when under it, else absolute."""
    here = Path.cwd()
    return str(folder.relative_to(here)) if folder.is_relative_to(here) and folder != here else str(folder)


def _export(ws: Workspace, root: Path, ecfg: dict[str, Any], formats: list[str], ratios: dict[str, float],
            version: str | None, bump: str | None, include_proposed: bool | None, name: str | None, progress: bool,
            allow_shrink: bool) -> Path:
    clean_stale_builds(root)
    version = target_version(root, version, bump)
    last = last_manifest(root)
    include_proposed = include_proposed_setting(include_proposed, bool(ecfg.get("include_proposed")), last)
    if not parquet_files(ws.documents):
        raise ExportError(f"no documents in {ws.documents}: run `{quotes_command(ws, 'ingest PATH...')}` first")
    tmp = build_folder(root, version)
    try:
        dataset = tmp / "dataset"
        dataset.mkdir()
        state, pulled = workspace_state(ws), last_pull(ws)   # what is read below, not what appears meanwhile
        index = InputIndex(tmp / "index.sqlite")
        try:
            stats, rejects = _write_configs(ws, index, dataset, ratios, ecfg, include_proposed, progress)
        finally:
            index.close()
        write_rejects(ws, rejects)
        if not stats.docs_by_origin:
            raise ExportError(f"nothing to export: no document has a live annotation; run `{quotes_command(ws, 'pull')}` "
                              "or pass --include-proposed to export proposals as silver data")
        check_shrink(stats.counts, last, version, include_proposed, allow_shrink, quotes_command(ws, "propose"))
        if "spacy" in formats:
            docbins_from_parquet(dataset, ratios)
        _pause_hook(tmp)
        stats.name, stats.version = name or ecfg["name"], version
        stats.formats, stats.window_tokens = formats, int(ecfg["window_tokens"])
        created = datetime.now(timezone.utc)
        stats.year = created.year
        check_identical(file_entries(dataset), last, root, lambda latest: render(replace(stats, version=latest)))
        (dataset / "README.md").write_text(render(stats), "utf-8")
        write_manifest(dataset, {
            "name": stats.name, "version": version, "export_version": EXPORT_VERSION,
            "created_at": created.isoformat(timespec="seconds"), "formats": ["parquet", *formats],
            "window_tokens": stats.window_tokens,
            "rows": stats.counts, "include_proposed": include_proposed,
            "ratios": stats.ratios, "seed": stats.seed,
            "model_versions": stats.model_versions, "last_annotation_pull": pulled,
            "workspace": state, "code": code_version(), "rejects": stats.rejects,
        })
        return publish(dataset, root / version)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_configs(ws: Workspace, index: InputIndex, dataset: Path, ratios: dict[str, float],
                   ecfg: dict[str, Any], include_proposed: bool, progress: bool) -> tuple[CardStats, list[Any]]:
    index.load_proposals(ws.proposals)
    index.load_annotations(ws.annotations)
    splits = list(ratios)
    writers = {c: SplitWriter(dataset, c, splits) for c in CONFIG_RECORDS}
    stats = CardStats(name="", version="", counts={}, ratios=ratios, seed=ecfg["seed"],
                      include_proposed=include_proposed, model_versions=index.model_versions(),
                      license=ecfg.get("license") or "other")
    tally = _Tally()
    rejects: list[Any] = []
    tokenize = Tokenizer()
    with _progress(progress, count_rows(ws.documents)) as advance:
        for n, doc in enumerate(read_rows(ws.documents, check_ids=True), 1):
            advance()
            if n % 1000 == 0:
                index.db.commit()
            reject = _export_one(doc, index, writers, ratios, ecfg["seed"], include_proposed, tokenize, tally,
                                 int(ecfg["window_tokens"]), ws)
            if reject is not None:
                rejects.append(reject)
    for doc_id, annotation_id in index.unseen_annotated_docs():
        rejects.append(Reject(stage="export", source=doc_id, reason="unknown_document",
                              hint="the annotation's document is not in the workspace: ingest it again or "
                                   "check the Label Studio task's data.doc_id",
                              detail=f"annotation {annotation_id}"))
    for w in writers.values():
        w.close()
    for config, w in writers.items():  # datasets cannot load a split without rows: leave empty ones out
        for split, n in w.counts.items():
            if n == 0:
                (dataset / data_file(config, split)).unlink()
    stats.counts = {c: {s: n for s, n in w.counts.items() if n} for c, w in writers.items()}
    stats.nbytes = {c: dict(w.nbytes) for c, w in writers.items()}
    stats.file_bytes = {c: sum(p.stat().st_size for p in (dataset / c).glob("*.parquet")) for c in writers}
    tally.fill(stats)
    _fill_agreement(stats, ws)
    stats.rejects = len(rejects)
    return stats, rejects


class _Tally:
    """Counts for the card, kept while streaming (bounded by labels, publishers, annotators)."""

    def __init__(self) -> None:
        self.docs_by_origin: Counter[str] = Counter()
        self.by_type: dict[str, Counter[str]] = {}
        self.by_publisher: Counter[str] = Counter()
        self.live = self.reviewed = 0
        self.annotators: set[str] = set()
        self.unannotated_left_out = 0
        self.type_names = class_names("Attribution", "quote_type")
        self.quotes_by_split: Counter[str] = Counter()
        self.speakers_by_split: dict[str, set[str]] = {}  # distinct canonical speakers (lowercased)

    def annotations(self, rows: list[AnnotationRow]) -> None:
        live = [r for r in rows if r.live]
        self.live += len(live)
        self.reviewed += sum(r.ground_truth for r in live)
        self.annotators.update(r.annotator for r in live if r.annotator)

    def rows(self, origin: str, quotes: list[dict[str, Any]], split: str) -> None:
        self.docs_by_origin[origin] += 1
        per = self.by_type.setdefault(origin, Counter())
        speakers = self.speakers_by_split.setdefault(split, set())
        for q in quotes:
            per[self.type_names[q["quote_type"]]] += 1
            self.by_publisher[q["publisher"] or "(unknown)"] += 1
            self.quotes_by_split[split] += 1
            who = q["speaker_name"] or q["speaker_text"]
            if who:
                speakers.add(" ".join(who.lower().split()))

    def fill(self, s: CardStats) -> None:
        s.docs_by_origin = dict(self.docs_by_origin)
        s.quotes_by_split = dict(self.quotes_by_split)
        s.speakers_by_split = {split: len(names) for split, names in self.speakers_by_split.items()}
        s.quotes_by_type = {o: dict(c) for o, c in self.by_type.items()}
        s.quotes_by_publisher = dict(self.by_publisher)
        s.annotations_live, s.annotations_reviewed, s.annotators = self.live, self.reviewed, len(self.annotators)
        s.unannotated_left_out = self.unannotated_left_out


def _fill_agreement(s: CardStats, ws: Workspace) -> None:
    """The card's agreement: the Quote span F1 that ``quotes agreement`` prints (one definition)."""
    iaa = annotator_agreement(list(read_rows(ws.annotations)))
    quote = iaa["f1"].get("Quote")
    s.agreement_docs = iaa["tasks"]
    s.agreement_f1 = quote["f1"] if quote and iaa["pairs"] else None


def _export_one(doc: dict[str, Any], index: InputIndex, writers: dict[str, SplitWriter], ratios: dict[str, float],
                seed: Any, include_proposed: bool, tokenize: Tokenizer, tally: _Tally, window: int = 256,
                ws: Workspace | None = None) -> Any:
    """Write one document's rows; return a Reject when it cannot be exported, else None (its hints name
    ``ws``'s commands)."""
    ws = ws if ws is not None else Workspace()
    doc_id = doc["doc_id"]
    if not index.first_sighting(doc_id):
        return _reject(doc_id, "duplicate_doc_id", "two document rows share this doc_id: the first was exported; "
                       f"re-run `{quotes_command(ws, 'ingest PATH...')}` to rebuild the documents")
    annotations = index.annotations(doc_id)
    tally.annotations(annotations)
    chosen = choose(annotations)
    if chosen is not None:
        src = source_from_dicts("annotated", chosen.regions, chosen.relations, chosen.prediction_model_version,
                                [chosen.annotator] if chosen.annotator else [])
    elif not include_proposed:
        tally.unannotated_left_out += 1  # left out by design (see --include-proposed)
        return None
    else:
        proposal = index.proposal(doc_id)
        if proposal is None:
            return _reject(doc_id, "not_proposed", f"run `{quotes_command(ws, 'propose')}` before exporting proposals")
        if proposal.error:
            return _reject(doc_id, "proposal_error",
                           f"fix the proposer error and run `{quotes_command(ws, 'propose')}` again",
                           proposal.error)
        src = source_from_dicts("proposed", proposal.regions, proposal.relations, proposal.model_version, [])
    try:
        check_regions(doc["text"], src.regions, src.relations)
    except RowError as exc:
        return _reject(doc_id, f"bad_{src.origin}_spans", "correct the spans in Label Studio (or re-propose) "
                       "so they match the document text, then pull and export again", str(exc))
    split = split_of(doc.get("cluster_id") or doc_id, ratios, seed)
    quotes = attribution_rows(doc, src)
    writers["attributions"].add(split, quotes)
    writers["documents"].add(split, [document_row(doc, src, quotes)])
    writers["tokens"].add(split, token_rows(doc, src, tokenize(doc["text"]), int(window)))
    tally.rows(src.origin, quotes, split)
    return None


def _reject(doc_id: str, reason: str, hint: str, detail: str | None = None) -> Any:
    return Reject(stage="export", source=doc_id, reason=reason, hint=hint, detail=detail)


def _progress(enabled: bool, total: int | None):
    if not enabled:
        return nullcontext(lambda: None)
    from contextlib import contextmanager

    from rich.progress import Progress

    @contextmanager
    def bar():
        with Progress(transient=False) as p:
            task = p.add_task("export documents", total=total)
            yield lambda: p.advance(task)
    return bar()


def _pause_hook(tmp: Path) -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        print(f"quotes export: data files written in {tmp}, pausing {seconds}s", file=sys.stderr, flush=True)
        time.sleep(float(seconds))
