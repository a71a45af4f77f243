"""TrainingPlatform: training-job role, key, artifacts bucket, ECR, model registry and SSM parameters."""

from __future__ import annotations

import json

import pytest
from training_testkit import new_stack, resources

from constructs_lib.errors import PlatformValidationError

# Pinned logical ids of the stateful resources (a change would replace or orphan them).
KEY_ID = "PlatformKeyE2280810"
ARTIFACTS_ID = "PlatformArtifactsBucketA3CDE2B6"
ACCESS_LOGS_ID = "PlatformAccessLogsBucketC4F0B880"
REPOSITORY_ID = "PlatformRepositoryA1828E75"


@pytest.mark.xdist_group("training-synth")
class TestSynthesized:
    def test_stateful_resources_are_retained_under_pinned_ids(self, training_app):
        found = training_app.templates["slurm"]["Resources"]
        for logical_id in (KEY_ID, ARTIFACTS_ID, ACCESS_LOGS_ID, REPOSITORY_ID):
            assert found[logical_id]["DeletionPolicy"] == "Retain", logical_id
        assert found[KEY_ID]["Properties"]["EnableKeyRotation"] is True

    def test_artifacts_bucket_is_encrypted_versioned_logged_and_private(self, training_app):
        bucket = training_app.templates["slurm"]["Resources"][ARTIFACTS_ID]["Properties"]
        assert bucket["BucketEncryption"] == {
            "ServerSideEncryptionConfiguration": [
                {
                    "BucketKeyEnabled": True,
                    "ServerSideEncryptionByDefault": {
                        "KMSMasterKeyID": {"Fn::GetAtt": [KEY_ID, "Arn"]},
                        "SSEAlgorithm": "aws:kms",
                    },
                }
            ]
        }
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket["LoggingConfiguration"] == {
            "DestinationBucketName": {"Ref": ACCESS_LOGS_ID},
            "LogFilePrefix": "artifacts-bucket/",
        }
        assert all(bucket["PublicAccessBlockConfiguration"].values())

    def test_buckets_refuse_plain_http(self, training_app):
        policies = resources(training_app.templates["slurm"], "AWS::S3::BucketPolicy").values()
        tls = [p for p in policies if p["Properties"]["Bucket"] == {"Ref": ARTIFACTS_ID}]
        statement = tls[0]["Properties"]["PolicyDocument"]["Statement"][0]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    def test_repository_scans_on_push_with_immutable_tags_and_kms(self, training_app):
        repository = training_app.templates["slurm"]["Resources"][REPOSITORY_ID]["Properties"]
        assert repository == {
            "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": {"Fn::GetAtt": [KEY_ID, "Arn"]}},
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "ImageTagMutability": "IMMUTABLE",
            # Images do not pile up: untagged ones expire after 7 days, only the newest 100 stay.
            "LifecyclePolicy": {"LifecyclePolicyText": json.dumps({"rules": [
                {"rulePriority": 1, "description": "Expire untagged images",
                 "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 7,
                               "countUnit": "days"},
                 "action": {"type": "expire"}},
                {"rulePriority": 2, "description": "Keep the newest 100 images",
                 "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100},
                 "action": {"type": "expire"}},
            ]}, separators=(",", ":"))},
        }

    def test_model_package_groups(self, training_app):
        groups = resources(training_app.templates["slurm"], "AWS::SageMaker::ModelPackageGroup")
        assert sorted(g["Properties"]["ModelPackageGroupName"] for g in groups.values()) == [
            "llm-pretrain",
            "llm-sft",
        ]
        # The registry keeps every version and its approval history: retained like the other data.
        assert {(g["DeletionPolicy"], g["UpdateReplacePolicy"]) for g in groups.values()} == {("Retain", "Retain")}

    def test_ssm_parameters_publish_role_bucket_key_subnets_and_group(self, training_app):
        parameters = {
            p["Properties"]["Name"]: p["Properties"]
            for p in resources(training_app.templates["slurm"], "AWS::SSM::Parameter").values()
        }
        assert parameters["/aiplatform/training/execution-role-arn"]["Value"] == {
            "Fn::GetAtt": ["PlatformTrainingJobRoleD95CA8B1", "Arn"]
        }
        assert parameters["/aiplatform/training/artifacts-bucket-name"]["Value"] == {"Ref": ARTIFACTS_ID}
        assert parameters["/aiplatform/training/kms-key-arn"]["Value"] == {"Fn::GetAtt": [KEY_ID, "Arn"]}
        assert parameters["/aiplatform/training/subnet-ids"]["Type"] == "StringList"
        assert parameters["/aiplatform/training/security-group-id"]["Value"] == {
            "Fn::GetAtt": ["NetworkEfaSecurityGroup3744DDDC", "GroupId"]
        }
        assert "/aiplatform/training/ecr-repository-uri" in parameters

    def test_training_job_role_is_scoped(self, training_app):
        template = training_app.templates["slurm"]
        role = template["Resources"]["PlatformTrainingJobRoleD95CA8B1"]["Properties"]
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "sagemaker.amazonaws.com"
        }
        assert "ManagedPolicyArns" not in role
        policy = next(
            v
            for k, v in resources(template, "AWS::IAM::ManagedPolicy").items()
            if k.startswith("PlatformTrainingJob")
        )
        statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        assert statements["ReadWriteArtifacts"]["Resource"] == {
            "Fn::Join": ["", [{"Fn::GetAtt": [ARTIFACTS_ID, "Arn"]}, "/*"]]
        }
        assert statements["UsePlatformKey"]["Resource"] == {"Fn::GetAtt": [KEY_ID, "Arn"]}
        assert statements["PullTrainingImages"]["Resource"] == {"Fn::GetAtt": [REPOSITORY_ID, "Arn"]}
        assert statements["PutTrainingMetrics"]["Condition"] == {
            "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}
        }
        assert "TrainingJobs:log-stream:*" in json.dumps(statements["WriteTrainingLogs"]["Resource"])


