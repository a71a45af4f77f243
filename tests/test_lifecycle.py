"""Lifecycle glue: the EventBridge rules, the reliable functions behind them, their least-privilege IAM,
the idempotency table, and the ``lifecycle`` config section.

Two synths: the default platform (``default_platform``, shared with the other test modules; all five nag
packs) and one module-scoped library stack with what the default config does not switch on (HyperPod
auto-repair, a cluster filter), also with every nag pack and cfn-lint.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from botocore.session import get_session
from botocore.validate import validate_parameters

from constructs_lib import sagemaker_events as ev
from constructs_lib.errors import PlatformValidationError
from tests.conftest import lint_template, new_app, resources_of

pytestmark = pytest.mark.xdist_group("lifecycle")  # one worker builds the module's library stack once

ALL_DETAIL_TYPES = {v for k, v in vars(ev.DetailType).items() if k.isupper()}
SOURCE = ["aws.sagemaker"]
# construct id in the lifecycle stack -> (timeout s, memory MB, reserved concurrency)
FUNCTIONS = {
    "EndpointNotifications": (30, 256, 5),
    "TrainingJobNotifications": (30, 256, 5),
    "ApprovedModelDeployer": (120, 256, 2),
    "IdleEndpointGuard": (120, 256, 1),
    "HyperPodEventNotifications": (60, 256, 5),
}
IDEMPOTENCY_TABLE_ID = "ApprovedModelDeployerIdempotencyTable74F28FED"
CLUSTER_ARN = "arn:aws:sagemaker:us-east-1:123456789012:cluster/abcdef123456"


# --- helpers ---------------------------------------------------------------------------------------
def render(value) -> str | list:
    """An ARN as text: ``${Partition}``/``${Region}``/``${Account}`` for the pseudo parameters."""
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(render(p) for p in parts)
    if "Ref" in value:
        return {"AWS::Partition": "${Partition}", "AWS::Region": "${Region}", "AWS::AccountId": "${Account}"}.get(
            value["Ref"], f"<{value['Ref']}>"
        )
    if "Fn::GetAtt" in value:
        return f"<{value['Fn::GetAtt'][0]}.{value['Fn::GetAtt'][1]}>"
    if "Fn::GetStackOutput" in value:
        return f"<output {value['Fn::GetStackOutput']['OutputName']}>"
    raise AssertionError(value)


def arn(resource: str) -> str:
    return f"arn:${{Partition}}:sagemaker:${{Region}}:${{Account}}:{resource}"


def by_prefix(template, cfn_type: str, prefix: str) -> tuple[str, dict]:
    found = [(k, v) for k, v in resources_of(template, cfn_type).items() if k.startswith(prefix)]
    assert len(found) == 1, (cfn_type, prefix, [k for k, _ in found])
    return found[0]


def statements(template, policy_prefix: str) -> dict[str, dict]:
    """Statements with a Sid of the role policy (or managed policy) whose logical id starts with the prefix."""
    policies = [
        v for k, v in template.raw["Resources"].items()
        if k.startswith(policy_prefix) and v["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
    ]
    assert len(policies) == 1, policy_prefix
    return {s["Sid"]: s for s in policies[0]["Properties"]["PolicyDocument"]["Statement"] if "Sid" in s}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def lifecycle(default_platform):
    return default_platform["lifecycle"]


@pytest.fixture(scope="module")
def physical(default_config) -> dict[str, str]:
    return {ep.name: f"{default_config.prefix}-{ep.name}" for ep in default_config.endpoints}


# --- rules -----------------------------------------------------------------------------------------
def test_rules_use_exactly_the_sagemaker_detail_types(lifecycle, physical):
    patterns = {k: v["Properties"].get("EventPattern") for k, v in resources_of(lifecycle, "AWS::Events::Rule").items()}
    assert len(patterns) == 5
    used = {t for p in patterns.values() if p for t in p["detail-type"]}
    assert used == ALL_DETAIL_TYPES  # every SageMaker detail-type the handlers know, no other spelling
    assert all(p["source"] == SOURCE for p in patterns.values() if p)

    def pattern(prefix):
        return next(p for k, p in patterns.items() if k.startswith(prefix))

    assert pattern("EndpointNotificationsRule") == {
        "source": SOURCE,
        "detail-type": ["SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"],
        "detail": {"EndpointName": [{"prefix": "acme-ml-dev-"}]},  # every platform endpoint, any number
    }
    assert all(name.startswith("acme-ml-dev-") for name in physical.values())
    assert pattern("TrainingJobNotificationsRule") == {
        "source": SOURCE,
        "detail-type": ["SageMaker Training Job State Change"],
        "detail": {
            "TrainingJobStatus": [{"equals-ignore-case": s} for s in ("Failed", "Stopped", "Completed")],
            # the platform's own jobs (config.prefix), never a TrainingPipeline's (it notifies itself)
            "Tags": {"aiplatform:platform": ["acme-ml-dev"], "aiplatform:pipeline": [{"exists": False}]},
        },
    }
    assert pattern("ApprovedModelDeployerRule") == {
        "source": SOURCE,
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelApprovalStatus": [{"equals-ignore-case": "Approved"}],
            "ModelPackageGroupName": ["chat-llm-models"],
        },
    }
    clusters = ["acme-ml-dev-llm-pretrain"]  # hyperpod_events: {} -> the platform's training_clusters
    assert pattern("HyperPodEventNotificationsRule") == {
        "source": SOURCE,
        "detail-type": [
            "SageMaker HyperPod Cluster State Change",
            "SageMaker HyperPod Cluster Node Health Event",
            "SageMaker HyperPod Cluster Event",
        ],
        "detail": {"$or": [{"ClusterName": clusters}, {"EventDetails": {"ClusterName": clusters}}]},
    }
    _, idle = by_prefix(lifecycle, "AWS::Events::Rule", "IdleEndpointGuardRule")
    assert idle["Properties"]["ScheduleExpression"] == "rate(1 hour)"


def test_every_target_retries_then_dead_letters_to_an_encrypted_queue(lifecycle):
    queues = resources_of(lifecycle, "AWS::SQS::Queue")
    queue_policies = [p["Properties"] for p in resources_of(lifecycle, "AWS::SQS::QueuePolicy").values()]
    for rule_id, rule in resources_of(lifecycle, "AWS::Events::Rule").items():
        (target,) = rule["Properties"]["Targets"]
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200}, rule_id
        dlq = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        assert "DeadLetterQueue" in dlq and "KmsMasterKeyId" in queues[dlq]["Properties"], rule_id
        assert target["Arn"]["Fn::GetAtt"][0].startswith(rule_id.split("Rule")[0] + "Handler")
        allowed = [
            s for p in queue_policies if p["Queues"] == [{"Ref": dlq}] for s in p["PolicyDocument"]["Statement"]
            if s.get("Principal") == {"Service": "events.amazonaws.com"} and s["Action"] == "sqs:SendMessage"
        ]
        assert allowed and allowed[0]["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}


@pytest.mark.parametrize("construct", sorted(FUNCTIONS))
def test_every_function_is_reliable(lifecycle, construct):
    fn_id, fn = by_prefix(lifecycle, "AWS::Lambda::Function", f"{construct}Handler")
    p = fn["Properties"]
    assert (p["Timeout"], p["MemorySize"], p["ReservedConcurrentExecutions"]) == FUNCTIONS[construct]
    assert p["Runtime"] == "python3.14" and p["Handler"] == "handler.handler"
    assert p["TracingConfig"] == {"Mode": "Active"} and p["LoggingConfig"]["LogFormat"] == "JSON"
    assert p["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "AIPlatform"
    assert "KmsKeyArn" in p
    failure_queue = p["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    assert failure_queue.startswith(f"{construct}HandlerFailureQueue")
    configs = [
        c["Properties"] for c in resources_of(lifecycle, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": fn_id}
    ]
    assert len(configs) == 1
    c = configs[0]
    assert (c["MaximumRetryAttempts"], c["MaximumEventAgeInSeconds"]) == (2, 21600)
    assert c["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [failure_queue, "Arn"]}


# --- IAM -------------------------------------------------------------------------------------------
def test_deployer_may_touch_only_its_groups_endpoints_and_generated_names(lifecycle):
    """The steps of the promotion deploy; the EventBridge entry only reads, records and starts."""
    s = statements(lifecycle, "ApprovedModelDeployerStepHandlerRoleDefaultPolicy")
    endpoint = arn("endpoint/acme-ml-dev-chat-llm")
    generated_configs = arn("endpoint-config/acme-ml-dev-chat-llm-*")
    promotion_table = f"<{by_prefix(lifecycle, 'AWS::DynamoDB::Table', 'ApprovedModelDeployerPromotionTable')[0]}.Arn>"
    expected = {
        "DescribeApprovedVersions": ("sagemaker:DescribeModelPackage", [arn("model-package/chat-llm-models/*")]),
        "DescribeTargetEndpoints": ("sagemaker:DescribeEndpoint", [endpoint]),
        "CreateDeployedModels": (["sagemaker:CreateModel", "sagemaker:DescribeModel"], [arn("model/acme-ml-dev-chat-llm-*")]),
        "CreateDeployedEndpointConfigs": ("sagemaker:CreateEndpointConfig", [generated_configs]),
        "UpdateTargetEndpoints": ("sagemaker:UpdateEndpoint", sorted([endpoint, generated_configs])),
        "ReadCurrentEndpointConfigs": ("sagemaker:DescribeEndpointConfig", [arn("endpoint-config/*")]),
        "UsePromotionTable": (["dynamodb:GetItem", "dynamodb:UpdateItem"], [promotion_table]),
        "PublishNotifications": ("sns:Publish", ["<output PublishOutputRefNotificationsCE9D1424634BD2EE>"]),
        # the promotion parameters of chat-llm's variant, and the model an endpoint serves after a rollback
        "RecordPromotedVersions": ("ssm:PutParameter", [
            f"arn:${{Partition}}:ssm:${{Region}}:${{Account}}:parameter/acme-ml/dev/promotion/chat-llm/AllTraffic/{name}"
            for name in ("image", "model-data")
        ]),
        "ReadServingModels": ("sagemaker:DescribeModel", [arn("model/*")]),
    }
    for sid, (actions, resources) in expected.items():
        assert s[sid]["Action"] == actions, sid
        assert sorted(as_list(render(s[sid]["Resource"]))) == resources, sid
    role_id = next(k for k in lifecycle.raw["Resources"] if k.startswith("ApprovedModelDeployerModelExecutionRole"))
    assert s["PassModelExecutionRole"]["Action"] == "iam:PassRole"
    assert s["PassModelExecutionRole"]["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert s["PassModelExecutionRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert s["EncryptPromotionRecords"]["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Join": ["", ["dynamodb.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }
    assert s["GrantEndpointStorageEncryption"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert "UseIdempotencyTable" not in s

    entry = statements(lifecycle, "ApprovedModelDeployerHandlerRoleDefaultPolicy")
    assert set(entry) == {
        "DescribeApprovedVersions", "UseIdempotencyTable", "EncryptIdempotencyRecords", "UsePromotionTable",
        "PublishNotifications", "EncryptNotifications",
    }
    assert entry["UseIdempotencyTable"]["Action"] == ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert render(entry["UseIdempotencyTable"]["Resource"]) == f"<{IDEMPOTENCY_TABLE_ID}.Arn>"
    policy = next(
        v for k, v in lifecycle.raw["Resources"].items()
        if k.startswith("ApprovedModelDeployerHandlerRoleDefaultPolicy")
    )
    machine_id = by_prefix(lifecycle, "AWS::StepFunctions::StateMachine", "ApprovedModelDeployerPromotion")[0]
    assert {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}} in policy[
        "Properties"]["PolicyDocument"]["Statement"]


def test_promotion_is_a_logged_traced_time_limited_state_machine(lifecycle):
    """Issue: serialized per endpoint, waits until InService, waits for the outcome, retries throttling."""
    machine_id, machine = by_prefix(lifecycle, "AWS::StepFunctions::StateMachine", "ApprovedModelDeployerPromotion")
    p = machine["Properties"]
    assert p["TracingConfiguration"] == {"Enabled": True}
    assert p["LoggingConfiguration"]["Level"] == "ALL" and p["LoggingConfiguration"]["IncludeExecutionData"] is True
    log_group = p["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert "KmsKeyId" in lifecycle.raw["Resources"][log_group]["Properties"]
    parts = p["DefinitionString"]["Fn::Join"][1]
    asl = json.loads("".join(x if isinstance(x, str) else f"<{x['Fn::GetAtt'][0]}.Arn>" for x in parts))
    assert asl["TimeoutSeconds"] == 24 * 3600 and asl["StartAt"] == "AcquireStep"
    states = asl["States"]
    assert {k: v["Type"] for k, v in states.items()} == {
        "AcquireStep": "Task", "NextStep": "Task", "StatusStep": "Task", "DeployStep": "Task",
        "OutcomeStep": "Task", "ReleaseStep": "Task", "Route": "Choice", "WaitInService": "Wait",
        "Watch": "Wait", "Done": "Succeed", "UnknownStep": "Fail",
    }
    assert states["WaitInService"] == {"Type": "Wait", "Seconds": 60, "Next": "StatusStep"}
    assert states["Watch"] == {"Type": "Wait", "Seconds": 60, "Next": "OutcomeStep"}
    assert {c["StringEquals"]: c["Next"] for c in states["Route"]["Choices"]} == {
        "Next": "NextStep", "WaitInService": "WaitInService", "Deploy": "DeployStep", "Watch": "Watch",
        "Release": "ReleaseStep", "Done": "Done",
    }
    assert states["DeployStep"]["Parameters"] == {"Step": "deploy", "State.$": "$", "Execution.$": "$$.Execution.Id"}
    assert states["DeployStep"]["Retry"][0]["ErrorEquals"][0] == "TransientError"
    step_fn = by_prefix(lifecycle, "AWS::Lambda::Function", "ApprovedModelDeployerStepHandler")[0]
    assert all(
        states[name]["Resource"] == f"<{step_fn}.Arn>"
        for name in ("AcquireStep", "NextStep", "StatusStep", "DeployStep", "OutcomeStep", "ReleaseStep")
    )
    env = by_prefix(lifecycle, "AWS::Lambda::Function", "ApprovedModelDeployerHandler")[1]["Properties"]["Environment"]["Variables"]
    assert env["STATE_MACHINE_ARN"] == {"Ref": machine_id}
    table_id, table = by_prefix(lifecycle, "AWS::DynamoDB::Table", "ApprovedModelDeployerPromotionTable")
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "EndpointName", "KeyType": "HASH"}]
    assert (table["DeletionPolicy"], env["PROMOTION_TABLE"]) == ("Retain", {"Ref": table_id})


def test_deployed_models_run_with_their_own_least_privilege_role(lifecycle):
    _, role = by_prefix(lifecycle, "AWS::IAM::Role", "ApprovedModelDeployerModelExecutionRole")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"
    }
    assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]
    s = statements(lifecycle, "ApprovedModelDeployerModelExecutionPolicy")
    assert render(s["PullModelImages"]["Resource"]) == (
        "arn:${Partition}:ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"
    )
    assert sorted(render(s["ReadModelData"]["Resource"])) == [
        "arn:${Partition}:s3:::acme-ml-dev-artifacts-${Account}-${Region}/models/*",
        "arn:${Partition}:s3:::acme-ml-models/chat-llm/*",
    ]
    log_group = "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/sagemaker/Endpoints/acme-ml-dev-chat-llm"
    assert render(s["WriteEndpointLogs"]["Resource"]) == [log_group, f"{log_group}:log-stream:*"]
    assert render(s["WriteDataCapture"]["Resource"]) == (
        "arn:${Partition}:s3:::acme-ml-dev-artifacts-${Account}-${Region}/data-capture/acme-ml-dev-chat-llm/*"
    )
    assert s["AuthenticateToEcrAndPublishMetrics"]["Action"] == ["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]


def asset_settings(outdir: Path, function: dict) -> dict:
    """The idle guard's SETTINGS_FILE, read from the function's code asset in the cloud assembly."""
    env = function["Properties"]["Environment"]["Variables"]
    asset = outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    return json.loads((asset / env["SETTINGS_FILE"]).read_text())


def test_idle_guard_reads_every_endpoint_and_scales_none_unless_opted_in(default_platform, lifecycle, physical):
    s = statements(lifecycle, "IdleEndpointGuardHandlerRoleDefaultPolicy")
    # One ARN pattern for any number of endpoints: every platform endpoint is named <prefix>-<name>.
    assert render(s["DescribeWatchedEndpoints"]["Resource"]) == arn("endpoint/acme-ml-dev-*")
    assert all(name.startswith("acme-ml-dev-") for name in physical.values())
    assert (s["ReadInvocationMetrics"]["Action"], s["ReadInvocationMetrics"]["Resource"]) == ("cloudwatch:GetMetricData", "*")
    assert not {"ScaleOptedInEndpoints", "LowerMinimumCapacity", "ScaleOptedInComponents"} & set(s)
    function = by_prefix(lifecycle, "AWS::Lambda::Function", "IdleEndpointGuardHandler")[1]
    env = function["Properties"]["Environment"]["Variables"]
    # The list is a file in the code asset, not the environment (Lambda: 4 KB of environment in all).
    assert sorted(env) == sorted(["TOPIC_ARN", "PLATFORM_NAME", "SETTINGS_FILE", "IDLE_HOURS", "POWERTOOLS_SERVICE_NAME",
                                  "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"])
    settings = asset_settings(default_platform.outdir, function)
    # each endpoint with its kind: the guard reads the metrics that kind publishes (issue: async endpoints
    # publish no Invocations), never guessing the kind itself
    assert settings == {"ENDPOINTS": [
        {"EndpointName": "acme-ml-dev-batch-scoring", "Kind": "async"},
        {"EndpointName": "acme-ml-dev-chat-llm", "Kind": "realtime"},
        {"EndpointName": "acme-ml-dev-embeddings", "Kind": "serverless"},
        {"EndpointName": "acme-ml-dev-fraud-scorer", "Kind": "realtime"},
        {"EndpointName": "acme-ml-dev-llm-hosting", "Kind": "inference-components",
         "InferenceComponents": ["acme-ml-dev-llm-hosting-llama-8b"]},
        {"EndpointName": "acme-ml-dev-many-models", "Kind": "multi-model"},
        {"EndpointName": "acme-ml-dev-ranker", "Kind": "realtime"},
    ]}
    assert sorted(e["EndpointName"] for e in settings["ENDPOINTS"]) == sorted(physical.values())
    assert env["IDLE_HOURS"] == "24" and env["SETTINGS_FILE"] == "settings.json"


def test_idle_guard_of_500_endpoints_keeps_its_environment_and_policy_small(scope):
    """500 watched endpoints: the environment stays the same few variables (Lambda: 4 KB in all, "Lambda
    quotas") and DescribeEndpoint one ARN pattern (IAM: 10,240 characters of inline policy per role)."""
    from aws_cdk.assertions import Template

    from constructs_lib import EndpointKind, IdleEndpointGuard, WatchedEndpoint

    stack, key, topic = scope
    names = [f"acme-ml-prod-endpoint-{i:03d}" for i in range(500)]
    IdleEndpointGuard(
        stack, "Idle500", topic=topic, key=key, endpoint_name_prefix="acme-ml-prod-",
        endpoint_names=[WatchedEndpoint(n, EndpointKind.REALTIME) for n in names],
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    (function,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    env = function["Environment"]["Variables"]
    assert env == {
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t", "PLATFORM_NAME": "aiplatform",
        "SETTINGS_FILE": "settings.json", "IDLE_HOURS": "24", "POWERTOOLS_SERVICE_NAME": "idle_endpoint_guard",
        "POWERTOOLS_METRICS_NAMESPACE": "AIPlatform", "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    (policy,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::IAM::Policy"]
    (describe,) = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "DescribeWatchedEndpoints"]
    assert len(json.dumps(policy["PolicyDocument"])) < 10_240 // 4
    assert describe["Resource"] == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
        ":endpoint/acme-ml-prod-*"]]}


