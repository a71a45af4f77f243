"""HyperPodCluster: what the synthesized AWS::SageMaker::Cluster, its role and its helpers must say."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk.assertions import Match
from training_testkit import EKS_CLUSTER, EKS_CLUSTER_ARN, SLURM_CLUSTER, only, resources

pytestmark = pytest.mark.xdist_group("training-synth")

HASH = re.compile(r"^[0-9a-f]{16}$")


def _cluster(training_app, stack):
    return only(training_app.templates[stack], "AWS::SageMaker::Cluster")[1]


def _policy(template, logical_prefix):
    found = {
        k: v
        for k, v in resources(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith(logical_prefix)
    }
    assert len(found) == 1, sorted(found)
    return next(iter(found.values()))["Properties"]["PolicyDocument"]["Statement"]


def _lifecycle_uri(training_app, stack):
    cluster = training_app.slurm if stack == "slurm" else training_app.eks
    return {
        "Fn::Join": ["", ["s3://", {"Ref": "ClusterLifecycleBucketE043E63A"}, f"/{cluster.lifecycle_prefix}"]]
    }


# -- the cluster resource ---------------------------------------------------------------------------
def test_slurm_cluster_orchestration_recovery_and_provisioning(training_app):
    props = _cluster(training_app, "slurm")["Properties"]
    assert props["ClusterName"] == SLURM_CLUSTER
    assert props["Orchestrator"] == {"Slurm": {"SlurmConfigStrategy": "Managed"}}
    assert props["NodeRecovery"] == "Automatic"
    assert props["NodeProvisioningMode"] == "Continuous"


def test_slurm_cluster_sits_in_the_storage_subnet_with_the_efa_security_group(training_app):
    props = _cluster(training_app, "slurm")["Properties"]
    assert props["VpcConfig"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": ["NetworkEfaSecurityGroup3744DDDC", "GroupId"]}],
        "Subnets": [{"Ref": "NetworkVpcPrivateSubnet1Subnet6DD86AE6"}],
    }
    fsx = only(training_app.templates["slurm"], "AWS::FSx::FileSystem")[1]["Properties"]
    assert fsx["SubnetIds"] == props["VpcConfig"]["Subnets"]


def test_slurm_instance_groups_are_rendered_exactly(training_app):
    """One Slurm model, the API-driven one: node types and partitions in SlurmConfig, FSx mounted by
    HyperPod from InstanceStorageConfigs[].FsxLustreConfig, and our node work in OnInitComplete (runs
    after HyperPod's AMI-based initialization; API reference ClusterLifeCycleConfig, CFN schema
    AWS::SageMaker::Cluster ClusterLifeCycleConfig/ClusterFsxLustreConfig, aws-cdk-lib 2.275.0 CfnCluster)."""
    uri = _lifecycle_uri(training_app, "slurm")
    role = {"Fn::GetAtt": ["ClusterExecutionRole766E14D2", "Arn"]}
    lifecycle = {"SourceS3Uri": uri, "OnInitComplete": "on_init_complete.sh"}
    checks = ["InstanceStress", "InstanceConnectivity"]
    fsx = {
        "FsxLustreConfig": {
            "DnsName": {
                "Fn::Join": [
                    "",
                    [{"Ref": "Storage6B64FB91"}, ".fsx.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}],
                ]
            },
            "MountName": {"Fn::GetAtt": ["Storage6B64FB91", "LustreMountName"]},
            "MountPath": "/fsx",
        }
    }
    assert _cluster(training_app, "slurm")["Properties"]["InstanceGroups"] == [
        {
            "InstanceGroupName": "controller",
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 1,
            "ExecutionRole": role,
            "LifeCycleConfig": lifecycle,
            "InstanceStorageConfigs": [fsx],
            "SlurmConfig": {"NodeType": "Controller"},
        },
        {
            "InstanceGroupName": "login",
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 1,
            "ExecutionRole": role,
            "LifeCycleConfig": lifecycle,
            "InstanceStorageConfigs": [fsx],
            "SlurmConfig": {"NodeType": "Login"},
        },
        {
            "InstanceGroupName": "workers-p5",
            "InstanceType": "ml.p5.48xlarge",
            "InstanceCount": 4,
            "ExecutionRole": role,
            "LifeCycleConfig": lifecycle,
            "SlurmConfig": {"NodeType": "Compute", "PartitionNames": ["p5"]},
            "ThreadsPerCore": 1,
            "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}, fsx],
            "OnStartDeepHealthChecks": checks,
        },
        {
            "InstanceGroupName": "workers-g5",
            "InstanceType": "ml.g5.8xlarge",
            "InstanceCount": 2,
            "ExecutionRole": role,
            "LifeCycleConfig": lifecycle,
            "InstanceStorageConfigs": [fsx],
            "SlurmConfig": {"NodeType": "Compute"},
            "OnStartDeepHealthChecks": checks,
        },
    ]


def test_lifecycle_uri_points_at_the_deployed_content_addressed_prefix(training_app):
    cluster = training_app.slurm
    prefix, name, digest = cluster.lifecycle_prefix.split("/")
    assert (prefix, name) == ("hyperpod-lifecycle", SLURM_CLUSTER) and HASH.match(digest)
    deployment = only(training_app.templates["slurm"], "Custom::CDKBucketDeployment")
    assert deployment[1]["Properties"]["DestinationBucketName"] == {"Ref": "ClusterLifecycleBucketE043E63A"}
    assert deployment[1]["Properties"]["DestinationBucketKeyPrefix"] == cluster.lifecycle_prefix + "/"
    # Scripts are in place (and the role's policies attached) before HyperPod starts a node.
    depends = _cluster(training_app, "slurm")["DependsOn"]
    assert deployment[0] in depends
    assert {"ClusterLifecycleScriptsPolicy958631A6", "ClusterNetworkInterfacePolicy9DE3C123"} <= set(depends)
    assert "Storage6B64FB91" in depends


def test_cluster_waits_for_the_efa_self_rules(training_app):
    """EFA needs all traffic to and from the group itself (EC2 user guide, "Prepare an EFA-enabled
    security group"); those are separate rule resources a GetAtt on the group does not wait for."""
    depends = _cluster(training_app, "slurm")["DependsOn"]
    assert {
        "NetworkEfaSecurityGroupfromTrainingSlurmNetworkEfaSecurityGroup7F33164BALLTRAFFIC82215CA4",
        "NetworkEfaSecurityGrouptoTrainingSlurmNetworkEfaSecurityGroup7F33164BALLTRAFFICFD7C4F3D",
        "NetworkEfaSecurityGroupfromTrainingSlurmNetworkEfaSecurityGroup7F33164B9881023839122B8",
    } <= set(depends)
    # The endpoint group's rule names the EFA group as its source but is not one of its rules.
    assert not [d for d in depends if d.startswith("NetworkEndpointSecurityGroup")]


def test_lifecycle_asset_holds_the_scripts_and_the_generated_agent_config(training_app):
    keys = only(training_app.templates["slurm"], "Custom::CDKBucketDeployment")[1]["Properties"][
        "SourceObjectKeys"
    ]
    scripts_dir = training_app.outdir / f"asset.{keys[0].removesuffix('.zip')}"
    names = {p.name for p in scripts_dir.iterdir()}
    assert {
        "common.sh",
        "on_init_complete.sh",
        "on_create.sh",
        "mount_fsx.sh",
        "setup_slurm.sh",
        "install_cloudwatch_agent.sh",
        "node_config.py",
        "cloudwatch_agent_config.json",
    } <= names
    assert "__pycache__" not in names
    # HyperPod's legacy Slurm configuration reads this file name; the API-driven cluster must not have it.
    assert "provisioning_parameters.json" not in names
    agent = json.loads((scripts_dir / "cloudwatch_agent_config.json").read_text())
    gpu = agent["metrics"]["metrics_collected"]["nvidia_gpu"]
    assert agent["metrics"]["namespace"] == "AIPlatform/HyperPod"
    assert gpu["append_dimensions"] == {"ClusterName": SLURM_CLUSTER, "InstanceGroup": "__INSTANCE_GROUP__"}
    assert {"utilization_gpu", "memory_used"} <= set(gpu["measurement"])


def _workspace_id(training_app):
    return only(training_app.templates["slurm"], "AWS::APS::Workspace")[0]


def test_node_layout_comes_from_the_groups_and_the_file_system(training_app):
    layout = training_app.resolve("slurm", training_app.slurm.node_layout)
    assert layout == {
        "version": "2.0.0",
        "workload_manager": "slurm",
        "cluster_name": SLURM_CLUSTER,
        "groups": {"controller": "controller", "login": "login", "workers-p5": "compute", "workers-g5": "compute"},
        "shared_storage": {
            "dns_name": {
                "Fn::Join": [
                    "",
                    [
                        {"Ref": "Storage6B64FB91"},
                        ".fsx.",
                        {"Ref": "AWS::Region"},
                        ".",
                        {"Ref": "AWS::URLSuffix"},
                    ],
                ]
            },
            "mount_name": {"Fn::GetAtt": ["Storage6B64FB91", "LustreMountName"]},
            "mount_point": "/fsx",
        },
        # prometheus=PrometheusWorkspace(...) (test_cluster_observability_options.py)
        "prometheus": {"remote_write_url": {"Fn::Join": ["", [
            {"Fn::GetAtt": [_workspace_id(training_app), "PrometheusEndpoint"]}, "api/v1/remote_write"]]}},
    }


def test_no_provisioning_parameters_json_is_staged_only_the_node_layout(training_app):
    """SageMaker Developer Guide, "Migrating to API-driven Slurm configuration", step "Remove
    provisioning_parameters.json from Amazon S3": the two models are alternatives."""
    props = only(training_app.templates["slurm"], "Custom::CDKBucketDeployment")[1]["Properties"]
    staged = []
    for key in props["SourceObjectKeys"]:
        staged += [p.name for p in (training_app.outdir / f"asset.{key.removesuffix('.zip')}").iterdir()]
    assert "provisioning_parameters.json" not in staged
    folder = training_app.outdir / f"asset.{props['SourceObjectKeys'][1].removesuffix('.zip')}"
    assert [p.name for p in folder.iterdir()] == ["aiplatform_cluster.json"]
    text = (folder / "aiplatform_cluster.json").read_text()
    # A marker stands for a JSON string (quotes included) that the handler writes at deploy time.
    body = json.loads(re.sub(r"<<marker:0xbaba:(\d+)>>", r'"MARKER\1"', text))
    assert body["groups"]["controller"] == "controller" and body["groups"]["login"] == "login"
    assert (body["shared_storage"]["dns_name"], body["shared_storage"]["mount_name"]) == ("MARKER0", "MARKER1")
    markers = props["SourceMarkers"][1]
    assert markers["<<marker:0xbaba:1>>"] == {
        "Fn::Join": ["", ['"', {"Fn::GetAtt": ["Storage6B64FB91", "LustreMountName"]}, '"']]
    }


def test_eks_cluster_joins_the_given_eks_cluster_without_slurm_settings(training_app):
    cluster = _cluster(training_app, "eks")["Properties"]
    assert cluster["ClusterName"] == EKS_CLUSTER
    assert cluster["Orchestrator"] == {"Eks": {"ClusterArn": EKS_CLUSTER_ARN}}
    assert cluster["NodeRecovery"] == "Automatic"
    for group in cluster["InstanceGroups"]:
        assert "SlurmConfig" not in group
        assert group["LifeCycleConfig"] == {
            "SourceS3Uri": _lifecycle_uri(training_app, "eks"),
            "OnCreate": "on_create.sh",
        }
    assert cluster["InstanceGroups"][0]["OnStartDeepHealthChecks"] == [
        "InstanceStress",
        "InstanceConnectivity",
    ]
    layout = training_app.resolve("eks", training_app.eks.node_layout)
    assert layout["workload_manager"] == "eks" and "shared_storage" not in layout
    assert layout["groups"] == {"gpu": "compute", "cpu": "compute"}


def test_eks_cluster_uses_every_private_subnet_of_the_given_network(training_app):
    vpc_config = _cluster(training_app, "eks")["Properties"]["VpcConfig"]
    assert vpc_config["Subnets"] == [
        {"Ref": "NetworkVpcPrivateSubnet1Subnet6DD86AE6"},
        {"Ref": "NetworkVpcPrivateSubnet2Subnet1BDBE877"},
    ]
    endpoints = resources(training_app.templates["eks"], "AWS::EC2::VPCEndpoint")
    assert len(endpoints) == 13  # S3 gateway + 9 default + ec2, eks, eks-auth


def test_slurm_cluster_without_network_creates_one():
    from training_testkit import new_stack

    from constructs_lib.training import HyperPodCluster, InstanceGroup, SlurmNodeType

    cluster = HyperPodCluster(
        new_stack(),
        "Cluster",
        cluster_name="small",
        instance_groups=[
            InstanceGroup(
                name="controller",
                instance_type="ml.m5.xlarge",
                instance_count=1,
                slurm_node_type=SlurmNodeType.CONTROLLER,
            ),
            InstanceGroup(
                name="workers",
                instance_type="ml.g5.2xlarge",
                instance_count=1,
                slurm_node_type=SlurmNodeType.COMPUTE,
            ),
        ],
    )
    assert cluster.network.node.path == "Test/Cluster/Network"
    assert cluster.subnets == cluster.network.private_subnets
    stack = cluster.network.vpc.stack

    rule = cluster.on_cluster_event("Provisioning")
    assert stack.resolve(rule.node.default_child.event_pattern) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker HyperPod Cluster Event"],
        "detail": {"EventDetails": {"ClusterArn": [{"Fn::GetAtt": ["ClusterEB0386A7", "ClusterArn"]}]}},
    }

    from aws_cdk import aws_iam as iam

    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    cluster.grant_describe(reader)
    cluster.grant_software_update(reader)
    statements = stack.resolve(reader.node.find_child("DefaultPolicy").document)["Statement"]
    assert [sorted(s["Action"]) for s in statements] == [  # merged by @aws-cdk/aws-iam:minimizePolicies
        [
            "sagemaker:DescribeCluster",
            "sagemaker:DescribeClusterNode",
            "sagemaker:ListClusterNodes",
            "sagemaker:UpdateClusterSoftware",
        ]
    ]
    assert all(s["Resource"] == {"Fn::GetAtt": ["ClusterEB0386A7", "ClusterArn"]} for s in statements)


