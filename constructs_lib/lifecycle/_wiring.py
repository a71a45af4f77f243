"""What every lifecycle construct wires the same way: the EventBridge target with its own encrypted
dead-letter queue, publishing to the platform topic, and SageMaker ARNs built from names."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..compliance import acknowledge, nag_resource_id
from .reliable_function import ReliableFunction

# EventBridge -> Lambda target: retried for up to two hours, then the event goes to the DLQ.
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = Duration.hours(2)
# Powertools Metrics namespace of every lifecycle function (POWERTOOLS_METRICS_NAMESPACE).
METRICS_NAMESPACE = "AIPlatform"


def dead_letter_queue(scope: Construct, key: kms.IKey) -> sqs.Queue:
    """``DeadLetterQueue`` child of ``scope``: where EventBridge puts events it could not deliver.

    KMS-encrypted with ``key``, whose policy must let ``events.amazonaws.com`` use it
    (:class:`PlatformKey` does), or EventBridge drops the events silently.
    """
    queue = sqs.Queue(
        scope, "DeadLetterQueue",
        encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    acknowledge(
        queue,
        "This queue is the dead-letter queue of the EventBridge target; it needs no DLQ of its own.",
        "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy",
    )
    return queue


def add_function_target(rule: events.Rule, handler: ReliableFunction, queue: sqs.IQueue) -> None:
    """Invoke ``handler`` for ``rule``'s events: retried ``TARGET_RETRY_ATTEMPTS`` times within
    ``TARGET_MAX_EVENT_AGE``, then sent to ``queue``."""
    rule.add_target(
        targets.LambdaFunction(
            handler.function,
            dead_letter_queue=queue,
            retry_attempts=TARGET_RETRY_ATTEMPTS,
            max_event_age=TARGET_MAX_EVENT_AGE,
        )
    )


def allow_notifications(handler: ReliableFunction, topic: sns.ITopic, key: kms.IKey) -> None:
    """Let ``handler`` publish to ``topic``, which ``key`` encrypts."""
    handler.add_to_role_policy(
        iam.PolicyStatement(sid="PublishNotifications", actions=["sns:Publish"], resources=[topic.topic_arn])
    )
    handler.add_to_role_policy(
        iam.PolicyStatement(
            sid="EncryptNotifications", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]
        )
    )


def acknowledge_wildcards(handler: ReliableFunction, reason: str, *resources: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for exactly these wildcard ``resources`` of ``handler``'s role."""
    acknowledge(
        handler.role, reason, *(f"AwsSolutions-IAM5[Resource::{nag_resource_id(handler, r)}]" for r in resources)
    )


def json_environment(scope: Construct, value: Any) -> str:
    """``value`` as compact JSON for an environment variable; tokens in it (a cluster ARN attribute,
    an account id) are rendered by CloudFormation at deploy time."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    return Stack.of(scope).to_json_string(value) if Token.is_unresolved(text) else text


def sagemaker_arn(scope: Construct, resource: str, name: str) -> str:
    """``arn:<partition>:sagemaker:<region>:<account>:<resource>/<name>`` in ``scope``'s stack.

    SageMaker lower-cases resource names in ARNs (``model-package/Chat-Models/3`` is
    ``model-package/chat-models/3``), so the name is lower-cased too.
    """
    return Stack.of(scope).format_arn(service="sagemaker", resource=resource, resource_name=name.lower())