def test_idle_guard_refuses_names_outside_its_prefix(scope):
    from constructs_lib import IdleEndpointGuard

    stack, key, topic = scope
    with pytest.raises(PlatformValidationError, match=(
            r"endpoint_names: got \['other-a'\]; names that start with endpoint_name_prefix 'acme-'")):
        IdleEndpointGuard(stack, "Prefix", topic=topic, key=key, endpoint_names=["acme-a", "other-a"],
                          endpoint_name_prefix="acme-")


def test_a_function_environment_over_lambdas_4_kb_is_refused_at_synth(scope):
    from constructs_lib.lifecycle.reliable_function import ReliableFunction

    stack, key, _ = scope
    with pytest.raises(PlatformValidationError, match=(
            r"ReliableFunction Validation/Big: 1 problem\(s\)\n  - environment: got '4107 bytes \(BIG, POWERTOOLS_LOG_LEVEL, "
            r".*\)'; at most 4096 bytes of variable names and values in all \(Lambda's quota; each unresolved token "
            r"counted as 100 characters\): pass large settings as data_files instead")):
        ReliableFunction(stack, "Big", code_name="idle_endpoint_guard", description="too big", key=key,
                         environment={"BIG": "x" * 4000})


def test_training_notifier_registers_only_in_its_group(lifecycle):
    s = statements(lifecycle, "TrainingJobNotificationsHandlerRoleDefaultPolicy")
    assert s["RegisterModelVersions"]["Action"] == "sagemaker:CreateModelPackage"
    assert render(s["RegisterModelVersions"]["Resource"]) == [
        arn("model-package-group/chat-llm-models"), arn("model-package/chat-llm-models/*")
    ]
    env = by_prefix(lifecycle, "AWS::Lambda::Function", "TrainingJobNotificationsHandler")[1]["Properties"]["Environment"]
    assert env["Variables"]["MODEL_PACKAGE_GROUP"] == "chat-llm-models"


