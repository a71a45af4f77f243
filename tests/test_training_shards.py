"""Training shards: ``training_clusters[].stack`` / ``training_pipelines[].stack`` place a cluster or a
pipeline with its monitoring in ``<prefix>-training-<key>``, so the training and observability stacks
stop growing with them. One small training-only platform (the default config's training sections, no
endpoints, plus one pipeline and one small cluster keyed ``team-a``), synthesized once with the five nag
packs and its changed templates cfn-linted; the default config's unchanged templates are pinned in test_platform_stacks.py."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from aws_cdk.assertions import Match

from stacks.config import DEFAULT_CONFIG, parse_config
from stacks.shards import StackSize, size_problems
from tests.conftest import lint_template, resources_of, synth_platform

SHARD = "acme-ml-dev-training-team-a"
# The module's one synth, on one worker under --dist loadgroup (not once per worker).
pytestmark = pytest.mark.xdist_group("training-shards")


def _data() -> dict:
    data = yaml.safe_load(Path(DEFAULT_CONFIG).read_text())
    for key in ("endpoints", "lifecycle"):
        data.pop(key)
    data["budgets"]["teams"] = [{"name": "llm", "monthly_usd": 20000, "training_clusters": ["team-a-small"]}]
    pipeline = copy.deepcopy(data["training_pipelines"][0])
    pipeline.update(name="team-a-tune", stack="team-a")
    data["training_pipelines"].append(pipeline)
    data["training_clusters"].append({"name": "team-a-small", "stack": "team-a", "instance_groups": [
        {"name": "controller", "role": "controller", "instance_type": "ml.m5.xlarge", "count": 1},
        {"name": "workers", "role": "worker", "instance_type": "ml.g5.2xlarge", "count": 1},
    ]})
    return data


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("training-shard-cdk-out")
    return synth_platform(parse_config(_data()), outdir)


def test_the_shard_templates_lint_clean(sharded):
    """The three templates a training shard changes (the others are those of the default platform's
    tests): the shard, the training stack (its exports) and the observability stack (the overview)."""
    stacks = {s.stack_name: s for s in sharded.platform.stacks}
    findings = [f for name in (SHARD, "acme-ml-dev-training", "acme-ml-dev-observability")
                for f in lint_template(sharded.outdir / f"{stacks[name].artifact_id}.template.json")]
    assert findings == []


def test_the_shard_holds_the_keyed_cluster_and_pipeline_with_their_monitoring(sharded):
    t = sharded["training-team-a"]
    assert sharded.stack_names["training-team-a"] == SHARD
    # The HyperPod cluster keeps its physical name, and the budgets team tag reaches it.
    t.has_resource_properties("AWS::SageMaker::Cluster", {
        "ClusterName": "acme-ml-dev-team-a-small",
        "Tags": Match.array_with([{"Key": "team", "Value": "llm"}]),
    })
    assert len(resources_of(t, "AWS::SageMaker::Cluster")) == 1
    (machine,) = resources_of(t, "AWS::StepFunctions::StateMachine").values()
    # Jobs named <name>-<uuid>, run by the training stack's role (a cross-stack reference).
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert "States.Format('team-a-tune-{}', States.UUID())" in definition
    assert "PublishOutputFnGetAttPlatformTrainingJobRole" in definition
    dashboards = {d["Properties"]["DashboardName"] for d in resources_of(t, "AWS::CloudWatch::Dashboard").values()}
    assert dashboards == {"acme-ml-dev-team-a-small-cluster", "acme-ml-dev-pipeline-team-a-tune"}
    # Alarms notify the observability stack's severity topics (cross-stack references, not new topics).
    t.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "acme-ml-dev-team-a-small-unhealthy-nodes-critical",
        "AlarmActions": [{"Fn::GetStackOutput": {
            "StackName": "acme-ml-dev-observability", "Region": {"Ref": "AWS::Region"},
            "OutputName": Match.string_like_regexp("^PublishOutputRefAlarmTopicsCritical"),
        }}],
    })
    assert resources_of(t, "AWS::SNS::Topic") == {}
    # The job alarms function of the shard's pipeline, with the severity topics of the observability stack.
    (handler,) = [f for k, f in resources_of(t, "AWS::Lambda::Function").items() if k.startswith("TrainingJobAlarms")]
    assert "PublishOutputRefAlarmTopicsCritical" in json.dumps(handler["Properties"]["Environment"])
    assert "team-a-tune" in json.dumps(handler["Properties"]["Environment"])
    # Only the moved entries: nothing of the default cluster or pipeline.
    assert "llm-pretrain" not in json.dumps(t.raw) and "llm-finetune" not in json.dumps(t.raw)


def test_the_shard_depends_only_on_data_network_training_and_observability(sharded):
    (shard,) = sharded.platform.training_shards
    assert {s.stack_name for s in shard.dependencies} == {
        "acme-ml-dev-data", "acme-ml-dev-network", "acme-ml-dev-training", "acme-ml-dev-observability",
    }
    # Nothing depends on the shard: it deploys, updates and is deleted on its own.
    assert not [s.stack_name for s in sharded.platform.stacks if shard in s.dependencies]


def test_the_training_and_observability_stacks_no_longer_hold_them(sharded):
    training, observability = json.dumps(sharded["training"].raw), sharded["observability"]
    assert "team-a" not in training.replace("training-team-a", "")  # only the exports the shard imports
    assert [c["Properties"]["ClusterName"] for c in resources_of(sharded["training"], "AWS::SageMaker::Cluster").values()] \
        == ["acme-ml-dev-llm-pretrain"]
    names = {a["Properties"]["AlarmName"] for a in resources_of(observability, "AWS::CloudWatch::Alarm").values()}
    assert names and not {n for n in names if "team-a" in n}
    dashboards = {d["Properties"]["DashboardName"] for d in resources_of(observability, "AWS::CloudWatch::Dashboard").values()}
    assert "acme-ml-dev-pipeline-team-a-tune" not in dashboards and "acme-ml-dev-team-a-small-cluster" not in dashboards


def test_the_overview_shows_the_shards_alarms_by_name(sharded):
    """Every alarm of the shard is on the overview's front page, as an ARN built from its fixed name (the
    observability stack imports nothing from the shard: no cycle, no export)."""
    (overview,) = [d for d in resources_of(sharded["observability"], "AWS::CloudWatch::Dashboard").values()
                   if d["Properties"]["DashboardName"] == "acme-ml-dev-overview"]
    body = "".join(p if isinstance(p, str) else f"<{json.dumps(p)}>"
                   for p in overview["Properties"]["DashboardBody"]["Fn::Join"][1])
    prefix = '"arn:<{"Ref": "AWS::Partition"}>:cloudwatch:<{"Ref": "AWS::Region"}>:<{"Ref": "AWS::AccountId"}>:alarm:'
    shown = set(re.findall(re.escape(prefix) + r'([^"]+)"', body))
    shard = sharded["training-team-a"]
    alarms = {a["Properties"]["AlarmName"] for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
              for a in resources_of(shard, kind).values()}
    assert "acme-ml-dev-team-a-small-unhealthy-critical" in alarms
    assert "acme-ml-dev-pipeline-team-a-tune-execution-failed-critical" in alarms
    assert shown == alarms


def test_the_shard_is_size_checked_with_a_hint_naming_its_key(sharded):
    from stacks.platform import _growing_stacks

    checked = {s.stack_name: s for s in _growing_stacks(sharded.platform)}
    assert set(checked) == {"acme-ml-dev-training", "acme-ml-dev-observability", "acme-ml-dev-lifecycle", SHARD}
    assert size_problems({SHARD: StackSize(401, 10)}, checked)[SHARD] == (
        f"training shard {SHARD} has 401 resources (more than 400, 80% of CloudFormation's 500 per stack): give "
        "some of its training_clusters[] or training_pipelines[] another stack than 'team-a' (each moved cluster "
        "or pipeline is deleted and re-created)"
    )


@pytest.mark.parametrize(("section", "key"), [("training_clusters", "Team_A"), ("training_pipelines", "2")])
def test_bad_training_shard_keys_are_refused_with_their_key_path(section, key):
    from constructs_lib import PlatformValidationError

    data = _data()
    data[section][0]["stack"] = key
    with pytest.raises(PlatformValidationError, match=(
        rf"{section}\[0\]\.stack: got '{key}'; lower-case letters, digits and single hyphens, 1-32 characters, "
        "starting with a letter")):
        parse_config(data)
