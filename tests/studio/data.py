"""Test data for the Label Studio round trip: workspace Document and Proposal shards written
here (from ../shared/gold when present, else small invented articles), never by the proposer."""
from __future__ import annotations

import json
import signal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from builder.records.studio import regions_from_results
from builder.schema import arrow_schema, as_row

GOLD = Path(__file__).resolve().parents[3] / "shared" / "gold"
MODEL = "quotes.proposer.test+v1"


def as_from_a_terminal() -> None:
    """``preexec_fn`` of a command a test interrupts with SIGINT: Ctrl-C reaches it as it does from a
    terminal, also when the suite runs in the background (``make test &``), whose children inherit an
    ignored SIGINT (Python then installs no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


INVENTED = [
    ("inv-bridge", '"We will reopen the bridge by May," Mayor Lena Okafor said on Tuesday. '
                   'The harbour authority said that ferry fares would rise in June.'),
    ("inv-ferry", 'According to The Harbor Gazette, the ferry operator is for sale. '
                  '"Nothing is decided," a spokesman told Radio Nord.'),
]


def invented_results(text: str) -> list[dict]:
    """A Quote + Speaker + Cue proposal for the first quoted span of ``text``."""
    s = text.index('"') + 1
    e = text.index('"', s)
    sp = text.index("said") if "said" in text[e:] else text.index("told")
    res = [
        {"id": "q1", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": s, "end": e, "text": text[s:e], "labels": ["Quote"]}},
        {"id": "q1", "from_name": "quote_type", "to_name": "text", "type": "choices",
         "value": {"start": s, "end": e, "text": text[s:e], "choices": ["direct"]}},
        {"id": "c1", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": sp, "end": sp + 4, "text": text[sp:sp + 4], "labels": ["Cue"]}},
        {"from_id": "q1", "to_id": "c1", "type": "relation", "labels": ["cue"]},
    ]
    return res


def articles() -> list[dict]:
    """[{doc_id, text, publisher, results}] from the gold files, else invented ones."""
    out = []
    for f in sorted(GOLD.glob("*.json")) if GOLD.is_dir() else []:
        for task in json.loads(f.read_text()):
            res = task["annotations"][0]["result"]
            out.append({"doc_id": task["data"]["doc_id"], "text": task["data"]["text"],
                        "publisher": task["data"].get("publisher"), "results": res})
    if not out:
        out = [{"doc_id": d, "text": t, "publisher": "Test Wire", "results": invented_results(t)} for d, t in INVENTED]
    return out


def document_row(doc_id: str, text: str, publisher: str | None = None) -> dict:
    return {"doc_id": doc_id, "text": text, "title": f"title of {doc_id}", "publisher": publisher,
            "url": f"https://example.org/{doc_id}", "date": None, "source": f"{doc_id}.txt",
            "source_format": "txt", "source_position": None, "cluster_id": doc_id,
            "ingest_version": "quotes.ingest.v1"}


def proposal_row(doc_id: str, text: str, results: list[dict], model: str = MODEL) -> dict:
    regions, relations = regions_from_results(results, text)
    return {"doc_id": doc_id, "model_version": model, "regions": [as_row(g) for g in regions],
            "relations": [as_row(r) for r in relations], "error": None}


def write_shard(folder: Path, record: str, rows: list[dict], name: str = "00000.parquet") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(record)), folder / name)


def write_workspace(root: Path, arts: list[dict], batch: str = "b1", model: str = MODEL) -> None:
    """documents/<batch>/ and proposals/<batch>/ shards for ``arts``."""
    write_shard(root / "documents" / batch, "Document",
                [document_row(a["doc_id"], a["text"], a.get("publisher")) for a in arts])
    write_shard(root / "proposals" / batch, "Proposal",
                [proposal_row(a["doc_id"], a["text"], a["results"], model) for a in arts])


def synthetic(n: int, offset: int = 0) -> list[dict]:
    """``n`` small invented articles with one direct quote each."""
    out = []
    for i in range(offset, offset + n):
        text = (f'"Item {i} is on schedule," Officer {i} said. The board said that report {i} '
                f'would follow next week. Weather in town {i} stayed mild.')
        out.append({"doc_id": f"syn-{i:06d}", "text": text, "publisher": "Test Wire",
                    "results": invented_results(text)})
    return out
