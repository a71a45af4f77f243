"""Observability: a dashboard per endpoint, built from the endpoint constructs' metric helpers."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from constructs_lib import limits
from constructs_lib.inference import InferenceEndpoint
from constructs_lib.observability import EndpointDashboard


class ObservabilityStack(Stack):
    def __init__(self, scope: Construct, id: str, *, endpoints: dict[str, InferenceEndpoint], **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.dashboards: dict[str, EndpointDashboard] = {}
        for name, endpoint in endpoints.items():
            accelerated = any(
                limits.is_accelerated(str(v.instance_type)) for v in endpoint.endpoint_config.production_variants
            )
            self.dashboards[name] = EndpointDashboard(
                self, "".join(p.capitalize() for p in name.split("-")) + "Dashboard",
                endpoint=endpoint, alarms=endpoint.alarms, gpu=accelerated,
            )