def test_hyperpod_notifier_repairs_nothing_unless_opted_in(lifecycle):
    s = statements(lifecycle, "HyperPodEventNotificationsHandlerRoleDefaultPolicy")
    assert "RepairOptedInClusterNodes" not in s
    actions = json.dumps(lifecycle.raw["Resources"])
    assert "BatchReplaceClusterNodes" not in actions and "BatchRebootClusterNodes" not in actions


# --- idempotency table and deploy targets ----------------------------------------------------------
def test_idempotency_table_is_on_demand_encrypted_recoverable_expiring_and_retained(lifecycle):
    table = lifecycle.raw["Resources"][IDEMPOTENCY_TABLE_ID]  # stateful: the logical id is part of the contract
    p = table["Properties"]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert p["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert p["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"]["SSEType"] == "KMS" and p["SSESpecification"]["SSEEnabled"] is True
    assert render(p["SSESpecification"]["KMSMasterKeyId"]) == "<output PublishOutputFnGetAttPlatformKey205D0CA7Arn0C5A0BDE>"
    env = by_prefix(lifecycle, "AWS::Lambda::Function", "ApprovedModelDeployerHandler")[1]["Properties"]["Environment"]
    assert env["Variables"]["IDEMPOTENCY_TABLE"] == {"Ref": IDEMPOTENCY_TABLE_ID}
    assert env["Variables"]["IDEMPOTENCY_EXPIRY_SECONDS"] == "86400"


def test_deploy_targets_carry_the_endpoints_own_deployment_config(lifecycle, default_platform):
    env = by_prefix(lifecycle, "AWS::Lambda::Function", "ApprovedModelDeployerHandler")[1]["Properties"]["Environment"]
    targets = json.loads(env["Variables"]["DEPLOY_TARGETS"])
    assert targets == {
        "chat-llm-models": [
            {
                "EndpointName": "acme-ml-dev-chat-llm",
                "DeploymentConfig": {
                    "BlueGreenUpdatePolicy": {
                        "TrafficRoutingConfiguration": {
                            "Type": "CANARY",
                            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                            "WaitIntervalInSeconds": 600,
                        },
                        "TerminationWaitInSeconds": 300,
                    },
                    "AutoRollbackConfiguration": {
                        "Alarms": [
                            {"AlarmName": "acme-ml-dev-chat-llm-5xx-rate-critical"},
                            {"AlarmName": "acme-ml-dev-chat-llm-p99-model-latency-critical"},
                        ]
                    },
                },
                # keep_promoted_version (default): where the template's model reads the promoted version
                "Parameters": {
                    "AllTraffic": {
                        "Image": "/acme-ml/dev/promotion/chat-llm/AllTraffic/image",
                        "ModelDataUrl": "/acme-ml/dev/promotion/chat-llm/AllTraffic/model-data",
                    }
                },
            }
        ]
    }
    # What the handler passes to UpdateEndpoint is valid for the API (botocore's service model).
    model = get_session().get_service_model("sagemaker")
    for target in targets["chat-llm-models"]:
        validate_parameters(
            {"EndpointName": target["EndpointName"], "EndpointConfigName": "x", "DeploymentConfig": target["DeploymentConfig"]},
            model.operation_model("UpdateEndpoint").input_shape,
        )
    # ... and the rollback alarms are the endpoint's own, by the names the inference stack gives them.
    alarms = {a["Properties"].get("AlarmName") for a in resources_of(default_platform["inference"], "AWS::CloudWatch::Alarm").values()}
    rollback = targets["chat-llm-models"][0]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert {a["AlarmName"] for a in rollback} <= alarms


def test_deployment_config_is_the_endpoints_typed_fact():
    """``DeployTarget.for_endpoint`` reads ``EndpointBase.deployment_config`` (built by the endpoint from its
    spec, rollback alarms by name), never the endpoint's generated ``CfnEndpoint``; imported endpoints have none."""
    from aws_cdk import Stack

    from constructs_lib import DeploymentSpec, DeploymentStrategy, InferenceEndpoint, ModelSpec, VariantSpec
    from constructs_lib.lifecycle import DeployTarget
    from constructs_lib.lifecycle.approved_model_deployer import deployment_config_of

    stack = Stack(new_app(), "Endpoint")
    endpoint = InferenceEndpoint(
        stack, "Ranker", endpoint_name="x", deployment=DeploymentSpec(strategy=DeploymentStrategy.ROLLING, wait_minutes=1),
        variants=[VariantSpec(model=ModelSpec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"),
                              instance_type="ml.c5.xlarge", instance_count=2)],
    )
    expected = {
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "x-5xx-rate-critical"}, {"AlarmName": "x-p99-model-latency-critical"}]},
        "RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 20}, "WaitIntervalInSeconds": 60},
    }
    assert deployment_config_of(endpoint) == expected
    assert DeployTarget.for_endpoint(endpoint, model_package_group="g").deployment_config == expected
    # The same structure is what CloudFormation gets, with each alarm by Ref (the endpoint waits for its alarms).
    cfn = Stack.of(endpoint).resolve(endpoint.endpoint.deployment_config)
    assert cfn["autoRollbackConfiguration"]["alarms"] == [
        {"alarmName": {"Ref": stack.get_logical_id(a.node.default_child)}} for a in endpoint.rollback_alarms]
    assert cfn["rollingUpdatePolicy"] == {"maximumBatchSize": {"type": "CAPACITY_PERCENT", "value": 20}, "waitIntervalInSeconds": 60}
    assert deployment_config_of(InferenceEndpoint.from_endpoint_name(stack, "Imported", "y")) is None


