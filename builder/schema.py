"""Records derived from ``schemas/*.json``, the single source of truth.

Each JSON file names a record, its registered version and its fields. From it
we derive, and never write by hand elsewhere:

* a slotted dataclass (``record_class("Document")``),
* a pyarrow schema (``arrow_schema("Document")``),
* a Hugging Face ``Features`` (``hf_features("Document")``),
* the ``dataset_info.features`` YAML block of a dataset card (``card_features``).

Field types: ``string``, ``bool``, ``int32``, ``int64``, ``float32``,
``float64``, ``{"list": T}``, ``{"class_label": [names]}`` (a ``datasets.ClassLabel``,
int64 in arrow) and the name of another record (a struct).
"""
from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
if not SCHEMA_DIR.is_dir():  # installed as a wheel: schemas ship inside the package
    SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

_SCALARS = {
    "string": (pa.string(), str),
    "bool": (pa.bool_(), bool),
    "int32": (pa.int32(), int),
    "int64": (pa.int64(), int),
    "float32": (pa.float32(), float),
    "float64": (pa.float64(), float),
}


@cache
def load(name: str) -> dict[str, Any]:
    """The raw schema of record ``name`` (e.g. ``"Document"``)."""
    for path in SCHEMA_DIR.glob("*.json"):
        spec = json.loads(path.read_text(encoding="utf-8"))
        if spec["name"] == name:
            return spec
    raise KeyError(f"no schema named {name!r} in {SCHEMA_DIR}")


def names() -> list[str]:
    return sorted(json.loads(p.read_text("utf-8"))["name"] for p in SCHEMA_DIR.glob("*.json"))


def fields(name: str) -> list[dict[str, Any]]:
    return load(name)["fields"]


def _is_class_label(t: Any) -> bool:
    return isinstance(t, dict) and "class_label" in t


def _arrow_type(t: Any) -> pa.DataType:
    if _is_class_label(t):
        return pa.int64()  # what datasets.ClassLabel stores
    if isinstance(t, dict):
        return pa.list_(_arrow_type(t["list"]))
    if t in _SCALARS:
        return _SCALARS[t][0]
    return pa.struct([_arrow_field(f) for f in fields(t)])


def _arrow_field(f: dict[str, Any]) -> pa.Field:
    return pa.field(f["name"], _arrow_type(f["type"]), nullable=f.get("nullable", False))


@cache
def arrow_schema(name: str) -> pa.Schema:
    spec = load(name)
    return pa.schema(
        [_arrow_field(f) for f in spec["fields"]],
        metadata={"quotes.schema": spec["version"]},
    )


def _hf_type(t: Any):
    from datasets import ClassLabel, List, Value

    if _is_class_label(t):
        return ClassLabel(names=list(t["class_label"]))
    if isinstance(t, dict):
        return List(_hf_type(t["list"]))
    if t in _SCALARS:
        return Value(t)
    return {f["name"]: _hf_type(f["type"]) for f in fields(t)}


def hf_features(name: str):
    """``datasets.Features`` for record ``name``."""
    from datasets import Features

    return Features({f["name"]: _hf_type(f["type"]) for f in fields(name)})


def _card_type(t: Any) -> Any:
    if _is_class_label(t):
        return {"class_label": {"names": {str(i): n for i, n in enumerate(t["class_label"])}}}
    if isinstance(t, dict):
        return {"list": _card_type(t["list"])}
    if t in _SCALARS:
        return t
    return [{"name": f["name"], **_card_dtype(f["type"])} for f in fields(t)]


def _card_dtype(t: Any) -> dict[str, Any]:
    inner = _card_type(t)
    if isinstance(inner, str) or _is_class_label(inner):
        return {"dtype": inner}
    if isinstance(inner, dict):
        return inner
    return {"struct": inner}


def card_features(name: str) -> list[dict[str, Any]]:
    """The ``dataset_info.features`` list of a dataset card for record ``name``."""
    return [{"name": f["name"], **_card_dtype(f["type"])} for f in fields(name)]


def class_names(name: str, field_name: str) -> list[str]:
    """The ``ClassLabel`` names of field ``field_name`` of record ``name`` (of its list items too)."""
    for f in fields(name):
        if f["name"] == field_name:
            t = f["type"]
            while isinstance(t, dict) and "list" in t:
                t = t["list"]
            if _is_class_label(t):
                return list(t["class_label"])
            raise KeyError(f"{name}.{field_name} is not a class label")
    raise KeyError(f"no field {field_name!r} in {name}")


@cache
def _class_ids(name: str, field_name: str) -> dict[str, int]:
    return {n: i for i, n in enumerate(class_names(name, field_name))}


def class_id(name: str, field_name: str, value: str) -> int:
    """The integer a ``ClassLabel`` field stores for ``value`` (``KeyError`` if unknown)."""
    try:
        return _class_ids(name, field_name)[value]
    except KeyError:
        raise KeyError(f"{value!r} is not one of {class_names(name, field_name)} ({name}.{field_name})") from None


def _py_type(t: Any) -> Any:
    if _is_class_label(t):
        return int
    if isinstance(t, dict):
        return list
    if t in _SCALARS:
        return _SCALARS[t][1]
    return dict


@cache
def record_class(name: str) -> type:
    """A slotted dataclass with the record's fields (nullable ones default to None)."""
    spec = load(name)
    required, optional = [], []
    for f in spec["fields"]:
        typ = _py_type(f["type"])
        if f.get("nullable"):
            optional.append((f["name"], typ | None, dataclasses.field(default=None)))
        elif typ is list:
            optional.append((f["name"], list, dataclasses.field(default_factory=list)))
        else:
            required.append((f["name"], typ))
    cls = dataclasses.make_dataclass(name, required + optional, slots=True)
    cls.__module__ = __name__
    cls.__doc__ = spec["description"]
    cls.VERSION = spec["version"]
    return cls


def as_row(record: Any) -> dict[str, Any]:
    """A record (dataclass, nested ones included) as a plain dict row."""
    return dataclasses.asdict(record) if dataclasses.is_dataclass(record) else dict(record)


@cache
def _nested(name: str) -> tuple[tuple[str, str, bool], ...]:
    """(field, record name, is a list) for the fields of ``name`` that hold records."""
    out = []
    for f in fields(name):
        t, many = f["type"], False
        if isinstance(t, dict) and "list" in t:
            t, many = t["list"], True
        if isinstance(t, str) and t not in _SCALARS:
            out.append((f["name"], t, many))
    return tuple(out)


def from_row(name: str | type, row: Any) -> Any:
    """The record ``name`` (a schema name or a ``record_class``) of a plain dict row, nested records
    included (the inverse of ``as_row``); a record already of that class is returned as it is."""
    cls = record_class(name) if isinstance(name, str) else name
    if isinstance(row, cls):
        return row
    nested = _nested(cls.__name__)
    if not nested:
        return cls(**row)
    values = dict(row)
    for field_name, sub, many in nested:
        value = values.get(field_name)
        if value is not None:
            values[field_name] = [from_row(sub, v) for v in value] if many else from_row(sub, value)
    return cls(**values)


Document = record_class("Document")
Region = record_class("Region")
Relation = record_class("Relation")
Proposal = record_class("Proposal")
Annotation = record_class("Annotation")
Attribution = record_class("Attribution")
Reject = record_class("Reject")
