"""``TrainingPipeline``: a Step Functions state machine that trains on SageMaker and registers the model.

Prepare (job name and S3 paths) → multi-instance SageMaker training job (``.sync``: the state waits
for the job) → ``CreateModelPackage`` (``PendingManualApproval``) in a model package group. A failure
of either task publishes a message to the notification topic and fails the execution. Runs on demand
(``StartExecution``) and, with ``schedule``, from an EventBridge rule with a dead-letter queue.

``aws_stepfunctions_tasks.SageMakerCreateTrainingJob`` renders the job request and its IAM statements;
it has no props for managed spot training, checkpoints, ``MaxWaitTimeInSeconds`` or inter-container
traffic encryption, so the construct adds those keys to the rendered state (:data:`TRAIN_STATE`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib import limits
from constructs_lib.compliance import acknowledge
from constructs_lib.errors import Problems, is_token
from constructs_lib.training._limits import training_instance_types
from constructs_lib.training._nag import wildcard_resource
from constructs_lib.training._resources import LOG_RETENTION
from constructs_lib.training.network import TrainingNetwork
from constructs_lib.training.platform import TrainingPlatform

# States of the definition (their names are part of the execution history users read).
PREPARE_STATE = "Prepare"
TRAIN_STATE = "Train"
REGISTER_STATE = "RegisterModel"
NOTIFY_STATE = "NotifyFailure"
FAILED_STATE = "Failed"
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
# Job names are "<pipeline>-<uuid>": a UUID is 36 characters and training job names at most 63.
PIPELINE_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,25}$")
MAX_RUNTIME = (Duration.minutes(1), Duration.days(28))  # CreateTrainingJob StoppingCondition limits
MIN_VOLUME_GB = 1
CONTENT_TYPES = ("application/json",)


class Distribution(str, Enum):
    """How the framework container starts training across instances (SageMaker Python SDK ``distribution``)."""

    TORCH_DISTRIBUTED = "torch_distributed"  # torchrun on every instance
    PYTORCH_DDP = "pytorchddp"  # PyTorch DDP launched by SageMaker
    MPI = "mpi"  # mpirun across instances (Horovod and similar)

    @property
    def hyperparameters(self) -> dict[str, str]:
        """The hyperparameters the SDK sets for this option (JSON-encoded values, as the SDK sends them)."""
        key = {
            Distribution.TORCH_DISTRIBUTED: "sagemaker_torch_distributed_enabled",
            Distribution.PYTORCH_DDP: "sagemaker_pytorch_ddp_enabled",
            Distribution.MPI: "sagemaker_mpi_enabled",
        }[self]
        return {key: "true"}


@dataclass(frozen=True, kw_only=True)
class ManagedSpot:
    """Managed spot training: SageMaker runs the job on spare capacity and resumes it from checkpoints.

    :param max_wait: longest time the job may take including waits for spot capacity; at least the
        pipeline's ``max_runtime``.
    """

    max_wait: Duration


class TrainingPipeline(Construct):
    """Multi-instance SageMaker training, then model registration, as a state machine.

    :param pipeline_name: 1-26 letters, digits and hyphens; job names are ``<pipeline_name>-<uuid>``.
    :param platform: the training platform: its role runs the job, its key encrypts volumes and
        outputs, its bucket holds inputs (``input_prefix``), checkpoints (``checkpoints/<pipeline>/<job>/``)
        and models (``models/<pipeline>/``), its repository holds the training image.
    :param image_tag: tag of the training image in ``platform.repository`` (tags are immutable).
    :param instance_type: a training instance type (botocore enum ``TrainingInstanceType``).
    :param model_package_group: the group versions are registered in (``PendingManualApproval``).
    :param notification_topic: receives a message when training or registration fails.
    :param instance_count: instances of the job. Default 1.
    :param distribution: how the framework container distributes training across instances.
        Default: none (the container decides).
    :param hyperparameters: passed to the job (values are strings). Default: none.
    :param input_prefix: key prefix of the ``train`` channel in the artifacts bucket. Default
        ``datasets/<pipeline_name>/``.
    :param volume_size: storage volume per instance. Default 100 GiB.
    :param max_runtime: Default 24 hours.
    :param managed_spot: run on spot capacity with checkpoints. Default: on-demand (checkpoints are
        configured either way, so a job restarted by SageMaker resumes).
    :param network: run the job in these private subnets with this security group (which must allow
        traffic within itself, as ``TrainingNetwork``'s does). Default: no VPC.
    :param inference_image: image of the registered model package. Default: the training image.
    :param schedule: start executions on this schedule. Default: on demand only.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline_name: str,
        platform: TrainingPlatform,
        image_tag: str,
        instance_type: str,
        model_package_group: str,
        notification_topic: sns.ITopic,
        instance_count: int = 1,
        distribution: Distribution | None = None,
        hyperparameters: Mapping[str, str] | None = None,
        input_prefix: str | None = None,
        volume_size: Size | None = None,
        max_runtime: Duration | None = None,
        managed_spot: ManagedSpot | None = None,
        network: TrainingNetwork | None = None,
        inference_image: str | None = None,
        schedule: events.Schedule | None = None,
    ) -> None:
        super().__init__(scope, id)
        max_runtime = max_runtime or Duration.hours(24)
        volume_size = volume_size or Size.gibibytes(100)
        _validate(
            self.node.path,
            pipeline_name=pipeline_name,
            instance_type=instance_type,
            instance_count=instance_count,
            distribution=distribution,
            max_runtime=max_runtime,
            managed_spot=managed_spot,
            volume_size=volume_size,
            model_package_group=model_package_group,
        )
        self.pipeline_name = pipeline_name
        self.platform = platform
        key = platform.encryption_key
        bucket_name = platform.artifacts_bucket.bucket_name
        image = platform.repository.repository_uri_for_tag(image_tag)
        all_hyperparameters = {**(distribution.hyperparameters if distribution else {}), **(hyperparameters or {})}

        prepare = sfn.Pass(
            self,
            PREPARE_STATE,
            comment="Job name and S3 locations of this execution",
            parameters={
                "name.$": f"States.Format('{pipeline_name}-{{}}', States.UUID())",
            },
            result_path="$.job",
        )
        paths = sfn.Pass(
            self,
            "Paths",
            parameters={
                "name.$": "$.job.name",
                "input": f"s3://{bucket_name}/{input_prefix or f'datasets/{pipeline_name}/'}",
                "output": f"s3://{bucket_name}/models/{pipeline_name}/",
                "checkpoints.$": f"States.Format('s3://{bucket_name}/checkpoints/{pipeline_name}/{{}}/', $.job.name)",
            },
            result_path="$.job",
        )
        vpc_config = None
        if network is not None:
            vpc_config = tasks.VpcConfig(vpc=network.vpc, subnets=network.subnet_selection)
        self.train = tasks.SageMakerCreateTrainingJob(
            self,
            TRAIN_STATE,
            training_job_name=sfn.JsonPath.string_at("$.job.name"),
            # The platform's role already reads and writes the artifacts bucket and uses the key; the
            # task's own grants (s3:* on "*" for path expressions) would add an inline policy to it.
            role=platform.training_job_role.without_policy_updates(),
            algorithm_specification=tasks.AlgorithmSpecification(
                training_image=tasks.DockerImage.from_registry(image),
                training_input_mode=tasks.InputMode.FILE,
            ),
            input_data_config=[
                tasks.Channel(
                    channel_name="train",
                    data_source=tasks.DataSource(
                        s3_data_source=tasks.S3DataSource(
                            s3_location=tasks.S3Location.from_json_expression("$.job.input"),
                            s3_data_type=tasks.S3DataType.S3_PREFIX,
                            s3_data_distribution_type=tasks.S3DataDistributionType.FULLY_REPLICATED,
                        )
                    ),
                )
            ],
            output_data_config=tasks.OutputDataConfig(
                s3_output_location=tasks.S3Location.from_json_expression("$.job.output"), encryption_key=key
            ),
            resource_config=tasks.ResourceConfig(
                instance_count=instance_count,
                instance_type=ec2.InstanceType(instance_type.removeprefix("ml.")),
                volume_size=volume_size,
                volume_encryption_key=key,
            ),
            stopping_condition=tasks.StoppingCondition(max_runtime=max_runtime),
            hyperparameters=all_hyperparameters or None,
            vpc_config=vpc_config,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_path="$.training",
            result_selector={"ModelArtifacts.$": "$.ModelArtifacts", "TrainingJobArn.$": "$.TrainingJobArn"},
        )
        if network is not None:
            # The job's instances talk to each other (NCCL, MPI) through the network's group.
            self.train.add_security_group(network.security_group)
        self.register = tasks.CallAwsService(
            self,
            REGISTER_STATE,
            service="sagemaker",
            action="createModelPackage",
            iam_action="sagemaker:CreateModelPackage",
            iam_resources=[
                _sagemaker_arn(self, "model-package-group", model_package_group),
                _sagemaker_arn(self, "model-package", f"{model_package_group}/*"),
            ],
            parameters={
                "ModelPackageGroupName": model_package_group,
                "ModelApprovalStatus": "PendingManualApproval",
                "ModelPackageDescription.$": "States.Format('Trained by {}', $.training.TrainingJobArn)",
                "InferenceSpecification": {
                    "Containers": [
                        {
                            "Image": inference_image or image,
                            "ModelDataUrl.$": "$.training.ModelArtifacts.S3ModelArtifacts",
                        }
                    ],
                    "SupportedContentTypes": list(CONTENT_TYPES),
                    "SupportedResponseMIMETypes": list(CONTENT_TYPES),
                },
            },
            result_path="$.registration",
        )
        notify = tasks.SnsPublish(
            self,
            NOTIFY_STATE,
            topic=notification_topic,
            subject=f"Training pipeline {pipeline_name} failed",
            message=sfn.TaskInput.from_object(
                {
                    "pipeline": pipeline_name,
                    "execution": sfn.JsonPath.execution_id,
                    "job": sfn.JsonPath.string_at("$.job.name"),
                    "error": sfn.JsonPath.object_at("$.error"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        failed = sfn.Fail(self, FAILED_STATE, cause="Training or model registration failed")
        notify.next(failed)
        for task in (self.train, self.register):
            task.add_catch(notify, result_path="$.error")
        self.register.add_retry(errors=["SageMaker.ThrottlingException"], max_attempts=3)

        graph = sfn.StateGraph(
            sfn.Chain.start(prepare).next(paths).next(self.train).next(self.register).start_state,
            f"Training pipeline {pipeline_name}",
        )
        definition = graph.to_graph_json()
        train_state = definition["States"][TRAIN_STATE]
        params = train_state["Parameters"]
        params["EnableInterContainerTrafficEncryption"] = True
        params["CheckpointConfig"] = {"S3Uri.$": "$.job.checkpoints", "LocalPath": CHECKPOINT_LOCAL_PATH}
        if managed_spot is not None:
            params["EnableManagedSpotTraining"] = True
            params["StoppingCondition"]["MaxWaitTimeInSeconds"] = managed_spot.max_wait.to_seconds()

        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=key, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"Training pipeline {pipeline_name}: start training jobs, register models, notify",
        )
        self.state_machine = sfn.StateMachine(
            self,
            "Resource",
            definition_body=sfn.DefinitionBody.from_string(Stack.of(self).to_json_string(definition)),
            role=role.without_policy_updates(),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            timeout=max_runtime.plus(Duration.hours(1))
            if managed_spot is None
            else managed_spot.max_wait.plus(Duration.hours(1)),
        )
        self.policy = self._policy(role, list(graph.policy_statements), notification_topic, model_package_group)
        self.state_machine.node.add_dependency(self.policy)

        self.rule: events.Rule | None = None
        self.schedule_role: iam.Role | None = None
        self.dead_letter_queue: sqs.Queue | None = None
        if schedule is not None:
            _allow_eventbridge(self, key)
            self.dead_letter_queue = sqs.Queue(
                self,
                "ScheduleDeadLetters",
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=key,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            acknowledge(
                self.dead_letter_queue,
                "This queue is the dead-letter queue of the schedule's target; it has none of its own.",
                "Serverless-SQSRedrivePolicy",
                "AwsSolutions-SQS3",
            )
            self.schedule_role = iam.Role(
                self,
                "ScheduleRole",
                assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
                description=f"EventBridge: start training pipeline {pipeline_name} on its schedule",
            )
            iam.ManagedPolicy(
                self,
                "SchedulePolicy",
                roles=[self.schedule_role],
                statements=[
                    iam.PolicyStatement(
                        sid="StartPipeline",
                        actions=["states:StartExecution"],
                        resources=[self.state_machine.state_machine_arn],
                    )
                ],
            )
            self.rule = events.Rule(
                self,
                "Schedule",
                description=f"Starts training pipeline {pipeline_name}",
                schedule=schedule,
                targets=[
                    targets.SfnStateMachine(
                        self.state_machine,
                        role=self.schedule_role.without_policy_updates(),
                        dead_letter_queue=self.dead_letter_queue,
                        retry_attempts=3,
                        max_event_age=Duration.hours(2),
                    )
                ],
            )

    @property
    def state_machine_arn(self) -> str:
        return self.state_machine.state_machine_arn

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start the pipeline on demand (``states:StartExecution``)."""
        return self.state_machine.grant_start_execution(grantee)

    def _policy(
        self, role: iam.Role, statements: list[iam.PolicyStatement], topic: sns.ITopic, group: str
    ) -> iam.ManagedPolicy:
        """The task statements aws-cdk-lib generates, plus logging, tracing and the topic's key, in one
        customer managed policy (instead of the inline policies the state machine would add)."""
        policy = iam.ManagedPolicy(self, "Policy", roles=[role], statements=statements)
        policy.add_statements(
            iam.PolicyStatement(
                sid="DeliverExecutionLogs",
                actions=[
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="Tracing",
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                         "xray:GetSamplingTargets"],
                resources=["*"],
            ),
        )
        topic_key = getattr(topic, "master_key", None)
        if topic_key is not None:
            policy.add_statements(
                iam.PolicyStatement(
                    sid="PublishToEncryptedTopic",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[topic_key.key_arn],
                )
            )
        acknowledge(
            policy,
            "Statements of aws-cdk-lib's SageMakerCreateTrainingJob task: job names carry a UUID per execution "
            "(training-job/*), sagemaker:ListTags and the CloudWatch Logs delivery and X-Ray actions support no "
            "resource-level permissions, and model versions get their number at registration "
            "(model-package/<group>/*).",
            wildcard_resource(policy, "*"),
            wildcard_resource(policy, _sagemaker_arn(self, "training-job", "*")),
            wildcard_resource(policy, _sagemaker_arn(self, "model-package", f"{group}/*")),
        )
        return policy


def _allow_eventbridge(scope: Construct, key: kms.IKey) -> None:
    """EventBridge encrypts what it sends to the dead-letter queue with the queue's key: a key of this
    stack gets the statement; any other key must already allow ``events.amazonaws.com`` (the platform
    key does), or failed deliveries are dropped silently."""
    if isinstance(key, kms.Key) and Stack.of(key) is Stack.of(scope):
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeDeadLetters",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(key).account}},
            )
        )


def _sagemaker_arn(scope: Construct, resource: str, name: str) -> str:
    return Stack.of(scope).format_arn(service="sagemaker", resource=resource, resource_name=name)


def _validate(
    path: str,
    *,
    pipeline_name: str,
    instance_type: str,
    instance_count: int,
    distribution: Any,
    max_runtime: Duration,
    managed_spot: ManagedSpot | None,
    volume_size: Size,
    model_package_group: str,
) -> None:
    problems = Problems(f"TrainingPipeline {path}")
    check_pipeline_props(
        problems,
        pipeline_name=pipeline_name,
        instance_type=instance_type,
        instance_count=instance_count,
        distribution=distribution,
        max_runtime_s=max_runtime.to_seconds(),
        max_wait_s=managed_spot.max_wait.to_seconds() if managed_spot else None,
        volume_size_gb=volume_size.to_gibibytes(),
        model_package_group=model_package_group,
    )
    problems.raise_if_any()


def check_pipeline_props(
    problems: Problems,
    *,
    pipeline_name: str,
    instance_type: str,
    instance_count: int,
    distribution: Any,
    max_runtime_s: float,
    max_wait_s: float | None,
    volume_size_gb: float,
    model_package_group: str,
) -> None:
    """Every rule on :class:`TrainingPipeline` props (shared by the construct and the config schema)."""
    problems.check(
        isinstance(pipeline_name, str) and bool(PIPELINE_NAME_PATTERN.match(pipeline_name)),
        "pipeline_name",
        pipeline_name,
        "1-26 letters, digits and hyphens, starting and ending with a letter or digit "
        "(job names add a 37-character execution id)",
    )
    types = training_instance_types()
    problems.check(instance_type in types, "instance_type", instance_type, limits.describe_choices(types))
    problems.check(
        is_token(instance_count) or (isinstance(instance_count, int) and not isinstance(instance_count, bool)
                                     and instance_count >= 1),
        "instance_count",
        instance_count,
        "an integer >= 1",
    )
    if distribution is not None:
        problems.check(
            distribution in tuple(Distribution),
            "distribution",
            distribution,
            "one of " + ", ".join(d.value for d in Distribution),
        )
    low, high = (d.to_seconds() for d in MAX_RUNTIME)
    problems.check(low <= max_runtime_s <= high, "max_runtime", f"{max_runtime_s:g} s", "1 minute to 28 days")
    if max_wait_s is not None:
        problems.check(
            max_runtime_s <= max_wait_s <= high,
            "managed_spot.max_wait",
            f"{max_wait_s:g} s",
            f"at least max_runtime ({max_runtime_s:g} s) and at most 28 days",
        )
    problems.check(volume_size_gb >= MIN_VOLUME_GB, "volume_size", f"{volume_size_gb:g} GiB", "at least 1 GiB")
    problems.check(
        isinstance(model_package_group, str) and bool(limits.NAME_PATTERN.match(model_package_group)),
        "model_package_group",
        model_package_group,
        limits.NAME_RULE,
    )