# --- what the default config does not switch on: a library stack ------------------------------------
@pytest.fixture(scope="module")
def library_stack(tmp_path_factory):
    """Training notifications without registration, HyperPod with a cluster filter and auto-repair, the idle
    guard scaling an async endpoint and an inference component to zero; all five nag packs (synth fails
    on any unacknowledged finding)."""
    from aws_cdk import Stack

    from constructs_lib import (
        EndpointKind,
        HyperPodClusterRef,
        HyperPodEventNotifications,
        IdleEndpointGuard,
        NotificationTopic,
        PlatformKey,
        ScaleToZero,
        TrainingJobNotifications,
        add_compliance_checks,
    )
    outdir = tmp_path_factory.mktemp("lifecycle-library")
    app = new_app(outdir)
    stack = Stack(app, "LifecycleLibrary")
    key = PlatformKey(stack, "Key", alias="alias/lifecycle-library").key
    topic = NotificationTopic(stack, "Topic", key=key, display_name="lifecycle").topic
    TrainingJobNotifications(stack, "Training", topic=topic, key=key)
    HyperPodEventNotifications(
        stack, "HyperPod", topic=topic, key=key, cluster_names=["llm-pretrain", "vision"],
        auto_repair=[HyperPodClusterRef(cluster_name="llm-pretrain", cluster_arn=CLUSTER_ARN)],
    )
    IdleEndpointGuard(
        stack, "Idle", topic=topic, key=key, endpoint_names=["chat", "batch", "llm"], idle_hours=12,
        scale_to_zero=[
            ScaleToZero("batch", EndpointKind.ASYNC),
            ScaleToZero("llm", EndpointKind.INFERENCE_COMPONENTS, inference_components=("llm-a", "llm-b")),
        ],
    )
    add_compliance_checks(app)
    app.synth()
    from aws_cdk.assertions import Template

    path = outdir / "LifecycleLibrary.template.json"
    template = Template.from_json(json.loads(path.read_text()))
    template.raw = json.loads(path.read_text())
    template.path = path
    return template


