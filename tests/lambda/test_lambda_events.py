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


@pytest.mark.skipif(not SHARED_EVENTS_DIR.is_dir(), reason="no ../shared/events next to the repository")
def test_copies_are_identical_to_the_shared_events():
    shared = {p.name: p.read_bytes() for p in SHARED_EVENTS_DIR.glob("*.json")}
    copies = {p.name: p.read_bytes() for p in EVENTS_DIR.glob("*.json")}
    assert sorted(copies) == sorted(shared)
    for name, content in shared.items():
        assert copies[name] == content, f"tests/events/{name} differs from shared/events/{name}"
