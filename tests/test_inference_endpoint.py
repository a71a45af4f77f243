"""InferenceEndpoint and InferenceComponent: exact CloudFormation properties, every validation message,
metric helpers, imports, and the update story (new image -> new model and config, same endpoint)."""

from __future__ import annotations

import copy
import dataclasses
from types import SimpleNamespace

import pytest
import yaml
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    AsyncInferenceSpec,
    AutoScalingSpec,
    ComponentAutoScalingSpec,
    ComponentSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    InferenceComponent,
    InferenceEndpoint,
    ManagedInstanceScalingSpec,
    MetricTargetSpec,
    ModelSpec,
    PlatformValidationError,
    PromotedModel,
    PromotionParameters,
    RoutingStrategy,
    ScheduledScalingSpec,
    ServerlessSpec,
    ShadowVariantSpec,
    VariantSpec,
)
from constructs_lib.observability import EndpointAlarmThresholds, SeverityThresholds
from tests.conftest import lint_assembly, new_app, resources_of
from tests.test_inference_kinds import PLATFORM_KEY_ARN, execution_policy, of, one, statements

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04"
ENDPOINT = "acme-ml-dev-chat-llm"
CHAT = "ChatLlmEndpoint"
MODEL = ModelSpec(image=IMAGE, model_data_url="s3://models-bucket/ranker/model.tar.gz")


# -- the default platform's realtime shorthand endpoint (chat-llm) ---------------------------------
def test_model_has_isolation_role_and_no_physical_name(default_platform):
    _, model = one(default_platform["inference"], f"{CHAT}Model", "AWS::SageMaker::Model")
    props = model["Properties"]
    assert "ModelName" not in props  # create-only properties: a name would make updates fail
    assert props["EnableNetworkIsolation"] is True
    # chat-llm is a promotion target (keep_promoted_version): image and model data are read at deploy time
    # from the promotion parameters, whose initial values are the config's (data stack)
    container = props["PrimaryContainer"]
    assert container["Environment"] == {"SM_NUM_GPUS": "1"} and set(container) == {"Image", "ModelDataUrl", "Environment"}
    parameters = default_platform["inference"].raw["Parameters"]
    assert {key: parameters[container[key]["Ref"]] for key in ("Image", "ModelDataUrl")} == {
        "Image": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/acme-ml/dev/promotion/chat-llm/AllTraffic/image"},
        "ModelDataUrl": {
            "Type": "AWS::SSM::Parameter::Value<String>", "Default": "/acme-ml/dev/promotion/chat-llm/AllTraffic/model-data",
        },
    }
    created = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in resources_of(default_platform["data"], "AWS::SSM::Parameter").values()
    }
    assert created == {
        "/acme-ml/dev/promotion/chat-llm/AllTraffic/image": IMAGE,
        "/acme-ml/dev/promotion/chat-llm/AllTraffic/model-data": "s3://acme-ml-models/chat-llm/model.tar.gz",
    }
    assert props["ExecutionRoleArn"]["Fn::GetAtt"][1] == "Arn"
    # the other endpoints' templates hold their models
    ranker = default_platform["inference"].raw["Resources"]["RankerEndpointModel7AB64BBD"]
    assert ranker["Properties"]["PrimaryContainer"]["ModelDataUrl"] == "s3://acme-ml-models/ranker/v7/model.tar.gz"


