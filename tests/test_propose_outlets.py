"""Outlet families of the proposer, each on invented sentences; the publisher and wire rules;
the outlet development set and its recall; the lexicon derivation."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from builder.propose.outlets import is_own_outlet, wire_of


@pytest.fixture(scope="module")
def nlp():
    from builder.propose import load_pipeline
    return load_pipeline()


def attributions(nlp, text, publisher=None):
    """(quote, speaker, outlet, speaker is outlet, platform) per proposed quote, as texts."""
    doc = nlp.make_doc(text)
    doc._.publisher = publisher
    doc = nlp(doc)
    t = doc.text
    get = lambda r: t[r[0]:r[1]] if r else None  # noqa: E731
    return [(get(f.quote), get(f.speaker), get(f.outlet), f.speaker_is_outlet, f.outlet_platform)
            for f in doc._.quote_records]


def one(nlp, text, publisher=None):
    found = attributions(nlp, text, publisher)
    assert found, text
    return found[0]


# -- an outlet that reports with its own sources ------------------------------------------

def test_outlet_reported_citing_sources(nlp):
    q, speaker, outlet, is_outlet, _ = one(nlp, "The Guardian reported on Friday, citing three diplomats, that the summit was off.")
    assert q == "the summit was off" and speaker == "three diplomats" and outlet == "The Guardian" and not is_outlet


def test_outlet_citing_officials_said(nlp):
    _, speaker, outlet, is_outlet, _ = one(nlp, "Reuters, citing port officials, said the ship had left the harbour.")
    assert speaker == "port officials" and outlet == "Reuters" and not is_outlet


def test_a_report_in_and_according_to_a_report_by(nlp):
    _, speaker, outlet, is_outlet, _ = one(nlp, "A report in the Financial Times said the lender would close forty branches.")
    assert outlet == "the Financial Times" and speaker == outlet and is_outlet
    _, speaker, outlet, is_outlet, _ = one(nlp, "According to a report by Politico, the committee will meet again in June.")
    assert outlet == "Politico" and is_outlet


def test_outlet_first_reported_is_the_only_source(nlp):
    q, speaker, outlet, is_outlet, _ = one(nlp, "The Wall Street Journal first reported that the carmaker was weighing a sale.")
    assert q == "the carmaker was weighing a sale" and speaker == outlet == "The Wall Street Journal" and is_outlet


# -- broadcast and interviews ---------------------------------------------------------------

def test_told_and_speaking_to_a_broadcaster(nlp):
    assert one(nlp, '"We will not back down," the minister told Sky News on Sunday.')[2] == "Sky News"
    assert one(nlp, "Speaking to LBC, the councillor said the depot would be rebuilt.")[2] == "LBC"


def test_programme_names_are_outlets(nlp):
    assert one(nlp, '"The harvest was poor," Mark Ellis told Good Morning Britain.')[2] == "Good Morning Britain"
    assert one(nlp, "Senator Ann Ruiz said on Meet the Press that the bill had the votes.")[2] == "Meet the Press"


def test_later_paragraphs_of_an_interview_inherit_its_outlet(nlp):
    text = ("In an interview with the BBC, Jane Porter said the merger was finished.\n\n"
            '"It is over," Porter said.\n\n"We tried everything," she added.\n\n'
            '"Nobody asked us," said Tom Reed, a union official.\n')
    found = attributions(nlp, text)
    outlets = {q: o for q, _, o, _, _ in found}
    assert outlets["the merger was finished"] == outlets["It is over,"] == outlets["We tried everything,"] == "the BBC"
    assert outlets["Nobody asked us,"] is None


# -- journalists with their outlet -------------------------------------------------------------

@pytest.mark.parametrize("text", [
    '"This is a disaster," tweets Tom Baker of The Independent.',
    '"The deal is dead," writes Sarah Jones of The Independent.',
    "Sarah Jones of The Independent reports that the pier will be sold.",
    "The Independent's Sarah Jones said the pier would be sold.",
])
def test_journalist_of_an_outlet(nlp, text):
    _, speaker, outlet, is_outlet, _ = one(nlp, text)
    assert speaker == "Sarah Jones" or speaker == "Tom Baker"
    assert outlet == "The Independent" and not is_outlet


# -- anaphoric outlets ----------------------------------------------------------------------

def test_the_newspaper_and_the_network_resolve_to_the_named_outlet(nlp):
    text = ("The New York Times reported that the talks had stalled. The newspaper said the envoy had left "
            "the city.\n\nCNN aired the footage on Monday. The network said the footage was authentic.\n")
    found = {q: (s, o, io) for q, s, o, io, _ in attributions(nlp, text)}
    assert found["the envoy had left the city"] == ("The newspaper", "The New York Times", True)
    assert found["the footage was authentic"] == ("The network", "CNN", True)


def test_short_form_after_the_full_name(nlp):
    text = ("The Washington Post reported that the mayor had resigned.\n\n"
            "The Post said the council would meet on Tuesday.\n")
    found = {q: o for q, _, o, _, _ in attributions(nlp, text)}
    assert found["the council would meet on Tuesday"] == "The Washington Post"


# -- platforms, and never the article's own publisher -------------------------------------------

def test_platform_is_an_outlet_kept_apart(nlp):
    q, speaker, outlet, _, platform = one(nlp, "Ivan Petrov said the vote could be swayed, in a clip shared on X.")
    assert q == "the vote could be swayed" and outlet == "X" and platform
    from builder.propose.lexicons import load_lexicons
    lex = load_lexicons()
    assert "X" in lex.platforms and "X" not in lex.outlets and "YouTube" not in lex.outlets


def test_remark_placed_in_a_clip_gives_the_quote_before_it_its_outlet(nlp):
    text = ('Guests on a talk show said the summit was "an excellent way" to win votes.\n\n'
            "The remark was made by Ivan Petrov in a clip shared on X.\n\n"
            '"Mark my words, it will work," said Petrov.\n')
    found = {q: o for q, _, o, _, _ in attributions(nlp, text)}
    assert all(o == "X" for o in found.values()) and len(found) == 2


def test_publisher_and_wire_are_never_relays(nlp):
    text = "The mayor told The Washington Post that the budget was balanced."
    assert one(nlp, text)[2] == "The Washington Post"
    assert one(nlp, text, publisher="wash-post")[2] is None
    assert one(nlp, text, publisher="The Washington Post")[2] is None
    wire = "WASHINGTON (AP) — The senator told The Associated Press that she would run again.\n"
    assert one(nlp, wire)[2] is None
    assert one(nlp, "The Post reported that the mayor resigned.", publisher="wash-post")[3] is False


def test_is_own_outlet_and_wire_of():
    assert is_own_outlet("The Post", "wash-post") and is_own_outlet("The New York Times", "nyt")
    assert is_own_outlet("the Times", "nyt") and is_own_outlet("USA Today", "usa-today")
    assert is_own_outlet("The Washington Post", "The Washington Post")
    assert not is_own_outlet("CNN", "wash-post") and not is_own_outlet("The Guardian", "nyt")
    assert not is_own_outlet("Fox News", None)
    assert wire_of("LONDON (Reuters) - Prices rose.") == "Reuters"
    assert wire_of("Text.\n\nCopyright 2016 The Associated Press. All rights reserved.") == "Associated Press"
    assert wire_of("The Associated Press reported that prices rose.") is None


def test_publisher_flows_through_propose_texts():
    from builder.propose import propose_texts

    text = "The mayor told The Washington Post that the budget was balanced."
    plain, own = propose_texts([text, text], ["a", "b"], publishers=[None, "wash-post"])
    assert any(r.label == "Outlet" for r in plain.regions)
    assert not any(r.label == "Outlet" for r in own.regions)


# -- the outlet development set -------------------------------------------------------------

BRAT_TEXT = ("CNN reported that the senator would retire. The network said she had told aides in May.\n\n"
             "Mayor Lee said the road would reopen.\n")


def _brat(tmp_path: Path) -> Path:
    folder = tmp_path / "brat"
    (folder / "text").mkdir(parents=True)
    (folder / "attributions").mkdir()
    (folder / "text" / "a.txt").write_text(BRAT_TEXT, encoding="utf-8")

    def span(tid, label, needle):
        s = BRAT_TEXT.index(needle)
        return f"{tid}\t{label} {s} {s + len(needle)}\t{needle}"

    lines = [span("T1", "Source", "CNN"), span("T2", "Cue", "reported"),
             span("T3", "Content", "that the senator would retire"),
             span("T4", "Source", "The network"), span("T5", "Cue", "said"),
             span("T6", "Content", "she had told aides in May"),
             span("T7", "Source", "Mayor Lee"), span("T8", "Content", "the road would reopen"),
             "E1\tAttribution:T2 Source:T1 Cue:T2 Content:T3", "E2\tAttribution:T5 Source:T4 Cue:T5 Content:T6",
             "E3\tAttribution:T8 Source:T7 Content:T8"]
    (folder / "attributions" / "a_x.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_outlet_cases_and_recall(tmp_path):
    from builder.evaluate import load_gold
    from builder.evaluate.outlets import outlet_cases, outlet_recall
    from builder.evaluate.run import propose_gold

    gold = load_gold([_brat(tmp_path)])
    cases = outlet_cases(gold)
    assert [(c.source.text, c.outlet) for c in cases] == [("CNN", "cnn"), ("The network", "cnn")]
    preds = propose_gold(gold, {}, scope="auto")
    res = outlet_recall(cases, preds)
    assert res.cases == 2 and res.found == 2 and res.recall == 1.0


def test_cli_outlet_set(tmp_path):
    quotes = Path(sys.executable).parent / "quotes"
    out = tmp_path / "out.json"
    res = subprocess.run([str(quotes), "eval", "--gold", str(_brat(tmp_path)), "--outlet-set", "--json", str(out),
                          "--no-spacy", "--overall-only"], capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    assert "outlet set: outlet recall 100.0 (2/2)" in res.stdout
    assert json.loads(out.read_text())["outlet_set"]["found"] == 2


def test_derive_outlets_keeps_media_contexts(nlp, tmp_path):
    from builder.propose.derive import candidates

    texts = [("a", "Jane Doe, a reporter for the Evening Courier, said the road was closed. The Evening Courier "
                   "reported the fire first."),
             ("b", "A story in the Evening Courier said the mill would close. The Ministry of Health said nothing.")]
    from builder.propose.derive import keep

    found = candidates(texts, nlp, frozenset({"News"}))
    assert found["Evening Courier"] == {"role": {"a"}, "media": {"a", "b"}}
    assert keep("Evening Courier", found["Evening Courier"], frozenset({"News"}), frozenset())
    assert "Ministry of Health" not in found
    assert not keep("Hill", {"role": {"a"}, "media": {"a", "b"}}, frozenset(), frozenset({"The Hill"}))


def test_as_outlet_reported_and_quoted_as_saying(nlp):
    q, speaker, outlet, is_outlet, _ = one(nlp, "As The Hill reported, the senator was also accused of breaking the rules.")
    assert q == "the senator was also accused of breaking the rules" and outlet == "The Hill" and is_outlet
    q, speaker, outlet, is_outlet, _ = one(nlp, "The Associated Press quoted a local farmer as saying that the river "
                                               "had never been so low.")
    assert q == "the river had never been so low" and speaker == "a local farmer"
    assert outlet == "The Associated Press" and not is_outlet


def test_headline_of_an_outlet_is_said_and_relayed_by_it():
    from builder.propose import load_pipeline

    broad = load_pipeline(scope="broad")  # "Name: statement" lines are attributions in the broad scope
    found = attributions(broad, "Yahoo News: The Mayor Is Losing The City Council Vote Again\n\nThe mayor spoke.\n")
    assert found and found[0][1] == found[0][2] == "Yahoo News" and found[0][3]


def test_speech_relayed_by_another_cue_or_according_to_an_outlet(nlp):
    assert one(nlp, 'When asked, Ann Lee said: "There will always be exceptions," the Times reported.')[1:3] == (
        "Ann Lee", "the Times")
    assert one(nlp, '"When does it stop?" the judge said, according to the Post.')[1:3] == ("the judge", "the Post")
    found = {q: rest for q, *rest in attributions(nlp, "The mayor said the road would reopen, according to the Post.")}
    assert found["the road would reopen"][:3] == ["The mayor", "the Post", False]


def test_description_resolves_to_a_titled_name_only_when_definite_and_singular(nlp):
    from builder.propose import propose_texts
    from builder.records.scheme import linked_quotes

    text = ("Report: Ann Lee To Visit Paris\n\nAccording to recent reports, Ann Lee will visit Paris in May.\n\n"
            "The spokesman for the ministry, Alan Price, said the staff would move. "
            '"Nobody will lose a job," the spokesman said.\n')
    prop = propose_texts([text], ["d"], nlp=nlp)[0]
    names = {q.quote.text: q.name.text if q.name else None for q in linked_quotes(prop.regions, prop.relations)}
    assert names["Ann Lee will visit Paris in May"] == "recent reports"
    assert names["Nobody will lose a job,"] == "Alan Price"


def test_rule_passes_are_registered_by_name_and_scope(monkeypatch):
    from builder.propose import rules
    from builder.propose.extract import Found

    speech = [p.name for p in rules.passes_for("speech")]
    broad = [p.name for p in rules.passes_for("broad")]
    assert speech == ["quotes.rules.verb_clauses.v1", "quotes.rules.according.v1", "quotes.rules.colon_paragraphs.v1"]
    assert broad[:3] == speech and "quotes.rules.noun_cues.v1" in broad and "quotes.rules.noun_cues.v1" not in speech
    monkeypatch.setattr(rules, "PASSES", dict(rules.PASSES))

    @rules.register("test.rules.every_doc.v1", scope="broad")
    def every_doc(ctx, directs):
        return [Found(quote=(0, 3), quote_type="indirect", kind="test")]

    assert rules.passes_for("broad")[-1].run is every_doc and every_doc not in [p.run for p in rules.passes_for("speech")]
    with pytest.raises(ValueError):
        rules.register("x", scope="nope")


def test_an_organisation_named_like_a_newspaper_is_an_outlet_without_the_lexicon(nlp):
    """A paper in no lexicon ("The Daily Courier") is an outlet by its media word."""
    _, speaker, outlet, is_outlet, _ = one(nlp, '"We will not back down," tweets Jane Holloway of The Daily Courier.')
    assert speaker == "Jane Holloway" and outlet == "The Daily Courier" and not is_outlet
