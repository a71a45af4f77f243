"""InferenceEndpoint: exact CloudFormation properties of the model, config, endpoint, scaling and alarms."""

from __future__ import annotations

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    AutoScalingSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    InferenceEndpoint,
    ModelSpec,
    PlatformValidationError,
    VariantSpec,
)
from tests.conftest import new_app, only, resources_of

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04"
ENDPOINT = "acme-ml-dev-chat-llm"


def test_model_has_isolation_role_and_no_physical_name(default_platform):
    t = default_platform["inference"]
    _, model = only(t, "AWS::SageMaker::Model")
    props = model["Properties"]
    assert "ModelName" not in props  # create-only properties: a name would make updates fail
    assert props["EnableNetworkIsolation"] is True
    assert props["PrimaryContainer"] == {
        "Image": IMAGE,
        "ModelDataUrl": "s3://acme-ml-models/chat-llm/model.tar.gz",
        "Environment": {"SM_NUM_GPUS": "1"},
    }
    assert props["ExecutionRoleArn"]["Fn::GetAtt"][1] == "Arn"


def test_endpoint_config_omits_kms_for_local_nvme_g5(default_platform):
    t = default_platform["inference"]
    _, config = only(t, "AWS::SageMaker::EndpointConfig")
    props = config["Properties"]
    assert "EndpointConfigName" not in props
    assert "KmsKeyId" not in props  # ml.g5: CreateEndpointConfig fails with KmsKeyId
    assert props["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": {"Fn::GetAtt": [next(iter(resources_of(t, "AWS::SageMaker::Model"))), "ModelName"]},
            "InstanceType": "ml.g5.2xlarge",
            "InitialInstanceCount": 2,
            "InitialVariantWeight": 1,
        }
    ]
    capture = props["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 20
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert capture["DestinationS3Uri"] == {
        "Fn::Join": ["", ["s3://acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"},
                          f"/data-capture/{ENDPOINT}"]]
    }
    assert "KmsKeyId" in capture


def test_endpoint_config_sets_kms_for_ebs_only_instances(prod_platform):
    _, config = only(prod_platform["inference"], "AWS::SageMaker::EndpointConfig")
    assert config["Properties"]["ProductionVariants"][0]["InstanceType"] == "ml.m5.xlarge"
    assert "KmsKeyId" in config["Properties"]


def test_endpoint_keeps_name_and_rolls_back_on_alarm(default_platform):
    t = default_platform["inference"]
    _, endpoint = only(t, "AWS::SageMaker::Endpoint")
    alarm_id, _ = only(t, "AWS::CloudWatch::Alarm")
    props = endpoint["Properties"]
    assert props["EndpointName"] == ENDPOINT
    assert props["RetainAllVariantProperties"] is True
    assert props["DeploymentConfig"] == {
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": {"Ref": alarm_id}}]},
        "BlueGreenUpdatePolicy": {
            "TerminationWaitInSeconds": 300,
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                "WaitIntervalInSeconds": 600,
            },
        },
    }


def test_target_tracking_autoscaling(default_platform):
    t = default_platform["inference"]
    target_id, target = only(t, "AWS::ApplicationAutoScaling::ScalableTarget")
    p = target["Properties"]
    assert (p["MinCapacity"], p["MaxCapacity"]) == (2, 8)
    assert p["ResourceId"] == f"endpoint/{ENDPOINT}/variant/AllTraffic"
    assert p["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert p["ServiceNamespace"] == "sagemaker"
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in str(p["RoleARN"])
    endpoint_id, _ = only(t, "AWS::SageMaker::Endpoint")
    assert endpoint_id in target["DependsOn"]
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                "TargetValue": 60,
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        },
    )


