"""TrainingPipeline: the state machine's definition, its least-privilege role, logs, tracing and schedule.

One module-scoped synth (every cdk-nag pack as a validation plugin, so reaching a test means no
unacknowledged finding) of a two-instance, torch_distributed, managed-spot pipeline in a VPC with a
schedule; validation tests synthesize nothing.
"""

from __future__ import annotations

import json
import re

import pytest
from training_testkit import AZS, new_app, new_stack, only, resources

from constructs_lib.errors import PlatformValidationError

pytestmark = pytest.mark.xdist_group("training-pipeline")


def _definition(state_machine: dict) -> dict:
    """The ASL with every CloudFormation intrinsic replaced by ``<ref>`` (they sit inside JSON strings)."""
    parts = state_machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "<ref>" for p in parts))


def _machine(pipeline_app, pipeline=None) -> dict:
    stack, first, template, _ = pipeline_app
    pipeline = pipeline or first
    return template["Resources"][stack.get_logical_id(pipeline.state_machine.node.default_child)]


@pytest.fixture(scope="module")
def pipeline_app(tmp_path_factory):
    from aws_cdk import Duration, Stack
    from aws_cdk import aws_events as events
    from aws_cdk import aws_sns as sns

    from constructs_lib.compliance import add_compliance_checks
    from constructs_lib.observability import Severity, TrainingMonitoringSpec, TrainingPipelineMonitoring
    from constructs_lib.training import (
        DataChannel,
        DataDistribution,
        DataParallel,
        Distribution,
        DistributionConfig,
        EntryPoint,
        InputMode,
        ManagedSpot,
        MetricDefinition,
        TrainingNetwork,
        TrainingPipeline,
        TrainingPlatform,
    )

    outdir = tmp_path_factory.mktemp("pipeline-cdk-out")
    app = new_app(outdir)
    add_compliance_checks(app)
    stack = Stack(app, "Pipelines")
    network = TrainingNetwork(stack, "Network", availability_zones=AZS, interface_endpoints=())
    platform = TrainingPlatform(stack, "Platform", network=network, model_package_groups=["chat-llm"])
    topic = sns.Topic(stack, "Failures", master_key=platform.encryption_key, enforce_ssl=True)
    pipeline = TrainingPipeline(
        stack,
        "Pipeline",
        pipeline_name="chat-sft",
        platform=platform,
        image_tag="sft-1.0",
        instance_type="ml.p4d.24xlarge",
        instance_count=2,
        distribution=Distribution.TORCH_DISTRIBUTED,
        hyperparameters={"epochs": "3"},
        managed_spot=ManagedSpot(max_wait=Duration.hours(48)),
        network=network,
        model_package_group="chat-llm",
        inference_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/chat-serve:1",
        notification_topic=topic,
        platform_tag="acme-ml-dev",
        schedule=events.Schedule.expression("cron(0 2 ? * SUN *)"),
        metric_definitions=[MetricDefinition(name="train:loss", regex=r"loss=([0-9\.]+)"),
                            MetricDefinition(name="step", regex=r"step=(\d+)")],
    )
    # Its dashboard and alarms, routed to one topic per severity (8 GPUs per p4d instance).
    routing = {s: sns.Topic(stack, f"{s.value}-alarms", master_key=platform.encryption_key, enforce_ssl=True)
               for s in Severity}
    TrainingPipelineMonitoring(
        stack, "Monitoring", pipeline=pipeline, routing=routing,
        spec=TrainingMonitoringSpec(progress_metric="step", stall_minutes=60, gpu_utilization_floor_percent=50),
    )
    # The config example: data split across instances (sharded channel), SMDDP, an entry point.
    pretrain = TrainingPipeline(
        stack,
        "Pretrain",
        pipeline_name="llm-pretrain",
        platform=platform,
        image_tag="v1",
        instance_type="ml.p5.48xlarge",
        instance_count=4,
        distribution=DistributionConfig(kind=Distribution.TORCH_DISTRIBUTED, data_parallel=DataParallel.SMDDP),
        entry_point=EntryPoint(script="train.py", source_prefix="code/llm-pretrain/"),
        channels=[
            DataChannel(
                name="train",
                s3_prefix="datasets/llm/train/",
                distribution=DataDistribution.SHARDED_BY_S3_KEY,
                input_mode=InputMode.FAST_FILE,
            ),
            DataChannel(name="validation", s3_prefix="datasets/llm/val/"),
        ],
        network=network,
        notification_topic=topic,
    )
    app.synth()
    template = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    return stack, pipeline, template, pretrain


