"""``quotes_content``: a learned refiner of the rules' quote content (bounds, keep or drop).

The rules (``quotes_attribution``) find most quotes but often miss where their content starts
and ends (a content that begins a sentence or two before the cue, a clause cut short at a
comma, a trailing "he said"), and propose some quotes that are none. This component rewrites
``doc._.quote_records`` after the rules (and after ``quotes_cues_sources``):

* **start** and **end**: for each record, every word token near the rules' bound, and the
  sentence, paragraph, punctuation and clause edges within the rules' content and up to
  ``SENTENCES`` sentences around it, is a candidate bound; a logistic regression over sparse
  hashed features of the candidate (its distance from the rules' bound in words and sentences,
  sentence and paragraph edges, the tokens and punctuation beside it, the parse clauses it
  begins or ends, where the cue stands) scores each, and the best scoring candidate becomes
  the bound;
* **keep**: a logistic regression over features of the whole record (rule kind, quote type, cue
  word, speaker, length, punctuation) gives the chance that the quote is one; below ``drop``
  the record is dropped.

Of two re-bounded records whose contents overlap, the surer stays (``without_overlaps``).

The models are trained (``builder.train.content_training``) on whole articles annotated by the
rules, paired with their gold quotes (``builder.train.articles``); a candidate is right when it
starts (ends) on the gold content's first (last) word, as the strict scorer
(``builder.evaluate.strict``) reads spans. Weights are plain arrays saved by ``to_disk`` (``numpy.save``) with a JSON config: no
pickles.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc

from builder.train.offsets import token_range, token_span

CONTENT_REFINER = "quotes.refiner.content.v1"
SENTENCES = 2          # candidate bounds reach this many sentences before/after the rules' content
INSIDE = 40            # ... and at most this many tokens into it
NEAR = 6               # every word this near the rules' bound is a candidate; farther, only edges
N_FEATURES = 2 ** 20   # hashed feature space
QUOTE_MARKS = "\"'“”‘’«»„"   # quotation marks (also model.quote_type_of's)


def without_overlaps(records: list[Any], sureness: dict[int, float] | None = None) -> list[Any]:
    """The records whose content overlaps no surer record's content, in their order: re-bounding
    can grow two records over the same words, and one text has one attribution. A record is as
    sure as its rules' score plus ``sureness[id(record)]`` (the refiner's chance that both its
    bounds are right; 0 when not given)."""
    sure = sureness or {}
    kept: list[Any] = []
    for f in sorted(records, key=lambda f: -(f.score + sure.get(id(f), 0.0))):
        if all(f.quote[1] <= g.quote[0] or g.quote[1] <= f.quote[0] for g in kept):
            kept.append(f)
    ids = {id(f) for f in kept}
    return [f for f in records if id(f) in ids]


# -- token facts ------------------------------------------------------------------------------

@dataclass
class DocFacts:
    """Per-token facts of one doc that every record's candidates read (read once per doc)."""
    wordy: numpy.ndarray        # token begins a word (letters or digits)
    sent: numpy.ndarray         # sentence index
    sent_first: numpy.ndarray   # first wordy token of its sentence
    sent_last: numpy.ndarray    # last wordy token of its sentence
    para_before: numpy.ndarray  # a line break between this token and the previous non-space one
    para_after: numpy.ndarray   # a line break between this token and the next non-space one
    left_of: list[list[str]]    # dependency labels of the heads whose subtree starts here
    right_of: list[list[str]]   # ... ends here
    lower: list[str]
    pos: list[str]
    dep: list[str]
    head_dep: list[str]
    short: list[str]            # the lowercase word if short, common or punctuation, else <POS>
    raw: list[str]
    prev: list[int]             # the previous non-space token (-1 at the start)
    next: list[int]             # the next non-space token (len(doc) at the end)


CLAUSE_DEPS = {"ROOT", "ccomp", "xcomp", "advcl", "conj", "relcl", "acl", "parataxis", "pcomp", "dobj", "pobj",
               "nsubj", "csubj", "prep", "npadvmod", "attr", "appos", "cc", "mark", "advmod", "punct"}
MAJOR_DEPS = {"ROOT", "ccomp", "xcomp", "advcl", "conj", "relcl", "parataxis", "csubj", "nsubj", "dobj"}


