"""Metrics of SageMaker training jobs and of the pipelines that start them: one vocabulary.

Every namespace, metric name, dimension, unit and query the pipeline's ``metric_*`` helpers, the
training dashboards, the alarms and the tests use is defined here, once.

Sources (AWS's own word):

* **Host metrics**, SageMaker Developer Guide, "Amazon SageMaker AI metrics in Amazon CloudWatch"
  (``monitoring-cloudwatch``), section "Processing Job, Training Job, Batch Transform Job, and Endpoint
  Instance Metrics": namespace ``/aws/sagemaker/TrainingJobs``, dimension ``Host`` with the value
  ``[training-job-name]/algo-[instance-number-in-cluster]``, metrics ``CPUUtilization``,
  ``MemoryUtilization``, ``GPUUtilization``, ``GPUMemoryUtilization``, ``DiskUtilization`` (unit
  Percent). ``CPUUtilization`` is the *sum* over the instance's cores (0-100 x cores) and
  ``GPUUtilization`` / ``GPUMemoryUtilization`` are 0-100 *multiplied by the number of GPUs*;
  memory and disk are 0-100. :func:`per_device_threshold` and :func:`per_device_expression` convert.
* **Algorithm metrics**, SageMaker Developer Guide, "Amazon CloudWatch Metrics for Monitoring and
  Analyzing Training Jobs" (``training-metrics``): SageMaker parses the job's logs with the
  ``AlgorithmSpecification.MetricDefinitions`` regexes and publishes each match to
  ``/aws/sagemaker/TrainingJobs`` under the metric's ``Name``, dimension ``TrainingJobName``
  ("Choose Metrics, then /aws/sagemaker/TrainingJobs. Choose TrainingJobName."). Limits from the
  pinned botocore model (``sagemaker/2017-07-24``): ``MetricDefinitionList`` 0-40 entries,
  ``MetricName`` 1-255 characters, ``MetricRegex`` 1-500. ``EnableSageMakerMetricsTimeSeries``
  (``AlgorithmSpecification``) keeps the time series of those metrics (botocore documentation).
* **Step Functions**, AWS Step Functions Developer Guide, "Monitoring Step Functions metrics using
  Amazon CloudWatch": namespace ``AWS/States``, dimension ``StateMachineArn``, ``ExecutionsStarted``,
  ``ExecutionsSucceeded``, ``ExecutionsFailed``, ``ExecutionsTimedOut``, ``ExecutionsAborted``
  (counts, Sum) and ``ExecutionTime`` (milliseconds); aws-cdk-lib's ``StateMachine.metric_*`` render
  exactly these.

Training job names change with every execution (``<pipeline>-<uuid>``), so no static alarm can name
a job's dimension values, and nothing here depends on an operator AWS does not document:

* **Alarms** are created per job, with the job's exact dimension values, while it runs
  (:mod:`constructs_lib.job_alarm_requests`, ``lambda/training_job_alarms``). The Metrics Insights
  ``WHERE`` clause is documented with ``=``, ``!=`` and ``AND`` only (CloudWatch User Guide, "Metrics
  Insights query components and syntax"), so it cannot select "the jobs of a pipeline".
* **Dashboards** use metric math ``SEARCH`` expressions (CloudWatch User Guide, "CloudWatch search
  expression syntax"; a ``SEARCH`` cannot back an alarm): ``{"/aws/sagemaker/TrainingJobs",Host}
  MetricName="GPUUtilization" Host=<pipeline>``. ``Host=<pipeline>`` is a *partial match*: CloudWatch
  splits names and search terms into tokens (non-alphanumeric characters delimit, camel-case capitals
  and numbers start new tokens, tokens are lower case) and a term of several tokens (``llm-finetune``)
  matches those tokens in that order anywhere in the value (``llm-finetune-<uuid>/algo-1``; sections
  "Tokenization", "Partial matches", "Non-alphanumeric characters"). An exact match (double quotes) must
  equal the whole value, so it cannot select a prefix. :func:`search_may_match` is the resulting rule:
  the config refuses two pipelines whose searches would show each other's jobs. A job started outside
  the platform whose name contains a pipeline's tokens in order shows on that pipeline's dashboard too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from constructs_lib import job_alarm_requests as _requests
from constructs_lib.errors import Problems
from constructs_lib.limits import has_nvidia_gpus

# Written once in the standard-library module the job-alarms function ships with.
NAMESPACE = _requests.NAMESPACE
STATES_NAMESPACE = "AWS/States"
# SageMaker names a job's hosts algo-1 ... algo-N (Host = <job>/algo-<n>).
HOST_PREFIX = _requests.HOST_PREFIX
# SageMaker publishes host metrics every minute (same guide: "Metrics are available at a 1-minute frequency").
HOST_METRIC_PERIOD_S = 60


class Dimension:
    HOST = _requests.HOST_DIMENSION
    TRAINING_JOB_NAME = _requests.JOB_DIMENSION
    STATE_MACHINE_ARN = "StateMachineArn"


class HostMetric(str, Enum):
    """Per-host metrics of ``/aws/sagemaker/TrainingJobs`` (dimension ``Host``)."""

    CPU_UTILIZATION = "CPUUtilization"
    MEMORY_UTILIZATION = "MemoryUtilization"
    GPU_UTILIZATION = _requests.GPU_UTILIZATION
    GPU_MEMORY_UTILIZATION = "GPUMemoryUtilization"
    DISK_UTILIZATION = _requests.DISK_UTILIZATION

    @property
    def summed_over_gpus(self) -> bool:
        """0-100 x the number of GPUs (the guide: "multiplied by the number of GPUs")."""
        return self in (HostMetric.GPU_UTILIZATION, HostMetric.GPU_MEMORY_UTILIZATION)

    @property
    def summed_over_cores(self) -> bool:
        """0-100 x the number of CPU cores ("The sum of each individual CPU core's utilization")."""
        return self is HostMetric.CPU_UTILIZATION


# Units as SageMaker reports them (labels; CloudWatch keeps the unit of the datapoints).
HOST_METRIC_UNIT = "Percent"


class ExecutionMetric(str, Enum):
    """``AWS/States`` metrics of a state machine (dimension ``StateMachineArn``)."""

    STARTED = "ExecutionsStarted"
    SUCCEEDED = "ExecutionsSucceeded"
    FAILED = "ExecutionsFailed"
    TIMED_OUT = "ExecutionsTimedOut"
    ABORTED = "ExecutionsAborted"
    TIME = "ExecutionTime"  # milliseconds


EXECUTION_TIME_UNIT = "Milliseconds"
MS_PER_MINUTE = 60_000


# -- metric definitions ------------------------------------------------------------------------------
MAX_METRIC_DEFINITIONS = 40  # botocore MetricDefinitionList max
METRIC_NAME_MAX = 255  # botocore MetricName
METRIC_REGEX_MAX = 500  # botocore MetricRegex
# The API accepts any non-empty name (pattern ".+"); the name also becomes a CloudWatch metric name
# inside dashboard SEARCH expressions (an exact match in double quotes, the expression in single
# quotes) and alarm requests: no quotes, backslashes, parentheses, spaces or control characters. SageMaker's own built-ins fit (train:error, validation:accuracy).
METRIC_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.:/#%+-]{1,255}$")
METRIC_NAME_RULE = "1-255 letters, digits and _ . : / # % + - (no quotes or spaces: it is a CloudWatch metric name)"


@dataclass(frozen=True, kw_only=True)
class MetricDefinition:
    """An algorithm metric SageMaker parses from the job's logs (``AlgorithmSpecification.MetricDefinitions``).

    :param name: the CloudWatch metric name, e.g. ``train_loss``.
    :param regex: a regular expression whose first capture group is the value, e.g. ``loss=([0-9\\.]+)``.
    """

    name: str
    regex: str

    def request(self) -> dict[str, str]:
        return {"Name": self.name, "Regex": self.regex}


def check_metric_definitions(problems: Problems, definitions: Sequence[MetricDefinition], key: str = "metric_definitions") -> None:
    """Every rule on metric definitions: count, name characters and length, unique names, regex length,
    that it compiles (Python ``re``: SageMaker's engine is not documented; a regex Python refuses is
    almost certainly wrong) and that it captures the value in a group."""
    problems.check(
        len(definitions) <= MAX_METRIC_DEFINITIONS, key, f"{len(definitions)} definitions",
        f"at most {MAX_METRIC_DEFINITIONS} (CreateTrainingJob MetricDefinitions)",
    )
    seen: dict[str, int] = {}
    for i, d in enumerate(definitions):
        where = f"{key}[{i}]"
        if not problems.check(
            isinstance(d.name, str) and bool(METRIC_NAME_PATTERN.match(d.name)), f"{where}.name", d.name, METRIC_NAME_RULE
        ):
            continue
        if d.name in seen:
            problems.add(f"{where}.name", d.name, f"a unique name ({key}[{seen[d.name]}] has it)")
        seen.setdefault(d.name, i)
        regex = d.regex
        if not problems.check(
            isinstance(regex, str) and 1 <= len(regex) <= METRIC_REGEX_MAX, f"{where}.regex", regex,
            f"1-{METRIC_REGEX_MAX} characters",
        ):
            continue
        try:
            groups = re.compile(regex).groups
        except re.error as e:
            problems.add(f"{where}.regex", regex, f"a regular expression that compiles ({e})")
            continue
        problems.check(
            groups >= 1, f"{where}.regex", regex,
            "a capture group around the value, e.g. loss=([0-9\\.]+) (SageMaker publishes the first group)",
        )


# -- dashboard search expressions -------------------------------------------------------------------
def job_name_prefix(pipeline_name: str) -> str:
    """Every job of the pipeline is named ``<pipeline>-<uuid>`` (the alarms' EventBridge rule selects them by it)."""
    return f"{pipeline_name}-"


def search_expression(metric_name: str, dimension: str, pipeline_name: str, statistic: str, period_s: int) -> str:
    """``SEARCH('{"/aws/sagemaker/TrainingJobs",<dimension>} MetricName="<metric>" <dimension>=<pipeline>',
    '<statistic>', <period>)``: one series per value of ``dimension`` (host or job) that contains the
    pipeline's name tokens in order (see the module docstring). Namespaces with ``/`` are double-quoted
    in the schema; metric names are exact matches (double-quoted; :data:`METRIC_NAME_PATTERN` admits none
    of the characters an exact match must escape: ``" \\ ( )``); pipeline names are letters, digits and hyphens."""
    schema = "{" + _quoted(NAMESPACE) + "," + dimension + "}"
    return (
        f"SEARCH('{schema} MetricName={_quoted(metric_name)} {dimension}={pipeline_name}', "
        f"'{statistic}', {period_s})"
    )


def _quoted(identifier: str) -> str:
    return '"' + identifier + '"'


_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# Tokens the rest of a job's Host value can produce: the execution UUID (hex letters and digits) and
# "/algo-<n>".
_SUFFIX_TOKEN = re.compile(r"^([a-f]+|[0-9]+|algo)$")


def search_tokens(text: str) -> list[str]:
    """The single tokens CloudWatch search makes of ``text``, lower case ("CloudWatch search expressions:
    Tokenization": ``Project2-trial333`` -> project, 2, trial, 333; ``SDBFailure`` -> sdb, failure).
    Whether a digit followed by letters starts a new token is not said; it is split here, which can only
    find more collisions, never fewer."""
    return [t.lower() for t in _TOKEN.findall(text)]


def search_matches_any_job(pipeline_name: str) -> bool:
    """Whether every search token of the name could come from any job's id or host suffix (hex letters,
    numbers, ``algo``): ``Host=<name>`` would then match jobs of every pipeline."""
    tokens = search_tokens(pipeline_name)
    return not tokens or all(_SUFFIX_TOKEN.match(t) for t in tokens)


def search_may_match(pipeline_name: str, other_pipeline: str) -> bool:
    """Whether ``Host=<pipeline_name>`` (partial match) may match a host of ``other_pipeline``'s jobs
    (``<other>-<uuid>/algo-<n>``): the pipeline's tokens occur in order in the other's name tokens, the
    run possibly going on into the job id and host suffix. Compared in lower case (single-token matches
    ignore case). A name made only of suffix-like tokens (hex letters, numbers, ``algo``) matches any job."""
    mine, theirs = search_tokens(pipeline_name), search_tokens(other_pipeline)
    if search_matches_any_job(pipeline_name):
        return True
    for start in range(len(theirs)):
        if all(
            (start + i < len(theirs) and theirs[start + i] == token)
            or (start + i >= len(theirs) and bool(_SUFFIX_TOKEN.match(token)))
            for i, token in enumerate(mine)
        ):
            return True
    return False


# -- unit conversion -----------------------------------------------------------------------------------
def gpus_per_instance(instance_type: str) -> int:
    """GPUs of a training instance type (``ml.p4d.24xlarge`` -> 8, ``ml.m5.xlarge`` -> 0): none without
    NVIDIA GPUs (``limits.has_nvidia_gpus``: CPU, Trainium/Inferentia with Neuron devices and no
    GPUUtilization), else the count per size (Amazon EC2 accelerated computing specifications)."""
    from constructs_lib.observability._accelerators import gpus_per_instance as _gpus

    if not has_nvidia_gpus(instance_type):
        return 0
    return _gpus(instance_type)


def per_device_threshold(percent_per_device: float, devices: int) -> float:
    """A per-GPU percentage as the value SageMaker reports for the host (summed over ``devices``)."""
    return percent_per_device * max(devices, 1)


def per_device_expression(query_id: str, devices: int) -> str:
    """Metric math turning a summed host value back into percent per GPU: ``<id> / <devices>``."""
    return f"{query_id} / {max(devices, 1)}"


__all__ = [
    "EXECUTION_TIME_UNIT",
    "HOST_METRIC_UNIT",
    "MAX_METRIC_DEFINITIONS",
    "NAMESPACE",
    "STATES_NAMESPACE",
    "Dimension",
    "ExecutionMetric",
    "HostMetric",
    "MetricDefinition",
    "check_metric_definitions",
    "gpus_per_instance",
    "job_name_prefix",
    "per_device_expression",
    "per_device_threshold",
    "search_expression",
    "search_matches_any_job",
    "search_may_match",
    "search_tokens",
]