def test_pipeline_assembly_passes_cfn_lint(pipeline_app):
    from aws_cdk import Stage

    from tests.conftest import lint_assembly

    assert lint_assembly(Stage.of(pipeline_app[0]).outdir) == []


def test_training_job_is_multi_instance_distributed_spot_encrypted_in_the_vpc(pipeline_app):
    """The issue's acceptance case: a two-instance p4d pipeline that starts (no VolumeKmsKeyId on local
    storage, exactly one security group, the timeout in the definition, a RetryStrategy)."""
    definition = _definition(_machine(pipeline_app))
    assert list(definition["States"]) == ["Prepare", "Paths", "Train", "RegisterModel", "NotifyFailure", "Failed"]
    # StateMachine(timeout=...) is dropped with DefinitionBody.from_string: it must be in the ASL.
    assert definition["TimeoutSeconds"] == 48 * 3600 + 3600
    train = definition["States"]["Train"]
    assert train["Resource"] == "arn:<ref>:states:::sagemaker:createTrainingJob.sync"
    params = train["Parameters"]
    assert params["TrainingJobName.$"] == "$.job.name"
    # API reference ResourceConfig: no VolumeKmsKeyId for instance types with local storage (p4d).
    assert params["ResourceConfig"] == {"InstanceCount": 2, "InstanceType": "ml.p4d.24xlarge", "VolumeSizeInGB": 100}
    assert params["HyperParameters"] == {
        "sagemaker_torch_distributed_enabled": "true",
        "sagemaker_instance_type": '"ml.p4d.24xlarge"',
        "epochs": "3",
    }
    assert params["EnableManagedSpotTraining"] is True
    assert params["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400, "MaxWaitTimeInSeconds": 172800}
    assert params["CheckpointConfig"] == {"S3Uri.$": "$.job.checkpoints", "LocalPath": "/opt/ml/checkpoints"}
    assert params["EnableInterContainerTrafficEncryption"] is True
    assert params["RetryStrategy"] == {"MaximumRetryAttempts": 2}
    assert params["OutputDataConfig"] == {"S3OutputPath.$": "$.job.output", "KmsKeyId": "<ref>"}
    assert params["InputDataConfig"] == [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://<ref>/datasets/chat-sft/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
    ]
    assert params["Tags"] == [
        {"Key": "aiplatform:pipeline", "Value": "chat-sft"},
        {"Key": "aiplatform:platform", "Value": "acme-ml-dev"},
    ]
    assert params["Environment"] == {"AIPLATFORM_PIPELINE": "chat-sft", "AIPLATFORM_DISTRIBUTION": "torch_distributed"}
    # CreateTrainingJob AlgorithmSpecification: SageMaker parses the logs with these and keeps the time series.
    assert params["AlgorithmSpecification"] == {
        "TrainingImage": "<ref>.dkr.ecr.<ref>.<ref>/<ref>:sft-1.0", "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "train:loss", "Regex": "loss=([0-9\\.]+)"}, {"Name": "step", "Regex": "step=(\\d+)"}],
        "EnableSageMakerMetricsTimeSeries": True,
    }
    assert train["Retry"] == [
        {"ErrorEquals": ["SageMaker.AmazonSageMakerException"], "IntervalSeconds": 5, "MaxAttempts": 5,
         "BackoffRate": 2}
    ]
    assert train["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]
    paths = definition["States"]["Paths"]["Parameters"]
    assert paths["output"] == "s3://<ref>/models/chat-sft/"
    assert paths["checkpoints.$"] == "States.Format('s3://<ref>/checkpoints/chat-sft/{}/', $.job.name)"
    assert definition["States"]["Prepare"]["Parameters"] == {"name.$": "States.Format('chat-sft-{}', States.UUID())"}


def test_job_uses_exactly_the_network_group_the_platform_role_may_attach(pipeline_app):
    stack, pipeline, template, _ = pipeline_app
    params = _definition(_machine(pipeline_app))["States"]["Train"]["Parameters"]
    assert params["VpcConfig"] == {"SecurityGroupIds": ["<ref>"], "Subnets": ["<ref>", "<ref>"]}
    parts = _machine(pipeline_app)["Properties"]["DefinitionString"]["Fn::Join"][1]
    group = stack.resolve(pipeline.network.security_group.security_group_id)
    index = next(i for i, p in enumerate(parts) if isinstance(p, str) and '"SecurityGroupIds":["' in p)
    assert parts[index + 1] == group
    # aws-cdk-lib's task would have added a TrainJobSecurityGroup the role may not attach.
    groups = resources(template, "AWS::EC2::SecurityGroup")
    assert not [k for k in groups if "TrainJobSecurityGroup" in k]
    # ... because the role's ec2:CreateNetworkInterface names the network's group only.
    statements = [
        st
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Sid") == "CreateNetworkInterfaces"
    ]
    (create,) = statements
    named_groups = [r for r in create["Resource"] if ":security-group/" in json.dumps(r)]
    assert len(named_groups) == 1 and json.dumps(group["Fn::GetAtt"][0]) in json.dumps(named_groups[0])


def test_model_is_registered_for_manual_approval_and_failures_notify(pipeline_app):
    definition = _definition(_machine(pipeline_app))
    register = definition["States"]["RegisterModel"]
    assert register["Resource"] == "arn:<ref>:states:::aws-sdk:sagemaker:createModelPackage"
    assert register["Parameters"]["ModelPackageGroupName"] == "chat-llm"
    assert register["Parameters"]["ModelApprovalStatus"] == "PendingManualApproval"
    (container,) = register["Parameters"]["InferenceSpecification"]["Containers"]
    assert container == {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/chat-serve:1",  # the serving image, never the training one
        "ModelDataUrl.$": "$.training.ModelArtifacts.S3ModelArtifacts",
    }
    assert register["Catch"][0]["Next"] == "NotifyFailure" and register.get("End") is True
    notify = definition["States"]["NotifyFailure"]
    assert notify["Resource"] == "arn:<ref>:states:::sns:publish" and notify["Next"] == "Failed"
    assert definition["States"]["Failed"]["Type"] == "Fail"


def test_state_machine_logs_everything_encrypted_and_traces(pipeline_app):
    stack, pipeline, template, _ = pipeline_app
    props = _machine(pipeline_app)["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    log_group = template["Resources"][stack.get_logical_id(pipeline.log_group.node.default_child)]
    assert log_group["DeletionPolicy"] == "Retain"
    key = stack.get_logical_id(pipeline.platform.encryption_key.node.default_child)
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}  # the platform key


def test_role_has_one_customer_managed_policy_scoped_to_the_pipeline(pipeline_app):
    stack, pipeline, template, _ = pipeline_app
    policy = template["Resources"][stack.get_logical_id(pipeline.policy.node.default_child)]["Properties"]
    statements = policy["PolicyDocument"]["Statement"]
    by_action = {json.dumps(s["Action"]): s for s in statements}
    passes = by_action['"iam:PassRole"']
    assert passes["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert passes["Resource"] == {"Fn::GetAtt": ["PlatformTrainingJobRoleD95CA8B1", "Arn"]}
    register = by_action['"sagemaker:CreateModelPackage"']["Resource"]
    assert [r["Fn::Join"][1][-1] for r in register] == [":model-package-group/chat-llm", ":model-package/chat-llm/*"]
    # No inline policy anywhere: neither on the state machine's role nor on the platform's job role.
    assert not resources(template, "AWS::IAM::Policy")


def test_schedule_starts_executions_with_retries_and_a_dead_letter_queue(pipeline_app):
    stack, pipeline, template, _ = pipeline_app
    _, rule = only(template, "AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 2 ? * SUN *)"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": stack.get_logical_id(pipeline.state_machine.node.default_child)}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 3}
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [stack.get_logical_id(pipeline.dead_letter_queue.node.default_child), "Arn"]}
    }
    # The platform key (created here) lets EventBridge encrypt dead letters.
    key = template["Resources"]["PlatformKeyE2280810"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Sid") == "AllowEventBridgeDeadLetters" for s in key)


def test_sharded_channel_smddp_and_entry_point_reach_the_job_request(pipeline_app):
    """The issue's acceptance case: channels split data across instances; SMDDP and the entry point are
    the hyperparameters SageMaker's framework containers read (SageMaker Python SDK PyTorch estimator)."""
    pretrain = pipeline_app[3]
    definition = _definition(_machine(pipeline_app, pretrain))
    assert list(definition["States"]) == ["Prepare", "Paths", "Train", "NotifyFailure", "Failed"]  # nothing to register
    params = definition["States"]["Train"]["Parameters"]
    assert params["InputDataConfig"] == [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://<ref>/datasets/llm/train/",
                    "S3DataDistributionType": "ShardedByS3Key",
                }
            },
            "InputMode": "FastFile",
        },
        {
            "ChannelName": "validation",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://<ref>/datasets/llm/val/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        },
    ]
    assert params["HyperParameters"] == {
        "sagemaker_distributed_dataparallel_enabled": "true",
        "sagemaker_instance_type": '"ml.p5.48xlarge"',
        "sagemaker_distributed_dataparallel_custom_mpi_options": '""',
        "sagemaker_torch_distributed_enabled": "true",
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": '"s3://<ref>/code/llm-pretrain/sourcedir.tar.gz"',
        "sagemaker_region": '"<ref>"',
    }
    assert params["ResourceConfig"] == {"InstanceCount": 4, "InstanceType": "ml.p5.48xlarge", "VolumeSizeInGB": 100}
    assert params["Environment"] == {
        "AIPLATFORM_PIPELINE": "llm-pretrain",
        "AIPLATFORM_DISTRIBUTION": "torch_distributed",
        "AIPLATFORM_ENTRY_POINT": "train.py",
    }
    assert params["Tags"] == [{"Key": "aiplatform:pipeline", "Value": "llm-pretrain"}]  # no platform_tag given
    assert definition["TimeoutSeconds"] == 25 * 3600


def test_pipeline_may_tag_only_its_own_jobs(pipeline_app):
    stack, pipeline, template, _ = pipeline_app
    policy = template["Resources"][stack.get_logical_id(pipeline.policy.node.default_child)]["Properties"]
    (tagging,) = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "TagTrainingJobs"]
    assert tagging["Action"] == "sagemaker:AddTags"
    assert tagging["Resource"]["Fn::Join"][1][-1] == ":training-job/chat-sft-*"


