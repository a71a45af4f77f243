"""``training_clusters[].eks`` and ``eks_cluster_arn``: refused at synth with key paths (no synth here;
the EKS platform synth is ``two_clusters`` in test_training_stack.py)."""

from __future__ import annotations

import copy

import pytest
import yaml

from constructs_lib.errors import PlatformValidationError
from stacks.config import DEFAULT_CONFIG, parse_config

BASE = yaml.safe_load(DEFAULT_CONFIG.read_text())
ARN = "arn:aws:eks:us-east-1:123456789012:cluster/ml"
SG = "sg-0123456789abcdef0"
GPU = {"name": "gpu", "instance_type": "ml.g5.8xlarge", "count": 2, "ebs_volume_gb": 500}
EXISTING_NETWORK = {"vpc_id": "vpc-0123456789abcdef0", "availability_zones": ["us-east-1a", "us-east-1b"],
                    "private_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]}


def config_with(cluster, *, network=None, platform=None):
    data = copy.deepcopy(BASE)
    data["training_clusters"] = [{"name": "eks-train", "orchestrator": "eks", "instance_groups": [GPU], **cluster}]
    data.pop("budgets", None)  # its teams name the default config's clusters
    if network is not None:
        data["network"] = network
    if platform:
        data["platform"].update(platform)
    return data


def dependencies(cluster):
    """The ``HyperPodEksDependencies`` keywords the training stack passes for ``cluster``."""
    return cluster.eks.to_spec(lustre=cluster.fsx_lustre is not None)


def problems_of(data) -> list[str]:
    with pytest.raises(PlatformValidationError) as caught:
        parse_config(data, source="eks.yaml")
    return [str(p) for p in caught.value.problems]


def test_existing_cluster_with_its_vpc_and_security_group_is_accepted():
    config = parse_config(
        config_with({"eks_cluster_arn": ARN, "eks": {"cluster_security_group_id": SG}}, network=EXISTING_NETWORK,
                    platform={"account": "123456789012", "region": "us-east-1"}),
        source="eks.yaml",
    )
    (cluster,) = config.training_clusters
    # Existing clusters already run the networking add-ons; the Pod Identity agent is added.
    assert [a.value for a in dependencies(cluster)["addons"]] == ["eks-pod-identity-agent"]
    # The vendored HyperPod chart goes in (a plain EKS cluster lacks it); the cert-manager add-on does not
    # (an existing cluster may run its own, and two copies conflict).
    assert dependencies(cluster)["dependencies_chart"].vendored
    assert dependencies(cluster)["installer"] is True


def test_dependencies_chart_and_cert_manager_switch_off_and_on():
    """A user who manages the dependencies switches each off (the kubectl handler goes with the chart);
    cert-manager is the EKS community add-on, on by default only for a created cluster."""
    config = parse_config(config_with({"eks": {"create": {}}}), source="eks.yaml")
    (cluster,) = config.training_clusters
    assert dependencies(cluster)["dependencies_chart"].vendored
    assert [a.value for a in dependencies(cluster)["addons"]] == [
        "vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "cert-manager"]
    config = parse_config(config_with({"eks": {"create": {}, "dependencies_chart": False,
                                               "addons": {"cert_manager": False}}}), source="eks.yaml")
    (cluster,) = config.training_clusters
    assert dependencies(cluster)["dependencies_chart"] is None and dependencies(cluster)["installer"] is False
    assert "cert-manager" not in [a.value for a in dependencies(cluster)["addons"]]
    config = parse_config(
        config_with({"eks_cluster_arn": ARN, "eks": {"cluster_security_group_id": SG, "addons": {"cert_manager": True}}},
                    network=EXISTING_NETWORK),
        source="eks.yaml",
    )
    (cluster,) = config.training_clusters
    assert [a.value for a in dependencies(cluster)["addons"]] == ["eks-pod-identity-agent", "cert-manager"]


def test_created_cluster_defaults_add_the_fsx_csi_driver_with_fsx_and_honour_switches():
    config = parse_config(
        config_with({"eks": {"create": {}, "addons": {"coredns": False, "cloudwatch_observability": True}},
                     "fsx_lustre": {"storage_gib": 1200}}),
        source="eks.yaml",
    )
    (cluster,) = config.training_clusters
    assert [a.value for a in dependencies(cluster)["addons"]] == [
        "vpc-cni", "kube-proxy", "eks-pod-identity-agent", "cert-manager", "aws-fsx-csi-driver",
        "amazon-cloudwatch-observability"]
    assert cluster.eks.create.version == "1.33"
    assert dependencies(cluster)["installer"] is True  # the FSx PersistentVolume goes in through it


@pytest.mark.parametrize(
    ("cluster", "network", "platform", "expected"),
    [
        pytest.param({"eks_cluster_arn": "arn:aws:eks:eu-west-1:123456789012:cluster/ml",
                      "eks": {"cluster_security_group_id": SG}}, EXISTING_NETWORK,
                     {"account": "123456789012", "region": "us-east-1"},
                     r"training_clusters\[0\]\.eks_cluster_arn: got 'arn:aws:eks:eu-west-1:123456789012:cluster/ml'; "
                     r"an EKS cluster in platform\.region us-east-1", id="other-region"),
        pytest.param({"eks_cluster_arn": "arn:aws:eks:us-east-1:210987654321:cluster/ml",
                      "eks": {"cluster_security_group_id": SG}}, EXISTING_NETWORK,
                     {"account": "123456789012", "region": "us-east-1"},
                     r"training_clusters\[0\]\.eks_cluster_arn: got '.*210987654321.*'; an EKS cluster of "
                     r"platform\.account 123456789012", id="other-account"),
        pytest.param({"eks_cluster_arn": ARN, "eks": {"cluster_security_group_id": SG}}, None, None,
                     r"network\.vpc_id: got None; the existing EKS cluster's VPC with training_clusters\[0\]\."
                     r"eks_cluster_arn", id="existing-cluster-in-a-new-vpc"),
        pytest.param({"eks_cluster_arn": ARN}, EXISTING_NETWORK, None,
                     r"training_clusters\[0\]\.eks\.cluster_security_group_id: got None; the EKS cluster security "
                     r"group id with eks_cluster_arn", id="existing-cluster-without-security-group"),
        pytest.param({"eks_cluster_arn": ARN, "eks": {"cluster_security_group_id": "default"}}, EXISTING_NETWORK, None,
                     r"training_clusters\[0\]\.eks\.cluster_security_group_id: got 'default'; the EKS cluster "
                     r"security group id \(sg-", id="bad-security-group"),
        pytest.param({"eks_cluster_arn": ARN, "eks": {"create": {}}}, None, None,
                     r"training_clusters\[0\]\.eks_cluster_arn: got '.*'; omit it with eks\.create", id="arn-and-create"),
        pytest.param({"eks": {"create": {}, "cluster_security_group_id": SG}}, None, None,
                     r"training_clusters\[0\]\.eks\.cluster_security_group_id: got 'sg-.*'; omit it with eks\.create",
                     id="security-group-with-create"),
        pytest.param({"eks": {"create": {"version": "1.29"}}}, None, None,
                     r"training_clusters\[0\]\.eks\.create\.version: got '1\.29'; one of 1\.32, 1\.33, 1\.34",
                     id="unsupported-version"),
        pytest.param({"eks": {"create": {"admins": ["alice"]}}}, None, None,
                     r"training_clusters\[0\]\.eks\.create\.admins\[0\]: got 'alice'; an IAM role or user ARN",
                     id="bad-admin"),
        pytest.param({"eks": {"create": {"public_access_cidrs": ["everyone"]}}}, None, None,
                     r"training_clusters\[0\]\.eks\.create\.public_access_cidrs\[0\]: got 'everyone'; an IPv4 CIDR",
                     id="bad-cidr"),
        pytest.param({"eks": {"create": {}, "dependencies_chart": "/nonexistent/HyperPodHelmChart"}}, None, None,
                     r"training_clusters\[0\]\.eks\.dependencies_chart: got '/nonexistent/HyperPodHelmChart'; a folder "
                     r"with Chart\.yaml", id="chart-folder-missing"),
        pytest.param({"eks": {"create": {}, "dependencies_chart_values": {"inferenceOperators": {"enabled": True}}}},
                     None, None,
                     r"training_clusters\[0\]\.eks\.dependencies_chart_values\.inferenceOperators\.enabled: got True; "
                     r"false with the vendored chart, which cannot install the HyperPod inference operator .*point "
                     r"eks\.dependencies_chart at your own copy", id="inference-operator-in-vendored-chart"),
        pytest.param({"eks": {"create": {}, "dependencies_chart_values": {"cert-manager": {"enabled": True}}}},
                     None, None,
                     r"training_clusters\[0\]\.eks\.dependencies_chart_values\.cert-manager\.enabled: got True; .*: "
                     r"use the cert-manager EKS add-on in eks\.addons instead", id="cert-manager-inside-the-chart"),
        pytest.param({"eks": {"create": {}, "installer": False}}, None, None,
                     r"training_clusters\[0\]\.eks\.installer: got False; true with eks\.dependencies_chart \(the "
                     r"chart is installed by it\)", id="chart-without-installer"),
        pytest.param({"eks": {"create": {}, "installer": False, "dependencies_chart": False},
                      "fsx_lustre": {"storage_gib": 1200}}, None, None,
                     r"training_clusters\[0\]\.eks\.installer: got False; true with fsx_lustre \(the PersistentVolume "
                     r"is applied by it\), or no fsx_lustre", id="fsx-without-installer"),
        pytest.param({"orchestrator": "slurm", "eks": {"create": {}},
                      "instance_groups": [{"name": "c", "role": "controller", "instance_type": "ml.m5.xlarge", "count": 1}]},
                     None, None, r"training_clusters\[0\]\.eks: got '\.\.\.'; only with orchestrator eks", id="eks-on-slurm"),
        pytest.param({"eks": {}}, None, None,
                     r"training_clusters\[0\]\.eks_cluster_arn: got None; an EKS cluster ARN", id="neither-arn-nor-create"),
        pytest.param({"eks": {"create": {}, "addons": {"flannel": True}}}, None, None,
                     r"training_clusters\[0\]\.eks\.addons\.flannel: got True; unknown key", id="unknown-addon-key"),
    ],
)
def test_eks_config_is_refused_with_key_paths(cluster, network, platform, expected):
    import re

    found = problems_of(config_with(cluster, network=network, platform=platform))
    assert any(re.search(expected, p) for p in found), found


def test_created_cluster_problems_are_reported_together():
    found = problems_of(config_with({"eks": {"create": {"version": "1.20", "admins": ["bob"]},
                                             "dependencies_chart": "/nope"}}))
    assert [p.split(":")[0] for p in found] == [
        "training_clusters[0].eks.create.version",
        "training_clusters[0].eks.create.admins[0]",
        "training_clusters[0].eks.dependencies_chart",
    ]


def test_a_created_eks_cluster_is_in_the_cost_estimate():
    """Amazon EKS pricing: 0.10 USD per cluster-hour in standard support (730 hours a month)."""
    from stacks.cost import estimate

    config = parse_config(config_with({"eks": {"create": {}}}), source="eks.yaml")
    items = {i.label: i.monthly_usd for i in estimate(config).items}
    assert items["EKS cluster of eks-train: control plane"] == 73.0
