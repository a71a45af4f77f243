"""``EndpointDashboard``: the foundation's dashboard API, now the dashboard-only form of ``EndpointMonitoring``."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from ..inference.base import EndpointBase
from .endpoint_monitoring import EndpointMonitoring


class EndpointDashboard(Construct):
    """A CloudWatch dashboard for ``endpoint`` without alarms of its own: the widgets of
    :class:`EndpointMonitoring` (``create_alarms=False``) plus the state of ``alarms``.

    ``dashboard`` is the ``cw.Dashboard``; its name is ``<endpoint name>`` unless given. Prefer
    :class:`EndpointMonitoring`, which adds severity-routed alarms.
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
        self.monitoring = EndpointMonitoring(
            self, "Monitoring", endpoint=endpoint, gpu=gpu, extra_alarms=alarms, create_alarms=False,
            dashboard_name=dashboard_name,
        )
        self.dashboard = self.monitoring.dashboard
