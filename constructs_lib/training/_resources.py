"""Private building blocks shared by the training constructs: keys, buckets, log groups.

Each helper applies the project's defaults for a stateful resource (explicit removal policy, KMS,
TLS-only, versioning) and acknowledges the compliance findings those defaults knowingly leave, next
to the resource that causes them.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.compliance import acknowledge
from constructs_lib.platform.key import allow_cloudwatch_logs

LOG_RETENTION = logs.RetentionDays.ONE_YEAR

_REPLICATION_FINDINGS = (
    "HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321-S3BucketReplicationEnabled",
)


def create_key(scope: Construct, id: str, *, description: str) -> kms.Key:
    """A customer managed key with rotation on that survives stack deletion."""
    key = kms.Key(
        scope,
        id,
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    allow_cloudwatch_logs(key, sid="AllowCloudWatchLogsOfThisAccount")
    return key


def encrypted_log_group(scope: Construct, id: str, *, key: kms.IKey) -> logs.LogGroup:
    """A KMS-encrypted log group kept for a year and retained with the stack's other records."""
    return logs.LogGroup(
        scope,
        id,
        encryption_key=key,
        retention=LOG_RETENTION,
        removal_policy=RemovalPolicy.RETAIN,
    )


def access_logs_bucket(scope: Construct, id: str) -> s3.Bucket:
    """Target bucket for S3 server access logs (SSE-S3: log delivery does not support SSE-KMS targets)."""
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        # Object ownership is left to aws-cdk-lib: log delivery uses a bucket policy with the
        # serverAccessLogsUseBucketPolicy feature flag and an ACL (ObjectWriter) without it.
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        bucket,
        "This bucket is the server access log target; logging its own writes would loop.",
        "AwsSolutions-S1",
        "HIPAA.Security-S3BucketLoggingEnabled",
        "NIST.800.53.R5-S3BucketLoggingEnabled",
        "PCI.DSS.321-S3BucketLoggingEnabled",
    )
    acknowledge(
        bucket,
        "S3 server access log delivery writes only to buckets encrypted with SSE-S3 (S3 user guide, "
        "'Enabling Amazon S3 server access logging'); the logs hold no training data.",
        "HIPAA.Security-S3DefaultEncryptionKMS",
        "NIST.800.53.R5-S3DefaultEncryptionKMS",
        "PCI.DSS.321-S3DefaultEncryptionKMS",
    )
    acknowledge(
        bucket,
        "Access logs stay in the account and region of the platform; cross-region replication is an "
        "account-level decision outside this construct.",
        *_REPLICATION_FINDINGS,
    )
    return bucket


def secure_bucket(
    scope: Construct, id: str, *, key: kms.IKey, access_logs: s3.IBucket, access_logs_prefix: str
) -> s3.Bucket:
    """KMS-encrypted, versioned, TLS-only, private bucket with server access logs, retained on delete."""
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix,
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        bucket,
        "Versioned and retained in the platform's region; cross-region replication is an account-level "
        "disaster-recovery decision outside this construct.",
        *_REPLICATION_FINDINGS,
    )
    return bucket