def test_no_physical_names_beyond_the_cluster_name(training_app):
    for stack in ("slurm", "eks"):
        template = training_app.templates[stack]
        for kind, name_prop in [
            ("AWS::IAM::Role", "RoleName"),
            ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
            ("AWS::S3::Bucket", "BucketName"),
            ("AWS::EC2::SecurityGroup", "GroupName"),
            ("AWS::Logs::LogGroup", "LogGroupName"),
            ("AWS::KMS::Key", "Alias"),
        ]:
            for logical_id, resource in resources(template, kind).items():
                assert name_prop not in resource.get("Properties", {}), logical_id


# -- execution role ---------------------------------------------------------------------------------
def test_execution_role_is_assumed_by_sagemaker_and_has_no_aws_managed_policy(training_app):
    role = training_app.templates["slurm"]["Resources"]["ClusterExecutionRole766E14D2"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role and "Policies" not in role


def test_network_interface_permissions_are_scoped(training_app):
    eni = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ec2:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":network-interface/*",
            ],
        ]
    }
    statements = {
        s["Sid"]: s for s in _policy(training_app.templates["slurm"], "ClusterNetworkInterfacePolicy")
    }
    assert statements["DescribeNetwork"]["Resource"] == "*"
    assert set(statements["DescribeNetwork"]["Action"]) == {
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
    }
    create = statements["CreateNetworkInterfaces"]
    assert create["Action"] == "ec2:CreateNetworkInterface"
    assert create["Resource"][0] == eni
    assert any("security-group/" in json.dumps(r) for r in create["Resource"])
    assert any("NetworkVpcPrivateSubnet1Subnet6DD86AE6" in json.dumps(r) for r in create["Resource"])
    assert statements["ManageNetworkInterfaces"]["Resource"] == eni
    assert set(statements["ManageNetworkInterfaces"]["Action"]) == {
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
        "ec2:DetachNetworkInterface",
    }
    assert statements["TagNewNetworkInterfaces"] == {
        "Action": "ec2:CreateTags",
        "Effect": "Allow",
        "Resource": eni,
        "Sid": "TagNewNetworkInterfaces",
        "Condition": {"StringEquals": {"ec2:CreateAction": "CreateNetworkInterface"}},
    }


