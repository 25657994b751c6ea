"""Near-duplicate clustering compares a new record with a bounded number of representatives."""
from __future__ import annotations

import random

from builder.ingest import neardup
from builder.ingest.neardup import Index, bands_for, signature
from builder.ingest.pipeline import DEFAULT_THRESHOLD
from tests.test_ingest import story


def near_copies(count: int) -> list[str]:
    rnd = random.Random(5)
    words = story(5).split(" ")
    out = []
    for n in range(count):
        copy = list(words)
        for i in rnd.sample(range(len(copy)), 3):
            copy[i] = f"changed{n}"
        out.append(" ".join(copy))
    return out


def test_comparisons_per_record_do_not_grow_with_the_cluster(tmp_path, monkeypatch):
    calls = []
    real = neardup.similarity
    monkeypatch.setattr(neardup, "similarity", lambda a, b: calls.append(1) or real(a, b))
    index = Index(tmp_path / "index.sqlite", DEFAULT_THRESHOLD)
    clusters = set()
    texts = near_copies(120)
    for n, text in enumerate(texts):
        sig = signature(text)
        cluster = index.cluster_of(sig)
        index.add(f"d{n}", cluster or f"d{n}", "test", n, sig)
        clusters.add(cluster or f"d{n}")
    bands, _rows = bands_for(DEFAULT_THRESHOLD)
    assert clusters == {"d0"}  # one story, one cluster
    assert len(calls) <= bands * len(texts)  # at most one representative per band; before: ~n^2/2 = 7,140


def test_an_index_of_the_old_layout_is_migrated(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "index.sqlite")
    db.executescript("""
        CREATE TABLE docs (doc_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, source TEXT NOT NULL,
                           position INTEGER, signature BLOB NOT NULL);
        CREATE TABLE bands (band INTEGER NOT NULL, key INTEGER NOT NULL, doc_id TEXT NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);""")
    text = near_copies(2)
    db.execute("INSERT INTO docs VALUES ('a', 'a', 's', 1, ?)", (signature(text[0]),))
    db.execute("INSERT INTO meta VALUES ('threshold', ?)", (repr(DEFAULT_THRESHOLD),))
    db.commit()
    db.close()
    index = Index(tmp_path / "index.sqlite", DEFAULT_THRESHOLD)
    assert index.cluster_of(signature(text[1])) == "a"