def _build(**changes):
    from aws_cdk import Duration
    from aws_cdk import aws_sns as sns

    from constructs_lib.training import TrainingPipeline, TrainingPlatform

    stack = new_stack()
    platform = TrainingPlatform(stack, "Platform")
    props = dict(
        pipeline_name="chat-sft",
        platform=platform,
        image_tag="1",
        instance_type="ml.p4d.24xlarge",
        model_package_group="chat-llm",
        inference_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/chat-serve:1",
        notification_topic=sns.Topic(stack, "Topic"),
        max_runtime=Duration.hours(24),
    )
    props.update(changes)
    return TrainingPipeline(stack, "Pipeline", **props)


def test_bad_props_are_refused_together():
    from aws_cdk import Duration

    from constructs_lib.training import ManagedSpot

    with pytest.raises(PlatformValidationError) as caught:
        _build(
            pipeline_name="a-pipeline-name-far-too-long-for-job-names",
            instance_type="ml.p9.huge",
            instance_count=0,
            distribution="horovod",
            managed_spot=ManagedSpot(max_wait=Duration.hours(12)),
            model_package_group="chat_llm",
        )
    problems = {p.where: str(p) for p in caught.value.problems}
    assert list(problems) == [
        "pipeline_name", "instance_type", "instance_count", "distribution", "managed_spot.max_wait",
        "model_package_group",
    ]
    assert problems["pipeline_name"] == (
        "pipeline_name: got 'a-pipeline-name-far-too-long-for-job-names'; 1-26 letters, digits and hyphens, "
        "starting and ending with a letter or digit (job names add a 37-character execution id)"
    )
    assert problems["instance_type"].startswith("instance_type: got 'ml.p9.huge'; one of ")
    assert problems["instance_count"] == "instance_count: got 0; an integer >= 1"
    assert problems["distribution"] == "distribution: got 'horovod'; one of torch_distributed, pytorchddp, mpi"
    assert problems["managed_spot.max_wait"] == (
        "managed_spot.max_wait: got '43200 s'; at least max_runtime (86400 s) and at most 28 days"
    )
    assert problems["model_package_group"].startswith("model_package_group: got 'chat_llm'; 1-63 letters")


