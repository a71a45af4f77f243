"""The alarms of one running SageMaker training job, as ``PutMetricAlarm`` requests: one schema for the
construct that configures them and the handler that creates and deletes them.

``constructs_lib.observability.TrainingPipelineMonitoring`` builds a :class:`PipelineJobAlarms` per
pipeline; ``constructs_lib.lifecycle.TrainingJobAlarms`` writes them (with the severity topics) into the
``JOB_ALARMS`` environment of ``lambda/training_job_alarms``, which reads them back with
:func:`parse_environment` and calls :func:`alarm_requests` for each job that is ``InProgress``. Like
``sagemaker_events.py``, this module is copied next to the handler in its asset
(``constructs_lib.functions_code.SHARED_SCHEMAS``), so it imports nothing but the standard library and
``sagemaker_events`` (copied next to it too).

Why per-job alarms: a job's metrics carry its name in their dimensions (``TrainingJobName = <job>``,
``Host = <job>/algo-<n>``: SageMaker Developer Guide, "Amazon SageMaker AI metrics in Amazon
CloudWatch" and "Amazon CloudWatch Metrics for Monitoring and Analyzing Training Jobs"), a new name per
execution. A static alarm names exact dimension values only; the Metrics Insights ``WHERE`` clause is
documented with ``=``, ``!=`` and ``AND`` only (CloudWatch User Guide, "Metrics Insights query
components and syntax": no prefix operator), and a ``SEARCH`` expression cannot back an alarm ("Use
search expressions in graphs"). So each job gets alarms with its exact dimension values while it runs.

Limits (pinned botocore ``cloudwatch/2010-08-01``, CloudWatch User Guide): ``AlarmName`` 1-255
characters; ``AlarmDescription`` at most 1024; ``AlarmActions`` at most 5; ``DeleteAlarms`` at most 100
names per call; ``DescribeAlarms`` ``MaxRecords`` 1-100; "A math expression used for an alarm can include
as many as 10 metrics" ("Alarm data queries", metric math): a job's hosts are therefore alarmed in groups
of at most :data:`HOSTS_PER_ALARM` (one alarm per group and signal), up to :data:`MAX_HOSTS` hosts.
The expressions use arithmetic and comparison operators only, which work point by point; missing values
count as 0 there ("Metric math syntax and functions"): a host that publishes nothing lowers its group's
mean GPU utilization (it is paid for and idle). The guide advises against ``AVG``/``MAX`` in alarms.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

try:  # in constructs_lib
    from .sagemaker_events import NAME_PATTERN
except ImportError:  # in a function asset, where both files sit next to the handler
    from sagemaker_events import NAME_PATTERN

ENVIRONMENT_VARIABLE = "JOB_ALARMS"

NAMESPACE = "/aws/sagemaker/TrainingJobs"
HOST_DIMENSION = "Host"
JOB_DIMENSION = "TrainingJobName"
GPU_UTILIZATION = "GPUUtilization"
DISK_UTILIZATION = "DiskUtilization"
# SageMaker names a job's hosts algo-1 ... algo-N (Host = <job>/algo-<n>).
HOST_PREFIX = "algo-"

PERIOD_S = 300  # every job alarm evaluates 5-minute periods
DISK_PERIODS = 3  # disk filling: 15 minutes
HOSTS_PER_ALARM = 10  # metrics in one alarm's math expression
MAX_HOSTS = 100  # hosts alarmed per job (10 groups); a larger job is alarmed on algo-1 ... algo-100
ALARM_NAME_MAX = 255
DESCRIPTION_MAX = 1024
DELETE_BATCH = 100

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)

STALLED = "stalled"
GPU_UNDERUSED = "gpu-underused"
DISK = "disk"
# The longest suffix a job alarm name gets after "<alarm_prefix><job>": "/gpu-underused-warning-hosts-91-100".
LONGEST_SUFFIX = f"/{GPU_UNDERUSED}-{WARNING}-hosts-{MAX_HOSTS - HOSTS_PER_ALARM + 1}-{MAX_HOSTS}"
JOB_NAME_MAX = 63  # CreateTrainingJob TrainingJobName


@dataclass(frozen=True)
class PipelineJobAlarms:
    """The alarms every running job of one training pipeline gets.

    :param pipeline: the pipeline's name; its jobs are named ``<pipeline>-<uuid>``.
    :param alarm_prefix: every job alarm's name starts with it (``<monitoring prefix>-job/``): the IAM
        policy of the handler is scoped to it, and the sweep lists the pipeline's alarms by it.
    :param dashboard: the pipeline's dashboard, named in the descriptions.
    :param progress_metric: algorithm metric whose absence for ``stall_periods`` periods is a stall
        (critical); ``None``: no stall alarm.
    :param gpu_threshold: mean ``GPUUtilization`` of a host group below which the job's GPUs are
        under-used (warning), in SageMaker's unit (summed over the instance's GPUs); ``None``: no alarm.
    :param gpu_floor_percent: the same threshold per GPU, for the description.
    :param gpus: GPUs per instance, for the description.
    :param disk_percent: severity -> ``DiskUtilization`` threshold of the fullest host.
    """

    pipeline: str
    alarm_prefix: str
    dashboard: str
    progress_metric: str | None = None
    stall_periods: int = 6
    gpu_threshold: float | None = None
    gpu_floor_percent: float | None = None
    gpus: int = 0
    gpu_periods: int = 6
    disk_percent: dict[str, float] = field(default_factory=dict)

    @property
    def job_name_prefix(self) -> str:
        return f"{self.pipeline}-"

    def matches(self, job: str) -> bool:
        return job.startswith(self.job_name_prefix) and len(job) > len(self.job_name_prefix)

    def job_prefix(self, job: str) -> str:
        """Names of ``job``'s alarms start with this (``/`` is in no job name: no other job's alarm does)."""
        return f"{self.alarm_prefix}{job}/"

    def job_of(self, alarm_name: str) -> str | None:
        """The job an alarm of this pipeline belongs to, from its name."""
        if not alarm_name.startswith(self.alarm_prefix):
            return None
        job = alarm_name[len(self.alarm_prefix):].split("/", 1)[0]
        return job if NAME_PATTERN.match(job) else None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PipelineJobAlarms:
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)


@dataclass(frozen=True)
class JobAlarmsConfig:
    """``JOB_ALARMS``: the severity topics (severity -> SNS topic ARN) and every pipeline's alarms."""

    pipelines: tuple[PipelineJobAlarms, ...]
    topics: dict[str, str] = field(default_factory=dict)

    def pipeline_of(self, job: str) -> PipelineJobAlarms | None:
        """The pipeline whose jobs ``job`` is one of (the longest matching name: the config refuses a
        pipeline name that extends another's with a hyphen, so at most one matches)."""
        found = [p for p in self.pipelines if p.matches(job)]
        return max(found, key=lambda p: len(p.pipeline)) if found else None

    def to_json(self) -> dict[str, Any]:
        return {"topics": dict(self.topics), "pipelines": [p.to_json() for p in self.pipelines]}


