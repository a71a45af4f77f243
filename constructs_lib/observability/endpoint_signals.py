"""Which metrics exist for which kind of endpoint, and how to combine them.

Everything here is built from the endpoint's ``metric_*`` helpers (``metric_component`` for
per-inference-component metrics) and the metric vocabulary of :mod:`constructs_lib.inference.metrics`.

Facts (SageMaker developer guide, "SageMaker AI metrics in CloudWatch", "Monitor asynchronous
endpoints", "Alarms and logs for tracking metrics from serverless endpoints"):

* real-time and multi-model: invocation metrics per ``EndpointName, VariantName``; instance metrics
  (CPU, memory, GPU, GPU memory, disk) in ``/aws/sagemaker/Endpoints``.
* serverless: ``Invocations``, 4XX/5XX, ``ModelLatency``, ``OverheadLatency`` (includes cold starts),
  ``ModelSetupTime`` and ``MemoryUtilization``; no instance, GPU or disk metrics.
* asynchronous: no ``Invocations``, ``InvocationsPerInstance`` or ``OverheadLatency``; 4XX/5XX and
  ``ModelLatency`` per variant; backlog metrics per ``EndpointName`` only. 4XX/5XX publish 1 per
  failed and 0 per other request, so their ``SampleCount`` is the number of requests.
* inference components: invocation metrics per ``InferenceComponentName``; instance metrics per
  variant as for real-time.
* nothing publishes an instance count, a desired count or a copy count. ``InvocationsPerInstance``
  records ``1/instances`` per request, so ``Invocations / InvocationsPerInstance`` is the number of
  instances in service while there is traffic (likewise copies from ``InvocationsPerCopy``).
  Application Auto Scaling publishes no metric for the desired count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from .. import limits
from ..errors import Problems
from ..inference.base import EndpointBase
from ..inference.kinds import InvocationScope, KindTraits, kinds_where, traits_of
from ..inference.metrics import ComponentMetric, EndpointMetric, InstanceMetric, Statistic
from ..inference.specs import EndpointKind
from . import _quotas
from .alarms import AlarmFactory, Datapoints, Severity, SeverityThresholds


# Which kinds each signal applies to: those whose traits (KIND_TRAITS) publish its metric, never a list of kinds.
def _per_variant(metric: str) -> Callable[[KindTraits], bool]:
    """The kind publishes ``metric`` per production variant (in ``AWS/SageMaker``)."""
    return lambda t: t.invocation_scope == InvocationScope.VARIANT and metric in t.invocation_metrics


def _per_scope(metric: str) -> Callable[[KindTraits], bool]:
    """The kind publishes ``metric`` per variant or per inference component (a :class:`Scope`)."""
    return lambda t: metric in t.invocation_metrics


def _per_instance(metric: str) -> Callable[[KindTraits], bool]:
    """The kind publishes ``metric`` in ``/aws/sagemaker/Endpoints``."""
    return lambda t: metric in t.instance_metrics


def _per_endpoint(metric: str) -> Callable[[KindTraits], bool]:
    """The kind publishes ``metric`` with dimension ``EndpointName`` only."""
    return lambda t: metric in t.endpoint_metrics


@dataclass(frozen=True)
class Scope:
    """Where invocation metrics of an endpoint live: a production variant or an inference component."""

    label: str
    variant: str | None = None
    component: str | None = None


def invocation_scopes(endpoint: EndpointBase, components: Sequence[str]) -> list[Scope]:
    if traits_of(endpoint.kind).invocation_scope == InvocationScope.COMPONENT:
        return [Scope(label=c, component=c) for c in components]
    return [Scope(label=v, variant=v) for v in endpoint.variant_names]


def invocation_metric(
    endpoint: EndpointBase, name: str, scope: Scope, *, statistic: str = Statistic.SUM, label: str | None = None,
    period: Duration | None = None,
) -> cw.Metric:
    """An ``AWS/SageMaker`` invocation metric of one scope, through the endpoint's helpers."""
    kw = dict(statistic=statistic, label=label)
    if period is not None:
        kw["period"] = period
    if scope.component is not None:
        return endpoint.metric_component(scope.component, name, **kw)
    helper = {
        EndpointMetric.INVOCATIONS: endpoint.metric_invocations,
        EndpointMetric.INVOCATIONS_PER_INSTANCE: endpoint.metric_invocations_per_instance,
        EndpointMetric.MODEL_LATENCY: endpoint.metric_model_latency,
        EndpointMetric.OVERHEAD_LATENCY: endpoint.metric_overhead_latency,
        EndpointMetric.INVOCATION_4XX_ERRORS: endpoint.metric_invocation_4xx_errors,
        EndpointMetric.INVOCATION_5XX_ERRORS: endpoint.metric_invocation_5xx_errors,
        EndpointMetric.MODEL_SETUP_TIME: endpoint.metric_model_setup_time,
    }.get(name)
    if helper is None:
        raise ValueError(f"no per-variant helper for {name!r}")
    return helper(variant_name=scope.variant, **kw)


