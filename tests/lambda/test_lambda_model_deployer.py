"""lambda/model_deployer: an approved package version reaches its endpoints exactly once.

moto 5.2.5 implements the SageMaker model registry, models, endpoint configs and endpoints but not
``UpdateEndpoint``: the tests wrap the moto client in a RecordingClient whose ``update_endpoint`` checks
the request against the botocore model and then switches the endpoint's config in moto's backend. moto
also ignores ``EnableNetworkIsolation`` on CreateModel, so that parameter is asserted on the recorded call.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lambda_testkit import REGION, RecordingClient, StubSNS, emf_metric_names, events_for, sns_inbox
from moto.sagemaker.models import sagemaker_backends

from constructs_lib.limits import NAME_PATTERN

NAME = "model_deployer"
APPROVED = "model-package-approved.json"
GROUP = "chat-llm-models"
ENDPOINT = "chat-llm"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-model-execution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-serving:1.4.0"
MODEL_DATA = "s3://ml-artifacts-123456789012/chat-llm/v7/model.tar.gz"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TABLE = "aiplatform-idempotency"
CANARY = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            "WaitIntervalInSeconds": 600,
        },
        "MaximumExecutionTimeoutInSeconds": 3600,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "chat-llm-5xx"}]},
}


def _update_endpoint_in_moto(**kwargs: Any) -> dict[str, Any]:
    """UpdateEndpoint for moto: switch the endpoint to the new config (the call itself is recorded)."""
    backend = sagemaker_backends["123456789012"][REGION]
    endpoint = backend.endpoints.get(kwargs["EndpointName"])
    if endpoint is None:
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": "Could not find endpoint"}}, "UpdateEndpoint"
        )
    if kwargs["EndpointConfigName"] not in backend.endpoint_configs:
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": "Could not find endpoint configuration"}},
            "UpdateEndpoint",
        )
    endpoint.endpoint_config_name = kwargs["EndpointConfigName"]
    return {"EndpointArn": endpoint.arn}


def make_endpoint(
    sm, name: str, *, variants: list[dict[str, Any]] | None = None, config: str | None = None
) -> str:
    config = config or f"{name}-config-a"
    sm.create_model(
        ModelName=f"{name}-v6",
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://b/v6.tar.gz"},
        ExecutionRoleArn=ROLE,
    )
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=variants
        or [
            {
                "VariantName": "primary",
                "ModelName": f"{name}-v6",
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 2,
                "InitialVariantWeight": 1.0,
                "ModelDataDownloadTimeoutInSeconds": 900,
                "ContainerStartupHealthCheckTimeoutInSeconds": 600,
            }
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 20,
            "DestinationS3Uri": "s3://ml-artifacts-123456789012/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
        KmsKeyId=KMS_KEY,
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
    return config


@pytest.fixture
def world(aws: None):
    """Registry with versions 1..7 of the group (7 approved), endpoint chat-llm on v6, SNS inbox, table."""
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    for version in range(1, 8):
        sm.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus="Approved" if version == 7 else "Rejected",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": IMAGE,
                        "ModelDataUrl": f"s3://ml-artifacts-123456789012/chat-llm/v{version}/model.tar.gz",
                        "Environment": {"HF_TASK": "text-generation", "MAX_INPUT_TOKENS": "4096"},
                    }
                ]
            },
        )
    make_endpoint(sm, ENDPOINT)
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return {"sm": sm, "inbox": sns_inbox()}


@pytest.fixture
def deploy_env(world):
    def env(targets: Any = None, **extra: str | None) -> dict[str, str | None]:
        return {
            "DEPLOY_TARGETS": json.dumps({GROUP: [ENDPOINT]} if targets is None else targets),
            "MODEL_EXECUTION_ROLE_ARN": ROLE,
            "TOPIC_ARN": world["inbox"].topic_arn,
            "IDEMPOTENCY_TABLE": TABLE,
            **extra,
        }

    return env


@pytest.fixture
def deployer(load_handler, deploy_env, world, monkeypatch):
    def load(targets: Any = None, **extra: str | None):
        module = load_handler(NAME, **deploy_env(targets, **extra))
        recorder = RecordingClient(
            module.sagemaker_client, overrides={"update_endpoint": _update_endpoint_in_moto}
        )
        monkeypatch.setattr(module, "sagemaker_client", recorder)
        module.recorder = recorder
        return module

    return load


def expected_names(module, endpoint: str = ENDPOINT) -> tuple[str, str]:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/chat-llm-models/7"
    return module.resource_name(endpoint, arn, "7", "model"), module.resource_name(
        endpoint, arn, "7", "config"
    )


def test_approved_sample_creates_model_config_and_updates_endpoint(
    deployer, world, event, lambda_context, capsys
):
    module = deployer()
    result = module.handler(event(APPROVED), lambda_context)

    model_name, config_name = expected_names(module)
    assert (model_name, config_name) == (
        "chat-llm-v7-" + model_name[-8:],
        "chat-llm-v7-cfg-" + config_name[-8:],
    )
    assert result["action"] == "deployed"
    assert result["targets"] == [
        {
            "endpoint": ENDPOINT,
            "model": model_name,
            "endpoint_config": config_name,
            "model_action": "created",
            "config_action": "created",
            "endpoint_action": "update-started",
            "deployment": "SageMaker default (blue/green, all at once)",
        }
    ]
    sm, rec = world["sm"], module.recorder
    [create_model] = rec.calls_to("create_model")
    assert create_model == {
        "ModelName": model_name,
        "ExecutionRoleArn": ROLE,
        "EnableNetworkIsolation": True,
        "PrimaryContainer": {
            "Image": IMAGE,
            "ModelDataUrl": MODEL_DATA,
            "Environment": {"HF_TASK": "text-generation", "MAX_INPUT_TOKENS": "4096"},
        },
    }
    assert sm.describe_model(ModelName=model_name)["PrimaryContainer"]["ModelDataUrl"] == MODEL_DATA

    config = sm.describe_endpoint_config(EndpointConfigName=config_name)
    assert config["ProductionVariants"] == [
        {
            "VariantName": "primary",
            "ModelName": model_name,
            "InstanceType": "ml.m5.xlarge",
            "InitialInstanceCount": 2,
            "InitialVariantWeight": 1.0,
            "ModelDataDownloadTimeoutInSeconds": 900,
            "ContainerStartupHealthCheckTimeoutInSeconds": 600,
        }
    ]
    assert config["KmsKeyId"] == KMS_KEY
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 20

    assert rec.calls_to("update_endpoint") == [
        {"EndpointName": ENDPOINT, "EndpointConfigName": config_name, "RetainAllVariantProperties": True}
    ]
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == config_name

    [message] = world["inbox"].messages()
    assert message["Subject"] == "[aiplatform] Deploying chat-llm-models v7 to chat-llm"
    assert f"Model:          {model_name} (created)" in message["Message"]
    assert f"Endpoint config: {config_name} (created)" in message["Message"]
    assert "Update:         update-started" in message["Message"]
    assert sorted(emf_metric_names(capsys.readouterr().out)) == [
        "EndpointConfigsCreated",
        "EndpointUpdatesStarted",
        "ModelsCreated",
        "NotificationsPublished",
    ]


def test_duplicate_delivery_deploys_once_via_idempotency_table(deployer, world, event, lambda_context):
    module = deployer()
    first = module.handler(event(APPROVED), lambda_context)
    calls_after_first = len(module.recorder.calls)
    second = module.handler(event(APPROVED), lambda_context)

    assert second == first
    assert len(module.recorder.calls) == calls_after_first  # not a single SageMaker call the second time
    assert len(module.recorder.calls_to("update_endpoint")) == 1
    assert len(world["inbox"].messages()) == 1
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"]
    assert [item["status"]["S"] for item in items] == ["COMPLETED"]


def test_same_change_with_another_event_id_is_not_redeployed(deployer, world, event, lambda_context):
    module = deployer()
    module.handler(event(APPROVED), lambda_context)
    again = event(APPROVED)
    again["id"] = "another-event-for-the-same-change"
    result = module.handler(again, lambda_context)

    assert result["action"] == "already-deployed"
    assert result["targets"][0]["endpoint_action"] == "already-current"
    assert len(module.recorder.calls_to("create_model")) == 1
    assert len(module.recorder.calls_to("update_endpoint")) == 1
    assert len(world["inbox"].messages()) == 1


def test_without_idempotency_table_actions_are_still_idempotent(deployer, world, event, lambda_context):
    module = deployer(IDEMPOTENCY_TABLE=None)
    assert module.persistence_layer is None
    module.handler(event(APPROVED), lambda_context)
    assert module.handler(event(APPROVED), lambda_context)["action"] == "already-deployed"
    assert len(module.recorder.calls_to("update_endpoint")) == 1


def test_existing_model_and_config_are_reused(deployer, world, event, lambda_context):
    module = deployer()
    model_name, config_name = expected_names(module)
    sm = world["sm"]
    sm.create_model(
        ModelName=model_name,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": MODEL_DATA},
        ExecutionRoleArn=ROLE,
    )
    sm.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": model_name,
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 2,
            }
        ],
    )
    result = module.handler(event(APPROVED), lambda_context)
    assert result["targets"][0]["model_action"] == "reused"
    assert result["targets"][0]["config_action"] == "reused"
    assert (
        module.recorder.calls_to("create_model") == []
        and module.recorder.calls_to("create_endpoint_config") == []
    )
    assert module.recorder.calls_to("update_endpoint")[0]["EndpointConfigName"] == config_name


def test_deployment_config_and_variant_selection_from_targets(deployer, world, event, lambda_context):
    sm = world["sm"]
    make_endpoint(
        sm,
        "chat-llm-ab",
        variants=[
            {
                "VariantName": "blue",
                "ModelName": "chat-llm-ab-v6",
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 2,
                "InitialVariantWeight": 0.9,
            },
            {
                "VariantName": "green",
                "ModelName": "chat-llm-ab-v6",
                "InstanceType": "ml.c5.xlarge",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 0.1,
            },
        ],
    )
    module = deployer(
        {GROUP: {"EndpointName": "chat-llm-ab", "DeploymentConfig": CANARY, "VariantNames": ["green"]}}
    )
    result = module.handler(event(APPROVED), lambda_context)

    model_name, config_name = expected_names(module, "chat-llm-ab")
    assert result["targets"][0]["deployment"] == "blue/green CANARY, auto-rollback on 1 alarm(s)"
    [update] = module.recorder.calls_to("update_endpoint")
    assert update == {
        "EndpointName": "chat-llm-ab",
        "EndpointConfigName": config_name,
        "RetainAllVariantProperties": True,
        "DeploymentConfig": CANARY,
    }
    variants = {
        v["VariantName"]: v
        for v in sm.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    }
    assert variants["blue"]["ModelName"] == "chat-llm-ab-v6"  # not selected: unchanged
    assert variants["green"]["ModelName"] == model_name
    assert (variants["blue"]["InitialVariantWeight"], variants["green"]["InstanceType"]) == (
        0.9,
        "ml.c5.xlarge",
    )


def test_last_deployment_config_of_the_endpoint_is_reused(plain):
    fake = FakeSageMaker(last_deployment_config=CANARY)
    module = plain
    target = module.DeployTarget(ENDPOINT)
    result = module.deploy_to_endpoint(
        fake,
        package_arn="arn:aws:sagemaker:us-east-1:1:model-package/g/7",
        version="7",
        containers=[{"Image": IMAGE}],
        target=target,
        role_arn=ROLE,
        ssm=NO_SSM,
    )
    assert result.endpoint_action == "update-started"
    assert fake.updates[0]["DeploymentConfig"] == CANARY


def test_several_endpoints_get_one_notification(deployer, world, event, lambda_context):
    make_endpoint(world["sm"], "chat-llm-eu")
    module = deployer({GROUP: [ENDPOINT, "chat-llm-eu"]})
    result = module.handler(event(APPROVED), lambda_context)
    assert [t["endpoint_action"] for t in result["targets"]] == ["update-started", "update-started"]
    assert {c["EndpointName"] for c in module.recorder.calls_to("update_endpoint")} == {
        ENDPOINT,
        "chat-llm-eu",
    }
    [message] = world["inbox"].messages()
    assert message["Subject"] == "[aiplatform] Deploying chat-llm-models v7 to chat-llm, chat-llm-eu"


def test_aws_failure_is_notified_raised_and_retryable(deployer, world, event, lambda_context, capsys):
    module = deployer({GROUP: ["chat-llm-missing"]})
    with pytest.raises(module.DeploymentError, match="1 of 1 deployment"):
        module.handler(event(APPROVED), lambda_context)
    [message] = world["inbox"].messages()
    assert message["Subject"] == "[aiplatform] Deploying chat-llm-models v7 FAILED for chat-llm-missing"
    assert "Could not find endpoint" in message["Message"]
    assert "ProcessingFailures" in emf_metric_names(capsys.readouterr().out)

    # The idempotency record was released: the retry (same event id) runs again and succeeds.
    make_endpoint(world["sm"], "chat-llm-missing")
    assert module.handler(event(APPROVED), lambda_context)["action"] == "deployed"


def test_inference_component_endpoint_is_reported_not_changed(plain, event):
    # moto requires ModelName on every variant, so this endpoint lives in the fake.
    sns, sagemaker = StubSNS(), FakeSageMaker()
    sagemaker.configs["old"]["ProductionVariants"] = [
        {
            "VariantName": "AllTraffic",
            "InstanceType": "ml.g5.12xlarge",
            "InitialInstanceCount": 1,
            "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2},
        }
    ]
    result = plain.process(event(APPROVED), sagemaker=sagemaker, sns=sns, ssm=NO_SSM, deploy=plain.deploy_approved)
    assert result["action"] == "not-deployed"
    assert result["targets"][0]["endpoint_action"] == "skipped"
    assert sagemaker.updates == [] and list(sagemaker.configs) == ["old"]
    [published] = sns.published
    assert published["Subject"] == "[aiplatform] Deploying chat-llm-models v7 FAILED for chat-llm"
    assert "inference-component endpoint?" in published["Message"]


@pytest.mark.parametrize(
    "status", ["Rejected", "PendingManualApproval", "PENDING_MANUAL_APPROVAL", "", None, 1]
)
def test_non_approved_statuses_are_ignored(deployer, world, event, lambda_context, status):
    module = deployer()
    sample = event(APPROVED)
    sample["detail"]["ModelApprovalStatus"] = status
    assert module.handler(sample, lambda_context)["action"] == "ignored"
    assert module.recorder.calls == [] and world["inbox"].messages() == []


@pytest.mark.parametrize("status", ["APPROVED", "approved"])
def test_approved_in_any_spelling_deploys(deployer, event, lambda_context, status):
    module = deployer()
    sample = event(APPROVED)
    sample["detail"]["ModelApprovalStatus"] = status
    assert module.handler(sample, lambda_context)["action"] == "deployed"


def test_package_no_longer_approved_is_not_deployed(deployer, world, event, lambda_context):
    arn = event(APPROVED)["detail"]["ModelPackageArn"]
    world["sm"].update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    module = deployer()
    result = module.handler(event(APPROVED), lambda_context)
    assert result == {"action": "ignored", "reason": "model package is Rejected now"}
    assert module.recorder.calls_to("create_model") == []


def test_group_without_targets_is_ignored(deployer, world, event, lambda_context):
    module = deployer({"other-group": ["chat-llm"]})
    result = module.handler(event(APPROVED), lambda_context)
    assert result["action"] == "ignored" and "no deploy targets" in result["reason"]
    assert module.recorder.calls == []


def test_missing_execution_role_raises(deployer, event, lambda_context):
    module = deployer(MODEL_EXECUTION_ROLE_ARN=None)
    with pytest.raises(RuntimeError, match="MODEL_EXECUTION_ROLE_ARN"):
        module.handler(event(APPROVED), lambda_context)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("detail"),
        lambda e: e.update(detail="x"),
        lambda e: e.update({"detail-type": "SageMaker Endpoint State Change"}),
        lambda e: e["detail"].pop("ModelPackageArn") and e.pop("resources"),
        lambda e: e["detail"].update(
            ModelPackageArn="arn:aws:sagemaker:us-east-1:1:model-package/unversioned"
        ),
    ],
)
def test_malformed_events_are_ignored(deployer, world, event, lambda_context, mutate):
    module = deployer()
    sample = event(APPROVED)
    mutate(sample)
    assert module.handler(sample, lambda_context)["action"] == "ignored"
    assert module.recorder.calls == []


def test_group_and_version_fall_back_to_the_arn(deployer, world, event, lambda_context):
    module = deployer()
    sample = event(APPROVED)
    del sample["detail"]["ModelPackageGroupName"], sample["detail"]["ModelPackageVersion"]
    sample["detail"]["ModelPackageArn"] = sample["resources"][0]
    assert module.handler(sample, lambda_context)["action"] == "deployed"


@pytest.mark.parametrize(
    ("endpoint", "version"),
    [("chat-llm", "7"), ("e" * 63, "123456"), ("a--b", "1"), ("x", ""), ("9-lives", "42")],
)
def test_resource_names_are_valid_deterministic_and_distinct(pure_handlers, endpoint, version):
    module = pure_handlers[NAME]
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/g/{version or 1}"
    model = module.resource_name(endpoint, arn, version, "model")
    config = module.resource_name(endpoint, arn, version, "config")
    for name in (model, config):
        assert NAME_PATTERN.match(name) and len(name) <= 63, name
    assert model != config
    assert model == module.resource_name(endpoint, arn, version, "model")
    assert model != module.resource_name(endpoint, arn.replace(f"/{version or 1}", "/999"), version, "model")


@pytest.mark.parametrize(
    "endpoint",
    ["acme-ml-dev-chat-llm", "e" * 63, "a--b", "x", "9-lives", "p" * 39 + "--" + "q" * 22, "Mixed-Case-Endpoint"],
)
@pytest.mark.parametrize("version", ["1", "42", "12345678", ""])
def test_generated_names_match_the_iam_pattern_of_the_construct(pure_handlers, endpoint, version):
    """ApprovedModelDeployer lets the function create models and endpoint configs named by
    ``deployed_name_pattern``: every name the handler generates must fall under it."""
    from fnmatch import fnmatchcase

    from constructs_lib.lifecycle.approved_model_deployer import deployed_name_pattern

    module = pure_handlers[NAME]
    pattern = deployed_name_pattern(endpoint).lower()  # IAM sees the lower-cased ARN name
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/g/{version or 1}"
    for kind in ("model", "config"):
        name = module.resource_name(endpoint, arn, version, kind)
        assert fnmatchcase(name.lower(), pattern), (name, pattern)


def test_handler_reads_exactly_what_the_construct_writes(pure_handlers):
    """One DEPLOY_TARGETS schema (constructs_lib/deploy_targets.py): every field the construct's
    DeployTarget writes comes back in the handler's DeployTarget, and the handler uses that very class."""
    import deploy_targets

    from constructs_lib.inference.specs import PromotedModel
    from constructs_lib.lifecycle import DeployTarget as ConstructTarget
    from constructs_lib.lifecycle.approved_model_deployer import ENVIRONMENT_VARIABLE

    module = pure_handlers[NAME]
    assert module.DeployTarget is deploy_targets.TargetEntry and ENVIRONMENT_VARIABLE == "DEPLOY_TARGETS"
    full = ConstructTarget(
        model_package_group="chat-models",
        endpoint_name="chat",
        deployment_config=CANARY,
        variant_names=("v1", "v2"),
        promoted={
            "v2": PromotedModel(image_parameter="/p/chat/v2/image"),
            "v1": PromotedModel(image_parameter="/p/chat/v1/image", model_data_parameter="/p/chat/v1/data"),
        },
    )
    bare = ConstructTarget(model_package_group="chat-models", endpoint_name="chat-b")
    raw = json.dumps({"chat-models": [full.as_environment(), bare.as_environment()]})
    targets, problems = module.parse_deploy_targets(raw)
    assert problems == []
    assert targets == {
        "chat-models": (
            module.DeployTarget(
                "chat", CANARY, ("v1", "v2"),
                {"v1": {"Image": "/p/chat/v1/image", "ModelDataUrl": "/p/chat/v1/data"},
                 "v2": {"Image": "/p/chat/v2/image"}},
            ),
            module.DeployTarget("chat-b"),
        )
    }
    assert bare.as_environment() == {"EndpointName": "chat-b"}  # empty settings are left out