def test_existing_key_is_used_and_no_key_is_created():
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Template

    from constructs_lib.training import TrainingPlatform

    stack = new_stack()
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    platform = TrainingPlatform(stack, "Platform", encryption_key=key, parameter_prefix="/team-a/training")
    template = Template.from_stack(stack).to_json()
    assert not resources(template, "AWS::KMS::Key") and platform.encryption_key is key
    names = sorted(p["Properties"]["Name"] for p in resources(template, "AWS::SSM::Parameter").values())
    from aws_cdk import aws_iam as iam

    pipeline = iam.Role(stack, "Pipeline", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    platform.grant_pass_training_role(pipeline)
    passes = stack.resolve(pipeline.node.find_child("DefaultPolicy").document)["Statement"]
    assert passes[0]["Action"] == "iam:PassRole"
    assert passes[0]["Resource"] == {"Fn::GetAtt": ["PlatformTrainingJobRoleD95CA8B1", "Arn"]}
    assert names == [
        "/team-a/training/artifacts-bucket-name",
        "/team-a/training/ecr-repository-uri",
        "/team-a/training/execution-role-arn",
        "/team-a/training/kms-key-arn",
    ]


def test_bad_model_package_group_names_and_prefix_are_refused():
    from constructs_lib.training import TrainingPlatform

    with pytest.raises(PlatformValidationError) as caught:
        TrainingPlatform(
            new_stack(),
            "Platform",
            model_package_groups=["ok", "not_ok", "ok"],
            parameter_prefix="/aws/training/",
        )
    assert [p.where for p in caught.value.problems] == [
        "model_package_groups[1]",
        "model_package_groups[2]",
        "parameter_prefix",
    ]
    with pytest.raises(PlatformValidationError, match=r"model_package_groups\[2\]: got 'ok'; a unique name"):
        TrainingPlatform(new_stack(), "Platform", model_package_groups=["ok", "other", "ok"])


def test_existing_artifacts_bucket_is_used_and_no_bucket_is_created():
    """One platform bucket: the role reads and writes it, and may use its key when it differs."""
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Template

    from constructs_lib.training import TrainingPlatform

    stack = new_stack()
    bucket_key = kms.Key.from_key_arn(
        stack, "BucketKey", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    bucket = s3.Bucket.from_bucket_attributes(
        stack, "Existing", bucket_name="platform-artifacts", encryption_key=bucket_key
    )
    platform = TrainingPlatform(stack, "Platform", artifacts_bucket=bucket)
    template = Template.from_stack(stack).to_json()
    assert not resources(template, "AWS::S3::Bucket")
    assert platform.artifacts_bucket is bucket and platform.access_logs_bucket is None
    policy = next(
        v
        for k, v in resources(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith("PlatformTrainingJob")
    )
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["ListArtifacts"]["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::platform-artifacts"]]
    }
    assert sorted(statements["UsePlatformKey"]["Resource"], key=str) == [
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        {"Fn::GetAtt": ["PlatformKeyE2280810", "Arn"]},
    ]
    parameters = {
        p["Properties"]["Name"]: p["Properties"]["Value"] for p in resources(template, "AWS::SSM::Parameter").values()
    }
    assert parameters["/aiplatform/training/artifacts-bucket-name"] == "platform-artifacts"