def test_5xx_alarm_goes_to_the_topic(default_platform):
    _, alarm = only(default_platform["inference"], "AWS::CloudWatch::Alarm")
    p = alarm["Properties"]
    assert p["AlarmName"] == f"{ENDPOINT}-5xx-errors"
    assert (p["Namespace"], p["MetricName"], p["Statistic"], p["Period"]) == ("AWS/SageMaker", "Invocation5XXErrors", "Sum", 60)
    assert p["Dimensions"] == [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]
    assert (p["Threshold"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (5, 3, 2)
    assert p["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert p["TreatMissingData"] == "notBreaching"
    assert len(p["AlarmActions"]) == 1 and p["AlarmActions"] == p["OKActions"]
    assert "Notifications" in str(p["AlarmActions"][0])


def test_latency_alarm_is_a_rollback_alarm_when_configured(prod_platform):
    t = prod_platform["inference"]
    alarms = resources_of(t, "AWS::CloudWatch::Alarm")
    latency = [a["Properties"] for a in alarms.values() if a["Properties"]["MetricName"] == "ModelLatency"]
    assert len(latency) == 1
    assert latency[0]["ExtendedStatistic"] == "p99"
    assert latency[0]["Threshold"] == 2_000_000  # 2000 ms in microseconds
    _, endpoint = only(t, "AWS::SageMaker::Endpoint")
    rollback = endpoint["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert sorted(a["AlarmName"]["Ref"] for a in rollback) == sorted(alarms)


def test_execution_policy_is_scoped_to_specific_arns(default_platform):
    t = default_platform["inference"]
    _, policy = only(t, "AWS::IAM::ManagedPolicy")
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["PullModelImages"]["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"]]
    }
    assert statements["ReadModelData"] == {
        "Sid": "ReadModelData", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::acme-ml-models/chat-llm/model.tar.gz"]]},
    }
    assert statements["WriteDataCapture"]["Action"] == "s3:PutObject"
    assert f"/data-capture/{ENDPOINT}/*" in str(statements["WriteDataCapture"]["Resource"])
    assert f"log-group:/aws/sagemaker/Endpoints/{ENDPOINT}" in str(statements["WriteEndpointLogs"]["Resource"])
    # The only "*" resources are the two actions that have no resource-level permissions.
    wildcard = [s for s in statements.values() if s["Resource"] == "*"]
    assert wildcard == [statements["AuthenticateToEcrAndPublishMetrics"]]
    assert sorted(wildcard[0]["Action"]) == ["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]
    assert not any(p["Properties"].get("ManagedPolicyArns") for p in resources_of(t, "AWS::IAM::Role").values())


def _endpoint_stack(**overrides):
    app = new_app()
    stack = Stack(app, "Lib")
    props = dict(
        endpoint_name="ranker",
        variants=[VariantSpec(model=ModelSpec(image=IMAGE, model_data_url="s3://models-bucket/ranker/model.tar.gz"), instance_type="ml.c5.xlarge")],
    )
    props.update(overrides)
    endpoint = InferenceEndpoint(stack, "Ranker", **props)
    return stack, endpoint


def test_library_use_with_key_two_variants_and_linear_deployment():
    app = new_app()
    stack = Stack(app, "Lib")
    key = kms.Key(stack, "Key")
    variants = [
        VariantSpec(name="current", model=ModelSpec(image=IMAGE), instance_type="ml.c5.xlarge", instance_count=2, weight=0.9),
        VariantSpec(name="candidate", model=ModelSpec(image=IMAGE), instance_type="ml.c5.xlarge", instance_count=2, weight=0.1),
    ]
    endpoint = InferenceEndpoint(
        stack, "Ranker", endpoint_name="ranker", variants=variants, encryption_key=key,
        deployment=DeploymentSpec(strategy=DeploymentStrategy.LINEAR, step_percent=25, wait_minutes=5),
        autoscaling=AutoScalingSpec(min_capacity=2, max_capacity=4, target_invocations_per_instance=100),
    )
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(role)
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::SageMaker::Model", 2)
    t.has_resource_properties("AWS::SageMaker::EndpointConfig", {"KmsKeyId": {"Fn::GetAtt": [Match.any_value(), "Arn"]}})
    t.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {"DeploymentConfig": {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}, "WaitIntervalInSeconds": 300}}}},
    )
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"Metrics": Match.array_with([Match.object_like({"Expression": "v0+v1", "Id": "expr_1"})])},
    )
    assert sorted(
        p["Properties"]["ResourceId"] for p in resources_of(_json(t), "AWS::ApplicationAutoScaling::ScalableTarget").values()
    ) == ["endpoint/ranker/variant/candidate", "endpoint/ranker/variant/current"]
    t.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": [{
            "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"], "Effect": "Allow",
            "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":",
                                          {"Ref": "AWS::AccountId"}, ":endpoint/ranker"]]}}]}},
    )


