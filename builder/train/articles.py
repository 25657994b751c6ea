"""Whole articles annotated by the rules, with their gold: what the refiners learn from.

The refiners (``quotes_content``, ``quotes_cues_sources``) rewrite the rules' quote records
of a whole article, as ``quotes propose`` runs them, so they train on whole articles too:
each gold article's text run through the base pipeline and the rules (``quotes_attribution``;
the resolver is not needed), paired with its gold regions and relations.

Annotating PolNeAR train takes minutes on two cores, so ``annotated_articles(..., cache_dir)``
keeps the docs in a ``DocBin`` (the rules' records in ``doc.user_data[RECORDS_KEY]`` as
plain dicts) keyed by the texts, the pipeline, the rules' settings and the code of
``builder/propose``; keep the cache outside the repository when the texts are not yours.
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

RECORDS_KEY = "quotes_rule_records"   # doc.user_data: the rules' Found records as dicts (cache only)


def _found_of(item: dict[str, Any]):
    from builder.propose.extract import Found

    names = {f.name for f in dataclasses.fields(Found)}
    data = {k: v for k, v in item.items() if k in names}
    for key in ("quote", "cue", "speaker", "outlet"):
        if data.get(key) is not None:
            data[key] = tuple(data[key])
    data["fragments"] = [tuple(x) for x in data.get("fragments") or []]
    return Found(**data)


def rules_hash(nlp):
    """A sha256 of what the rules' annotations depend on: ``nlp``'s name, version and
    components, the rules' scope and lexicon folder, and the code and lexicons of
    ``builder/propose``; a cache key goes on from it with the inputs."""
    import builder

    attribution = nlp.get_pipe("quotes_attribution")
    h = hashlib.sha256()
    for part in (nlp.meta.get("name", ""), nlp.meta.get("version", ""), attribution.scope,
                 str(attribution.lexicon_dir), ",".join(nlp.pipe_names)):
        h.update(part.encode() + b"\x00")
    for p in sorted(Path(builder.__file__).parent.glob("propose/**/*")):
        if p.is_file() and p.suffix in {".py", ".txt", ".tsv"}:
            h.update(p.read_bytes())
    return h


def _cache_key(nlp, texts: list[str], publishers: list[str | None]) -> str:
    h = rules_hash(nlp)
    for text, publisher in zip(texts, publishers):
        h.update(text.encode() + b"\x00" + (publisher or "").encode() + b"\x01")
    return h.hexdigest()[:24]


def rules_pipeline(scope: str = "broad", model: str | None = None, lexicon_dir: str | None = None):
    """The base pipeline and the rules, as ``quotes propose`` runs them, without the resolver."""
    from builder.propose import load_pipeline

    nlp = load_pipeline(model, {"propose": {"scope": scope, "lexicon_dir": lexicon_dir}})
    nlp.remove_pipe("quotes_resolver")
    return nlp


def annotated_articles(nlp, texts: list[str], publishers: list[str | None] | None = None,
                       cache_dir: str | Path | None = None, batch_size: int = 16) -> list:
    """``texts`` as Docs annotated by ``nlp`` (base pipeline + rules); ``doc._.quote_records``
    holds the rules' records. Read from (or written to) ``cache_dir`` when given."""
    from spacy.tokens import Doc, DocBin

    publishers = list(publishers or [None] * len(texts))
    cache = Path(cache_dir) / f"articles-{_cache_key(nlp, texts, publishers)}.spacy" if cache_dir else None
    if cache is not None and cache.is_file():
        docs = list(DocBin(store_user_data=True).from_disk(cache).get_docs(nlp.vocab))
        for doc in docs:
            doc._.quote_records = [_found_of(x) for x in doc.user_data.pop(RECORDS_KEY, [])]
        return docs
    todo = []
    for text, publisher in zip(texts, publishers):
        doc = nlp.make_doc(text)
        doc._.publisher = publisher
        todo.append(doc)
    docs = list(nlp.pipe(todo, batch_size=batch_size))
    if cache is not None:
        bin_ = DocBin(store_user_data=True)
        for doc in docs:
            copy = Doc(doc.vocab).from_bytes(doc.to_bytes(exclude=["user_data"]))
            copy.user_data[RECORDS_KEY] = [dataclasses.asdict(f) for f in doc._.quote_records or []]
            bin_.add(copy)
        save_cached(bin_, cache)
    return docs


def save_cached(docs, cache: Path) -> None:
    """Write the ``DocBin`` ``docs`` to ``cache`` atomically (two trainings filling one cache never
    share a temporary file)."""
    from builder.workspace.atomic import publish, temp_name

    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(cache)
    docs.to_disk(tmp)
    publish(tmp, cache)
