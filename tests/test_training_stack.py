"""The training stack from config: ``training_clusters`` and ``training`` validated with key paths, and
the default platform's HyperPod cluster, network, FSx for Lustre and training platform as synthesized.

Config rules come from the training constructs' own rule functions (one copy), so these tests also
pin that config and construct report the same thing. Synths: the session's ``default_platform`` and
one module-scoped platform with a Slurm cluster (controller, login, two worker groups, FSx with a
data repository) next to an EKS-orchestrated cluster, with account and region set (all nag packs).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from constructs_lib.errors import PlatformValidationError
from stacks.config import DEFAULT_CONFIG, parse_config
from tests.conftest import lint_assembly, only, resources_of

BASE = yaml.safe_load(DEFAULT_CONFIG.read_text())
# The default config's budgets name its endpoints and clusters and cap its estimated cost; these tests
# replace both, so they leave budgets out (budgets have their own tests).
BASE.pop("budgets", None)
EKS_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/platform-eks"
CONTROLLER = {"name": "controller", "role": "controller", "instance_type": "ml.m5.xlarge", "count": 1}
WORKERS = {
    "name": "workers",
    "role": "worker",
    "instance_type": "ml.p5.48xlarge",
    "count": 4,
    "deep_health_checks": ["InstanceStress", "InstanceConnectivity"],
    "ebs_volume_gb": 500,
}
PIPELINE = {
    "name": "llm-sft",
    "image_tag": "sft-1.0",
    "instance_type": "ml.p4d.24xlarge",
    "instance_count": 2,
    "distribution": "torch_distributed",
    "hyperparameters": {"epochs": "3"},
    "managed_spot": {"max_wait_hours": 48},
    "model_package_group": "llm-sft",
    "inference_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-serve:1",
    "schedule": "cron(0 2 ? * SUN *)",
}
# The config example: the mapping form of distribution, an entry point and two channels.
PRETRAIN = {
    "name": "llm-pretrain",
    "image_tag": "v1",
    "instance_type": "ml.p5.48xlarge",
    "instance_count": 4,
    "distribution": {"kind": "torch_distributed", "data_parallel": "smddp"},
    "entry_point": {"script": "train.py", "source_prefix": "code/llm-pretrain/"},
    "channels": [
        {"name": "train", "s3_prefix": "datasets/llm/train/", "distribution": "ShardedByS3Key", "input_mode": "FastFile"},
        {"name": "validation", "s3_prefix": "datasets/llm/val/"},
    ],
}
# Logical ids of the training stack's stateful resources: a rename replaces (or orphans) them.
STATEFUL_IDS = {
    "llmpretrainStorageCB89BDE4": "AWS::FSx::FileSystem",
    "PlatformRepositoryA1828E75": "AWS::ECR::Repository",
    "PlatformModelPackageGroupchatllmmodels5FE6348B": "AWS::SageMaker::ModelPackageGroup",
}
CLUSTER_ID = "llmpretrainCluster82CA11E4"
EFA_GROUP_ID = "llmpretrainNetworkEfaSecurityGroupD56618E9"


def with_clusters(*clusters, **sections):
    data = copy.deepcopy(BASE)
    data["training_clusters"] = [copy.deepcopy(c) for c in clusters]
    data.update(copy.deepcopy(sections))
    return data


def slurm(**changes):
    return {"name": "llm-pretrain", "orchestrator": "slurm", "instance_groups": [CONTROLLER, WORKERS], **changes}


def problems_of(data) -> list[str]:
    with pytest.raises(PlatformValidationError) as caught:
        parse_config(data, source="training.yaml")
    return [str(p) for p in caught.value.problems]


# -- config ---------------------------------------------------------------------------------------
def test_contract_example_is_accepted_as_written():
    example = yaml.safe_load(
        """
        - name: llm-pretrain
          orchestrator: slurm         # slurm | eks
          node_recovery: automatic    # automatic | none
          instance_groups:
            - {name: controller, role: controller, instance_type: ml.m5.xlarge, count: 1}
            - {name: workers, role: worker, instance_type: ml.p5.48xlarge, count: 4,
               deep_health_checks: [InstanceStress, InstanceConnectivity], ebs_volume_gb: 500}
          fsx_lustre: {storage_gib: 1200, throughput_mbps_per_tib: 250}
        """
    )
    config = parse_config(with_clusters(*example), source="example.yaml")
    (cluster,) = config.training_clusters
    assert [(g.name, g.role, g.count) for g in cluster.instance_groups] == [
        ("controller", "controller", 1),
        ("workers", "worker", 4),
    ]
    assert cluster.fsx_lustre.storage_gib == 1200


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, {**CONTROLLER, "name": "controller-2"}, WORKERS])),
            r"training_clusters\[0\]\.instance_groups: got \['controller', 'controller-2'\]; "
            r"exactly one group with role controller",
            id="two-controllers",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, {**WORKERS, "instance_type": "ml.p9.96xlarge"}])),
            r"training_clusters\[0\]\.instance_groups\[1\]\.instance_type: got 'ml\.p9\.96xlarge'; "
            r"one of \d+ values, e\.g\. ml\.",
            id="unknown-instance-type",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[])),
            r"training_clusters\[0\]\.instance_groups: got '0 groups'; 1-100 instance groups",
            id="zero-groups",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, *({**WORKERS, "name": f"w{i}"} for i in range(100))])),
            r"training_clusters\[0\]\.instance_groups: got '101 groups'; 1-100 instance groups",
            id="101-groups",
        ),
        pytest.param(
            with_clusters(
                slurm(instance_groups=[CONTROLLER, {**WORKERS, "deep_health_checks": ["InstanceStress", "GpuBurn"]}])
            ),
            r"training_clusters\[0\]\.instance_groups\[1\]\.deep_health_checks\[1\]: got 'GpuBurn'; "
            r"values among InstanceStress, InstanceConnectivity",
            id="bad-health-check",
        ),
        pytest.param(
            with_clusters(slurm(fsx_lustre={"storage_gib": 3600})),
            r"training_clusters\[0\]\.fsx_lustre\.storage_gib: got 3600; 1200, 2400 or a multiple of 2400 GiB "
            r"for PERSISTENT_2",
            id="bad-fsx-size",
        ),
        pytest.param(
            with_clusters(slurm(fsx_lustre={"storage_gib": 2400, "throughput_mbps_per_tib": 250, "deployment_type": "PERSISTENT_1"})),
            r"training_clusters\[0\]\.fsx_lustre\.throughput_mbps_per_tib: got 250; one of 50, 100, 200 MB/s per TiB "
            r"for PERSISTENT_1",
            id="throughput-for-deployment-type",
        ),
        pytest.param(
            with_clusters({"name": "eks-train", "orchestrator": "eks", "instance_groups": [WORKERS]}),
            r"training_clusters\[0\]\.eks_cluster_arn: got None; an EKS cluster ARN, "
            r"arn:<partition>:eks:<region>:<account>:cluster/<name>",
            id="eks-without-arn",
        ),
        pytest.param(
            with_clusters({"name": "eks-train", "orchestrator": "eks", "eks_cluster_arn": EKS_ARN,
                           "instance_groups": [CONTROLLER, WORKERS]}),
            r"training_clusters\[0\]\.instance_groups\[0\]\.role: got 'controller'; worker \(or unset\) with "
            r"orchestrator eks",
            id="eks-with-controller-role",
        ),
        pytest.param(
            with_clusters(slurm(eks_cluster_arn=EKS_ARN)),
            r"training_clusters\[0\]\.eks_cluster_arn: got '.*'; only with orchestrator eks",
            id="eks-arn-on-slurm",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, WORKERS, WORKERS])),
            r"training_clusters\[0\]\.instance_groups\[2\]\.name: got 'workers'; a unique name; "
            r"instance_groups\[1\] has it too",
            id="duplicate-group-names",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[{**CONTROLLER, "count": 2}, WORKERS])),
            r"training_clusters\[0\]\.instance_groups\[0\]\.count: got 2; 1 for the controller group",
            id="controller-count",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, {**WORKERS, "count": 6759}])),
            r"training_clusters\[0\]\.instance_groups\[1\]\.count: got 6759; an integer 0-6758",
            id="count-range",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, {**WORKERS, "threads_per_core": 4}])),
            r"training_clusters\[0\]\.instance_groups\[1\]\.threads_per_core: got 4; 1 \(multithreading off\) or 2",
            id="threads-per-core",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, {**WORKERS, "ebs_volume_gb": 16385}])),
            r"training_clusters\[0\]\.instance_groups\[1\]\.ebs_volume_gb: got 16385; 1-16384 GB",
            id="ebs-size",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, {**WORKERS, "training_plan_arn": "plan-7"}])),
            r"training_clusters\[0\]\.instance_groups\[1\]\.training_plan_arn: got 'plan-7'",
            id="training-plan-arn",
        ),
        pytest.param(
            with_clusters(slurm(name="bad_name")),
            r"training_clusters\[0\]\.name: got 'bad_name'; 1-63 letters, digits and hyphens",
            id="cluster-name-pattern",
        ),
        pytest.param(
            with_clusters(slurm(name="n" * 60)),
            r"training_clusters\[0\]\.name: got 'n+'; a name short enough that 'acme-ml-dev-n+' "
            r"\(platform-environment-name\) has at most 63 characters",
            id="physical-name-length",
        ),
        pytest.param(
            with_clusters(slurm(), slurm()),
            r"training_clusters\[1\]\.name: got 'llm-pretrain'; a unique name \(training_clusters\[0\] has it\)",
            id="duplicate-cluster-names",
        ),
        pytest.param(
            with_clusters(slurm(fsx_lustre={"data_repositories": [
                {"import_path": "s3://datasets-bucket/c4"},
                {"import_path": "s3://datasets-bucket/pile", "file_system_path": "/datasets/pile"},
            ]})),
            r"training_clusters\[0\]\.fsx_lustre\.data_repositories\[1\]\.file_system_path: got '/datasets/pile'; "
            r"a directory not inside or containing another association's \(/datasets/\)",
            id="nested-data-repositories",
        ),
        pytest.param(
            with_clusters(slurm(fsx_lustre={"data_repositories": [{"import_path": "https://example.com/x"}]})),
            r"training_clusters\[0\]\.fsx_lustre\.data_repositories\[0\]\.import_path: got 'https://example\.com/x'; "
            r"an s3://bucket/prefix URI$",
            id="import-path-not-s3",
        ),
        pytest.param(
            with_clusters(slurm(instance_groups=[CONTROLLER, {**WORKERS, "ebs_volume_size_gb": 100}])),
            r"training_clusters\[0\]\.instance_groups\[1\]\.ebs_volume_size_gb: got 100; unknown key; "
            r"did you mean 'ebs_volume_gb'\?",
            id="unknown-key",
        ),
        pytest.param(
            with_clusters(slurm(orchestrator="kubernetes")),
            r"training_clusters\[0\]\.orchestrator: got 'kubernetes'; Input should be 'slurm' or 'eks'",
            id="orchestrator",
        ),
        pytest.param(
            with_clusters(slurm(), network=None),
            r"network: got None; a network section \(max_azs or vpc_id\): training_clusters run in the platform VPC",
            id="network-required",
        ),
        pytest.param(
            with_clusters(slurm(), network={"max_azs": 2, "nat_gateways": 0}),
            r"network\.nat_gateways: got 0; at least 1 with training_clusters",
            id="isolated-vpc",
        ),
        pytest.param(
            with_clusters(training={"model_package_groups": ["chat_llm", "ok", "ok"], "parameter_prefix": "/aws/x"}),
            r"training\.model_package_groups\[0\]: got 'chat_llm'; 1-63 letters",
            id="model-package-group-name",
        ),
        pytest.param(
            with_clusters(training={"model_package_groups": ["ok", "ok"]}),
            r"training\.model_package_groups\[1\]: got 'ok'; a unique name; model_package_groups\[0\] has it too",
            id="model-package-group-unique",
        ),
        pytest.param(
            with_clusters(training={"parameter_prefix": "/aws/training"}),
            r"training\.parameter_prefix: got '/aws/training'; an SSM path",
            id="parameter-prefix",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "unknown-group"}]),
            r"training_pipelines\[0\]\.model_package_group: got 'unknown-group'; one of "
            r"training\.model_package_groups \(the training stack creates them\): chat-llm-models",
            id="pipeline-group-not-created",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models",
                                               "instance_type": "ml.p9.huge"}]),
            r"training_pipelines\[0\]\.instance_type: got 'ml\.p9\.huge'; one of \d+ values",
            id="pipeline-instance-type",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models",
                                               "managed_spot": {"max_wait_hours": 12}}]),
            r"training_pipelines\[0\]\.managed_spot\.max_wait_hours: got '43200 s'; at least max_runtime",
            id="pipeline-spot-wait",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models",
                                               "name": "a-pipeline-name-too-long-for-jobs"}]),
            r"training_pipelines\[0\]\.name: got 'a-pipeline-name-too-long-for-jobs'; 1-26 letters",
            id="pipeline-name",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models",
                                               "max_runtime_hours": -1}]),
            r"training_pipelines\[0\]\.max_runtime_hours: got -1; Input should be greater than or equal to 0",
            id="pipeline-negative-runtime",  # a negative Duration was a jsii traceback
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models", "volume_size_gb": -5}]),
            r"training_pipelines\[0\]\.volume_size_gb: got -5; Input should be greater than or equal to 0",
            id="pipeline-negative-volume",  # a negative Size was a jsii traceback
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models",
                                               "managed_spot": {"max_wait_hours": -2}}]),
            r"training_pipelines\[0\]\.managed_spot\.max_wait_hours: got -2; Input should be greater than or equal to 0",
            id="pipeline-negative-spot-wait",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models",
                                               "max_runtime_hours": 0}]),
            r"training_pipelines\[0\]\.max_runtime_hours: got '0 s'; 1 minute to 28 days",
            id="pipeline-zero-runtime",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models",
                                               "schedule": "every sunday"}]),
            r"training_pipelines\[0\]\.schedule: got 'every sunday'; an EventBridge schedule expression: cron\(\.\.\.\) or rate\(\.\.\.\)",
            id="pipeline-schedule",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PIPELINE, "model_package_group": "chat-llm-models",
                                               "inference_image": None}]),
            r"training_pipelines\[0\]\.inference_image: got None; the serving image of the registered model",
            id="pipeline-registration-without-serving-image",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PRETRAIN, "instance_type": "ml.g5.48xlarge"}]),
            r"training_pipelines\[0\]\.instance_type: got 'ml\.g5\.48xlarge'; an instance type SMDDP supports",
            id="pipeline-smddp-instance-type",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PRETRAIN, "instance_type": "ml.c5.18xlarge",
                                               "distribution": "torch_distributed"}]),
            r"training_pipelines\[0\]\.instance_type: got 'ml\.c5\.18xlarge'; a GPU .* or Trainium",
            id="pipeline-torch-distributed-on-cpu",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PRETRAIN, "distribution": {
                "kind": "torch_distributed", "model_parallel": {"hybrid_shard_degree": 0}}}]),
            r"training_pipelines\[0\]\.distribution\.model_parallel\.hybrid_shard_degree: got 0; an integer >= 1",
            id="pipeline-smp-parameters",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PRETRAIN, "channels": [
                {"name": "train", "s3_prefix": "a/"}, {"name": "train", "s3_prefix": "b/"}]}]),
            r"training_pipelines\[0\]\.channels\[1\]\.name: got 'train'; a unique name",
            id="pipeline-channel-names",
        ),
        pytest.param(
            with_clusters(training_pipelines=[{**PRETRAIN, "channels": [
                {"name": "train", "s3_prefix": "a/", "input_mode": "Stream"}]}]),
            r"training_pipelines\[0\]\.channels\[0\]\.input_mode: got 'Stream'; Input should be 'File', "
            r"'FastFile' or 'Pipe'",
            id="pipeline-input-mode",
        ),
    ],
)
def test_config_refuses_bad_training_values_with_key_paths(data, expected):
    found = problems_of(data)
    assert any(re.search(expected, p) for p in found), found


def test_every_training_problem_is_reported_at_once():
    bad_workers = {**WORKERS, "instance_type": "ml.nope", "count": -1, "deep_health_checks": ["Nope"]}
    data = with_clusters(slurm(instance_groups=[bad_workers], fsx_lustre={"storage_gib": 100}))
    with pytest.raises(PlatformValidationError) as caught:
        parse_config(data, source="training.yaml")
    assert [p.where for p in caught.value.problems] == [
        "training_clusters[0].instance_groups[0].instance_type",
        "training_clusters[0].instance_groups[0].count",
        "training_clusters[0].instance_groups[0].deep_health_checks[0]",
        "training_clusters[0].instance_groups",
        "training_clusters[0].fsx_lustre.storage_gib",
    ]


def test_config_and_construct_share_one_copy_of_each_rule():
    """The config reports the construct's own text, under its own key path."""
    from constructs_lib.training import HyperPodCluster, InstanceGroup, SlurmNodeType
    from tests.training.training_testkit import new_stack

    with pytest.raises(PlatformValidationError) as construct:
        HyperPodCluster(
            new_stack(), "Cluster", cluster_name="c",
            instance_groups=[
                InstanceGroup(name="controller", instance_type="ml.m5.xlarge", instance_count=1,
                              slurm_node_type=SlurmNodeType.CONTROLLER),
                InstanceGroup(name="workers", instance_type="ml.p5.48xlarge", instance_count=9000,
                              slurm_node_type=SlurmNodeType.COMPUTE, threads_per_core=3),
            ],
        )
    config = problems_of(
        with_clusters(slurm(instance_groups=[CONTROLLER, {**WORKERS, "count": 9000, "threads_per_core": 3}]))
    )
    by_construct = {p.where.rsplit(".", 1)[-1]: p.allowed for p in construct.value.problems}
    assert f"training_clusters[0].instance_groups[1].count: got 9000; {by_construct['instance_count']}" in config
    assert f"training_clusters[0].instance_groups[1].threads_per_core: got 3; {by_construct['threads_per_core']}" in config


