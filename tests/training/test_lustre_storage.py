"""LustreStorage: persistent FSx for Lustre, retained, in the training subnet and security group."""

from __future__ import annotations

import pytest
from training_testkit import new_stack, only

from constructs_lib.errors import PlatformValidationError

# Logical ids of stateful resources are part of the contract: a change replaces (or orphans) data.
FILE_SYSTEM_ID = "Storage6B64FB91"
STORAGE_KEY_ID = "StorageKeyBAA9457B"


@pytest.mark.xdist_group("training-synth")
class TestSynthesized:
    def test_file_system_properties(self, training_app):
        logical_id, fsx = only(training_app.templates["slurm"], "AWS::FSx::FileSystem")
        assert logical_id == FILE_SYSTEM_ID
        assert fsx["Properties"] == {
            "FileSystemType": "LUSTRE",
            "FileSystemTypeVersion": "2.15",
            "StorageCapacity": 2400,
            "KmsKeyId": {"Ref": STORAGE_KEY_ID},
            "SubnetIds": [{"Ref": "NetworkVpcPrivateSubnet1Subnet6DD86AE6"}],
            "SecurityGroupIds": [{"Fn::GetAtt": ["NetworkEfaSecurityGroup3744DDDC", "GroupId"]}],
            "LustreConfiguration": {
                "DeploymentType": "PERSISTENT_2",
                "PerUnitStorageThroughput": 500,
                "DataCompressionType": "LZ4",
                "AutomaticBackupRetentionDays": 7,
                "CopyTagsToBackups": True,
            },
        }

    def test_file_system_and_key_survive_stack_deletion(self, training_app):
        resources = training_app.templates["slurm"]["Resources"]
        for logical_id in (FILE_SYSTEM_ID, STORAGE_KEY_ID):
            assert resources[logical_id]["DeletionPolicy"] == "Retain"
            assert resources[logical_id]["UpdateReplacePolicy"] == "Retain"
        assert resources[STORAGE_KEY_ID]["Properties"]["EnableKeyRotation"] is True

    def test_file_system_waits_for_every_rule_of_its_security_group(self, training_app):
        """FSx checks Lustre's ports at creation; a GetAtt on the group does not wait for its separate
        rule resources (aws-cdk PR #14431, aws-parallelcluster issue #6181)."""
        resources = training_app.templates["slurm"]["Resources"]
        group = {"Fn::GetAtt": ["NetworkEfaSecurityGroup3744DDDC", "GroupId"]}
        rules = sorted(
            k
            for k, r in resources.items()
            if r["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
            and r["Properties"]["GroupId"] == group
        )
        assert rules == [
            "NetworkEfaSecurityGroupfromTrainingSlurmNetworkEfaSecurityGroup7F33164B9881023839122B8",
            "NetworkEfaSecurityGroupfromTrainingSlurmNetworkEfaSecurityGroup7F33164BALLTRAFFIC82215CA4",
            "NetworkEfaSecurityGrouptoTrainingSlurmNetworkEfaSecurityGroup7F33164BALLTRAFFICFD7C4F3D",
        ]
        assert resources[FILE_SYSTEM_ID]["DependsOn"] == rules

    def test_data_repository_association(self, training_app):
        logical_id, dra = only(training_app.templates["slurm"], "AWS::FSx::DataRepositoryAssociation")
        assert logical_id == "StorageDataRepository04344B7E6"
        assert dra["Properties"] == {
            "FileSystemId": {"Ref": FILE_SYSTEM_ID},
            "FileSystemPath": "/datasets/c4",
            "DataRepositoryPath": "s3://aiplatform-datasets-example/c4/en/",
            "BatchImportMetaDataOnCreate": True,
            "S3": {"AutoImportPolicy": {"Events": ["NEW", "CHANGED", "DELETED"]}},
        }

    def test_exposes_mount_information(self, training_app):
        storage = training_app.storage
        assert storage.mount_point == "/fsx"
        assert training_app.resolve("slurm", storage.mount_name) == {
            "Fn::GetAtt": [FILE_SYSTEM_ID, "LustreMountName"]
        }
        assert storage.subnet is training_app.network.primary_subnet


def test_destroy_policy_and_persistent_1_when_asked():
    from aws_cdk import RemovalPolicy
    from aws_cdk.assertions import Template

    from constructs_lib.training import LustreDeploymentType, LustreStorage, TrainingNetwork

    stack = new_stack()
    network = TrainingNetwork(
        stack,
        "Network",
        availability_zones=["us-east-1a"],
        nat_gateways=0,
        interface_endpoints=(),
        flow_logs=False,
    )
    LustreStorage(
        stack,
        "Storage",
        network=network,
        deployment_type=LustreDeploymentType.PERSISTENT_1,
        removal_policy=RemovalPolicy.DESTROY,
        data_compression=False,
    )
    fsx = only(Template.from_stack(stack).to_json(), "AWS::FSx::FileSystem")[1]
    assert fsx["DeletionPolicy"] == "Delete"
    assert fsx["Properties"]["LustreConfiguration"]["DeploymentType"] == "PERSISTENT_1"
    assert fsx["Properties"]["LustreConfiguration"]["PerUnitStorageThroughput"] == 200
    assert fsx["Properties"]["LustreConfiguration"]["DataCompressionType"] == "NONE"


def _storage(**props):
    from constructs_lib.training import LustreStorage, TrainingNetwork

    stack = new_stack()
    network = TrainingNetwork(
        stack,
        "Network",
        availability_zones=["us-east-1a"],
        nat_gateways=0,
        interface_endpoints=(),
        flow_logs=False,
    )
    return LustreStorage(stack, "Storage", network=network, **props)


@pytest.mark.parametrize("size", [1000, 1201, 3600, 0, True])
def test_bad_storage_size_is_refused(size):
    with pytest.raises(
        PlatformValidationError,
        match=r"storage_capacity_gib: got .*; 1200, 2400 or a multiple of 2400 GiB for PERSISTENT_2",
    ):
        _storage(storage_capacity_gib=size)


def _file_system_properties(storage) -> dict:
    from aws_cdk import Stack
    from aws_cdk.assertions import Template

    return only(Template.from_stack(Stack.of(storage)).to_json(), "AWS::FSx::FileSystem")[1]["Properties"]


@pytest.mark.parametrize("size", [1200, 2400, 4800, 7200])
def test_valid_storage_sizes(size):
    assert _file_system_properties(_storage(storage_capacity_gib=size))["StorageCapacity"] == size


def test_bad_throughput_is_refused():
    from constructs_lib.training import LustreDeploymentType

    with pytest.raises(
        PlatformValidationError,
        match=r"per_unit_storage_throughput: got 200; one of 125, 250, 500, 1000 MB/s per TiB",
    ):
        _storage(per_unit_storage_throughput=200)
    with pytest.raises(
        PlatformValidationError, match=r"per_unit_storage_throughput: got 125; one of 50, 100, 200"
    ):
        _storage(deployment_type=LustreDeploymentType.PERSISTENT_1, per_unit_storage_throughput=125)


def test_bad_data_repositories_and_mount_point_are_refused_together():
    from aws_cdk import Duration
    from aws_cdk import aws_s3 as s3

    from constructs_lib.training import DataRepository

    stack = new_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "B", "data")
    repositories = [
        DataRepository(bucket=bucket, file_system_path="/datasets"),
        DataRepository(bucket=bucket, file_system_path="/datasets/c4"),
        DataRepository(bucket=bucket, file_system_path="datasets", prefix="/x"),
    ]
    with pytest.raises(PlatformValidationError) as caught:
        _storage(
            data_repositories=repositories, mount_point="fsx", automatic_backup_retention=Duration.days(91)
        )
    assert [p.where for p in caught.value.problems] == [
        "automatic_backup_retention",
        "mount_point",
        "data_repositories[1].file_system_path",
        "data_repositories[2].file_system_path",
    ]
    assert "a directory not inside or containing another association's (/datasets/)" in str(caught.value)


def test_rule_function_checks_props_without_a_construct():
    """``check_lustre_props`` is the one copy of the rules (the config schema calls it too)."""
    from constructs_lib.errors import Problems
    from constructs_lib.training import LustreDeploymentType
    from constructs_lib.training.storage import check_lustre_props

    problems = Problems("props")
    # No throughput given: the deployment type's default (200 for PERSISTENT_1) is valid.
    check_lustre_props(
        problems, storage_capacity_gib=2400, deployment_type="PERSISTENT_1", per_unit_storage_throughput=None
    )
    assert problems.items == []
    check_lustre_props(
        problems,
        storage_capacity_gib=3600,
        deployment_type=LustreDeploymentType.PERSISTENT_2,
        per_unit_storage_throughput=200,
    )
    assert [p.where for p in problems.items] == ["storage_capacity_gib", "per_unit_storage_throughput"]
    # A deployment type given as its string value gets that type's default throughput too.
    lustre = _file_system_properties(_storage(deployment_type="PERSISTENT_1"))["LustreConfiguration"]
    assert (lustre["DeploymentType"], lustre["PerUnitStorageThroughput"]) == ("PERSISTENT_1", 200)
