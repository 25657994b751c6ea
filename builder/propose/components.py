"""spaCy components: ``quotes_attribution`` (quotes, cues, speakers, outlets) and
``quotes_resolver`` (speaker -> fullest named mention).

They write ``doc.spans["quotes"|"cues"|"speakers"|"outlets"]`` and ``doc._.quote_records``
(plain ``Found`` records) and ``doc._.speaker_refs`` (mention range -> antecedent range).
Finding is separate from setting annotations; a failure goes to a swappable error handler
(default: re-raise) so a caller can record the document and go on.
"""
from __future__ import annotations

from typing import Callable

from spacy.language import Language
from spacy.tokens import Doc

from builder.propose.extract import Found, find_quotes
from builder.propose.lexicons import load_lexicons
from builder.propose.resolve import get_resolver

for _name, _default in (("quote_records", None), ("speaker_refs", None), ("quote_error", None), ("publisher", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


def raise_error(name: str, component, doc: Doc, error: Exception) -> None:
    raise error


class QuoteAttribution:
    """Finds quotes and their attributions; set ``error_handler`` to keep going on failures."""

    def __init__(self, nlp: Language, name: str, lexicon_dir: str | None = None, scope: str = "speech"):
        self.name = name
        self.lexicon_dir, self.scope = lexicon_dir, scope
        self.lexicons = load_lexicons(lexicon_dir, scope)
        self.error_handler: Callable = raise_error

    def to_disk(self, path, exclude=tuple()) -> None:
        """Save the lexicon files in use (``lexicons/*.txt``), so a saved pipeline proposes the same."""
        import shutil
        from pathlib import Path

        from builder.propose.lexicons import LEXICON_DIR

        target = Path(path) / "lexicons"
        target.mkdir(parents=True, exist_ok=True)
        for src in sorted(Path(self.lexicon_dir or LEXICON_DIR).glob("*.txt")):
            shutil.copyfile(src, target / src.name)

    def from_disk(self, path, exclude=tuple()) -> "QuoteAttribution":
        from pathlib import Path

        folder = Path(path) / "lexicons"
        if folder.is_dir():
            self.lexicon_dir = str(folder)
            self.lexicons = load_lexicons(self.lexicon_dir, self.scope)
        return self

    def set_error_handler(self, handler: Callable) -> None:
        self.error_handler = handler

    def find(self, doc: Doc) -> list[Found]:
        return find_quotes(doc, self.lexicons, publisher=doc._.publisher)

    def set_annotations(self, doc: Doc, found: list[Found]) -> None:
        doc._.quote_records = found
        spans = {"quotes": [], "cues": [], "speakers": [], "outlets": []}
        for f in found:
            for key, rng in (("quotes", f.quote), ("cues", f.cue), ("speakers", f.speaker), ("outlets", f.outlet)):
                if rng is None:
                    continue
                span = doc.char_span(rng[0], rng[1], label=f.quote_type if key == "quotes" else key[:-1],
                                     alignment_mode="expand")
                if span is not None:
                    spans[key].append(span)
        for key, value in spans.items():
            doc.spans[key] = value

    def __call__(self, doc: Doc) -> Doc:
        try:
            self.set_annotations(doc, self.find(doc))
        except Exception as err:  # noqa: BLE001 - handed to the handler
            doc._.quote_records = []
            doc._.quote_error = f"{self.name}: {type(err).__name__}: {err}"
            self.error_handler(self.name, self, doc, err)
        return doc


class SpeakerResolver:
    """Links each speaker mention to the fullest named mention of its source."""

    def __init__(self, nlp: Language, name: str, resolver: str = "heuristic"):
        self.name = name
        self.resolve = get_resolver(resolver)
        self.error_handler: Callable = raise_error

    def set_error_handler(self, handler: Callable) -> None:
        self.error_handler = handler

    def __call__(self, doc: Doc) -> Doc:
        try:
            mentions = sorted({f.speaker for f in (doc._.quote_records or []) if f.speaker and not f.speaker_is_outlet})
            doc._.speaker_refs = self.resolve(doc, mentions)
        except Exception as err:  # noqa: BLE001
            doc._.speaker_refs = {}
            doc._.quote_error = f"{self.name}: {type(err).__name__}: {err}"
            self.error_handler(self.name, self, doc, err)
        return doc


@Language.component("quotes_paragraphs")
def paragraph_sentences(doc: Doc) -> Doc:
    """Start a sentence after every line break, so that the parser never joins a headline or
    paragraph to the next one (add it before the parser)."""
    for tok in doc[1:]:
        prev = doc[tok.i - 1]
        if "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text):
            tok.is_sent_start = True
        elif tok.is_sent_start is None or tok.is_sent_start:
            pass
    return doc


@Language.factory("quotes_attribution", default_config={"lexicon_dir": None, "scope": "speech"})
def make_quote_attribution(nlp: Language, name: str, lexicon_dir: str | None, scope: str) -> QuoteAttribution:
    return QuoteAttribution(nlp, name, lexicon_dir, scope)


@Language.factory("quotes_resolver", default_config={"resolver": "heuristic"})
def make_speaker_resolver(nlp: Language, name: str, resolver: str) -> SpeakerResolver:
    return SpeakerResolver(nlp, name, resolver)
