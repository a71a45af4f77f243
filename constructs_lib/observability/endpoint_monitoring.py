"""``EndpointMonitoring``: the dashboard and severity-routed alarms of one SageMaker endpoint."""

from __future__ import annotations

from collections.abc import Sequence

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
from ._endpoint_signals import EndpointAlarmThresholds, check_thresholds
from .alarms import AlarmFactory, AlarmRouting, Severity
from .slo import ServiceLevelObjective, burn_rate_alarms

WIDTH = 8
HEIGHT = 6
FULL_WIDTH = 24


# Runbook line of the rollup composites; every signal's own line is in its registry entry.
_LOOK_FIRST_UNHEALTHY = "the triggering child alarm in this notification, then the dashboard {name}"


class EndpointMonitoring(Construct):
    """Dashboard and alarms for one endpoint, created or imported, switched on ``endpoint.kind``.

    The dashboard (named after the endpoint) has only the widgets whose metrics exist for that kind:
    invocations, invocations per instance or per copy, instances or copies in service (derived; see
    below), 4XX/5XX error rates, model and overhead latency p50/p90/p99, CPU, memory, GPU, GPU memory
    and disk utilization, async backlog, copies and concurrency of inference components, and the
    alarm status.

    Alarms are created by one :class:`AlarmFactory` (name ``<endpoint>-<signal>-<severity>``, runbook
    line, routing) in one loop over the signal registry (``_endpoint_signals.SIGNALS``: 5XX rate, p99
    model latency, GPU memory, disk, pinned at max capacity, async backlog without capacity, ...), which
    also draws the thresholds on the dashboard; with an SLO, multi-window burn-rate alarms replace the
    static 5XX and latency ones. The endpoint's own alarms (``endpoint.signal_alarms``: the critical
    alarms of the signals its deployment rolls back on) are adopted as this monitoring's critical
    alarms of those signals, not created twice. One incident notifies each severity's topic once: only two composite alarms have actions,
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
    :param extra_alarms: shown in the alarm status widget too (the endpoint's own alarms are already).
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
        if create_alarms and routing and endpoint.alarms_routed:
            problems.add(
                "endpoint", endpoint.endpoint_name,
                "an endpoint created without alarm_topic: with routing here its alarms notify through this "
                "monitoring's rollups, and an alarm_topic on the endpoint would notify each incident twice",
            )
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
    def _context(self) -> sig.SignalContext:
        t = self.thresholds
        return sig.SignalContext(
            endpoint=self.endpoint, components=self.components, gpu=self.gpu, gpus=self.gpus,
            max_capacity=self.max_capacity if self.kind in sig.INSTANCE_COUNT_KINDS else None,
            evaluation_periods=t.evaluation_periods, datapoints_to_alarm=t.datapoints_to_alarm,
        )

    def _look(self, text: str) -> str:
        return sig.look_first_at(text, self._context())

    def _slo_covers(self, signal: sig.Signal) -> bool:
        slo = self.slo
        if slo is None or signal.slo is None:
            return False
        return {"availability": slo.availability_percent, "latency": slo.latency_ms}[signal.slo] is not None

    def _create_alarms(self) -> None:
        f, ep, ctx = self.alarm_factory, self.endpoint, self._context()
        # The endpoint's own alarms (the critical alarms of the signals its deployment rolls back on) are
        # this monitoring's critical alarms of those signals: adopted, not created twice.
        own = {key: alarms for key, alarms in ep.signal_alarms.items() if alarms}
        for key, alarms in own.items():
            signal = sig.SIGNALS_BY_KEY[key.rsplit(".", 1)[0]]
            covered = self._slo_covers(signal)
            for alarm in alarms:
                f.adopt(
                    alarm, Severity.CRITICAL, roll_up=not covered,
                    reason=f"Rollback alarm of {ep.endpoint_name}'s deployments; with an {signal.slo} SLO its "
                           "burn-rate alarms page instead (a static threshold pages on low-traffic noise).",
                )
        sig.signal_alarms(
            f, ctx, self.thresholds,
            signals=[s for s in sig.SIGNALS if not self._slo_covers(s)],
            skip=lambda signal, severity: f"{signal.key}.{severity.value}" in own,
        )

        slo = self.slo
        for suffix, group in sig.signal_scopes(sig.SIGNALS_BY_KEY["error_rate_5xx_percent"], ctx) if slo else ():
            where = f" ({suffix[1:]})" if suffix else ""
            if slo.availability_percent is not None:
                burn_rate_alarms(
                    f, sli="availability", signal_suffix=suffix,
                    objective=f"Availability SLO {slo.availability_percent:g} % of {ep.endpoint_name}{where}",
                    budget=(budget := 1 - slo.availability_percent / 100),
                    bad_ratio=lambda period, n, g=group: sig.error_ratio(
                        ep, g, EndpointMetric.INVOCATION_5XX_ERRORS, period=period, percent=False, label="5XX share",
                        min_requests=n),
                    min_requests=lambda tier, b=budget: slo.min_requests_for(tier, b),
                    look_first_at=self._look(sig.SIGNALS_BY_KEY["error_rate_5xx_percent"].look_first_at),
                )
            if slo.latency_ms is not None:
                burn_rate_alarms(
                    f, sli="latency", signal_suffix=suffix,
                    objective=(f"Latency SLO {slo.latency_percentile:g} % of requests of {ep.endpoint_name}{where} "
                               f"within {slo.latency_ms} ms"),
                    budget=(budget := 1 - slo.latency_percentile / 100),
                    bad_ratio=lambda period, n, g=group: sig.slow_ratio(
                        ep, g, slo.latency_ms, period=period, label="share slower than the SLO", min_requests=n),
                    min_requests=lambda tier, b=budget: slo.min_requests_for(tier, b),
                    look_first_at=self._look(sig.SIGNALS_BY_KEY["model_latency_p99_ms"].look_first_at),
                )

        # One incident, one notification per severity topic: only these two composites have actions.
        self.unhealthy = f.rollup(
            signal="unhealthy", severity=Severity.CRITICAL,
            summary=f"Endpoint {ep.endpoint_name} is unhealthy: at least one critical alarm is in ALARM.",
            look_first_at=self._look(_LOOK_FIRST_UNHEALTHY),
        )
        self.degraded = f.rollup(
            signal="degraded", severity=Severity.WARNING,
            summary=f"Endpoint {ep.endpoint_name} is degraded: at least one warning alarm is in ALARM.",
            look_first_at=self._look(_LOOK_FIRST_UNHEALTHY),
        )

    # -- dashboard -----------------------------------------------------------------------------
    def _rows(self, extra_alarms: list[cw.IAlarm]) -> list[list[cw.IWidget]]:
        ep, kind = self.endpoint, self.kind
        scopes = sig.invocation_scopes(ep, self.components)
        rows: list[list[cw.IWidget]] = [[cw.TextWidget(markdown=self._header(), width=FULL_WIDTH, height=2)]]
        inv = sig.invocation_metric
        ctx = self._context()

        def thresholds(widget: str) -> list[cw.HorizontalAnnotation]:
            """The registry's threshold lines for ``widget`` (none for signals an SLO replaces)."""
            return sig.annotations(widget, ctx, self.thresholds, skip=self._slo_covers)

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
                left_annotations=thresholds("errors"),
                left_y_axis=cw.YAxisProps(min=0, label="%", show_units=False),
            ),
            _graph("Model latency (microseconds)", _percentiles(ep, EndpointMetric.MODEL_LATENCY, scopes),
                   left_annotations=thresholds("model-latency")),
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
                          + [ep.metric_gpu_memory_utilization(variant_name=n, label=f"{n} GPU memory") for n in v],
                          left_annotations=thresholds("gpu"))]
                  if self.gpu else []),
                _graph("Disk utilization (%)", [ep.metric_disk_utilization(variant_name=n, label=n) for n in v],
                       left_annotations=thresholds("disk")),
            ])
        if kind is EndpointKind.SERVERLESS:
            v = ep.variant_names
            rows.append([
                _graph("Memory utilization (%)", [ep.metric_memory_utilization(variant_name=n, label=n) for n in v]),
                _graph("Model setup time, cold starts (microseconds)",
                       [ep.metric_model_setup_time(variant_name=n, statistic=Statistic.MAXIMUM, label=f"{n} max")
                        for n in v], left_annotations=thresholds("model-setup")),
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

        shown = {a.node.path for a in self.alarm_factory.notifying()}
        status = [*self.alarm_factory.notifying(), *(a for a in extra_alarms if a.node.path not in shown)]
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
    check_thresholds(p, "thresholds", thresholds)
    if gpus_per_instance is not None:
        p.check(gpus_per_instance >= 1, "gpus_per_instance", gpus_per_instance, ">= 1")
    if slo is not None:
        slo.check(p)