def test_lifecycle_read_is_limited_to_the_cluster_prefix(training_app):
    prefix = training_app.slurm.lifecycle_prefix
    statements = {
        s["Sid"]: s for s in _policy(training_app.templates["slurm"], "ClusterLifecycleScriptsPolicy")
    }
    assert statements["ReadLifecycleScripts"]["Action"] == "s3:GetObject"
    assert statements["ReadLifecycleScripts"]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["ClusterLifecycleBucketE043E63A", "Arn"]}, f"/{prefix}/*"]]
    }
    assert statements["ListLifecycleScripts"]["Condition"] == {
        "StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}
    }
    assert statements["DecryptLifecycleScripts"]["Resource"] == {"Fn::GetAtt": ["PlatformKeyE2280810", "Arn"]}


def test_telemetry_permissions_name_the_cluster_log_groups_and_metric_namespaces(training_app):
    statements = {s["Sid"]: s for s in _policy(training_app.templates["slurm"], "ClusterTelemetryPolicy")}
    assert json.dumps(statements["CreateClusterLogGroup"]["Resource"]).endswith(
        ':log-group:/aws/sagemaker/Clusters/llm-pretrain/*"]]}'
    )
    assert statements["PutNodeMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": ["AIPlatform/HyperPod", "/aws/sagemaker/Clusters"]}
    }