def test_library_stack_passes_cfn_lint(library_stack):
    assert lint_template(library_stack.path) == []


def test_hyperpod_rule_filters_clusters_in_both_event_shapes(library_stack):
    _, rule = by_prefix(library_stack, "AWS::Events::Rule", "HyperPodRule")
    names = ["llm-pretrain", "vision"]
    assert rule["Properties"]["EventPattern"]["detail"] == {
        "$or": [{"ClusterName": names}, {"EventDetails": {"ClusterName": names}}]
    }
    assert set(rule["Properties"]["EventPattern"]["detail-type"]) == {
        t for t in ALL_DETAIL_TYPES if "HyperPod" in t
    }


def test_hyperpod_repair_is_allowed_on_the_opted_in_cluster_arn_only(library_stack):
    s = statements(library_stack, "HyperPodHandlerRoleDefaultPolicy")
    assert s["RepairOptedInClusterNodes"]["Action"] == [
        "sagemaker:BatchRebootClusterNodes", "sagemaker:BatchReplaceClusterNodes"
    ]
    assert s["RepairOptedInClusterNodes"]["Resource"] == CLUSTER_ARN
    env = by_prefix(library_stack, "AWS::Lambda::Function", "HyperPodHandler")[1]["Properties"]["Environment"]
    assert json.loads(env["Variables"]["AUTO_REPAIR_CLUSTERS"]) == ["llm-pretrain", CLUSTER_ARN]


def test_idle_guard_scales_only_the_opted_in_endpoints_and_components(library_stack):
    s = statements(library_stack, "IdleHandlerRoleDefaultPolicy")
    assert s["ScaleOptedInEndpoints"]["Action"] == "sagemaker:UpdateEndpointWeightsAndCapacities"
    assert render(s["ScaleOptedInEndpoints"]["Resource"]) == arn("endpoint/batch")
    assert s["LowerMinimumCapacity"]["Action"] == "application-autoscaling:RegisterScalableTarget"
    assert render(s["LowerMinimumCapacity"]["Resource"]) == (
        "arn:${Partition}:application-autoscaling:${Region}:${Account}:scalable-target/*"
    )
    assert s["LowerMinimumCapacity"]["Condition"] == {
        "StringEquals": {
            "application-autoscaling:service-namespace": "sagemaker",
            "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
        }
    }
    assert s["FindScalableTargets"]["Resource"] == "*" and s["ListInferenceComponents"]["Resource"] == "*"
    assert s["ScaleOptedInComponents"]["Action"] == "sagemaker:UpdateInferenceComponentRuntimeConfig"
    assert render(s["ScaleOptedInComponents"]["Resource"]) == [arn("inference-component/llm-a"), arn("inference-component/llm-b")]
    function = by_prefix(library_stack, "AWS::Lambda::Function", "IdleHandler")[1]
    settings = asset_settings(library_stack.path.parent, function)
    assert (settings["SCALE_TO_ZERO_ENDPOINTS"], function["Properties"]["Environment"]["Variables"]["IDLE_HOURS"]) == (
        ["batch", "llm"], "12")
    # Without endpoint_name_prefix: DescribeEndpoint on each watched endpoint's ARN.
    assert sorted(render(s["DescribeWatchedEndpoints"]["Resource"])) == [arn(f"endpoint/{n}") for n in ("batch", "chat", "llm")]
    assert settings["ENDPOINTS"] == [  # a bare name takes the kind of its scale_to_zero entry
        {"EndpointName": "batch", "Kind": "async"},
        {"EndpointName": "chat", "Kind": "realtime"},
        {"EndpointName": "llm", "Kind": "inference-components", "InferenceComponents": ["llm-a", "llm-b"]},
    ]


def test_training_rule_skips_completed_jobs_without_registration(library_stack):
    _, rule = by_prefix(library_stack, "AWS::Events::Rule", "TrainingRule")
    assert rule["Properties"]["EventPattern"]["detail"] == {
        "TrainingJobStatus": [{"equals-ignore-case": "Failed"}, {"equals-ignore-case": "Stopped"}],
        "Tags": {"aiplatform:platform": ["aiplatform"], "aiplatform:pipeline": [{"exists": False}]},
    }
    s = statements(library_stack, "TrainingHandlerRoleDefaultPolicy")
    assert "RegisterModelVersions" not in s
    env = by_prefix(library_stack, "AWS::Lambda::Function", "TrainingHandler")[1]["Properties"]["Environment"]
    assert "MODEL_PACKAGE_GROUP" not in env["Variables"]


def test_rule_helpers_build_deduplicated_sorted_patterns():
    from aws_cdk import Duration, Stack

    from constructs_lib.lifecycle import on_model_package_approved, on_schedule

    stack = Stack(new_app(), "Rules")
    approved = on_model_package_approved(stack, "Approved", model_package_groups=["b", "a", "b"])
    assert stack.resolve(approved.node.default_child.event_pattern)["detail"] == {
        "ModelApprovalStatus": [{"equals-ignore-case": "Approved"}], "ModelPackageGroupName": ["a", "b"]
    }
    scheduled = on_schedule(stack, "Scheduled", every=Duration.minutes(30))
    assert scheduled.node.default_child.schedule_expression == "rate(30 minutes)"


# --- construct validation (no synth) ---------------------------------------------------------------
@pytest.fixture
def scope():
    from aws_cdk import Stack
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns

    stack = Stack(new_app(), "Validation")
    key = kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555")
    topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:us-east-1:123456789012:t")
    return stack, key, topic


def test_deployer_refuses_missing_targets_roles_and_bad_names(scope):
    from constructs_lib import ApprovedModelDeployer, DeployTarget, PromotedModel

    stack, key, topic = scope
    promoted = {"primary": PromotedModel(image_parameter="/aws/chat", model_data_parameter="/p/" + "x" * 900)}
    with pytest.raises(PlatformValidationError) as raised:
        ApprovedModelDeployer(stack, "D", topic=topic, key=key, targets=[
            DeployTarget("Bad_Group", "chat"), DeployTarget("g", "chat"), DeployTarget("g", "chat"),
            DeployTarget("g", "chat-2", promoted=promoted),
        ])
    text = str(raised.value)
    # the parameter names' rule is the library's one (limits.is_ssm_parameter_name), names known at synth
    rule = r"an SSM parameter name /level/\.\.\./name: .* not starting with /aws or /ssm, known at synth"
    assert re.search(r"targets\[3\]\.promoted\['primary'\]\.image_parameter: got '/aws/chat'; " + rule, text)
    assert re.search(r"targets\[3\]\.promoted\['primary'\]\.model_data_parameter: got '/p/x{900}'; " + rule, text)
    assert re.search(r"targets\[0\]\.model_package_group: got 'Bad_Group'; 1-63 letters", text)
    assert re.search(r"targets\[2\]: got \['g', 'chat'\]; each \(model_package_group, endpoint_name\) pair once", text)
    assert "image_repositories: got []; the ECR repositories of the approved images" in text
    assert "model_data: got []; the S3 prefixes of the approved model data" in text


