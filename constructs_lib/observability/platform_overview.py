"""``PlatformOverview``: every endpoint's key signals, every cluster's summary and all alarm states,
on as few CloudWatch dashboards as the quotas allow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from ..errors import Problems
from ..inference.base import EndpointBase
from ..inference.kinds import traits_of
from ..inference.metrics import EndpointMetric, Statistic
from . import _quotas
from . import endpoint_signals as sig
from ._layout import FULL_WIDTH, OVERVIEW_HEIGHT, WIDTH
from .cluster_monitoring import ClusterMonitoring


@dataclass
class _Block:
    """Widgets that stay together on one dashboard (one endpoint's or cluster's row)."""

    widgets: list[cw.IWidget]
    metrics: int
    links: list[str] = field(default_factory=list)


class PlatformOverview(Construct):
    """The platform on one page: per endpoint invocations with 5XX rate, p99 model latency and GPU (or
    CPU) utilization; per cluster GPU utilization, unhealthy-node events and FSx usage; the state of
    ``alarms``. Split over ``<dashboard_name>``, ``<dashboard_name>-2``, ... when a page would exceed
    CloudWatch's dashboard quotas (widgets, metrics per widget and per dashboard; see ``_quotas``);
    every page links to the others and the first carries the alarm states.

    :param endpoints: created or imported endpoints (``InferenceEndpoint.from_endpoint_name``).
    :param clusters: :class:`ClusterMonitoring` of each cluster; default none.
    :param alarms: shown in alarm status widgets (e.g. each endpoint's ``unhealthy`` alarm); default none.
    :param max_metrics_per_dashboard: default the quota; lower to split earlier.
    :param links: other dashboards every page links to, e.g. the other parts of an overview split over
        stacks (a sharded platform's front page and each shard's page); default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dashboard_name: str,
        endpoints: Sequence[EndpointBase] = (),
        clusters: Sequence[ClusterMonitoring] = (),
        alarms: Sequence[cw.IAlarm] = (),
        max_metrics_per_dashboard: int = _quotas.MAX_METRICS_PER_DASHBOARD,
        links: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        self.links = tuple(links)
        p = Problems(f"PlatformOverview {self.node.path}")
        p.check(len(dashboard_name) <= _quotas.MAX_DASHBOARD_NAME - 4, "dashboard_name", dashboard_name,
                f"at most {_quotas.MAX_DASHBOARD_NAME - 4} characters (pages add '-<n>')")
        p.check(1 <= max_metrics_per_dashboard <= _quotas.MAX_METRICS_PER_DASHBOARD, "max_metrics_per_dashboard",
                max_metrics_per_dashboard, f"1-{_quotas.MAX_METRICS_PER_DASHBOARD}")
        p.raise_if_any()

        status = [
            _Block([cw.AlarmStatusWidget(
                title="Alarms" if i == 0 else "Alarms (continued)",
                alarms=list(alarms[i: i + _quotas.MAX_ALARMS_PER_STATUS_WIDGET]), width=FULL_WIDTH,
                height=max(3, 1 + (min(len(alarms) - i, _quotas.MAX_ALARMS_PER_STATUS_WIDGET) + 3) // 4),
                sort_by=cw.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            )], 0)
            for i in range(0, len(alarms), _quotas.MAX_ALARMS_PER_STATUS_WIDGET)
        ]
        blocks = [*status, *(_cluster_block(c) for c in clusters), *(_endpoint_block(e) for e in endpoints)]
        pages = _paginate(blocks, max_metrics_per_dashboard)
        self.page_names = [dashboard_name if i == 0 else f"{dashboard_name}-{i + 1}" for i in range(len(pages))]
        self.dashboards: list[cw.Dashboard] = []
        for i, page in enumerate(pages):
            dashboard = cw.Dashboard(
                self, "Resource" if i == 0 else f"Page{i + 1}",
                dashboard_name=self.page_names[i], default_interval=Duration.hours(3),
            )
            dashboard.add_widgets(cw.TextWidget(markdown=self._header(i), width=FULL_WIDTH, height=2))
            for block in page:
                dashboard.add_widgets(*block.widgets)
            self.dashboards.append(dashboard)
        self.widget_counts = [1 + sum(len(b.widgets) for b in page) for page in pages]
        self.metric_counts = [sum(b.metrics for b in page) for page in pages]

    def _header(self, index: int) -> str:
        links = " | ".join(
            f"**page {i + 1}**" if i == index else f"[page {i + 1}](#dashboards:name={name})"
            for i, name in enumerate(self.page_names)
        )
        related = " | ".join(f"[{name}](#dashboards:name={name})" for name in self.links)
        if related:
            links = f"{links} | see also {related}"
        return f"**Platform overview** - {links}\n\nEach endpoint and cluster also has its own dashboard, named after it."


def _paginate(blocks: list[_Block], max_metrics: int) -> list[list[_Block]]:
    pages: list[list[_Block]] = [[]]
    widgets, metrics = 1, 0  # the header text widget
    for block in blocks:
        if pages[-1] and (
            widgets + len(block.widgets) > _quotas.MAX_WIDGETS_PER_DASHBOARD or metrics + block.metrics > max_metrics
        ):
            pages.append([])
            widgets, metrics = 1, 0
        pages[-1].append(block)
        widgets += len(block.widgets)
        metrics += block.metrics
    return pages


def count_metrics(metric: cw.IMetric) -> int:
    """Metrics a widget or alarm fetches for ``metric``: itself plus everything its math uses."""
    if isinstance(metric, cw.MathExpression):
        return 1 + sum(count_metrics(m) for m in metric.using_metrics.values())
    return 1


def _graph(title: str, left: list[cw.IMetric], right: Sequence[cw.IMetric] = (), **kw) -> tuple[cw.GraphWidget, int]:
    count = sum(count_metrics(m) for m in [*left, *right])
    if count > _quotas.MAX_METRICS_PER_WIDGET:
        raise ValueError(f"widget {title!r} would show {count} metrics (quota {_quotas.MAX_METRICS_PER_WIDGET})")
    return cw.GraphWidget(title=title, left=left, right=list(right), width=WIDTH, height=OVERVIEW_HEIGHT, **kw), count


def _endpoint_block(ep: EndpointBase) -> _Block:
    from .endpoint_monitoring import _component_names

    components = _component_names(ep)
    scopes = sig.invocation_scopes(ep, components)
    widgets: list[tuple[cw.GraphWidget, int]] = []
    name = ep.endpoint_name
    if scopes:
        one_minute = Duration.minutes(1)
        traffic = (
            [sig.invocation_metric(ep, EndpointMetric.MODEL_LATENCY, s, statistic=cw.Stats.SAMPLE_COUNT,
                                   label=f"{s.label} requests") for s in scopes]
            if not traits_of(ep.kind).counts_invocations
            else [sig.invocation_metric(ep, EndpointMetric.INVOCATIONS, s, label=f"{s.label} invocations") for s in scopes]
        )
        widgets.append(_graph(
            f"{name}: requests and 5XX rate (%)", traffic,
            right=[sig.error_ratio(ep, scopes, EndpointMetric.INVOCATION_5XX_ERRORS, period=one_minute, percent=True,
                                   label="5XX rate (%)")],
            right_y_axis=cw.YAxisProps(min=0, show_units=False),
        ))
        widgets.append(_graph(
            f"{name}: p99 model latency (microseconds)",
            [sig.invocation_metric(ep, EndpointMetric.MODEL_LATENCY, s, statistic=Statistic.P99, label=f"{s.label} p99")
             for s in scopes],
        ))
    if traits_of(ep.kind).has_instances:
        widgets.append(_graph(
            f"{name}: GPU / CPU utilization (%)",
            [m for v in ep.variant_names for m in (
                ep.metric_gpu_utilization(variant_name=v, label=f"{v} GPU"),
                ep.metric_cpu_utilization(variant_name=v, label=f"{v} CPU"),
            )],
        ))
    return _Block([w for w, _ in widgets], sum(c for _, c in widgets))


def _cluster_block(c: ClusterMonitoring) -> _Block:
    widgets = [
        _graph(f"{c.cluster_name}: GPU utilization (%)",
               [c.metrics.metric_gpu_utilization(statistic=cw.Stats.AVERAGE, label="average")]),
        _graph(f"{c.cluster_name}: unhealthy-node events", [c.metric_unhealthy_node_events()]),
    ]
    if c.file_system is not None:
        widgets.append(_graph(f"{c.cluster_name}: FSx used (%)", [c.metric_fsx_used_percent()],
                              left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False)))
    return _Block([w for w, _ in widgets], sum(n for _, n in widgets))