def parse_environment(text: str) -> JobAlarmsConfig:
    """``JOB_ALARMS`` as written by the construct; raises ``ValueError`` when it is not."""
    try:
        raw = json.loads(text or "{}")
        return JobAlarmsConfig(
            pipelines=tuple(PipelineJobAlarms.from_json(p) for p in raw.get("pipelines", [])),
            topics={str(k): str(v) for k, v in raw.get("topics", {}).items()},
        )
    except (TypeError, AttributeError, json.JSONDecodeError) as e:
        raise ValueError(f"{ENVIRONMENT_VARIABLE} is not the JSON the construct writes: {e}") from e


def host_value(job: str, n: int) -> str:
    """The ``Host`` dimension value of host ``n`` (1-based) of ``job``."""
    return f"{job}/{HOST_PREFIX}{n}"


def host_groups(hosts: int) -> list[tuple[int, int]]:
    """(first, last) host numbers of each alarmed group: ``[(1, 10), (11, 20), ...]``, at most MAX_HOSTS."""
    alarmed = min(max(hosts, 0), MAX_HOSTS)
    return [(first, min(first + HOSTS_PER_ALARM - 1, alarmed)) for first in range(1, alarmed + 1, HOSTS_PER_ALARM)]


def alarm_name(spec: PipelineJobAlarms, job: str, signal: str, severity: str, hosts: tuple[int, int] | None = None) -> str:
    """``<alarm_prefix><job>/<signal>-<severity>[-hosts-<first>-<last>]``."""
    suffix = f"-hosts-{hosts[0]}-{hosts[1]}" if hosts is not None else ""
    return f"{spec.job_prefix(job)}{signal}-{severity}{suffix}"


def _description(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "\u2026"


def _actions(topics: dict[str, str], severity: str) -> dict[str, Any]:
    topic = topics.get(severity)
    return {"AlarmActions": [topic]} if topic else {}


def _host_metrics(job: str, metric: str, group: tuple[int, int]) -> list[dict[str, Any]]:
    return [
        {
            "Id": f"m{n}",
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric,
                           "Dimensions": [{"Name": HOST_DIMENSION, "Value": host_value(job, n)}]},
                "Period": PERIOD_S,
                "Stat": "Maximum" if metric == DISK_UTILIZATION else "Average",
            },
            "ReturnData": False,
        }
        for n in range(group[0], group[1] + 1)
    ]


