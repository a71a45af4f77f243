"""``TrainingPipeline``: a Step Functions state machine that trains on SageMaker and registers the model.

Prepare (job name and S3 paths) → multi-instance SageMaker training job (``.sync``: the state waits
for the job) → ``CreateModelPackage`` (``PendingManualApproval``) in a model package group (when one is
given). A failure of either task publishes a message to the notification topic and fails the
execution. Runs on demand (``StartExecution``) and, with ``schedule``, from an EventBridge rule with a
dead-letter queue.

``aws_stepfunctions_tasks.SageMakerCreateTrainingJob`` renders the job request and its IAM statements;
it has no props for managed spot training, checkpoints, ``MaxWaitTimeInSeconds``, inter-container
traffic encryption or ``RetryStrategy``, renders channels only with one input mode per job, and adds a
security group of its own to ``VpcConfig``; the construct therefore sets those keys of the rendered
state itself (:data:`TRAIN_STATE`).

Every job carries the tags of :class:`constructs_lib.sagemaker_events.PlatformTag`: ``aiplatform:pipeline``
(the pipeline's name) and, with ``platform_tag``, ``aiplatform:platform``. The lifecycle glue skips
jobs with ``aiplatform:pipeline``: the pipeline registers and notifies those itself, once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from aws_cdk import Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_cloudwatch as cw
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
from constructs_lib.sagemaker_events import PlatformTag
from constructs_lib.training import job_metrics as jm
from constructs_lib.training._limits import training_instance_types
from constructs_lib.training._nag import wildcard_resource
from constructs_lib.training._resources import LOG_RETENTION
from constructs_lib.training.distribution import (
    DataChannel,
    Distribution,
    DistributionConfig,
    EntryPoint,
    channel_request,
    check_channels,
    check_distribution,
    check_entry_point,
    distribution_hyperparameters,
    entry_point_hyperparameters,
)
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
DEFAULT_MAX_RUNTIME = Duration.hours(24)
DEFAULT_VOLUME_SIZE = Size.gibibytes(100)
CONTENT_TYPES = ("application/json",)
DEFAULT_CHANNEL = "train"
# CreateTrainingJob RetryStrategy: SageMaker restarts a job that failed with an internal error
# (InternalServerError) up to this many times (botocore MaximumRetryAttempts 1-30).
JOB_RETRY_ATTEMPTS = 2
# Step Functions reports a throttled or refused SageMaker API call of the optimized integration as
# SageMaker.AmazonSageMakerException (the AWS Step Functions Data Science SDK retries the same error,
# aws-step-functions-data-science-sdk-python PR #162); a failed job is States.TaskFailed and is not retried.
THROTTLING_ERRORS = ("SageMaker.AmazonSageMakerException",)
# Environment every job gets (the custom-image contract of the package README).
ENV_PIPELINE = "AIPLATFORM_PIPELINE"
ENV_DISTRIBUTION = "AIPLATFORM_DISTRIBUTION"
ENV_ENTRY_POINT = "AIPLATFORM_ENTRY_POINT"


@dataclass(frozen=True, kw_only=True)
class ManagedSpot:
    """Managed spot training: SageMaker runs the job on spare capacity and resumes it from checkpoints.

    :param max_wait: longest time the job may take including waits for spot capacity; at least the
        pipeline's ``max_runtime``.
    """

    max_wait: Duration


class _TrainingPipelineOptionsRequired(TypedDict):
    """The keywords :class:`TrainingPipelineOptions` must hold (the constructor's required ones)."""

    pipeline_name: str
    image_tag: str
    instance_type: str


class TrainingPipelineOptions(_TrainingPipelineOptionsRequired, total=False):
    """The keyword arguments of :class:`TrainingPipeline` that describe the job, its schedule and its
    registration: every one but the deploy-time objects (``platform``, ``notification_topic``,
    ``network``, ``platform_tag``), with the constructor's names, types and defaults.

    ``TrainingPipeline(scope, id, platform=..., notification_topic=..., **options)`` (type checkers
    check the splat); :func:`check_pipeline_props` takes the same mapping. The platform's config builds
    one per ``training_pipelines`` entry (``TrainingPipelineSection.to_spec()``).
    """

    model_package_group: str | None
    inference_image: str | None
    instance_count: int
    distribution: Distribution | DistributionConfig | None
    entry_point: EntryPoint | None
    channels: Sequence[DataChannel] | None
    hyperparameters: Mapping[str, str] | None
    input_prefix: str | None
    volume_size: Size | None
    max_runtime: Duration | None
    managed_spot: ManagedSpot | None
    schedule: events.Schedule | None
    metric_definitions: Sequence[jm.MetricDefinition]


class TrainingPipeline(Construct):
    """Multi-instance SageMaker training, then model registration, as a state machine.

    :param pipeline_name: 1-26 letters, digits and hyphens; job names are ``<pipeline_name>-<uuid>``.
    :param platform: the training platform: its role runs the job, its key encrypts volumes and
        outputs, its bucket holds inputs (the channels' prefixes), code (``entry_point.source_prefix``),
        checkpoints (``checkpoints/<pipeline>/<job>/``) and models (``models/<pipeline>/``), its
        repository holds the training image.
    :param image_tag: tag of the training image in ``platform.repository`` (tags are immutable).
    :param instance_type: a training instance type (botocore enum ``TrainingInstanceType``).
    :param notification_topic: receives a message when training or registration fails.
    :param model_package_group: the group versions are registered in (``PendingManualApproval``).
        Default: none (train only, no ``RegisterModel`` state).
    :param inference_image: image of the registered model package (a serving image; required with
        ``model_package_group``: the training image does not serve).
    :param instance_count: instances of the job. Default 1.
    :param distribution: ``Distribution.X`` or ``DistributionConfig(kind=..., data_parallel=...,
        model_parallel=...)``: how a SageMaker framework container distributes training across
        instances (see :mod:`constructs_lib.training.distribution`). Default: none.
    :param entry_point: the script a framework container runs and the code archive it comes from
        (``sagemaker_program``, ``sagemaker_submit_directory``). Default: the image's own entry point.
    :param channels: input channels. Default: one ``train`` channel, fully replicated, from
        ``input_prefix``.
    :param hyperparameters: passed to the job (values are strings). Default: none.
    :param input_prefix: key prefix of the default ``train`` channel (not with ``channels``). Default
        ``datasets/<pipeline_name>/``.
    :param volume_size: storage volume per instance. Default 100 GiB.
    :param max_runtime: Default 24 hours.
    :param managed_spot: run on spot capacity with checkpoints. Default: on-demand (checkpoints are
        configured either way, so a job restarted by SageMaker resumes).
    :param network: run the job in these private subnets with exactly this network's security group
        (which allows traffic within itself, as instances of a distributed job need, and which the
        platform role may attach). Default: no VPC.
    :param platform_tag: value of the ``aiplatform:platform`` tag on every job (``<platform>-<environment>``).
        Default: the tag is omitted (the ``aiplatform:pipeline`` tag is always set).
    :param schedule: start executions on this schedule. Default: on demand only.
    :param metric_definitions: algorithm metrics SageMaker parses from the job's logs and publishes to
        ``/aws/sagemaker/TrainingJobs`` (dimension ``TrainingJobName``), with
        ``EnableSageMakerMetricsTimeSeries``; at most 40. Default: none (host metrics only).
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
        notification_topic: sns.ITopic,
        model_package_group: str | None = None,
        inference_image: str | None = None,
        instance_count: int = 1,
        distribution: Distribution | DistributionConfig | None = None,
        entry_point: EntryPoint | None = None,
        channels: Sequence[DataChannel] | None = None,
        hyperparameters: Mapping[str, str] | None = None,
        input_prefix: str | None = None,
        volume_size: Size | None = None,
        max_runtime: Duration | None = None,
        managed_spot: ManagedSpot | None = None,
        network: TrainingNetwork | None = None,
        platform_tag: str | None = None,
        schedule: events.Schedule | None = None,
        metric_definitions: Sequence[jm.MetricDefinition] = (),
    ) -> None:
        super().__init__(scope, id)
        max_runtime = max_runtime or DEFAULT_MAX_RUNTIME
        volume_size = volume_size or DEFAULT_VOLUME_SIZE
        problems = Problems(f"TrainingPipeline {self.node.path}")
        check_pipeline_props(
            problems,
            TrainingPipelineOptions(
                pipeline_name=pipeline_name, image_tag=image_tag, instance_type=instance_type,
                instance_count=instance_count, distribution=distribution, entry_point=entry_point,
                channels=channels, input_prefix=input_prefix, max_runtime=max_runtime, managed_spot=managed_spot,
                volume_size=volume_size, model_package_group=model_package_group, inference_image=inference_image,
                metric_definitions=metric_definitions,
            ),
        )
        problems.raise_if_any()
        self.pipeline_name = pipeline_name
        self.instance_type = instance_type
        self.instance_count = instance_count
        self.metric_definitions: tuple[jm.MetricDefinition, ...] = tuple(metric_definitions)
        self.platform = platform
        self.network = network
        self.distribution = DistributionConfig.of(distribution)
        self.channels: tuple[DataChannel, ...] = tuple(
            channels
            or [DataChannel(name=DEFAULT_CHANNEL, s3_prefix=input_prefix or f"datasets/{pipeline_name}/")]
        )
        self.tags = {PlatformTag.PIPELINE: pipeline_name}
        if platform_tag is not None:
            self.tags[PlatformTag.PLATFORM] = platform_tag
        key = platform.encryption_key
        bucket_name = platform.artifacts_bucket.bucket_name
        image = platform.repository.repository_uri_for_tag(image_tag)
        all_hyperparameters = {
            **distribution_hyperparameters(self.distribution, instance_type),
            **entry_point_hyperparameters(entry_point, bucket_name=bucket_name, region=Stack.of(self).region),
            **(hyperparameters or {}),
        }

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
                "output": f"s3://{bucket_name}/models/{pipeline_name}/",
                "checkpoints.$": f"States.Format('s3://{bucket_name}/checkpoints/{pipeline_name}/{{}}/', $.job.name)",
            },
            result_path="$.job",
        )
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
            # Replaced below by the channels' own request entries (input mode per channel).
            input_data_config=[
                tasks.Channel(
                    channel_name=DEFAULT_CHANNEL,
                    data_source=tasks.DataSource(
                        s3_data_source=tasks.S3DataSource(
                            s3_location=tasks.S3Location.from_json_expression("$.job.output"),
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
                # API reference ResourceConfig: "You can't request a VolumeKmsKeyId when using an
                # instance type with local storage" (hardware-encrypted); the job would not start.
                volume_encryption_key=key if limits.training_volume_key_allowed(instance_type) else None,
            ),
            stopping_condition=tasks.StoppingCondition(max_runtime=max_runtime),
            hyperparameters=all_hyperparameters or None,
            environment=self._environment(entry_point),
            tags=dict(self.tags),
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_path="$.training",
            result_selector={"ModelArtifacts.$": "$.ModelArtifacts", "TrainingJobArn.$": "$.TrainingJobArn"},
        )
        self.train.add_retry(
            errors=list(THROTTLING_ERRORS), interval=Duration.seconds(5), max_attempts=5, backoff_rate=2
        )
        self.register: tasks.CallAwsService | None = None
        if model_package_group is not None:
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
                                "Image": inference_image,
                                "ModelDataUrl.$": "$.training.ModelArtifacts.S3ModelArtifacts",
                            }
                        ],
                        "SupportedContentTypes": list(CONTENT_TYPES),
                        "SupportedResponseMIMETypes": list(CONTENT_TYPES),
                    },
                },
                result_path="$.registration",
            )
            self.register.add_retry(errors=["SageMaker.ThrottlingException"], max_attempts=3)
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
        chain = sfn.Chain.start(prepare).next(paths).next(self.train)
        for task in (self.train, self.register):
            if task is not None:
                task.add_catch(notify, result_path="$.error")
        if self.register is not None:
            chain = chain.next(self.register)

        graph = sfn.StateGraph(chain.start_state, f"Training pipeline {pipeline_name}")
        definition = graph.to_graph_json()
        # StateMachine(timeout=...) does not reach a definition given as a string
        # (DefinitionBody.from_string): the timeout belongs in the definition itself.
        self.timeout = max_runtime.plus(Duration.hours(1)) if managed_spot is None else managed_spot.max_wait.plus(
            Duration.hours(1)
        )
        definition["TimeoutSeconds"] = int(self.timeout.to_seconds())
        train_state = definition["States"][TRAIN_STATE]
        params = train_state["Parameters"]
        params["InputDataConfig"] = [channel_request(c, bucket_name) for c in self.channels]
        params["EnableInterContainerTrafficEncryption"] = True
        params["CheckpointConfig"] = {"S3Uri.$": "$.job.checkpoints", "LocalPath": CHECKPOINT_LOCAL_PATH}
        params["RetryStrategy"] = {"MaximumRetryAttempts": JOB_RETRY_ATTEMPTS}
        if self.metric_definitions:
            # CreateTrainingJob AlgorithmSpecification: SageMaker publishes each match to CloudWatch and,
            # with EnableSageMakerMetricsTimeSeries, keeps the time series (botocore sagemaker model).
            params["AlgorithmSpecification"]["MetricDefinitions"] = [d.request() for d in self.metric_definitions]
            params["AlgorithmSpecification"]["EnableSageMakerMetricsTimeSeries"] = True
        if network is not None:
            # Exactly the network's security group: aws-cdk-lib's task would add a group of its own
            # (TrainJobSecurityGroup) that the platform role may not attach (its ec2:CreateNetworkInterface
            # names this group only), and the instances talk to each other (NCCL, MPI) through this one.
            params["VpcConfig"] = {
                "SecurityGroupIds": [network.security_group.security_group_id],
                "Subnets": [s.subnet_id for s in network.private_subnets],
            }
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

    # -- metrics (vocabulary: constructs_lib.training.job_metrics) ---------------------------------
    @property
    def gpus_per_instance(self) -> int:
        """GPUs of one job instance (0 for CPU and Trainium types): converts summed GPU metrics."""
        return jm.gpus_per_instance(self.instance_type)

    def metric_execution(self, metric: jm.ExecutionMetric, *, period: Duration = Duration.minutes(5),
                         statistic: str = cw.Stats.SUM, label: str | None = None) -> cw.Metric:
        """An ``AWS/States`` metric of this pipeline's state machine (dimension ``StateMachineArn``)."""
        return self.state_machine.metric(metric.value, period=period, statistic=statistic, label=label)

    def metric_executions_failed(self, **kwargs) -> cw.Metric:
        """Failed executions (a training or registration failure ends in the ``Failed`` state), Sum."""
        return self.metric_execution(jm.ExecutionMetric.FAILED, **kwargs)

    def metric_executions_timed_out(self, **kwargs) -> cw.Metric:
        """Executions that ran past the definition's ``TimeoutSeconds``, Sum."""
        return self.metric_execution(jm.ExecutionMetric.TIMED_OUT, **kwargs)

    def metric_execution_time(self, *, statistic: str = cw.Stats.MAXIMUM, period: Duration = Duration.hours(1),
                              label: str | None = None) -> cw.Metric:
        """Execution duration in milliseconds (``ExecutionTime``)."""
        return self.metric_execution(jm.ExecutionMetric.TIME, statistic=statistic, period=period, label=label)

    def metric_host(self, metric: jm.HostMetric, *, statistic: str = cw.Stats.AVERAGE,
                    period: Duration = Duration.minutes(1), label: str = "${LABEL}") -> cw.MathExpression:
        """A host metric of the pipeline's jobs (``/aws/sagemaker/TrainingJobs``, ``Host``), one series
        per host (a straggler stands out), as a dashboard ``SEARCH`` expression (:func:`jm.search_expression`;
        a search cannot back an alarm: the job alarms are per job, ``constructs_lib.job_alarm_requests``).
        GPU metrics are summed over the host's GPUs (see :func:`jm.per_device_threshold`)."""
        return cw.MathExpression(
            expression=jm.search_expression(metric.value, jm.Dimension.HOST, self.pipeline_name, statistic,
                                            int(period.to_seconds())),
            period=period, label=label,
        )

    def metric_hosts_publishing(self, *, period: Duration = Duration.minutes(1)) -> cw.MathExpression:
        """How many hosts of the pipeline's jobs publish ``CPUUtilization`` per period (``SUM`` of the
        per-host sample counts): the job's instances are up."""
        hosts = self.metric_host(jm.HostMetric.CPU_UTILIZATION, statistic=cw.Stats.SAMPLE_COUNT, period=period, label="")
        return cw.MathExpression(expression="SUM(h)", using_metrics={"h": hosts}, period=period, label="hosts")

    def metric_gpu_utilization(self, **kwargs) -> cw.MathExpression:
        """``GPUUtilization`` of the pipeline's hosts (0-100 x GPUs per instance)."""
        return self.metric_host(jm.HostMetric.GPU_UTILIZATION, **kwargs)

    def metric_gpu_memory_utilization(self, **kwargs) -> cw.MathExpression:
        """``GPUMemoryUtilization`` of the pipeline's hosts (0-100 x GPUs per instance)."""
        return self.metric_host(jm.HostMetric.GPU_MEMORY_UTILIZATION, **kwargs)

    def metric_disk_utilization(self, **kwargs) -> cw.MathExpression:
        """``DiskUtilization`` of the pipeline's hosts (0-100)."""
        return self.metric_host(jm.HostMetric.DISK_UTILIZATION, **kwargs)

    def metric_algorithm(self, name: str, *, statistic: str = cw.Stats.AVERAGE,
                         period: Duration = Duration.minutes(1), label: str = "${LABEL}") -> cw.MathExpression:
        """An algorithm metric of :attr:`metric_definitions` (dimension ``TrainingJobName``), one series per
        job of the pipeline, as a dashboard ``SEARCH`` expression."""
        if name not in {d.name for d in self.metric_definitions}:
            raise ValueError(
                f"TrainingPipeline {self.node.path}: metric {name!r} is not one of its metric_definitions "
                f"({', '.join(d.name for d in self.metric_definitions) or 'none'})"
            )
        return cw.MathExpression(
            expression=jm.search_expression(name, jm.Dimension.TRAINING_JOB_NAME, self.pipeline_name, statistic,
                                            int(period.to_seconds())),
            period=period, label=label,
        )

    def _environment(self, entry_point: EntryPoint | None) -> dict[str, str]:
        """What every job's container finds in its environment (the custom-image contract, README)."""
        env = {
            ENV_PIPELINE: self.pipeline_name,
            ENV_DISTRIBUTION: self.distribution.kind.value if self.distribution else "none",
        }
        if entry_point is not None:
            env[ENV_ENTRY_POINT] = entry_point.script
        return env

    def _policy(
        self, role: iam.Role, statements: list[iam.PolicyStatement], topic: sns.ITopic, group: str | None
    ) -> iam.ManagedPolicy:
        """The task statements aws-cdk-lib generates, plus logging, tracing and the topic's key, in one
        customer managed policy (instead of the inline policies the state machine would add)."""
        policy = iam.ManagedPolicy(self, "Policy", roles=[role], statements=statements)
        job_arn = _sagemaker_arn(self, "training-job", f"{self.pipeline_name}-*")
        policy.add_statements(
            # CreateTrainingJob with Tags needs sagemaker:AddTags on the job (SageMaker service
            # authorization reference); the pipeline's jobs only.
            iam.PolicyStatement(sid="TagTrainingJobs", actions=["sagemaker:AddTags"], resources=[job_arn]),
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
            "(training-job/* and, for tagging, training-job/<pipeline>-*), sagemaker:ListTags and the CloudWatch Logs delivery and X-Ray actions support no "
            "resource-level permissions, and model versions get their number at registration "
            "(model-package/<group>/*).",
            wildcard_resource(policy, "*"),
            wildcard_resource(policy, _sagemaker_arn(self, "training-job", "*")),
            wildcard_resource(policy, job_arn),
            *([wildcard_resource(policy, _sagemaker_arn(self, "model-package", f"{group}/*"))] if group else []),
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


def check_pipeline_props(problems: Problems, options: TrainingPipelineOptions) -> None:
    """Every rule on :class:`TrainingPipeline` props, recorded in ``problems`` under the props' names
    (shared by the construct and the config schema; omitted options take the constructor's defaults)."""
    pipeline_name = options["pipeline_name"]
    instance_type = options["instance_type"]
    instance_count = options.get("instance_count", 1)
    distribution = options.get("distribution")
    entry_point = options.get("entry_point")
    channels = options.get("channels")
    input_prefix = options.get("input_prefix")
    model_package_group = options.get("model_package_group")
    inference_image = options.get("inference_image")
    metric_definitions = options.get("metric_definitions", ())
    max_runtime_s = (options.get("max_runtime") or DEFAULT_MAX_RUNTIME).to_seconds()
    managed_spot = options.get("managed_spot")
    max_wait_s = managed_spot.max_wait.to_seconds() if managed_spot else None
    volume_size_gb = (options.get("volume_size") or DEFAULT_VOLUME_SIZE).to_gibibytes()
    jm.check_metric_definitions(problems, list(metric_definitions))
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
    check_distribution(
        problems,
        distribution=distribution,
        instance_type=instance_type if instance_type in types else "",
        entry_point=entry_point,
    )
    check_entry_point(problems, entry_point)
    if channels is not None:
        check_channels(problems, list(channels))
        if input_prefix is not None:
            problems.add("input_prefix", input_prefix, "unset with channels (give each channel its s3_prefix)")
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
    if model_package_group is not None:
        problems.check(
            isinstance(model_package_group, str) and bool(limits.NAME_PATTERN.match(model_package_group)),
            "model_package_group",
            model_package_group,
            limits.NAME_RULE,
        )
        problems.check(
            isinstance(inference_image, str) and bool(inference_image),
            "inference_image",
            inference_image,
            "the serving image of the registered model (an ECR image URI), required with model_package_group: "
            "the training image does not serve",
        )
    elif inference_image is not None:
        problems.add("inference_image", inference_image, "only with model_package_group (nothing is registered)")
