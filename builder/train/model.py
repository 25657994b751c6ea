"""The learned proposer's network and pipeline components.

``quotes.HybridTok2Vec.v1`` embeds each token twice and mixes the two:

* ``pretrained``: a copy of the base pipeline's own NER tok2vec (``spacy.Tok2Vec.v2``:
  NORM/PREFIX/SUFFIX/SHAPE hash embeddings and a CNN), its weights copied in by
  ``quotes train`` and fine-tuned;
* ``context``: hash embeddings of what the base pipeline and the rules already said about
  the token: its tag, dependency label, entity type, and the rules' own BIO tag over
  Quote/Speaker/Cue/Outlet (``doc.spans["quotes"|"speakers"|"cues"|"outlets"]``, set by
  ``quotes_attribution``). Training hides the rules' tags from a share of the documents
  (``rule_dropout``), so the same network also proposes without the rules (``learned``).

``quotes_bio`` (a spaCy ``tagger`` that keeps its label probabilities in
``doc.user_data["quotes_bio"]`` instead of overwriting the base tags) tags every token with
the export's combined BIO tags over QUOTE/SPEAKER/CUE/OUTLET. A tagger, not a ``ner``: spaCy's
``ner`` cannot tag across the sentence boundaries the parser sets, and quotes often span
sentences. ``quotes_learned`` decodes the tags into spans and makes them quote records: without
the rules (``learned``) it links them (speaker and cue, with a calibrated confidence); after the
rules it combines them with the rules' records as its ``combine`` says (default ``links``: the
rules' quotes kept, with the tagger's cue and speaker where they overlap the rules').
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

import numpy
from spacy.attrs import DEP, ENT_TYPE, TAG
from spacy.language import Language
from spacy.pipeline.tagger import Tagger
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import (HashEmbed, LayerNorm, Maxout, Model, chain, concatenate, expand_window, list2ragged,
                       ragged2list, residual, uniform_init, with_array)
from thinc.types import Floats2d, Ints2d

from builder.propose.extract import Found, overlap
from builder.train.content import QUOTE_MARKS
from builder.train.offsets import char_range

RULE_SPAN_KEYS = ("quotes", "speakers", "cues", "outlets")   # this order fixes the rule tag ids a trained model embeds


def rule_tags(doc: Doc) -> numpy.ndarray:
    """Per token: 0 outside the rules' spans, else 1 + 2k (first token) or 2 + 2k (rest) for
    the k-th of ``RULE_SPAN_KEYS``; earlier keys keep shared tokens."""
    tags = numpy.zeros((len(doc),), dtype="uint64")
    for k, key in enumerate(RULE_SPAN_KEYS):
        for span in doc.spans[key] if key in doc.spans else []:
            if tags[span.start] == 0:
                tags[span.start] = 1 + 2 * k
            for i in range(span.start + 1, span.end):
                if tags[i] == 0:
                    tags[i] = 2 + 2 * k
    return tags


def ent_types(doc: Doc) -> numpy.ndarray:
    """Per token: the hash of its base-pipeline entity label, else 0."""
    return doc.to_array([ENT_TYPE]).astype("uint64").reshape((len(doc),))


HIDE_RULES = "quotes_hide_rules"   # doc.user_data flag: training hides this doc's rule tags


def context_features() -> Model[list[Doc], list[Ints2d]]:
    """Columns TAG, DEP, entity type, rule tag (uint64 ids for ``HashEmbed``); the rule tags
    are all 0 on a doc flagged ``HIDE_RULES`` (set by the training loop)."""

    def forward(model: Model, docs: list[Doc], is_train: bool) -> tuple[list[Ints2d], Callable]:
        out = []
        for doc in docs:
            cols = doc.to_array([TAG, DEP]).astype("uint64").reshape((len(doc), 2))
            rules = rule_tags(doc)
            if doc.user_data.get(HIDE_RULES):
                rules = numpy.zeros_like(rules)
            arr = numpy.hstack([cols, ent_types(doc)[:, None], rules[:, None]])
            out.append(model.ops.asarray2i(arr, dtype="uint64"))
        return out, lambda d_out: []

    return Model("quotes_context_features", forward)


def _embed(columns: list[int], width: int, rows: int, scale: float) -> Model[list[Ints2d], list[Floats2d]]:
    init = partial(uniform_init, lo=-scale, hi=scale)
    tables = [HashEmbed(width, rows, column=c, seed=101 + c, initializer=init) for c in columns]
    return chain(list2ragged(), with_array(concatenate(*tables) if len(tables) > 1 else tables[0]), ragged2list())


@registry.architectures("quotes.HybridTok2Vec.v1")
def hybrid_tok2vec(pretrained: Model[list[Doc], list[Floats2d]], width: int = 96, context_width: int = 32,
                   context_rows: int = 1000, direct_width: int = 16, depth: int = 2,
                   rule_dropout: float = 0.3) -> Model[list[Doc], list[Floats2d]]:
    """``pretrained`` (a ``spacy.Tok2Vec.v2``) concatenated with context embeddings, mixed by a
    Maxout and ``depth`` residual CNN layers of window 1 into ``width - direct_width`` dims; the
    rules' tag embedded once more (``direct_width`` dims) and passed straight to the output, so
    the tagger can keep the rules' answer where it is right. ``rule_dropout`` is the share of
    training windows whose rule tags the training loop hides (recorded here, used there)."""
    mixed_width = width - direct_width
    context = chain(context_features(), concatenate(_embed([0, 1, 2, 3], context_width, context_rows, 0.5),
                                                   _embed([3], direct_width, 64, 1.0)))
    mix = with_array(chain(Maxout(mixed_width, width + 4 * context_width, nP=3, normalize=True),
                           *[residual(chain(expand_window(window_size=1), Maxout(mixed_width, mixed_width * 3, nP=3),
                                            LayerNorm(mixed_width))) for _ in range(depth)]))
    model = Model("quotes_hybrid_tok2vec", _hybrid_forward, init=_hybrid_init, layers=[pretrained, context, mix],
                  dims={"nO": width}, attrs={"direct_width": direct_width, "rule_dropout": rule_dropout})
    model.set_ref("pretrained", pretrained)
    return model


def _hybrid_init(model: Model, X: list[Doc] | None = None, Y=None) -> None:
    pretrained, context, mix = model.layers
    pretrained.initialize(X=X)
    context.initialize(X=X)
    if X:
        direct_width = model.attrs["direct_width"]
        P, C = pretrained.predict(X), context.predict(X)
        mix.initialize(X=[model.ops.xp.hstack([p, c[:, :-direct_width]]) for p, c in zip(P, C)])
    else:
        mix.initialize()


def _hybrid_forward(model: Model, docs: list[Doc], is_train: bool):
    pretrained, context, mix = model.layers
    direct_width = model.attrs["direct_width"]
    ops = model.ops
    P, bp_p = pretrained(docs, is_train)
    C, bp_c = context(docs, is_train)           # [context embeddings | direct rule embedding] per doc
    inputs = [ops.xp.hstack([p, c[:, :-direct_width]]) for p, c in zip(P, C)]
    M, bp_m = mix(inputs, is_train)
    Y = [ops.xp.hstack([m, c[:, -direct_width:]]) for m, c in zip(M, C)]
    p_width = P[0].shape[1] if P else 0

    def backprop(dY):
        dM = [d[:, :-direct_width] for d in dY]
        d_inputs = bp_m(dM)
        dP = [d[:, :p_width] for d in d_inputs]
        dC = [ops.xp.hstack([d[:, p_width:], dy[:, -direct_width:]]) for d, dy in zip(d_inputs, dY)]
        bp_c(dC)
        return bp_p(dP)

    return Y, backprop


# -- the tagger ------------------------------------------------------------------------------

BIO_KEY = "quotes_bio"   # doc.user_data: (tag names, per-token probabilities) of quotes_bio


class BIOTagger(Tagger):
    """A ``tagger`` trained on the BIO tags, which leaves ``token.tag_`` alone: its predictions
    (label probabilities per token) go to ``doc.user_data["quotes_bio"]``."""

    def predict(self, docs):
        if not any(len(doc) for doc in docs):
            return [self.model.ops.alloc2f(0, len(self.labels)) for _ in docs]
        return self.model.predict(docs)

    def set_annotations(self, docs, batch_scores) -> None:
        for doc, scores in zip(docs, batch_scores):
            doc.user_data[BIO_KEY] = (tuple(self.labels), self.model.ops.to_numpy(scores))


@Language.factory("quotes_bio", default_config={
    "model": {"@architectures": "spacy.Tagger.v2", "nO": None, "normalize": False,
              "tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "quotes_tok2vec"}},
    "label_smoothing": 0.0})
def make_bio_tagger(nlp: Language, name: str, model: Model, label_smoothing: float) -> BIOTagger:
    return BIOTagger(nlp.vocab, model, name, overwrite=False, scorer=None, neg_prefix="!",
                     label_smoothing=label_smoothing)


def decode(labels: tuple[str, ...], scores: numpy.ndarray) -> list[tuple[int, int, str, float]]:
    """``(start, end, LABEL, confidence)`` spans from per-token label probabilities: the best
    valid BIO sequence (an I continues a span of its label; Viterbi over log probabilities),
    a span's confidence the mean probability of its tokens' tags."""
    n = scores.shape[0]
    if n == 0:
        return []
    logp = numpy.log(numpy.clip(scores, 1e-9, 1.0))
    k = len(labels)
    valid = numpy.ones((k, k), dtype=bool)   # valid[prev, cur]
    for j, cur in enumerate(labels):
        if cur.startswith("I-"):
            for i, prev in enumerate(labels):
                valid[i, j] = prev[2:] == cur[2:] and prev != "O"
    start_ok = numpy.array([not lab.startswith("I-") for lab in labels])
    penalty = numpy.where(valid, 0.0, -1e9)
    best = numpy.where(start_ok, logp[0], -1e9)
    back = numpy.zeros((n, k), dtype=int)
    for t in range(1, n):
        cand = best[:, None] + penalty
        back[t] = cand.argmax(axis=0)
        best = cand.max(axis=0) + logp[t]
    path = [int(best.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    path.reverse()
    spans: list[tuple[int, int, str, float]] = []
    i = 0
    while i < n:
        lab = labels[path[i]]
        if lab == "O":
            i += 1
            continue
        j = i + 1
        while j < n and labels[path[j]] == "I-" + lab[2:]:
            j += 1
        conf = float(numpy.mean([scores[t, path[t]] for t in range(i, j)]))
        spans.append((i, j, lab[2:], conf))
        i = j
    return spans


# -- learned spans -> quote records ---------------------------------------------------------

CATEGORIES = ("agree", "overlap", "alone")   # a learned quote equal to / overlapping / apart from a rules quote
BIN_EDGES = (0.6, 0.8, 0.9, 0.95)              # confidence bins of the calibration table


def category_of(quote: tuple[int, int], rule_quotes: list[tuple[int, int]]) -> str:
    """Where a learned quote stands against the rules' quotes (character or token ranges alike)."""
    if quote in rule_quotes:
        return "agree"
    return "overlap" if any(overlap(quote, r) for r in rule_quotes) else "alone"