def endpoint_metric(endpoint: EndpointBase, name: str, *, statistic: str, label: str | None = None) -> cw.Metric:
    """A metric with dimension ``EndpointName`` only (asynchronous backlog metrics), through its helper."""
    helper = {
        EndpointMetric.APPROXIMATE_BACKLOG_SIZE: endpoint.metric_approximate_backlog_size,
        EndpointMetric.APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE: endpoint.metric_approximate_backlog_size_per_instance,
        EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY: endpoint.metric_has_backlog_without_capacity,
        EndpointMetric.APPROXIMATE_AGE_OF_OLDEST_REQUEST: endpoint.metric_approximate_age_of_oldest_request,
    }[name]
    return helper(statistic=statistic, label=label)


def metric_id(*parts: str) -> str:
    """A metric-math id (lower-case letter first; letters, digits, underscores) naming what it holds,
    so expressions sharing a graph or alarm never reuse an id for a different metric."""
    return "m_" + "_".join(re.sub(r"[^a-z0-9]+", "_", p.lower()).strip("_") for p in parts)


def alarm_count(scopes: int, metrics_per_scope: int = 2) -> int:
    """Alarms per invocation signal over ``scopes`` variants or components: one while their metric math
    stays within CloudWatch's 10 metrics per alarm, otherwise one per scope (the endpoint's validation
    counts its rollback alarms with it)."""
    return 1 if scopes * metrics_per_scope <= _quotas.MAX_METRICS_PER_ALARM else scopes


def _groups(scopes: list[Scope], metrics_per_scope: int) -> list[list[Scope]]:
    if alarm_count(len(scopes), metrics_per_scope) == 1:
        return [scopes] if scopes else []
    return [[s] for s in scopes]


def alarm_groups(endpoint: EndpointBase, components: Sequence[str], metrics_per_scope: int = 2) -> list[list[Scope]]:
    return _groups(invocation_scopes(endpoint, components), metrics_per_scope)


def _enough(total: str, min_requests: int) -> str:
    """The condition under which a ratio counts: any request, or at least ``min_requests`` (low-traffic guard)."""
    return f"{total} >= {min_requests}" if min_requests > 1 else f"{total} > 0"


def error_ratio(
    endpoint: EndpointBase, scopes: list[Scope], error_metric: str, *, period: Duration, percent: bool, label: str,
    min_requests: int = 0,
) -> cw.MathExpression:
    """Failed / all requests over ``scopes`` (x100 when ``percent``); 0 when there were no requests, or
    fewer than ``min_requests`` (a low-traffic guard: one failure among a few requests is no outage).

    Denominator: ``Invocations`` (Sum); asynchronous endpoints publish none, so there it is the
    ``SampleCount`` of the error metric itself (one datapoint per request)."""
    queued = not traits_of(endpoint.kind).counts_invocations
    using: dict[str, cw.IMetric] = {}
    errors, totals = [], []
    for scope in scopes:
        e = metric_id(error_metric, scope.label)
        n = metric_id("count", error_metric, scope.label) if queued else metric_id(EndpointMetric.INVOCATIONS, scope.label)
        using[e] = invocation_metric(endpoint, error_metric, scope, statistic=Statistic.SUM, period=period)
        using[n] = invocation_metric(
            endpoint, error_metric if queued else EndpointMetric.INVOCATIONS, scope,
            statistic=cw.Stats.SAMPLE_COUNT if queued else Statistic.SUM, period=period,
        )
        wrap = (lambda m: f"FILL({m}, 0)") if len(scopes) > 1 else (lambda m: m)
        errors.append(wrap(e))
        totals.append(wrap(n))
    err, total = "+".join(errors), "+".join(totals)
    if len(scopes) > 1:
        err, total = f"({err})", f"({total})"
    scale = "100 * " if percent else ""
    return cw.MathExpression(
        expression=f"IF({_enough(total, min_requests)}, {scale}{err} / {total}, 0)", using_metrics=using, label=label,
        period=period,
    )