def test_on_demand_pipeline_has_no_schedule():
    pipeline = _build()
    assert pipeline.rule is None and pipeline.dead_letter_queue is None


def test_registration_needs_a_serving_image():
    with pytest.raises(
        PlatformValidationError,
        match=r"inference_image: got None; the serving image of the registered model .*required with "
        r"model_package_group: the training image does not serve",
    ):
        _build(inference_image=None)
    with pytest.raises(PlatformValidationError, match=r"inference_image: got 'x'; only with model_package_group"):
        _build(model_package_group=None, inference_image="x")
    assert _build(model_package_group=None, inference_image=None).register is None


def test_volume_key_only_where_the_instance_type_accepts_one():
    """API reference ResourceConfig.VolumeKmsKeyId; the SDK's instance_supports_kms families."""
    from constructs_lib.limits import training_volume_key_allowed

    refused = ["ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.g5.12xlarge", "ml.g6.xlarge",
               "ml.trn1.32xlarge", "ml.c5d.xlarge", "ml.m5d.large", "ml.g4dn.xlarge", "ml.p3dn.24xlarge"]
    assert [t for t in refused if training_volume_key_allowed(t)] == []
    assert all(training_volume_key_allowed(t) for t in ("ml.m5.xlarge", "ml.c5.2xlarge", "ml.p3.16xlarge"))
    pipeline = _build(instance_type="ml.m5.xlarge")
    stack = pipeline.state_machine.stack
    text = json.dumps(stack.resolve(pipeline.state_machine.node.default_child.definition_string))
    assert "VolumeKmsKeyId" in text


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"instance_type": "ml.c5.18xlarge", "distribution": "torch_distributed"}, "instance_type",
         (r"instance_type: got 'ml\.c5\.18xlarge'; a GPU \(ml\.p\*, ml\.g\*\) or Trainium \(ml\.trn\*\) instance type "
          r"with distribution torch_distributed")),
        ({"instance_type": "ml.trn1.32xlarge", "distribution": "mpi"}, "distribution",
         r"distribution: got 'mpi'; torch_distributed on Trainium instances"),
        ({"instance_type": "ml.g5.48xlarge", "distribution": "smddp-config"}, "instance_type",
         r"instance_type: got 'ml\.g5\.48xlarge'; an instance type SMDDP supports with this kind: ml\.p3\.16xlarge"),
        ({"instance_type": "ml.p5.48xlarge", "distribution": "smddp-pytorchddp"}, "instance_type",
         (r"instance_type: got 'ml\.p5\.48xlarge'; an instance type SMDDP supports with this kind: .*"
          r"\(ml\.p5\.48xlarge with torch_distributed only\)")),
        ({"distribution": "smddp-mpi"}, "distribution.data_parallel",
         r"distribution\.data_parallel: got 'smddp'; smddp with kind torch_distributed \(torchrun\) or pytorchddp"),
        ({"distribution": "smp-pytorchddp"}, "distribution.model_parallel",
         r"distribution\.model_parallel: got 'pytorchddp'; kind torch_distributed \(SMP v2 runs through torchrun\)"),
        ({"instance_type": "ml.g5.48xlarge", "distribution": "smp"}, "instance_type",
         r"instance_type: got 'ml\.g5\.48xlarge'; an instance type SMP v2 supports: ml\.p4d\.24xlarge"),
        ({"distribution": "smp-bad"}, "distribution.model_parallel.tensor_parallel_degree",
         r"distribution\.model_parallel\.tensor_parallel_degree: got 0; an integer >= 1"),
        ({"distribution": "smp-context"}, "distribution.model_parallel.context_parallel_degree",
         r"distribution\.model_parallel\.context_parallel_degree: got 8; at most hybrid_shard_degree \(4\)"),
        ({"distribution": "smp-unknown"}, "distribution.model_parallel",
         r"distribution\.model_parallel: got 'pipeline_parallel_degree'; SMP v2 parameters among hybrid_shard_degree"),
        ({"distribution": "mpi-ppn"}, "distribution.processes_per_host",
         r"distribution\.processes_per_host: got 4; an integer >= 1, with kind mpi only"),
        ({"distribution": "torch_distributed", "entry_point": "train.sh"}, "entry_point.script",
         r"entry_point\.script: got 'train\.sh'; a Python script \(\*\.py\) with distribution torch_distributed"),
        ({"entry_point": "no-slash"}, "entry_point.source_prefix",
         r"entry_point\.source_prefix: got 'code/x'; a key prefix of the artifacts bucket ending with '/'"),
        ({"channels": "duplicate"}, "channels[1].name",
         r"channels\[1\]\.name: got 'train'; a unique name; channels\[0\] has it"),
        ({"channels": "bad-name"}, "channels[0].name",
         r"channels\[0\]\.name: got 'train data'; 1-64 letters, digits"),
        ({"channels": "with-input-prefix"}, "input_prefix",
         r"input_prefix: got 'datasets/x/'; unset with channels"),
    ],
)
def test_distribution_channels_and_entry_point_rules(changes, where, message):
    from constructs_lib.training import (
        DataChannel,
        DataParallel,
        Distribution,
        DistributionConfig,
        EntryPoint,
        ModelParallel,
    )

    td = Distribution.TORCH_DISTRIBUTED
    configs = {
        "smddp-config": DistributionConfig(kind=td, data_parallel=DataParallel.SMDDP),
        "smddp-pytorchddp": DistributionConfig(kind=Distribution.PYTORCH_DDP, data_parallel=DataParallel.SMDDP),
        "smddp-mpi": DistributionConfig(kind=Distribution.MPI, data_parallel=DataParallel.SMDDP),
        "smp-pytorchddp": DistributionConfig(kind=Distribution.PYTORCH_DDP, model_parallel=ModelParallel()),
        "smp": DistributionConfig(kind=td, model_parallel=ModelParallel(parameters={"hybrid_shard_degree": 8})),
        "smp-bad": DistributionConfig(kind=td, model_parallel=ModelParallel(parameters={"tensor_parallel_degree": 0})),
        "smp-context": DistributionConfig(
            kind=td, model_parallel=ModelParallel(parameters={"hybrid_shard_degree": 4, "context_parallel_degree": 8})
        ),
        "smp-unknown": DistributionConfig(kind=td, model_parallel=ModelParallel(parameters={"pipeline_parallel_degree": 2})),
        "mpi-ppn": DistributionConfig(kind=td, processes_per_host=4),
    }
    entry_points = {
        "train.sh": EntryPoint(script="train.sh", source_prefix="code/x/"),
        "no-slash": EntryPoint(script="train.py", source_prefix="code/x"),
    }
    train = DataChannel(name="train", s3_prefix="datasets/x/")
    channel_sets = {
        "duplicate": [train, train],
        "bad-name": [DataChannel(name="train data", s3_prefix="datasets/x/")],
        "with-input-prefix": [train],
    }
    props = dict(changes)
    if "distribution" in props:
        props["distribution"] = configs.get(props["distribution"], props["distribution"])
    if "entry_point" in props:
        props["entry_point"] = entry_points[props["entry_point"]]
    if "channels" in props:
        if props["channels"] == "with-input-prefix":
            props["input_prefix"] = "datasets/x/"
        props["channels"] = channel_sets[props["channels"]]
    with pytest.raises(PlatformValidationError) as caught:
        _build(**props)
    found = [str(p) for p in caught.value.problems if p.where == where]
    assert found, [str(p) for p in caught.value.problems]
    assert re.match(message, found[0]), found[0]


