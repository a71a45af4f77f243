"""``TrainingPipelineMonitoring``: the dashboard and severity-routed alarms of one training pipeline.

What is alarmed, and how (vocabulary and sources: :mod:`constructs_lib.training.job_metrics`):

* **Execution failed / timed out** (critical): ``AWS/States`` ``ExecutionsFailed`` and
  ``ExecutionsTimedOut`` of the pipeline's state machine: a fixed ``StateMachineArn`` dimension,
  ordinary metric alarms here, notified through the pipeline's ``unhealthy`` rollup.
* Everything about the *jobs* (host and algorithm metrics) has dimension values that change with every
  execution (``<pipeline>-<uuid>/algo-N``, ``<pipeline>-<uuid>``). A static alarm can only name exact
  values, a ``SEARCH`` expression cannot back an alarm, and no documented Metrics Insights operator
  selects a name prefix. So these alarms are **per job**: :attr:`TrainingPipelineMonitoring.job_alarms`
  describes them, and :class:`constructs_lib.lifecycle.TrainingJobAlarms` creates them with the job's exact
  dimension values when it is ``InProgress`` and deletes them when it ends
  (:mod:`constructs_lib.job_alarm_requests`). Each notifies its severity's topic itself: a composite
  rollup cannot name alarms that do not exist yet.

  - **Job stalled** (critical): the progress metric has no datapoint for ``stall_minutes`` (5-minute
    periods, missing data breaching). The alarm exists only while the job runs, so "a job is running" is
    implied; it is created when the job turns InProgress, before the container pulls its image and
    downloads data, so ``stall_minutes`` is also the start-up allowance. A *flat* metric (logged but
    unchanged) is not detected: choose a progress metric the job logs only when it advances.
  - **GPUs under-used** (warning, it is money): mean ``GPUUtilization`` of the job's hosts (in groups of
    at most 10, the metrics one alarm's math may hold) below ``gpu_utilization_floor_percent`` per GPU
    for ``gpu_underuse_minutes``; SageMaker reports the metric summed over the instance's GPUs, so the
    threshold is multiplied by the GPU count. No alarm for instance types without GPUs.
  - **Host disk filling** (warning / critical): a host of the job at or above the threshold for 15 minutes.

The dashboard graphs the pipeline's jobs with ``SEARCH`` expressions (``Host=<pipeline>``).

Spot interruptions and savings are not CloudWatch metrics: SageMaker reports them per job
(``DescribeTrainingJob``: ``SecondaryStatusTransitions`` "Interrupted", ``BillableTimeInSeconds`` vs
``TrainingTimeInSeconds``); the dashboard says where to find them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from .. import job_alarm_requests as ja
from ..errors import Problems
from ..training import job_metrics as jm
from . import _quotas
from ._layout import FULL_WIDTH, HEIGHT, WIDTH
from .alarms import AlarmFactory, AlarmRouting, Datapoints, Severity, SeverityThresholds

# The job alarms' windows: 5-minute periods (job_alarm_requests.PERIOD_S), 10 minutes to 3 hours.
MAX_STALL_MINUTES = 180
# Stall alarms count datapoints per 5 minutes: a job that logs its progress metric every few minutes,
# or a host that misses one publication, is not taken for stalled.
STALL_PERIOD = Duration.seconds(ja.PERIOD_S)
DEFAULT_DISK_PERCENT = SeverityThresholds(warning=80.0, critical=90.0)


@dataclass(frozen=True, kw_only=True)
class TrainingMonitoringSpec:
    """Alarm settings of one training pipeline.

    :param progress_metric: one of the pipeline's metric definitions; the job is stalled when it is
        absent for ``stall_minutes`` while a job runs. Default none: no stall alarm.
    :param stall_minutes: a multiple of 5 from 10 to 180; default 30. The job's stall alarm is created
        when the job turns InProgress, so this is the start-up allowance too (instances, image pull,
        data download before the first progress datapoint).
    :param gpu_utilization_floor_percent: per GPU, 0-100; default 40; ``None`` switches the alarm off.
    :param gpu_underuse_minutes: a multiple of 5 minutes, 10-180; default 30.
    :param disk_percent: host storage volume; default warning 80 %, critical 90 %.
    """

    progress_metric: str | None = None
    stall_minutes: int = 30
    gpu_utilization_floor_percent: float | None = 40.0
    gpu_underuse_minutes: int = 30
    disk_percent: SeverityThresholds = DEFAULT_DISK_PERCENT


@runtime_checkable
class TrainingPipelineMetricsSource(Protocol):
    """What the monitoring reads from a pipeline (``TrainingPipeline`` provides it)."""

    pipeline_name: str
    instance_type: str
    instance_count: int
    metric_definitions: tuple[jm.MetricDefinition, ...]

    @property
    def gpus_per_instance(self) -> int: ...
    def metric_execution(self, metric: jm.ExecutionMetric, **kwargs) -> cw.IMetric: ...
    def metric_executions_failed(self, **kwargs) -> cw.IMetric: ...
    def metric_executions_timed_out(self, **kwargs) -> cw.IMetric: ...
    def metric_execution_time(self, **kwargs) -> cw.IMetric: ...
    def metric_host(self, metric: jm.HostMetric, **kwargs) -> cw.MathExpression: ...
    def metric_hosts_publishing(self, **kwargs) -> cw.MathExpression: ...
    def metric_algorithm(self, name: str, **kwargs) -> cw.MathExpression: ...


def check_training_monitoring(
    problems: Problems, spec: TrainingMonitoringSpec, *, metric_names: list[str], key: str = "monitoring"
) -> None:
    """Every rule on :class:`TrainingMonitoringSpec` (shared by the construct and the config)."""
    if spec.progress_metric is not None:
        problems.check(
            spec.progress_metric in metric_names, f"{key}.progress_metric", spec.progress_metric,
            "the name of one of metric_definitions: " + (", ".join(metric_names) or "none defined"),
        )
    for name, value in (("stall_minutes", spec.stall_minutes), ("gpu_underuse_minutes", spec.gpu_underuse_minutes)):
        step = int(STALL_PERIOD.to_minutes())
        problems.check(
            isinstance(value, int) and not isinstance(value, bool) and 2 * step <= value <= MAX_STALL_MINUTES
            and value % step == 0,
            f"{key}.{name}", value,
            f"a multiple of {step} minutes from {2 * step} to {MAX_STALL_MINUTES} (the job alarms' 5-minute periods)",
        )
    floor = spec.gpu_utilization_floor_percent
    if floor is not None:
        problems.check(0 < floor <= 100, f"{key}.gpu_utilization_floor_percent", floor, "a percentage per GPU in (0, 100]")
    for severity, value in spec.disk_percent.items():
        problems.check(0 < value <= 100, f"{key}.disk_utilization_{severity.value}_percent", value, "a percentage in (0, 100]")
    if spec.disk_percent.warning is not None and spec.disk_percent.critical is not None:
        problems.check(
            spec.disk_percent.warning < spec.disk_percent.critical, f"{key}.disk_utilization_warning_percent",
            spec.disk_percent.warning, f"below disk_utilization_critical_percent ({spec.disk_percent.critical:g})",
        )


_LOOK_FIRST = {
    "failed": "the failed execution in the Step Functions console for {name} (the error of the Train or "
              "RegisterModel state), then the training job's FailureReason and its logs in "
              "/aws/sagemaker/TrainingJobs",
    "timed-out": "the execution's Train state: a job waiting for spot capacity or running past max_runtime; "
                 "raise max_runtime_hours / managed_spot.max_wait_hours or reduce the work per job",
    "rollup": "the triggering child alarm in this notification, then the dashboard {dashboard}",
}


class TrainingPipelineMonitoring(Construct):
    """Dashboard and alarms of one :class:`TrainingPipeline` (see the module docstring).

    :param pipeline: the pipeline (:class:`TrainingPipelineMetricsSource`); its ``metric_definitions``
        get a graph each, and ``spec.progress_metric`` must be one of them.
    :param prefix: first part of alarm names; default the pipeline name (give a platform prefix when
        several environments share an account). The job alarms are named ``<prefix>-job/<job>/<signal>``.
    :param spec: default :class:`TrainingMonitoringSpec` ().
    :param routing: severity -> SNS topic; default none (alarms without actions).
    :param dashboard_name: default ``<prefix>-training``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: TrainingPipelineMetricsSource,
        spec: TrainingMonitoringSpec = TrainingMonitoringSpec(),
        prefix: str | None = None,
        routing: AlarmRouting | None = None,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        problems = Problems(f"TrainingPipelineMonitoring {self.node.path}")
        self.metric_names = [d.name for d in pipeline.metric_definitions]
        check_training_monitoring(problems, spec, metric_names=self.metric_names, key="spec")
        problems.raise_if_any()
        self.pipeline = pipeline
        self.spec = spec
        self.prefix = prefix or pipeline.pipeline_name
        self.dashboard_name = dashboard_name or f"{self.prefix}-training"
        self.gpus = pipeline.gpus_per_instance

        self.alarm_factory = AlarmFactory(self, prefix=self.prefix, routing=routing, page_once=True)
        self.unhealthy: cw.CompositeAlarm | None = None
        self.degraded: cw.CompositeAlarm | None = None
        self._create_alarms()
        self.job_alarm_prefix = f"{self.prefix}-job/"
        self.job_alarms = self._job_alarms()
        self.alarms = list(self.alarm_factory.alarms)
        self.dashboard = cw.Dashboard(self, "Resource", dashboard_name=self.dashboard_name,
                                      default_interval=Duration.hours(12))
        for row in self._rows():
            self.dashboard.add_widgets(*row)

    # -- alarms ------------------------------------------------------------------------------------
    def _look(self, key: str) -> str:
        return _LOOK_FIRST[key].format(name=self.pipeline.pipeline_name, dashboard=self.dashboard_name)

    def _create_alarms(self) -> None:
        f = self.alarm_factory
        p = self.pipeline
        name = p.pipeline_name
        once = Datapoints(Duration.minutes(5), 1, 1)
        f.metric_alarm(
            signal="execution-failed", severity=Severity.CRITICAL, metric=p.metric_executions_failed(),
            threshold=1, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, datapoints=once,
            summary=f"An execution of training pipeline {name} failed (training or model registration).",
            look_first_at=self._look("failed"),
        )
        f.metric_alarm(
            signal="execution-timed-out", severity=Severity.CRITICAL, metric=p.metric_executions_timed_out(),
            threshold=1, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, datapoints=once,
            summary=f"An execution of training pipeline {name} timed out (ran past its TimeoutSeconds).",
            look_first_at=self._look("timed-out"),
        )
        self.unhealthy = f.rollup(
            signal="unhealthy", severity=Severity.CRITICAL,
            summary=f"Training pipeline {name} is unhealthy: at least one critical alarm is in ALARM.",
            look_first_at=self._look("rollup"),
        )
        # Only the job alarms are warnings, and they notify themselves: no warning rollup.
        self.degraded = None

    def _job_alarms(self) -> ja.PipelineJobAlarms:
        """The alarms each running job of the pipeline gets (created and deleted by ``TrainingJobAlarms``)."""
        spec = self.spec
        floor = spec.gpu_utilization_floor_percent if self.gpus > 0 else None
        step = int(STALL_PERIOD.to_minutes())
        return ja.PipelineJobAlarms(
            pipeline=self.pipeline.pipeline_name,
            alarm_prefix=self.job_alarm_prefix,
            dashboard=self.dashboard_name,
            progress_metric=spec.progress_metric,
            stall_periods=spec.stall_minutes // step,
            gpu_threshold=jm.per_device_threshold(floor, self.gpus) if floor is not None else None,
            gpu_floor_percent=floor,
            gpus=self.gpus,
            gpu_periods=spec.gpu_underuse_minutes // step,
            disk_percent={severity.value: value for severity, value in spec.disk_percent.items()},
        )

    # -- dashboard ---------------------------------------------------------------------------------
    def _rows(self) -> list[list[cw.IWidget]]:
        p = self.pipeline
        gpus = self.gpus
        header = (
            f"**{p.pipeline_name}** - training pipeline | {p.instance_count} x {p.instance_type}"
            + (f" ({gpus} GPUs each)" if gpus else "")
            + "\n\nJobs are named `<pipeline>-<uuid>`; per-host series are `<job>/algo-N`. GPU graphs show percent "
            "per GPU (SageMaker reports the sum over the instance's GPUs). Each running job has its own alarms, "
            f"`{self.job_alarm_prefix}<job>/...` (stalled, GPUs under-used, disk), deleted when it ends. "
            "Spot interruptions and savings: "
            "DescribeTrainingJob (SecondaryStatusTransitions, BillableTimeInSeconds vs TrainingTimeInSeconds)."
        )
        states = jm.ExecutionMetric
        rows: list[list[cw.IWidget]] = [
            [cw.TextWidget(markdown=header, width=FULL_WIDTH, height=3)],
            [
                _graph("Executions (jobs) per hour", [
                    p.metric_execution(m, period=Duration.hours(1), label=label)
                    for m, label in ((states.STARTED, "started"), (states.SUCCEEDED, "succeeded"),
                                     (states.FAILED, "failed"), (states.TIMED_OUT, "timed out"),
                                     (states.ABORTED, "aborted"))
                ]),
                _graph("Execution duration (minutes)", [
                    cw.MathExpression(expression=f"t / {jm.MS_PER_MINUTE}",
                                      using_metrics={"t": p.metric_execution_time(statistic=cw.Stats.MAXIMUM)},
                                      label="longest", period=Duration.hours(1)),
                    cw.MathExpression(expression=f"a / {jm.MS_PER_MINUTE}",
                                      using_metrics={"a": p.metric_execution_time(statistic=cw.Stats.AVERAGE)},
                                      label="average", period=Duration.hours(1)),
                ]),
                _graph("Hosts publishing (datapoints per minute)", [p.metric_hosts_publishing()]),
            ],
            [
                self._per_gpu("GPU utilization per host (% per GPU)", jm.HostMetric.GPU_UTILIZATION),
                self._per_gpu("GPU memory per host (% per GPU)", jm.HostMetric.GPU_MEMORY_UTILIZATION),
                _graph("Disk utilization per host (%)", [
                    p.metric_host(jm.HostMetric.DISK_UTILIZATION, statistic=cw.Stats.MAXIMUM),
                ], left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False)),
            ],
            [
                _graph("CPU utilization per host (% summed over cores)", [
                    p.metric_host(jm.HostMetric.CPU_UTILIZATION),
                ]),
                _graph("Memory utilization per host (%)", [
                    p.metric_host(jm.HostMetric.MEMORY_UTILIZATION, statistic=cw.Stats.MAXIMUM),
                ], left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False)),
            ],
        ]
        algorithm = [
            _graph(f"{name} per job", [p.metric_algorithm(name)]) for name in self.metric_names
        ]
        for i in range(0, len(algorithm), 3):
            rows.append(algorithm[i: i + 3])
        alarms = self.alarm_factory.notifying()
        for i in range(0, len(alarms), _quotas.MAX_ALARMS_PER_STATUS_WIDGET):
            rows.append([cw.AlarmStatusWidget(title="Alarms", alarms=alarms[i: i + _quotas.MAX_ALARMS_PER_STATUS_WIDGET],
                                              width=FULL_WIDTH, height=3)])
        return rows

    def _per_gpu(self, title: str, metric: jm.HostMetric) -> cw.GraphWidget:
        """Per-host series divided by the GPU count: percent per GPU (0-100) whatever the instance."""
        query = self.pipeline.metric_host(metric, label="")
        if self.gpus <= 1:
            return _graph(title, [self.pipeline.metric_host(metric)],
                          left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False))
        return _graph(title, [cw.MathExpression(
            expression=jm.per_device_expression("q", self.gpus), using_metrics={"q": query}, label="${LABEL}",
            period=Duration.minutes(1),
        )], left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False))


def _graph(title: str, left: list[cw.IMetric], **kw) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=left, width=WIDTH, height=HEIGHT, **kw)
