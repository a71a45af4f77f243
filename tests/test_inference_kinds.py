"""Every endpoint kind of configs/default.yaml: exact CloudFormation properties, from the one shared synth
(``default_platform``: all nag packs ran, so every acknowledgment these resources need is in place)."""

from __future__ import annotations

import pytest

from tests.conftest import resources_of

PREFIX = "acme-ml-dev"
PARTITION = {"Ref": "AWS::Partition"}
BUCKET_ARN = ["arn:", PARTITION, ":s3:::acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]
BUCKET_URL = ["s3://acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]
# The data stack's platform key ARN as the inference stack reads it (weak cross-stack reference).
PLATFORM_KEY_ARN = {"Fn::GetStackOutput": {
    "StackName": "acme-ml-dev-data", "Region": {"Ref": "AWS::Region"},
    "OutputName": "PublishOutputFnGetAttPlatformKey205D0CA7Arn0C5A0BDE",
}}
SERVICE_LINKED_ROLE = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"


def of(template, construct: str, cfn_type: str) -> dict[str, dict]:
    """Resources of ``cfn_type`` under the construct whose logical ids start with ``construct``."""
    return {k: v for k, v in resources_of(template, cfn_type).items() if k.startswith(construct)}


def one(template, construct: str, cfn_type: str) -> tuple[str, dict]:
    found = of(template, construct, cfn_type)
    assert len(found) == 1, f"expected one {cfn_type} under {construct}, found {sorted(found)}"
    return next(iter(found.items()))


def props(template, construct: str, cfn_type: str) -> dict:
    return one(template, construct, cfn_type)[1]["Properties"]


def execution_policy(template, construct: str) -> dict:
    """The execution role's one inline policy (no separate policy resource, no managed policy)."""
    role = props(template, f"{construct}ExecutionRole", "AWS::IAM::Role")
    assert not of(template, construct, "AWS::IAM::ManagedPolicy") and not of(template, construct, "AWS::IAM::Policy")
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    assert policy["PolicyName"] == "ExecutionPolicy"
    return policy


def statements(template, construct: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in execution_policy(template, construct)["PolicyDocument"]["Statement"]}


@pytest.fixture(scope="module")
def t(default_platform):
    return default_platform["inference"]


@pytest.fixture(scope="module")
def endpoints(default_platform):
    return default_platform.platform.endpoints


def test_every_kind_is_built_with_its_kind_and_stable_name(endpoints):
    from constructs_lib import EndpointKind

    assert {name: (e.kind, e.endpoint_name) for name, e in endpoints.items()} == {
        "chat-llm": (EndpointKind.REALTIME, f"{PREFIX}-chat-llm"),
        "ranker": (EndpointKind.REALTIME, f"{PREFIX}-ranker"),
        "fraud-scorer": (EndpointKind.REALTIME, f"{PREFIX}-fraud-scorer"),
        "embeddings": (EndpointKind.SERVERLESS, f"{PREFIX}-embeddings"),
        "batch-scoring": (EndpointKind.ASYNC, f"{PREFIX}-batch-scoring"),
        "llm-hosting": (EndpointKind.INFERENCE_COMPONENTS, f"{PREFIX}-llm-hosting"),
        "many-models": (EndpointKind.MULTI_MODEL, f"{PREFIX}-many-models"),
    }


# -- realtime: weighted variants, routing, linear blue/green rolled back on the created alarms --------
def test_ranker_variants_have_weights_routing_and_own_models(t):
    config = props(t, "RankerEndpointConfig", "AWS::SageMaker::EndpointConfig")
    assert config["KmsKeyId"] == PLATFORM_KEY_ARN  # ml.g5 (local NVMe) too: the key encrypts the EBS volume
    assert config["ProductionVariants"] == [
        {
            "VariantName": "current", "ModelName": {"Fn::GetAtt": ["RankerEndpointModel7AB64BBD", "ModelName"]},
            "InstanceType": "ml.g5.xlarge", "InitialInstanceCount": 2, "InitialVariantWeight": 0.9,
            "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
        },
        {
            "VariantName": "candidate", "ModelName": {"Fn::GetAtt": ["RankerEndpointModelcandidate27B6CBC7", "ModelName"]},
            "InstanceType": "ml.g5.xlarge", "InitialInstanceCount": 1, "InitialVariantWeight": 0.1,
            "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
        },
    ]
    models = of(t, "RankerEndpointModel", "AWS::SageMaker::Model")
    assert {k: m["Properties"]["PrimaryContainer"]["ModelDataUrl"] for k, m in models.items()} == {
        "RankerEndpointModel7AB64BBD": "s3://acme-ml-models/ranker/v7/model.tar.gz",
        "RankerEndpointModelcandidate27B6CBC7": "s3://acme-ml-models/ranker/v8/model.tar.gz",
    }


def test_two_variant_ranker_canaries_and_rolls_back_on_the_alarms_it_created(t, endpoints):
    alarms = of(t, "RankerEndpoint", "AWS::CloudWatch::Alarm")
    by_name = {a["Properties"]["AlarmName"]: k for k, a in alarms.items()}
    assert sorted(by_name) == [f"{PREFIX}-ranker-5xx-rate-critical", f"{PREFIX}-ranker-p99-model-latency-critical"]
    endpoint = props(t, "RankerEndpoint7A5BA2AF", "AWS::SageMaker::Endpoint")
    assert endpoint["DeploymentConfig"] == {
        "AutoRollbackConfiguration": {"Alarms": [
            {"AlarmName": {"Ref": by_name[f"{PREFIX}-ranker-5xx-rate-critical"]}},
            {"AlarmName": {"Ref": by_name[f"{PREFIX}-ranker-p99-model-latency-critical"]}},
        ]},
        "BlueGreenUpdatePolicy": {
            "TerminationWaitInSeconds": 300,
            "TrafficRoutingConfiguration": {
                "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25}, "WaitIntervalInSeconds": 300,
            },
        },
    }
    assert endpoint["RetainAllVariantProperties"] is True  # autoscaled counts survive updates
    # The worst variant's p99 against the configured 500 ms, in microseconds.
    latency = alarms[by_name[f"{PREFIX}-ranker-p99-model-latency-critical"]]["Properties"]
    assert latency["Threshold"] == 500_000
    assert latency["Metrics"][0] == {"Expression": "MAX([m_p99_0, m_p99_1])", "Id": "expr_1",
                                     "Label": "p99 ModelLatency (microseconds)", "ReturnData": True}
    assert {(m["MetricStat"]["Metric"]["Dimensions"][1]["Value"], m["MetricStat"]["Stat"]) for m in latency["Metrics"][1:]} == {
        ("current", "p99"), ("candidate", "p99")}
    assert [a.node.default_child.alarm_name for a in endpoints["ranker"].rollback_alarms] == [
        f"{PREFIX}-ranker-5xx-rate-critical", f"{PREFIX}-ranker-p99-model-latency-critical"]


def test_ranker_scales_on_invocations_gpu_and_office_hours(t):
    targets = of(t, "RankerEndpointScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert sorted(p["Properties"]["ResourceId"] for p in targets.values()) == [
        f"endpoint/{PREFIX}-ranker/variant/candidate", f"endpoint/{PREFIX}-ranker/variant/current",
    ]
    current = props(t, "RankerEndpointScalableTargetcurrent", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (current["MinCapacity"], current["MaxCapacity"]) == (1, 4)
    assert current["ScheduledActions"] == [
        {"ScheduledActionName": "office-hours", "Schedule": "cron(0 8 ? * MON-FRI *)", "Timezone": "Europe/Berlin",
         "ScalableTargetAction": {"MinCapacity": 2}},
        {"ScheduledActionName": "after-hours", "Schedule": "cron(0 19 ? * MON-FRI *)", "Timezone": "Europe/Berlin",
         "ScalableTargetAction": {"MinCapacity": 1}},
    ]
    policies = {
        k.removeprefix("RankerEndpointScalableTargetcurrent")[:-8]: p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        for k, p in of(t, "RankerEndpointScalableTargetcurrent", "AWS::ApplicationAutoScaling::ScalingPolicy").items()
    }
    assert policies == {
        "InvocationsPerInstance": {
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "TargetValue": 300, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
        },
        "GPUUtilizationTracking": {
            "CustomizedMetricSpecification": {
                "Namespace": "/aws/sagemaker/Endpoints", "MetricName": "GPUUtilization", "Statistic": "Average",
                "Dimensions": [{"Name": "EndpointName", "Value": f"{PREFIX}-ranker"}, {"Name": "VariantName", "Value": "current"}],
            },
            "TargetValue": 70, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
        },
    }


def test_shadow_variant_receives_half_of_the_production_requests(t):
    config = props(t, "FraudScorerEndpointConfig", "AWS::SageMaker::EndpointConfig")
    assert config["KmsKeyId"] == PLATFORM_KEY_ARN
    shadow_model, _ = one(t, "FraudScorerEndpointShadowModel", "AWS::SageMaker::Model")
    assert config["ShadowProductionVariants"] == [
        {
            "VariantName": "challenger", "ModelName": {"Fn::GetAtt": [shadow_model, "ModelName"]},
            "InstanceType": "ml.c6i.xlarge", "InitialInstanceCount": 1, "InitialVariantWeight": 0.5,
        }
    ]
    assert [v["VariantName"] for v in config["ProductionVariants"]] == ["AllTraffic"]
    endpoint = props(t, "FraudScorerEndpointB02CBD97", "AWS::SageMaker::Endpoint")
    assert endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 600,
    }


# -- serverless -----------------------------------------------------------------------------------
def test_serverless_variant_has_no_instances_and_scales_provisioned_concurrency(t):
    config = props(t, "EmbeddingsEndpointConfig", "AWS::SageMaker::EndpointConfig")
    model_id, model = one(t, "EmbeddingsEndpointModel", "AWS::SageMaker::Model")
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic", "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]}, "InitialVariantWeight": 1,
            "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 20, "ProvisionedConcurrency": 2},
        }
    ]
    assert "DataCaptureConfig" not in config and config["KmsKeyId"] == PLATFORM_KEY_ARN
    assert model["Properties"]["EnableNetworkIsolation"] is False  # serverless supports no isolation
    assert "VpcConfig" not in model["Properties"]
    target_id, target = one(t, "EmbeddingsEndpointScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")
    p = target["Properties"]
    assert (p["ScalableDimension"], p["MinCapacity"], p["MaxCapacity"]) == ("sagemaker:variant:DesiredProvisionedConcurrency", 1, 10)
    assert p["ResourceId"] == f"endpoint/{PREFIX}-embeddings/variant/AllTraffic"
    _, policy = one(t, "EmbeddingsEndpointScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert policy["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    assert policy["Properties"]["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantProvisionedConcurrencyUtilization"},
        "TargetValue": 0.7, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
    }


