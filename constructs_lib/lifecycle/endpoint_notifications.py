"""``EndpointFailureNotifications``: endpoint failures and rollbacks become readable SNS messages."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import sagemaker_events as ev
from ..compliance import acknowledge
from ..inference.base import endpoint_arn_for
from .reliable_function import ReliableFunction

# EventBridge -> Lambda target: retried for up to two hours, then the event goes to the DLQ.
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = Duration.hours(2)
ENDPOINT_DETAIL_TYPES = (ev.DetailType.ENDPOINT_STATE_CHANGE, ev.DetailType.ENDPOINT_DEPLOYMENT_STATE_CHANGE)


class EndpointFailureNotifications(Construct):
    """An EventBridge rule for the given endpoints' state and deployment changes, and the
    ``endpoint_notifier`` function that publishes one notification to ``topic`` when an endpoint
    fails or rolls back.

    The rule target retries ``TARGET_RETRY_ATTEMPTS`` times within ``TARGET_MAX_EVENT_AGE`` and then
    sends the event to ``dead_letter_queue`` (KMS-encrypted with ``key``; ``key``'s policy must let
    ``events.amazonaws.com`` use it, as :class:`PlatformKey` does). Exposes ``rule``, ``handler``
    (the :class:`ReliableFunction`) and ``dead_letter_queue``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_names: Sequence[str],
        topic: sns.ITopic,
        key: kms.IKey,
        platform_name: str = "aiplatform",
    ) -> None:
        super().__init__(scope, id)
        self.handler = ReliableFunction(
            self, "Handler",
            code_name="endpoint_notifier",
            description="Publishes SageMaker endpoint failures and rollbacks to the platform topic",
            key=key,
            environment={"TOPIC_ARN": topic.topic_arn, "PLATFORM_NAME": platform_name},
        )
        self.handler.add_to_role_policy(
            iam.PolicyStatement(sid="PublishNotifications", actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        self.handler.add_to_role_policy(  # the topic is KMS-encrypted
            iam.PolicyStatement(sid="EncryptNotifications", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn])
        )
        self.handler.add_to_role_policy(  # reads the failure reason when the event carries none
            iam.PolicyStatement(
                sid="DescribePlatformEndpoints", actions=["sagemaker:DescribeEndpoint"],
                resources=[endpoint_arn_for(self, name) for name in sorted(endpoint_names)],
            )
        )
        self.dead_letter_queue = sqs.Queue(
            self, "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "This queue is the dead-letter queue of the EventBridge target; it needs no DLQ of its own.",
            "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy",
        )
        self.rule = events.Rule(
            self, "Rule",
            description="SageMaker endpoint state and deployment changes of the platform's endpoints",
            event_pattern=events.EventPattern(
                source=[ev.SOURCE],
                detail_type=list(ENDPOINT_DETAIL_TYPES),
                detail={"EndpointName": sorted(endpoint_names)},
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                self.handler.function,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=TARGET_RETRY_ATTEMPTS,
                max_event_age=TARGET_MAX_EVENT_AGE,
            )
        )