def test_distribution_hyperparameters_follow_the_sdk():
    """SageMaker Python SDK: Framework._distribution_configuration, PyTorch._pytorch_distribution_configuration."""
    from constructs_lib.training import DataParallel, Distribution, DistributionConfig, ModelParallel
    from constructs_lib.training.distribution import distribution_hyperparameters

    smp = DistributionConfig(
        kind=Distribution.TORCH_DISTRIBUTED,
        model_parallel=ModelParallel(parameters={"hybrid_shard_degree": 8, "tensor_parallel_degree": 2}),
    )
    assert distribution_hyperparameters(smp, "ml.p5.48xlarge") == {
        "mp_parameters": '{"hybrid_shard_degree": 8, "tensor_parallel_degree": 2}',
        "sagemaker_distributed_dataparallel_enabled": "false",
        "sagemaker_instance_type": '"ml.p5.48xlarge"',
        "sagemaker_torch_distributed_enabled": "true",
    }
    mpi = DistributionConfig(kind=Distribution.MPI, processes_per_host=8)
    assert distribution_hyperparameters(mpi, "ml.p4d.24xlarge") == {
        "sagemaker_mpi_enabled": "true",
        "sagemaker_mpi_num_of_processes_per_host": "8",
        "sagemaker_mpi_custom_mpi_options": '""',
    }
    ddp = DistributionConfig.of(Distribution.PYTORCH_DDP)
    assert distribution_hyperparameters(ddp, "ml.p4d.24xlarge") == {
        "sagemaker_pytorch_ddp_enabled": "true",
        "sagemaker_instance_type": '"ml.p4d.24xlarge"',
    }
    smddp = DistributionConfig(kind=Distribution.PYTORCH_DDP, data_parallel=DataParallel.SMDDP)
    assert distribution_hyperparameters(smddp, "ml.p4d.24xlarge") == {
        "sagemaker_distributed_dataparallel_enabled": "true",
        "sagemaker_instance_type": '"ml.p4d.24xlarge"',
        "sagemaker_distributed_dataparallel_custom_mpi_options": '""',
    }


