"""The platform's artifact bucket: KMS-encrypted, versioned, access-logged, TLS-only, retained."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..compliance import acknowledge

# aws-cdk-lib feature flag (aws-s3): grant S3 log delivery by bucket policy instead of by ACL.
SERVER_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


class ArtifactBucket(Construct):
    """An S3 bucket for model artifacts, async inference output and data capture.

    ``bucket`` is encrypted with ``key`` (bucket keys on), versioned, TLS-only, with public access
    blocked and server access logs written to ``access_logs_bucket`` (created when not given,
    SSE-S3 since S3 log delivery cannot use KMS). Noncurrent versions expire after
    ``noncurrent_version_days``.

    :param bucket_name: physical name; default generated. A name derived from account and region
        lets other stacks import the bucket by name, without cross-stack exports.
    :param removal_policy: default ``RETAIN``: both buckets survive stack deletion.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        access_logs_bucket: s3.IBucket | None = None,
        bucket_name: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        noncurrent_version_days: int = 90,
    ) -> None:
        super().__init__(scope, id)
        # Server access logs are delivered under a bucket policy for logging.s3.amazonaws.com, never
        # through the LogDeliveryWrite ACL (which BucketOwnerEnforced ownership forbids: outside an app
        # with this flag, aws-cdk-lib falls back to the ACL and refuses the bucket). Pinned on this
        # construct's own node, so the app's cdk.json does not decide it.
        self.node.set_context(SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, True)
        if access_logs_bucket is None:
            logs = s3.Bucket(
                self,
                "AccessLogs",
                encryption=s3.BucketEncryption.S3_MANAGED,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                enforce_ssl=True,
                versioned=True,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                removal_policy=removal_policy,
                lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90))],
            )
            reason = "This is the server access log bucket; logging it to itself would recurse."
            acknowledge(
                logs,
                reason,
                "AwsSolutions-S1",
                "HIPAA.Security-S3BucketLoggingEnabled",
                "NIST.800.53.R5-S3BucketLoggingEnabled",
                "PCI.DSS.321-S3BucketLoggingEnabled",
            )
            sse_reason = "S3 server access log delivery supports only SSE-S3 target buckets, not SSE-KMS."
            acknowledge(
                logs,
                sse_reason,
                "HIPAA.Security-S3DefaultEncryptionKMS",
                "NIST.800.53.R5-S3DefaultEncryptionKMS",
                "PCI.DSS.321-S3DefaultEncryptionKMS",
            )
            access_logs_bucket = logs
        replication_reason = (
            "Cross-region replication needs a second region, which is a platform decision made per "
            "environment; versioning with retained noncurrent versions protects against deletion."
        )
        self.access_logs_bucket = access_logs_bucket
        self.bucket = s3.Bucket(
            self,
            "Resource",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix="artifacts/",
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(noncurrent_version_expiration=Duration.days(noncurrent_version_days))
            ],
        )
        for bucket in (self.bucket, access_logs_bucket):
            if isinstance(bucket, s3.Bucket):
                acknowledge(
                    bucket, replication_reason,
                    "HIPAA.Security-S3BucketReplicationEnabled",
                    "NIST.800.53.R5-S3BucketReplicationEnabled",
                    "PCI.DSS.321-S3BucketReplicationEnabled",
                )