def test_default_config_has_a_small_slurm_cluster(default_config):
    (cluster,) = default_config.training_clusters
    assert (cluster.name, cluster.orchestrator, cluster.node_recovery) == ("llm-pretrain", "slurm", "automatic")
    assert [(g.name, g.role, g.instance_type, g.count) for g in cluster.instance_groups] == [
        ("controller", "controller", "ml.m5.xlarge", 1),
        ("workers", "worker", "ml.g5.2xlarge", 2),
    ]
    assert cluster.fsx_lustre.storage_gib == 1200 and cluster.fsx_lustre.throughput_mbps_per_tib == 125
    assert default_config.training.model_package_groups == ["chat-llm-models"]


def test_no_training_stack_without_training_sections(tmp_path):
    from stacks.platform import build_platform
    from tests.conftest import new_app

    data = copy.deepcopy(BASE)
    del data["training_clusters"], data["training"], data["training_pipelines"]
    data["endpoints"], data["lifecycle"] = [], {}  # nothing else to build: only the stacks are compared
    platform = build_platform(new_app(tmp_path), parse_config(data))
    assert platform.training is None
    assert "acme-ml-dev-training" not in [s.stack_name for s in platform.stacks]


# -- the default platform's training stack -------------------------------------------------------------
def _cluster(template) -> dict:
    return template.raw["Resources"][CLUSTER_ID]