# -- metric definitions and training-job monitoring (constructs_lib.training.job_metrics) -------------------
def _alarm(template, name):
    (props,) = [r["Properties"] for r in template["Resources"].values()
                if r["Type"].startswith("AWS::CloudWatch::") and r["Properties"].get("AlarmName") == name]
    return props


def test_monitoring_converts_the_per_gpu_floor_and_the_stall_window(pipeline_app):
    """p4d.24xlarge has 8 GPUs: 50 % per GPU is 400 in SageMaker's summed GPUUtilization; 60 minutes of
    stall are 12 five-minute periods. Those go to each running job's own alarms (job_alarms); statically
    only the execution alarms exist, and their rollup alone notifies."""
    from constructs_lib.job_alarm_requests import PipelineJobAlarms

    stack, _, template, _ = pipeline_app
    monitoring = stack.node.find_child("Monitoring")
    assert monitoring.job_alarms == PipelineJobAlarms(
        pipeline="chat-sft", alarm_prefix="chat-sft-job/", dashboard="chat-sft-training", progress_metric="step",
        stall_periods=12, gpu_threshold=400.0, gpu_floor_percent=50.0, gpus=8, gpu_periods=6,
        disk_percent={"warning": 80.0, "critical": 90.0},
    )
    notifying = sorted(r["Properties"]["AlarmName"] for r in template["Resources"].values()
                       if r["Type"].startswith("AWS::CloudWatch::") and r["Properties"].get("AlarmActions"))
    assert notifying == ["chat-sft-unhealthy-critical"]
    dashboard = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert [d["Properties"]["DashboardName"] for d in dashboard] == ["chat-sft-training"]
    parts = dashboard[0]["Properties"]["DashboardBody"]["Fn::Join"][1]
    widgets = {w["properties"].get("title"): w["properties"]
               for w in json.loads("".join(p if isinstance(p, str) else "<ref>" for p in parts))["widgets"]}
    gpu_rows = widgets["GPU utilization per host (% per GPU)"]["metrics"]
    assert gpu_rows[0] == [{"label": "${LABEL}", "expression": "q / 8", "period": 60}]
    assert widgets["train:loss per job"]["metrics"] == [[{
        "label": "${LABEL}", "period": 60,
        "expression": "SEARCH('{\"/aws/sagemaker/TrainingJobs\",TrainingJobName} MetricName=\"train:loss\" "
                      "TrainingJobName=chat-sft', 'Average', 60)",
    }]]


