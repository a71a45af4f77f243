"""The dashboard rows of :class:`~constructs_lib.observability.endpoint_monitoring.EndpointMonitoring`.

The construct creates the alarms (one loop over the signal registry, ``endpoint_signals``); this module
lays out its dashboard from the same registry (threshold annotations) and the endpoint's metric helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from ..inference.base import EndpointBase
from ..inference.kinds import traits_of
from ..inference.metrics import ComponentMetric, EndpointMetric, InstanceMetric, Statistic
from . import _quotas
from . import endpoint_signals as sig
from ._layout import FULL_WIDTH, HEIGHT, WIDTH

if TYPE_CHECKING:
    from .endpoint_monitoring import EndpointMonitoring


def dashboard_rows(monitoring: EndpointMonitoring, extra_alarms: list[cw.IAlarm]) -> list[list[cw.IWidget]]:
    """The dashboard of ``monitoring``, row by row: header, traffic, quality, utilization or the kind's
    own metrics, alarm status. Only widgets whose metrics exist for the endpoint's kind."""
    ep, kind = monitoring.endpoint, monitoring.kind
    traits = traits_of(kind)  # which widgets exist: what the kind publishes
    scopes = sig.invocation_scopes(ep, monitoring.components)
    rows: list[list[cw.IWidget]] = [[cw.TextWidget(markdown=_header(monitoring), width=FULL_WIDTH, height=2)]]
    inv = sig.invocation_metric
    ctx = monitoring.signal_context()

    def thresholds(widget: str) -> list[cw.HorizontalAnnotation]:
        """The registry's threshold lines for ``widget`` (none for signals an SLO replaces)."""
        return sig.annotations(widget, ctx, monitoring.thresholds, skip=monitoring.slo_covers)

    traffic: list[cw.IWidget] = []
    if traits.counts_invocations:
        traffic.append(_graph("Invocations", [inv(ep, EndpointMetric.INVOCATIONS, s, label=s.label) for s in scopes]))
    else:
        traffic.append(_graph(
            "Requests processed (SampleCount of ModelLatency)",
            [inv(ep, EndpointMetric.MODEL_LATENCY, s, statistic=cw.Stats.SAMPLE_COUNT, label=s.label) for s in scopes],
        ))
    if traits.instances_derivable:
        traffic.append(_graph(
            "Invocations per instance",
            [inv(ep, EndpointMetric.INVOCATIONS_PER_INSTANCE, s, label=s.label) for s in scopes],
        ))
        annotations = [
            cw.HorizontalAnnotation(value=v, label=label, color=color)
            for v, label, color in ((monitoring.min_capacity, "autoscaling min", "#2ca02c"),
                                    (monitoring.max_capacity, "autoscaling max", "#d62728"))
            if v is not None
        ]
        traffic.append(_graph(
            "Instances in service (derived) vs autoscaling min/max",
            [sig.instance_count(ep, v) for v in ep.variant_names], left_annotations=annotations,
        ))
    if ComponentMetric.INVOCATIONS_PER_COPY in traits.invocation_metrics and scopes:
        traffic.append(_graph(
            "Invocations per copy",
            [inv(ep, ComponentMetric.INVOCATIONS_PER_COPY, s, label=s.label) for s in scopes],
        ))
        traffic.append(_graph("Copies in service (derived)", [sig.copy_count(ep, c) for c in monitoring.components]))
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
    if EndpointMetric.OVERHEAD_LATENCY in traits.invocation_metrics:
        quality.append(_graph("Overhead latency (microseconds)", _percentiles(ep, EndpointMetric.OVERHEAD_LATENCY, scopes)))
    rows.append(quality)

    if traits.has_instances:
        v = ep.variant_names
        rows.append([
            _graph("CPU and memory utilization (%)",
                   [ep.metric_cpu_utilization(variant_name=n, label=f"{n} CPU") for n in v]
                   + [ep.metric_memory_utilization(variant_name=n, label=f"{n} memory") for n in v]),
            *([_graph(f"GPU and GPU memory utilization (%, {monitoring.gpus} GPU(s) per instance)",
                      [ep.metric_gpu_utilization(variant_name=n, label=f"{n} GPU") for n in v]
                      + [ep.metric_gpu_memory_utilization(variant_name=n, label=f"{n} GPU memory") for n in v],
                      left_annotations=thresholds("gpu"))]
              if monitoring.gpu else []),
            _graph("Disk utilization (%)", [ep.metric_disk_utilization(variant_name=n, label=n) for n in v],
                   left_annotations=thresholds("disk")),
        ])
    elif InstanceMetric.MEMORY_UTILIZATION in traits.instance_metrics:  # serverless: memory, no instances
        v = ep.variant_names
        rows.append([
            _graph("Memory utilization (%)", [ep.metric_memory_utilization(variant_name=n, label=n) for n in v]),
            *([_graph("Model setup time, cold starts (microseconds)",
                      [ep.metric_model_setup_time(variant_name=n, statistic=Statistic.MAXIMUM, label=f"{n} max")
                       for n in v], left_annotations=thresholds("model-setup"))]
              if EndpointMetric.MODEL_SETUP_TIME in traits.invocation_metrics else []),
        ])
    if EndpointMetric.APPROXIMATE_BACKLOG_SIZE in traits.endpoint_metrics:
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
    if ComponentMetric.CONCURRENT_REQUESTS_PER_COPY in traits.invocation_metrics and scopes:
        rows.append([_graph(
            "Concurrent requests per copy (max)",
            [inv(ep, ComponentMetric.CONCURRENT_REQUESTS_PER_COPY, s, statistic=Statistic.MAXIMUM,
                 label=s.label) for s in scopes],
        )])

    notifying = monitoring.alarm_factory.notifying()
    shown = {id(a) for a in notifying}
    status = [*notifying, *(a for a in extra_alarms if id(a) not in shown)]
    for i in range(0, len(status), _quotas.MAX_ALARMS_PER_STATUS_WIDGET):
        chunk = status[i: i + _quotas.MAX_ALARMS_PER_STATUS_WIDGET]
        rows.append([cw.AlarmStatusWidget(
            title="Alarms", alarms=chunk, width=FULL_WIDTH, height=max(3, 1 + (len(chunk) + 3) // 4),
            sort_by=cw.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        )])
    return rows


def _header(monitoring: EndpointMonitoring) -> str:
    ep = monitoring.endpoint
    parts = [f"**{ep.endpoint_name}** - {monitoring.kind.value} endpoint", f"variants: {', '.join(ep.variant_names)}"]
    if monitoring.components:
        parts.append(f"inference components: {', '.join(monitoring.components)}")
    if monitoring.max_capacity is not None and traits_of(monitoring.kind).capacity_in_instances:
        parts.append(f"autoscaling {monitoring.min_capacity}-{monitoring.max_capacity} instances")
    if monitoring.slo is not None:
        objectives = []
        if monitoring.slo.availability_percent is not None:
            objectives.append(f"{monitoring.slo.availability_percent:g} % available")
        if monitoring.slo.latency_ms is not None:
            objectives.append(f"p{monitoring.slo.latency_percentile:g} <= {monitoring.slo.latency_ms} ms")
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