def test_deployer_refuses_targets_over_half_of_lambdas_environment(scope):
    """DEPLOY_TARGETS may take half of the 4096 bytes Lambda allows a function's environment ("Lambda
    quotas"), measured like every function environment (ReliableFunction's environment_size)."""
    from constructs_lib import ApprovedModelDeployer, DeployTarget

    stack, key, topic = scope
    targets = [DeployTarget("chat-llm-models", f"endpoint-{i:02d}-{'x' * 40}") for i in range(40)]
    with pytest.raises(PlatformValidationError, match=(
            r"targets: got '\d{4} bytes of DEPLOY_TARGETS'; at most 2048 bytes: Lambda allows 4096 bytes of "
            r"environment variables in all")):
        ApprovedModelDeployer(stack, "Many", topic=topic, key=key, targets=targets)


def test_endpoint_notifications_take_names_or_a_prefix_and_refuse_a_pattern_eventbridge_would(scope):
    """EventBridge refuses event patterns over 4096 characters (botocore events PutRule EventPattern):
    a list of names that long is refused at synth with the way out; a prefix has constant size."""
    from constructs_lib import EndpointFailureNotifications

    stack, key, topic = scope
    names = [f"acme-ml-dev-endpoint-number-{i:03d}" for i in range(150)]
    with pytest.raises(PlatformValidationError, match=r"endpoint_names: got '150 names \(\d+ characters of event pattern\)'; "
                       r"an event pattern under EventBridge's 4096 characters: give endpoint_name_prefix"):
        EndpointFailureNotifications(stack, "TooMany", endpoint_names=names, topic=topic, key=key)
    with pytest.raises(PlatformValidationError, match=r"endpoint_names: got .1 names and endpoint_name_prefix='a-'.; "
                       r"endpoint names, or a name prefix"):
        EndpointFailureNotifications(stack, "Both", endpoint_names=["a-b"], endpoint_name_prefix="a-", topic=topic, key=key)
    with pytest.raises(PlatformValidationError, match=r"endpoint_names: got '0 names and endpoint_name_prefix=None'"):
        EndpointFailureNotifications(stack, "Neither", topic=topic, key=key)
    prefixed = EndpointFailureNotifications(stack, "Prefixed", endpoint_name_prefix="acme-ml-dev-", topic=topic, key=key)
    pattern = stack.resolve(prefixed.rule.node.default_child.event_pattern)
    assert pattern["detail"] == {"EndpointName": [{"prefix": "acme-ml-dev-"}]}


def test_idle_guard_refuses_kinds_that_cannot_scale_to_zero(scope):
    from constructs_lib import EndpointKind, IdleEndpointGuard, ScaleToZero

    stack, key, topic = scope
    with pytest.raises(PlatformValidationError, match=r"scale_to_zero\[0\]\.kind: got 'realtime'; async or inference-components "
                       r"\(realtime: instance-based real-time endpoints keep at least one instance\)"):
        IdleEndpointGuard(stack, "G", topic=topic, key=key, endpoint_names=["a"], scale_to_zero=[ScaleToZero("a", EndpointKind.REALTIME)])
    with pytest.raises(PlatformValidationError, match=r"scale_to_zero\[0\]\.endpoint_name: got 'b'; one of endpoint_names"):
        IdleEndpointGuard(stack, "H", topic=topic, key=key, endpoint_names=["a"], scale_to_zero=[ScaleToZero("b", EndpointKind.ASYNC)])
    with pytest.raises(PlatformValidationError, match=r"idle_hours: got 0; 1-720 hours"):
        IdleEndpointGuard(stack, "I", topic=topic, key=key, endpoint_names=["a"], idle_hours=0)
    from constructs_lib import WatchedEndpoint

    with pytest.raises(PlatformValidationError, match=r"endpoint_names\[0\]\.inference_components: got \[\]; the names of the endpoint's inference components \(their Invocations"):
        IdleEndpointGuard(stack, "K", topic=topic, key=key, endpoint_names=[WatchedEndpoint("a", EndpointKind.INFERENCE_COMPONENTS)])
    with pytest.raises(PlatformValidationError, match=r"endpoint_names\[0\]\.kind: got 'realtime'; the kind of its scale_to_zero entry \(async\)"):
        IdleEndpointGuard(
            stack, "L", topic=topic, key=key, endpoint_names=[WatchedEndpoint("a")], scale_to_zero=[ScaleToZero("a", EndpointKind.ASYNC)]
        )
    with pytest.raises(PlatformValidationError, match=r"inference_components: got \[\]; the names of the endpoint's inference components"):
        IdleEndpointGuard(
            stack, "J", topic=topic, key=key, endpoint_names=["a"], scale_to_zero=[ScaleToZero("a", EndpointKind.INFERENCE_COMPONENTS)]
        )


def test_hyperpod_refuses_repair_outside_the_filter_and_names_for_arns(scope):
    from constructs_lib import HyperPodClusterRef, HyperPodEventNotifications

    stack, key, topic = scope
    with pytest.raises(PlatformValidationError) as raised:
        HyperPodEventNotifications(
            stack, "H", topic=topic, key=key, cluster_names=["a"],
            auto_repair=[HyperPodClusterRef(cluster_name="b", cluster_arn="b")],
        )
    text = str(raised.value)
    assert "auto_repair[0].cluster_arn: got 'b'; a HyperPod cluster ARN" in text
    assert "auto_repair[0].cluster_name: got 'b'; one of cluster_names (a): the rule delivers only their events" in text


def test_training_notifications_refuse_a_bad_group(scope):
    from constructs_lib import ModelRegistration, TrainingJobNotifications

    stack, key, topic = scope
    with pytest.raises(PlatformValidationError, match=r"registration\.model_package_group: got 'no spaces'"):
        TrainingJobNotifications(stack, "T", topic=topic, key=key, registration=ModelRegistration("no spaces"))


# --- the lifecycle config section ------------------------------------------------------------------
def config_with(lifecycle: dict, **platform) -> dict:
    from stacks.config import DEFAULT_CONFIG

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["lifecycle"] = lifecycle
    data["platform"].update(platform)
    return data


def parse(data: dict):
    from stacks.config import parse_config

    return parse_config(data, source="test.yaml")


