"""Near-duplicate detection: MinHash signatures (datasketch) and a persistent LSH index in SQLite.

The index keeps, for every document in the workspace, its id, cluster, provenance and
signature, and for every cluster the LSH band keys of its members -- each (band, key) once per
cluster, with the first member that had it as the cluster's representative for that key --
on disk: memory stays flat however large the workspace grows, and each run only adds what
is new. A new document is compared with those representatives only, at most one per band and
cluster, so the cost of clustering does not grow with the size of a cluster (8,000 copies of
one story cost 8x one thousand, not 64x: ``bench/ingest.py --neardup``).
"""
from __future__ import annotations

import hashlib
import sqlite3
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from builder.ingest.text import shingles

NUM_PERM = 128
SEED = 1
SCHEME = "affine32"  # 32-bit hash values: stored as uint32


def signature(text: str, num_perm: int = NUM_PERM) -> bytes:
    """The MinHash signature of ``text``'s word 3-grams (CRC-32 hashed), as ``num_perm`` little-endian uint32."""
    from datasketch import MinHash

    # CRC-32: stable across processes, and fast; permutations drawn once per process
    m = MinHash(num_perm=num_perm, hashfunc=zlib.crc32, permutations=_permutations(num_perm), scheme=SCHEME)
    grams = shingles(text)
    if grams:
        m.update_batch(grams)
    return m.hashvalues.astype("<u4").tobytes()


@cache
def _permutations(num_perm: int):
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=SEED, scheme=SCHEME).permutations


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4")))


@cache
def bands_for(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows) that best separate pairs above and below ``threshold``."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def band_keys(sig: bytes, threshold: float) -> list[tuple[int, int]]:
    """(band, key) pairs of a signature: documents sharing one are near-duplicate candidates."""
    bands, rows = bands_for(threshold, len(sig) // 4)
    width = rows * 4
    return [(b, int.from_bytes(hashlib.blake2b(sig[b * width:(b + 1) * width], digest_size=8).digest(),
                               "little", signed=True)) for b in range(bands)]


@dataclass(slots=True)
class Known:
    """A document already in the workspace."""

    doc_id: str
    cluster_id: str
    source: str
    position: int | None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, source TEXT NOT NULL,
                                 position INTEGER, signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cluster_bands (band INTEGER NOT NULL, key INTEGER NOT NULL, cluster_id TEXT NOT NULL,
                                          doc_id TEXT NOT NULL, PRIMARY KEY (band, key, cluster_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Index:
    """Every ingested document of a workspace, with LSH band keys, in one SQLite file (rejects are listed once
    by the workspace's reject writer, ``builder.workspace.rejects``)."""

    def __init__(self, path: str | Path, threshold: float):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.threshold = threshold
        self.db = sqlite3.connect(str(path))
        self.db.executescript(_SCHEMA)
        self._migrate()
        row = self.db.execute("SELECT value FROM meta WHERE key = 'threshold'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('threshold', ?)", (repr(threshold),))
        elif float(row[0]) != threshold:
            self.db.close()
            raise ValueError(f"the near-duplicate index {path} was built with threshold {row[0]}, not {threshold}: "
                             "set [ingest] near_duplicate_threshold back, or delete the index to rebuild it")

    def _migrate(self) -> None:
        """An index written before cluster_bands: its per-document band rows become per-cluster ones."""
        old = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bands'").fetchone()
        if old is None:
            return
        threshold = self.db.execute("SELECT value FROM meta WHERE key = 'threshold'").fetchone()
        if threshold is not None:
            for doc_id, cluster_id, sig in self.db.execute(
                    "SELECT doc_id, cluster_id, signature FROM docs ORDER BY rowid").fetchall():
                self._add_bands(doc_id, cluster_id, sig, float(threshold[0]))
        self.db.execute("DROP TABLE bands")
        self.db.commit()

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is None

    def known(self, doc_id: str) -> Known | None:
        row = self.db.execute("SELECT doc_id, cluster_id, source, position FROM docs WHERE doc_id = ?",
                              (doc_id,)).fetchone()
        return Known(*row) if row else None

    def cluster_of(self, sig: bytes) -> str | None:
        """The cluster of the most similar representative at or above the threshold, if any.

        Candidates are the representatives of the clusters sharing a band key with ``sig``:
        at most one per band and cluster, however many members a cluster has.
        """
        best: tuple[float, str] | None = None
        candidates: dict[str, str] = {}
        for band, key in band_keys(sig, self.threshold):
            for cluster_id, doc_id in self.db.execute(
                    "SELECT cluster_id, doc_id FROM cluster_bands WHERE band = ? AND key = ?", (band, key)):
                candidates[doc_id] = cluster_id
        for doc_id in sorted(candidates):
            (other,) = self.db.execute("SELECT signature FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
            score, cluster_id = similarity(sig, other), candidates[doc_id]
            if score >= self.threshold and (best is None or (-score, cluster_id) < (-best[0], best[1])):
                best = (score, cluster_id)
        return best[1] if best else None

    def _add_bands(self, doc_id: str, cluster_id: str, sig: bytes, threshold: float) -> None:
        self.db.executemany("INSERT OR IGNORE INTO cluster_bands VALUES (?, ?, ?, ?)",
                            [(b, k, cluster_id, doc_id) for b, k in band_keys(sig, threshold)])

    def add(self, doc_id: str, cluster_id: str, source: str, position: int | None, sig: bytes) -> None:
        self.db.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", (doc_id, cluster_id, source, position, sig))
        self._add_bands(doc_id, cluster_id, sig, self.threshold)

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.close()
