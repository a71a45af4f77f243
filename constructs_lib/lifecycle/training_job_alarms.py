"""``TrainingJobAlarms``: each running job of the platform's training pipelines gets its own alarms, created
when the job is ``InProgress`` and deleted when it ends (the ``training_job_alarms`` function)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import job_alarm_requests as ja
from .. import sagemaker_events as ev
from ..compliance import acknowledge
from ..errors import Problems
from ..limits import LAMBDA_ENVIRONMENT_MAX_BYTES
from ._wiring import (
    METRICS_NAMESPACE,
    acknowledge_wildcards,
    add_function_target,
    dead_letter_queue,
    json_environment,
    sagemaker_arn,
)
from .events import on_schedule, on_training_jobs_named
from .reliable_function import ReliableFunction, environment_size

# Statuses the function acts on: InProgress creates a job's alarms, the others delete them.
STATUSES = (ev.TrainingJobStatus.IN_PROGRESS, *ev.TRAINING_JOB_ENDING)
DEFAULT_SWEEP = Duration.hours(1)
CLEANUP_RESOURCE_TYPE = "Custom::TrainingJobAlarmsCleanup"
# How long CloudFormation waits for the cleanup's answer (ServiceTimeout, 1-3600 s, default 3600: User Guide,
# "CloudFormation custom resource request and response reference"): the function's 120 s timeout and
# Lambda's two retries of a failed asynchronous invocation (about 1 and 2 minutes apart) fit in it.
CLEANUP_TIMEOUT = Duration.minutes(10)
# The alarm settings may take the function's environment (Lambda's quota) but for what the other
# variables of a ReliableFunction take (about 150 bytes).
_OTHER_VARIABLES_BYTES = 200
ENVIRONMENT_BUDGET = LAMBDA_ENVIRONMENT_MAX_BYTES - _OTHER_VARIABLES_BYTES


def settings_size(pipelines: Sequence[ja.PipelineJobAlarms], topics: Mapping[str, sns.ITopic]) -> int:
    """Bytes the ``JOB_ALARMS`` variable of one function for ``pipelines`` takes, measured as every
    function environment is (``environment_size``: a topic ARN resolved at deploy as ``TOKEN_ALLOWANCE``)."""
    config = ja.JobAlarmsConfig(
        pipelines=tuple(pipelines), topics={s: t.topic_arn for s, t in topics.items() if s in ja.SEVERITIES}
    )
    return environment_size({ja.ENVIRONMENT_VARIABLE: json.dumps(config.to_json(), separators=(",", ":"))})


def pack_pipelines(
    pipelines: Sequence[ja.PipelineJobAlarms], topics: Mapping[str, sns.ITopic]
) -> list[list[ja.PipelineJobAlarms]]:
    """``pipelines`` in their order, in as few consecutive groups as fit one function's environment each
    (about ten pipelines per group): one :class:`TrainingJobAlarms` per group."""
    groups: list[list[ja.PipelineJobAlarms]] = []
    for spec in pipelines:
        if groups and settings_size([*groups[-1], spec], topics) <= ENVIRONMENT_BUDGET:
            groups[-1].append(spec)
        else:
            groups.append([spec])
    return groups


class TrainingJobAlarms(Construct):
    """One rule on ``SageMaker Training Job State Change`` of the pipelines' jobs (``<pipeline>-`` name
    prefixes), one hourly sweep rule, and the ``training_job_alarms`` function behind both
    (:mod:`constructs_lib.job_alarm_requests` says which alarms a job gets). Exposes ``rule``,
    ``sweep_rule``, ``handler`` (:class:`ReliableFunction`), ``dead_letter_queue`` and ``cleanup``.

    ``cleanup`` (``Custom::TrainingJobAlarmsCleanup``, served by the same function: ``ServiceToken`` is its
    ARN, property ``AlarmPrefixes``) deletes every alarm of the pipelines when it is deleted, with the stack
    or the construct; its Create and Update do nothing. Delete order: both rules depend on it
    (``DependsOn``) and it references the function (``Fn::GetAtt``), so CloudFormation deletes the rules,
    then the cleanup, then the function and its role policy ("Resource A is deleted before resource B"
    when A references B, and ``DependsOn`` declares resources "that must be created or deleted in a
    specific order": CloudFormation Template Reference, "DependsOn attribute"): no new event re-creates an
    alarm after the cleanup, and the function still may delete alarms while it runs. What remains: an
    event EventBridge already handed to Lambda (asynchronous invocations are queued, and retried) can
    still be processed between the cleanup's deletion and the function's; that window is the time
    CloudFormation takes to delete the function after the cleanup, which AWS does not bound.

    The function may put and delete alarms only under the pipelines' alarm prefixes
    (``arn:<partition>:cloudwatch:<region>:<account>:alarm:<alarm_prefix>*``), with alarm actions
    limited to the severity topics (condition key ``cloudwatch:AlarmActions``), and describe only the
    pipelines' training jobs (the Service Authorization Reference, "Actions, resources, and condition keys
    for Amazon CloudWatch", gives DeleteAlarms the ``alarm*`` resource type). ``cloudwatch:DescribeAlarms``
    (read-only) is granted on ``*``: a request by ``AlarmNamePrefix`` names no alarm ARN, and the
    DescribeAlarms API reference only says that composite alarms need the permission "scoped to *";
    whether a narrower resource works for a prefix listing is not documented in what we could read.

    :param pipelines: one :class:`job_alarm_requests.PipelineJobAlarms` per pipeline
        (``TrainingPipelineMonitoring.job_alarms``).
    :param topics: severity (``"critical"``, ``"warning"``) -> the SNS topic its alarms notify.
    :param key: encrypts the function's queues, logs and environment.
    :param sweep_every: default one hour: how often leaked alarms of ended jobs are looked for.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipelines: Sequence[ja.PipelineJobAlarms],
        topics: Mapping[str, sns.ITopic],
        key: kms.IKey,
        sweep_every: Duration = DEFAULT_SWEEP,
        metrics_namespace: str = METRICS_NAMESPACE,
    ) -> None:
        super().__init__(scope, id)
        p = Problems(f"TrainingJobAlarms {self.node.path}")
        p.check(bool(pipelines), "pipelines", list(pipelines), "at least one pipeline")
        limit = ja.max_alarm_prefix_chars()
        names: dict[str, int] = {}
        for i, spec in enumerate(pipelines):
            p.check(
                0 < len(spec.alarm_prefix) <= limit, f"pipelines[{i}].alarm_prefix", spec.alarm_prefix,
                f"1-{limit} characters (job alarm names add the job name and up to {len(ja.LONGEST_SUFFIX)} "
                f"characters; PutMetricAlarm AlarmName is at most {ja.ALARM_NAME_MAX})",
            )
            if spec.pipeline in names:
                p.add(f"pipelines[{i}].pipeline", spec.pipeline, f"a unique pipeline (pipelines[{names[spec.pipeline]}] has it)")
            names.setdefault(spec.pipeline, i)
            for j, other in enumerate(pipelines):
                if j != i and spec.alarm_prefix.startswith(other.alarm_prefix):
                    p.add(f"pipelines[{i}].alarm_prefix", spec.alarm_prefix,
                          f"a prefix that does not start with pipelines[{j}]'s ({other.alarm_prefix}): each "
                          "pipeline's sweep deletes the alarms under its prefix")
        for severity in topics:
            p.check(severity in ja.SEVERITIES, "topics", severity, f"one of {', '.join(ja.SEVERITIES)}")
        config = ja.JobAlarmsConfig(
            pipelines=tuple(pipelines), topics={s: t.topic_arn for s, t in topics.items() if s in ja.SEVERITIES}
        )
        estimate = settings_size(pipelines, topics)
        p.check(
            estimate <= ENVIRONMENT_BUDGET, "pipelines", f"{len(pipelines)} pipelines",
            f"fewer: their alarm settings (about {estimate} bytes) must fit the function's environment "
            f"(Lambda: {LAMBDA_ENVIRONMENT_MAX_BYTES} bytes in all); split them with pack_pipelines",
        )
        p.raise_if_any()

        self.handler = ReliableFunction(
            self, "Handler",
            code_name="training_job_alarms",
            description="Creates a running training job's alarms and deletes them when the job ends",
            key=key,
            environment={ja.ENVIRONMENT_VARIABLE: json_environment(self, config.to_json())},
            timeout=Duration.seconds(120),
            reserved_concurrency=2,
            metrics_namespace=metrics_namespace,
        )
        stack = Stack.of(self)
        alarm_arns = [
            stack.format_arn(service="cloudwatch", resource="alarm", resource_name=f"{spec.alarm_prefix}*",
                             arn_format=ArnFormat.COLON_RESOURCE_NAME)
            for spec in pipelines
        ]
        topic_arns = sorted({t.topic_arn for t in topics.values()}, key=str)
        self.handler.add_to_role_policy(iam.PolicyStatement(
            sid="PutJobAlarms", actions=["cloudwatch:PutMetricAlarm"], resources=alarm_arns,
            # Alarm actions only to the severity topics ("Using condition keys to limit alarm actions").
            conditions={"ForAllValues:StringEquals": {"cloudwatch:AlarmActions": topic_arns}} if topic_arns else None,
        ))
        self.handler.add_to_role_policy(iam.PolicyStatement(
            sid="DeleteJobAlarms", actions=["cloudwatch:DeleteAlarms"], resources=alarm_arns,
        ))
        self.handler.add_to_role_policy(iam.PolicyStatement(
            sid="ListJobAlarms", actions=["cloudwatch:DescribeAlarms"], resources=["*"],
        ))
        job_arns = [sagemaker_arn(self, "training-job", f"{spec.job_name_prefix}*") for spec in pipelines]
        self.handler.add_to_role_policy(iam.PolicyStatement(
            sid="DescribePipelineJobs", actions=["sagemaker:DescribeTrainingJob"], resources=job_arns,
        ))
        acknowledge_wildcards(
            self.handler,
            "Job names carry a UUID per execution and job alarm names the job name: the pipelines' jobs "
            "(training-job/<pipeline>-*) and their alarms (alarm:<alarm prefix>*) are named by prefix.",
            *alarm_arns, *job_arns,
        )
        acknowledge(
            self.handler.role,
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; "
            "cloudwatch:DescribeAlarms (read-only) lists alarms by name prefix, which names no alarm ARN.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        self.dead_letter_queue = dead_letter_queue(self, key)
        self.rule = on_training_jobs_named(
            self, "Rule", name_prefixes=[spec.job_name_prefix for spec in pipelines], statuses=STATUSES,
            description="Training jobs of the platform's pipelines: running jobs get alarms, ended jobs lose them",
        )
        add_function_target(self.rule, self.handler, self.dead_letter_queue)
        self.sweep_rule = on_schedule(
            self, "Sweep", every=sweep_every,
            description="Deletes alarms left behind by training jobs that ended (a lost event)",
        )
        add_function_target(self.sweep_rule, self.handler, self.dead_letter_queue)
        # CloudFormation invokes a Lambda-backed custom resource asynchronously with the request (Lambda
        # Developer Guide, "Using AWS Lambda with CloudFormation"); the handler answers on its ResponseURL.
        self.cleanup = CustomResource(
            self, "Cleanup",
            service_token=self.handler.function.function_arn,
            resource_type=CLEANUP_RESOURCE_TYPE,
            properties={"AlarmPrefixes": [spec.alarm_prefix for spec in pipelines]},
            service_timeout=CLEANUP_TIMEOUT,
        )
        # Dependents are deleted first: the rules go before the cleanup runs (see the class docstring).
        self.rule.node.add_dependency(self.cleanup)
        self.sweep_rule.node.add_dependency(self.cleanup)

