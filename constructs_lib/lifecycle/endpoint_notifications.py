"""``EndpointFailureNotifications``: endpoint failures and rollbacks become readable SNS messages."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..errors import Problems
from ._wiring import (
    METRICS_NAMESPACE,
    add_function_target,
    allow_describe_endpoints,
    allow_notifications,
    dead_letter_queue,
    deduplicated,
)
from .events import ENDPOINT_DETAIL_TYPES, EVENT_PATTERN_MAX_CHARS, on_endpoint_changes
from .reliable_function import ReliableFunction


class EndpointFailureNotifications(Construct):
    """An EventBridge rule for the given endpoints' state and deployment changes, and the
    ``endpoint_notifier`` function that publishes one notification to ``topic`` when an endpoint
    fails or rolls back.

    The rule target retries 8 times within 2 hours (``_wiring.TARGET_RETRY_ATTEMPTS``,
    ``TARGET_MAX_EVENT_AGE``) and then sends the event to ``dead_letter_queue`` (KMS-encrypted with ``key``; ``key``'s policy must let
    ``events.amazonaws.com`` use it, as :class:`PlatformKey` does). Exposes ``rule``, ``handler``
    (the :class:`ReliableFunction`), ``dead_letter_queue`` and ``deduplication_table`` (a redelivered
    event, same id, notifies once).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_names: Sequence[str] = (),
        endpoint_name_prefix: str | None = None,
        topic: sns.ITopic,
        key: kms.IKey,
        platform_name: str = "aiplatform",
        metrics_namespace: str = METRICS_NAMESPACE,
    ) -> None:
        super().__init__(scope, id)
        problems = Problems(f"EndpointFailureNotifications {self.node.path}")
        problems.check(
            (endpoint_name_prefix is None) != (not endpoint_names), "endpoint_names",
            f"{len(endpoint_names)} names and endpoint_name_prefix={endpoint_name_prefix!r}",
            "endpoint names, or a name prefix (endpoint_name_prefix) instead of them",
        )
        pattern_chars = len(json.dumps({"EndpointName": sorted(endpoint_names)})) + len(json.dumps(ENDPOINT_DETAIL_TYPES))
        problems.check(
            endpoint_name_prefix is not None or pattern_chars < EVENT_PATTERN_MAX_CHARS - 200, "endpoint_names",
            f"{len(endpoint_names)} names ({pattern_chars} characters of event pattern)",
            f"an event pattern under EventBridge's {EVENT_PATTERN_MAX_CHARS} characters: "
            "give endpoint_name_prefix instead of the names",
        )
        problems.raise_if_any()
        self.handler = ReliableFunction(
            self, "Handler",
            code_name="endpoint_notifier",
            description="Publishes SageMaker endpoint failures and rollbacks to the platform topic",
            key=key,
            environment={"TOPIC_ARN": topic.topic_arn, "PLATFORM_NAME": platform_name},
            metrics_namespace=metrics_namespace,
        )
        allow_notifications(self.handler, topic, key)
        self.deduplication_table = deduplicated(self.handler, key)
        allow_describe_endpoints(  # reads the failure reason when the event carries none
            self.handler, "DescribePlatformEndpoints", names=sorted(endpoint_names), prefix=endpoint_name_prefix,
            reason="sagemaker:DescribeEndpoint (read-only) on the endpoints named with the platform's prefix, the "
            "same endpoints the rule matches by that prefix: one ARN pattern for any number of endpoints.",
        )
        self.dead_letter_queue = dead_letter_queue(self, key)
        self.rule = on_endpoint_changes(
            self, "Rule", endpoint_names=endpoint_names, endpoint_name_prefix=endpoint_name_prefix,
            description="SageMaker endpoint state and deployment changes of the platform's endpoints",
        )
        add_function_target(self.rule, self.handler, self.dead_letter_queue)