def test_stateful_training_resources_keep_their_logical_ids_and_are_retained(default_platform):
    resources = default_platform["training"].raw["Resources"]
    for logical_id, cfn_type in STATEFUL_IDS.items():
        assert resources[logical_id]["Type"] == cfn_type
        assert resources[logical_id]["DeletionPolicy"] == "Retain"
        assert resources[logical_id]["UpdateReplacePolicy"] == "Retain"
    assert resources[CLUSTER_ID]["Type"] == "AWS::SageMaker::Cluster"
    # One platform: the data stack's key and bucket, no second copy here.
    assert not resources_of(default_platform["training"], "AWS::S3::Bucket")
    assert not resources_of(default_platform["training"], "AWS::KMS::Key")


def test_cluster_is_slurm_with_automatic_node_recovery(default_platform):
    props = _cluster(default_platform["training"])["Properties"]
    assert props["ClusterName"] == "acme-ml-dev-llm-pretrain"
    assert props["Orchestrator"] == {"Slurm": {"SlurmConfigStrategy": "Managed"}}
    assert props["NodeRecovery"] == "Automatic"
    assert props["NodeProvisioningMode"] == "Continuous"
    groups = {g["InstanceGroupName"]: g for g in props["InstanceGroups"]}
    assert [(n, g["InstanceType"], g["InstanceCount"], g["SlurmConfig"]) for n, g in groups.items()] == [
        ("controller", "ml.m5.xlarge", 1, {"NodeType": "Controller"}),
        ("workers", "ml.g5.2xlarge", 2, {"NodeType": "Compute"}),
    ]
    assert groups["workers"]["OnStartDeepHealthChecks"] == ["InstanceStress", "InstanceConnectivity"]
    assert "OnStartDeepHealthChecks" not in groups["controller"]


def test_lifecycle_scripts_are_deployed_to_the_platform_bucket_before_the_cluster(default_platform):
    template = default_platform["training"]
    stack = default_platform.platform.training
    cluster = stack.clusters["llm-pretrain"]
    props = _cluster(template)["Properties"]
    expected_uri = {
        "Fn::Join": [
            "",
            [
                "s3://acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"},
                f"/{cluster.lifecycle_prefix}",
            ],
        ]
    }
    assert re.fullmatch(r"hyperpod-lifecycle/acme-ml-dev-llm-pretrain/[0-9a-f]{16}", cluster.lifecycle_prefix)
    for group in props["InstanceGroups"]:
        assert group["LifeCycleConfig"] == {"OnInitComplete": "on_init_complete.sh", "SourceS3Uri": expected_uri}
    (deployment_id, deployment), = resources_of(template, "Custom::CDKBucketDeployment").items()
    assert deployment["Properties"]["DestinationBucketName"] == {
        "Fn::Join": ["", ["acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]
    }
    assert deployment["Properties"]["DestinationBucketKeyPrefix"] == cluster.lifecycle_prefix + "/"
    assert deployment_id in _cluster(template)["DependsOn"]
    # The nodes read only that prefix of the shared bucket.
    (read,) = [
        s for policy in resources_of(template, "AWS::IAM::ManagedPolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "ReadLifecycleScripts"
    ]
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:", {"Ref": "AWS::Partition"}, ":s3:::acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"}, "-",
                {"Ref": "AWS::Region"}, f"/{cluster.lifecycle_prefix}/*",
            ],
        ]
    }


