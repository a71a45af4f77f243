"""HyperPodCluster refuses bad input at synth with one error naming path, value and what is allowed.

Validation runs before any child construct is created, so these tests synthesize nothing.
"""

from __future__ import annotations

import pytest
from training_testkit import new_stack

from constructs_lib.errors import PlatformValidationError
from constructs_lib.training import (
    DeepHealthCheck,
    EksOrchestration,
    HyperPodCluster,
    InstanceGroup,
    NodeRecovery,
    SlurmNodeType,
)

CONTROLLER = InstanceGroup(
    name="controller",
    instance_type="ml.m5.xlarge",
    instance_count=1,
    slurm_node_type=SlurmNodeType.CONTROLLER,
)
WORKERS = InstanceGroup(
    name="workers", instance_type="ml.p5.48xlarge", instance_count=2, slurm_node_type=SlurmNodeType.COMPUTE
)


def build(groups, **props):
    return HyperPodCluster(
        new_stack(),
        "Cluster",
        cluster_name=props.pop("cluster_name", "train"),
        instance_groups=groups,
        **props,
    )


def worker(**changes):
    values = {
        "name": "workers",
        "instance_type": "ml.p5.48xlarge",
        "instance_count": 2,
        "slurm_node_type": SlurmNodeType.COMPUTE,
        **changes,
    }
    return InstanceGroup(**values)


def test_two_controller_groups_are_refused():
    second = InstanceGroup(
        name="controller-2",
        instance_type="ml.m5.xlarge",
        instance_count=1,
        slurm_node_type=SlurmNodeType.CONTROLLER,
    )
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups: got \['controller', 'controller-2'\]; exactly one group with "
        r"slurm_node_type CONTROLLER",
    ):
        build([CONTROLLER, second, WORKERS])


def test_missing_controller_group_is_refused():
    with pytest.raises(PlatformValidationError, match=r"instance_groups: got \[\]; exactly one group"):
        build([WORKERS])


def test_controller_group_runs_one_instance():
    big = InstanceGroup(
        name="controller",
        instance_type="ml.m5.xlarge",
        instance_count=2,
        slurm_node_type=SlurmNodeType.CONTROLLER,
    )
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[0\]\.instance_count: got 2; 1 for the "
        r"controller group",
    ):
        build([big, WORKERS])


def test_unknown_instance_type_is_refused():
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[1\]\.instance_type: got 'ml\.p9\.96xlarge'; one of \d+ values",
    ):
        build([CONTROLLER, worker(instance_type="ml.p9.96xlarge")])


def test_zero_groups_are_refused():
    with pytest.raises(
        PlatformValidationError, match=r"instance_groups: got '0 groups'; 1-100 instance groups"
    ):
        build([], orchestration=EksOrchestration(cluster_arn="arn:aws:eks:us-east-1:123456789012:cluster/c"))
    with pytest.raises(
        PlatformValidationError, match=r"instance_groups: got '0 groups'; 1-100 instance groups"
    ):
        build([])


def test_more_than_100_groups_are_refused():
    groups = [CONTROLLER] + [worker(name=f"w{i}") for i in range(100)]
    with pytest.raises(PlatformValidationError, match=r"instance_groups: got '101 groups'; 1-100"):
        build(groups)


def test_bad_deep_health_check_name_is_refused():
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[1\]\.deep_health_checks\[1\]: got 'InstanceBurnIn'; values among "
        r"InstanceStress, InstanceConnectivity",
    ):
        build([CONTROLLER, worker(deep_health_checks=(DeepHealthCheck.INSTANCE_STRESS, "InstanceBurnIn"))])


def test_repeated_deep_health_check_is_refused():
    checks = (DeepHealthCheck.INSTANCE_STRESS, DeepHealthCheck.INSTANCE_STRESS)
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[1\]\.deep_health_checks: .*each check at "
        r"most once",
    ):
        build([CONTROLLER, worker(deep_health_checks=checks)])


def test_duplicate_group_names_are_refused():
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[2\]\.name: got 'workers'; a unique name; instance_groups\[1\] has "
        r"it too",
    ):
        build([CONTROLLER, WORKERS, worker()])


@pytest.mark.parametrize("threads", [0, 3, True])
def test_threads_per_core_is_one_or_two(threads):
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[1\]\.threads_per_core: got .*; 1 \(multithreading off\) or 2",
    ):
        build([CONTROLLER, worker(threads_per_core=threads)])


@pytest.mark.parametrize("count", [-1, 6759, 2.5])
def test_instance_count_range(count):
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[1\]\.instance_count: got .*; an integer "
        r"0-6758",
    ):
        build([CONTROLLER, worker(instance_count=count)])