def word_counter(facts: DocFacts) -> Callable[[int, int], int]:
    """``words_between(a, b)``: how many words begin among tokens ``a`` to ``b - 1``."""
    cum = numpy.concatenate([[0], numpy.cumsum(facts.wordy)])
    return lambda a, b: int(cum[b] - cum[a])


def doc_facts(doc: Doc) -> DocFacts:
    n = len(doc)
    toks = list(doc)
    raw = [t.text for t in toks]
    space = [t.is_space for t in toks]
    wordy = numpy.array([bool(x[:1].isalnum()) for x in raw], dtype=bool)
    sent = numpy.zeros(n, dtype=int)
    if doc.has_annotation("SENT_START"):
        for k, s in enumerate(doc.sents):
            sent[s.start:s.end] = k
    first, last = numpy.zeros(n, dtype=bool), numpy.zeros(n, dtype=bool)
    seen: dict[int, int] = {}
    for i in range(n):
        if wordy[i]:
            if sent[i] not in seen:
                first[i] = True
            seen[sent[i]] = i
    for i in seen.values():
        last[i] = True
    para_before, para_after = numpy.zeros(n, dtype=bool), numpy.zeros(n, dtype=bool)
    prev_of, next_of = [-1] * n, [n] * n
    prev, text = -1, doc.text
    for i, t in enumerate(toks):
        prev_of[i] = prev
        if space[i]:
            continue
        gap = text[toks[prev].idx + len(raw[prev]):t.idx] if prev >= 0 else "\n"
        if "\n" in gap:
            para_before[i] = True
            if prev >= 0:
                para_after[prev] = True
        prev = i
    if prev >= 0:
        para_after[prev] = True
    nxt = n
    for i in range(n - 1, -1, -1):
        next_of[i] = nxt
        if not space[i]:
            nxt = i
    left_of: list[list[str]] = [[] for _ in range(n)]
    right_of: list[list[str]] = [[] for _ in range(n)]
    dep = [t.dep_ for t in toks]
    for t, d in zip(toks, dep):
        if d in CLAUSE_DEPS:
            left_of[t.left_edge.i].append(d)
            right_of[t.right_edge.i].append(d)
    lower, pos = [t.lower_ for t in toks], [t.pos_ for t in toks]
    short = [("<nl>" if "\n" in x else "<sp>") if sp else lw if t.is_punct or t.is_stop or len(x) < 4 else "<" + p + ">"
             for t, x, sp, lw, p in zip(toks, raw, space, lower, pos)]
    return DocFacts(wordy, sent, first, last, para_before, para_after, left_of, right_of, lower, pos, dep,
                    [t.head.dep_ for t in toks], short, raw, prev_of, next_of)


def edge_like(facts: DocFacts, i: int, side: str) -> bool:
    """A plausible far bound: a sentence or paragraph edge, beside punctuation, or the edge of a clause."""
    if side == "start":
        p = facts.prev[i]
        return bool(facts.sent_first[i] or facts.para_before[i] or p < 0 or not facts.wordy[p]
                    or MAJOR_DEPS.intersection(facts.left_of[i]))
    q = facts.next[i]
    return bool(facts.sent_last[i] or facts.para_after[i] or q >= len(facts.wordy) or not facts.wordy[q]
                or MAJOR_DEPS.intersection(facts.right_of[i]))


def _bucket(d: int) -> str:
    a = abs(d)
    b = str(a) if a <= 3 else "4-6" if a <= 6 else "7-12" if a <= 12 else "13-25" if a <= 25 else "26+"
    return ("-" if d < 0 else "+") + b


def _short(facts: DocFacts, i: int) -> str:
    return facts.short[i] if 0 <= i < len(facts.short) else "<edge>"


def _raw(facts: DocFacts, i: int) -> str:
    return facts.raw[i] if 0 <= i < len(facts.raw) else "<edge>"


# -- the records' token view -----------------------------------------------------------------

@dataclass
class RecordView:
    """A rules record in tokens: content [start, end), cue and speaker token ranges."""
    start: int
    end: int
    cue: tuple[int, int] | None
    speaker: tuple[int, int] | None
    kind: str
    quote_type: str