def bin_of(confidence: float) -> int:
    return sum(confidence >= e for e in BIN_EDGES)


def calibrated(calibration: dict[str, list[float]], category: str, confidence: float) -> float:
    """The validation precision of learned quotes of this category and confidence bin."""
    table = calibration.get(category)
    return float(table[bin_of(confidence)]) if table else round(confidence, 4)


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Tokens between two token ranges (0 when they touch or overlap)."""
    return max(0, max(a[0], b[0]) - min(a[1], b[1]))


def _nearest(target: tuple[int, int], cands: list[tuple[int, int]], limit: tuple[int, int]) -> tuple[int, int] | None:
    """The candidate within ``limit`` (a token range) nearest to ``target``, not inside it; ties: the later."""
    best = None
    for c in cands:
        if c[0] < limit[0] or c[1] > limit[1] or (target[0] <= c[0] and c[1] <= target[1]):
            continue
        key = (_gap(target, c), -c[0])
        if best is None or key < best[0]:
            best = (key, c)
    return best[1] if best else None


def _neighbourhood(doc: Doc, rng: tuple[int, int]) -> tuple[int, int]:
    """The sentences a token range touches, with one sentence either side."""
    sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
    first = next((i for i, s in enumerate(sents) if s.end > rng[0]), 0)
    last = next((i for i, s in enumerate(sents) if s.end >= rng[1]), len(sents) - 1)
    return sents[max(0, first - 1)].start, sents[min(len(sents) - 1, last + 1)].end


def quote_type_of(text: str) -> str:
    """``direct`` when the text opens with a quotation mark and ends with one (or one before a
    final character, as in ``"Yes".``), ``mixed`` when it holds a double one, else ``indirect``."""
    t = text.strip()   # (a blank text counts as direct: "" is in every str)
    if t[:1] in QUOTE_MARKS and (t[-1:] in QUOTE_MARKS or t[-2:-1] in QUOTE_MARKS):
        return "direct"
    return "mixed" if any(m in t for m in '"“”') else "indirect"


def learned_records(doc: Doc, spans: list[tuple[int, int, str, float]], rules: list[Any],
                    calibration: dict[str, list[float]]) -> list[Any]:
    """``Found`` records of the learned spans: each QUOTE linked to the nearest CUE (within its
    sentences and one either side), the SPEAKER nearest that cue (else the quote), and an OUTLET
    likewise; where a rules record overlaps the quote, its cue, speaker and outlet are the learned
    ones that overlap the rules' (the rules' own where none does), and its quote type is kept.
    Score: the validation precision of learned quotes of the same category (``CATEGORIES``) and
    confidence bin (``calibrated``)."""
    by_label: dict[str, list[tuple[int, int]]] = {"QUOTE": [], "SPEAKER": [], "CUE": [], "OUTLET": []}
    confidence: dict[tuple[int, int], float] = {}
    for s, e, label, conf in spans:
        by_label.setdefault(label, []).append((s, e))
        if label == "QUOTE":
            confidence[(s, e)] = conf
    rule_quotes = [tuple(f.quote) for f in rules]
    out = []
    for q in by_label["QUOTE"]:
        qc = char_range(doc, q)
        rule = max(rules, key=lambda f: overlap(f.quote, qc), default=None)
        if rule is not None and overlap(rule.quote, qc) == 0:
            rule = None
        category = category_of(qc, rule_quotes)
        limit = _neighbourhood(doc, q)

        def pick(label: str, near: tuple[int, int] | None, hint: tuple[int, int] | None) -> tuple[int, int] | None:
            """A learned span of ``label``: the first overlapping the rules' ``hint``, else the
            hint itself; without a hint, the nearest to ``near``; as a character range."""
            cands = by_label.get(label, [])
            if hint is not None:
                hinted = [c for c in cands if overlap(char_range(doc, c), hint)]
                return char_range(doc, hinted[0]) if hinted else tuple(hint)
            return char_range(doc, _nearest(near or q, cands, limit))

        cue = pick("CUE", q, rule.cue if rule else None)
        cue_tokens = doc.char_span(*cue, alignment_mode="expand") if cue else None
        near = (cue_tokens.start, cue_tokens.end) if cue_tokens is not None else q
        speaker = pick("SPEAKER", near, rule.speaker if rule else None)
        outlet = pick("OUTLET", near, rule.outlet if rule else None)
        text = doc.text[qc[0]:qc[1]]
        out.append(Found(quote=qc, quote_type=rule.quote_type if rule else quote_type_of(text),
                         kind="learned", cue=cue, speaker=speaker, outlet=outlet,
                         speaker_is_outlet=bool(rule and rule.speaker_is_outlet and speaker == tuple(rule.speaker or ())),
                         score=calibrated(calibration, category, confidence[q])))
    return out


def _rebound(doc: Doc, rng: tuple[int, int] | None, label: str, probs: dict[str, numpy.ndarray],
             reach: int) -> tuple[tuple[int, int] | None, float]:
    """A rules span (character range) moved to the token bounds within ``reach`` tokens that the
    tagger likes best: log P(B) at the start, log P(I) inside, log P(not I) after the end.
    Returns the new character range and the mean probability of its tags."""
    if rng is None:
        return None, 0.0
    span = doc.char_span(rng[0], rng[1], alignment_mode="expand")
    if span is None or not len(span):
        return rng, 0.0
    b, i = probs["B-" + label], probs["I-" + label]
    n = len(doc)
    log_b, log_i, log_out = (numpy.log(numpy.clip(x, 1e-9, 1.0)) for x in (b, i, 1.0 - i))
    cum_i = numpy.concatenate([[0.0], numpy.cumsum(log_i)])
    best, best_score = (span.start, span.end), -numpy.inf
    for s in range(max(0, span.start - reach), min(n - 1, span.start + reach) + 1):
        for e in range(max(s + 1, span.end - reach), min(n, span.end + reach) + 1):
            score = log_b[s] + cum_i[e] - cum_i[s + 1] + (log_out[e] if e < n else 0.0)
            if score > best_score:
                best, best_score = (s, e), score
    s, e = best
    conf = float(numpy.mean(numpy.concatenate([[b[s]], i[s + 1:e]])))
    return char_range(doc, (s, e)), conf


def rebound_records(doc: Doc, labels: tuple[str, ...], scores: numpy.ndarray, rules: list[Any],
                    spans: list[tuple[int, int, str, float]], calibration: dict[str, list[float]],
                    reach: int = 3, keep: float = 0.0, add: float = 1.01) -> list[Any]:
    """The hybrid's records: every rules record whose quote the tagger does not reject (mean tag
    probability at least ``keep``), re-bounded (quote, cue, speaker) to the tagger's best bounds
    within ``reach`` tokens, plus learned quotes no rules quote overlaps when their confidence
    is at least ``add`` (linked as ``learned_records`` links them)."""
    from dataclasses import replace

    probs = {lab: scores[:, k] for k, lab in enumerate(labels)}
    if any(f"{p}-{lab}" not in probs for lab in ("QUOTE", "SPEAKER", "CUE") for p in "BI"):
        return list(rules)
    out = []
    for f in rules:
        quote, conf = _rebound(doc, f.quote, "QUOTE", probs, reach)
        if conf < keep:
            continue
        cue = _rebound(doc, f.cue, "CUE", probs, 1)[0]
        speaker = f.speaker if f.speaker_is_outlet else _rebound(doc, f.speaker, "SPEAKER", probs, 2)[0]
        category = "agree" if quote == tuple(f.quote) else "overlap"
        out.append(replace(f, quote=quote, cue=cue, speaker=speaker, fragments=[],
                           score=calibrated(calibration, category, conf) if calibration else f.score))
    taken = [f.quote for f in out] + [tuple(f.quote) for f in rules]
    alone = [sp for sp in spans if sp[2] != "QUOTE" or sp[3] >= add]
    for f in learned_records(doc, alone, [], calibration):
        if not any(overlap(f.quote, q) for q in taken):
            out.append(f)
    return sorted(out, key=lambda f: f.quote)


def relinked_records(doc: Doc, spans: list[tuple[int, int, str, float]], rules: list[Any]) -> list[Any]:
    """The rules' records with their quotes kept and their cue and speaker replaced by the
    tagger's CUE / SPEAKER span that overlaps them, where there is one."""
    from dataclasses import replace

    by_label: dict[str, list[tuple[int, int]]] = {}
    for s, e, label, _conf in spans:
        by_label.setdefault(label, []).append(char_range(doc, (s, e)))

    def learned(label: str, rng: tuple[int, int] | None) -> tuple[int, int] | None:
        if rng is None:
            return None
        hits = [c for c in by_label.get(label, []) if overlap(c, rng)]
        return max(hits, key=lambda c: overlap(c, rng)) if hits else rng

    return [replace(f, cue=learned("CUE", f.cue),
                    speaker=f.speaker if f.speaker_is_outlet else learned("SPEAKER", f.speaker)) for f in rules]


