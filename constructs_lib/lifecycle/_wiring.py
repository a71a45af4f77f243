"""What every lifecycle construct wires the same way: the EventBridge target with its own encrypted
dead-letter queue, publishing to the platform topic, and SageMaker ARNs built from names."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..compliance import acknowledge, nag_resource_id
from ..inference.base import endpoint_arn_for
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


def allow_describe_endpoints(
    handler: ReliableFunction, sid: str, *, names: Sequence[str], prefix: str | None, reason: str
) -> None:
    """``sagemaker:DescribeEndpoint`` for ``handler`` on each named endpoint, or, with ``prefix``, on every
    endpoint whose name starts with it: one ARN pattern for any number of endpoints, acknowledged (cdk-nag
    AwsSolutions-IAM5) with ``reason``."""
    arns = [endpoint_arn_for(handler, f"{prefix}*")] if prefix is not None else [endpoint_arn_for(handler, n) for n in names]
    handler.add_to_role_policy(iam.PolicyStatement(sid=sid, actions=["sagemaker:DescribeEndpoint"], resources=arns))
    if prefix is not None:
        acknowledge_wildcards(handler, reason, arns[0])


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


# How long a notifier remembers an event id (EventBridge redelivers within hours: TARGET_MAX_EVENT_AGE
# plus Lambda's own asynchronous retries, at most 6 hours).
DEDUPLICATION_EXPIRY = Duration.hours(24)


def state_table(
    scope: Construct, id: str, *, key: kms.IKey, partition_key: str, removal_policy: RemovalPolicy,
    why_no_backup_plan: str, expiry_attribute: str | None = None,
) -> dynamodb.Table:
    """A small state table of the glue: on demand, encrypted with ``key``, point-in-time recovery, a
    string partition key and, where records expire, a TTL attribute; the backup-plan findings are
    acknowledged with ``why_no_backup_plan``."""
    table = dynamodb.Table(
        scope, id,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=expiry_attribute,
        removal_policy=removal_policy,
    )
    acknowledge(table, why_no_backup_plan, "HIPAA.Security-DynamoDBInBackupPlan", "NIST.800.53.R5-DynamoDBInBackupPlan")
    return table


def deduplicated(handler: ReliableFunction, key: kms.IKey) -> dynamodb.Table:
    """A ``DeduplicationTable`` next to ``handler`` and the environment that makes the handler notify
    once per EventBridge event id (``lambda_common.once_per_event``: Powertools idempotency).

    On demand, encrypted with ``key``, point-in-time recovery, TTL attribute ``expiration``, partition
    key ``id``. Destroyed with the stack: its records expire within a day and nothing else reads them.
    """
    table = state_table(
        handler.node.scope, "DeduplicationTable", key=key, partition_key="id", expiry_attribute="expiration",
        removal_policy=RemovalPolicy.DESTROY,
        why_no_backup_plan="The table holds only event ids seen in the last day (TTL); a backup plan would "
        "keep nothing worth restoring.",
    )
    handler.function.add_environment("DEDUPLICATION_TABLE", table.table_name)
    handler.function.add_environment(
        "DEDUPLICATION_EXPIRY_SECONDS", str(int(DEDUPLICATION_EXPIRY.to_seconds()))
    )
    handler.add_to_role_policy(
        iam.PolicyStatement(
            sid="RememberEventIds",
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            resources=[table.table_arn],
        )
    )
    handler.add_to_role_policy(
        iam.PolicyStatement(
            sid="EncryptEventIds",
            actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Stack.of(table).region}.amazonaws.com"}},
        )
    )
    return table