def test_deploy_targets_parsing_accepts_every_documented_form_and_reports_problems(pure_handlers):
    module = pure_handlers[NAME]
    targets, problems = module.parse_deploy_targets(
        json.dumps(
            {
                "g1": "ep-a",
                "g2": ["ep-b", {"EndpointName": "ep-c", "DeploymentConfig": CANARY, "VariantNames": ["v1"]}],
                "arn:aws:sagemaker:us-east-1:1:model-package-group/g3": {"EndpointName": "ep-d"},
                "g4": [{"EndpointName": "bad name"}, 5, {"EndpointName": "ep-e", "DeploymentConfig": "x"}],
            }
        )
    )
    assert targets["g1"] == (module.DeployTarget("ep-a"),)
    assert targets["g2"] == (module.DeployTarget("ep-b"), module.DeployTarget("ep-c", CANARY, ("v1",)))
    assert targets["g3"] == (module.DeployTarget("ep-d"),)
    assert targets["g4"] == (module.DeployTarget("ep-e"),)
    assert len(problems) == 3 and "DEPLOY_TARGETS['g4'][0].EndpointName" in problems[0]
    assert module.parse_deploy_targets("not json")[1][0].startswith("DEPLOY_TARGETS is not JSON")
    assert module.parse_deploy_targets("[1]") == ({}, ["DEPLOY_TARGETS must be a JSON object, got list"])
    assert module.parse_deploy_targets("") == ({}, [])