def slow_ratio(
    endpoint: EndpointBase, scopes: list[Scope], latency_ms: int, *, period: Duration, label: str,
    min_requests: int = 0,
) -> cw.MathExpression:
    """Share (0-1) of requests whose ``ModelLatency`` exceeded ``latency_ms``, from the percentile-rank
    statistic ``PR(:<microseconds>)`` (percent of requests at or under the threshold), weighted by
    each scope's request count; 0 with fewer than ``min_requests`` requests (low-traffic guard).

    ``PR(:x)``, not ``PR(0:x)``: the lower bound of a percentile rank is exclusive (CloudWatch user
    guide, "Statistics definitions"), so ``PR(0:x)`` would count a 0 microsecond request as slow.
    Only ``ModelLatency`` (the container's time) is measured, not ``OverheadLatency`` (SageMaker's)."""
    micro = latency_ms * 1000  # ModelLatency is in microseconds
    using: dict[str, cw.IMetric] = {}
    slow, totals = [], []
    for scope in scopes:
        r, n = metric_id("within", scope.label), metric_id("requests", scope.label)
        using[r] = invocation_metric(
            endpoint, EndpointMetric.MODEL_LATENCY, scope, statistic=cw.Stats.percentile_rank(micro), period=period,
        )
        using[n] = invocation_metric(
            endpoint, EndpointMetric.MODEL_LATENCY, scope, statistic=cw.Stats.SAMPLE_COUNT, period=period,
        )
        if len(scopes) > 1:
            slow.append(f"(100 - FILL({r}, 100)) * FILL({n}, 0)")
            totals.append(f"FILL({n}, 0)")
        else:
            slow.append(f"(100 - {r}) * {n}")
            totals.append(n)
    total = "+".join(totals)
    return cw.MathExpression(
        expression=f"IF({_enough(f'({total})', min_requests)}, ({'+'.join(slow)}) / (100 * ({total})), 0)",
        using_metrics=using, label=label, period=period,
    )


def _derived_count(
    endpoint: EndpointBase, scope: Scope, per: EndpointMetric | ComponentMetric, label: str, period: Duration
) -> cw.MathExpression:
    """``Invocations / <per>`` while the scope has traffic: how many instances or copies served it."""
    inv, per_id = metric_id(EndpointMetric.INVOCATIONS, scope.label), metric_id(per, scope.label)
    return cw.MathExpression(
        expression=f"IF({per_id} > 0, {inv} / {per_id})",
        using_metrics={
            inv: invocation_metric(endpoint, EndpointMetric.INVOCATIONS, scope, period=period),
            per_id: invocation_metric(endpoint, per, scope, period=period),
        },
        label=label, period=period,
    )


def instance_count(endpoint: EndpointBase, variant: str, *, period: Duration = Duration.minutes(1)) -> cw.MathExpression:
    """Instances in service behind ``variant``, derived from ``Invocations / InvocationsPerInstance``
    (no data while there is no traffic: nothing publishes the count itself)."""
    return _derived_count(endpoint, Scope(label=variant, variant=variant), EndpointMetric.INVOCATIONS_PER_INSTANCE,
                          f"{variant}: instances in service (derived)", period)


def copy_count(endpoint: EndpointBase, component: str, *, period: Duration = Duration.minutes(1)) -> cw.MathExpression:
    """Copies of an inference component, derived from ``Invocations / InvocationsPerCopy`` while it
    has traffic (no copy-count metric exists)."""
    return _derived_count(endpoint, Scope(label=component, component=component), ComponentMetric.INVOCATIONS_PER_COPY,
                          f"{component}: copies (derived)", period)


# == The signal registry ===========================================================================
# One entry per alarmable signal of an endpoint: which kinds it applies to, its metric (through the
# endpoint's helpers), unit, comparison, default {warning, critical}, alarm window and what to look at
# first. It drives the alarms (EndpointMonitoring, and the endpoint's own rollback alarms, which are
# the critical alarms of the signals its deployment watches), the dashboard's threshold annotations,
# the threshold rules (``check_thresholds``) and the config's ``endpoints[].alarms`` keys.
# Adding an alarm = adding one ``Signal`` to ``SIGNALS`` (see constructs_lib/inference/README.md).



class Per(Enum):
    """What one alarm of a signal covers."""

    INVOCATIONS = "invocations"  # a group of variants (or components) whose metric math fits one alarm
    VARIANT = "variant"  # one production variant (instance metrics)
    ENDPOINT = "endpoint"  # the endpoint (metrics with dimension EndpointName only)