def view_of(doc: Doc, record: Any) -> RecordView | None:
    q = token_range(token_span(doc, record.quote))
    if q is None:
        return None
    cue, speaker = (token_range(token_span(doc, chars)) for chars in (record.cue, record.speaker))
    return RecordView(q[0], q[1], cue, speaker, record.kind, record.quote_type)


def record_views(doc: Doc, records: list[Any]) -> tuple[DocFacts, Callable[[int, int], int],
                                                      list[RecordView | None], list[RecordView]]:
    """The doc's token facts and word counter, each record's token view (None where its content
    covers no token) and the views there are."""
    facts = doc_facts(doc)
    views = [view_of(doc, f) for f in records]
    return facts, word_counter(facts), views, [v for v in views if v is not None]


def _first_wordy(facts: DocFacts, start: int, end: int) -> int | None:
    for i in range(start, end):
        if facts.wordy[i]:
            return i
    return None


def _last_wordy(facts: DocFacts, start: int, end: int) -> int | None:
    for i in range(end - 1, start - 1, -1):
        if facts.wordy[i]:
            return i
    return None


def rule_bounds(doc: Doc, facts: DocFacts, v: RecordView) -> tuple[int, int] | None:
    """The rules' first and last word of the content (a leading "that" skipped, as the strict
    scorer skips it), or None when the content has no word."""
    first, last = _first_wordy(facts, v.start, v.end), _last_wordy(facts, v.start, v.end)
    if first is None or last is None:
        return None
    if doc[first].lower_ == "that":
        first = _first_wordy(facts, first + 1, v.end) or first
    return first, last


def start_candidates(facts: DocFacts, v: RecordView) -> list[int]:
    """Wordy tokens (not "that") from ``SENTENCES`` sentences before the content's first one
    to ``INSIDE`` tokens into it (and before its end)."""
    first_sent = facts.sent[v.start] - SENTENCES
    lo = v.start
    while lo > 0 and facts.sent[lo - 1] >= first_sent:
        lo -= 1
    hi = min(v.end, v.start + INSIDE)
    return [i for i in range(lo, hi) if facts.wordy[i] and facts.lower[i] != "that"
            and (abs(i - v.start) <= NEAR or edge_like(facts, i, "start"))]


def end_candidates(facts: DocFacts, v: RecordView) -> list[int]:
    """Wordy tokens (as the last word) from ``INSIDE`` tokens before the content's end to
    ``SENTENCES`` sentences after its last one."""
    last_sent = facts.sent[v.end - 1] + SENTENCES
    hi = v.end
    while hi < len(facts.sent) and facts.sent[hi] <= last_sent:
        hi += 1
    lo = max(v.start, v.end - INSIDE)
    return [i for i in range(lo, hi) if facts.wordy[i] and (abs(i - v.end + 1) <= NEAR or edge_like(facts, i, "end"))]


def _cue_side(v: RecordView, i: int, words_between: Callable[[int, int], int]) -> str:
    if v.cue is None:
        return "cue=none"
    if v.cue[1] <= i:
        return "cue<" + _bucket(words_between(v.cue[1], i))
    if v.cue[0] > i:
        return "cue>" + _bucket(words_between(i, v.cue[0]))
    return "cue=in"


def _others(v: RecordView, i: int, rule_i: int, others: list[RecordView]) -> list[str]:
    """Whether another record's cue or content lies between the candidate and the rules' bound,
    or holds the candidate."""
    lo, hi = min(i, rule_i), max(i, rule_i)
    out = []
    for o in others:
        if o is v:
            continue
        if o.cue is not None and lo <= o.cue[0] < hi:
            out.append("other_cue_between")
        if o.start <= i < o.end:
            out.append("in_other")
        elif lo < o.start < hi or lo < o.end < hi:
            out.append("other_between")
    return sorted(set(out)) or ["no_other"]


def _near(v: RecordView, views: list[RecordView], facts: DocFacts) -> list[RecordView]:
    """The records (``v`` among them) within the sentences ``v``'s candidates reach."""
    lo, hi = facts.sent[v.start] - SENTENCES, facts.sent[v.end - 1] + SENTENCES
    return [o for o in views if facts.sent[o.start] <= hi and facts.sent[o.end - 1] >= lo]