class LearnedQuotes:
    """``quotes_learned``: quote records from the tagger (and the rules' records, when the rules
    ran) become ``doc._.quote_records`` and ``doc.spans`` as ``quotes_attribution`` writes them.

    Without rules (``learned``): the decoded spans, linked (``learned_records``). With them
    (``hybrid``), ``combine`` says how: ``rebound`` (each rules record re-bounded to the tagger's
    best bounds within ``reach`` tokens, dropped below ``keep``, learned-only quotes added from
    ``add`` confidence), ``links`` (the rules' quotes, with the tagger's cue and speaker where
    they overlap the rules') or ``decode`` (the decoded spans, the rules' links first;
    ``keep_rules`` adds the rules' quotes no learned quote overlaps)."""

    def __init__(self, nlp: Language, name: str, calibration: dict[str, list[float]] | None = None,
                 keep_rules: bool = False, combine: str = "links", reach: int = 3, keep: float = 0.0,
                 add: float = 1.01):
        self.name = name
        self.calibration = dict(calibration or {})
        self.keep_rules = keep_rules
        self.combine, self.reach, self.keep, self.add = combine, reach, keep, add

    def __call__(self, doc: Doc) -> Doc:
        from builder.propose.components import QuoteAttribution

        labels, scores = doc.user_data.pop(BIO_KEY, ((), numpy.zeros((len(doc), 0))))
        QuoteAttribution.set_annotations(self, doc, self.records(doc, labels, scores))  # the rules' spans layout
        return doc

    def records(self, doc: Doc, labels: tuple[str, ...], scores: numpy.ndarray) -> list[Any]:
        """The doc's quote records from the tagger's ``labels`` and per-token ``scores``,
        combined with the rules' records (``doc._.quote_records``) as ``combine`` says."""
        spans = decode(labels, scores) if len(labels) else []
        rules = list(doc._.quote_records or [])
        if rules and len(labels) and self.combine == "links":
            return relinked_records(doc, spans, rules)
        if rules and len(labels) and self.combine == "rebound":
            return rebound_records(doc, labels, scores, rules, spans, self.calibration, self.reach, self.keep,
                                   self.add)
        found = learned_records(doc, spans, rules, self.calibration)
        if self.keep_rules:
            taken = [f.quote for f in found]
            found += [f for f in rules if not any(overlap(f.quote, q) for q in taken)]
            found.sort(key=lambda f: f.quote)
        return found

    def to_disk(self, path, exclude=tuple()):
        import json
        from pathlib import Path

        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "calibration.json").write_text(json.dumps(self.calibration, indent=1), "utf-8")

    def from_disk(self, path, exclude=tuple()):
        import json
        from pathlib import Path

        self.calibration = json.loads((Path(path) / "calibration.json").read_text("utf-8"))
        return self


@Language.factory("quotes_learned", default_config={"calibration": None, "keep_rules": False, "combine": "links",
                                                   "reach": 3, "keep": 0.0, "add": 1.01})
def make_learned(nlp: Language, name: str, calibration: dict[str, list[float]] | None, keep_rules: bool,
                 combine: str, reach: int, keep: float, add: float) -> LearnedQuotes:
    return LearnedQuotes(nlp, name, calibration, keep_rules, combine, reach, keep, add)