@dataclass(frozen=True)
class SignalContext:
    """What a signal needs to know of the endpoint it watches."""

    endpoint: EndpointBase
    components: tuple[str, ...] = ()
    gpu: bool = False
    gpus: int = 1
    max_capacity: int | None = None
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2

    @property
    def kind(self) -> EndpointKind:
        return self.endpoint.kind

    @property
    def name(self) -> str:
        return self.endpoint.endpoint_name

    def one_minute(self) -> Datapoints:
        return Datapoints(Duration.minutes(1), self.evaluation_periods, self.datapoints_to_alarm)


@dataclass(frozen=True)
class Signal:
    """One alarmable signal of an endpoint.

    :param key: thresholds and config key (``endpoints[].alarms.<key>: {warning, critical}``).
    :param name: alarm name part: ``<endpoint>-<name>[-<variant>]-<severity>``.
    :param metric: ``(ctx, scope)`` -> the metric of one alarm; ``scope`` is a list of
        :class:`Scope` (``Per.INVOCATIONS``), a variant name (``Per.VARIANT``) or None.
    :param threshold: ``(ctx, value)`` -> the alarm threshold in the metric's own unit.
    :param window: ``(ctx, value)`` -> the evaluation window.
    :param summary: ``(ctx, where, value)`` -> the first sentence of the description.
    :param rule: ``(value)`` -> valid; ``allowed`` says what is, in words.
    :param published: ``(traits)`` -> whether an endpoint kind publishes the signal's metric
        (``KIND_TRAITS``); ``kinds`` are the kinds that do.
    :param applies: ``(ctx)`` -> whether the signal exists for this endpoint (beyond its kind).
    :param widget: dashboard widget (key) whose graph shows the thresholds as annotations.
    :param annotate_default: draw the default thresholds too (False: only thresholds given, e.g. a
        30 s latency line that would flatten a graph of millisecond latencies).
    :param slo: ``availability`` / ``latency``: with that objective, burn-rate alarms replace it.
    :param rollback: a deployment may roll back on its critical alarm.
    :param number_is: a plain number given for the key means this severity's threshold (``at_max_capacity_minutes: 15``).
    """

    key: str
    name: str
    published: Callable[[KindTraits], bool]
    unit: str
    comparison: cw.ComparisonOperator
    default: Callable[[EndpointKind], SeverityThresholds]
    look_first_at: str
    per: Per
    metric: Callable[[SignalContext, Any], cw.IMetric]
    threshold: Callable[[SignalContext, float], float]
    window: Callable[[SignalContext, float], Datapoints]
    summary: Callable[[SignalContext, str, float], str]
    rule: Callable[[float], bool]
    allowed: str
    applies: Callable[[SignalContext], bool] = lambda ctx: True
    widget: str | None = None
    annotate_default: bool = True
    slo: str | None = None
    rollback: bool = False
    number_is: Severity | None = None

    def defaults(self, kind: EndpointKind) -> SeverityThresholds:
        return self.default(kind)

    @property
    def kinds(self) -> frozenset[EndpointKind]:
        """The endpoint kinds whose traits publish this signal's metric."""
        return kinds_where(self.published)


def _fixed(warning: float | None = None, critical: float | None = None) -> Callable[[EndpointKind], SeverityThresholds]:
    value = SeverityThresholds(warning=warning, critical=critical)
    return lambda kind: value


