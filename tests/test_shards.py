"""Endpoint shards: stable placement (a pure function of each endpoint's own entry), stack names, the
config keys, and the synth-time size check. Cheap on purpose: placement is tested on 500 names without
synthesizing; the size check on one tiny stack with a lowered limit; the full 500-endpoint synth (every
shard under 450 resources and 900 KB) is in bench/ (``python -m bench``), smoke-tested at a small N."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from stacks.shards import (
    Shard,
    ShardSizeCheck,
    StackSize,
    hash_shard,
    place,
    placement,
    shard_stack_name,
    size_problems,
)
from tests.conftest import lint_assembly, new_app

NAMES = [f"model-{i:03d}" for i in range(500)]
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-sagemaker"


def _where(names, shards=40, keys=None) -> dict[str, str]:
    keys = keys or {}
    return {n: place("acme-ml-dev", n, keys.get(n), shards).stack_name for n in names}


# -- placement -----------------------------------------------------------------------------------------
def test_adding_removing_or_reordering_endpoints_moves_no_other_endpoint():
    before = _where(NAMES)
    inserted = NAMES[:250] + ["new-model"] + NAMES[250:]
    removed = NAMES[:100] + NAMES[101:]
    for after in (_where(inserted), _where(removed), _where(list(reversed(NAMES)))):
        assert {n: after[n] for n in after if n in before} == {n: before[n] for n in after if n in before}


def test_hash_shards_fill_evenly_and_use_every_shard():
    counts: dict[int, int] = {}
    for n in NAMES:
        counts[hash_shard(n, 50)] = counts.get(hash_shard(n, 50), 0) + 1
    assert sorted(counts) == list(range(1, 51))
    # Deterministic (SHA-256), so the spread is a fact, not a probability: 10 on average.
    assert (max(counts.values()), min(counts.values())) == (18, 2)


def test_placement_is_the_same_in_every_process():
    """SHA-256, not Python's salted ``hash()``: these shards hold on any machine and any PYTHONHASHSEED."""
    names = ("chat-llm", "ranker", "fraud-scorer", "embeddings", "batch-scoring", "llm-hosting", "many-models")
    assert [hash_shard(n, 8) for n in names] == [6, 7, 8, 4, 2, 1, 4]


def test_more_shards_move_only_the_endpoints_the_new_shard_takes():
    """Rendezvous hashing: from 40 to 41 shards, an endpoint moves only to shard 41, about 1/41 of them."""
    before, after = _where(NAMES, 40), _where(NAMES, 41)
    moved = {n for n in NAMES if before[n] != after[n]}
    assert moved and {after[n] for n in moved} == {"acme-ml-dev-inference-41"}
    assert len(moved) < 2 * len(NAMES) / 41


def test_shard_one_keeps_the_inference_stack_name_and_keys_name_their_own_stack():
    assert shard_stack_name("acme-ml-dev", "1") == "acme-ml-dev-inference"
    assert shard_stack_name("acme-ml-dev", "7") == "acme-ml-dev-inference-7"
    assert place("acme-ml-dev", "ranker", None, 1) == Shard("1", "acme-ml-dev-inference", explicit=False)
    assert place("acme-ml-dev", "ranker", "search", 1) == Shard("search", "acme-ml-dev-inference-search", explicit=True)
    # An explicit key never depends on the shard count, nor on the other endpoints.
    keys = {n: "team-a" for n in NAMES[:10]}
    assert {_where(NAMES, 40, keys)[n] for n in NAMES[:10]} == {"acme-ml-dev-inference-team-a"}
    assert _where(NAMES[10:], 40) == {n: w for n, w in _where(NAMES, 40, keys).items() if n not in keys}


