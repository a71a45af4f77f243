"""Update safety: config changes users make every week update the platform in place.

The "before" side is the session's default platform; the "after" side is ONE synth of the default
config with five independent changes (each touches other resources, so one synth shows all five):

1. a new model image on ``chat-llm`` (a promotion target: its model reads the image from the promotion
   parameter, so the data stack's parameter changes) and on ``fraud-scorer`` (its template holds it);
2. changed autoscaling on ``ranker`` (max 4 -> 6);
3. an endpoint added in the middle of the list (``reranker``, second);
4. an instance group added to the HyperPod cluster;
5. the FSx for Lustre throughput changed (125 -> 250 MB/s/TiB).

Replacement is decided from the CloudFormation schemas' ``createOnlyProperties`` (see update_safety.py).
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from tests.update_safety import STATEFUL_TYPES, plan_update

pytestmark = pytest.mark.xdist_group("update-safety")  # one worker builds the changed platform once

NEW_IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
    "2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04"
)
NEW_CPU_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.4.0-cpu-py311-ubuntu22.04-sagemaker"


def _raw(synthesized) -> dict[str, dict]:
    return {concern: template.raw for concern, template in synthesized.templates.items()}


def _names(synthesized) -> dict[str, str]:
    return dict(synthesized.stack_names)


@pytest.fixture(scope="session")
def changed_platform(tmp_path_factory):
    from stacks.config import DEFAULT_CONFIG, parse_config
    from tests.conftest import synth_platform

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    endpoints = {e["name"]: e for e in data["endpoints"]}
    endpoints["chat-llm"]["model"]["image"] = NEW_IMAGE
    endpoints["fraud-scorer"]["model"]["image"] = NEW_CPU_IMAGE  # the production variant, not the shadow
    endpoints["ranker"]["autoscaling"]["max"] = 6
    data["endpoints"].insert(1, {
        "name": "reranker", "type": "realtime",
        "model": {"image": endpoints["fraud-scorer"]["model"]["image"],
                  "model_data_url": "s3://acme-ml-models/reranker/model.tar.gz"},
        "instance_type": "ml.c5.xlarge", "instance_count": 2,
    })
    cluster = data["training_clusters"][0]
    cluster["instance_groups"].append({"name": "workers-b", "role": "worker", "instance_type": "ml.g5.2xlarge", "count": 1})
    cluster["fsx_lustre"]["throughput_mbps_per_tib"] = 250
    return synth_platform(parse_config(data, source="changed"), tmp_path_factory.mktemp("changed-cdk-out"))


@pytest.fixture(scope="session")
def plan(default_platform, changed_platform):
    return plan_update(_raw(default_platform), _raw(changed_platform), _names(default_platform))


def _ids(template: dict, cfn_type: str, **properties) -> set[str]:
    return {
        lid for lid, r in template["Resources"].items()
        if r["Type"] == cfn_type and all(r.get("Properties", {}).get(k) == v for k, v in properties.items())
    }


def _model_of(template: dict, endpoint_config_id: str) -> set[str]:
    variants = template["Resources"][endpoint_config_id]["Properties"]["ProductionVariants"]
    return {v["ModelName"]["Fn::GetAtt"][0] for v in variants}


def test_no_stateful_resource_is_replaced_removed_or_moved(plan):
    assert plan.stateful_problems() == []
    assert not plan.removed, sorted(plan.removed)


def test_only_the_new_images_model_and_its_endpoint_config_are_replaced(default_platform, plan):
    inference = default_platform["inference"].raw
    (endpoint,) = _ids(inference, "AWS::SageMaker::Endpoint", EndpointName="acme-ml-dev-fraud-scorer")
    config_id = inference["Resources"][endpoint]["Properties"]["EndpointConfigName"]["Fn::GetAtt"][0]
    (production_model,) = {  # the shadow variant keeps its model
        v["ModelName"]["Fn::GetAtt"][0] for v in inference["Resources"][config_id]["Properties"]["ProductionVariants"]
    }
    assert plan.replaced_types() == {
        "AWS::SageMaker::Model": {production_model},
        "AWS::SageMaker::EndpointConfig": {config_id},
    }
    assert plan.replaced[("inference", config_id)].startswith("create-only ProductionVariants refers to replaced")


def test_a_new_image_of_a_promotion_target_updates_its_promotion_parameter_in_place(
    default_platform, changed_platform, plan
):
    """chat-llm's model reads its image from the promotion parameter at deploy time: the config change
    updates the data stack's parameter (``Value`` is not create-only), the inference template stays the
    same, and CloudFormation replaces the model when the resolved value changes on the next deploy."""
    before, after = default_platform["data"].raw, changed_platform["data"].raw
    (parameter,) = _ids(before, "AWS::SSM::Parameter", Name="/acme-ml/dev/promotion/chat-llm/AllTraffic/image")
    assert after["Resources"][parameter]["Properties"]["Value"] == NEW_IMAGE
    assert ("data", parameter) not in plan.replaced and ("data", parameter) not in plan.added
    chat = {lid for lid in _ids(before, "AWS::SSM::Parameter")}
    assert all(("data", lid) not in plan.replaced for lid in chat)
    models = {
        lid for lid in _ids(default_platform["inference"].raw, "AWS::SageMaker::Model") if lid.startswith("ChatLlmEndpoint")
    }
    assert {lid: changed_platform["inference"].raw["Resources"][lid] for lid in models} == {
        lid: default_platform["inference"].raw["Resources"][lid] for lid in models
    }


def test_changed_autoscaling_updates_the_scalable_targets_in_place(default_platform, changed_platform, plan):
    before, after = default_platform["inference"].raw, changed_platform["inference"].raw
    targets = {  # one per variant of ranker (current, candidate)
        lid for lid in _ids(before, "AWS::ApplicationAutoScaling::ScalableTarget", MaxCapacity=4)
        if "acme-ml-dev-ranker" in json.dumps(before["Resources"][lid]["Properties"]["ResourceId"])
    }
    assert len(targets) == 2
    for target in targets:
        assert after["Resources"][target]["Properties"]["MaxCapacity"] == 6
        assert ("inference", target) not in plan.replaced and ("inference", target) not in plan.added


def test_added_endpoint_only_adds_and_moves_no_other_endpoint(default_platform, changed_platform, plan):
    after = changed_platform["inference"].raw
    (new_endpoint,) = _ids(after, "AWS::SageMaker::Endpoint", EndpointName="acme-ml-dev-reranker")
    assert ("inference", new_endpoint) in plan.added
    before_endpoints = {
        r["Properties"]["EndpointName"]: lid for lid, r in default_platform["inference"].raw["Resources"].items()
        if r["Type"] == "AWS::SageMaker::Endpoint"
    }
    after_endpoints = {
        r["Properties"]["EndpointName"]: lid for lid, r in after["Resources"].items() if r["Type"] == "AWS::SageMaker::Endpoint"
    }
    assert {n: after_endpoints[n] for n in before_endpoints} == before_endpoints


def test_added_instance_group_and_fsx_throughput_update_cluster_and_file_system_in_place(
    default_platform, changed_platform, plan
):
    before, after = default_platform["training"].raw, changed_platform["training"].raw
    (cluster,) = _ids(before, "AWS::SageMaker::Cluster")
    groups = [g["InstanceGroupName"] for g in after["Resources"][cluster]["Properties"]["InstanceGroups"]]
    assert groups == ["controller", "workers", "workers-b"]
    (file_system,) = _ids(before, "AWS::FSx::FileSystem")
    lustre = after["Resources"][file_system]["Properties"]["LustreConfiguration"]
    assert lustre["PerUnitStorageThroughput"] == 250
    assert ("training", cluster) not in plan.replaced and ("training", file_system) not in plan.replaced


def test_every_stateful_type_of_the_default_platform_is_covered(default_platform):
    declared = {r["Type"] for t in _raw(default_platform).values() for r in t["Resources"].values()}
    assert {
        "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::FSx::FileSystem", "AWS::EC2::VPC", "AWS::SageMaker::Cluster",
        "AWS::SageMaker::Endpoint", "AWS::SageMaker::ModelPackageGroup", "AWS::ECR::Repository",
    } <= declared & STATEFUL_TYPES


# ---- negative tests: the comparison fails when a stateful identity changes -------------------------
def _mutated(default_platform, mutate) -> list[str]:
    before = _raw(default_platform)
    after = copy.deepcopy(before)
    mutate(after)
    return plan_update(before, after, _names(default_platform)).stateful_problems()


def _first(template: dict, cfn_type: str) -> str:
    return min(_ids(template, cfn_type))


def test_renamed_logical_id_of_a_bucket_is_reported_as_removed(default_platform):
    def rename(after):
        resources = after["data"]["Resources"]
        bucket = _first(after["data"], "AWS::S3::Bucket")
        resources[bucket + "Renamed"] = resources.pop(bucket)

    bucket = _first(default_platform["data"].raw, "AWS::S3::Bucket")
    assert _mutated(default_platform, rename) == [f"data/{bucket} AWS::S3::Bucket removed"]


def test_changed_physical_name_of_the_cluster_is_reported_as_replaced(default_platform):
    cluster = _first(default_platform["training"].raw, "AWS::SageMaker::Cluster")

    def rename(after):
        after["training"]["Resources"][cluster]["Properties"]["ClusterName"] = "acme-ml-dev-llm-pretrain-2"

    assert _mutated(default_platform, rename) == [
        f"training/{cluster} AWS::SageMaker::Cluster replaced: create-only ClusterName changed"
    ]


def test_key_moved_to_another_stack_is_reported(default_platform):
    key = _first(default_platform["data"].raw, "AWS::KMS::Key")

    def move(after):
        after["inference"]["Resources"][key] = after["data"]["Resources"].pop(key)

    assert _mutated(default_platform, move) == [f"data/{key} AWS::KMS::Key removed (moves to inference)"]


def test_a_replaced_vpc_cascades_to_its_subnets_and_across_stacks_to_the_file_system(default_platform):
    vpc = _first(default_platform["network"].raw, "AWS::EC2::VPC")

    def new_cidr(after):
        after["network"]["Resources"][vpc]["Properties"]["CidrBlock"] = "10.1.0.0/16"

    problems = _mutated(default_platform, new_cidr)
    assert f"network/{vpc} AWS::EC2::VPC replaced: create-only CidrBlock changed" in problems
    assert any(p.startswith("network/") and "AWS::EC2::Subnet replaced: create-only VpcId refers to replaced" in p
               for p in problems)
    file_system = _first(default_platform["training"].raw, "AWS::FSx::FileSystem")
    assert any(p.startswith(f"training/{file_system} AWS::FSx::FileSystem replaced: create-only ") for p in problems)


def test_endpoint_moved_to_another_shard_is_reported(default_platform):
    """A shard move (e.g. a changed ``endpoints[].stack``, or more ``inference.shards``) deletes the endpoint
    from one stack and creates it in another under the same fixed name: CloudFormation cannot do that in
    one deploy, so it is a stateful problem even with the logical id unchanged."""
    endpoint = _first(default_platform["inference"].raw, "AWS::SageMaker::Endpoint")

    def move(after):
        after["inference-2"] = {"Resources": {endpoint: after["inference"]["Resources"].pop(endpoint)}}

    assert _mutated(default_platform, move) == [f"inference/{endpoint} AWS::SageMaker::Endpoint removed (moves to inference-2)"]
