"""spaCy components: ``quotes_attribution`` (quotes, cues, speakers, outlets) and
``quotes_resolver`` (speaker -> fullest named mention), written as spaCy's ``SpanRuler`` is.

They write ``doc.spans["quotes"|"cues"|"speakers"|"outlets"]`` and ``doc._.quote_records``
(plain ``Found`` records) and ``doc._.speaker_refs`` (mention range -> antecedent range).
Both subclass ``spacy.pipeline.Pipe``: ``__call__`` finds, then sets annotations; a failure
goes to the inherited error handler (``self.get_error_handler()``; spaCy's default re-raises).
``record_failure`` (``nlp.set_error_handler``, or ``record_failures(nlp)``) instead records
it on the doc (``doc._.quote_error``) and the pipeline goes on. ``quotes_attribution`` saves its lexicon
files with ``nlp.to_disk`` and reads them back in ``spacy.load``; the other settings live in
the pipeline's config.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc

from builder.propose.extract import Found, find_quotes
from builder.propose.lexicons import LEXICON_DIR, load_lexicons
from builder.propose.resolve import get_resolver

for _name in ("quote_records", "speaker_refs", "quote_error", "publisher"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

SPAN_KEYS = ("quotes", "cues", "speakers", "outlets")  # doc.spans keys, one per role of a Found record
LEXICONS = "lexicons"  # the folder quotes_attribution saves in its part of a pipeline folder


class QuotePipe(Pipe):
    """Base of the quote components: one doc at a time, failures to the error handler."""

    name: str

    def find(self, doc: Doc):
        raise NotImplementedError

    def set_annotations(self, doc: Doc, found) -> None:
        raise NotImplementedError

    def clear(self, doc: Doc) -> None:
        """Remove what a failed ``find`` may have left (the doc is then proposed as failed)."""

    def __call__(self, doc: Doc) -> Doc:
        try:
            self.set_annotations(doc, self.find(doc))
        except Exception as err:  # noqa: BLE001 - the error handler decides (default: re-raise)
            self.clear(doc)
            self.get_error_handler()(self.name, self, [doc], err)
        return doc


def record_failure(proc_name: str, proc, docs: list[Doc], error: Exception) -> None:
    """An error handler for ``nlp.set_error_handler``: a quote component's failure is written to
    ``doc._.quote_error`` (the proposal then carries it) and the pipeline goes on.

    Any other component's error is re-raised: spaCy drops a batch whose handler returns, so
    ``propose_docs`` retries that batch one document at a time and records the one that fails."""
    if not isinstance(proc, QuotePipe):
        raise error
    for doc in docs:
        doc._.quote_error = f"{proc_name}: {type(error).__name__}: {error}"


def record_failures(nlp: Language) -> None:
    """Give every quote component of ``nlp`` the ``record_failure`` handler. (Not with
    ``nlp.set_error_handler``: spaCy 3.8's parser and NER, cdef classes, cannot take one.)"""
    for _, proc in nlp.pipeline:
        if isinstance(proc, QuotePipe):
            proc.set_error_handler(record_failure)


class QuoteAttribution(QuotePipe):
    """Finds quotes and their attributions with the rule passes and the lexicons."""

    def __init__(self, nlp: Language, name: str = "quotes_attribution", lexicon_dir: str | None = None,
                 scope: str = "speech"):
        self.name = name
        self.lexicon_dir, self.scope = lexicon_dir, scope
        self.lexicons = load_lexicons(lexicon_dir, scope)

    def find(self, doc: Doc) -> list[Found]:
        return find_quotes(doc, self.lexicons, publisher=doc._.publisher)

    def set_annotations(self, doc: Doc, found: list[Found]) -> None:
        """``doc._.quote_records`` and one span group per role (also used by ``quotes_learned``)."""
        doc._.quote_records = found
        spans: dict[str, list] = {key: [] for key in SPAN_KEYS}
        for f in found:
            for key, rng in zip(SPAN_KEYS, (f.quote, f.cue, f.speaker, f.outlet)):
                if rng is None:
                    continue
                span = doc.char_span(rng[0], rng[1], label=f.quote_type if key == "quotes" else key[:-1],
                                     alignment_mode="expand")
                if span is not None:
                    spans[key].append(span)
        for key, value in spans.items():
            doc.spans[key] = value

    def clear(self, doc: Doc) -> None:
        doc._.quote_records = []

    def to_disk(self, path, exclude=tuple()) -> None:
        """Save the lexicon files in use (``lexicons/*.txt``), so a saved pipeline proposes the same."""
        target = Path(path) / LEXICONS
        target.mkdir(parents=True, exist_ok=True)
        for src in sorted(Path(self.lexicon_dir or LEXICON_DIR).glob("*.txt")):
            if src.resolve() != (target / src.name).resolve():
                shutil.copyfile(src, target / src.name)

    def from_disk(self, path, exclude=tuple()) -> "QuoteAttribution":
        """Read the lexicons ``to_disk`` saved (a folder without them keeps the configured ones)."""
        folder = Path(path) / LEXICONS
        if folder.is_dir():
            self.lexicon_dir = str(folder)
            self.lexicons = load_lexicons(self.lexicon_dir, self.scope)
        return self


class SpeakerResolver(QuotePipe):
    """Links each speaker mention to the fullest named mention of its source."""

    def __init__(self, nlp: Language, name: str = "quotes_resolver", resolver: str = "heuristic"):
        self.name = name
        self.resolve = get_resolver(resolver)

    def find(self, doc: Doc) -> dict[tuple[int, int], tuple[int, int]]:
        mentions = sorted({f.speaker for f in (doc._.quote_records or []) if f.speaker and not f.speaker_is_outlet})
        return self.resolve(doc, mentions)

    def set_annotations(self, doc: Doc, refs: dict[tuple[int, int], tuple[int, int]]) -> None:
        doc._.speaker_refs = refs

    def clear(self, doc: Doc) -> None:
        doc._.speaker_refs = {}


@Language.component("quotes_paragraphs")
def paragraph_sentences(doc: Doc) -> Doc:
    """Start a sentence after every line break, so that the parser never joins a headline or
    paragraph to the next one (add it before the parser)."""
    for tok in doc[1:]:
        prev = doc[tok.i - 1]
        if "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text):
            tok.is_sent_start = True
    return doc


@Language.factory("quotes_attribution", default_config={"lexicon_dir": None, "scope": "speech"})
def make_quote_attribution(nlp: Language, name: str, lexicon_dir: str | None, scope: str) -> QuoteAttribution:
    return QuoteAttribution(nlp, name, lexicon_dir, scope)


@Language.factory("quotes_resolver", default_config={"resolver": "heuristic"})
def make_speaker_resolver(nlp: Language, name: str, resolver: str) -> SpeakerResolver:
    return SpeakerResolver(nlp, name, resolver)