# -- config --------------------------------------------------------------------------------------------
def _config_data(names, shards=None, keys=None) -> dict:
    data = {
        "platform": {"name": "acme-ml", "environment": "dev"},
        "endpoints": [
            {"name": n, "model": {"image": IMAGE, "model_data_url": f"s3://acme-ml-models/{n}/model.tar.gz"},
             "instance_type": "ml.c5.xlarge", "instance_count": 1, **({"stack": keys[n]} if n in (keys or {}) else {})}
            for n in names
        ],
    }
    if shards is not None:
        data["inference"] = {"shards": shards}
    return data


def test_the_config_places_by_key_or_by_hash():
    from stacks.config import parse_config

    config = parse_config(_config_data(["a-model", "b-model", "c-model"], shards=3, keys={"b-model": "search"}))
    where = placement(config)
    assert where["b-model"] == Shard("search", "acme-ml-dev-inference-search", explicit=True)
    assert where["a-model"] == place("acme-ml-dev", "a-model", None, 3)
    assert parse_config(_config_data(["a-model"])).inference.shards == 1  # default: one shard, the inference stack


@pytest.mark.parametrize(("patch", "message"), [
    ({"inference": {"shards": 0}}, r"inference\.shards: got 0; Input should be greater than or equal to 1"),
    ({"inference": {"shards": 101}}, r"inference\.shards: got 101; Input should be less than or equal to 100"),
    ({"stack": "2"}, (r"endpoints\[0\]\.stack: got '2'; lower-case letters, digits and single hyphens, 1-32 "
                      r"characters, starting with a letter")),
    ({"stack": "Team_A"}, r"endpoints\[0\]\.stack: got 'Team_A'; lower-case letters"),
])
def test_bad_shard_keys_are_refused_with_their_key_path(patch, message):
    from constructs_lib import PlatformValidationError
    from stacks.config import parse_config

    data = _config_data(["a-model"])
    if "stack" in patch:
        data["endpoints"][0]["stack"] = patch["stack"]
    else:
        data.update(patch)
    with pytest.raises(PlatformValidationError, match=message):
        parse_config(data)


def test_adding_an_endpoint_in_the_middle_moves_no_other_endpoint_or_logical_id():
    """Built (not synthesized: nothing is rendered) from a small config with three hash shards and a
    key, before and after an endpoint is inserted second: every other endpoint keeps its stack and the
    logical id of every resource it owns (endpoint, config, model, role, scaling, alarms, dashboard)."""
    from aws_cdk import CfnElement, Stack

    from stacks.config import parse_config
    from stacks.platform import build_platform

    names = ["chat-llm", "ranker", "fraud-scorer", "embeddings"]
    data = _config_data(names, shards=3, keys={"embeddings": "search"})
    grown = copy.deepcopy(data)
    grown["endpoints"].insert(1, copy.deepcopy(data["endpoints"][0]) | {"name": "reranker"})

    def owned(config_data) -> dict[str, tuple[str, list[str]]]:
        platform = build_platform(new_app(), parse_config(config_data))
        out = {}
        for shard in platform.shards:
            for name, endpoint in shard.endpoints.items():
                ids = sorted(
                    shard.resolve(c.logical_id)
                    for scope in (endpoint, shard.monitoring[name])
                    for c in scope.node.find_all() if isinstance(c, CfnElement)
                )
                out[name] = (Stack.of(endpoint).stack_name, ids)
        return out

    before, after = owned(data), owned(grown)
    assert {n: after[n] for n in names} == before
    assert len({stack for stack, _ in before.values()}) >= 2 and before["embeddings"][0] == "acme-ml-dev-inference-search"
    # Each endpoint sits where its own name (and key) places it, before and after the insertion.
    keys = {"embeddings": "search"}
    assert {n: stack for n, (stack, _) in after.items()} == {
        n: place("acme-ml-dev", n, keys.get(n), 3).stack_name for n in [*names, "reranker"]}
    assert "reranker" in after and all(ids for _, ids in after.values())


# -- the size check ----------------------------------------------------------------------------------
SHARD = Shard("3", "acme-ml-dev-inference-3", explicit=False)
TEAM = Shard("search", "acme-ml-dev-inference-search", explicit=True)