def _json(template):
    class _T:
        raw = template.to_json()
    return _T


def test_metric_helpers_and_import():
    stack, endpoint = _endpoint_stack()
    latency = endpoint.metric_model_latency()
    assert (latency.namespace, latency.metric_name, latency.statistic) == ("AWS/SageMaker", "ModelLatency", "p99")
    assert latency.dimensions == {"EndpointName": "ranker", "VariantName": "AllTraffic"}
    gpu = endpoint.metric_gpu_memory_utilization()
    assert (gpu.namespace, gpu.metric_name, gpu.statistic) == ("/aws/sagemaker/Endpoints", "GPUMemoryUtilization", "Average")
    imported = InferenceEndpoint.from_endpoint_name(stack, "Other", "legacy-endpoint", variant_names=["blue"])
    assert imported.metric_invocations().dimensions == {"EndpointName": "legacy-endpoint", "VariantName": "blue"}
    imported.on_state_change("OnChange")
    t = Template.from_stack(stack)
    t.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Endpoint State Change"],
                          "detail": {"EndpointName": ["legacy-endpoint"]}}},
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"endpoint_name": "bad_name"}, r"endpoint_name: got 'bad_name'; 1-63 letters"),
        ({"variants": []}, r"variants: got 0; 1-10 production variants"),
        ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE), instance_type="ml.c5.mega")]},
         r"variants\[0\]\.instance_type: got 'ml\.c5\.mega'"),
        ({"variants": [VariantSpec(model=ModelSpec(image="nginx"), instance_type="ml.c5.xlarge")]},
         r"variants\[0\]\.model\.image: got 'nginx'; an ECR image URI"),
        ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE), instance_type="ml.c5.xlarge", weight=0)]},
         r"variants\[\*\]\.weight: got \[0\]; a total weight > 0"),
        ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE), instance_type="ml.c5.xlarge", volume_size_gb=600)]},
         r"variants\[0\]\.volume_size_gb: got 600; 1-512 GB"),
        ({"autoscaling": AutoScalingSpec(min_capacity=0, max_capacity=2, target_invocations_per_instance=1)},
         r"autoscaling\.min_capacity: got 0; >= 1 for instance-based real-time variants"),
        ({"deployment": DeploymentSpec(canary_percent=75)}, r"deployment\.canary_percent: got 75; 1-50 % of the fleet"),
        ({"data_capture": DataCaptureSpec(sampling_percent=20)}, r"data_capture_bucket: got None; a bucket when data_capture is set"),
    ],
)
def test_construct_validation_messages(overrides, message):
    with pytest.raises(PlatformValidationError, match=message):
        _endpoint_stack(**overrides)


def test_construct_collects_every_problem_at_once():
    with pytest.raises(PlatformValidationError) as info:
        _endpoint_stack(
            endpoint_name="bad_name",
            variants=[VariantSpec(model=ModelSpec(image="nginx"), instance_type="ml.t2.medium", instance_count=0)],
            autoscaling=AutoScalingSpec(min_capacity=1, max_capacity=2, target_invocations_per_instance=5),
        )
    wheres = [p.where for p in info.value.problems]
    assert wheres == [
        "endpoint_name", "variants[0].instance_count", "variants[0].model.image",
        "variants[0].instance_count", "variants[0].instance_type",
    ]


def test_target_from_rps_helper():
    assert AutoScalingSpec.target_from_rps(4, safety_factor=0.5) == 120.0
    with pytest.raises(ValueError):
        AutoScalingSpec.target_from_rps(0)