def _half_the_invocation_timeout(kind: EndpointKind) -> SeverityThresholds:
    """Critical at half the kind's invocation timeout (``KindTraits.invocation_timeout_ms``: 30 s; 450 s
    for async): beyond it requests are close to timing out."""
    return SeverityThresholds(critical=traits_of(kind).invocation_timeout_ms // 2)


def _percent(v: float) -> bool:
    return 0 < v <= 100


def _worst_p99(ctx: SignalContext, scopes: list[Scope]) -> cw.IMetric:
    metrics = [invocation_metric(ctx.endpoint, EndpointMetric.MODEL_LATENCY, s, statistic=Statistic.P99) for s in scopes]
    if len(metrics) == 1:
        return metrics[0]
    using = {metric_id("p99", str(i)): m for i, m in enumerate(metrics)}
    return cw.MathExpression(expression=f"MAX([{', '.join(using)}])", using_metrics=using,
                             label="p99 ModelLatency (microseconds)", period=Duration.minutes(1))


def _five_minutes(ctx: SignalContext, value: float) -> Datapoints:
    return Datapoints(Duration.minutes(5), 3, 3)


def _minutes_of_five(ctx: SignalContext, value: float) -> Datapoints:
    periods = max(1, int(value) // 5)
    return Datapoints(Duration.minutes(5), periods, periods)


def _whole_minutes(ctx: SignalContext, value: float) -> Datapoints:
    return Datapoints(Duration.minutes(1), int(value), int(value))


_GE = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
_GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD

SIGNALS: tuple[Signal, ...] = (
    Signal(
        key="error_rate_5xx_percent", name="5xx-rate", published=_per_scope(EndpointMetric.INVOCATION_5XX_ERRORS),
        unit="% of requests answered 5XX",
        comparison=_GE, default=_fixed(1.0, 5.0), per=Per.INVOCATIONS,
        look_first_at="the model container logs in CloudWatch Logs /aws/sagemaker/Endpoints/{name} (stack traces, "
                      "out-of-memory kills), then whether a deployment is in progress",
        metric=lambda ctx, scopes: error_ratio(ctx.endpoint, scopes, EndpointMetric.INVOCATION_5XX_ERRORS,
                                               period=Duration.minutes(1), percent=True, label="5XX rate (%)"),
        threshold=lambda ctx, v: v, window=lambda ctx, v: ctx.one_minute(),
        summary=lambda ctx, where, v: (f"{ctx.name}{where} answered >= {v:g} % of requests with 5XX in "
                                       f"{ctx.datapoints_to_alarm} of {ctx.evaluation_periods} minutes."),
        rule=_percent, allowed="a percentage in (0, 100]", widget="errors", slo="availability", rollback=True,
    ),
    Signal(
        key="model_latency_p99_ms", name="p99-model-latency", published=_per_scope(EndpointMetric.MODEL_LATENCY),
        unit="ms of p99 ModelLatency",
        comparison=_GT, default=_half_the_invocation_timeout, per=Per.INVOCATIONS,
        look_first_at="GPU utilization and the instances in service on the dashboard {name} (is autoscaling at "
                      "its maximum?), then request payload sizes",
        metric=_worst_p99, threshold=lambda ctx, v: v * 1000,  # ModelLatency is in microseconds
        window=lambda ctx, v: ctx.one_minute(),
        summary=lambda ctx, where, v: (f"p99 ModelLatency of {ctx.name}{where} above {v:g} ms in "
                                       f"{ctx.datapoints_to_alarm} of {ctx.evaluation_periods} minutes."),
        rule=lambda v: v >= 1, allowed=">= 1 ms", widget="model-latency", annotate_default=False, slo="latency",
        rollback=True,
    ),
    Signal(
        key="gpu_memory_percent", name="gpu-memory", published=_per_instance(InstanceMetric.GPU_MEMORY_UTILIZATION),
        unit="% of GPU memory, per GPU",
        comparison=_GE, default=_fixed(95.0), per=Per.VARIANT,
        look_first_at="the container's batch size / KV-cache settings and model size on the dashboard {name}; "
                      "an instance type with more GPU memory if it stays high",
        metric=lambda ctx, variant: ctx.endpoint.metric_gpu_memory_utilization(variant_name=variant,
                                                                               statistic=Statistic.MAXIMUM),
        threshold=lambda ctx, v: v * ctx.gpus,  # the metric is summed over the instance's GPUs
        window=_five_minutes,
        summary=lambda ctx, where, v: (f"GPU memory of {ctx.name}{where} >= {v:g} % per GPU ({ctx.gpus} GPU(s) "
                                       "per instance) for 15 minutes."),
        rule=_percent, allowed="a percentage in (0, 100]", applies=lambda ctx: ctx.gpu, widget="gpu",
    ),
    Signal(
        key="disk_percent", name="disk", published=_per_instance(InstanceMetric.DISK_UTILIZATION),
        unit="% of the storage volume",
        comparison=_GE, default=_fixed(80.0, 90.0), per=Per.VARIANT,
        look_first_at="what the container writes to its storage volume (logs, downloaded artifacts) in "
                      "/aws/sagemaker/Endpoints/{name}; a larger volume_size_gb",
        metric=lambda ctx, variant: ctx.endpoint.metric_disk_utilization(variant_name=variant,
                                                                         statistic=Statistic.MAXIMUM),
        threshold=lambda ctx, v: v, window=_five_minutes,
        summary=lambda ctx, where, v: f"Disk of {ctx.name}{where} >= {v:g} % for 15 minutes.",
        rule=_percent, allowed="a percentage in (0, 100]", widget="disk",
    ),
    Signal(
        key="at_max_capacity_minutes", name="at-max-capacity", published=lambda t: t.capacity_in_instances,
       
        unit="minutes at the autoscaling maximum", comparison=_GE, default=_fixed(15), per=Per.VARIANT,
        look_first_at="p99 model latency and the invocations per instance on the dashboard {name}; raise "
                      "autoscaling max or the instance type",
        metric=lambda ctx, variant: instance_count(ctx.endpoint, variant, period=Duration.minutes(5)),
        threshold=lambda ctx, v: ctx.max_capacity - 0.5,  # derived count: allow for rounding
        window=_minutes_of_five,
        summary=lambda ctx, where, v: (f"{ctx.name}{where} has run at its autoscaling maximum of {ctx.max_capacity} "
                                       f"instances for {max(1, int(v) // 5) * 5} minutes (instances derived from "
                                       "Invocations / InvocationsPerInstance)."),
        rule=lambda v: 5 <= v <= 1440 and v % 5 == 0, allowed="a multiple of 5 minutes, 5-1440",
        applies=lambda ctx: ctx.max_capacity is not None, number_is=Severity.WARNING,
    ),
    Signal(
        key="backlog_without_capacity_minutes", name="backlog-without-capacity",
        published=_per_endpoint(EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY),
        unit="minutes with queued requests and no instance", comparison=_GE, default=_fixed(5, 15), per=Per.ENDPOINT,
        look_first_at="the scaling activities of the endpoint's scalable target (Application Auto Scaling), "
                      "instance quota and capacity errors in the SageMaker console for {name}",
        metric=lambda ctx, _: endpoint_metric(ctx.endpoint, EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY,
                                              statistic=Statistic.MAXIMUM),
        threshold=lambda ctx, v: 1, window=_whole_minutes,
        summary=lambda ctx, where, v: f"{ctx.name} has had queued requests and no instance for {int(v)} minutes.",
        rule=lambda v: float(v).is_integer() and 1 <= v <= 1440, allowed="whole minutes, 1-1440", widget=None,
    ),
    # Serverless cold starts: AWS/SageMaker ModelSetupTime, dimensions EndpointName + VariantName, in
    # microseconds, published for serverless endpoints only (SageMaker guide, "SageMaker AI endpoint
    # invocation metrics": "The time it takes to launch new compute resources for a serverless
    # endpoint", Units: Microseconds; "Alarms and logs for tracking metrics from serverless endpoints").
    # Default warning at 30 s, half the 60 s InvokeEndpoint timeout: a request waiting for such a cold
    # start is close to timing out. Maximum over 5 minutes, one period: cold starts are single events.
    Signal(
        key="model_setup_time_ms", name="model-setup-time", published=_per_variant(EndpointMetric.MODEL_SETUP_TIME),
       
        unit="ms of ModelSetupTime (cold start)", comparison=_GT, default=_fixed(30_000), per=Per.VARIANT,
        look_first_at="the model archive's size and the container's start-up in /aws/sagemaker/Endpoints/{name}; "
                      "provisioned_concurrency keeps capacity warm",
        metric=lambda ctx, variant: ctx.endpoint.metric_model_setup_time(variant_name=variant,
                                                                         statistic=Statistic.MAXIMUM),
        threshold=lambda ctx, v: v * 1000,  # ModelSetupTime is in microseconds
        window=lambda ctx, v: Datapoints(Duration.minutes(5), 1, 1),
        summary=lambda ctx, where, v: f"A cold start of {ctx.name}{where} took more than {v:g} ms (ModelSetupTime).",
        rule=lambda v: v >= 1, allowed=">= 1 ms", widget="model-setup",
    ),
)

SIGNALS_BY_KEY: dict[str, Signal] = {s.key: s for s in SIGNALS}
ROLLBACK_SIGNALS: tuple[str, ...] = tuple(s.key for s in SIGNALS if s.rollback)


class EndpointAlarmThresholds:
    """Alarm thresholds of one endpoint, keyed by signal (``SIGNALS``: ``error_rate_5xx_percent``,
    ``model_latency_p99_ms``, ``gpu_memory_percent``, ``disk_percent``, ``at_max_capacity_minutes``,
    ``backlog_without_capacity_minutes``, ...): ``{warning, critical}`` each, a key left out keeps the
    signal's default, ``SeverityThresholds()`` (or ``None``) switches it off. Defaults suit GPU serving
    (see each signal in ``SIGNALS``).

    :param evaluation_periods / datapoints_to_alarm: of the 1-minute error and latency alarms; default 2 of 3.
    """

    __slots__ = ("_given", "datapoints_to_alarm", "evaluation_periods")

    def __init__(self, *, evaluation_periods: int = 3, datapoints_to_alarm: int = 2,
                 **signals: SeverityThresholds | float | None) -> None:
        unknown = sorted(set(signals) - set(SIGNALS_BY_KEY))
        if unknown:
            raise TypeError(f"unknown alarm signal(s) {', '.join(unknown)}; known: {', '.join(SIGNALS_BY_KEY)}")
        given: dict[str, SeverityThresholds] = {}
        for key, value in signals.items():
            if value is None:
                value = SeverityThresholds()
            elif not isinstance(value, SeverityThresholds):  # a plain number: see Signal.number_is
                severity = SIGNALS_BY_KEY[key].number_is or Severity.WARNING
                value = SeverityThresholds(**{severity.value: value})
            given[key] = value
        object.__setattr__(self, "_given", MappingProxyType(given))
        object.__setattr__(self, "evaluation_periods", evaluation_periods)
        object.__setattr__(self, "datapoints_to_alarm", datapoints_to_alarm)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("EndpointAlarmThresholds is immutable")

    def of(self, key: str, kind: EndpointKind = EndpointKind.REALTIME) -> SeverityThresholds:
        """The thresholds of signal ``key`` on an endpoint of ``kind``: as given, else the signal's default."""
        return self._given.get(key) or SIGNALS_BY_KEY[key].defaults(kind)

    @property
    def given(self) -> Mapping[str, SeverityThresholds]:
        return self._given

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EndpointAlarmThresholds) and (
            dict(self._given), self.evaluation_periods, self.datapoints_to_alarm
        ) == (dict(other._given), other.evaluation_periods, other.datapoints_to_alarm)

    def __hash__(self) -> int:
        return hash((tuple(sorted(self._given.items())), self.evaluation_periods, self.datapoints_to_alarm))

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self._given.items()]
        return f"EndpointAlarmThresholds({', '.join(parts + [f'evaluation_periods={self.evaluation_periods}', f'datapoints_to_alarm={self.datapoints_to_alarm}'])})"


