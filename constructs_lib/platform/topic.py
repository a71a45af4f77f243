"""An encrypted SNS topic for alarms and lifecycle notifications."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..compliance import acknowledge
from .key import this_account

# Services that publish to the topic, with the statement id of their grant.
PUBLISHERS = {
    "cloudwatch.amazonaws.com": "AllowAlarmsOfThisAccount",
    "events.amazonaws.com": "AllowRulesOfThisAccount",
}


class NotificationTopic(Construct):
    """SNS topic encrypted with ``key``, TLS-only, with e-mail subscriptions.

    CloudWatch alarms and EventBridge rules of this account and region may publish to it
    (``aws:SourceAccount`` and ``aws:SourceArn`` conditions); their use of ``key`` is granted by
    :class:`PlatformKey`; with a key of your own, grant ``cloudwatch.amazonaws.com`` and
    ``events.amazonaws.com`` ``kms:GenerateDataKey*``/``kms:Decrypt`` yourself.

    :param emails: addresses subscribed to the topic; default none. Undeliverable messages go to
        ``subscription_dead_letter_queue`` (KMS-encrypted with ``key``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        display_name: str,
        emails: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self, "Resource", master_key=key, display_name=display_name, enforce_ssl=True
        )
        # Not ``grant_publish``: on an encrypted topic it also grants the service the key without any
        # condition. Each service publishes only for this account's alarms / rules (confused deputy).
        stack = Stack.of(self)
        for principal, sid in PUBLISHERS.items():
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(principal)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions=this_account(stack, principal),
                )
            )
        self.subscription_dead_letter_queue: sqs.Queue | None = None
        if emails:
            # Deliveries SNS gives up on land here instead of vanishing (key lets sns.amazonaws.com use it).
            self.subscription_dead_letter_queue = sqs.Queue(
                self, "SubscriptionDeadLetterQueue",
                encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            acknowledge(
                self.subscription_dead_letter_queue,
                "This queue is the dead-letter queue of the topic's subscriptions; it needs none of its own.",
                "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy",
            )
        for email in emails:
            self.topic.add_subscription(
                subs.EmailSubscription(email, dead_letter_queue=self.subscription_dead_letter_queue)
            )
