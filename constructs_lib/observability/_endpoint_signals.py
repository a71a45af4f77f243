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
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from ..inference.base import EndpointBase
from ..inference.metrics import ComponentMetric, EndpointMetric, Statistic
from ..inference.specs import EndpointKind
from . import _quotas

INSTANCE_KINDS = frozenset({EndpointKind.REALTIME, EndpointKind.MULTI_MODEL, EndpointKind.ASYNC,
                            EndpointKind.INFERENCE_COMPONENTS})
# Kinds whose instance count is derivable (they publish Invocations and InvocationsPerInstance).
INSTANCE_COUNT_KINDS = frozenset({EndpointKind.REALTIME, EndpointKind.MULTI_MODEL})
# Kinds without Invocations / OverheadLatency.
QUEUED_KINDS = frozenset({EndpointKind.ASYNC})


@dataclass(frozen=True)
class Scope:
    """Where invocation metrics of an endpoint live: a production variant or an inference component."""

    label: str
    variant: str | None = None
    component: str | None = None


def invocation_scopes(endpoint: EndpointBase, components: Sequence[str]) -> list[Scope]:
    if endpoint.kind is EndpointKind.INFERENCE_COMPONENTS:
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


def _groups(scopes: list[Scope], metrics_per_scope: int) -> list[list[Scope]]:
    """Scopes combined in one alarm while its metric math stays within CloudWatch's 10 metrics per
    alarm; otherwise one alarm per scope."""
    if len(scopes) * metrics_per_scope <= _quotas.MAX_METRICS_PER_ALARM:
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
    queued = endpoint.kind in QUEUED_KINDS
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


def instance_count(endpoint: EndpointBase, variant: str, *, period: Duration = Duration.minutes(1)) -> cw.MathExpression:
    """Instances in service behind ``variant``, derived from ``Invocations / InvocationsPerInstance``
    (no data while there is no traffic: nothing publishes the count itself)."""
    scope = Scope(label=variant, variant=variant)
    inv, ipi = metric_id(EndpointMetric.INVOCATIONS, variant), metric_id(EndpointMetric.INVOCATIONS_PER_INSTANCE, variant)
    return cw.MathExpression(
        expression=f"IF({ipi} > 0, {inv} / {ipi})",
        using_metrics={
            inv: invocation_metric(endpoint, EndpointMetric.INVOCATIONS, scope, period=period),
            ipi: invocation_metric(endpoint, EndpointMetric.INVOCATIONS_PER_INSTANCE, scope, period=period),
        },
        label=f"{variant}: instances in service (derived)", period=period,
    )


def copy_count(endpoint: EndpointBase, component: str, *, period: Duration = Duration.minutes(1)) -> cw.MathExpression:
    """Copies of an inference component, derived from ``Invocations / InvocationsPerCopy`` while it
    has traffic (no copy-count metric exists)."""
    scope = Scope(label=component, component=component)
    inv, ipc = metric_id(EndpointMetric.INVOCATIONS, component), metric_id(ComponentMetric.INVOCATIONS_PER_COPY, component)
    return cw.MathExpression(
        expression=f"IF({ipc} > 0, {inv} / {ipc})",
        using_metrics={
            inv: invocation_metric(endpoint, EndpointMetric.INVOCATIONS, scope, period=period),
            ipc: invocation_metric(endpoint, ComponentMetric.INVOCATIONS_PER_COPY, scope, period=period),
        },
        label=f"{component}: copies (derived)", period=period,
    )