def watched_signals(deployment: Any, thresholds: EndpointAlarmThresholds, kind: EndpointKind) -> tuple[str, ...]:
    """Keys of the signals a ``DeploymentSpec`` rolls back on: its ``rollback_signals``, by default every
    signal of the registry marked ``rollback`` whose critical threshold is on; none without a deployment
    or with ``rollback_alarms=False``."""
    if deployment is None or not deployment.rollback_alarms:
        return ()
    if deployment.rollback_signals is not None:
        return tuple(deployment.rollback_signals)
    return tuple(k for k in ROLLBACK_SIGNALS if thresholds.of(k, kind).critical is not None)


def check_rollback(p: Problems, deployment: Any, thresholds: EndpointAlarmThresholds, kind: EndpointKind,
                   groups: int) -> None:
    """The deployment's choice of signals: rollback signals of the registry whose critical threshold is on,
    at most 10 alarms in all (``AutoRollbackConfig.Alarms``: 1-10), and a canary or linear step larger
    than the critical 5XX rate (both fleets publish under the same variant names, so a wholly broken
    canary of c % of the capacity shows about c % 5XX on the endpoint's alarm)."""
    names = watched_signals(deployment, thresholds, kind)
    w = "deployment.rollback_signals"
    for name in names:
        signal = SIGNALS_BY_KEY.get(name)
        if signal is None or not signal.rollback:
            p.add(w, name, f"signals a deployment can roll back on: {', '.join(ROLLBACK_SIGNALS)}")
        elif thresholds.of(name, kind).critical is None:
            p.add(w, name, f"a signal with a critical threshold (alarms.{name}.critical is off)")
    p.check(len(set(names)) == len(names), w, list(names), "each signal once")
    alarms = len(names) * groups
    if names:
        p.check(alarms <= limits.MAX_ROLLBACK_ALARMS, w, list(names),
                f"at most {limits.MAX_ROLLBACK_ALARMS} rollback alarms (AutoRollbackConfiguration): "
                f"{groups} alarm(s) per signal here")
    critical = thresholds.of("error_rate_5xx_percent", kind).critical
    if "error_rate_5xx_percent" in names and critical is not None:
        step = {"canary": ("canary_percent", deployment.canary_percent),
                "linear": ("step_percent", deployment.step_percent)}.get(deployment.strategy.value)
        if step is not None:
            p.check(step[1] > critical, f"deployment.{step[0]}", step[1],
                    f"more than alarms.error_rate_5xx_percent.critical ({critical:g} %): a wholly broken new fleet "
                    f"of {step[1]} % of the capacity shows about {step[1]} % 5XX and would not roll back")