def _over_hosts(metrics: list[dict[str, Any]], expression: str, label: str) -> list[dict[str, Any]]:
    """The hosts' metrics (not returned) and the expression over them that the alarm watches."""
    return [*metrics, {"Id": "e", "Expression": expression, "Label": label, "ReturnData": True}]


def alarm_requests(spec: PipelineJobAlarms, job: str, hosts: int, topics: dict[str, str]) -> list[dict[str, Any]]:
    """Every ``PutMetricAlarm`` request of ``job`` (a job of ``spec.pipeline`` with ``hosts`` instances)."""
    look = f"Look first at: the job's logs in /aws/sagemaker/TrainingJobs and the dashboard {spec.dashboard}."
    requests: list[dict[str, Any]] = []
    if spec.progress_metric is not None:
        minutes = spec.stall_periods * PERIOD_S // 60
        requests.append({
            "AlarmName": alarm_name(spec, job, STALLED, CRITICAL),
            "AlarmDescription": _description(
                f"Training job {job} (pipeline {spec.pipeline}) is stalled: no {spec.progress_metric} datapoint for "
                f"{minutes} minutes since the job started or last logged it (missing data breaches; the alarm "
                f"exists only while the job is InProgress, so the first {minutes} minutes are its start-up "
                f"allowance). {look} A hang in a collective or the data loader: stop the job if it does not recover."
            ),
            **_actions(topics, CRITICAL),
            "Namespace": NAMESPACE,
            "MetricName": spec.progress_metric,
            "Dimensions": [{"Name": JOB_DIMENSION, "Value": job}],
            "Statistic": "SampleCount",
            "Period": PERIOD_S,
            "EvaluationPeriods": spec.stall_periods,
            "DatapointsToAlarm": spec.stall_periods,
            "Threshold": 1.0,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching",
        })
    for group in host_groups(hosts):
        count = group[1] - group[0] + 1
        ids = [f"m{n}" for n in range(group[0], group[1] + 1)]
        where = f"hosts algo-{group[0]}..algo-{group[1]} of training job {job} (pipeline {spec.pipeline})"
        if spec.gpu_threshold is not None:
            minutes = spec.gpu_periods * PERIOD_S // 60
            requests.append({
                "AlarmName": alarm_name(spec, job, GPU_UNDERUSED, WARNING, group),
                "AlarmDescription": _description(
                    f"Mean GPU utilization of {where} below {spec.gpu_floor_percent:g} % per GPU "
                    f"({spec.gpu_threshold:g} % summed over {spec.gpus} GPUs) for {minutes} minutes: paying for "
                    f"idle GPUs. {look} Input pipeline, batch size, a straggler host."
                ),
                **_actions(topics, WARNING),
                "Metrics": _over_hosts(
                    _host_metrics(job, GPU_UTILIZATION, group), f"({' + '.join(ids)}) / {count}",
                    "mean GPUUtilization (summed over GPUs)",
                ),
                "EvaluationPeriods": spec.gpu_periods,
                "DatapointsToAlarm": spec.gpu_periods,
                "Threshold": float(spec.gpu_threshold),
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "notBreaching",
            })
        for severity in SEVERITIES:
            threshold = spec.disk_percent.get(severity)
            if threshold is None:
                continue
            requests.append({
                "AlarmName": alarm_name(spec, job, DISK, severity, group),
                "AlarmDescription": _description(
                    f"A storage volume of {where} is >= {threshold:g} % full for {DISK_PERIODS * PERIOD_S // 60} "
                    f"minutes. {look} Checkpoints, logs or cached datasets; raise volume_size_gb."
                ),
                **_actions(topics, severity),
                # Hosts at or above the threshold (comparison and arithmetic operators, point by point):
                # the metric math guide advises against MAX/AVG of arrays in alarms.
                "Metrics": _over_hosts(
                    _host_metrics(job, DISK_UTILIZATION, group),
                    " + ".join(f"({i} >= {threshold:g})" for i in ids), f"hosts at or above {threshold:g} %",
                ),
                "EvaluationPeriods": DISK_PERIODS,
                "DatapointsToAlarm": DISK_PERIODS,
                "Threshold": 1.0,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
            })
    return requests


def max_alarm_prefix_chars() -> int:
    """The longest alarm prefix with which every job alarm name fits in ALARM_NAME_MAX characters."""
    return ALARM_NAME_MAX - JOB_NAME_MAX - len(LONGEST_SUFFIX)


__all__ = [
    "ENVIRONMENT_VARIABLE",
    "HOSTS_PER_ALARM",
    "MAX_HOSTS",
    "JobAlarmsConfig",
    "PipelineJobAlarms",
    "alarm_name",
    "alarm_requests",
    "host_groups",
    "host_value",
    "max_alarm_prefix_chars",
    "parse_environment",
]
