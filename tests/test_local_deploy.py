"""`make deploy-local` as a test: a round against a moto server, and the template rewrite it relies on.

The round deploys a REDUCED local config (data, inference with one real-time endpoint with a shadow
variant, observability, lifecycle; no network or training stack), synthesized in-process with strong
cross-stack references: the full default platform takes about a minute more through the CLI, beyond the
suite's budget. `make deploy-local` deploys the whole of configs/local.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stacks.local_deploy import LOCAL_CONFIG, SKIPPED_ARN, SKIPPED_VALUE, emulate

REPO = Path(__file__).resolve().parents[1]


def test_local_config_differs_from_the_default_only_in_endpoint_instance_types():
    from stacks.config import DEFAULT_CONFIG, load_config

    default, local = (yaml.safe_load(p.read_text()) for p in (DEFAULT_CONFIG, LOCAL_CONFIG))
    assert LOCAL_CONFIG.read_text().split("\nplatform:", 1)[1] == DEFAULT_CONFIG.read_text().split("\nplatform:", 1)[1].replace(
        "ml.g5.2xlarge\n    instance_count: 2", "ml.g4dn.2xlarge\n    instance_count: 2").replace(
        "ml.g5.xlarge", "ml.g4dn.xlarge").replace("ml.c6i.xlarge", "ml.c5.xlarge").replace("ml.g5.12xlarge", "ml.g4dn.12xlarge")
    load_config(LOCAL_CONFIG)  # valid

    def without_types(value):
        if isinstance(value, dict):
            return {k: without_types(v) for k, v in value.items() if k != "instance_type"}
        return [without_types(v) for v in value] if isinstance(value, list) else value

    assert without_types(local) == without_types(default)
    types = {e.get("instance_type") for e in local["endpoints"]} | {
        v["instance_type"] for e in local["endpoints"] for v in e.get("variants", []) + e.get("shadow_variants", [])
    }
    # moto 5.2.5 moto/sagemaker/models.py FakeEndpointConfig.validate_instance_type
    assert types - {None} == {"ml.g4dn.2xlarge", "ml.g4dn.xlarge", "ml.c5.xlarge", "ml.g4dn.12xlarge", "ml.c5.2xlarge"}


def _assembly(tmp_path: Path, templates: dict[str, dict]) -> Path:
    artifacts = {}
    for name, template in templates.items():
        (tmp_path / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {"type": "aws:cloudformation:stack", "properties": {"templateFile": f"{name}.template.json"}}
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return tmp_path


def test_emulate_removes_any_custom_resource_and_what_depends_on_it_and_says_so(tmp_path):
    shared = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Deregister": {"Type": "Custom::AutoscalingDeregistration", "Properties": {"ServiceToken": "arn"}},
            "Addon": {"Type": "AWS::CloudFormation::CustomResource", "Properties": {"ServiceToken": "arn"}},
            "UsesAddon": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["Addon", "Name"]}}},
            "AfterIt": {"Type": "AWS::SQS::Queue", "DependsOn": ["Deregister", "Queue"], "Properties": {}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
            "Dash": {"Type": "AWS::CloudWatch::Dashboard",
                     "Properties": {"DashboardBody": {"Fn::Join": ["", [{"Fn::GetAtt": ["Alarm", "Arn"]}]]}}},
        },
        "Outputs": {"AddonName": {"Value": {"Ref": "UsesAddon"}, "Export": {"Name": "addon-name"}}},
    }
    consumer = {"Resources": {"Reader": {"Type": "AWS::SQS::Queue",
                                         "Properties": {"QueueName": {"Fn::ImportValue": "addon-name"}}}}}
    assembly = _assembly(tmp_path, {"shared": shared, "consumer": consumer})
    changes = {(d.stack, d.logical_id): d.change for d in emulate(assembly)}
    rewritten = json.loads((assembly / "shared.template.json").read_text())
    assert set(rewritten["Resources"]) == {"Queue", "AfterIt", "Alarm", "Dash"}
    assert rewritten["Resources"]["AfterIt"]["DependsOn"] == ["Queue"]
    assert rewritten["Resources"]["Dash"]["Properties"]["DashboardBody"] == {"Fn::Join": ["", [f"{SKIPPED_ARN}Alarm"]]}
    assert json.loads((assembly / "consumer.template.json").read_text())["Resources"] == {}
    assert changes == {
        ("shared", "Deregister"): "custom resource removed (moto runs its Lambda only in Docker: the stack would hang)",
        ("shared", "Addon"): "custom resource removed (moto runs its Lambda only in Docker: the stack would hang)",
        ("shared", "UsesAddon"): "removed: references Addon, which was removed",
        ("shared", "AddonName"): "removed: its value references a removed resource",
        ("consumer", "Reader"): "removed: imports addon-name, whose resource was removed",
        ("shared", "Dash"): "Ref/Fn::GetAtt of Alarm (types moto skips; it fails on or drops them) replaced by the "
                            f"literal '{SKIPPED_VALUE}<id>[.<attribute>]' ('{SKIPPED_ARN}<id>' for an Arn)",
    }


REDUCED = {"endpoints": ["fraud-scorer"], "lifecycle": {"idle_endpoint_hours": 24}}


@pytest.fixture(scope="session")
def round_report(tmp_path_factory):
    from constructs_lib import add_compliance_checks
    from stacks.config import parse_config
    from stacks.local_deploy import deploy_local
    from stacks.platform import build_platform
    from tests.conftest import new_app

    data = yaml.safe_load(LOCAL_CONFIG.read_text())
    data["endpoints"] = [e for e in data["endpoints"] if e["name"] in REDUCED["endpoints"]]
    data["lifecycle"] = REDUCED["lifecycle"]
    for key in ("network", "training", "training_clusters", "training_pipelines", "budgets"):
        data.pop(key, None)
    outdir = tmp_path_factory.mktemp("local-cdk-out")
    # What app.py does for -c local_emulation=true.
    app = new_app(outdir, **{"@aws-cdk/core:defaultCrossStackReferences": "strong"})
    build_platform(app, parse_config(data, source="reduced-local"))
    add_compliance_checks(app)
    app.synth()
    return deploy_local(workdir=tmp_path_factory.mktemp("deploy-local"), assembly_from=outdir)


@pytest.mark.xdist_group("deploy-local")
def test_round_creates_what_it_can_check_destroys_it_and_stops_the_server(round_report):
    assert round_report.failures == []
    assert {t: c.created for t, c in round_report.columns.items() if c.created} == {
        "AWS::SageMaker::Model": 2,  # production and shadow variant
        "AWS::SageMaker::EndpointConfig": 1,
        "AWS::SageMaker::Endpoint": 1,
        "AWS::S3::Bucket": 2,  # artifacts and their access logs
        "AWS::KMS::Key": 1,
        "AWS::KMS::Alias": 1,
        "AWS::SNS::Topic": 3,  # notifications, warning, critical
        "AWS::SQS::Queue": 7,  # dead-letter queues
        "AWS::Events::Rule": 2,  # endpoint notifications, idle-endpoint schedule
        "AWS::Lambda::Function": 2,
        "AWS::Logs::LogGroup": 2,
        "AWS::CloudWatch::Dashboard": 3,  # the endpoint's, its shard's overview page, the front page
        "AWS::IAM::Role": 3,  # the endpoint's execution role carries its policy inline
        "AWS::DynamoDB::Table": 1,  # the idle guard's state
    }
    assert all(not c.missing for c in round_report.columns.values())
    assert round_report.seconds > 0


@pytest.mark.xdist_group("deploy-local")
def test_round_reports_what_moto_accepts_but_drops_and_what_it_skips(round_report):
    columns = round_report.columns
    assert [d.split(".", 1)[1] for d in columns["AWS::SageMaker::EndpointConfig"].dropped] == ["ShadowProductionVariants"]
    assert [d.split(".", 1)[1] for d in columns["AWS::SageMaker::Endpoint"].dropped] == ["DeploymentConfig"]
    for skipped in ("AWS::CloudWatch::Alarm", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy"):
        assert columns[skipped].skipped >= 1 and columns[skipped].created == 0, skipped


@pytest.mark.xdist_group("deploy-local")
def test_round_leaves_only_retained_resources(round_report):
    # Nothing leaks: moto used to delete the execution role before detaching its managed policy
    # (DeleteConflict) and forget both; the policy is now inline in the role.
    assert round_report.leaked == []
    assert sorted(line.split()[0] for line in round_report.retained) == [
        "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::Logs::LogGroup", "AWS::S3::Bucket", "AWS::S3::Bucket",
    ]
    assert all("DeletionPolicy Retain" in line for line in round_report.retained)


def test_training_repository_has_an_explicit_lower_case_name(default_platform):
    # A generated name keeps the stack's mixed case: ECR refuses it (moto creates it, then fails).
    repository = default_platform["training"].raw["Resources"]["PlatformRepositoryA1828E75"]
    assert repository["Properties"]["RepositoryName"] == "acme-ml-dev-training"
    assert repository["DeletionPolicy"] == "Retain"