def test_endpoint_config_sets_the_platform_key_on_local_nvme_g5(default_platform):
    """botocore 1.44 ``CreateEndpointConfigInput.KmsKeyId``: on instance types with local NVMe storage the key
    "does not encrypt instance local storage" (the call no longer fails), so it is set on every config."""
    t = default_platform["inference"]
    _, config = one(t, f"{CHAT}Config", "AWS::SageMaker::EndpointConfig")
    props = config["Properties"]
    assert "EndpointConfigName" not in props
    key = props["KmsKeyId"]
    assert key == PLATFORM_KEY_ARN
    model_id, _ = one(t, f"{CHAT}Model", "AWS::SageMaker::Model")
    assert props["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
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
    assert capture["KmsKeyId"] == key
    # Every endpoint config of the default platform carries the platform key, whatever its instance types.
    configs = resources_of(t, "AWS::SageMaker::EndpointConfig")
    assert len(configs) == 7 and all(c["Properties"]["KmsKeyId"] == key for c in configs.values())


@pytest.mark.xdist_group("prod")  # one worker builds prod_platform once
def test_volume_kms_key_false_omits_the_key_and_says_why(prod_platform):
    """The one switch (config ``endpoints[].volume_kms_key: false``, library ``volume_kms_key=False``)."""
    t = prod_platform["inference"]
    _, chat = one(t, f"{CHAT}Config", "AWS::SageMaker::EndpointConfig")
    assert chat["Properties"]["KmsKeyId"] == {"Fn::GetStackOutput": {
        "StackName": "acme-ml-prod-data", "Region": "us-east-1",
        "OutputName": PLATFORM_KEY_ARN["Fn::GetStackOutput"]["OutputName"],
    }}
    _, ranker = one(t, "RankerEndpointConfig", "AWS::SageMaker::EndpointConfig")
    assert "KmsKeyId" not in ranker["Properties"]
    # The prod platform synthesized with every nag pack on: the omission is acknowledged (AwsSolutions-SM2
    # and the three KMS rules) on that config only, with the reason.


def test_endpoint_keeps_name_and_rolls_back_on_both_alarms(default_platform):
    t = default_platform["inference"]
    _, endpoint = one(t, "ChatLlmEndpoint3760A117", "AWS::SageMaker::Endpoint")
    alarms = {a["Properties"]["AlarmName"]: k for k, a in of(t, CHAT, "AWS::CloudWatch::Alarm").items()}
    props = endpoint["Properties"]
    assert props["EndpointName"] == ENDPOINT
    assert props["RetainAllVariantProperties"] is True
    assert props["DeploymentConfig"] == {
        "AutoRollbackConfiguration": {"Alarms": [
            {"AlarmName": {"Ref": alarms[f"{ENDPOINT}-5xx-rate-critical"]}},
            {"AlarmName": {"Ref": alarms[f"{ENDPOINT}-p99-model-latency-critical"]}},
        ]},
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
    target_id, target = one(t, f"{CHAT}ScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")
    p = target["Properties"]
    assert (p["MinCapacity"], p["MaxCapacity"]) == (2, 8)
    assert p["ResourceId"] == f"endpoint/{ENDPOINT}/variant/AllTraffic"
    assert p["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert p["ServiceNamespace"] == "sagemaker"
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in str(p["RoleARN"])
    endpoint_id, _ = one(t, "ChatLlmEndpoint3760A117", "AWS::SageMaker::Endpoint")
    assert endpoint_id in target["DependsOn"]
    _, policy = one(t, f"{CHAT}ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert policy["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    assert policy["Properties"]["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        "TargetValue": 60, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
    }


def test_rollback_5xx_alarm_is_the_unguarded_critical_5xx_rate_alarm(default_platform):
    """The rollback alarm is the critical 5XX-rate alarm (one alarm, not a count alarm beside a rate alarm);
    no low-traffic guard (``> 0``), so a short canary bake at low traffic can still roll back (AWS,
    "Auto-Rollback Configuration and Monitoring": alarms on EndpointName + VariantName see both fleets).
    No action of its own: it notifies through the endpoint's unhealthy rollup (observability stack)."""
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in of(default_platform["inference"], CHAT, "AWS::CloudWatch::Alarm").values()}
    assert sorted(alarms) == [f"{ENDPOINT}-5xx-rate-critical", f"{ENDPOINT}-p99-model-latency-critical"]
    p = alarms[f"{ENDPOINT}-5xx-rate-critical"]
    assert p["Metrics"][0] == {
        "Expression": "IF(m_invocations_alltraffic > 0, 100 * m_invocation5xxerrors_alltraffic / m_invocations_alltraffic, 0)",
        "Id": "expr_1", "Label": "5XX rate (%)", "ReturnData": True,
    }
    stats = {m["Id"]: m["MetricStat"] for m in p["Metrics"][1:]}
    for mid, metric in (("m_invocations_alltraffic", "Invocations"), ("m_invocation5xxerrors_alltraffic", "Invocation5XXErrors")):
        assert stats[mid] == {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": [
            {"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]},
            "Period": 60, "Stat": "Sum"}
    assert (p["Threshold"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (5, 3, 2)
    assert p["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert p["TreatMissingData"] == "notBreaching"
    assert p["AlarmDescription"].startswith(f"{ENDPOINT} answered >= 5 % of requests with 5XX in 2 of 3 minutes. Look first at: ")
    assert "AlarmActions" not in p and "OKActions" not in p


@pytest.mark.xdist_group("prod")  # one worker builds prod_platform once
def test_latency_alarm_is_on_by_default_at_half_the_invocation_timeout(default_platform, prod_platform):
    def latency(platform, environment: str):
        alarms = of(platform["inference"], CHAT, "AWS::CloudWatch::Alarm").values()
        (p,) = [a["Properties"] for a in alarms if a["Properties"]["AlarmName"] == f"acme-ml-{environment}-chat-llm-p99-model-latency-critical"]
        return p

    default = latency(default_platform, "dev")
    assert (default["MetricName"], default["ExtendedStatistic"], default["Period"]) == ("ModelLatency", "p99", 60)
    assert default["Threshold"] == 30_000_000  # 30 s (half of InvokeEndpoint's 60 s) in microseconds
    assert default["ComparisonOperator"] == "GreaterThanThreshold"
    assert latency(prod_platform, "prod")["Threshold"] == 2_000_000  # configured 2000 ms


def test_execution_policy_is_scoped_to_specific_arns(default_platform):
    t = default_platform["inference"]
    s = statements(t, CHAT)
    assert s["PullModelImages"]["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"]]
    }
    assert s["ReadModelData"] == {
        "Sid": "ReadModelData", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::acme-ml-models/chat-llm/model.tar.gz"]]},
    }
    # a promotion may deploy versions from the artifact bucket's models/ and next to the current model
    assert s["ReadPromotedModelData"]["Action"] == "s3:GetObject"
    assert s["ReadPromotedModelData"]["Resource"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"},
                           "-", {"Ref": "AWS::Region"}, "/models/*"]]},
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::acme-ml-models/chat-llm/*"]]},
    ]
    assert s["WriteDataCapture"]["Action"] == "s3:PutObject"
    assert f"/data-capture/{ENDPOINT}/*" in str(s["WriteDataCapture"]["Resource"])
    assert f"log-group:/aws/sagemaker/Endpoints/{ENDPOINT}" in str(s["WriteEndpointLogs"]["Resource"])
    # The only "*" resources are the two actions that have no resource-level permissions.
    wildcard = [x for x in s.values() if x["Resource"] == "*"]
    assert wildcard == [s["AuthenticateToEcrAndPublishMetrics"]]
    assert sorted(wildcard[0]["Action"]) == ["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]
    assert not any(p["Properties"].get("ManagedPolicyArns") for p in resources_of(t, "AWS::IAM::Role").values())


# -- library use -------------------------------------------------------------------------------------
def _endpoint_stack(overrides=None):
    """A stack with one InferenceEndpoint; ``overrides`` is a dict of props or a function of the stack."""
    app = new_app()
    stack = Stack(app, "Lib")
    props = dict(endpoint_name="ranker", variants=[VariantSpec(model=MODEL, instance_type="ml.c5.xlarge")])
    props.update(overrides(stack) if callable(overrides) else overrides or {})
    endpoint = InferenceEndpoint(stack, "Ranker", **props)
    return stack, endpoint


@pytest.mark.parametrize("volume_kms_key", [True, False])
def test_volume_kms_key_switch_on_a_local_nvme_instance_type(volume_kms_key):
    def props(stack):
        key = kms.Key(stack, "Key")
        return dict(
            encryption_key=key, volume_kms_key=volume_kms_key,
            variants=[VariantSpec(model=MODEL, instance_type="ml.g5.2xlarge")],
        )

    stack, endpoint = _endpoint_stack(props)
    config = Template.from_stack(stack).to_json()["Resources"][stack.get_logical_id(endpoint.endpoint_config)]
    if volume_kms_key:
        assert config["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    else:
        assert "KmsKeyId" not in config["Properties"]


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
    raw = t.to_json()["Resources"]
    # One model per variant, its construct id derived from the variant name (stable across releases).
    assert sorted(k[:-8] for k, r in raw.items() if r["Type"] == "AWS::SageMaker::Model") == ["RankerModel", "RankerModelcandidate"]
    t.has_resource_properties("AWS::SageMaker::EndpointConfig", {"KmsKeyId": {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}})
    t.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {"DeploymentConfig": {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}, "WaitIntervalInSeconds": 300}}}},
    )
    # The rollback alarm: one 5XX rate over both variants (both fleets during the deployment).
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"AlarmName": "ranker-5xx-rate-critical", "Metrics": Match.array_with([Match.object_like({
            "Expression": "IF((FILL(m_invocations_current, 0)+FILL(m_invocations_candidate, 0)) > 0, 100 * "
                          "(FILL(m_invocation5xxerrors_current, 0)+FILL(m_invocation5xxerrors_candidate, 0)) / "
                          "(FILL(m_invocations_current, 0)+FILL(m_invocations_candidate, 0)), 0)",
            "Id": "expr_1"})])},
    )
    assert sorted(r["Properties"]["ResourceId"] for r in raw.values() if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget") == [
        "endpoint/ranker/variant/candidate", "endpoint/ranker/variant/current",
    ]
    t.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": [{
            "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"], "Effect": "Allow",
            "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":",
                                          {"Ref": "AWS::AccountId"}, ":endpoint/ranker"]]}}]}},
    )


def test_capacity_fallback_routing_timeouts_rolling_and_schedules():
    stack, _ = _endpoint_stack({
        "variants": [VariantSpec(
            model=MODEL, instance_type="ml.g5.xlarge", instance_count=2, routing=RoutingStrategy.RANDOM,
            fallback_instance_types=("ml.g6.xlarge", "ml.g4dn.xlarge"), provision_timeout_seconds=900,
            volume_size_gb=100, container_startup_timeout_seconds=600, model_download_timeout_seconds=1200,
        )],
        "deployment": DeploymentSpec(strategy=DeploymentStrategy.ROLLING, step_percent=50, wait_minutes=5, max_execution_minutes=60),
        "autoscaling": AutoScalingSpec(
            min_capacity=1, max_capacity=6, target_concurrent_requests_per_model=8,
            scale_in_cooldown_seconds=600, scale_out_cooldown_seconds=30,
            schedules=(ScheduledScalingSpec(name="night", schedule="cron(0 22 * * ? *)", max_capacity=2),),
        ),
    })
    raw = Template.from_stack(stack).to_json()["Resources"]
    (config,) = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    (model_id,) = [k for k, r in raw.items() if r["Type"] == "AWS::SageMaker::Model"]
    assert config["ProductionVariants"] == [{
        "VariantName": "AllTraffic", "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
        "InstancePools": [
            {"InstanceType": "ml.g5.xlarge", "Priority": 1},
            {"InstanceType": "ml.g6.xlarge", "Priority": 2},
            {"InstanceType": "ml.g4dn.xlarge", "Priority": 3},
        ],
        "VariantInstanceProvisionTimeoutInSeconds": 900,
        "InitialInstanceCount": 2, "InitialVariantWeight": 1, "VolumeSizeInGB": 100,
        "ContainerStartupHealthCheckTimeoutInSeconds": 600, "ModelDataDownloadTimeoutInSeconds": 1200,
        "RoutingConfig": {"RoutingStrategy": "RANDOM"},
    }]
    (ep,) = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::SageMaker::Endpoint"]
    assert ep["DeploymentConfig"]["RollingUpdatePolicy"] == {
        "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50}, "WaitIntervalInSeconds": 300,
        "MaximumExecutionTimeoutInSeconds": 3600,
    }
    (target,) = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"]
    assert target["ScheduledActions"] == [
        {"ScheduledActionName": "night", "Schedule": "cron(0 22 * * ? *)", "ScalableTargetAction": {"MaxCapacity": 2}}
    ]
    (policy,) = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy"]
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantConcurrentRequestsPerModelHighResolution"},
        "TargetValue": 8, "ScaleInCooldown": 600, "ScaleOutCooldown": 30,
    }


def test_vpc_placement_with_default_security_group_and_network_interface_permissions():
    def props(stack):
        vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
        return {"vpc": vpc}

    stack, endpoint = _endpoint_stack(props)
    raw = Template.from_stack(stack).to_json()["Resources"]
    (model,) = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::SageMaker::Model"]
    (group_id,) = [k for k, r in raw.items() if r["Type"] == "AWS::EC2::SecurityGroup"]
    private = sorted(k for k, r in raw.items() if r["Type"] == "AWS::EC2::Subnet" and "Private" in k)
    assert model["VpcConfig"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": [group_id, "GroupId"]}],
        "Subnets": [{"Ref": k} for k in private],
    }
    assert raw[group_id]["Properties"]["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS to S3, ECR and AWS APIs", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]
    assert "SecurityGroupIngress" not in raw[group_id]["Properties"]
    eni = {s["Sid"]: s for s in execution_policy(SimpleNamespace(raw={"Resources": raw}), "Ranker")["PolicyDocument"]["Statement"]}[
        "ManageVpcNetworkInterfaces"]
    assert "ec2:CreateNetworkInterface" in eni["Action"] and eni["Resource"] == "*"
    assert endpoint.security_groups[0].node.id == "SecurityGroup"


def test_models_in_a_vpc_wait_for_the_separate_rules_of_their_security_groups():
    """Instances start with the endpoint and need their groups' rules; a GetAtt on a group does not wait
    for its separate SecurityGroupIngress/Egress resources (aws-cdk PR #14431)."""
    def props(stack):
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
        group = ec2.SecurityGroup(stack, "Shared", vpc=vpc, allow_all_outbound=False)
        group.add_egress_rule(group, ec2.Port.tcp(443), "HTTPS to members")
        return {"vpc": vpc, "security_groups": [group]}

    stack, _ = _endpoint_stack(props)
    raw = Template.from_stack(stack).to_json()["Resources"]
    (rule,) = [k for k, r in raw.items() if r["Type"] == "AWS::EC2::SecurityGroupEgress"]
    (model,) = [r for r in raw.values() if r["Type"] == "AWS::SageMaker::Model"]
    # Its permissions come with the role it names (inline policy): the rule is its only explicit dependency.
    assert model["DependsOn"] == [rule]


def test_library_kinds_outside_the_default_config_pass_every_nag_pack(tmp_path):
    """VPC placement, capacity fallback and a component on an imported endpoint: all five packs, no finding."""
    from constructs_lib import add_compliance_checks

    app = new_app(tmp_path)
    stack = Stack(app, "Lib")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)])
    from constructs_lib import acknowledge

    acknowledge(vpc, "Test VPC: flow logs are the network stack's concern.", "AwsSolutions-VPC7",
                "HIPAA.Security-VPCFlowLogsEnabled", "NIST.800.53.R5-VPCFlowLogsEnabled", "PCI.DSS.321-VPCFlowLogsEnabled",
                "HIPAA.Security-VPCDefaultSecurityGroupClosed", "NIST.800.53.R5-VPCDefaultSecurityGroupClosed",
                "PCI.DSS.321-VPCDefaultSecurityGroupClosed")
    topic = sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True)
    # its model read from promotion parameters, created by a stack deployed before it
    parameters = PromotionParameters(Stack(app, "Parameters"), "Promotion", models=[PROMOTED])
    stack.add_stack_dependency(Stack.of(parameters))
    InferenceEndpoint(
        stack, "Ranker", endpoint_name="ranker", encryption_key=key, alarm_topic=topic, vpc=vpc, deployment=DeploymentSpec(),
        variants=[VariantSpec(model=PROMOTED, instance_type="ml.m5.xlarge", instance_count=2, fallback_instance_types=("ml.m6i.xlarge",))],
    )
    imported = InferenceEndpoint.from_endpoint_name(stack, "Llm", "llm-hosting", kind=EndpointKind.INFERENCE_COMPONENTS)
    InferenceComponent(stack, "Llama", endpoint=imported, spec=LLAMA)
    add_compliance_checks(app)
    app.synth()  # raises on any unacknowledged finding
    assert lint_assembly(tmp_path) == []
    raw = Template.from_stack(stack).to_json()["Resources"]
    # Library use without EndpointMonitoring: the rollback alarms notify alarm_topic themselves.
    rollback = {r["Properties"]["AlarmName"]: r["Properties"] for r in raw.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert sorted(rollback) == ["ranker-5xx-rate-critical", "ranker-p99-model-latency-critical"]
    topic_id = stack.get_logical_id(topic.node.default_child)
    assert all(p["AlarmActions"] == p["OKActions"] == [{"Ref": topic_id}] for p in rollback.values())
    assert sorted(r["Type"] for r in raw.values() if r["Type"].startswith("AWS::SageMaker::")) == [
        "AWS::SageMaker::Endpoint", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::InferenceComponent",
        "AWS::SageMaker::Model", "AWS::SageMaker::Model",
    ]


def test_rollback_signals_follow_the_critical_thresholds_and_the_deployments_choice():
    off = EndpointAlarmThresholds(model_latency_p99_ms=SeverityThresholds())
    _, endpoint = _endpoint_stack({"alarms": off, "deployment": DeploymentSpec()})
    assert [a.node.id for a in endpoint.alarms] == ["5xxRateCriticalAlarm"]
    assert list(endpoint.signal_alarms) == ["error_rate_5xx_percent.critical"]
    _, chosen = _endpoint_stack({"deployment": DeploymentSpec(rollback_signals=("model_latency_p99_ms",))})
    assert [a.node.default_child.alarm_name for a in chosen.rollback_alarms] == ["ranker-p99-model-latency-critical"]
    _, none = _endpoint_stack({"deployment": DeploymentSpec(rollback_alarms=False)})
    assert none.alarms == [] and none.deployment_config == {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 600,
                                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}},
        "TerminationWaitInSeconds": 300}}
    _, undeployed = _endpoint_stack()  # no deployment, nothing to roll back: EndpointMonitoring makes its alarms
    assert undeployed.alarms == [] and undeployed.deployment_config is None


def test_metric_helpers_cover_every_endpoint_metric_with_defaults():
    stack, endpoint = _endpoint_stack()
    expected = {
        "metric_invocations": ("AWS/SageMaker", "Invocations", "Sum", True),
        "metric_invocations_per_instance": ("AWS/SageMaker", "InvocationsPerInstance", "Sum", True),
        "metric_model_latency": ("AWS/SageMaker", "ModelLatency", "p99", True),
        "metric_overhead_latency": ("AWS/SageMaker", "OverheadLatency", "p99", True),
        "metric_invocation_4xx_errors": ("AWS/SageMaker", "Invocation4XXErrors", "Sum", True),
        "metric_invocation_5xx_errors": ("AWS/SageMaker", "Invocation5XXErrors", "Sum", True),
        "metric_invocation_model_errors": ("AWS/SageMaker", "InvocationModelErrors", "Sum", True),
        "metric_model_setup_time": ("AWS/SageMaker", "ModelSetupTime", "Average", True),
        "metric_concurrent_requests_per_model": ("AWS/SageMaker", "ConcurrentRequestsPerModel", "Maximum", True),
        "metric_serverless_provisioned_concurrency_utilization":
            ("AWS/SageMaker", "ServerlessProvisionedConcurrencyUtilization", "Average", True),
        "metric_serverless_provisioned_concurrency_spillover_invocations":
            ("AWS/SageMaker", "ServerlessProvisionedConcurrencySpilloverInvocations", "Sum", True),
        "metric_approximate_backlog_size": ("AWS/SageMaker", "ApproximateBacklogSize", "Average", False),
        "metric_approximate_backlog_size_per_instance": ("AWS/SageMaker", "ApproximateBacklogSizePerInstance", "Average", False),
        "metric_has_backlog_without_capacity": ("AWS/SageMaker", "HasBacklogWithoutCapacity", "Average", False),
        "metric_approximate_age_of_oldest_request": ("AWS/SageMaker", "ApproximateAgeOfOldestRequest", "Maximum", False),
        "metric_cpu_utilization": ("/aws/sagemaker/Endpoints", "CPUUtilization", "Average", True),
        "metric_memory_utilization": ("/aws/sagemaker/Endpoints", "MemoryUtilization", "Average", True),
        "metric_gpu_utilization": ("/aws/sagemaker/Endpoints", "GPUUtilization", "Average", True),
        "metric_gpu_memory_utilization": ("/aws/sagemaker/Endpoints", "GPUMemoryUtilization", "Average", True),
        "metric_disk_utilization": ("/aws/sagemaker/Endpoints", "DiskUtilization", "Average", True),
    }
    helpers = {n for n in dir(endpoint) if n.startswith("metric_")} - {"metric_component"}
    assert sorted(expected) == sorted(helpers)
    per_copy = endpoint.metric_component("llama-8b", "InvocationsPerCopy")
    assert (per_copy.namespace, per_copy.statistic, per_copy.dimensions) == (
        "AWS/SageMaker", "Sum", {"InferenceComponentName": "llama-8b"}
    )
    for helper, (namespace, name, statistic, per_variant) in expected.items():
        m = getattr(endpoint, helper)()
        assert (m.namespace, m.metric_name, m.statistic, m.period.to_seconds()) == (namespace, name, statistic, 60), helper
        dims = {"EndpointName": "ranker", "VariantName": "AllTraffic"} if per_variant else {"EndpointName": "ranker"}
        assert m.dimensions == dims, helper
    imported = InferenceEndpoint.from_endpoint_name(stack, "Other", "legacy-endpoint", variant_names=["blue"])
    assert imported.metric_invocations().dimensions == {"EndpointName": "legacy-endpoint", "VariantName": "blue"}
    imported.on_state_change("OnChange")
    Template.from_stack(stack).has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Endpoint State Change"],
                          "detail": {"EndpointName": ["legacy-endpoint"]}}},
    )


LLAMA = ComponentSpec(
    name="llama-8b", model=ModelSpec(image=IMAGE, model_data_url="s3://models-bucket/llama/model.tar.gz"), memory_mb=24576,
    accelerators=1, cpu_cores=2, copies=2, container_startup_timeout_seconds=900, model_download_timeout_seconds=1800,
    autoscaling=ComponentAutoScalingSpec(min_copies=1, max_copies=4, target_invocations_per_copy=30),
)


def test_inference_component_on_an_imported_endpoint_with_metrics():
    app = new_app()
    stack = Stack(app, "Lib")
    endpoint = InferenceEndpoint.from_endpoint_name(stack, "Llm", "llm-hosting", kind=EndpointKind.INFERENCE_COMPONENTS)
    component = InferenceComponent(stack, "Llama", endpoint=endpoint, spec=LLAMA)
    raw = Template.from_stack(stack).to_json()["Resources"]
    (ic_id,) = [k for k, r in raw.items() if r["Type"] == "AWS::SageMaker::InferenceComponent"]
    ic = raw[ic_id]
    assert "DependsOn" not in ic  # nothing to wait for: the endpoint exists already
    (model_id,) = [k for k, r in raw.items() if r["Type"] == "AWS::SageMaker::Model"]
    assert ic["Properties"]["Specification"] == {
        "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
        "ComputeResourceRequirements": {"NumberOfAcceleratorDevicesRequired": 1, "MinMemoryRequiredInMb": 24576, "NumberOfCpuCoresRequired": 2},
        "StartupParameters": {"ContainerStartupHealthCheckTimeoutInSeconds": 900, "ModelDataDownloadTimeoutInSeconds": 1800},
    }
    assert ic["Properties"]["RuntimeConfig"] == {"CopyCount": 2}
    (policy,) = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"
    }
    assert not [r for r in raw.values() if r["Type"] == "AWS::CloudWatch::Alarm" and "scale-out" in r["Properties"]["AlarmName"]]
    # No alarm set of its own: no deployment rolls back on it; EndpointMonitoring watches its signals.
    assert [r for r in raw.values() if r["Type"] == "AWS::CloudWatch::Alarm"] == []
    expected = {
        "metric_invocations": ("AWS/SageMaker", "Invocations", "Sum"),
        "metric_invocations_per_copy": ("AWS/SageMaker", "InvocationsPerCopy", "Sum"),
        "metric_model_latency": ("AWS/SageMaker", "ModelLatency", "p99"),
        "metric_overhead_latency": ("AWS/SageMaker", "OverheadLatency", "p99"),
        "metric_invocation_4xx_errors": ("AWS/SageMaker", "Invocation4XXErrors", "Sum"),
        "metric_invocation_5xx_errors": ("AWS/SageMaker", "Invocation5XXErrors", "Sum"),
        "metric_invocation_model_errors": ("AWS/SageMaker", "InvocationModelErrors", "Sum"),
        "metric_model_setup_time": ("AWS/SageMaker", "ModelSetupTime", "Average"),
        "metric_concurrent_requests_per_copy": ("AWS/SageMaker", "ConcurrentRequestsPerCopy", "Maximum"),
        "metric_no_capacity_invocation_failures": ("AWS/SageMaker", "NoCapacityInvocationFailures", "Maximum"),
        "metric_cpu_utilization": ("/aws/sagemaker/InferenceComponents", "CPUUtilizationNormalized", "Average"),
        "metric_memory_utilization": ("/aws/sagemaker/InferenceComponents", "MemoryUtilizationNormalized", "Average"),
        "metric_gpu_utilization": ("/aws/sagemaker/InferenceComponents", "GPUUtilizationNormalized", "Average"),
        "metric_gpu_memory_utilization": ("/aws/sagemaker/InferenceComponents", "GPUMemoryUtilizationNormalized", "Average"),
    }
    assert sorted(expected) == sorted(n for n in dir(component) if n.startswith("metric_"))
    for helper, (namespace, name, statistic) in expected.items():
        m = getattr(component, helper)()
        assert (m.namespace, m.metric_name, m.statistic, m.dimensions) == (
            namespace, name, statistic, {"InferenceComponentName": "llama-8b"}), helper


@pytest.mark.parametrize(
    ("kind", "variant", "message"),
    [
        (EndpointKind.REALTIME, None, r"endpoint: got 'realtime'; an endpoint of kind inference-components"),
        (EndpointKind.INFERENCE_COMPONENTS, "blue", r"variant_name: got 'blue'; one of the endpoint's variants \(AllTraffic\)"),
    ],
)
def test_inference_component_needs_an_inference_component_endpoint(kind, variant, message):
    stack = Stack(new_app(), "Lib")
    endpoint = InferenceEndpoint.from_endpoint_name(stack, "Llm", "llm-hosting", kind=kind)
    with pytest.raises(PlatformValidationError, match=message):
        InferenceComponent(stack, "Llama", endpoint=endpoint, spec=LLAMA, variant_name=variant)


def test_new_image_replaces_model_and_config_but_updates_the_endpoint_in_place():
    """Two versions of a config: CloudFormation replaces the Model (create-only properties changed, no
    physical name) and therefore the EndpointConfig (its ModelName is the new model's name), and
    updates the Endpoint in place: same logical id, same EndpointName."""
    from stacks.config import DEFAULT_CONFIG, parse_config
    from stacks.inference_stack import InferenceStack

    default = yaml.safe_load(DEFAULT_CONFIG.read_text())
    # Only what the inference stack reads: the platform and the first endpoint.
    base = {"platform": default["platform"], "endpoints": default["endpoints"][:1]}

    def synth(tag: str) -> dict:
        data = copy.deepcopy(base)
        data["endpoints"][0]["model"]["image"] = IMAGE.replace("2.4.0-tgi2.4.0", tag)
        app = new_app()
        shared = Stack(app, "Data")
        config = parse_config(data)
        stack = InferenceStack(
            app, "acme-ml-dev-inference", config=config, endpoints=config.endpoints, key=kms.Key(shared, "Key"),
            topic=sns.Topic(shared, "Topic"), routing={}, overview_page="acme-ml-dev-overview-1",
        )
        return Template.from_stack(stack).to_json()["Resources"]

    v1, v2 = synth("2.4.0-tgi2.4.0"), synth("2.4.1-tgi2.4.1")
    by_type = {
        version: {r["Type"]: (k, r["Properties"]) for k, r in t.items() if r["Type"].startswith("AWS::SageMaker::")}
        for version, t in (("v1", v1), ("v2", v2))
    }
    (model_id, m1), (_, m2) = by_type["v1"]["AWS::SageMaker::Model"], by_type["v2"]["AWS::SageMaker::Model"]
    assert by_type["v1"]["AWS::SageMaker::Model"][0] == by_type["v2"]["AWS::SageMaker::Model"][0]
    assert m1["PrimaryContainer"]["Image"] != m2["PrimaryContainer"]["Image"]
    assert "ModelName" not in m1 and "ModelName" not in m2  # a changed model gets a new generated name
    for version in ("v1", "v2"):
        config_id, config = by_type[version]["AWS::SageMaker::EndpointConfig"]
        assert "EndpointConfigName" not in config
        assert config["ProductionVariants"][0]["ModelName"] == {"Fn::GetAtt": [model_id, "ModelName"]}
        _, endpoint = by_type[version]["AWS::SageMaker::Endpoint"]
        assert endpoint["EndpointConfigName"] == {"Fn::GetAtt": [config_id, "EndpointConfigName"]}
    (e1_id, e1), (e2_id, e2) = by_type["v1"]["AWS::SageMaker::Endpoint"], by_type["v2"]["AWS::SageMaker::Endpoint"]
    assert e1_id == e2_id and e1 == e2 and e1["EndpointName"] == ENDPOINT
    assert by_type["v1"]["AWS::SageMaker::EndpointConfig"][0] == by_type["v2"]["AWS::SageMaker::EndpointConfig"][0]
    # Variant names stay stable across versions: blue/green updates require it.
    assert by_type["v1"]["AWS::SageMaker::EndpointConfig"][1]["ProductionVariants"][0]["VariantName"] == "AllTraffic"


def _dependency_order(resources: dict) -> list[str]:
    """A creation/update order CloudFormation may use: DependsOn plus Ref/GetAtt edges, topologically sorted
    (ties by logical id). Every order CloudFormation uses respects these edges."""
    def refs(node) -> set[str]:
        found: set[str] = set()
        if isinstance(node, dict):
            if "Ref" in node and isinstance(node["Ref"], str):
                found.add(node["Ref"])
            if "Fn::GetAtt" in node:
                found.add(node["Fn::GetAtt"][0])
            for value in node.values():
                found |= refs(value)
        elif isinstance(node, list):
            for value in node:
                found |= refs(value)
        return found

    edges = {
        k: ({*r.get("DependsOn", [])} | refs(r.get("Properties", {}))) & set(resources) for k, r in resources.items()
    }
    order: list[str] = []
    while edges:
        ready = sorted(k for k, deps in edges.items() if not deps - set(order))
        assert ready, f"dependency cycle among {sorted(edges)}"
        order.append(ready[0])
        edges.pop(ready[0])
    return order


def test_instance_type_change_of_an_autoscaled_endpoint_deploys_in_order():
    """SageMaker Developer Guide, "Update endpoints that use auto scaling": UpdateEndpoint fails when it
    changes the instance type of a variant registered with Application Auto Scaling. Two configs differing
    only in ``instance_type`` of the autoscaled chat-llm endpoint: the guard (phase before) changes and so
    runs before the endpoint config and the endpoint (it deregisters the variant); the guard of phase after
    runs after the endpoint (it registers the variant again), then the scalable target, then the policies,
    which are replaced (their names carry the instance type) because deregistering deleted them."""
    from stacks.config import DEFAULT_CONFIG, parse_config
    from stacks.inference_stack import InferenceStack

    default = yaml.safe_load(DEFAULT_CONFIG.read_text())
    base = {"platform": default["platform"], "endpoints": default["endpoints"][:1]}

    def synth(instance_type: str) -> dict:
        data = copy.deepcopy(base)
        data["endpoints"][0]["instance_type"] = instance_type
        app = new_app()
        shared = Stack(app, "Data")
        config = parse_config(data)
        stack = InferenceStack(
            app, "acme-ml-dev-inference", config=config, endpoints=config.endpoints, key=kms.Key(shared, "Key"),
            topic=sns.Topic(shared, "Topic"), routing={}, overview_page="acme-ml-dev-overview-1",
        )
        return Template.from_stack(stack).to_json()["Resources"]

    v1, v2 = synth("ml.g5.2xlarge"), synth("ml.g6.2xlarge")
    assert set(v1) == set(v2)  # no resource added or removed: every change is an update or a replacement
    changed = sorted(k for k in v1 if v1[k] != v2[k])
    ids = {
        r["Properties"].get("Phase", r["Type"]): k for k, r in v1.items()
        if r["Type"] in ("Custom::EndpointScalingGuard", "AWS::SageMaker::Endpoint", "AWS::SageMaker::EndpointConfig",
                         "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy")
    }
    before, after = ids["before"], ids["after"]
    config, endpoint = ids["AWS::SageMaker::EndpointConfig"], ids["AWS::SageMaker::Endpoint"]
    target, policy = ids["AWS::ApplicationAutoScaling::ScalableTarget"], ids["AWS::ApplicationAutoScaling::ScalingPolicy"]
    # What changes: both guards (instance types only), the config (replaced), the policy (new name).
    assert changed == sorted([before, after, config, policy])
    for phase in (before, after):
        p1, p2 = v1[phase]["Properties"], v2[phase]["Properties"]
        assert p1["Variants"][0]["InstanceTypes"] == ["ml.g5.2xlarge"] and p2["Variants"][0]["InstanceTypes"] == ["ml.g6.2xlarge"]
        p2["Variants"][0]["InstanceTypes"] = ["ml.g5.2xlarge"]
        assert p1 == p2
    assert v1[before]["Properties"]["Variants"][0]["Scaling"] == {
        "ResourceId": f"endpoint/{ENDPOINT}/variant/AllTraffic", "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2, "MaxCapacity": 8, "ScheduledActions": [],
    }
    assert v1[policy]["Properties"]["PolicyName"] != v2[policy]["Properties"]["PolicyName"]  # create-only: replaced
    assert v1[policy]["Properties"]["PolicyName"].startswith(f"{ENDPOINT}-AllTraffic-InvocationsPerInstance-")
    assert v1[target] == v2[target] and v1[endpoint] == v2[endpoint]  # both kept, updated in place
    for t in (v1, v2):
        # The DependsOn chain: before <- config, endpoint <- after <- target <- policy.
        assert before in t[config]["DependsOn"] and before in t[endpoint]["DependsOn"]
        assert t[after]["DependsOn"] == [endpoint]
        assert after in t[target]["DependsOn"]
        assert t[policy]["Properties"]["ScalingTargetId"] == {"Ref": target}
        assert "DependsOn" not in t[before]  # nothing of the endpoint comes before it
        order = _dependency_order(t)
        assert order.index(before) < order.index(config) < order.index(endpoint) < order.index(after)
        assert order.index(after) < order.index(target) < order.index(policy)


def test_inference_component_endpoint_guard_stops_an_instance_type_change_before_the_config():
    stack, endpoint = _endpoint_stack(lambda stack: dict(
        kind=EndpointKind.INFERENCE_COMPONENTS, encryption_key=kms.Key(stack, "Key"),
        variants=[VariantSpec(instance_type="ml.g5.12xlarge")],
        components=[ComponentSpec(name="ranker-llama", model=MODEL, memory_mb=1024, accelerators=1)],
    ))
    raw = Template.from_stack(stack).to_json()["Resources"]
    guards = {k: r for k, r in raw.items() if r["Type"] == "Custom::EndpointScalingGuard"}
    (guard_id, guard), = guards.items()  # no phase after: no variant target to register again
    function_id = guard["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    assert function_id.startswith("EndpointScalingGuardFunction")
    assert guard["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [function_id, "Arn"]}, "ServiceTimeout": "300", "Phase": "before", "EndpointName": "ranker", "Kind": "inference-components",
        "Variants": [{"VariantName": "AllTraffic", "InstanceTypes": ["ml.g5.12xlarge"]}],
    }
    config_id = stack.get_logical_id(endpoint.endpoint_config)
    assert guard_id in raw[config_id]["DependsOn"] and guard_id in raw[stack.get_logical_id(endpoint.endpoint)]["DependsOn"]
    function = raw[function_id]
    assert function["Type"] == "AWS::Lambda::Function" and function["Properties"]["Handler"] == "handler.handler"
    assert function["Properties"]["ReservedConcurrentExecutions"] == 2 and function["Properties"]["Timeout"] == 120


def test_one_guard_function_per_stack_scoped_to_its_endpoints():
    stack = Stack(new_app(), "Lib")
    key = kms.Key(stack, "Key")
    for name in ("ranker", "scorer"):
        InferenceEndpoint(
            stack, name.capitalize(), endpoint_name=name, encryption_key=key,
            variants=[VariantSpec(model=MODEL, instance_type="ml.c5.xlarge")],
            autoscaling=AutoScalingSpec(min_capacity=1, max_capacity=2, target_invocations_per_instance=100),
        )
    t = Template.from_stack(stack)
    functions = [k for k, r in t.to_json()["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 1 and functions[0].startswith("EndpointScalingGuardFunction")
    (policy,) = [r for k, r in t.to_json()["Resources"].items()
                 if r["Type"] == "AWS::IAM::Policy" and k.startswith("EndpointScalingGuardFunctionRole")]
    found = policy["Properties"]["PolicyDocument"]["Statement"]
    s = {x["Sid"]: x for x in found if "Sid" in x}
    assert sorted(s["ReRegisterVariantTargets"]["Action"]) == [
        "application-autoscaling:DeregisterScalableTarget", "application-autoscaling:PutScheduledAction",
        "application-autoscaling:RegisterScalableTarget",
    ]
    assert s["ReRegisterVariantTargets"]["Resource"] == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":application-autoscaling:", {"Ref": "AWS::Region"}, ":",
        {"Ref": "AWS::AccountId"}, ":scalable-target/*"]]}
    # DescribeEndpoint/UpdateEndpointWeightsAndCapacities on exactly the two endpoints (merged statements)
    endpoint_resources = [
        r for x in found if x["Action"] == ["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"]
        for r in (x["Resource"] if isinstance(x["Resource"], list) else [x["Resource"]])
    ]
    assert sorted(r["Fn::Join"][1][-1] for r in endpoint_resources) == [":endpoint/ranker", ":endpoint/scorer"]


# -- validation: every message -------------------------------------------------------------------------
def _serverless(**kw):
    return VariantSpec(model=MODEL, serverless=ServerlessSpec(memory_mb=2048, max_concurrency=20), **kw)


def _vpc(stack, **extra):
    return {"vpc": ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0), **extra}


def _async(stack, **extra):
    return {
        "kind": EndpointKind.ASYNC, "encryption_key": kms.Key(stack, "Key"),
        "async_output_bucket": s3.Bucket.from_bucket_name(stack, "Out", "results-bucket"), **extra,
    }


PROMOTED = ModelSpec(
    image=IMAGE, model_data_url="s3://models-bucket/ranker/model.tar.gz",
    promoted=PromotedModel.under(
        "/ml/dev/promotion/ranker/AllTraffic", model_data=True,
        image_repositories=("123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker-serving:2",),
        model_data_prefixes=("s3://models-bucket/ranker/",),
    ),
)
IC_VARIANT = VariantSpec(instance_type="ml.g5.12xlarge")
SHADOW = ShadowVariantSpec(name="shadow", model=MODEL, instance_type="ml.c5.xlarge")
G5 = VariantSpec(model=MODEL, instance_type="ml.g5.xlarge")
MME = ModelSpec(image=IMAGE, model_data_prefix="s3://models-bucket/tenants/")

VALIDATION_CASES = [
    # names, counts, types, weights, sizes
    ({"endpoint_name": "bad_name"}, r"endpoint_name: got 'bad_name'; 1-63 letters"),
    ({"variants": []}, r"variants: got 0; 1-10 production variants"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.c5.xlarge", name=f"v{i}") for i in range(11)]}, r"variants: got 11; 1-10"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.c5.mega")]}, r"variants\[0\]\.instance_type: got 'ml\.c5\.mega'"),
    ({"variants": [VariantSpec(model=ModelSpec(image="nginx"), instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.image: got 'nginx'; an ECR image URI"),
    ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE, model_data_url="https://x/m.tar.gz"), instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.model_data_url: got 'https://x/m\.tar\.gz'; an s3://bucket/key URI"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.c5.xlarge", weight=0)]},
     r"variants\[\*\]\.weight: got \[0\]; a total weight > 0"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.c5.xlarge", weight=-1)]}, r"variants\[0\]\.weight: got -1; a weight >= 0"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.c5.xlarge", volume_size_gb=600)]},
     r"variants\[0\]\.volume_size_gb: got 600; 1-512 GB"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.c5.xlarge", model_download_timeout_seconds=30)]},
     r"variants\[0\]\.model_download_timeout_seconds: got 30; 60-3600 seconds"),
    ({"variants": [G5, G5]}, r"variants\[1\]\.name: got 'AllTraffic'; a variant name unique within the endpoint"),
    ({"variants": [VariantSpec(model=MODEL)]}, r"variants\[0\]\.instance_type: got None; an instance type \(only serverless endpoints have none\)"),
    ({"variants": [VariantSpec(instance_type="ml.c5.xlarge")]}, r"variants\[0\]\.model: got None; a model"),
    # capacity fallback
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.g5.xlarge", fallback_instance_types=("ml.g6.xlarge",) * 5)]},
     r"variants\[0\]\.fallback_instance_types: got \[.*\]; at most 4 \(InstancePools holds 1-5 pools\)"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.g5.xlarge", fallback_instance_types=("ml.g5.xlarge",))]},
     r"fallback_instance_types: got \['ml\.g5\.xlarge'\]; instance types different from each other and from instance_type"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.g5.xlarge", fallback_instance_types=("ml.g9.huge",))]},
     r"variants\[0\]\.fallback_instance_types: got 'ml\.g9\.huge'; one of"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.g5.xlarge", provision_timeout_seconds=100)]},
     r"variants\[0\]\.provision_timeout_seconds: got 100; 300-3600 seconds"),
    # serverless exclusions and limits
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless(instance_type="ml.g5.xlarge")]},
     r"variants\[0\]\.instance_type: got 'ml\.g5\.xlarge'; none on a serverless endpoint \(no instances, no GPUs\)"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [VariantSpec(model=MODEL)]},
     r"variants\[0\]\.serverless: got None; memory and max concurrency \(serverless capacity\) on a serverless endpoint"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [VariantSpec(model=MODEL, serverless=ServerlessSpec(memory_mb=3000, max_concurrency=5))]},
     r"variants\[0\]\.serverless\.memory_mb: got 3000; one of 1024, 2048, 3072, 4096, 5120, 6144 MB"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [VariantSpec(model=MODEL, serverless=ServerlessSpec(memory_mb=1024, max_concurrency=300))]},
     r"variants\[0\]\.serverless\.max_concurrency: got 300; 1-200"),
    ({"kind": EndpointKind.SERVERLESS,
      "variants": [VariantSpec(model=MODEL, serverless=ServerlessSpec(memory_mb=1024, max_concurrency=20, provisioned_concurrency=30))]},
     r"variants\[0\]\.serverless\.provisioned_concurrency: got 30; 1-200 and at most max_concurrency \(20\)"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless(), _serverless(name="b")]},
     r"variants: got 2; one production variant: serverless endpoints support no multiple variants"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless(routing=RoutingStrategy.RANDOM)]},
     r"variants\[0\]\.routing: got <RoutingStrategy\.RANDOM.*none on a serverless endpoint \(no instances to route between\)"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless(volume_size_gb=30)]},
     r"variants\[0\]\.volume_size_gb: got 30; none on a serverless endpoint \(no storage volume\)"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless()], "data_capture": DataCaptureSpec(sampling_percent=5)},
     r"data_capture: got '\(set\)'; none on a serverless endpoint: serverless endpoints support no data capture"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless()], "network_isolation": True},
     r"network_isolation: got True; False or unset on a serverless endpoint: serverless endpoints support no network isolation"),
    (lambda stack: _vpc(stack, kind=EndpointKind.SERVERLESS, variants=[_serverless()]),
     r"vpc: got '\(set\)'; none on a serverless endpoint: serverless endpoints support no VPC configuration"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless()], "deployment": DeploymentSpec(strategy=DeploymentStrategy.ROLLING)},
     r"deployment\.strategy: got 'rolling'; blue/green on a serverless endpoint: rolling updates need instances"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless()],
      "autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=4, target_provisioned_concurrency_utilization=0.5)},
     r"variants\[0\]\.serverless\.provisioned_concurrency: got None; a provisioned concurrency when a serverless endpoint autoscales"),
    ({"kind": EndpointKind.SERVERLESS, "variants": [_serverless()],
      "autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=4, target_invocations_per_instance=10)},
     r"autoscaling\.target_invocations_per_instance: got 10; not on a serverless endpoint: it has no InvocationsPerInstance to track"),
    ({"kind": EndpointKind.SERVERLESS,
      "variants": [VariantSpec(model=MODEL, serverless=ServerlessSpec(memory_mb=1024, max_concurrency=20, provisioned_concurrency=2))],
      "autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=30, target_provisioned_concurrency_utilization=1.5)},
     r"autoscaling\.target_provisioned_concurrency_utilization: got 1\.5; a utilization in \(0, 1\]"),
    ({"kind": EndpointKind.SERVERLESS,
      "variants": [VariantSpec(model=MODEL, serverless=ServerlessSpec(memory_mb=1024, max_concurrency=20, provisioned_concurrency=2))],
      "autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=30, target_provisioned_concurrency_utilization=0.5)},
     r"autoscaling\.max_capacity: got 30; <= serverless\.max_concurrency \(20\)"),
    ({"variants": [_serverless()]}, r"variants\[0\]\.serverless: got '\(set\)'; only on a serverless endpoint"),
    # shadow variants
    ({"variants": [G5, VariantSpec(name="b", model=MODEL, instance_type="ml.g5.xlarge")], "shadow_variants": [SHADOW]},
     r"shadow_variants: got 1; exactly one shadow variant next to exactly one production variant \(got 2 production variants\)"),
    ({"shadow_variants": [ShadowVariantSpec(name="shadow", model=MODEL, instance_type="ml.c5.xlarge", sampling_percent=0)]},
     r"shadow_variants\[0\]\.sampling_percent: got 0; 1-100 % of the production requests"),
    ({"shadow_variants": [ShadowVariantSpec(model=MODEL, instance_type="ml.c5.xlarge")]},
     r"shadow_variants\[0\]\.name: got 'AllTraffic'; a variant name unique within the endpoint \(variants\[0\] has it\)"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.inf1.xlarge")], "shadow_variants": [SHADOW]},
     r"variants\[0\]\.instance_type: got 'ml\.inf1\.xlarge'; no Inf1 instances with shadow variants"),
    (lambda stack: _async(stack, shadow_variants=[SHADOW]),
     r"shadow_variants: got 1; none on an async endpoint: shadow variants exist only on real-time endpoints"),
    # asynchronous
    ({"kind": EndpointKind.ASYNC}, r"async_output_bucket: got None; a bucket for the results and failures"),
    ({"kind": EndpointKind.ASYNC}, r"encryption_key: got None; a KMS key on an asynchronous endpoint"),
    (lambda stack: _async(stack, async_inference=AsyncInferenceSpec(max_concurrent_invocations_per_instance=2000)),
     r"async_inference\.max_concurrent_invocations_per_instance: got 2000; 1-1000"),
    (lambda stack: _async(stack, async_inference=AsyncInferenceSpec(prefix="p" * 480)),
     r"async_inference\.prefix: got 'p+'; a prefix short enough that the output and failure paths have at most 512 characters \(got 5\d\d\)"),
    (lambda stack: _async(stack, async_inference=AsyncInferenceSpec(prefix="/async/")),
     r"async_inference\.prefix: got '/async/'; an S3 key prefix without leading or trailing '/'"),
    (lambda stack: _async(stack, autoscaling=AutoScalingSpec(min_capacity=0, max_capacity=2, target_invocations_per_instance=5)),
     (r"autoscaling\.target_invocations_per_instance: got 5; not on an async endpoint: it has no InvocationsPerInstance to track; "
      r"use metric_targets or target_backlog_per_instance")),
    (lambda stack: _async(stack, variants=[G5, VariantSpec(name="b", model=MODEL, instance_type="ml.g5.xlarge")],
                          autoscaling=AutoScalingSpec(min_capacity=1, max_capacity=2, target_backlog_per_instance=5)),
     r"autoscaling: got '2 variants'; one production variant on an autoscaled asynchronous endpoint"),
    ({"async_inference": AsyncInferenceSpec()}, r"async_inference: got '\(set\)'; only on an asynchronous endpoint"),
    # multi-model
    ({"kind": EndpointKind.MULTI_MODEL}, r"variants\[0\]\.model\.model_data_prefix: got None; the s3://bucket/prefix/ of the models"),
    ({"kind": EndpointKind.MULTI_MODEL, "variants": [VariantSpec(model=ModelSpec(image=IMAGE, model_data_prefix="s3://b-ucket/tenants"), instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.model_data_prefix: got 's3://b-ucket/tenants'; an s3://bucket/prefix/ URI ending with '/'"),
    ({"kind": EndpointKind.MULTI_MODEL, "variants": [VariantSpec(model=ModelSpec(image=IMAGE, model_data_prefix="s3://b-ucket/t/", model_data_url="s3://b-ucket/m"), instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.model_data_url: got 's3://b-ucket/m'; not on a multi-model endpoint: use model_data_prefix"),
    ({"variants": [VariantSpec(model=MME, instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.model_data_prefix: got 's3://models-bucket/tenants/'; only on a multi-model endpoint"),
    # inference components
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [G5]},
     r"variants\[0\]\.model: got '\(set\)'; none on an inference-component endpoint: models belong to its components"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT], "deployment": DeploymentSpec()},
     r"deployment: got 'canary'; none on an inference-component endpoint: its components roll their copies on update"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT],
      "autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, target_invocations_per_instance=1)},
     r"autoscaling: got '\(set\)'; none on an inference-component endpoint: instances scale with variants\[0\]\.managed_scaling"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS,
      "variants": [VariantSpec(instance_type="ml.g5.12xlarge", instance_count=3, managed_scaling=ManagedInstanceScalingSpec(0, 2))]},
     r"variants\[0\]\.instance_count: got 3; between managed_scaling\.min_instances \(0\) and max_instances \(2\)"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.c5.xlarge", managed_scaling=ManagedInstanceScalingSpec(0, 2))]},
     r"variants\[0\]\.managed_scaling: got '\(set\)'; only on inference-component endpoints"),
    ({"components": [LLAMA]}, r"components: got 1; only on an inference-component endpoint"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT], "components": [LLAMA, LLAMA]},
     r"components\[1\]\.name: got 'llama-8b'; a component name unique within the endpoint"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT],
      "components": [ComponentSpec(name="tiny", model=MODEL, memory_mb=64, cpu_cores=0.1, copies=-1)]},
     r"components\[0\]\.memory_mb: got 64; >= 128 MB \(MinMemoryRequiredInMb\)"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT],
      "components": [ComponentSpec(name="tiny", model=MODEL, memory_mb=1024, cpu_cores=0.1)]},
     r"components\[0\]\.cpu_cores: got 0\.1; >= 0\.25 cores"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT],
      "components": [ComponentSpec(name="tiny", model=MODEL, memory_mb=1024, copies=-1)]},
     r"components\[0\]\.copies: got -1; an integer >= 0"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [VariantSpec(instance_type="ml.c5.xlarge")],
      "components": [ComponentSpec(name="gpu", model=MODEL, memory_mb=1024, accelerators=1)]},
     r"components\[0\]\.accelerators: got 1; none: the endpoint's ml\.c5\.xlarge has no accelerators"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT],
      "components": [ComponentSpec(name="c", model=MODEL, memory_mb=1024, copies=5,
                                   autoscaling=ComponentAutoScalingSpec(min_copies=0, max_copies=4, target_concurrent_requests_per_copy=2))]},
     r"components\[0\]\.copies: got 5; between autoscaling\.min_copies \(0\) and max_copies \(4\)"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT],
      "components": [ComponentSpec(name="c", model=MODEL, memory_mb=1024, autoscaling=ComponentAutoScalingSpec(min_copies=0, max_copies=4))]},
     r"components\[0\]\.autoscaling: got 'no target'; target_concurrent_requests_per_copy, target_invocations_per_copy, both, or a schedule"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT],
      "components": [ComponentSpec(name="c", model=MODEL, memory_mb=1024, autoscaling=ComponentAutoScalingSpec(
          min_copies=0, max_copies=4, schedules=(ScheduledScalingSpec("nights", "cron(0 20 * * ? *)", time_zone="Berlin", max_capacity=1),)))]},
     r"components\[0\]\.autoscaling\.schedules\[0\]\.time_zone: got 'Berlin'; an IANA time zone such as Europe/Berlin"),
    ({"kind": EndpointKind.INFERENCE_COMPONENTS, "variants": [IC_VARIANT],
      "components": [ComponentSpec(name="c", model=MODEL, memory_mb=1024, autoscaling=ComponentAutoScalingSpec(
          min_copies=3, max_copies=2, target_invocations_per_copy=1))]},
     r"components\[0\]\.autoscaling\.min_copies: got 3; <= max_copies \(2\)"),
    # autoscaling
    ({"autoscaling": AutoScalingSpec(min_capacity=0, max_capacity=2, target_invocations_per_instance=1)},
     r"autoscaling\.min_capacity: got 0; >= 1 for instance-based real-time variants"),
    ({"autoscaling": AutoScalingSpec(min_capacity=3, max_capacity=2, target_invocations_per_instance=1)},
     r"autoscaling\.min_capacity: got 3; <= max_capacity \(2\)"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2)},
     (r"autoscaling: got 'no target and no schedule'; at least one target \(metric_targets, target_concurrent_requests_per_model, "
      r"target_invocations_per_instance\) or a schedule")),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, target_backlog_per_instance=3)},
     r"autoscaling\.target_backlog_per_instance: got 3; not on a realtime endpoint: it has no ApproximateBacklogSizePerInstance"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, metric_targets=(MetricTargetSpec("GPUUtilization", 70),))},
     r"autoscaling\.metric_targets\[0\]\.metric_name: got 'GPUUtilization'; a CPU metric: the variants' instance types have no GPUs"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, metric_targets=(MetricTargetSpec("Temperature", 70),))},
     r"autoscaling\.metric_targets\[0\]\.metric_name: got 'Temperature'; one of CPUUtilization, DiskUtilization"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, metric_targets=(MetricTargetSpec("MemoryUtilization", 150),))},
     r"autoscaling\.metric_targets\[0\]\.target_value: got 150; a percentage in \(0, 100\]"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, target_invocations_per_instance=1, scale_in_cooldown_seconds=4000)},
     r"autoscaling\.scale_in_cooldown_seconds: got 4000; 0-3600 seconds"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.t2.medium")],
      "autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, target_invocations_per_instance=1)},
     r"variants\[0\]\.instance_type: got 'ml\.t2\.medium'; no autoscaling on burstable ml\.t\* instances"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, schedules=(ScheduledScalingSpec("office", "daily at 8", min_capacity=1),))},
     r"autoscaling\.schedules\[0\]\.schedule: got 'daily at 8'; cron\(minutes hours"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, schedules=(
        ScheduledScalingSpec("office", "cron(0 8 * * ? *)", time_zone="Mars/Olympus", min_capacity=1),))},
     r"autoscaling\.schedules\[0\]\.time_zone: got 'Mars/Olympus'; an IANA time zone such as Europe/Berlin"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, schedules=(ScheduledScalingSpec("office", "cron(0 8 * * ? *)"),))},
     r"autoscaling\.schedules\[0\]: got 'office'; min_capacity, max_capacity or both"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, schedules=(
        ScheduledScalingSpec("office", "cron(0 8 * * ? *)", min_capacity=3, max_capacity=2),))},
     r"autoscaling\.schedules\[0\]\.min_capacity: got 3; <= max_capacity \(2\)"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, schedules=(
        ScheduledScalingSpec("office", "rate(1 day)", min_capacity=0),))},
     r"autoscaling\.schedules\[0\]\.min_capacity: got 0; >= 1"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, schedules=(
        ScheduledScalingSpec("a", "rate(1 day)", min_capacity=1), ScheduledScalingSpec("a", "rate(2 days)", min_capacity=1)))},
     r"autoscaling\.schedules\[1\]\.name: got 'a'; a schedule name unique within the endpoint"),
    ({"autoscaling": AutoScalingSpec(min_capacity=1, max_capacity=2, schedules=(ScheduledScalingSpec("office hours", "rate(1 day)", min_capacity=1),))},
     r"autoscaling\.schedules\[0\]\.name: got 'office hours'; 1-64 letters, digits and hyphens"),
    # deployment guardrails
    ({"deployment": DeploymentSpec(canary_percent=75)}, r"deployment\.canary_percent: got 75; 1-50 % of the fleet"),
    ({"deployment": DeploymentSpec(step_percent=5)}, r"deployment\.step_percent: got 5; 10-50 %"),
    ({"deployment": DeploymentSpec(wait_minutes=61)}, r"deployment\.wait_minutes: got 61; 0-60 minutes"),
    ({"deployment": DeploymentSpec(termination_wait_minutes=90)}, r"deployment\.termination_wait_minutes: got 90; 0-60 minutes"),
    ({"deployment": DeploymentSpec(max_execution_minutes=12)},
     r"deployment\.max_execution_minutes: got 12; 10-480 minutes and more than wait_minutes \+ termination_wait_minutes"),
    ({"variants": [G5, VariantSpec(name="b", model=MODEL, instance_type="ml.g5.xlarge")], "deployment": DeploymentSpec(strategy=DeploymentStrategy.ROLLING)},
     r"deployment\.strategy: got 'rolling'; rolling updates only for single-variant endpoints"),
    ({"variants": [VariantSpec(model=MODEL, instance_type="ml.inf1.xlarge")], "deployment": DeploymentSpec()},
     r"deployment\.strategy: got 'canary'; all-at-once on ml\.inf1\.xlarge: Inf1 endpoints support only all-at-once blue/green updates"),
    # data capture and alarms
    ({"data_capture": DataCaptureSpec(sampling_percent=20)}, r"data_capture_bucket: got None; a bucket when data_capture is set"),
    ({"data_capture": DataCaptureSpec(sampling_percent=101)}, r"data_capture\.sampling_percent: got 101; 0-100"),
    ({"data_capture": DataCaptureSpec(sampling_percent=5, capture_input=False, capture_output=False)},
     r"data_capture\.capture_input: got 'neither input nor output'; capture input, output or both"),
    ({"data_capture": DataCaptureSpec(sampling_percent=5, prefix="c" * 460)},
     r"data_capture\.prefix: got 'c+'; a prefix short enough that the capture path has at most 512 characters"),
    ({"alarms": EndpointAlarmThresholds(evaluation_periods=2, datapoints_to_alarm=3)}, r"alarms\.datapoints_to_alarm: got 3; 1-evaluation_periods \(2\)"),
    ({"alarms": EndpointAlarmThresholds(evaluation_periods=0, datapoints_to_alarm=0)}, r"alarms\.evaluation_periods: got 0; 1-60"),
    ({"alarms": EndpointAlarmThresholds(error_rate_5xx_percent=SeverityThresholds(critical=0))},
     r"alarms\.error_rate_5xx_percent\.critical: got 0; a percentage in \(0, 100\]"),
    ({"alarms": EndpointAlarmThresholds(model_latency_p99_ms=SeverityThresholds(critical=0))},
     r"alarms\.model_latency_p99_ms\.critical: got 0; >= 1 ms"),
    # the deployment's choice of rollback signals
    ({"deployment": DeploymentSpec(rollback_signals=("disk_percent",))},
     r"deployment\.rollback_signals: got 'disk_percent'; signals a deployment can roll back on: error_rate_5xx_percent, model_latency_p99_ms"),
    ({"deployment": DeploymentSpec(rollback_signals=("model_latency_p99_ms",)),
      "alarms": EndpointAlarmThresholds(model_latency_p99_ms=None)},
     r"deployment\.rollback_signals: got 'model_latency_p99_ms'; a signal with a critical threshold \(alarms\.model_latency_p99_ms\.critical is off\)"),
    ({"deployment": DeploymentSpec(rollback_signals=("error_rate_5xx_percent", "error_rate_5xx_percent"))},
     r"deployment\.rollback_signals: got \['error_rate_5xx_percent', 'error_rate_5xx_percent'\]; each signal once"),
    ({"variants": [VariantSpec(name=f"v{i}", model=MODEL, instance_type="ml.c5.xlarge") for i in range(6)], "deployment": DeploymentSpec()},
     r"deployment\.rollback_signals: got \['error_rate_5xx_percent', 'model_latency_p99_ms'\]; at most 10 rollback alarms \(AutoRollbackConfiguration\): 6 alarm\(s\) per signal here"),
    ({"deployment": DeploymentSpec(canary_percent=5)},
     r"deployment\.canary_percent: got 5; more than alarms\.error_rate_5xx_percent\.critical \(5 %\): a wholly broken new fleet of 5 % of the capacity shows about 5 % 5XX and would not roll back"),
    ({"deployment": DeploymentSpec(strategy=DeploymentStrategy.LINEAR, step_percent=10),
      "alarms": EndpointAlarmThresholds(error_rate_5xx_percent=SeverityThresholds(critical=10))},
     r"deployment\.step_percent: got 10; more than alarms\.error_rate_5xx_percent\.critical \(10 %\)"),
    # promoted models (read from the promotion's SSM parameters at deploy time)
    ({"shadow_variants": [ShadowVariantSpec(name="shadow", model=PROMOTED, instance_type="ml.c5.xlarge")]},
     r"shadow_variants\[0\]\.model\.promoted: got '\(set\)'; only on production variants of realtime or serverless endpoints"),
    (lambda stack: _async(stack, variants=[VariantSpec(model=PROMOTED, instance_type="ml.c5.xlarge")]),
     r"variants\[0\]\.model\.promoted: got '\(set\)'; only on production variants of realtime or serverless endpoints"),
    ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE, promoted=PromotedModel("ranker/image")), instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.promoted\.image_parameter: got 'ranker/image'; an SSM parameter name /level/\.\.\./name: 1-15 levels"),
    ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE, promoted=PromotedModel("/aws/ranker")), instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.promoted\.image_parameter: got '/aws/ranker'; an SSM parameter name .* not starting with /aws or /ssm"),
    ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE, model_data_url="s3://b-ucket/m.tar.gz", promoted=PromotedModel("/p/image")),
                               instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.promoted\.model_data_parameter: got None; a parameter exactly when the model has model_data_url"),
    ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE, promoted=PromotedModel("/p/image", "/p/data")), instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.promoted\.model_data_parameter: got '/p/data'; a parameter exactly when the model has model_data_url"),
    ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE, model_data_url="s3://b-ucket/m", promoted=PromotedModel("/p/x", "/p/x")),
                               instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.promoted\.model_data_parameter: got '/p/x'; a parameter other than image_parameter"),
    ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE, promoted=PromotedModel("/p/image", image_repositories=("nginx",))),
                               instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.promoted\.image_repositories\[0\]: got 'nginx'; an ECR image URI"),
    ({"variants": [VariantSpec(model=ModelSpec(image=IMAGE, promoted=PromotedModel("/p/image", model_data_prefixes=("models/",))),
                               instance_type="ml.c5.xlarge")]},
     r"variants\[0\]\.model\.promoted\.model_data_prefixes\[0\]: got 'models/'; an s3://bucket/key URI"),
    # VPC
    (lambda stack: _vpc(stack, security_groups=[
        ec2.SecurityGroup.from_security_group_id(stack, f"Sg{i}", f"sg-0123456789abcdef{i}") for i in range(6)]),
     r"security_groups: got 6; 1-5 security groups"),
]


@pytest.mark.parametrize(("overrides", "message"), VALIDATION_CASES, ids=[f"case{i}" for i in range(len(VALIDATION_CASES))])
def test_construct_validation_messages(overrides, message):
    with pytest.raises(PlatformValidationError, match=message):
        _endpoint_stack(overrides)


def test_construct_collects_every_problem_at_once():
    with pytest.raises(PlatformValidationError) as info:
        _endpoint_stack(dict(
            endpoint_name="bad_name",
            variants=[VariantSpec(model=ModelSpec(image="nginx"), instance_type="ml.t2.medium", instance_count=0)],
            autoscaling=AutoScalingSpec(min_capacity=1, max_capacity=2, target_invocations_per_instance=5),
        ))
    wheres = [p.where for p in info.value.problems]
    assert wheres == [
        "endpoint_name", "variants[0].model.image", "variants[0].instance_count",
        "variants[0].instance_count", "variants[0].instance_type",
    ]


def test_target_from_rps_helper():
    assert AutoScalingSpec.target_from_rps(4, safety_factor=0.5) == 120.0
    with pytest.raises(ValueError):
        AutoScalingSpec.target_from_rps(0)


# -- promoted models: one truth with CloudFormation ---------------------------------------------------
def test_a_promoted_model_reads_its_image_and_data_from_ssm_at_deploy_time_and_may_pull_promoted_versions():
    stack, endpoint = _endpoint_stack({"variants": [VariantSpec(model=PROMOTED, instance_type="ml.c5.xlarge")]})
    raw = Template.from_stack(stack).to_json()
    (model,) = [r for r in raw["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    container = model["Properties"]["PrimaryContainer"]
    # aws_ssm.StringParameter.value_for_string_parameter: a template parameter that CloudFormation
    # resolves on every create and update ("Systems Manager parameter types"), not a synth-time value
    assert {key: raw["Parameters"][container[key]["Ref"]] for key in ("Image", "ModelDataUrl")} == {
        "Image": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/ml/dev/promotion/ranker/AllTraffic/image"},
        "ModelDataUrl": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/ml/dev/promotion/ranker/AllTraffic/model-data"},
    }
    assert endpoint.promoted_models == {"AllTraffic": PROMOTED.promoted}
    template = Template.from_stack(stack)
    template.raw = raw
    s = statements(template, "Ranker")
    assert s["PullModelImages"]["Resource"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecr:us-east-1:123456789012:repository/ranker-serving"]]},
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"]]},
    ]
    assert s["ReadPromotedModelData"] == {
        "Sid": "ReadPromotedModelData", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::models-bucket/ranker/*"]]},
    }


def test_promotion_parameters_hold_the_initial_values_and_are_not_retained():
    stack = Stack(new_app(), "Parameters")
    parameters = PromotionParameters(stack, "Promotion", models=[PROMOTED, PROMOTED])  # one name once
    raw = Template.from_stack(stack).to_json()["Resources"]
    assert sorted(parameters.parameters) == ["/ml/dev/promotion/ranker/AllTraffic/image", "/ml/dev/promotion/ranker/AllTraffic/model-data"]
    assert sorted((r["Properties"]["Name"], r["Properties"]["Value"], r["Properties"]["Type"], r["Properties"]["Tier"],
                   r.get("DeletionPolicy", "Delete")) for r in raw.values()) == [
        ("/ml/dev/promotion/ranker/AllTraffic/image", IMAGE, "String", "Standard", "Delete"),
        ("/ml/dev/promotion/ranker/AllTraffic/model-data", "s3://models-bucket/ranker/model.tar.gz", "String", "Standard", "Delete"),
    ]
    # a fixed description: a changed property makes CloudFormation's update write the initial value again
    assert {r["Properties"]["Description"] for r in raw.values()} == {
        "Image of the promoted model version (promotion writes it; CloudFormation creates it)",
        "Model data of the promoted model version (promotion writes it; CloudFormation creates it)",
    }


@pytest.mark.parametrize(("models", "message"), [
    ([MODEL], r"models\[0\]\.promoted: got None; a PromotedModel \(the parameters to create\)"),
    ([PROMOTED, dataclasses.replace(PROMOTED, image=IMAGE.replace("2.4.0-tgi", "2.5.0-tgi"))],
     r"models\[1\]\.image: got '.*2\.5\.0-tgi.*'; the value models\[0\]\.image gives parameter /ml/dev/promotion/ranker/AllTraffic/image too"),
    ([dataclasses.replace(PROMOTED, promoted=PromotedModel("/p/image"))],
     r"models\[0\]\.promoted\.model_data_parameter: got None; a parameter exactly when the model has model_data_url"),
])
def test_promotion_parameters_validation_messages(models, message):
    with pytest.raises(PlatformValidationError, match=message):
        PromotionParameters(Stack(new_app(), "Parameters"), "Promotion", models=models)
