"""The sample events used by the handler tests are copies of the shared ones."""

from __future__ import annotations

import json

import pytest
from lambda_testkit import EVENTS_DIR, SHARED_EVENTS_DIR


def test_every_copy_is_valid_json_with_an_envelope():
    files = sorted(EVENTS_DIR.glob("*.json"))
    assert files, EVENTS_DIR
    for path in files:
        event = json.loads(path.read_text())
        assert {"id", "detail-type", "source", "detail"} <= event.keys(), path.name


def _contained(sample, copy) -> bool:
    """Every field of ``sample`` is in ``copy`` with the same value (objects may have more fields)."""
    if isinstance(sample, dict):
        return isinstance(copy, dict) and all(k in copy and _contained(v, copy[k]) for k, v in sample.items())
    return sample == copy


@pytest.mark.skipif(not SHARED_EVENTS_DIR.is_dir(), reason="no ../shared/events next to the repository")
def test_copies_carry_every_field_of_the_shared_events():
    """Each copy holds the shared sample's fields and values unchanged; a copy may add the fields AWS's own
    samples show and the handler tests rely on (training jobs: ``AlgorithmSpecification``, the platform's
    ``Tags``), so the comparison is by JSON content, not bytes."""
    shared = {p.name: json.loads(p.read_text()) for p in SHARED_EVENTS_DIR.glob("*.json")}
    copies = {p.name: json.loads(p.read_text()) for p in EVENTS_DIR.glob("*.json")}
    assert sorted(copies) == sorted(shared)
    for name, sample in shared.items():
        assert _contained(sample, copies[name]), f"tests/events/{name} lost or changed a field of shared/events/{name}"


def test_containment_is_strict_about_values_and_lists():
    assert _contained({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}})
    assert not _contained({"a": {"b": 1}}, {"a": {"b": 2}})
    assert not _contained({"a": [1, 2]}, {"a": [1, 2, 3]})
    assert not _contained({"a": 1}, {})