@pytest.mark.parametrize("size", [0, 16385])
def test_ebs_volume_size_range(size):
    with pytest.raises(
        PlatformValidationError, match=r"instance_groups\[1\]\.ebs_volume_size_gb: got \d+; 1-16384 GB"
    ):
        build([CONTROLLER, worker(ebs_volume_size_gb=size)])


@pytest.mark.parametrize("name", ["-workers", "workers_1", "w" * 64, ""])
def test_group_and_cluster_names_follow_the_sagemaker_pattern(name):
    with pytest.raises(PlatformValidationError, match=r"instance_groups\[1\]\.name: got .*; 1-63 letters"):
        build([CONTROLLER, worker(name=name)])
    with pytest.raises(PlatformValidationError, match=r"cluster_name: got .*; 1-63 letters"):
        build([CONTROLLER, WORKERS], cluster_name=name)


def test_slurm_groups_need_a_node_type_and_eks_groups_must_not_have_one():
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[1\]\.slurm_node_type: got None; one of "
        r"Controller, Login, Compute",
    ):
        build([CONTROLLER, worker(slurm_node_type=None)])
    eks = EksOrchestration(cluster_arn="arn:aws:eks:us-east-1:123456789012:cluster/c")
    with pytest.raises(
        PlatformValidationError, match=r"instance_groups\[0\]\.slurm_node_type: .*unset with EKS"
    ):
        build([WORKERS], orchestration=eks)


def test_partition_only_on_compute_groups():
    login = InstanceGroup(
        name="login",
        instance_type="ml.m5.xlarge",
        instance_count=1,
        slurm_node_type=SlurmNodeType.LOGIN,
        partition_name="p5",
    )
    with pytest.raises(
        PlatformValidationError,
        match=r"instance_groups\[1\]\.partition_name: got 'p5'; .*compute "
        r"groups only",
    ):
        build([CONTROLLER, login])


def test_eks_cluster_arn_and_training_plan_arn_are_checked():
    with pytest.raises(
        PlatformValidationError,
        match=r"orchestration\.cluster_arn: got 'training'; an EKS cluster "
        r"ARN",
    ):
        build([worker(slurm_node_type=None)], orchestration=EksOrchestration(cluster_arn="training"))
    with pytest.raises(
        PlatformValidationError, match=r"instance_groups\[1\]\.training_plan_arn: got 'plan-1'"
    ):
        build([CONTROLLER, worker(training_plan_arn="plan-1")])


def test_every_problem_is_reported_at_once():
    bad = InstanceGroup(
        name="workers",
        instance_type="ml.nope",
        instance_count=-5,
        threads_per_core=4,
        slurm_node_type=SlurmNodeType.COMPUTE,
        deep_health_checks=("Nope",),
    )
    with pytest.raises(PlatformValidationError) as caught:
        build([bad, worker()], cluster_name="bad_name", node_recovery="Sometimes")
    paths = [p.where for p in caught.value.problems]
    assert paths == [
        "cluster_name",
        "node_recovery",
        "instance_groups[0].instance_type",
        "instance_groups[0].instance_count",
        "instance_groups[0].threads_per_core",
        "instance_groups[0].deep_health_checks[0]",
        "instance_groups[1].name",
        "instance_groups",
    ]
    assert str(caught.value).startswith("HyperPodCluster Test/Cluster: 8 problem(s)")


def test_eks_orchestration_needs_the_eks_cluster_network():
    eks = EksOrchestration(cluster_arn="arn:aws:eks:us-east-1:123456789012:cluster/c")
    with pytest.raises(
        PlatformValidationError, match=r"network: got None; a TrainingNetwork in the EKS cluster's VPC"
    ):
        build([worker(slurm_node_type=None)], orchestration=eks)


def test_eks_orchestration_from_an_eks_cluster_object():
    class FakeEksCluster:
        cluster_arn = "arn:aws:eks:us-east-1:123456789012:cluster/from-object"

    assert EksOrchestration.from_cluster(FakeEksCluster()).cluster_arn.endswith("/from-object")


def test_valid_values_pass_and_one_bad_value_is_the_only_problem():
    """The checker accepts a valid Slurm cluster (returns, raises nothing) and, given the same values
    with only the name broken, reports exactly that one key: it checks these values, not nothing."""
    from constructs_lib.training import SlurmOrchestration
    from constructs_lib.training._cluster_checks import validate_cluster

    valid = dict(
        cluster_name="train",
        instance_groups=[CONTROLLER, WORKERS],
        orchestration=SlurmOrchestration(),
        node_recovery=NodeRecovery.NONE,
        node_provisioning_mode="Standard",
    )
    assert validate_cluster("x", **valid) is None
    with pytest.raises(PlatformValidationError) as caught:
        validate_cluster("x", **{**valid, "cluster_name": "train_1"})
    assert [(p.where, p.value) for p in caught.value.problems] == [("cluster_name", "train_1")]