def test_image_pull_is_limited_to_the_given_repository_on_slurm(training_app):
    statements = {
        s["Sid"]: s for s in _policy(training_app.templates["slurm"], "ClusterContainerRegistryPolicy")
    }
    assert statements["PullImages"]["Resource"] == {"Fn::GetAtt": ["PlatformRepositoryA1828E75", "Arn"]}
    assert set(statements) == {"EcrLogin", "PullImages"}
    eks = {s["Sid"]: s for s in _policy(training_app.templates["eks"], "ClusterContainerRegistryPolicy")}
    assert eks["PodIdentity"]["Resource"] == EKS_CLUSTER_ARN


def test_no_statement_grants_service_wide_actions(training_app):
    for stack in ("slurm", "eks"):
        for resource in resources(training_app.templates[stack], "AWS::IAM::ManagedPolicy").values():
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert not any(a == "*" or a.endswith(":*") for a in actions), statement


# -- intent helpers -----------------------------------------------------------------------------------
def test_event_rules_filter_on_this_cluster(training_app):
    template = training_app.template("slurm")
    for detail_type in (
        "SageMaker HyperPod Cluster State Change",
        "SageMaker HyperPod Cluster Node Health Event",
    ):
        template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "EventPattern": {
                    "source": ["aws.sagemaker"],
                    "detail-type": [detail_type],
                    "detail": {"ClusterArn": [{"Fn::GetAtt": ["ClusterEB0386A7", "ClusterArn"]}]},
                },
                "Targets": [Match.object_like({"DeadLetterConfig": Match.any_value()})],
            },
        )


