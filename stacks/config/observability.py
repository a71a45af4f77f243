"""``observability``: platform-wide observability options (off by default).

``observability.prometheus.workspace``: ``create`` (an Amazon Managed Service for Prometheus workspace
in the training stack, encrypted with the platform key, retained) or the ARN of an existing workspace.
The HyperPod clusters' nodes then remote-write to it (``aps:RemoteWrite`` on that workspace only) and
``dashboards/grafana/`` holds the Grafana dashboards for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from constructs_lib.errors import Problem
from constructs_lib.observability.prometheus import WORKSPACE_ARN_RULE

from .base import Section, matching

if TYPE_CHECKING:
    from . import PlatformConfig

CREATE = "create"
_WORKSPACE = r"create|arn:aws[a-z-]*:aps:[a-z0-9-]+:\d{12}:workspace/ws-[A-Za-z0-9-]+"


class PrometheusSection(Section):
    workspace: Annotated[str, matching(_WORKSPACE, f"'create' or {WORKSPACE_ARN_RULE}")] = Field(
        description="'create' (a KMS-encrypted workspace in the training stack) or an existing workspace's ARN."
    )


class ObservabilitySection(Section):
    prometheus: PrometheusSection | None = Field(
        default=None, description="Amazon Managed Service for Prometheus: cluster nodes remote-write to it. Default off."
    )


def observability_problems(config: PlatformConfig) -> list[Problem]:
    prometheus = config.observability.prometheus if config.observability else None
    if prometheus is None or config.training_clusters:
        return []
    return [Problem("observability.prometheus", prometheus.model_dump(),
                    "only with training_clusters (their nodes remote-write to the workspace)")]


__all__ = ["CREATE", "ObservabilitySection", "PrometheusSection", "observability_problems"]