def test_gpus_per_training_instance_type():
    from constructs_lib.training.job_metrics import gpus_per_instance, per_device_threshold

    assert [gpus_per_instance(t) for t in ("ml.p4d.24xlarge", "ml.p5.48xlarge", "ml.g5.12xlarge", "ml.g5.2xlarge",
                                           "ml.m5.xlarge", "ml.trn1.32xlarge", "ml.c5.18xlarge")] == [8, 8, 4, 1, 0, 0, 0]
    # GPUs or not is limits.has_nvidia_gpus, the HyperPod cluster's test too: the newer NVIDIA families count
    # (they had none here while the cluster gave them GPU metrics), Neuron and CPU families do not
    assert [gpus_per_instance(t) for t in ("ml.p6-b200.48xlarge", "ml.p6e-gb200.36xlarge", "ml.g7e.2xlarge",
                                           "ml.inf2.xlarge", "ml.trn2.48xlarge")] == [8, 4, 1, 0, 0]
    assert per_device_threshold(40, 4) == 160 and per_device_threshold(40, 0) == 40


def test_one_rule_says_which_instance_types_have_nvidia_gpus():
    """The cluster's GPU groups and the jobs' GPU counts agree on every HyperPod and training instance type
    (botocore ClusterInstanceType, TrainingInstanceType): a type has GPU metrics in both or in neither."""
    from constructs_lib import limits
    from constructs_lib.training._limits import training_instance_types
    from constructs_lib.training.job_metrics import gpus_per_instance

    types = limits.cluster_instance_types() | training_instance_types()
    assert {t for t in types if limits.has_nvidia_gpus(t)} == {t for t in types if gpus_per_instance(t) > 0}
    assert [limits.has_nvidia_gpus(t) for t in ("ml.gr6.4xlarge", "ml.g4dn.xlarge", "ml.p5en.48xlarge",
                                                "ml.trn1.32xlarge", "ml.inf2.xlarge", "ml.m5.xlarge")] == [
        True, True, True, False, False, False]