def test_grant_node_management_names_the_cluster_arn(training_app):
    template = training_app.template("slurm")
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": "Operators93109ECD"}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": [
                            "sagemaker:BatchRebootClusterNodes",
                            "sagemaker:BatchReplaceClusterNodes",
                            "sagemaker:DescribeCluster",
                            "sagemaker:DescribeClusterNode",
                            "sagemaker:ListClusterNodes",
                        ],
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": ["ClusterEB0386A7", "ClusterArn"]},
                    }
                ],
                "Version": "2012-10-17",
            },
        },
    )


def test_metric_helpers_read_what_the_agent_publishes(training_app):
    from aws_cdk import Duration

    from constructs_lib.training.metrics import NAMESPACE, cloudwatch_agent_config

    cluster = training_app.slurm
    gpu = cluster.metric_gpu_utilization()
    assert (gpu.namespace, gpu.metric_name) == (NAMESPACE, "nvidia_smi_utilization_gpu")
    assert gpu.dimensions == {"ClusterName": SLURM_CLUSTER}
    memory = cluster.metric_gpu_memory_used(instance_group="workers-p5", statistic="Maximum")
    assert memory.metric_name == "nvidia_smi_memory_used"
    assert memory.dimensions == {"ClusterName": SLURM_CLUSTER, "InstanceGroup": "workers-p5"}
    assert memory.statistic == "Maximum"
    assert cluster.metric_gpu_temperature().statistic == "Maximum"
    assert cluster.metric_gpu_power_draw(period=Duration.minutes(5)).period.to_seconds() == 300
    # Every helper's metric is one the generated agent config collects.
    collected = cloudwatch_agent_config(cluster_name=SLURM_CLUSTER)["metrics"]["metrics_collected"]
    published = {f"nvidia_smi_{m}" for m in collected["nvidia_gpu"]["measurement"]}
    published |= {f"{section}_{m}" for section in ("mem", "disk") for m in collected[section]["measurement"]}
    # The node collector's helpers (node_monitoring) read constructs_lib.training.collector's names:
    # tests/test_cluster_monitoring.py and tests/training/test_node_collector.py.
    collector_helpers = {"metric_collector", "metric_idle_gpu_hours", "metric_gpu_hours", "metric_efa_errors"}
    helpers = [name for name in dir(cluster) if name.startswith("metric_") and name not in collector_helpers]
    assert len(helpers) == 7
    assert collector_helpers <= set(dir(cluster))
    for name in helpers:
        assert getattr(cluster, name)().metric_name in published


