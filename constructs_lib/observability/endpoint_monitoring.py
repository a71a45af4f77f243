"""``EndpointMonitoring``: the dashboard and severity-routed alarms of one SageMaker endpoint.

The alarms are made here, from the signal registry (``endpoint_signals``: signals, thresholds, their
rules); the dashboard is laid out by ``_endpoint_dashboard_rows``.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from .. import limits
from ..errors import Problems
from ..inference.base import EndpointBase
from ..inference.kinds import traits_of
from ..inference.metrics import EndpointMetric, InstanceMetric
from . import endpoint_signals as sig
from ._accelerators import gpus_per_instance as _gpus_of
from ._endpoint_dashboard_rows import dashboard_rows
from .alarms import AlarmFactory, AlarmRouting, Severity
from .endpoint_signals import EndpointAlarmThresholds, check_thresholds
from .slo import ServiceLevelObjective, burn_rate_alarms

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
    line, routing) in one loop over the signal registry (``endpoint_signals.SIGNALS``: 5XX rate, p99
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
        ) and InstanceMetric.GPU_UTILIZATION in traits_of(self.kind).instance_metrics
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
        for row in dashboard_rows(self, list(extra_alarms)):
            self.dashboard.add_widgets(*row)

    # -- alarms --------------------------------------------------------------------------------
    def signal_context(self) -> sig.SignalContext:
        """What the signal registry needs to know of this endpoint (alarms and dashboard annotations)."""
        t = self.thresholds
        return sig.SignalContext(
            endpoint=self.endpoint, components=self.components, gpu=self.gpu, gpus=self.gpus,
            max_capacity=self.max_capacity if traits_of(self.kind).capacity_in_instances else None,
            evaluation_periods=t.evaluation_periods, datapoints_to_alarm=t.datapoints_to_alarm,
        )

    def _look(self, text: str) -> str:
        return sig.look_first_at(text, self.signal_context())

    def slo_covers(self, signal: sig.Signal) -> bool:
        """True when this monitoring's SLO replaces ``signal``'s static alarm with burn-rate alarms."""
        slo = self.slo
        if slo is None or signal.slo is None:
            return False
        return {"availability": slo.availability_percent, "latency": slo.latency_ms}[signal.slo] is not None

    def _create_alarms(self) -> None:
        f, ep, ctx = self.alarm_factory, self.endpoint, self.signal_context()
        # The endpoint's own alarms (the critical alarms of the signals its deployment rolls back on) are
        # this monitoring's critical alarms of those signals: adopted, not created twice.
        own = {key: alarms for key, alarms in ep.signal_alarms.items() if alarms}
        for key, alarms in own.items():
            signal = sig.SIGNALS_BY_KEY[key.rsplit(".", 1)[0]]
            covered = self.slo_covers(signal)
            for alarm in alarms:
                f.adopt(
                    alarm, Severity.CRITICAL, roll_up=not covered,
                    reason=f"Rollback alarm of {ep.endpoint_name}'s deployments; with an {signal.slo} SLO its "
                           "burn-rate alarms page instead (a static threshold pages on low-traffic noise).",
                )
        sig.signal_alarms(
            f, ctx, self.thresholds,
            signals=[s for s in sig.SIGNALS if not self.slo_covers(s)],
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
    p: Problems, *, thresholds: EndpointAlarmThresholds | None, slo: ServiceLevelObjective | None,
    gpus_per_instance: int | None,
) -> None:
    """Every rule of :class:`EndpointMonitoring`'s props, recorded in ``p`` with prop paths
    (``thresholds.disk_percent.warning``); the platform config runs it too, renaming the paths.

    ``thresholds=None``: the caller checks them once elsewhere (the platform config passes one thresholds
    object to the endpoint and its monitoring, and ``check_endpoint_props`` already checks it as ``alarms``)."""
    if thresholds is not None:
        check_thresholds(p, "thresholds", thresholds)
    if gpus_per_instance is not None:
        p.check(gpus_per_instance >= 1, "gpus_per_instance", gpus_per_instance, ">= 1")
    if slo is not None:
        slo.check(p)