def test_efa_security_group_allows_all_traffic_to_and_from_itself_only(default_platform):
    template = default_platform["training"]
    resources = template.raw["Resources"]
    own = {"Fn::GetAtt": [EFA_GROUP_ID, "GroupId"]}
    assert _cluster(template)["Properties"]["VpcConfig"]["SecurityGroupIds"] == [own]
    ingress = [r["Properties"] for r in resources_of(template, "AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == own]
    assert {"Description": "All traffic from members (EFA, Lustre)", "GroupId": own, "IpProtocol": "-1",
            "SourceSecurityGroupId": own} in ingress
    assert all(r.get("SourceSecurityGroupId") == own for r in ingress)  # nothing from outside the group
    egress = [r["Properties"] for r in resources_of(template, "AWS::EC2::SecurityGroupEgress").values()
              if r["Properties"]["GroupId"] == own]
    assert egress == [{"Description": "All traffic to members (EFA, Lustre)", "DestinationSecurityGroupId": own,
                       "GroupId": own, "IpProtocol": "-1"}]
    outbound = resources[EFA_GROUP_ID]["Properties"]["SecurityGroupEgress"]
    assert sorted((e["CidrIp"], e["FromPort"], e["ToPort"]) for e in outbound) == [
        ("0.0.0.0/0", 80, 80), ("0.0.0.0/0", 443, 443),
    ]
    # Built on the platform VPC of the network stack: no VPC, subnet or endpoint of its own.
    for cfn_type in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::VPCEndpoint", "AWS::EC2::FlowLog"):
        assert not resources_of(template, cfn_type)
    assert "acme-ml-dev-network" in str(resources[EFA_GROUP_ID]["Properties"]["VpcId"])


def test_fsx_lustre_is_persistent_encrypted_and_in_the_cluster_subnet(default_platform):
    template = default_platform["training"]
    fsx = template.raw["Resources"]["llmpretrainStorageCB89BDE4"]["Properties"]
    assert fsx["LustreConfiguration"] == {
        "AutomaticBackupRetentionDays": 7,
        "CopyTagsToBackups": True,
        "DataCompressionType": "LZ4",
        "DeploymentType": "PERSISTENT_2",
        "PerUnitStorageThroughput": 125,
    }
    assert (fsx["StorageCapacity"], fsx["FileSystemTypeVersion"]) == (1200, "2.15")
    assert "acme-ml-dev-data" in str(fsx["KmsKeyId"])  # the platform key
    assert fsx["SecurityGroupIds"] == [{"Fn::GetAtt": [EFA_GROUP_ID, "GroupId"]}]
    assert fsx["SubnetIds"] == _cluster(template)["Properties"]["VpcConfig"]["Subnets"]


def test_fsx_and_cluster_wait_for_every_rule_of_their_security_group(default_platform):
    """A GetAtt on a group does not wait for its separate rule resources (aws-cdk PR #14431); FSx refuses
    to start without Lustre's ports (InvalidNetworkSettings, aws-parallelcluster issue #6181)."""
    template = default_platform["training"]
    resources = template.raw["Resources"]
    fsx = resources["llmpretrainStorageCB89BDE4"]
    (group,) = fsx["Properties"]["SecurityGroupIds"]
    rules = sorted(
        k for t in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
        for k, r in resources_of(template, t).items() if r["Properties"]["GroupId"] == group
    )
    prefix = "llmpretrainNetworkEfaSecurityGroup"
    own = "acmemldevtrainingllmpretrainNetworkEfaSecurityGroup75588DF3"
    assert rules == [
        f"{prefix}from{own}98810237473E4C5",
        f"{prefix}from{own}ALLTRAFFIC2C01E19F",
        f"{prefix}to{own}ALLTRAFFIC1F0FECE4",
    ]
    assert fsx["DependsOn"] == rules
    assert set(rules) <= set(_cluster(template)["DependsOn"])


def test_training_platform_uses_the_platform_bucket_and_publishes_its_parameters(default_platform):
    template = default_platform["training"]
    names = sorted(p["Properties"]["Name"] for p in resources_of(template, "AWS::SSM::Parameter").values())
    assert names == [
        f"/acme-ml/dev/training/{n}"
        for n in ("artifacts-bucket-name", "ecr-repository-uri", "execution-role-arn", "kms-key-arn",
                  "security-group-id", "subnet-ids")
    ]
    bucket = [p["Properties"]["Value"] for p in resources_of(template, "AWS::SSM::Parameter").values()
              if p["Properties"]["Name"].endswith("artifacts-bucket-name")]
    assert bucket == [{"Fn::Join": ["", ["acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]}]
    _, group = only(template, "AWS::SageMaker::ModelPackageGroup")
    assert group["Properties"]["ModelPackageGroupName"] == "chat-llm-models"


@pytest.mark.xdist_group("prod")  # one worker builds prod_platform once
def test_prod_training_stack_synthesizes_offline_with_account_and_region(prod_platform):
    stack = prod_platform.platform.training
    assert (stack.account, stack.region) == ("123456789012", "us-east-1")
    props = _cluster(prod_platform["training"])["Properties"]
    assert props["ClusterName"] == "acme-ml-prod-llm-pretrain"


# -- a Slurm cluster with login and two worker groups next to an EKS cluster (all nag packs) -------------
EKS_ADMIN = "arn:aws:iam::123456789012:role/MlPlatformAdmin"


@pytest.fixture(scope="module")
def two_clusters(tmp_path_factory):
    """The one EKS platform synth: the EKS cluster created (``eks.create``), with FSx, the vendored HyperPod
    chart and the cert-manager add-on (both defaults), and a Prometheus workspace (the HyperPod observability
    add-on on the EKS cluster)."""
    from tests.conftest import synth_platform

    data = copy.deepcopy(BASE)
    data["platform"].update(account="123456789012", region="us-east-1")
    data["network"]["availability_zones"] = ["us-east-1a", "us-east-1b"]
    # The inference side is covered elsewhere: one simple endpoint keeps this synth small.
    data["endpoints"] = [e for e in data["endpoints"] if e["name"] == "many-models"]
    data["lifecycle"] = {}
    data["training"] = {"model_package_groups": ["llm-base", "llm-sft"], "parameter_prefix": "/ml/training"}
    data["training_pipelines"] = [PIPELINE, PRETRAIN]
    # The Slurm nodes remote-write through the lifecycle scripts' forwarder; the EKS cluster gets AWS's
    # HyperPod observability add-on (default with a workspace).
    data["observability"] = {"prometheus": {"workspace": "create"}}
    data["training_clusters"] = [
        {
            "name": "llm-pretrain",
            "orchestrator": "slurm",
            "node_recovery": "automatic",
            "instance_groups": [
                CONTROLLER,
                {"name": "login", "role": "login", "instance_type": "ml.m5.xlarge", "count": 1},
                {**WORKERS, "name": "workers-p5", "threads_per_core": 1},
                {"name": "workers-g5", "instance_type": "ml.g5.8xlarge", "count": 2,
                 "deep_health_checks": ["InstanceStress"]},
            ],
            "fsx_lustre": {
                "storage_gib": 2400,
                "throughput_mbps_per_tib": 250,
                "data_repositories": [{"import_path": "s3://acme-datasets/c4/en", "file_system_path": "/datasets/c4"}],
            },
        },
        {
            "name": "eks-train",
            "orchestrator": "eks",
            "eks": {
                "create": {"version": "1.33", "admins": [EKS_ADMIN]},
                "dependencies_chart_values": {"mlflow": {"enabled": False}},
            },
            "fsx_lustre": {"storage_gib": 1200, "throughput_mbps_per_tib": 125},
            "node_recovery": "none",
            "node_provisioning_mode": "standard",
            "instance_groups": [
                {"name": "gpu", "instance_type": "ml.g5.8xlarge", "count": 2,
                 "deep_health_checks": ["InstanceStress", "InstanceConnectivity"]},
                {"name": "cpu", "instance_type": "ml.m5.2xlarge", "count": 1},
            ],
        },
    ]
    return synth_platform(parse_config(data, source="two-clusters"), tmp_path_factory.mktemp("two-clusters-out"))


@pytest.mark.xdist_group("training-stack")
def test_two_clusters_assembly_passes_cfn_lint(two_clusters):
    """Every template of the EKS platform (the EKS cluster, add-ons, access entries and kubectl handler
    resources next to the Slurm cluster) against the CloudFormation schemas bundled with the pinned
    cfn-lint, with .cfnlintrc.yaml's ignores (the helper agrees with the CLI: test_compliance)."""
    assert lint_assembly(two_clusters.outdir) == []


@pytest.mark.xdist_group("training-stack")
def test_slurm_cluster_with_login_and_two_worker_groups(two_clusters):
    template = two_clusters["training"]
    clusters = {c["Properties"]["ClusterName"]: c["Properties"]
                for c in resources_of(template, "AWS::SageMaker::Cluster").values()}
    assert sorted(clusters) == ["acme-ml-dev-eks-train", "acme-ml-dev-llm-pretrain"]
    props = clusters["acme-ml-dev-llm-pretrain"]
    groups = [
        (g["InstanceGroupName"], g["InstanceType"], g["InstanceCount"], g["SlurmConfig"]["NodeType"],
         g.get("ThreadsPerCore"), g.get("OnStartDeepHealthChecks"), g.get("InstanceStorageConfigs"))
        for g in props["InstanceGroups"]
    ]
    # FSx for Lustre mounted by HyperPod on every Slurm node (API-driven FsxLustreConfig).
    fsx = {"FsxLustreConfig": {
        "DnsName": {"Fn::Join": ["", [{"Ref": "llmpretrainStorageCB89BDE4"}, ".fsx.us-east-1.", {"Ref": "AWS::URLSuffix"}]]},
        "MountName": {"Fn::GetAtt": ["llmpretrainStorageCB89BDE4", "LustreMountName"]},
        "MountPath": "/fsx",
    }}
    assert groups == [
        ("controller", "ml.m5.xlarge", 1, "Controller", None, None, [fsx]),
        ("login", "ml.m5.xlarge", 1, "Login", None, None, [fsx]),
        ("workers-p5", "ml.p5.48xlarge", 4, "Compute", 1, ["InstanceStress", "InstanceConnectivity"],
         [{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}, fsx]),
        ("workers-g5", "ml.g5.8xlarge", 2, "Compute", None, ["InstanceStress"], [fsx]),
    ]
    fsx = template.raw["Resources"]["llmpretrainStorageCB89BDE4"]["Properties"]
    assert (fsx["StorageCapacity"], fsx["LustreConfiguration"]["PerUnitStorageThroughput"]) == (2400, 250)
    _, association = only(template, "AWS::FSx::DataRepositoryAssociation")
    assert association["Properties"]["DataRepositoryPath"] == "s3://acme-datasets/c4/en/"
    assert association["Properties"]["FileSystemPath"] == "/datasets/c4"
    # Each cluster has its own EFA group: nodes of two clusters never share all-traffic rules.
    groups_by_cluster = {n: p["VpcConfig"]["SecurityGroupIds"][0]["Fn::GetAtt"][0] for n, p in clusters.items()}
    assert len(set(groups_by_cluster.values())) == 2


@pytest.mark.xdist_group("training-stack")
def test_eks_cluster_joins_the_created_eks_cluster_and_its_security_group(two_clusters):
    """HyperPod nodes join the EKS cluster security group next to their EFA group (EKS User Guide,
    "View Amazon EKS security group requirements for clusters": control plane to kubelet 10250, nodes to
    the API on 443 and DNS 53 between nodes; AWS's hyperpod-cluster-template.yaml passes the EKS
    cluster's group the same way)."""
    template = two_clusters["training"]
    hp = next(c for c in resources_of(template, "AWS::SageMaker::Cluster").values()
              if c["Properties"]["ClusterName"] == "acme-ml-dev-eks-train")
    props = hp["Properties"]
    eks_id, _ = only(template, "AWS::EKS::Cluster")
    assert props["Orchestrator"] == {"Eks": {"ClusterArn": {"Fn::GetAtt": [eks_id, "Arn"]}}}
    assert props["VpcConfig"]["SecurityGroupIds"] == [
        {"Fn::GetAtt": ["ekstrainNetworkEfaSecurityGroup30E9DEAA", "GroupId"]},
        {"Fn::GetAtt": [eks_id, "ClusterSecurityGroupId"]},
    ]
    assert props["NodeRecovery"] == "None"
    assert "NodeProvisioningMode" not in props  # standard = the property omitted
    assert [(g["InstanceGroupName"], "SlurmConfig" in g, g["LifeCycleConfig"]["OnCreate"])
            for g in props["InstanceGroups"]] == [("gpu", False, "on_create.sh"), ("cpu", False, "on_create.sh")]
    # Nodes join only after the add-ons, the HyperPod chart and the FSx volume are in the cluster; the
    # HyperPod observability add-on is the one that comes after the nodes (it needs one to run on).
    depends = set(hp["DependsOn"])
    observability = {k for k, a in resources_of(template, "AWS::EKS::Addon").items()
                     if a["Properties"]["AddonName"] == "amazon-sagemaker-hyperpod-observability"}
    assert len(observability) == 1
    for cfn_type in ("AWS::EKS::Addon", "Custom::AWSCDK-EKS-HelmChart", "Custom::AWSCDK-EKS-KubernetesResource"):
        assert set(resources_of(template, cfn_type)) - observability <= depends, cfn_type
    assert {k for k in resources_of(template, "AWS::EKS::AccessEntry") if "InstallerAccess" in k} <= depends
    (output,) = [o for k, o in template.raw["Outputs"].items() if k.startswith("ekstrainEksClusterName")]
    assert output["Value"] == {"Ref": eks_id}


@pytest.mark.xdist_group("training-stack")
def test_created_eks_cluster_uses_api_auth_private_endpoint_logging_and_platform_key(two_clusters):
    """EKS cluster for HyperPod: authentication mode API (SageMaker Developer Guide, "Getting started with
    Amazon EKS support in SageMaker HyperPod"), all control-plane log types (EKS User Guide, "Send control
    plane logs to CloudWatch Logs"), secrets envelope-encrypted with the platform key."""
    template = two_clusters["training"]
    _, cluster = only(template, "AWS::EKS::Cluster")
    props = cluster["Properties"]
    assert props["Name"] == "acme-ml-dev-eks-train"
    assert props["Version"] == "1.33"
    assert props["AccessConfig"] == {"AuthenticationMode": "API", "BootstrapClusterCreatorAdminPermissions": False}
    assert props["Logging"] == {"ClusterLogging": {"EnabledTypes": [
        {"Type": t} for t in ("api", "audit", "authenticator", "controllerManager", "scheduler")]}}
    (encryption,) = props["EncryptionConfig"]
    assert encryption["Resources"] == ["secrets"]
    assert "acme-ml-dev-data" in json.dumps(encryption["Provider"]["KeyArn"])  # the data stack's platform key
    vpc_config = props["ResourcesVpcConfig"]
    assert (vpc_config["EndpointPrivateAccess"], vpc_config["EndpointPublicAccess"]) == (True, False)
    assert "PublicAccessCidrs" not in vpc_config
    assert len(vpc_config["SubnetIds"]) == 2
    log_group = next(g for g in resources_of(template, "AWS::Logs::LogGroup").values()
                     if g["Properties"].get("LogGroupName") == "/aws/eks/acme-ml-dev-eks-train/cluster")
    assert log_group["Properties"]["RetentionInDays"] == 365
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetStackOutput": {  # the platform key (platform.region is set here)
        "StackName": "acme-ml-dev-data", "Region": "us-east-1", "OutputName": "PublishOutputFnGetAttPlatformKey205D0CA7Arn0C5A0BDE"}}
    assert log_group["DeletionPolicy"] == "Retain"


@pytest.mark.xdist_group("training-stack")
def test_admins_and_the_installer_get_cluster_admin_access_entries(two_clusters):
    """EKS access entries (EKS User Guide, "Grant IAM users access to Kubernetes with EKS access entries"):
    the configured admins and aws-cdk-lib's kubectl handler role get AmazonEKSClusterAdminPolicy, as AWS's
    helm-chart-template.yaml does for its installer."""
    template = two_clusters["training"]
    eks_id, _ = only(template, "AWS::EKS::Cluster")
    entries = resources_of(template, "AWS::EKS::AccessEntry")
    admin_policy = [{"AccessScope": {"Type": "cluster"},
                     "PolicyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"}]
    principals = []
    for entry in entries.values():
        p = entry["Properties"]
        assert p["ClusterName"] == {"Ref": eks_id} and p["Type"] == "STANDARD"
        assert p["AccessPolicies"] == admin_policy
        principals.append(p["PrincipalArn"])
    (installer_role,) = [p["Fn::GetAtt"][0] for p in principals if isinstance(p, dict)]
    assert EKS_ADMIN in principals and len(principals) == 2
    role = template.raw["Resources"][installer_role]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


@pytest.mark.xdist_group("training-stack")
def test_eks_addons_are_installed_with_the_vpc_cni_pinned(two_clusters):
    """AWS::EKS::Addon for what AWS publishes as add-ons; the VPC CNI at v1.20.1-eksbuild.3 (HyperPod needs
    1.18.3 or later: SageMaker Developer Guide, EKS prerequisites, "Networking"; EKS User Guide, "Amazon
    VPC CNI versions"), cert-manager (EKS User Guide, "Community add-ons"; a prerequisite of the HyperPod
    training operator: SageMaker Developer Guide, "Installing the training operator"), the FSx CSI driver
    because the cluster has FSx."""
    template = two_clusters["training"]
    eks_id, _ = only(template, "AWS::EKS::Cluster")
    addons = {a["Properties"]["AddonName"]: a["Properties"] for a in resources_of(template, "AWS::EKS::Addon").values()}
    assert sorted(addons) == ["amazon-sagemaker-hyperpod-observability", "aws-fsx-csi-driver", "cert-manager", "coredns",
                              "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]
    assert {k: v for k, v in addons["cert-manager"].items() if k != "Tags"} == {
        "AddonName": "cert-manager", "ClusterName": {"Ref": eks_id}, "ResolveConflicts": "OVERWRITE"}
    assert {k: v for k, v in addons["vpc-cni"].items() if k != "Tags"} == {"AddonName": "vpc-cni", "AddonVersion": "v1.20.1-eksbuild.3",
                                 "ClusterName": {"Ref": eks_id}, "ResolveConflicts": "OVERWRITE"}
    assert all("AddonVersion" not in a for n, a in addons.items() if n != "vpc-cni")


def _helm_charts(template) -> dict[str, tuple[str, dict]]:
    """release -> (logical id, resource) of the Custom::AWSCDK-EKS-HelmChart resources."""
    return {r["Properties"]["Release"]: (k, r) for k, r in resources_of(template, "Custom::AWSCDK-EKS-HelmChart").items()}


@pytest.mark.xdist_group("training-stack")
def test_hyperpod_chart_and_fsx_volume_go_in_through_the_kubectl_handler_in_the_vpc(two_clusters):
    """AWS's hyperpod-dependencies chart (SageMaker Developer Guide, "Installing packages on the Amazon EKS
    cluster using Helm": release hyperpod-dependencies in kube-system) from the copy vendored in
    constructs_lib, shipped as a CDK asset, and a static PersistentVolume + claim for the FSx file system
    (FSx CSI driver static provisioning)."""
    from constructs_lib.training.eks import VENDORED_CHART_DIRECTORY

    template = two_clusters["training"]
    eks_id, _ = only(template, "AWS::EKS::Cluster")
    charts = _helm_charts(template)
    assert sorted(charts) == ["hyperpod-dependencies"]
    chart_id, chart = charts["hyperpod-dependencies"]
    props = chart["Properties"]
    # After the cert-manager add-on (its CRDs before anything of the chart could ask for them) and the
    # installer's access entry.
    addons = {r["Properties"]["AddonName"]: k for k, r in resources_of(template, "AWS::EKS::Addon").items()}
    installer = next(k for k in resources_of(template, "AWS::EKS::AccessEntry") if "InstallerAccess" in k)
    assert {addons["cert-manager"], installer} <= set(chart["DependsOn"])
    asset = two_clusters.platform.training.eks_dependencies["eks-train"].node.find_child("DependenciesChartAsset")
    assert props == {
        "ServiceToken": props["ServiceToken"],
        "ClusterName": {"Ref": eks_id},
        "Release": "hyperpod-dependencies",
        "Namespace": "kube-system",
        "ChartAssetURL": f"s3://cdk-hnb659fds-assets-123456789012-us-east-1/{asset.asset_hash}.zip",
        "Timeout": "900s",
        # global.region: the health-monitoring agent's image registry is regional
        "Values": json.dumps({"global": {"region": "us-east-1"}, "mlflow": {"enabled": False}}, separators=(",", ":")),
    }
    # The asset is the vendored folder, byte for byte (the hash pins the chart deployed).
    staged = next(Path(two_clusters.outdir).rglob(f"asset.{asset.asset_hash}"))
    vendored = Path(VENDORED_CHART_DIRECTORY)
    files = sorted(str(p.relative_to(vendored)) for p in vendored.rglob("*") if p.is_file())
    assert sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()) == files
    assert (staged / "Chart.yaml").read_bytes() == (vendored / "Chart.yaml").read_bytes()
    fs_id = next(k for k in resources_of(template, "AWS::FSx::FileSystem") if k.startswith("ekstrain"))
    _, volume = only(template, "Custom::AWSCDK-EKS-KubernetesResource")
    assert chart_id in volume["DependsOn"]
    text = json.dumps(volume["Properties"]["Manifest"])
    for fragment in ('\\"kind\\":\\"PersistentVolume\\"', '\\"driver\\":\\"fsx.csi.aws.com\\"',
                     '\\"persistentVolumeReclaimPolicy\\":\\"Retain\\"', '\\"storage\\":\\"1200Gi\\"',
                     '\\"kind\\":\\"PersistentVolumeClaim\\"',
                     # the claim sits where HyperPod job auto-resume looks (kubeflow), created by the chart
                     '\\"name\\":\\"fsx-claim\\",\\"namespace\\":\\"kubeflow\\"',
                     '\\"dnsname\\":\\"",{"Ref":"' + fs_id + '"},".fsx.us-east-1.",',
                     f'["{fs_id}","LustreMountName"]'):
        assert fragment.replace(" ", "") in text.replace(" ", ""), fragment
    # volumeHandle is the file system id; dnsname is <id>.fsx.<region>.<suffix> (FSx DNS names).
    assert text.replace(" ", "").count(f'{{"Ref":"{fs_id}"}}') == 2
    handlers = [f["Properties"] for f in resources_of(template, "AWS::Lambda::Function").values()
                if "VpcConfig" in f["Properties"]]
    assert handlers and all(h["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [eks_id, "ClusterSecurityGroupId"]}]
                            for h in handlers)


@pytest.mark.xdist_group("training-stack")
def test_eks_execution_role_carries_the_vpc_cni_actions(two_clusters):
    """AmazonEKS_CNI_Policy actions (AWS managed policy reference) on the HyperPod execution role: on
    HyperPod nodes the VPC CNI runs with the node's role."""
    template = two_clusters["training"]
    (policy,) = [p["Properties"]["PolicyDocument"]["Statement"]
                 for k, p in resources_of(template, "AWS::IAM::ManagedPolicy").items() if k.startswith("ekstrainClusterVpcCniPolicy")]
    actions = {a for st in policy for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert actions == {
        "ec2:AssignPrivateIpAddresses", "ec2:AttachNetworkInterface", "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface", "ec2:DescribeInstances", "ec2:DescribeTags", "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeInstanceTypes", "ec2:DescribeSubnets", "ec2:DetachNetworkInterface",
        "ec2:ModifyNetworkInterfaceAttribute", "ec2:UnassignPrivateIpAddresses", "ec2:CreateTags",
    }


@pytest.mark.xdist_group("training-stack")
def test_training_pipeline_from_config_runs_in_the_platform_vpc_on_its_schedule(two_clusters):
    template = two_clusters["training"]
    pipelines = two_clusters.platform.training.pipelines
    assert list(pipelines) == ["llm-sft", "llm-pretrain"]
    _, rule = only(template, "AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 2 ? * SUN *)"
    stack = two_clusters.platform.training
    machine = template.raw["Resources"][stack.get_logical_id(pipelines["llm-sft"].state_machine.node.default_child)]
    text = json.dumps(machine["Properties"]["DefinitionString"])
    for fragment in (
        '\\"InstanceCount\\":2,\\"InstanceType\\":\\"ml.p4d.24xlarge\\"',
        '\\"sagemaker_torch_distributed_enabled\\":\\"true\\"',
        '\\"epochs\\":\\"3\\"',
        # The lifecycle glue's contract: every platform job is tagged, pipeline jobs also by pipeline.
        '{\\"Key\\":\\"aiplatform:pipeline\\",\\"Value\\":\\"llm-sft\\"}',
        '{\\"Key\\":\\"aiplatform:platform\\",\\"Value\\":\\"acme-ml-dev\\"}',
        '\\"Image\\":\\"123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-serve:1\\"',
        '\\"EnableManagedSpotTraining\\":true',
        '\\"MaxWaitTimeInSeconds\\":172800',
        '\\"ModelPackageGroupName\\":\\"llm-sft\\"',
        '\\"VpcConfig\\"',
    ):
        assert fragment in text, fragment
    # Failures go to the platform's notification topic (data stack).
    assert "NotifyFailure" in text and "acme-ml-dev-data" in text


@pytest.mark.xdist_group("training-stack")
def test_pipeline_config_example_splits_data_and_runs_the_entry_point(two_clusters):
    """The issue's config shape: sharded FastFile channel, SMDDP with torch_distributed, entry point, p5."""
    template = two_clusters["training"]
    stack = two_clusters.platform.training
    pretrain = stack.pipelines["llm-pretrain"]
    machine = template.raw["Resources"][stack.get_logical_id(pretrain.state_machine.node.default_child)]
    text = json.dumps(machine["Properties"]["DefinitionString"])
    for fragment in (
        '\\"S3DataDistributionType\\":\\"ShardedByS3Key\\"}},\\"InputMode\\":\\"FastFile\\"}',
        '\\"ChannelName\\":\\"validation\\"',
        '\\"sagemaker_distributed_dataparallel_enabled\\":\\"true\\"',
        '\\"sagemaker_torch_distributed_enabled\\":\\"true\\"',
        '\\"sagemaker_program\\":\\"\\\\\\"train.py\\\\\\"\\"',
        '/code/llm-pretrain/sourcedir.tar.gz',
        '\\"RetryStrategy\\":{\\"MaximumRetryAttempts\\":2}',
        '\\"TimeoutSeconds\\":90000',
    ):
        assert fragment in text, fragment
    assert "RegisterModel" not in text and "VolumeKmsKeyId" not in text  # train only; p5 has local storage


@pytest.mark.xdist_group("training-stack")
def test_training_section_names_groups_and_prefix_and_synth_needs_no_lookup(two_clusters):
    template = two_clusters["training"]
    assert sorted(g["Properties"]["ModelPackageGroupName"]
                  for g in resources_of(template, "AWS::SageMaker::ModelPackageGroup").values()) == ["llm-base", "llm-sft"]
    assert all(p["Properties"]["Name"].startswith("/ml/training/")
               for p in resources_of(template, "AWS::SSM::Parameter").values())
    manifest = json.loads((two_clusters.outdir / "manifest.json").read_text())
    assert manifest.get("missing", []) == []  # no context lookup left: synth needed no credentials


@pytest.mark.xdist_group("training-stack")
def test_a_pipeline_job_is_registered_once_and_its_failure_notified_once(two_clusters):
    """Over the pipeline and the lifecycle glue together: the pipeline tags its jobs
    aiplatform:pipeline (and aiplatform:platform), registers and notifies them itself, and the glue's
    training-job rule (EventBridge semantics, moto's matcher) delivers none of them, while it would
    deliver the same job without the pipeline tag."""
    from pathlib import Path

    from moto.events.models import EventPattern

    from constructs_lib.sagemaker_events import PlatformTag

    stack = two_clusters.platform.training
    sft = stack.pipelines["llm-sft"]
    machine = two_clusters["training"].raw["Resources"][stack.get_logical_id(sft.state_machine.node.default_child)]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    definition = json.loads("".join(p if isinstance(p, str) else "<ref>" for p in parts))
    states = definition["States"]
    # The pipeline's half: one registration, one failure notice for training or registration.
    assert [n for n, s in states.items() if s.get("Resource", "").endswith(":createModelPackage")] == ["RegisterModel"]
    assert [n for n, s in states.items() if s.get("Resource", "").endswith(":sns:publish")] == ["NotifyFailure"]
    assert states["Train"]["Catch"][0]["Next"] == states["RegisterModel"]["Catch"][0]["Next"] == "NotifyFailure"
    tags = {t["Key"]: t["Value"] for t in states["Train"]["Parameters"]["Tags"]}
    assert tags == {PlatformTag.PIPELINE: "llm-sft", PlatformTag.PLATFORM: "acme-ml-dev"}

    # The glue's half: its training-job rule never delivers this job, completed or failed.
    rules = [
        r["Properties"]["EventPattern"]
        for r in resources_of(two_clusters["lifecycle"], "AWS::Events::Rule").values()
        if "SageMaker Training Job State Change" in json.dumps(r["Properties"].get("EventPattern", {}))
    ]
    assert rules, "the lifecycle glue has a training-job rule in this platform"
    event = json.loads((Path(__file__).parent / "events" / "training-job-failed.json").read_text())
    event["detail"]["TrainingJobName"] = "llm-sft-0b9f7a52-1d0c-4b7e-9f51-3f1c2d4e5a6b"
    event["detail"]["Tags"] = tags
    for status in ("Failed", "Completed"):
        event["detail"]["TrainingJobStatus"] = status
        assert not any(EventPattern.load(json.dumps(p)).matches_event(event) for p in rules), status
    # ... and the test can fail: without the pipeline tag the glue would have taken the same job.
    event["detail"]["TrainingJobStatus"] = "Failed"
    event["detail"]["Tags"] = {PlatformTag.PLATFORM: "acme-ml-dev"}
    assert any(EventPattern.load(json.dumps(p)).matches_event(event) for p in rules)


@pytest.mark.xdist_group("training-stack")
def test_eks_acknowledgments_are_narrow_and_sit_next_to_their_cause(two_clusters):
    """Every nag acknowledgment of the EKS pieces names the exact finding (IAM4/IAM5 with the policy or
    resource in brackets) and sits on the construct that causes it: the EKS service role, aws-cdk-lib's
    kubectl handler and its role, and the VPC CNI policy of the execution role."""
    from aws_cdk import Validations

    stack = two_clusters.platform.training
    prefix = f"{stack.node.path}/eks-train/"
    found: dict[str, set[str]] = {}
    for construct in stack.node.find_all():
        path = construct.node.path
        if not path.startswith(prefix):
            continue
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for finding in entry.data:
                    if not finding.startswith("CloudFormation-Validate::"):
                        found.setdefault(path.removeprefix(prefix), set()).add(finding.removeprefix("Annotation::"))
    assert sorted(found) == [
        "Cluster/ContainerRegistryPolicy", "Cluster/LifecycleScriptsPolicy", "Cluster/NetworkInterfacePolicy",
        "Cluster/SharedStoragePolicy", "Cluster/TelemetryPolicy", "Cluster/VpcCniPolicy",
        "Eks/Role", "EksDependencies/Kubectl", "EksDependencies/KubectlRole", "Network/EfaSecurityGroup",
        "Observability/Policy",
    ]
    for path, findings in found.items():
        for finding in findings:
            if finding.startswith(("AwsSolutions-IAM4", "AwsSolutions-IAM5")):
                assert finding.endswith("]") and "[" in finding, (path, finding)
    assert found["Eks/Role"] == {
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]"}
    assert "AwsSolutions-IAM5[Action::s3:GetObject*]" in found["EksDependencies/KubectlRole"]
    assert "HIPAA.Security-CloudWatchLogGroupEncrypted" in found["EksDependencies/Kubectl"]


@pytest.mark.xdist_group("training-stack")
def test_eks_cluster_gets_the_hyperpod_observability_addon_after_its_nodes(two_clusters):
    """With observability.prometheus, the EKS-orchestrated cluster gets AWS's HyperPod observability
    add-on (SageMaker guide, "Setting up the SageMaker HyperPod observability add-on": after a node exists,
    with the Pod Identity agent), its Pod Identity role as the troubleshooting guide lists it (trusted by
    pods.eks.amazonaws.com for the EKS cluster, aps:RemoteWrite on the workspace, logs on
    /aws/sagemaker/Clusters/*), and the configuration of AWS's Terraform module; its nodes no longer run
    the lifecycle scripts' forwarder, the Slurm cluster's still do."""
    template = two_clusters["training"]
    resources = template.raw["Resources"]
    (addon_id,) = [k for k, a in resources_of(template, "AWS::EKS::Addon").items()
                   if a["Properties"]["AddonName"] == "amazon-sagemaker-hyperpod-observability"]
    addon = resources[addon_id]
    eks_id, _ = only(template, "AWS::EKS::Cluster")
    workspace_id, _ = only(template, "AWS::APS::Workspace")
    hyperpod = next(k for k, c in resources_of(template, "AWS::SageMaker::Cluster").items()
                    if c["Properties"]["ClusterName"] == "acme-ml-dev-eks-train")
    agent = next(k for k, a in resources_of(template, "AWS::EKS::Addon").items()
                 if a["Properties"]["AddonName"] == "eks-pod-identity-agent" and k.startswith("ekstrain"))
    assert {hyperpod, agent} <= set(addon["DependsOn"])
    props = addon["Properties"]
    role_id = props["PodIdentityAssociations"][0]["RoleArn"]["Fn::GetAtt"][0]
    assert {k: v for k, v in props.items() if k not in ("ConfigurationValues", "Tags")} == {
        "AddonName": "amazon-sagemaker-hyperpod-observability", "ClusterName": {"Ref": eks_id},
        "PodIdentityAssociations": [{"RoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
                                     "ServiceAccount": "hyperpod-observability-operator-otel-collector"}],
        "ResolveConflicts": "OVERWRITE",
    }
    configuration = json.loads(json.dumps(props["ConfigurationValues"]))
    rendered = configuration["Fn::Join"][1] if isinstance(configuration, dict) else [configuration]
    text = "".join(p if isinstance(p, str) else "<token>" for p in rendered)
    assert '"metricsProvider":{"trainingMetrics":{"level":"BASIC","scrapeInterval":30}' in text
    assert '"networkMetrics":{"level":"DISABLED","scrapeInterval":30}' in text and '"logging":{"enabled":false}' in text
    assert {"Fn::GetAtt": [workspace_id, "Arn"]} in rendered and {"Fn::GetAtt": [workspace_id, "PrometheusEndpoint"]} in rendered
    trust = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{
        "Action": ["sts:AssumeRole", "sts:TagSession"], "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Condition": {"StringEquals": {"aws:SourceArn": {"Fn::GetAtt": [eks_id, "Arn"]},
                                       "aws:SourceAccount": "123456789012"}},
    }]
    (policy,) = [r["Properties"] for r in resources_of(template, "AWS::IAM::ManagedPolicy").values()
                 if r["Properties"].get("Roles") == [{"Ref": role_id}]]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["PrometheusAccess"]["Action"] == "aps:RemoteWrite"
    assert statements["PrometheusAccess"]["Resource"] == {"Fn::GetAtt": [workspace_id, "Arn"]}
    assert statements["CloudwatchLogsAccess"]["Resource"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Clusters/*",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Clusters/*:log-stream:*",
    ]
    # Remote write from the node role only where the lifecycle scripts forward (the Slurm cluster).
    remote_write = [r["Properties"].get("PolicyName", k)
                    for k, r in resources.items()
                    if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and r["Properties"].get("Roles") != [{"Ref": role_id}]
                    and "aps:RemoteWrite" in json.dumps(r["Properties"]["PolicyDocument"])]
    assert remote_write and all(name.startswith("llmpretrain") for name in remote_write), remote_write


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"eks": {"create": {"admins": []}, "addons": {"hyperpod_observability": True}}},
                     r"training_clusters\[0\]\.eks\.addons\.hyperpod_observability: got True; observability\.prometheus with it",
                     id="addon-without-workspace"),
        pytest.param({"eks": {"create": {"admins": []}, "addons": {"hyperpod_observability": True, "pod_identity_agent": False}},
                      "observability": True},
                     r"training_clusters\[0\]\.eks\.addons\.pod_identity_agent: got False; true with eks\.addons\.hyperpod_observability",
                     id="addon-without-pod-identity"),
        pytest.param({"eks": {"create": {"admins": []}}, "observability": True,
                      "instance_groups": [{"name": "cpu", "instance_type": "ml.m5.2xlarge", "count": 1}]},
                     r"training_clusters\[0\]\.instance_groups: got 'ml\.m5\.2xlarge'; at least one instance group of size "
                     r"4xlarge or larger", id="nodes-too-small"),
        pytest.param({"eks": {"create": {"admins": []}, "observability": {"metric_levels": {"networkMetrics": "BASIC"},
                                                                           "scrape_interval_s": 5}}, "observability": True},
                     r"eks\.observability\.metric_levels\.networkMetrics: got 'BASIC'; one of ADVANCED, DISABLED(.|\n)*"
                     r"eks\.observability\.scrape_interval_s: got 5; 10-300 seconds", id="bad-levels"),
    ],
)
def test_hyperpod_observability_addon_config_is_refused_with_key_paths(changes, expected):
    changes = dict(changes)
    sections = {"observability": {"prometheus": {"workspace": "create"}}} if changes.pop("observability", False) else {}
    cluster = {"name": "eks-train", "orchestrator": "eks",
               "instance_groups": [{"name": "gpu", "instance_type": "ml.g5.8xlarge", "count": 1}], **changes}
    data = with_clusters(cluster, **sections)
    data["network"]["max_azs"] = 2
    with pytest.raises(PlatformValidationError, match=expected):
        parse_config(data, source="addon")
