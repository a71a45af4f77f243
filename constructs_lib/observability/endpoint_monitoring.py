"""``EndpointMonitoring``: the dashboard and severity-routed alarms of one SageMaker endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from .. import limits
from ..errors import Problems
from ..inference.base import EndpointBase
from ..inference.metrics import ComponentMetric, EndpointMetric, Statistic
from ..inference.specs import EndpointKind
from . import _endpoint_signals as sig
from . import _quotas
from ._accelerators import gpus_per_instance as _gpus_of
from .alarms import AlarmFactory, AlarmRouting, Datapoints, Severity, SeverityThresholds
from .slo import ServiceLevelObjective, burn_rate_alarms

WIDTH = 8
HEIGHT = 6
FULL_WIDTH = 24


# Defaults of EndpointAlarmThresholds (immutable values, shared safely).
DEFAULT_ERROR_RATE_5XX_PERCENT = SeverityThresholds(warning=1.0, critical=5.0)
DEFAULT_MODEL_LATENCY_P99_MS = SeverityThresholds()  # off: model-specific
DEFAULT_GPU_MEMORY_PERCENT = SeverityThresholds(warning=95.0)
DEFAULT_DISK_PERCENT = SeverityThresholds(warning=80.0, critical=90.0)
DEFAULT_BACKLOG_WITHOUT_CAPACITY_MINUTES = SeverityThresholds(warning=5, critical=15)


@dataclass(frozen=True)
class EndpointAlarmThresholds:
    """Alarm thresholds of one endpoint, keyed by severity; defaults suit GPU serving.

    :param error_rate_5xx_percent: 5XX share of requests over 1-minute periods; default warning 1 %,
        critical 5 %. Replaced by burn-rate alarms when the SLO has ``availability_percent``.
    :param model_latency_p99_ms: p99 ``ModelLatency``; default off (model-specific). Replaced by
        burn-rate alarms when the SLO has ``latency_ms``.
    :param gpu_memory_percent: per GPU (the metric is summed over GPUs; the threshold is multiplied by
        the instance's GPU count); default warning 95 % (LLM servers preallocate most GPU memory).
    :param disk_percent: storage volume; default warning 80 %, critical 90 %.
    :param at_max_capacity_minutes: warning when the instances in service equal the autoscaling
        maximum for this long; default 15; ``None`` switches it off.
    :param backlog_without_capacity_minutes: asynchronous endpoints: queued requests and no instance
        for this long; default warning 5, critical 15.
    :param evaluation_periods / datapoints_to_alarm: of the 1-minute error and latency alarms; default 2 of 3.
    """

    error_rate_5xx_percent: SeverityThresholds = DEFAULT_ERROR_RATE_5XX_PERCENT
    model_latency_p99_ms: SeverityThresholds = DEFAULT_MODEL_LATENCY_P99_MS
    gpu_memory_percent: SeverityThresholds = DEFAULT_GPU_MEMORY_PERCENT
    disk_percent: SeverityThresholds = DEFAULT_DISK_PERCENT
    at_max_capacity_minutes: int | None = 15
    backlog_without_capacity_minutes: SeverityThresholds = DEFAULT_BACKLOG_WITHOUT_CAPACITY_MINUTES
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2


# Runbook lines: what to look at first, per signal.
_LOOK_FIRST = {
    "5xx": "the model container logs in CloudWatch Logs /aws/sagemaker/Endpoints/{name} (stack traces, "
           "out-of-memory kills), then whether a deployment is in progress",
    "latency": "GPU utilization and the instances in service on the dashboard {name} (is autoscaling at "
               "its maximum?), then request payload sizes",
    "gpu-memory": "the container's batch size / KV-cache settings and model size on the dashboard {name}; "
                  "an instance type with more GPU memory if it stays high",
    "disk": "what the container writes to its storage volume (logs, downloaded artifacts) in "
            "/aws/sagemaker/Endpoints/{name}; a larger volume_size_gb",
    "capacity": "p99 model latency and the invocations per instance on the dashboard {name}; raise "
                "autoscaling max or the instance type",
    "backlog": "the scaling activities of the endpoint's scalable target (Application Auto Scaling), "
               "instance quota and capacity errors in the SageMaker console for {name}",
    "unhealthy": "the triggering child alarm in this notification, then the dashboard {name}",
}


class EndpointMonitoring(Construct):
    """Dashboard and alarms for one endpoint, created or imported, switched on ``endpoint.kind``.

    The dashboard (named after the endpoint) has only the widgets whose metrics exist for that kind:
    invocations, invocations per instance or per copy, instances or copies in service (derived; see
    below), 4XX/5XX error rates, model and overhead latency p50/p90/p99, CPU, memory, GPU, GPU memory
    and disk utilization, async backlog, copies and concurrency of inference components, and the
    alarm status.

    Alarms are created by one :class:`AlarmFactory` (name ``<endpoint>-<signal>-<severity>``, runbook
    line, routing): 5XX rate, p99 model latency, GPU memory, disk, pinned at max capacity, async backlog
    without capacity; with an SLO, multi-window burn-rate alarms replace the static 5XX and latency
    ones. One incident notifies each severity's topic once: only two composite alarms have actions,
    ``unhealthy`` (critical; ALARM while any critical alarm is) and ``degraded`` (warning; likewise).
    Burn-rate windows count only with enough requests (``ServiceLevelObjective.min_requests``); the
    latency SLO measures ``ModelLatency`` (the container), not ``OverheadLatency`` (SageMaker).

    Desired vs current capacity: SageMaker publishes no instance or copy count and Application Auto
    Scaling no desired count, so the instances in service are derived from
    ``Invocations / InvocationsPerInstance`` (while there is traffic) and drawn against the autoscaling
    min/max; "pinned at max" compares that derived count with the max.

    :param endpoint: an :class:`InferenceEndpoint` or ``InferenceEndpoint.from_endpoint_name(...)``.
    :param routing: severity -> SNS topic for alarm and OK notifications; default none (no actions).
    :param thresholds: default :class:`EndpointAlarmThresholds` ().
    :param slo: default none: static thresholds only.
    :param gpu: GPU widgets and alarm; default: True when any variant's instance type is accelerated
        (imported endpoints: True).
    :param gpus_per_instance: default: from the instance type (1 when unknown or imported).
    :param min_capacity / max_capacity: autoscaling bounds per variant; default: read from the
        endpoint's scalable targets when it has any, else none (no capacity annotations or alarm).
    :param inference_component_names: components of an inference-components endpoint; default
        ``endpoint.inference_component_names``.
    :param extra_alarms: shown in the alarm status widget too (e.g. the endpoint's rollback alarms).
    :param create_alarms: default True; False builds the dashboard only.
    :param dashboard_name: default the endpoint name.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: EndpointBase,
        routing: AlarmRouting | None = None,
        thresholds: EndpointAlarmThresholds = EndpointAlarmThresholds(),
        slo: ServiceLevelObjective | None = None,
        gpu: bool | None = None,
        gpus_per_instance: int | None = None,
        min_capacity: int | None = None,
        max_capacity: int | None = None,
        inference_component_names: Sequence[str] | None = None,
        extra_alarms: Sequence[cw.IAlarm] = (),
        create_alarms: bool = True,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.endpoint = endpoint
        self.kind = endpoint.kind
        name = endpoint.endpoint_name
        self.components = tuple(
            inference_component_names if inference_component_names is not None else _component_names(endpoint)
        )
        instance_types = _instance_types(endpoint)
        self.gpu = (
            gpu if gpu is not None
            else (any(limits.is_accelerated(t) for t in instance_types) if instance_types else True)
        ) and self.kind in sig.INSTANCE_KINDS
        self.gpus = gpus_per_instance or max((_gpus_of(t) for t in instance_types), default=1)
        bounds = _capacity_bounds(endpoint)
        self.min_capacity = min_capacity if min_capacity is not None else bounds[0]
        self.max_capacity = max_capacity if max_capacity is not None else bounds[1]
        self.thresholds = thresholds
        self.slo = slo
        problems = Problems(f"EndpointMonitoring {self.node.path}")
        check_monitoring_props(problems, thresholds=thresholds, slo=slo, gpus_per_instance=gpus_per_instance)
        problems.raise_if_any()

        self.alarm_factory = AlarmFactory(self, prefix=name, routing=routing, page_once=True)
        self.unhealthy: cw.CompositeAlarm | None = None
        self.degraded: cw.CompositeAlarm | None = None
        if create_alarms:
            self._create_alarms()
        self.alarms: list[cw.AlarmBase] = list(self.alarm_factory.alarms)

        # Primary child: the dashboard keeps the id (and logical id) the foundation's EndpointDashboard had.
        self.dashboard = cw.Dashboard(
            self, "Resource", dashboard_name=dashboard_name or name, default_interval=Duration.hours(3),
        )
        for row in self._rows(list(extra_alarms)):
            self.dashboard.add_widgets(*row)

    # -- alarms --------------------------------------------------------------------------------
    def _look(self, key: str) -> str:
        text = _LOOK_FIRST[key].format(name=self.endpoint.endpoint_name)
        if key == "5xx" and self.kind is EndpointKind.INFERENCE_COMPONENTS:
            # Component containers log to their own groups.
            text = text.replace(f"/aws/sagemaker/Endpoints/{self.endpoint.endpoint_name}",
                                "/aws/sagemaker/InferenceComponents/<component>")
        return text

    def _create_alarms(self) -> None:
        t, f, ep = self.thresholds, self.alarm_factory, self.endpoint
        one_minute = Datapoints(Duration.minutes(1), t.evaluation_periods, t.datapoints_to_alarm)
        five_minutes = Datapoints(Duration.minutes(5), 3, 3)
        groups = sig.alarm_groups(ep, self.components)
        multi = len(groups) > 1
        slo = self.slo

        for group in groups:
            suffix = f"-{group[0].label}" if multi else ""
            where = f" ({group[0].label})" if multi else ""
            if slo is not None and slo.availability_percent is not None:
                burn_rate_alarms(
                    f, sli="availability", signal_suffix=suffix,
                    objective=f"Availability SLO {slo.availability_percent:g} % of {ep.endpoint_name}{where}",
                    budget=(budget := 1 - slo.availability_percent / 100),
                    bad_ratio=lambda period, n, g=group: sig.error_ratio(
                        ep, g, EndpointMetric.INVOCATION_5XX_ERRORS, period=period, percent=False, label="5XX share",
                        min_requests=n),
                    min_requests=lambda tier, b=budget: slo.min_requests_for(tier, b),
                    look_first_at=self._look("5xx"),
                )
            else:
                for severity, threshold in t.error_rate_5xx_percent.items():
                    f.metric_alarm(
                        signal=f"5xx-rate{suffix}", severity=severity,
                        metric=sig.error_ratio(ep, group, EndpointMetric.INVOCATION_5XX_ERRORS,
                                               period=one_minute.period, percent=True, label="5XX rate (%)"),
                        threshold=threshold, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                        datapoints=one_minute,
                        summary=f"{ep.endpoint_name}{where} answered >= {threshold:g} % of requests with 5XX "
                                f"in {t.datapoints_to_alarm} of {t.evaluation_periods} minutes.",
                        look_first_at=self._look("5xx"),
                    )
            if slo is not None and slo.latency_ms is not None:
                burn_rate_alarms(
                    f, sli="latency", signal_suffix=suffix,
                    objective=(f"Latency SLO {slo.latency_percentile:g} % of requests of {ep.endpoint_name}{where} "
                               f"within {slo.latency_ms} ms"),
                    budget=(budget := 1 - slo.latency_percentile / 100),
                    bad_ratio=lambda period, n, g=group: sig.slow_ratio(
                        ep, g, slo.latency_ms, period=period, label="share slower than the SLO", min_requests=n),
                    min_requests=lambda tier, b=budget: slo.min_requests_for(tier, b),
                    look_first_at=self._look("latency"),
                )
            else:
                for severity, threshold in t.model_latency_p99_ms.items():
                    f.metric_alarm(
                        signal=f"p99-model-latency{suffix}", severity=severity,
                        metric=_max_of([
                            sig.invocation_metric(ep, EndpointMetric.MODEL_LATENCY, s, statistic=Statistic.P99)
                            for s in group
                        ], "p99 ModelLatency (microseconds)"),
                        threshold=threshold * 1000,  # ModelLatency is in microseconds
                        comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD, datapoints=one_minute,
                        summary=f"p99 ModelLatency of {ep.endpoint_name}{where} above {threshold:g} ms in "
                                f"{t.datapoints_to_alarm} of {t.evaluation_periods} minutes.",
                        look_first_at=self._look("latency"),
                    )

        if self.kind in sig.INSTANCE_KINDS:
            for variant in ep.variant_names:
                vs = f"-{variant}" if len(ep.variant_names) > 1 else ""
                on = f" ({variant})" if vs else ""
                if self.gpu:
                    for severity, threshold in t.gpu_memory_percent.items():
                        f.metric_alarm(
                            signal=f"gpu-memory{vs}", severity=severity,
                            metric=ep.metric_gpu_memory_utilization(variant_name=variant, statistic=Statistic.MAXIMUM),
                            threshold=threshold * self.gpus,
                            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                            datapoints=five_minutes,
                            summary=f"GPU memory of {ep.endpoint_name}{on} >= {threshold:g} % per GPU "
                                    f"({self.gpus} GPU(s) per instance) for 15 minutes.",
                            look_first_at=self._look("gpu-memory"),
                        )
                for severity, threshold in t.disk_percent.items():
                    f.metric_alarm(
                        signal=f"disk{vs}", severity=severity,
                        metric=ep.metric_disk_utilization(variant_name=variant, statistic=Statistic.MAXIMUM),
                        threshold=threshold, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                        datapoints=five_minutes,
                        summary=f"Disk of {ep.endpoint_name}{on} >= {threshold:g} % for 15 minutes.",
                        look_first_at=self._look("disk"),
                    )
                if (
                    self.kind in sig.INSTANCE_COUNT_KINDS and self.max_capacity is not None
                    and t.at_max_capacity_minutes is not None
                ):
                    periods = max(1, t.at_max_capacity_minutes // 5)
                    f.metric_alarm(
                        signal=f"at-max-capacity{vs}", severity=Severity.WARNING,
                        metric=sig.instance_count(ep, variant, period=Duration.minutes(5)),
                        threshold=self.max_capacity - 0.5,  # derived count: allow for rounding
                        comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                        datapoints=Datapoints(Duration.minutes(5), periods, periods),
                        summary=f"{ep.endpoint_name}{on} has run at its autoscaling maximum of "
                                f"{self.max_capacity} instances for {periods * 5} minutes (instances derived "
                                "from Invocations / InvocationsPerInstance).",
                        look_first_at=self._look("capacity"),
                    )

        if self.kind is EndpointKind.ASYNC:
            for severity, minutes in t.backlog_without_capacity_minutes.items():
                periods = int(minutes)
                f.metric_alarm(
                    signal="backlog-without-capacity", severity=severity,
                    metric=sig.endpoint_metric(ep, EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY,
                                               statistic=Statistic.MAXIMUM),
                    threshold=1, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    datapoints=Datapoints(Duration.minutes(1), periods, periods),
                    summary=f"{ep.endpoint_name} has had queued requests and no instance for {periods} minutes.",
                    look_first_at=self._look("backlog"),
                )

        # One incident, one notification per severity topic: only these two composites have actions.
        self.unhealthy = f.rollup(
            signal="unhealthy", severity=Severity.CRITICAL,
            summary=f"Endpoint {ep.endpoint_name} is unhealthy: at least one critical alarm is in ALARM.",
            look_first_at=self._look("unhealthy"),
        )
        self.degraded = f.rollup(
            signal="degraded", severity=Severity.WARNING,
            summary=f"Endpoint {ep.endpoint_name} is degraded: at least one warning alarm is in ALARM.",
            look_first_at=self._look("unhealthy"),
        )

    # -- dashboard -----------------------------------------------------------------------------
    def _rows(self, extra_alarms: list[cw.IAlarm]) -> list[list[cw.IWidget]]:
        ep, kind = self.endpoint, self.kind
        scopes = sig.invocation_scopes(ep, self.components)
        rows: list[list[cw.IWidget]] = [[cw.TextWidget(markdown=self._header(), width=FULL_WIDTH, height=2)]]
        inv = sig.invocation_metric

        traffic: list[cw.IWidget] = []
        if kind not in sig.QUEUED_KINDS:
            traffic.append(_graph("Invocations", [inv(ep, EndpointMetric.INVOCATIONS, s, label=s.label) for s in scopes]))
        else:
            traffic.append(_graph(
                "Requests processed (SampleCount of ModelLatency)",
                [inv(ep, EndpointMetric.MODEL_LATENCY, s, statistic=cw.Stats.SAMPLE_COUNT, label=s.label) for s in scopes],
            ))
        if kind in sig.INSTANCE_COUNT_KINDS:
            traffic.append(_graph(
                "Invocations per instance",
                [inv(ep, EndpointMetric.INVOCATIONS_PER_INSTANCE, s, label=s.label) for s in scopes],
            ))
            annotations = [
                cw.HorizontalAnnotation(value=v, label=label, color=color)
                for v, label, color in ((self.min_capacity, "autoscaling min", "#2ca02c"),
                                        (self.max_capacity, "autoscaling max", "#d62728"))
                if v is not None
            ]
            traffic.append(_graph(
                "Instances in service (derived) vs autoscaling min/max",
                [sig.instance_count(ep, v) for v in ep.variant_names], left_annotations=annotations,
            ))
        if kind is EndpointKind.INFERENCE_COMPONENTS and scopes:
            traffic.append(_graph(
                "Invocations per copy",
                [inv(ep, ComponentMetric.INVOCATIONS_PER_COPY, s, label=s.label) for s in scopes],
            ))
            traffic.append(_graph("Copies in service (derived)", [sig.copy_count(ep, c) for c in self.components]))
        rows.append(traffic)

        quality: list[cw.IWidget] = [
            _graph(
                "4XX and 5XX error rate (%)",
                [
                    sig.error_ratio(ep, [s], metric, period=Duration.minutes(1), percent=True, label=f"{s.label} {code}")
                    for s in scopes
                    for metric, code in ((EndpointMetric.INVOCATION_4XX_ERRORS, "4XX"),
                                         (EndpointMetric.INVOCATION_5XX_ERRORS, "5XX"))
                ],
                left_annotations=[
                    cw.HorizontalAnnotation(value=v, label=f"5XX {s.value}")
                    for s, v in self.thresholds.error_rate_5xx_percent.items()
                ] if self.slo is None or self.slo.availability_percent is None else [],
                left_y_axis=cw.YAxisProps(min=0, label="%", show_units=False),
            ),
            _graph("Model latency (microseconds)", _percentiles(ep, EndpointMetric.MODEL_LATENCY, scopes)),
        ]
        if kind not in sig.QUEUED_KINDS:
            quality.append(_graph("Overhead latency (microseconds)", _percentiles(ep, EndpointMetric.OVERHEAD_LATENCY, scopes)))
        rows.append(quality)

        if kind in sig.INSTANCE_KINDS:
            v = ep.variant_names
            rows.append([
                _graph("CPU and memory utilization (%)",
                       [ep.metric_cpu_utilization(variant_name=n, label=f"{n} CPU") for n in v]
                       + [ep.metric_memory_utilization(variant_name=n, label=f"{n} memory") for n in v]),
                *([_graph(f"GPU and GPU memory utilization (%, {self.gpus} GPU(s) per instance)",
                          [ep.metric_gpu_utilization(variant_name=n, label=f"{n} GPU") for n in v]
                          + [ep.metric_gpu_memory_utilization(variant_name=n, label=f"{n} GPU memory") for n in v])]
                  if self.gpu else []),
                _graph("Disk utilization (%)", [ep.metric_disk_utilization(variant_name=n, label=n) for n in v]),
            ])
        if kind is EndpointKind.SERVERLESS:
            v = ep.variant_names
            rows.append([
                _graph("Memory utilization (%)", [ep.metric_memory_utilization(variant_name=n, label=n) for n in v]),
                _graph("Model setup time, cold starts (microseconds)",
                       [ep.metric_model_setup_time(variant_name=n, statistic=Statistic.MAXIMUM, label=f"{n} max")
                        for n in v]),
            ])
        if kind is EndpointKind.ASYNC:
            rows.append([
                _graph("Backlog", [
                    sig.endpoint_metric(ep, EndpointMetric.APPROXIMATE_BACKLOG_SIZE, statistic=Statistic.AVERAGE,
                                        label="backlog"),
                    sig.endpoint_metric(ep, EndpointMetric.APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE,
                                        statistic=Statistic.AVERAGE, label="backlog per instance"),
                ]),
                _graph("Backlog without capacity (1 = queued requests, no instance)", [
                    sig.endpoint_metric(ep, EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY, statistic=Statistic.MAXIMUM,
                                        label="has backlog without capacity"),
                ]),
                _graph("Age of the oldest queued request (seconds)", [
                    sig.endpoint_metric(ep, EndpointMetric.APPROXIMATE_AGE_OF_OLDEST_REQUEST,
                                        statistic=Statistic.MAXIMUM, label="oldest request"),
                ]),
            ])
        if kind is EndpointKind.INFERENCE_COMPONENTS and scopes:
            rows.append([_graph(
                "Concurrent requests per copy (max)",
                [inv(ep, ComponentMetric.CONCURRENT_REQUESTS_PER_COPY, s, statistic=Statistic.MAXIMUM,
                     label=s.label) for s in scopes],
            )])

        status = [*self.alarm_factory.notifying(), *extra_alarms]
        for i in range(0, len(status), _quotas.MAX_ALARMS_PER_STATUS_WIDGET):
            chunk = status[i: i + _quotas.MAX_ALARMS_PER_STATUS_WIDGET]
            rows.append([cw.AlarmStatusWidget(
                title="Alarms", alarms=chunk, width=FULL_WIDTH, height=max(3, 1 + (len(chunk) + 3) // 4),
                sort_by=cw.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            )])
        return rows

    def _header(self) -> str:
        ep = self.endpoint
        parts = [f"**{ep.endpoint_name}** - {self.kind.value} endpoint", f"variants: {', '.join(ep.variant_names)}"]
        if self.components:
            parts.append(f"inference components: {', '.join(self.components)}")
        if self.max_capacity is not None and self.kind in sig.INSTANCE_COUNT_KINDS:
            parts.append(f"autoscaling {self.min_capacity}-{self.max_capacity} instances")
        if self.slo is not None:
            objectives = []
            if self.slo.availability_percent is not None:
                objectives.append(f"{self.slo.availability_percent:g} % available")
            if self.slo.latency_ms is not None:
                objectives.append(f"p{self.slo.latency_percentile:g} <= {self.slo.latency_ms} ms")
            parts.append("SLO: " + ", ".join(objectives))
        return " | ".join(parts) + "\n\nLatencies in microseconds; instance counts are derived from invocations."


def _graph(title: str, left: list[cw.IMetric], **kw) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=left, width=WIDTH, height=HEIGHT, **kw)


def _percentiles(ep: EndpointBase, metric: str, scopes: list[sig.Scope]) -> list[cw.IMetric]:
    return [
        sig.invocation_metric(ep, metric, s, statistic=stat, label=f"{s.label} {name}")
        for s in scopes
        for stat, name in ((Statistic.P50, "p50"), (Statistic.P90, "p90"), (Statistic.P99, "p99"))
    ]


def _max_of(metrics: list[cw.Metric], label: str) -> cw.IMetric:
    if len(metrics) == 1:
        return metrics[0]
    using = {sig.metric_id("p99", str(i)): m for i, m in enumerate(metrics)}
    return cw.MathExpression(expression=f"MAX([{', '.join(using)}])", using_metrics=using, label=label,
                             period=Duration.minutes(1))


def _component_names(endpoint: EndpointBase) -> tuple[str, ...]:
    """Inference components the endpoint knows of (created with it, or named when imported)."""
    return endpoint.inference_component_names


def _instance_types(endpoint: EndpointBase) -> list[str]:
    """The endpoint's own typed fact (``EndpointBase.instance_types``), never its generated resources."""
    return list(endpoint.instance_types)


def _capacity_bounds(endpoint: EndpointBase) -> tuple[int | None, int | None]:
    """``EndpointBase.capacity_bounds``: the autoscaling min/max the endpoint was given."""
    return endpoint.capacity_bounds


def check_monitoring_props(
    p: Problems, *, thresholds: EndpointAlarmThresholds, slo: ServiceLevelObjective | None, gpus_per_instance: int | None
) -> None:
    """Every rule of :class:`EndpointMonitoring`'s props, recorded in ``p`` with prop paths
    (``thresholds.disk_percent.warning``); the platform config runs it too, renaming the paths."""
    t, gpus = thresholds, gpus_per_instance
    for field in ("error_rate_5xx_percent", "gpu_memory_percent", "disk_percent"):
        for severity, value in getattr(t, field).items():
            p.check(0 < value <= 100, f"thresholds.{field}.{severity.value}", value, "a percentage in (0, 100]")
    for field in ("error_rate_5xx_percent", "model_latency_p99_ms", "gpu_memory_percent", "disk_percent",
                  "backlog_without_capacity_minutes"):
        pair = getattr(t, field)
        if pair.warning is not None and pair.critical is not None:
            p.check(pair.warning <= pair.critical, f"thresholds.{field}.warning", pair.warning,
                    f"at most the critical threshold ({pair.critical:g})")
    for severity, value in t.model_latency_p99_ms.items():
        p.check(value >= 1, f"thresholds.model_latency_p99_ms.{severity.value}", value, ">= 1 ms")
    for severity, value in t.backlog_without_capacity_minutes.items():
        p.check(float(value).is_integer() and 1 <= value <= 1440,
                f"thresholds.backlog_without_capacity_minutes.{severity.value}", value, "whole minutes, 1-1440")
    if t.at_max_capacity_minutes is not None:
        p.check(5 <= t.at_max_capacity_minutes <= 1440 and t.at_max_capacity_minutes % 5 == 0,
                "thresholds.at_max_capacity_minutes", t.at_max_capacity_minutes, "a multiple of 5 minutes, 5-1440")
    p.check(t.evaluation_periods >= 1, "thresholds.evaluation_periods", t.evaluation_periods, ">= 1")
    p.check(1 <= t.datapoints_to_alarm <= t.evaluation_periods, "thresholds.datapoints_to_alarm",
            t.datapoints_to_alarm, f"1-evaluation_periods ({t.evaluation_periods})")
    if gpus is not None:
        p.check(gpus >= 1, "gpus_per_instance", gpus, ">= 1")
    if slo is not None:
        slo.check(p)