def check_thresholds(p: Problems, where: str, t: EndpointAlarmThresholds, kind: EndpointKind | None = None) -> None:
    """The threshold rules of every signal, recorded in ``p`` as ``<where>.<key>.<severity>``."""
    for signal in SIGNALS:
        pair = t.of(signal.key, kind or EndpointKind.REALTIME)
        for severity, value in pair.items():
            p.check(signal.rule(value), f"{where}.{signal.key}.{severity.value}", value, signal.allowed)
        if pair.warning is not None and pair.critical is not None:
            p.check(pair.warning <= pair.critical, f"{where}.{signal.key}.warning", pair.warning,
                    f"at most the critical threshold ({pair.critical:g})")
    lo, hi = limits.ALARM_EVALUATION_PERIODS
    p.check(lo <= t.evaluation_periods <= hi, f"{where}.evaluation_periods", t.evaluation_periods, f"{lo}-{hi}")
    p.check(1 <= t.datapoints_to_alarm <= t.evaluation_periods, f"{where}.datapoints_to_alarm",
            t.datapoints_to_alarm, f"1-evaluation_periods ({t.evaluation_periods})")


def signal_scopes(signal: Signal, ctx: SignalContext) -> list[tuple[str, Any]]:
    """``(name suffix, scope)`` of each alarm of ``signal`` on this endpoint: variant groups whose metric
    math stays within 10 metrics per alarm, each variant, or the endpoint."""
    ep = ctx.endpoint
    if signal.per is Per.INVOCATIONS:
        groups = alarm_groups(ep, ctx.components)
        return [(f"-{g[0].label}" if len(groups) > 1 else "", g) for g in groups]
    if signal.per is Per.VARIANT:
        multi = len(ep.variant_names) > 1
        return [(f"-{v}" if multi else "", v) for v in ep.variant_names]
    return [("", None)]