def bound_features(side: str, facts: DocFacts, v: RecordView, i: int, rule_i: int,
                   words_between: Callable[[int, int], int], others: list[RecordView] = ()) -> list[str]:
    """Features of token ``i`` as the record's first (``side="start"``) or last (``"end"``) word:
    its distance from the rules' bound ``rule_i``, the sentence and paragraph edge it stands on,
    the word itself and the two words outside the bound, the clauses it begins (ends), where the
    cue, speaker and other records stand."""
    k = "k=" + v.kind
    d = _bucket(words_between(min(i, rule_i), max(i, rule_i)) * (1 if i >= rule_i else -1))
    sd = "sd=" + str(max(-3, min(3, int(facts.sent[i] - facts.sent[rule_i]))))
    if side == "start":   # outside: the words before; the cue is measured from the start
        o1 = facts.prev[i]
        o2 = facts.prev[o1] if o1 >= 0 else -1
        edge = ("sf" if facts.sent_first[i] else "") + ("pf" if facts.para_before[i] else "")
        tag, pair, clause, clauses, cue_at = "p", (o2, o1), "L", facts.left_of[i], i
    else:                 # outside: the words after; the cue is measured from past the end
        o1 = facts.next[i]
        o2 = facts.next[o1] if o1 < len(facts.next) else o1
        edge = ("sl" if facts.sent_last[i] else "") + ("pl" if facts.para_after[i] else "")
        tag, pair, clause, clauses, cue_at = "n", (o1, o2), "R", facts.right_of[i], i + 1
    cue_side = _cue_side(v, cue_at, words_between)
    raw = f"{tag}1raw=" + _raw(facts, o1)
    rule = "rule" if i == rule_i else "norule"
    feats = [k, "d=" + d, k + "|d=" + d, sd, k + "|" + sd, "e=" + edge, k + "|e=" + edge, sd + "|e=" + edge,
             "t=" + facts.lower[i], "pos=" + facts.pos[i], "dep=" + facts.dep[i], "hd=" + facts.head_dep[i],
             f"{tag}1=" + _short(facts, o1), f"{tag}12=" + _short(facts, pair[0]) + "_" + _short(facts, pair[1]),
             k + f"|{tag}1=" + _short(facts, o1), raw, cue_side, k + "|" + cue_side, "qt=" + v.quote_type + "|d=" + d,
             rule, k + "|" + rule]
    feats += [f"{clause}={dep}" for dep in clauses] + [f"{k}|{clause}={dep}" for dep in clauses]
    feats += [k + "|" + raw, "d=" + d + "|" + raw if abs(i - rule_i) <= 4 else "far|" + raw,
              "cue_sent=" + ("none" if v.cue is None else str(max(-2, min(2, int(facts.sent[v.cue[0]] - facts.sent[i])))))]
    near = _others(v, i, rule_i, others)
    feats += [k + "|" + x for x in near] + [d + "|" + x for x in near]
    if v.speaker is not None:
        feats.append("spk<" if v.speaker[1] <= i else "spk>" if v.speaker[0] > i else "spk=in")
    return feats


def start_features(facts: DocFacts, v: RecordView, i: int, rule_i: int,
                   words_between: Callable[[int, int], int], others: list[RecordView] = ()) -> list[str]:
    return bound_features("start", facts, v, i, rule_i, words_between, others)


def end_features(facts: DocFacts, v: RecordView, i: int, rule_i: int,
                 words_between: Callable[[int, int], int], others: list[RecordView] = ()) -> list[str]:
    return bound_features("end", facts, v, i, rule_i, words_between, others)