def test_contract_keys_are_accepted_exactly_as_documented():
    config = parse(config_with({
        "auto_deploy_approved_models": [{"model_package_group": "chat-llm-models", "endpoint": "chat-llm"}],
        "idle_endpoint_hours": 24,
    }))
    (entry,) = config.lifecycle.auto_deploy_approved_models
    assert (entry.model_package_group, entry.endpoint, config.lifecycle.idle_endpoint_hours) == ("chat-llm-models", "chat-llm", 24)
    assert parse(config_with({})).lifecycle.hyperpod_events is None  # an empty section switches nothing on


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ({"auto_deploy_approved_models": [{"model_package_group": "g", "endpoint": "chat"}]},
         r"lifecycle\.auto_deploy_approved_models\[0\]\.endpoint: got 'chat'; the name of a configured endpoint; known: chat-llm, "),
        ({"auto_deploy_approved_models": [{"model_package_group": "g", "endpoint": "batch-scoring"}]},
         r"auto_deploy_approved_models\[0\]\.endpoint: got 'batch-scoring'; a realtime or serverless endpoint \(async: "),
        ({"auto_deploy_approved_models": [{"model_package_group": "g", "endpoint": "llm-hosting"}]},
         r"got 'llm-hosting'; a realtime or serverless endpoint \(inference-components: its models live in inference components"),
        ({"auto_deploy_approved_models": [{"model_package_group": "g", "endpoint": "ranker", "variants": ["next"]}]},
         r"auto_deploy_approved_models\[0\]\.variants\[0\]: got 'next'; a variant of endpoint ranker: current, candidate"),
        ({"auto_deploy_approved_models": [{"model_package_group": "g", "endpoint": "ranker"}] * 2},
         r"auto_deploy_approved_models\[1\]: got \['g', 'ranker'\]; each model_package_group and endpoint pair once"),
        ({"model_data_prefixes": ["s3://bucket/models/"]},
         r"lifecycle\.model_data_prefixes: got \['s3://bucket/models/'\]; only with auto_deploy_approved_models"),
        ({"auto_deploy_approved_models": [
            {"model_package_group": "g", "endpoint": "ranker"},
            {"model_package_group": "h", "endpoint": "ranker", "variants": ["candidate"], "keep_promoted_version": False}]},
         (r"auto_deploy_approved_models\[1\]\.keep_promoted_version: got False; True as in auto_deploy_approved_models\[0\] "
         r"for the same endpoint: a promotion that does not record its version would leave the promotion parameters")),
        ({"idle_endpoint_hours": 24, "scale_idle_to_zero": ["gone"]},
         r"lifecycle\.scale_idle_to_zero\[0\]: got 'gone'; the name of a configured endpoint; known: chat-llm"),
        ({"idle_endpoint_hours": 24, "scale_idle_to_zero": ["embeddings"]},
         r"scale_idle_to_zero\[0\]: got 'embeddings'; an async or inference-components endpoint \(serverless: serverless endpoints scale"),
        ({"idle_endpoint_hours": 24, "scale_idle_to_zero": ["chat-llm"]},
         r"got 'chat-llm'; an async or inference-components endpoint \(realtime: instance-based real-time endpoints keep"),
        ({"scale_idle_to_zero": ["batch-scoring"]},
         r"lifecycle\.scale_idle_to_zero: got \['batch-scoring'\]; idle_endpoint_hours too"),
        ({"register_models_from_training": {"model_package_group": "g"}, "training_job_notifications": False},
         r"lifecycle\.register_models_from_training: got '\(set\)'; training_job_notifications not false"),
        ({"hyperpod_events": {"enabled": False, "clusters": ["a"]}},
         r"lifecycle\.hyperpod_events\.enabled: got False; true when clusters or auto_repair are given"),
        ({"hyperpod_events": {"clusters": ["a"], "auto_repair": [{"name": "b", "arn": CLUSTER_ARN}]}},
         r"lifecycle\.hyperpod_events\.auto_repair\[0\]\.name: got 'b'; one of hyperpod_events\.clusters \(a\)"),
    ],
)
def test_cross_key_rules_name_the_key_path(lifecycle, expected):
    with pytest.raises(PlatformValidationError, match=expected):
        parse(config_with(lifecycle))


def test_promoted_variants_are_the_targets_variants_unless_keep_promoted_version_is_false():
    """Which template models read the promotion parameters (stacks.promotion), from the config alone."""
    from stacks.config.endpoints import endpoint_props
    from stacks.promotion import initial_promotion_models, promoted_variants, with_promoted_models

    config = parse(config_with({"auto_deploy_approved_models": [
        {"model_package_group": "chat-llm-models", "endpoint": "chat-llm"},
        {"model_package_group": "ranker-models", "endpoint": "ranker", "variants": ["candidate"]},
        {"model_package_group": "fraud-models", "endpoint": "fraud-scorer", "keep_promoted_version": False},
    ]}))
    assert promoted_variants(config) == {"chat-llm": ["AllTraffic"], "ranker": ["candidate"]}
    (ranker,) = [ep for ep in config.endpoints if ep.name == "ranker"]
    variants = with_promoted_models(config, ranker, endpoint_props(config.prefix, ranker))["variants"]
    assert next(v.model.promoted for v in variants) is None
    promoted = variants[1].model.promoted
    assert (promoted.image_parameter, promoted.model_data_parameter) == (
        "/acme-ml/dev/promotion/ranker/candidate/image", "/acme-ml/dev/promotion/ranker/candidate/model-data",
    )
    assert promoted.model_data_prefixes[1:] == (
        "s3://acme-ml-models/chat-llm/", "s3://acme-ml-models/fraud-scorer/v3/", "s3://acme-ml-models/ranker/v7/",
        "s3://acme-ml-models/ranker/v8/",
    )
    assert sorted((m.promoted.image_parameter, m.model_data_url) for m in initial_promotion_models(config)) == [
        ("/acme-ml/dev/promotion/chat-llm/AllTraffic/image", "s3://acme-ml-models/chat-llm/model.tar.gz"),
        ("/acme-ml/dev/promotion/ranker/candidate/image", "s3://acme-ml-models/ranker/v8/model.tar.gz"),
    ]


def test_async_endpoint_without_autoscaling_cannot_be_scaled_to_zero():
    data = config_with({"idle_endpoint_hours": 24, "scale_idle_to_zero": ["batch-scoring"]})
    (batch,) = [ep for ep in data["endpoints"] if ep["name"] == "batch-scoring"]
    del batch["autoscaling"]
    with pytest.raises(PlatformValidationError, match=r"got 'batch-scoring'; an async endpoint with autoscaling"):
        parse(data)


def test_repair_arn_must_be_in_the_platform_account_and_region():
    data = config_with(
        {"hyperpod_events": {"auto_repair": [{"name": "a", "arn": CLUSTER_ARN}]}}, account="210987654321", region="eu-west-1"
    )
    data["network"]["availability_zones"] = ["eu-west-1a", "eu-west-1b"]
    with pytest.raises(PlatformValidationError) as raised:
        parse(data)
    text = str(raised.value)
    assert "lifecycle.hyperpod_events.auto_repair[0].arn: got '" + CLUSTER_ARN + "'; a cluster in platform.region eu-west-1" in text
    assert "a cluster in platform.account 210987654321" in text


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ({"idle_endpoint_hour": 24}, r"lifecycle\.idle_endpoint_hour: got 24; unknown key; did you mean 'idle_endpoint_hours'\?"),
        ({"idle_endpoint_hours": 0}, r"lifecycle\.idle_endpoint_hours: got 0; Input should be greater than or equal to 1"),
        ({"idle_endpoint_hours": 721}, r"lifecycle\.idle_endpoint_hours: got 721; Input should be less than or equal to 720"),
        ({"auto_deploy_approved_models": [{"model_package_group": "g"}]},
         r"lifecycle\.auto_deploy_approved_models\[0\]\.endpoint: got None; required key is missing"),
        ({"hyperpod_events": {"auto_repair": [{"name": "a", "arn": "arn:aws:sagemaker:us-east-1:123456789012:cluster/a"}]}},
         r"lifecycle\.hyperpod_events\.auto_repair\[0\]\.arn: got 'arn:aws:sagemaker:us-east-1:123456789012:cluster/a'; a HyperPod cluster ARN arn:aws:sagemaker:<region>:<account>:cluster/<12-character id>"),
        ({"register_models_from_training": {"model_package_group": "g", "inference_image": "nginx"}, "training_job_notifications": True},
         r"lifecycle\.register_models_from_training\.inference_image: got 'nginx'; an ECR image URI account\.dkr\.ecr"),
    ],
)
def test_schema_errors_name_the_key_path(lifecycle, expected):
    with pytest.raises(PlatformValidationError, match=expected):
        parse(config_with(lifecycle))



# --- rules and handlers agree (EventBridge pattern semantics, evaluated by moto's matcher) ------------
EVENTS_DIR = Path(__file__).parent / "events"


