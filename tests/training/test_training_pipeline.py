"""TrainingPipeline: the state machine's definition, its least-privilege role, logs, tracing and schedule.

One module-scoped synth (every cdk-nag pack as a validation plugin, so reaching a test means no
unacknowledged finding) of a two-instance, torch_distributed, managed-spot pipeline in a VPC with a
schedule; validation tests synthesize nothing.
"""

from __future__ import annotations

import json

import pytest
from training_testkit import AZS, new_app, new_stack, only, resources

from constructs_lib.errors import PlatformValidationError

pytestmark = pytest.mark.xdist_group("training-pipeline")


def _definition(state_machine: dict) -> dict:
    """The ASL with every CloudFormation intrinsic replaced by ``<ref>`` (they sit inside JSON strings)."""
    parts = state_machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "<ref>" for p in parts))


@pytest.fixture(scope="module")
def pipeline_app(tmp_path_factory):
    from aws_cdk import Duration, Stack
    from aws_cdk import aws_events as events
    from aws_cdk import aws_sns as sns

    from constructs_lib.compliance import add_compliance_checks
    from constructs_lib.training import (
        Distribution,
        ManagedSpot,
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
        notification_topic=topic,
        schedule=events.Schedule.expression("cron(0 2 ? * SUN *)"),
    )
    app.synth()
    template = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    return stack, pipeline, template


def test_training_job_is_multi_instance_distributed_spot_encrypted_in_the_vpc(pipeline_app):
    _, _, template = pipeline_app
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    definition = _definition(machine)
    assert list(definition["States"]) == ["Prepare", "Paths", "Train", "RegisterModel", "NotifyFailure", "Failed"]
    train = definition["States"]["Train"]
    assert train["Resource"] == "arn:<ref>:states:::sagemaker:createTrainingJob.sync"
    params = train["Parameters"]
    assert params["TrainingJobName.$"] == "$.job.name"
    assert params["ResourceConfig"] == {
        "InstanceCount": 2,
        "InstanceType": "ml.p4d.24xlarge",
        "VolumeSizeInGB": 100,
        "VolumeKmsKeyId": "<ref>",
    }
    assert params["HyperParameters"] == {"sagemaker_torch_distributed_enabled": "true", "epochs": "3"}
    assert params["EnableManagedSpotTraining"] is True
    assert params["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400, "MaxWaitTimeInSeconds": 172800}
    assert params["CheckpointConfig"] == {"S3Uri.$": "$.job.checkpoints", "LocalPath": "/opt/ml/checkpoints"}
    assert params["EnableInterContainerTrafficEncryption"] is True
    assert params["OutputDataConfig"] == {"S3OutputPath.$": "$.job.output", "KmsKeyId": "<ref>"}
    assert params["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri.$"] == "$.job.input"
    assert len(params["VpcConfig"]["Subnets"]) == 2 and len(params["VpcConfig"]["SecurityGroupIds"]) == 2
    assert train["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]
    paths = definition["States"]["Paths"]["Parameters"]
    assert paths["input"] == "s3://<ref>/datasets/chat-sft/"
    assert paths["output"] == "s3://<ref>/models/chat-sft/"
    assert paths["checkpoints.$"] == "States.Format('s3://<ref>/checkpoints/chat-sft/{}/', $.job.name)"
    assert definition["States"]["Prepare"]["Parameters"] == {"name.$": "States.Format('chat-sft-{}', States.UUID())"}


def test_model_is_registered_for_manual_approval_and_failures_notify(pipeline_app):
    _, _, template = pipeline_app
    definition = _definition(only(template, "AWS::StepFunctions::StateMachine")[1])
    register = definition["States"]["RegisterModel"]
    assert register["Resource"] == "arn:<ref>:states:::aws-sdk:sagemaker:createModelPackage"
    assert register["Parameters"]["ModelPackageGroupName"] == "chat-llm"
    assert register["Parameters"]["ModelApprovalStatus"] == "PendingManualApproval"
    (container,) = register["Parameters"]["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl.$"] == "$.training.ModelArtifacts.S3ModelArtifacts"
    assert register["Catch"][0]["Next"] == "NotifyFailure" and register.get("End") is True
    notify = definition["States"]["NotifyFailure"]
    assert notify["Resource"] == "arn:<ref>:states:::sns:publish" and notify["Next"] == "Failed"
    assert definition["States"]["Failed"]["Type"] == "Fail"


def test_state_machine_logs_everything_encrypted_and_traces(pipeline_app):
    stack, pipeline, template = pipeline_app
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    log_group = template["Resources"][stack.get_logical_id(pipeline.log_group.node.default_child)]
    assert log_group["DeletionPolicy"] == "Retain" and "KmsKeyId" in log_group["Properties"]


def test_role_has_one_customer_managed_policy_scoped_to_the_pipeline(pipeline_app):
    stack, pipeline, template = pipeline_app
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
    stack, pipeline, template = pipeline_app
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