@pytest.fixture(scope="module")
def cpu_pipeline():
    """A CPU pipeline with one metric definition, built once (not synthesized) for the monitoring rules."""
    from constructs_lib.training import MetricDefinition

    return _build(instance_type="ml.m5.xlarge", metric_definitions=[MetricDefinition(name="loss", regex="loss=([0-9.]+)")])


def test_cpu_pipeline_gets_no_gpu_alarm_and_no_stall_alarm_without_a_progress_metric(cpu_pipeline):
    from constructs_lib.observability import TrainingPipelineMonitoring

    monitoring = TrainingPipelineMonitoring(cpu_pipeline, "Monitoring", pipeline=cpu_pipeline)
    assert [a.node.id for a in monitoring.alarm_factory.alarms] == [
        "ExecutionFailedCriticalAlarm", "ExecutionTimedOutCriticalAlarm", "UnhealthyCriticalAlarm",
    ]
    assert monitoring.dashboard_name == "chat-sft-training"
    # Per job: no GPU alarm on a CPU instance, no stall alarm without a progress metric; disk alarms only.
    jobs = monitoring.job_alarms
    assert (jobs.gpu_threshold, jobs.progress_metric, jobs.disk_percent) == (None, None, {"warning": 80.0, "critical": 90.0})


def test_algorithm_metric_helper_knows_only_the_pipelines_definitions(cpu_pipeline):
    assert cpu_pipeline.metric_algorithm("loss").expression == (
        "SEARCH('{\"/aws/sagemaker/TrainingJobs\",TrainingJobName} MetricName=\"loss\" TrainingJobName=chat-sft', "
        "'Average', 60)"
    )
    with pytest.raises(ValueError, match=r"metric 'step' is not one of its metric_definitions \(loss\)"):
        cpu_pipeline.metric_algorithm("step")


def test_monitoring_refuses_a_progress_metric_it_does_not_know(cpu_pipeline):
    from constructs_lib.observability import TrainingMonitoringSpec, TrainingPipelineMonitoring

    with pytest.raises(PlatformValidationError, match=(
        r"spec\.progress_metric: got 'step'; the name of one of metric_definitions: loss"
    )):
        TrainingPipelineMonitoring(cpu_pipeline, "BadMonitoring", pipeline=cpu_pipeline,
                                   spec=TrainingMonitoringSpec(progress_metric="step"))


def test_metric_definitions_are_checked_by_the_construct():
    from constructs_lib.training import MetricDefinition

    with pytest.raises(PlatformValidationError, match=(
        r"metric_definitions\[0\]\.regex: got 'loss=\(\['; a regular expression that compiles"
    )):
        _build(metric_definitions=[MetricDefinition(name="loss", regex="loss=([")])
    # The same rule function the config runs (no construct needed for the other cases).
    from constructs_lib.errors import Problems
    from constructs_lib.training.job_metrics import check_metric_definitions

    found = Problems("test")
    check_metric_definitions(found, [MetricDefinition(name="ok", regex="v=(1)"), MetricDefinition(name='a"b', regex="v=(1)")])
    assert [str(p) for p in found.items] == [
        ("metric_definitions[1].name: got 'a\"b'; 1-255 letters, digits and _ . : / # % + - (no quotes or spaces: "
        "it is a CloudWatch metric name)")
    ]