def test_size_problems_name_the_shard_its_size_and_the_key_to_change():
    sizes = {SHARD.stack_name: StackSize(401, 1000), TEAM.stack_name: StackSize(10, 800_001),
             "acme-ml-dev-observability": StackSize(499, 999_999)}  # not a shard: not checked here
    problems = size_problems(sizes, {s.stack_name: s for s in (SHARD, TEAM)})
    assert problems == {
        SHARD.stack_name: "endpoint shard acme-ml-dev-inference-3 has 401 resources (more than 400, 80% of "
                          "CloudFormation's 500 per stack): give new endpoints an endpoints[].stack key (moves "
                          "nothing), or raise inference.shards (moves the endpoints the new shards take: each is "
                          "deleted and re-created)",
        TEAM.stack_name: "endpoint shard acme-ml-dev-inference-search has 800001 template bytes (more than 800000, "
                         "80% of CloudFormation's 1000000): give some of its endpoints another endpoints[].stack "
                         "than 'search' (each moved endpoint is deleted and re-created)",
    }
    assert size_problems({SHARD.stack_name: StackSize(400, 800_000)}, {SHARD.stack_name: SHARD}) == {}


def test_synth_refuses_an_oversized_shard_with_the_report(tmp_path):
    """The check runs after synthesis as a CDK validation plugin over the written templates; here on one
    tiny stack with the limit lowered to 2 resources (80 %: 1)."""
    from aws_cdk import CfnWaitConditionHandle, Stack, Validations

    from constructs_lib import add_compliance_checks

    def synth(handles: int, out: Path):
        app = new_app(out)
        stack = Stack(app, SHARD.stack_name)
        for i in range(handles):
            CfnWaitConditionHandle(stack, f"Handle{i}")
        Validations.of(app).add_plugins(ShardSizeCheck([SHARD], resource_limit=2))
        add_compliance_checks(app)
        return app.synth()

    assembly = synth(1, tmp_path / "ok")
    assert len(json.loads(Path(assembly.stacks[0].template_full_path).read_text())["Resources"]) == 1
    with pytest.raises(RuntimeError, match=r"endpoint shard acme-ml-dev-inference-3 has 2 resources \(more than 1, "
                                           r"80% of CloudFormation's 2 per stack\): give new endpoints"):
        synth(2, tmp_path / "over")
    assert lint_assembly(tmp_path / "over") == []


def test_the_platforms_other_stacks_are_checked_with_what_grows_them(default_platform):
    """Not only shards: the training, observability and lifecycle stacks grow with the config too, and a
    deploy that meets CloudFormation's limit fails after the other stacks changed; each is checked at
    synth with a hint naming what to split."""
    from stacks.platform import _growing_stacks
    from stacks.shards import PlatformStack

    platform = default_platform.platform
    checked = {s.stack_name: s for s in _growing_stacks(platform)}
    assert set(checked) == {"acme-ml-dev-training", "acme-ml-dev-observability", "acme-ml-dev-lifecycle"}
    sizes = {name: StackSize(401, 10) for name in checked}
    problems = size_problems(sizes, checked)
    assert problems["acme-ml-dev-training"] == (
        "stack acme-ml-dev-training has 401 resources (more than 400, 80% of CloudFormation's 500 per stack): "
        "it holds every HyperPod cluster (with its file system and lifecycle scripts) and every training pipeline "
        "without a stack key: give some training_clusters[] or training_pipelines[] a stack key (a training shard; "
        "each moved cluster or pipeline is deleted and re-created)"
    )
    assert "lifecycle.scale_idle_to_zero" in problems["acme-ml-dev-lifecycle"]
    assert isinstance(checked["acme-ml-dev-observability"], PlatformStack)
    assert problems["acme-ml-dev-observability"].startswith(
        "stack acme-ml-dev-observability has 401 resources (more than 400, 80% of CloudFormation's 500 per stack): "
        "it holds the platform overview")