def look_first_at(text: str, ctx: SignalContext) -> str:
    """A runbook line for this endpoint, naming the log group its kind's containers write to
    (``KindTraits.container_logs``: inference components log to their own groups)."""
    text = text.format(name=ctx.name)
    return text.replace(f"/aws/sagemaker/Endpoints/{ctx.name}", traits_of(ctx.kind).container_logs.format(name=ctx.name))


def applies(signal: Signal, ctx: SignalContext) -> bool:
    return signal.published(traits_of(ctx.kind)) and signal.applies(ctx)


def signal_alarms(
    factory: AlarmFactory,
    ctx: SignalContext,
    thresholds: EndpointAlarmThresholds,
    *,
    signals: Sequence[Signal] = SIGNALS,
    severities: Sequence[Severity] = (Severity.WARNING, Severity.CRITICAL),
    skip: Callable[[Signal, Severity], bool] = lambda signal, severity: False,
) -> dict[str, list[cw.Alarm]]:
    """One loop over the registry: the alarms of ``signals`` at ``severities`` (thresholds on), by
    ``<key>.<severity>``, created through ``factory`` (names, runbook line, window, routing); ``skip``
    leaves out a signal's severity (e.g. one whose alarm the endpoint created already)."""
    out: dict[str, list[cw.Alarm]] = {}
    for signal in signals:
        if not applies(signal, ctx):
            continue
        for severity, value in thresholds.of(signal.key, ctx.kind).items():
            if severity not in severities or skip(signal, severity):
                continue
            for suffix, scope in signal_scopes(signal, ctx):
                where = f" ({suffix[1:]})" if suffix else ""
                out.setdefault(f"{signal.key}.{severity.value}", []).append(factory.metric_alarm(
                    signal=f"{signal.name}{suffix}", severity=severity, metric=signal.metric(ctx, scope),
                    threshold=signal.threshold(ctx, value), comparison=signal.comparison,
                    datapoints=signal.window(ctx, value), summary=signal.summary(ctx, where, value),
                    look_first_at=look_first_at(signal.look_first_at, ctx),
                ))
    return out


def annotations(widget: str, ctx: SignalContext, thresholds: EndpointAlarmThresholds,
                skip: Callable[[Signal], bool] = lambda s: False) -> list[cw.HorizontalAnnotation]:
    """Threshold lines of the signals shown on dashboard widget ``widget``, in the graph's unit."""
    return [
        cw.HorizontalAnnotation(value=signal.threshold(ctx, value), label=f"{signal.name} {severity.value}")
        for signal in SIGNALS if signal.widget == widget and applies(signal, ctx) and not skip(signal)
        and (signal.annotate_default or signal.key in thresholds.given)
        for severity, value in thresholds.of(signal.key, ctx.kind).items()
    ]
