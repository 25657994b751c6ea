"""Fuzz: a seeded generator builds a folder of mixed good and bad inputs; every input record is
ingested, marked a duplicate, or rejected with a reason -- the three counts add up to the inputs."""
from __future__ import annotations

import gzip
import io
import json
import os
import random
from collections import Counter
from pathlib import Path

import pytest

from builder.ingest import ingest
from builder.store import read_rows
from tests.test_bad_input import gz_warc
from tests.test_ingest import cfg, story


def _txt(rnd, folder, n, texts):
    text = story(rnd.randrange(10**6))
    texts.append(text)
    (folder / f"{n}.txt").write_text(text, encoding="utf-8")
    return 1


def _duplicate(rnd, folder, n, texts):
    if not texts:
        return _txt(rnd, folder, n, texts)
    (folder / f"{n}-copy.txt").write_text(rnd.choice(texts), encoding="utf-8")
    return 1


def _near_duplicate(rnd, folder, n, texts):
    base = rnd.choice(texts) if texts else story(n)
    (folder / f"{n}-near.txt").write_text(base.replace("said", "says", 1) + " Updated.", encoding="utf-8")
    return 1


def _latin1(rnd, folder, n, texts):
    text = f"Le café {n} a été présenté, dit le maire. " * 8
    (folder / f"{n}-latin1.txt").write_bytes(text.encode("latin-1"))
    return 1


def _binary(rnd, folder, n, texts):
    (folder / f"{n}-binary.txt").write_bytes(bytes(rnd.randrange(256) for _ in range(600)))
    return 1


def _short(rnd, folder, n, texts):
    (folder / f"{n}-short.txt").write_text("Too short.", encoding="utf-8")
    return 1


def _empty(rnd, folder, n, texts):
    (folder / f"{n}-empty{rnd.choice(['.txt', '.jsonl', '.html'])}").write_bytes(b"")
    return 1


def _unsupported(rnd, folder, n, texts):
    (folder / f"{n}.pdf").write_bytes(b"%PDF-1.4")
    return 1


def _html(rnd, folder, n, texts):
    body = "".join(f"<p>{p}</p>" for p in story(rnd.randrange(10**6)).split("\n\n"))
    page = rnd.choice([f"<html><head><title>T{n}</title></head><body><article>{body}</article></body></html>",
                       "<html><body><nav>Home</nav></body></html>"])
    (folder / f"{n}.html").write_text(page, encoding="utf-8")
    return 1


def _jsonl(rnd, folder, n, texts):
    lines = []
    for i in range(rnd.randint(1, 6)):
        kind = rnd.choice(["good", "good", "malformed", "no_text", "title_object", "array", "huge_number"])
        if kind == "good":
            lines.append(json.dumps({"text": story(rnd.randrange(10**6)), "title": f"t{i}"}))
        elif kind == "malformed":
            lines.append('{"text": "unterminated')
        elif kind == "no_text":
            lines.append(json.dumps({"body": "x"}))
        elif kind == "title_object":
            lines.append(json.dumps({"text": story(rnd.randrange(10**6)), "title": {"a": 1}}))
        elif kind == "array":
            lines.append("[1, 2]")
        else:
            lines.append(json.dumps({"text": story(rnd.randrange(10**6)), "date": 20240101}))
    (folder / f"{n}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def _warc(rnd, folder, n, texts):
    pages = rnd.randint(1, 3)
    data = gz_warc(pages)
    if rnd.random() < 0.5:
        (folder / f"{n}.warc.gz").write_bytes(data)
        return pages
    cut = rnd.randrange(1, len(data))
    (folder / f"{n}-cut.warc.gz").write_bytes(data[:cut])
    from builder.ingest.readers import read_warc

    return len(list(read_warc(str(folder / f"{n}-cut.warc.gz"), cfg())))  # whole records + the malformed_warc


def _fifo(rnd, folder, n, texts):
    os.mkfifo(folder / f"{n}-pipe.txt")
    return 1


def _dangling(rnd, folder, n, texts):
    os.symlink(folder / f"{n}-missing.txt", folder / f"{n}-link.txt")
    return 1


def _gzip_not_warc(rnd, folder, n, texts):
    (folder / f"{n}.warc.gz").write_bytes(gzip.compress(b"not a warc at all\r\n\r\n"))
    return 1


MAKERS = [_txt, _txt, _duplicate, _near_duplicate, _latin1, _binary, _short, _empty, _unsupported, _html,
          _jsonl, _warc, _fifo, _dangling, _gzip_not_warc]


def build(folder: Path, seed: int, count: int) -> tuple[int, Counter]:
    """``count`` generated inputs in ``folder``; the number of input records they hold."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True)
    texts: list[str] = []
    records, kinds = 0, Counter()
    for n in range(count):
        make = rnd.choice(MAKERS)
        kinds[make.__name__] += 1
        records += make(rnd, folder, n, texts)
    return records, kinds


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_input_is_ingested_duplicate_or_rejected(tmp_path, seed):
    records, kinds = build(tmp_path / "in", seed, 40)
    ws = tmp_path / "ws"
    summary = ingest([tmp_path / "in"], ws, cfg(), progress=False)
    assert summary.ingested + summary.duplicates + summary.total_rejected == records, (summary, kinds)
    listed = [json.loads(x) for x in (ws / "rejects.jsonl").read_text().splitlines()]
    assert len(listed) == summary.duplicates + summary.total_rejected
    assert all(r["reason"] and r["hint"] for r in listed)
    documents = list(read_rows(str(ws / "documents"), columns=["source", "text"]))
    assert len(documents) == summary.ingested
    assert not any("Ã" in d["text"] or "\ufffd" in d["text"] for d in documents)  # no mojibake stored
    sources = {d["source"] for d in documents} | {r["source"] for r in listed}
    for entry in (tmp_path / "in").iterdir():  # every input file is accounted for
        assert str(entry.resolve()) in sources or str(entry.absolute()) in sources, entry
    again = ingest([tmp_path / "in"], ws, cfg(), progress=False)  # a re-run lists nothing twice
    assert again.newly_listed == 0 and again.ingested == 0
    assert len((ws / "rejects.jsonl").read_text().splitlines()) == len(listed)
