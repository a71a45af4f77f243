"""The suite's expensive session fixtures are shared by grouping their tests on one xdist worker.

``make test`` runs ``-n 2 --dist loadgroup``: tests marked ``xdist_group(name)`` run on one worker, so
a session fixture they share (a platform synth, the deploy-local round, the checkov scan) is built
once; tests using the platform synths are grouped automatically (tests/conftest.py). If grouping
silently stops (pytest 9.2 with pytest-xdist 3.8 did: pytest-dev/pytest-xdist#1386), each worker
builds them again and the suite takes minutes longer without any test failing; these do.
"""

from __future__ import annotations

import os

import pytest

_WORKERS: dict[str, str] = {}


@pytest.mark.xdist_group("grouping-probe")
def test_grouped_test_carries_its_group_in_the_node_id(request):
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        pytest.skip("not running under pytest-xdist")
    # A worker sees dist "no"; the controller's loadgroup choice shows up as the group suffix xdist adds.
    assert request.node.nodeid.endswith("@grouping-probe"), request.node.nodeid


@pytest.mark.parametrize("probe", range(4))
@pytest.mark.xdist_group("grouping-probe")
def test_grouped_tests_run_on_one_worker(probe):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        pytest.skip("not running under pytest-xdist")
    _WORKERS[f"probe-{probe}"] = worker
    # Each probe runs in the worker that ran the first: module state is per process, so a probe sent
    # to another worker finds a different (or empty) record.
    assert set(_WORKERS.values()) == {worker}, _WORKERS
    if probe == 3:
        assert len(_WORKERS) == 4, _WORKERS


def test_every_platform_synth_user_runs_in_the_platform_group(request):
    """tests/conftest.py puts every test using ``default_platform`` or ``prod_platform``, and the rest of
    its xdist group, in one group: one worker synthesizes each platform once."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        pytest.skip("not running under pytest-xdist")
    from tests.conftest import PLATFORM_FIXTURES, PLATFORM_GROUP

    users = [i for i in request.session.items if any(f in i.fixturenames for f in PLATFORM_FIXTURES)]
    if not users:
        pytest.skip("no test using a platform synth was collected in this run")
    assert [i.nodeid for i in users if not i.nodeid.endswith(f"@{PLATFORM_GROUP}")] == []