def keep_features(doc: Doc, facts: DocFacts, v: RecordView, record: Any, others: list[RecordView],
                  text: str | None = None) -> list[str]:
    k = "k=" + v.kind
    n_words = int(facts.wordy[v.start:v.end].sum())
    n_sents = int(facts.sent[v.end - 1] - facts.sent[v.start]) + 1
    cue = doc[v.cue[0]:v.cue[1]] if v.cue else None
    spk = doc[v.speaker[0]:v.speaker[1]] if v.speaker else None
    text = (doc.text if text is None else text)[record.quote[0]:record.quote[1]]
    feats = [k, "qt=" + v.quote_type, k + "|qt=" + v.quote_type, "len=" + _bucket(n_words), k + "|len=" + _bucket(n_words),
             "sents=" + str(min(n_sents, 4)), "marks=" + str(min(sum(c in QUOTE_MARKS for c in text), 4)),
             "cue=" + (cue.lemma_.lower() if cue is not None else "<none>"),
             k + "|cue=" + (cue.lemma_.lower() if cue is not None else "<none>"),
             "spk=" + ("<none>" if spk is None else spk.root.pos_ + "|" + (spk.root.ent_type_ or "-")),
             "spkw=" + ("<none>" if spk is None else spk.root.lower_ if spk.root.pos_ == "PRON" else "<name>"),
             "outlet" if record.outlet else "no-outlet", "first=" + doc[v.start].pos_, "first_t=" + doc[v.start].lower_,
             "para1" if facts.sent[v.start] == 0 else "later", "score=" + str(round(record.score, 1)),
             "dup" if any(o is not v and o.start < v.end and v.start < o.end for o in others) else "alone"]
    root = doc[v.start:v.end].root
    feats += ["root=" + root.pos_ + "|" + root.dep_, "cuepos=" + (cue.root.pos_ if cue is not None else "-")]
    return feats


# -- a linear scorer over hashed features ------------------------------------------------------

class Linear:
    """Logistic regression weights over hashed string features (sklearn's ``FeatureHasher``)."""

    def __init__(self, coef: numpy.ndarray | None = None, intercept: float = 0.0):
        self.coef = coef
        self.intercept = intercept

    @staticmethod
    def hash(rows: list[list[str]]):
        from sklearn.feature_extraction import FeatureHasher

        return FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False).transform(rows)

    def scores(self, rows: list[list[str]]) -> numpy.ndarray:
        if self.coef is None or not rows:
            return numpy.zeros(len(rows))
        return self.hash(rows) @ self.coef + self.intercept

    @classmethod
    def fit(cls, rows: list[list[str]], labels: list[int], c: float = 0.5, weight: dict | None = None) -> "Linear":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=300, solver="liblinear", class_weight=weight)
        model.fit(cls.hash(rows), numpy.asarray(labels))
        return cls(model.coef_[0].astype("float32"), float(model.intercept_[0]))


# -- the component -------------------------------------------------------------------------------

