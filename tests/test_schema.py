"""schemas/ is the single source: every derived form agrees with it."""
import dataclasses

import pyarrow as pa
import pytest

from builder import schema


@pytest.mark.parametrize("name", schema.names())
def test_derived_forms_agree(name):
    spec = schema.load(name)
    names = [f["name"] for f in spec["fields"]]
    cls = schema.record_class(name)
    assert sorted(f.name for f in dataclasses.fields(cls)) == sorted(names)  # required fields come first
    arrow = schema.arrow_schema(name)
    assert arrow.names == names
    assert arrow.metadata[b"quotes.schema"] == spec["version"].encode()
    features = schema.hf_features(name)
    assert list(features) == names
    # The HF features and the arrow schema describe the same types.
    assert _same_types(features.arrow_schema, arrow)
    card = schema.card_features(name)
    assert [c["name"] for c in card] == names
    for f, c in zip(spec["fields"], card):
        assert f.get("description"), f"{name}.{f['name']} has no description"
        if isinstance(f["type"], str) and f["type"] in schema._SCALARS:
            assert c["dtype"] == f["type"]


def _same_types(a: pa.Schema, b: pa.Schema) -> bool:
    def strip(t: pa.DataType) -> str:
        return str(t).replace(" not null", "")
    return [strip(f.type) for f in a] == [strip(f.type) for f in b]


@pytest.mark.parametrize("name", schema.names())
def test_a_record_round_trips_through_arrow_and_datasets(name):
    import datasets

    row = _example(name)
    table = pa.Table.from_pylist([row], schema=schema.arrow_schema(name))
    assert table.to_pylist() == [row]
    ds = datasets.Dataset.from_list([row], features=schema.hf_features(name))
    assert ds[0] == row


def _example(name):
    def value(t, field_name):
        if isinstance(t, dict) and "class_label" in t:
            return 0
        if isinstance(t, dict):
            return [value(t["list"], field_name)]
        if t == "string":
            return f"{field_name}-x"
        if t == "bool":
            return True
        if t in ("int32", "int64"):
            return 3
        if t in ("float32", "float64"):
            return 0.5
        return _example(t)
    return {f["name"]: value(f["type"], f["name"]) for f in schema.fields(name)}


def test_records_are_slotted_and_nullable_fields_default_to_none():
    doc = schema.Document(doc_id="d", text="t", source="s", source_format="txt", cluster_id="d",
                          ingest_version="quotes.ingest.v1")
    assert doc.title is None and not hasattr(doc, "__dict__")
    assert schema.Document.VERSION == "quotes.document.v1"