def sample(name: str) -> dict:
    return json.loads((EVENTS_DIR / name).read_text())


def matches(pattern: dict, event: dict) -> bool:
    """EventBridge's matching as moto 5.2.5 implements it (exists, equals-ignore-case, prefix, nesting)."""
    from moto.events.models import EventPattern

    return EventPattern.load(json.dumps(pattern)).matches_event(event)


def test_training_rule_delivers_only_the_platforms_own_non_pipeline_jobs(lifecycle):
    _, rule = by_prefix(lifecycle, "AWS::Events::Rule", "TrainingJobNotificationsRule")
    pattern = rule["Properties"]["EventPattern"]
    completed, failed = sample("training-job-completed.json"), sample("training-job-failed.json")
    assert completed["detail"]["Tags"]["aiplatform:platform"] == "acme-ml-dev"
    assert matches(pattern, completed) and matches(pattern, failed)
    shouted = json.loads(json.dumps(failed).replace('"Failed"', '"FAILED"'))
    assert matches(pattern, shouted)  # the handler accepts FAILED too (equals-ignore-case)
    of_pipeline = sample("training-job-failed.json")
    of_pipeline["detail"]["Tags"]["aiplatform:pipeline"] = "llm-finetune"
    assert not matches(pattern, of_pipeline)
    other_team = sample("training-job-failed.json")
    other_team["detail"]["Tags"] = {"team": "vision"}
    assert not matches(pattern, other_team)
    other_platform = sample("training-job-failed.json")
    other_platform["detail"]["Tags"]["aiplatform:platform"] = "acme-ml-prod"
    assert not matches(pattern, other_platform)
    in_progress = json.loads(json.dumps(failed).replace('"Failed"', '"InProgress"'))
    assert not matches(pattern, in_progress)


def test_approval_rule_accepts_every_spelling_the_deployer_accepts(lifecycle):
    _, rule = by_prefix(lifecycle, "AWS::Events::Rule", "ApprovedModelDeployerRule")
    event = sample("model-package-approved.json")
    event["detail"]["ModelPackageGroupName"] = "chat-llm-models"
    for spelling in ("Approved", "APPROVED", "approved"):
        event["detail"]["ModelApprovalStatus"] = spelling
        assert matches(rule["Properties"]["EventPattern"], event), spelling
    event["detail"]["ModelApprovalStatus"] = "Rejected"
    assert not matches(rule["Properties"]["EventPattern"], event)


def test_training_job_filter_by_name_prefix_and_its_checks(scope):
    from constructs_lib import TrainingJobFilter, TrainingJobNotifications

    stack, key, topic = scope
    notifications = TrainingJobNotifications(
        stack, "ByPrefix", topic=topic, key=key, jobs=TrainingJobFilter.name_prefix("acme-ml-dev-")
    )
    pattern = stack.resolve(notifications.rule.node.default_child.event_pattern)
    assert pattern["detail"] == {
        "TrainingJobStatus": [{"equals-ignore-case": "Failed"}, {"equals-ignore-case": "Stopped"}],
        "TrainingJobName": [{"prefix": "acme-ml-dev-"}],
        "Tags": {"aiplatform:pipeline": [{"exists": False}]},
    }
    failed = sample("training-job-failed.json")
    assert not matches(pattern, failed)
    failed["detail"]["TrainingJobName"] = "acme-ml-dev-nightly-7"
    assert matches(pattern, failed)
    with pytest.raises(PlatformValidationError, match=r"jobs\.tag_key: got 'aiplatform:pipeline'; not the pipeline tag"):
        TrainingJobNotifications(stack, "Bad", topic=topic, key=key, jobs=TrainingJobFilter.tagged("aiplatform:pipeline", "x"))
    with pytest.raises(PlatformValidationError, match=r"jobs: got .*; exactly one of a tag \(tag_key and tag_value\) or a job_name_prefix"):
        TrainingJobNotifications(
            stack, "Both", topic=topic, key=key, jobs=TrainingJobFilter(tag_key="k", tag_value="v", job_name_prefix="p")
        )


def test_tag_keys_are_the_shared_contract():
    """The training constructs tag jobs with these keys; the glue's rule and handler read the same ones."""
    assert (ev.PlatformTag.PLATFORM, ev.PlatformTag.PIPELINE) == ("aiplatform:platform", "aiplatform:pipeline")


# --- failure notifications on by default (silence must be a choice) --------------------------------
def without_lifecycle(**changes) -> dict:
    from stacks.config import DEFAULT_CONFIG

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    del data["lifecycle"]
    data.update(changes)
    return data


def test_a_training_platform_without_lifecycle_key_notifies_failures(tmp_path):
    """Issue acceptance: clusters and no lifecycle section -> rules for HyperPod and training-job events.
    Built, not synthesized: the rules' patterns are resolved from the constructs."""
    from aws_cdk import Stack
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns

    from stacks.lifecycle_stack import LifecycleStack

    config = parse(without_lifecycle())
    assert config.training_clusters and config.lifecycle.training_job_notifications is None
    app = new_app(tmp_path)
    refs = Stack(app, "Refs")
    stack = LifecycleStack(
        app, "Lifecycle", config=config, endpoints={},
        topic=sns.Topic.from_topic_arn(refs, "T", "arn:aws:sns:us-east-1:123456789012:t"),
        key=kms.Key.from_key_arn(refs, "K", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
    )
    hyperpod = stack.resolve(stack.hyperpod_event_notifications.rule.node.default_child.event_pattern)
    assert hyperpod["detail"] == {
        "$or": [{"ClusterName": ["acme-ml-dev-llm-pretrain"]}, {"EventDetails": {"ClusterName": ["acme-ml-dev-llm-pretrain"]}}]
    }
    training = stack.resolve(stack.training_job_notifications.rule.node.default_child.event_pattern)
    assert training["detail"]["TrainingJobStatus"] == [{"equals-ignore-case": "Failed"}, {"equals-ignore-case": "Stopped"}]
    assert stack.model_deployer is None and stack.idle_endpoint_guard is None


def test_false_switches_each_default_off_and_no_training_means_no_defaults():
    from stacks.config.lifecycle import hyperpod_events_of, training_job_notifications_on

    on = parse(without_lifecycle())
    assert training_job_notifications_on(on) and hyperpod_events_of(on).clusters == []
    off = parse({**without_lifecycle(), "lifecycle": {"training_job_notifications": False, "hyperpod_events": False}})
    assert not training_job_notifications_on(off) and hyperpod_events_of(off) is None
    assert hyperpod_events_of(parse({**without_lifecycle(), "lifecycle": {"hyperpod_events": True}})).enabled
    no_training_data = without_lifecycle(training_clusters=[])
    no_training_data.pop("training_pipelines", None)  # the default config trains with a pipeline too
    for team in no_training_data.get("budgets", {}).get("teams", []):
        team.pop("training_clusters", None)  # budgets may name the clusters removed here
    no_training = parse(no_training_data)
    assert not training_job_notifications_on(no_training) and hyperpod_events_of(no_training) is None


def test_the_functions_kind_names_are_the_libraries_kinds():
    """The idle guard receives each endpoint's kind from its environment in these spellings."""
    from constructs_lib.inference import EndpointKind

    assert {v for k, v in vars(ev.EndpointKind).items() if k.isupper()} == {k.value for k in EndpointKind}
    assert set(ev.IDLE_SIGNALS) == {k.value for k in EndpointKind}