class ContentRefiner(Pipe):
    """``quotes_content``: re-bounds, keeps or drops the rules' quote contents (see the module)."""

    def __init__(self, nlp: Language, name: str = "quotes_content", drop: float = 0.0, rebound: bool = True):
        self.name = name
        self.drop = drop
        self.rebound = rebound
        self.start_model, self.end_model, self.keep_model = Linear(), Linear(), Linear()
        self.trained: dict[str, int] = {}   # training rows of each model

    # records -> refined records
    def refine(self, doc: Doc, records: list[Any]) -> list[Any]:
        """The records kept (keep chance at least ``drop``), their contents re-bounded, then
        those overlapping a surer record's content dropped (``without_overlaps``); all
        candidates of a doc scored in one go per model."""
        if not records:
            return records
        facts, words_between, views, live = record_views(doc, records)
        text = doc.text
        todo = [(f, v) for f, v in zip(records, views) if v is not None]
        if self.keep_model.coef is not None and self.drop > 0:
            keep = self.keep_model.scores([keep_features(doc, facts, v, f, live, text) for f, v in todo])
            cut = math.log(self.drop / (1 - self.drop)) if self.drop < 1 else math.inf
            dropped = {id(f) for (f, _v), k in zip(todo, keep) if k < cut}
        else:
            dropped = set()
        if not (self.rebound and self.start_model.coef is not None and self.end_model.coef is not None):
            return [f for f in records if id(f) not in dropped]
        bounds = self._bounds(doc, facts, [(f, v) for f, v in todo if id(f) not in dropped], words_between, live)
        refined = [bounds[id(f)][0] if id(f) in bounds else f for f in records if id(f) not in dropped]
        return without_overlaps(refined, {id(g): sure for g, sure in bounds.values()})

    def _bounds(self, doc: Doc, facts: DocFacts, todo: list, words_between,
                live: list[RecordView]) -> dict[int, tuple[Any, float]]:
        """id(record) -> (the record with its content at the best scoring start and end, the
        chance that both are right: the product of the two models' probabilities)."""
        jobs, start_rows, end_rows = [], [], []
        for f, v in todo:
            bounds = rule_bounds(doc, facts, v)
            if bounds is None:
                continue
            rule_s, rule_e = bounds
            near = _near(v, live, facts)
            starts = start_candidates(facts, v) or [rule_s]
            ends = end_candidates(facts, v) or [rule_e]
            jobs.append((f, rule_s, rule_e, starts, ends, len(start_rows), len(end_rows)))
            start_rows += [start_features(facts, v, i, rule_s, words_between, near) for i in starts]
            end_rows += [end_features(facts, v, i, rule_e, words_between, near) for i in ends]
        ss, es = self.start_model.scores(start_rows), self.end_model.scores(end_rows)
        out = {}
        for f, rule_s, rule_e, starts, ends, a, b in jobs:
            pair = _best_pair(starts, ss[a:a + len(starts)], ends, es[b:b + len(ends)])
            if pair is None:
                continue
            best_s, best_e = starts[pair[0]], ends[pair[1]]
            start = f.quote[0] if best_s == rule_s else doc[best_s].idx
            end = f.quote[1] if best_e == rule_e else doc[best_e].idx + len(doc[best_e].text)
            refined = replace(f, quote=(start, end), fragments=[]) if (start, end) != tuple(f.quote) else f
            out[id(f)] = (refined, _probability(ss[a + pair[0]]) * _probability(es[b + pair[1]]))
        return out

    def __call__(self, doc: Doc) -> Doc:
        from builder.propose.components import QuoteAttribution

        records = list(doc._.quote_records or [])
        if records:
            QuoteAttribution.set_annotations(self, doc, self.refine(doc, records))
        return doc

    # persistence: plain arrays and JSON
    def to_disk(self, path, *, exclude=tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        cfg = {"refiner": CONTENT_REFINER, "n_features": N_FEATURES, "drop": self.drop, "rebound": self.rebound,
               "trained": self.trained, "models": {}}
        for key in ("start", "end", "keep"):
            model = getattr(self, f"{key}_model")
            if model.coef is not None:
                numpy.save(path / f"{key}.npy", model.coef)
                cfg["models"][key] = {"intercept": model.intercept}
        (path / "cfg.json").write_text(json.dumps(cfg, indent=1), "utf-8")

    def from_disk(self, path, *, exclude=tuple()) -> "ContentRefiner":
        path = Path(path)
        cfg = json.loads((path / "cfg.json").read_text("utf-8"))
        if cfg.get("n_features") != N_FEATURES:
            raise ValueError(f"{path}: saved with {cfg.get('n_features')} hashed features, this code uses {N_FEATURES}")
        self.drop, self.rebound = cfg.get("drop", self.drop), cfg.get("rebound", self.rebound)
        self.trained = cfg.get("trained") or {}
        for key, m in cfg["models"].items():
            setattr(self, f"{key}_model", Linear(numpy.load(path / f"{key}.npy"), m["intercept"]))
        return self


def _probability(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-logit))


PAIRED = 5   # the best scoring starts and ends paired to find the best valid pair


def _best_pair(starts: list[int], ss: numpy.ndarray, ends: list[int], es: numpy.ndarray) -> tuple[int, int] | None:
    """Indexes of the best scoring start and end with start <= end (among the ``PAIRED`` best of each)."""
    order_s = numpy.argsort(-ss)
    order_e = numpy.argsort(-es)
    best, best_score = None, -numpy.inf
    for a in order_s[:PAIRED]:
        for b in order_e[:PAIRED]:
            if starts[a] <= ends[b] and ss[a] + es[b] > best_score:
                best, best_score = (int(a), int(b)), ss[a] + es[b]
    return best


@Language.factory("quotes_content", default_config={"drop": 0.0, "rebound": True})
def make_content_refiner(nlp: Language, name: str, drop: float, rebound: bool) -> ContentRefiner:
    return ContentRefiner(nlp, name, drop, rebound)