def test_metric_for_unknown_instance_group_is_refused(training_app):
    from constructs_lib.errors import PlatformValidationError

    with pytest.raises(
        PlatformValidationError, match=r"metric\.instance_group: got 'workers'; one of controller"
    ):
        training_app.slurm.metric_gpu_utilization(instance_group="workers")


def test_cluster_exposes_what_it_created(training_app):
    cluster = training_app.slurm
    assert cluster.network is training_app.network and cluster.shared_storage is training_app.storage
    assert [g.name for g in cluster.instance_groups] == ["controller", "login", "workers-p5", "workers-g5"]
    assert cluster.lifecycle_s3_uri.startswith("s3://")
    assert cluster.execution_role.node.id == "ExecutionRole"
    assert cluster.resource.node.id == "Resource"


def test_readme_simplest_example_builds():
    """The first example of the README constructs as written (synth is left to the big fixture)."""
    readme = (Path(__file__).resolve().parents[2] / "constructs_lib" / "training" / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)
    assert "from constructs_lib.training import HyperPodCluster" in code
    namespace: dict = {}
    exec(compile(code.replace("app.synth()", ""), "README.md", "exec"), namespace)  # noqa: S102
    cluster = namespace["stack"].node.find_child("Cluster")
    assert cluster.cluster_name == "llm-pretrain" and cluster.network.node.id == "Network"