# --- plain-function tests and the property test use fakes, not moto ---------------------------------
@pytest.fixture
def plain(load_handler):
    """The module without moto or an idempotency table; tests inject fake clients."""
    return load_handler(
        NAME,
        DEPLOY_TARGETS=json.dumps({GROUP: [ENDPOINT]}),
        MODEL_EXECUTION_ROLE_ARN=ROLE,
        TOPIC_ARN="arn:topic",
        IDEMPOTENCY_TABLE=None,
    )


class _NoSSM:
    """The SSM client of targets without promotion parameters: any call fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"ssm.{name} called for a target without promotion parameters")


NO_SSM = _NoSSM()


class FakeSageMaker:
    """Just enough SageMaker for deploy_approved: an approved package and one endpoint."""

    def __init__(self, last_deployment_config: dict[str, Any] | None = None) -> None:
        self.models: set[str] = set()
        self.configs: dict[str, dict[str, Any]] = {
            "old": {
                "EndpointConfigName": "old",
                "ProductionVariants": [
                    {
                        "VariantName": "primary",
                        "ModelName": "m-old",
                        "InstanceType": "ml.g5.2xlarge",
                        "InitialInstanceCount": 1,
                    }
                ],
            }
        }
        self.endpoint_config = "old"
        self.last_deployment_config = last_deployment_config
        self.updates: list[dict[str, Any]] = []

    @staticmethod
    def _missing(what: str) -> ClientError:
        return ClientError(
            {"Error": {"Code": "ValidationException", "Message": f"Could not find {what}"}}, "Op"
        )

    def describe_model_package(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "ModelPackageArn": kwargs["ModelPackageName"],
            "ModelPackageVersion": 7,
            "ModelApprovalStatus": "Approved",
            "ModelPackageStatus": "Completed",
            "InferenceSpecification": {"Containers": [{"Image": IMAGE, "ModelDataUrl": MODEL_DATA}]},
        }

    def describe_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        response = {
            "EndpointName": kwargs["EndpointName"],
            "EndpointConfigName": self.endpoint_config,
            "EndpointStatus": "InService",
        }
        if self.last_deployment_config:
            response["LastDeploymentConfig"] = self.last_deployment_config
        return response

    def describe_model(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["ModelName"] not in self.models:
            raise self._missing("model")
        return {"ModelName": kwargs["ModelName"]}

    def create_model(self, **kwargs: Any) -> dict[str, Any]:
        self.models.add(kwargs["ModelName"])
        return {"ModelArn": "arn:model"}

    def describe_endpoint_config(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["EndpointConfigName"] not in self.configs:
            raise self._missing("endpoint configuration")
        return copy.deepcopy(self.configs[kwargs["EndpointConfigName"]])

    def create_endpoint_config(self, **kwargs: Any) -> dict[str, Any]:
        self.configs[kwargs["EndpointConfigName"]] = kwargs
        return {"EndpointConfigArn": "arn:config"}

    def update_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.updates.append(kwargs)
        self.endpoint_config = kwargs["EndpointConfigName"]
        return {"EndpointArn": "arn:endpoint"}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=events_for(
        ["SageMaker Model Package State Change"],
        [
            "ModelPackageGroupName",
            "ModelPackageVersion",
            "ModelPackageArn",
            "ModelPackageStatus",
            "ModelApprovalStatus",
            "InferenceSpecification",
        ],
    )
)
def test_arbitrary_input_never_raises(plain, lambda_context, monkeypatch, raw):
    module = plain
    sns, sagemaker = StubSNS(), FakeSageMaker()
    monkeypatch.setattr(module, "sns_client", sns)
    monkeypatch.setattr(module, "sagemaker_client", sagemaker)
    result = module.handler(copy.deepcopy(raw), lambda_context)
    assert result["action"] in {"ignored", "deployed", "already-deployed"}
    assert len(sagemaker.updates) == (1 if result["action"] == "deployed" else 0)
    for published in sns.published:
        assert len(published["Subject"]) <= 99 and len(published["Message"].encode()) <= 8 * 1024


def test_the_sample_drives_the_plain_function_with_fakes(plain, event):
    module = plain
    sns, sagemaker = StubSNS(), FakeSageMaker()
    result = module.process(event(APPROVED), sagemaker=sagemaker, sns=sns, ssm=NO_SSM, deploy=module.deploy_approved)
    assert result["action"] == "deployed"
    [update] = sagemaker.updates
    assert update["EndpointConfigName"] == expected_names(module)[1]
    new_config = sagemaker.configs[update["EndpointConfigName"]]
    assert new_config["ProductionVariants"][0]["InstanceType"] == "ml.g5.2xlarge"
    assert new_config["ProductionVariants"][0]["ModelName"] == expected_names(module)[0]
    assert "KmsKeyId" not in new_config  # not in the source config: not invented


# Structured approvals: most examples are well-formed enough to reach the deploy path (issue: the
# arbitrary-JSON examples above almost never get past the envelope checks).
_APPROVALS = st.fixed_dictionaries(
    {
        "group": st.sampled_from([GROUP, GROUP, "other-models", ""]),
        "version": st.one_of(st.integers(min_value=1, max_value=10**6), st.sampled_from(["7", "x", ""])),
        "status": st.sampled_from(["Approved", "APPROVED", "approved", "Rejected", "PendingManualApproval", ""]),
        "arn_ok": st.booleans(),
        "id": st.text(min_size=0, max_size=8),
    }
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=_APPROVALS)
def test_structured_approvals_deploy_exactly_when_approved_for_a_target_group(plain, lambda_context, monkeypatch, spec):
    module = plain
    sns, sagemaker = StubSNS(), FakeSageMaker()
    monkeypatch.setattr(module, "sns_client", sns)
    monkeypatch.setattr(module, "sagemaker_client", sagemaker)
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{spec['group'] or 'g'}/{spec['version']}"
    event = {
        "id": spec["id"], "detail-type": "SageMaker Model Package State Change", "source": "aws.sagemaker",
        "detail": {
            "ModelPackageGroupName": spec["group"], "ModelPackageVersion": spec["version"],
            "ModelPackageArn": arn if spec["arn_ok"] else "not-an-arn", "ModelApprovalStatus": spec["status"],
        },
    }
    result = module.handler(event, lambda_context)
    should_deploy = (
        spec["status"].casefold() == "approved" and spec["group"] == GROUP and spec["arn_ok"]
        and str(spec["version"]).isdigit()
    )
    assert (result["action"] == "deployed") == should_deploy, (spec, result)
    assert len(sagemaker.updates) == (1 if should_deploy else 0)
    if should_deploy:
        assert sagemaker.updates[0]["RetainAllVariantProperties"] is True and len(sns.published) == 1


# --- promotion parameters: what the template's model can take ---------------------------------------
@pytest.mark.parametrize(("names", "containers", "message"), [
    ({"Image": "/p/image", "ModelDataUrl": "/p/data"}, [{"Image": "i"}, {"Image": "j"}], r"hold one container; the version has 2"),
    ({"Image": "/p/image", "ModelDataUrl": "/p/data"}, [{"Image": "i", "ModelDataSource": {"S3DataSource": {}}}],
     r"hold an image and a ModelDataUrl; the version has ModelDataSource"),
    ({"Image": "/p/image", "ModelDataUrl": "/p/data"}, [{"Image": "i"}],
     r"variant AllTraffic's template model has model data, the version none"),
    ({"Image": "/p/image"}, [{"Image": "i", "ModelDataUrl": "s3://b/m.tar.gz"}],
     r"variant AllTraffic's template model has no model data, the version has some"),
])
def test_a_version_the_template_model_cannot_take_is_refused(pure_handlers, names, containers, message):
    module = pure_handlers["model_deployer"]
    target = module.DeployTarget("ep", parameters={"AllTraffic": names})
    with pytest.raises(module.UnrecordableVersion, match=r"^the promotion parameters of ep.*" + message):
        module.promoted_values(target, containers)


def test_promotion_parameters_get_the_versions_image_and_model_data(pure_handlers):
    module = pure_handlers["model_deployer"]
    target = module.DeployTarget("ep", parameters={"a": {"Image": "/p/a/image", "ModelDataUrl": "/p/a/data"}, "b": {"Image": "/p/b/image"}})
    with pytest.raises(module.UnrecordableVersion):  # b's template model has no model data
        module.promoted_values(target, [{"Image": "i:2", "ModelDataUrl": "s3://b/v2.tar.gz"}])
    assert module.promoted_values(module.DeployTarget("ep"), [{"Image": "i"}, {"Image": "j"}]) == {}  # no parameters
    one = module.DeployTarget("ep", parameters={"a": {"Image": "/p/a/image", "ModelDataUrl": "/p/a/data"}})
    assert module.promoted_values(one, [{"Image": "i:2", "ModelDataUrl": "s3://b/v2.tar.gz"}]) == {
        "a": {"/p/a/image": "i:2", "/p/a/data": "s3://b/v2.tar.gz"}
    }
    parsed, problems = module.parse_deploy_targets('{"g": [{"EndpointName": "ep", "Parameters": {"a": {"Image": 3}}}]}')
    assert problems == ["DEPLOY_TARGETS['g'][0].Parameters: expected {variant: {Image, ModelDataUrl}} parameter names"]
    assert parsed["g"][0].parameters == {}
