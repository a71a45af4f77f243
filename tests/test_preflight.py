"""Quota preflight against botocore's Stubber: a shortfall when the quota is below the need, ok above."""

from __future__ import annotations

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from stacks.config import DEFAULT_CONFIG, parse_config
from stacks.preflight import CLUSTER, ENDPOINT, Need, needs, preflight, quota_name

DATA = yaml.safe_load(DEFAULT_CONFIG.read_text())


def _quota(name: str, value: float) -> dict:
    return {"ServiceCode": "sagemaker", "QuotaName": name, "QuotaCode": "L-00000000", "Value": value}


def _clients(applied: dict[str, float], defaults: dict[str, float] | None = None, offerings: list[str] | None = None):
    quotas = boto3.client("service-quotas", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(quotas)
    stub.add_response(
        "list_aws_default_service_quotas", {"Quotas": [_quota(n, v) for n, v in (defaults or {}).items()]},
        {"ServiceCode": "sagemaker"},
    )
    # two pages: the paginator follows NextToken
    items = [_quota(n, v) for n, v in applied.items()]
    stub.add_response("list_service_quotas", {"Quotas": items[:1], "NextToken": "t"}, {"ServiceCode": "sagemaker"})
    stub.add_response("list_service_quotas", {"Quotas": items[1:]}, {"ServiceCode": "sagemaker", "NextToken": "t"})
    stub.activate()
    ec2 = None
    if offerings is not None:
        ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        ec2_stub = Stubber(ec2)
        for ec2_type in ("g5.2xlarge", "m5.xlarge"):
            ec2_stub.add_response(
                "describe_instance_type_offerings",
                {"InstanceTypeOfferings": [{"InstanceType": ec2_type, "LocationType": "availability-zone", "Location": z} for z in offerings]},
                {"LocationType": "availability-zone", "Filters": [{"Name": "instance-type", "Values": [ec2_type]}]},
            )
        ec2_stub.activate()
    return quotas, stub, ec2


def _small_config(**cluster_workers):
    data = {
        "platform": {"name": "acme-ml", "environment": "dev"},
        "network": {"max_azs": 2, "availability_zones": ["us-east-1a", "us-east-1b"]},
        "endpoints": [DATA["endpoints"][0]],  # chat-llm: ml.g5.2xlarge, autoscaling max 8, canary
        "training_clusters": [DATA["training_clusters"][0]],  # controller ml.m5.xlarge x1, workers ml.g5.2xlarge x2
    }
    return parse_config(data)


def test_needs_per_instance_type_and_usage():
    assert needs(_small_config()) == [
        Need("ml.g5.2xlarge", CLUSTER, 2, 2, ("cluster llm-pretrain/workers",)),
        Need("ml.g5.2xlarge", ENDPOINT, 8, 16, ("endpoint chat-llm",)),  # autoscaling max; blue/green doubles
        Need("ml.m5.xlarge", CLUSTER, 1, 1, ("cluster llm-pretrain/controller",)),
    ]
    assert quota_name("ml.g5.xlarge", ENDPOINT) == "ml.g5.xlarge for endpoint usage"


def test_preflight_reports_a_shortfall_when_the_quota_is_below_the_need():
    client, stub, _ = _clients(
        {"ml.g5.2xlarge for endpoint usage": 4, "ml.g5.2xlarge for cluster usage": 1},
        defaults={"ml.m5.xlarge for cluster usage": 4, "ml.g5.2xlarge for cluster usage": 0},
    )
    report = preflight(_small_config(), quotas_client=client)
    stub.assert_no_pending_responses()
    assert not report.ok
    assert str(report).splitlines() == [
        "    SHORTFALL  ml.g5.2xlarge for cluster usage: needs 2; quota 1 (cluster llm-pretrain/workers)",
        "    SHORTFALL  ml.g5.2xlarge for endpoint usage: needs 8, 16 during a blue/green update; quota 4 (endpoint chat-llm)",
        "           ok  ml.m5.xlarge for cluster usage: needs 1; quota 4 (cluster llm-pretrain/controller)",
        "preflight: 2 shortfall(s)",
    ]


def test_preflight_passes_when_the_quotas_suffice_and_warns_about_update_headroom():
    client, _, ec2 = _clients(
        {"ml.g5.2xlarge for endpoint usage": 10, "ml.g5.2xlarge for cluster usage": 4, "ml.m5.xlarge for cluster usage": 2},
        offerings=["us-east-1a"],
    )
    report = preflight(_small_config(), quotas_client=client, ec2_client=ec2)
    assert report.ok
    lines = str(report).splitlines()
    assert lines[1] == "updates short  ml.g5.2xlarge for endpoint usage: needs 8, 16 during a blue/green update; quota 10 (endpoint chat-llm)"
    assert "    zone hint  ml.g5.2xlarge: EC2 does not offer g5.2xlarge in us-east-1b" in lines
    assert lines[-1] == "preflight: quotas suffice"


def test_a_missing_quota_is_a_shortfall():
    client, _, _ = _clients({"ml.g5.2xlarge for endpoint usage": 10})
    report = preflight(_small_config(), quotas_client=client)
    assert "    SHORTFALL  ml.m5.xlarge for cluster usage: needs 1; no such quota (cluster llm-pretrain/controller)" in str(report)


@pytest.mark.parametrize("strategy", ["rolling"])
def test_rolling_updates_need_no_second_fleet(strategy):
    data = {
        "platform": {"name": "acme-ml", "environment": "dev"},
        "endpoints": [{**DATA["endpoints"][6], "type": "multi-model", "deployment": {"strategy": strategy}}],
    }
    assert needs(parse_config(data)) == [Need("ml.c5.2xlarge", ENDPOINT, 2, 2, ("endpoint many-models",))]