# -- asynchronous ---------------------------------------------------------------------------------
def test_async_results_go_to_the_endpoint_prefix_and_two_distinct_topics(t):
    config = props(t, "BatchScoringEndpointConfig", "AWS::SageMaker::EndpointConfig")
    success_id, success = one(t, "BatchScoringEndpointAsyncSuccessTopic", "AWS::SNS::Topic")
    error_id, error = one(t, "BatchScoringEndpointAsyncErrorTopic", "AWS::SNS::Topic")
    output = config["AsyncInferenceConfig"]["OutputConfig"]
    assert output["NotificationConfig"] == {"SuccessTopic": {"Ref": success_id}, "ErrorTopic": {"Ref": error_id}}
    assert success_id != error_id
    assert output["S3OutputPath"] == {"Fn::Join": ["", [*BUCKET_URL, f"/async/{PREFIX}-batch-scoring/output"]]}
    assert output["S3FailurePath"] == {"Fn::Join": ["", [*BUCKET_URL, f"/async/{PREFIX}-batch-scoring/failure"]]}
    key = output["KmsKeyId"]
    assert key == PLATFORM_KEY_ARN
    assert config["AsyncInferenceConfig"]["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 4}
    assert config["KmsKeyId"] == PLATFORM_KEY_ARN  # ml.g5 volume and the results: the same key
    for topic in (success, error):
        assert topic["Properties"]["KmsMasterKeyId"] == key
    policies = [p["Properties"] for p in of(t, "BatchScoringEndpointAsync", "AWS::SNS::TopicPolicy").values()]
    assert sorted(p["Topics"][0]["Ref"] for p in policies) == sorted([success_id, error_id])
    for p in policies:
        (deny,) = p["PolicyDocument"]["Statement"]
        assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_async_role_writes_only_its_prefixes_and_publishes_only_to_its_topics(t):
    s = statements(t, "BatchScoringEndpoint")
    prefix = f"/async/{PREFIX}-batch-scoring"
    assert s["ReadAsyncInput"]["Action"] == "s3:GetObject"
    assert s["ReadAsyncInput"]["Resource"] == {"Fn::Join": ["", [*BUCKET_ARN, f"{prefix}/input/*"]]}
    assert s["WriteAsyncResults"]["Action"] == "s3:PutObject"
    assert s["WriteAsyncResults"]["Resource"] == [
        {"Fn::Join": ["", [*BUCKET_ARN, f"{prefix}/failure/*"]]},
        {"Fn::Join": ["", [*BUCKET_ARN, f"{prefix}/output/*"]]},
    ]
    success_id, _ = one(t, "BatchScoringEndpointAsyncSuccessTopic", "AWS::SNS::Topic")
    error_id, _ = one(t, "BatchScoringEndpointAsyncErrorTopic", "AWS::SNS::Topic")
    assert s["PublishAsyncNotifications"]["Action"] == "sns:Publish"
    assert sorted(r["Ref"] for r in s["PublishAsyncNotifications"]["Resource"]) == sorted([success_id, error_id])
    assert sorted(s["UseEncryptionKey"]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_async_scales_on_backlog_and_out_from_zero(t):
    target_id, target = one(t, "BatchScoringEndpointScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (0, 4)
    policies = {k: p["Properties"] for k, p in of(t, "BatchScoringEndpoint", "AWS::ApplicationAutoScaling::ScalingPolicy").items()}
    (tracking,) = [p for p in policies.values() if p["PolicyType"] == "TargetTrackingScaling"]
    assert tracking["TargetTrackingScalingPolicyConfiguration"] == {
        "CustomizedMetricSpecification": {
            "Namespace": "AWS/SageMaker", "MetricName": "ApproximateBacklogSizePerInstance", "Statistic": "Average",
            "Dimensions": [{"Name": "EndpointName", "Value": f"{PREFIX}-batch-scoring"}],
        },
        "TargetValue": 5, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
    }
    step_id, step = one(t, "BatchScoringEndpointScaleOutFromZero", "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert step["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    assert step["Properties"]["StepScalingPolicyConfiguration"] == {
        "AdjustmentType": "ChangeInCapacity", "Cooldown": 60, "MetricAggregationType": "Average",
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    }
    _, alarm = one(t, "BatchScoringEndpointScaleOutFromZeroAlarm", "AWS::CloudWatch::Alarm")
    a = alarm["Properties"]
    assert a["AlarmActions"] == [{"Ref": step_id}]
    assert (a["Namespace"], a["MetricName"], a["Statistic"], a["Period"]) == ("AWS/SageMaker", "HasBacklogWithoutCapacity", "Average", 60)
    assert a["Dimensions"] == [{"Name": "EndpointName", "Value": f"{PREFIX}-batch-scoring"}]
    assert (a["Threshold"], a["ComparisonOperator"], a["EvaluationPeriods"]) == (1, "GreaterThanOrEqualToThreshold", 2)


# -- inference components -------------------------------------------------------------------------
def test_inference_component_endpoint_config_has_role_and_no_models(t):
    role_id, _ = one(t, "LlmHostingEndpointExecutionRole", "AWS::IAM::Role")
    config = props(t, "LlmHostingEndpointConfig", "AWS::SageMaker::EndpointConfig")
    assert config["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert config["EnableNetworkIsolation"] is True
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic", "InstanceType": "ml.g5.12xlarge", "InitialInstanceCount": 1, "InitialVariantWeight": 1,
            "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2},
        }
    ]
    assert not of(t, "LlmHostingEndpointModel", "AWS::SageMaker::Model")  # models belong to the components
    assert not of(t, "LlmHostingEndpointScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")


def test_inference_component_reserves_compute_and_copies(t):
    endpoint_id, _ = one(t, "LlmHostingEndpoint87DF9035", "AWS::SageMaker::Endpoint")
    _, ic = one(t, "LlmHostingEndpointLlama8bComponent", "AWS::SageMaker::InferenceComponent")
    model_id, model = one(t, "LlmHostingEndpointLlama8bComponentModel", "AWS::SageMaker::Model")
    p = {k: v for k, v in ic["Properties"].items() if k != "Tags"}  # a copy: the template is the session's
    assert p == {
        "EndpointName": f"{PREFIX}-llm-hosting",
        "InferenceComponentName": f"{PREFIX}-llm-hosting-llama-8b",
        "VariantName": "AllTraffic",
        "Specification": {
            "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
            "ComputeResourceRequirements": {"NumberOfAcceleratorDevicesRequired": 1, "MinMemoryRequiredInMb": 24576},
        },
        "RuntimeConfig": {"CopyCount": 1},
    }
    assert endpoint_id in ic["DependsOn"]
    assert "ModelName" not in model["Properties"]
    assert model["Properties"]["PrimaryContainer"]["ModelDataUrl"] == "s3://acme-ml-models/llama-8b/model.tar.gz"


def test_inference_component_copies_scale_to_and_from_zero(t, endpoints):
    target_id, target = one(t, "LlmHostingEndpointLlama8bComponentScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")
    ic_id, _ = one(t, "LlmHostingEndpointLlama8bComponent", "AWS::SageMaker::InferenceComponent")
    p = target["Properties"]
    assert (p["ServiceNamespace"], p["ScalableDimension"]) == ("sagemaker", "sagemaker:inference-component:DesiredCopyCount")
    assert p["ResourceId"] == f"inference-component/{PREFIX}-llm-hosting-llama-8b"
    assert (p["MinCapacity"], p["MaxCapacity"]) == (0, 4)
    assert SERVICE_LINKED_ROLE in str(p["RoleARN"])
    assert p["ScheduledActions"] == [
        {"ScheduledActionName": "nights", "Schedule": "cron(0 20 * * ? *)", "Timezone": "Europe/Berlin", "ScalableTargetAction": {"MaxCapacity": 1}},
        {"ScheduledActionName": "days", "Schedule": "cron(0 7 ? * MON-FRI *)", "Timezone": "Europe/Berlin", "ScalableTargetAction": {"MaxCapacity": 4}},
    ]
    assert ic_id in target["DependsOn"]
    policies = {k: v["Properties"] for k, v in of(t, "LlmHostingEndpointLlama8bComponent", "AWS::ApplicationAutoScaling::ScalingPolicy").items()}
    (tracking,) = [v for v in policies.values() if v["PolicyType"] == "TargetTrackingScaling"]
    assert tracking["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"},
        "TargetValue": 4, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
    }
    step_id, step = one(t, "LlmHostingEndpointLlama8bComponentScaleOutFromZero", "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert step["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    assert step["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    assert step["Properties"]["StepScalingPolicyConfiguration"]["MetricAggregationType"] == "Maximum"
    _, alarm = one(t, "LlmHostingEndpointLlama8bComponentScaleOutFromZeroAlarm", "AWS::CloudWatch::Alarm")
    a = alarm["Properties"]
    assert a["AlarmActions"] == [{"Ref": step_id}]
    assert (a["Namespace"], a["MetricName"], a["Statistic"]) == ("AWS/SageMaker", "NoCapacityInvocationFailures", "Maximum")
    assert a["Dimensions"] == [{"Name": "InferenceComponentName", "Value": f"{PREFIX}-llm-hosting-llama-8b"}]
    # No deployment to roll back, so no alarm set of the endpoint's own (EndpointMonitoring watches the
    # components); the components' scaling alarms are exposed apart.
    endpoint = endpoints["llm-hosting"]
    assert endpoint.alarms == [] and endpoint.deployment_config is None
    assert [a.node.default_child.alarm_name for a in endpoint.scaling_alarms] == [f"{PREFIX}-llm-hosting-llama-8b-scale-out-from-zero"]


def test_inference_component_role_reads_only_its_model(t):
    s = statements(t, "LlmHostingEndpointLlama8bComponent")
    assert s["ReadModelData"]["Resource"] == {"Fn::Join": ["", ["arn:", PARTITION, ":s3:::acme-ml-models/llama-8b/model.tar.gz"]]}
    logs = str(s["WriteEndpointLogs"]["Resource"])
    assert f"/aws/sagemaker/InferenceComponents/{PREFIX}-llm-hosting-llama-8b" in logs
    endpoint = statements(t, "LlmHostingEndpoint")
    assert "PullModelImages" not in endpoint and "ReadModelData" not in endpoint  # the endpoint role hosts no model


# -- multi-model ----------------------------------------------------------------------------------
def test_multi_model_container_loads_from_its_prefix_only(t):
    _, model = one(t, "ManyModelsEndpointModel", "AWS::SageMaker::Model")
    assert model["Properties"]["PrimaryContainer"] == {
        "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-sagemaker",
        "Mode": "MultiModel",
        "ModelDataUrl": "s3://acme-ml-models/tenants/",
    }
    s = statements(t, "ManyModelsEndpoint")
    assert s["ReadMultiModelData"] == {
        "Sid": "ReadMultiModelData", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": {"Fn::Join": ["", ["arn:", PARTITION, ":s3:::acme-ml-models/tenants/*"]]},
    }
    assert s["ListMultiModelPrefix"] == {
        "Sid": "ListMultiModelPrefix", "Effect": "Allow", "Action": "s3:ListBucket",
        "Resource": {"Fn::Join": ["", ["arn:", PARTITION, ":s3:::acme-ml-models"]]},
        "Condition": {"StringLike": {"s3:prefix": ["tenants/*"]}},
    }
    assert "ReadModelData" not in s


def test_no_model_or_endpoint_config_has_a_physical_name(t):
    for cfn_type, name in (("AWS::SageMaker::Model", "ModelName"), ("AWS::SageMaker::EndpointConfig", "EndpointConfigName")):
        assert not [k for k, r in resources_of(t, cfn_type).items() if name in r["Properties"]]


def test_one_table_says_what_each_kind_can_do():
    """``constructs_lib.inference.KIND_TRAITS``: the rows the validation and the config's lifecycle rules read."""
    from constructs_lib.inference import KIND_TRAITS, EndpointKind

    rows = {
        kind.value: (sorted(t.scaling_targets), t.shadow_variants, bool(t.promotion_not), bool(t.scale_to_zero_not))
        for kind, t in KIND_TRAITS.items()
    }
    assert rows == {
        "realtime": (["metric_targets", "target_concurrent_requests_per_model", "target_invocations_per_instance"], True, False, True),
        "serverless": (["target_provisioned_concurrency_utilization"], False, False, True),
        "async": (["metric_targets", "target_backlog_per_instance"], False, True, False),
        "inference-components": ([], False, True, False),
        "multi-model": (["metric_targets", "target_concurrent_requests_per_model", "target_invocations_per_instance"], False, True, True),
    }
    assert set(KIND_TRAITS) == set(EndpointKind)
