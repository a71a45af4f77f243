"""``EndpointDashboard``: the first page an on-call engineer opens for one endpoint."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from ..inference.base import EndpointBase
from ..inference.metrics import Statistic

WIDGET_WIDTH = 8
WIDGET_HEIGHT = 6


class EndpointDashboard(Construct):
    """A CloudWatch dashboard for ``endpoint``, built only from its ``metric_*`` helpers.

    Rows: invocations and 5XX error rate (metric math), p50/p99 model latency; GPU and GPU-memory
    utilization (for accelerated instances, ``gpu=True``); and the state of ``alarms``.
    ``dashboard`` is the ``cw.Dashboard``; its name is ``<endpoint name>`` unless given.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: EndpointBase,
        alarms: Sequence[cw.IAlarm] = (),
        gpu: bool = True,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.dashboard = cw.Dashboard(
            self, "Resource",
            dashboard_name=dashboard_name or endpoint.endpoint_name,
            default_interval=Duration.hours(3),
        )
        for variant in endpoint.variant_names:
            self.dashboard.add_widgets(*self._variant_row(endpoint, variant, gpu))
        if alarms:
            self.dashboard.add_widgets(
                cw.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=3 * WIDGET_WIDTH, height=3)
            )

    @staticmethod
    def _variant_row(endpoint: EndpointBase, variant: str, gpu: bool) -> list[cw.IWidget]:
        invocations = endpoint.metric_invocations(variant_name=variant)
        errors = endpoint.metric_invocation_5xx_errors(variant_name=variant)
        error_rate = cw.MathExpression(
            expression="IF(invocations > 0, 100 * errors / invocations, 0)",
            using_metrics={"invocations": invocations, "errors": errors},
            label="5XX error rate (%)",
            period=Duration.minutes(1),
        )
        widgets: list[cw.IWidget] = [
            cw.GraphWidget(
                title=f"{variant}: invocations and 5XX rate",
                left=[invocations], right=[error_rate],
                right_y_axis=cw.YAxisProps(min=0, max=100, label="%", show_units=False),
                width=WIDGET_WIDTH, height=WIDGET_HEIGHT,
            ),
            cw.GraphWidget(
                title=f"{variant}: model latency (microseconds)",
                left=[
                    endpoint.metric_model_latency(variant_name=variant, statistic=Statistic.P50, label="p50"),
                    endpoint.metric_model_latency(variant_name=variant, statistic=Statistic.P99, label="p99"),
                ],
                width=WIDGET_WIDTH, height=WIDGET_HEIGHT,
            ),
        ]
        if gpu:
            widgets.append(
                cw.GraphWidget(
                    title=f"{variant}: GPU and GPU memory utilization (%)",
                    left=[
                        endpoint.metric_gpu_utilization(variant_name=variant, label="GPU"),
                        endpoint.metric_gpu_memory_utilization(variant_name=variant, label="GPU memory"),
                    ],
                    width=WIDGET_WIDTH, height=WIDGET_HEIGHT,
                )
            )
        return widgets
