"""Lifecycle glue: EventBridge rules and functions reacting to the platform's SageMaker events."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.lifecycle import EndpointFailureNotifications


class LifecycleStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        platform_name: str,
        endpoint_names: list[str],
        topic: sns.ITopic,
        key: kms.IKey,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.endpoint_notifications = None
        if endpoint_names:
            self.endpoint_notifications = EndpointFailureNotifications(
                self, "EndpointNotifications",
                endpoint_names=endpoint_names, topic=topic, key=key, platform_name=platform_name,
            )
