"""The rules on :class:`~constructs_lib.training.cluster.HyperPodCluster` props, written once.

The construct runs :func:`validate_cluster` before creating anything; the platform's config runs
:func:`check_cluster_props` on the props it will pass, renaming the keys to its own.
"""

from __future__ import annotations

from typing import Any

from constructs_lib import limits
from constructs_lib.errors import Problems, is_token
from constructs_lib.training import _limits
from constructs_lib.training._cluster_spec import (
    DeepHealthCheck,
    EksOrchestration,
    InstanceGroup,
    NodeProvisioningMode,
    NodeRecovery,
    SlurmConfigStrategy,
    SlurmNodeType,
    SlurmOrchestration,
)
from constructs_lib.training.collector import NodeMonitoring, check_node_monitoring
from constructs_lib.training.network import TrainingNetwork


def validate_cluster(
    path: str,
    *,
    cluster_name: str,
    instance_groups: list[InstanceGroup],
    orchestration: Any,
    node_recovery: Any,
    node_provisioning_mode: Any,
    network: TrainingNetwork | None = None,
    node_monitoring: NodeMonitoring | None = None,
) -> None:
    problems = Problems(f"HyperPodCluster {path}")
    if node_monitoring is not None:
        check_node_monitoring(problems, "node_monitoring", node_monitoring)
    check_cluster_props(
        problems,
        cluster_name=cluster_name,
        instance_groups=instance_groups,
        orchestration=orchestration,
        node_recovery=node_recovery,
        node_provisioning_mode=node_provisioning_mode,
        has_network=network is not None,
    )
    problems.raise_if_any()


def check_cluster_props(
    problems: Problems,
    *,
    cluster_name: str,
    instance_groups: list[InstanceGroup],
    orchestration: Any,
    node_recovery: Any,
    node_provisioning_mode: Any,
    has_network: bool,
) -> None:
    """Every rule on :class:`HyperPodCluster` props, recorded in ``problems`` under the props' names.

    The one copy of these rules: the construct runs it before creating anything, and the platform's
    config schema runs it on the props it will pass (translating the keys to its own).
    """
    problems.check(
        isinstance(cluster_name, str) and bool(limits.NAME_PATTERN.match(cluster_name)),
        "cluster_name",
        cluster_name,
        limits.NAME_RULE,
    )
    problems.check(
        node_recovery in tuple(NodeRecovery),
        "node_recovery",
        node_recovery,
        "one of " + ", ".join(r.value for r in NodeRecovery),
    )
    problems.check(
        node_provisioning_mode in tuple(NodeProvisioningMode),
        "node_provisioning_mode",
        node_provisioning_mode,
        "one of " + ", ".join(m.value for m in NodeProvisioningMode),
    )
    slurm = isinstance(orchestration, SlurmOrchestration)
    if isinstance(orchestration, EksOrchestration):
        arn = orchestration.cluster_arn
        problems.check(
            isinstance(arn, str) and bool(_limits.EKS_CLUSTER_ARN_PATTERN.match(arn)),
            "orchestration.cluster_arn",
            arn,
            "an EKS cluster ARN, arn:<partition>:eks:<region>:<account>:cluster/<name>",
        )
        sg = orchestration.cluster_security_group_id
        if sg is not None:
            from constructs_lib.training.eks import check_existing_cluster_security_group

            check_existing_cluster_security_group(problems, "orchestration.cluster_security_group_id", sg)
        problems.check(
            has_network,
            "network",
            None,
            "a TrainingNetwork in the EKS cluster's VPC, e.g. TrainingNetwork(scope, 'Network', vpc=eks_cluster.vpc)",
        )
    elif slurm:
        problems.check(
            orchestration.config_strategy in tuple(SlurmConfigStrategy),
            "orchestration.config_strategy",
            orchestration.config_strategy,
            "one of " + ", ".join(s.value for s in SlurmConfigStrategy),
        )
    else:
        problems.add("orchestration", orchestration, "SlurmOrchestration(...) or EksOrchestration(...)")

    low, high = _limits.INSTANCE_GROUPS
    problems.check(
        low <= len(instance_groups) <= high,
        "instance_groups",
        f"{len(instance_groups)} groups",
        f"{low}-{high} instance groups",
    )
    instance_types = limits.cluster_instance_types()
    first_use: dict[str, int] = {}
    controllers: list[int] = []
    for index, group in enumerate(instance_groups):
        where = f"instance_groups[{index}]"
        if not isinstance(group, InstanceGroup):
            problems.add(where, group, "an InstanceGroup(...)")
            continue
        if problems.check(
            bool(isinstance(group.name, str) and limits.NAME_PATTERN.match(group.name)),
            f"{where}.name",
            group.name,
            limits.NAME_RULE,
        ):
            if group.name in first_use:
                problems.add(
                    f"{where}.name",
                    group.name,
                    f"a unique name; instance_groups[{first_use[group.name]}] has it too",
                )
            else:
                first_use[group.name] = index
        problems.check(
            group.instance_type in instance_types,
            f"{where}.instance_type",
            group.instance_type,
            limits.describe_choices(instance_types),
        )
        low, high = _limits.INSTANCE_COUNT
        problems.check(
            _is_int(group.instance_count) and low <= group.instance_count <= high,
            f"{where}.instance_count",
            group.instance_count,
            f"an integer {low}-{high}",
        )
        if group.threads_per_core is not None:
            low, high = _limits.THREADS_PER_CORE
            problems.check(
                _is_int(group.threads_per_core) and low <= group.threads_per_core <= high,
                f"{where}.threads_per_core",
                group.threads_per_core,
                f"{low} (multithreading off) or {high} (on)",
            )
        if group.ebs_volume_size_gb is not None:
            low, high = _limits.EBS_VOLUME_GB
            problems.check(
                _is_int(group.ebs_volume_size_gb) and low <= group.ebs_volume_size_gb <= high,
                f"{where}.ebs_volume_size_gb",
                group.ebs_volume_size_gb,
                f"{low}-{high} GB",
            )
        checks = list(group.deep_health_checks)
        allowed_checks = "values among " + ", ".join(c.value for c in DeepHealthCheck)
        for c_index, check in enumerate(checks):
            problems.check(
                check in tuple(DeepHealthCheck),
                f"{where}.deep_health_checks[{c_index}]",
                check,
                allowed_checks,
            )
        problems.check(
            len(set(checks)) == len(checks), f"{where}.deep_health_checks", checks, "each check at most once"
        )
        if group.training_plan_arn is not None:
            problems.check(
                bool(_limits.TRAINING_PLAN_ARN_PATTERN.match(str(group.training_plan_arn))),
                f"{where}.training_plan_arn",
                group.training_plan_arn,
                "arn:<partition>:sagemaker:<region>:<account>:training-plan/<name>",
            )
        if slurm:
            node_type = group.slurm_node_type
            if problems.check(
                node_type in tuple(SlurmNodeType),
                f"{where}.slurm_node_type",
                node_type,
                "one of " + ", ".join(t.value for t in SlurmNodeType) + " with Slurm orchestration",
            ):
                if SlurmNodeType(node_type) is SlurmNodeType.CONTROLLER:
                    controllers.append(index)
                    problems.check(
                        group.instance_count == _limits.SLURM_CONTROLLER_COUNT
                        or is_token(group.instance_count),
                        f"{where}.instance_count",
                        group.instance_count,
                        f"{_limits.SLURM_CONTROLLER_COUNT} for the controller group (one slurmctld node)",
                    )
                if group.partition_name is not None:
                    problems.check(
                        SlurmNodeType(node_type) is SlurmNodeType.COMPUTE
                        and bool(_limits.PARTITION_NAME_PATTERN.match(group.partition_name)),
                        f"{where}.partition_name",
                        group.partition_name,
                        "letters, digits and hyphens, on compute groups only",
                    )
        else:
            problems.check(
                group.slurm_node_type is None,
                f"{where}.slurm_node_type",
                group.slurm_node_type,
                "unset with EKS orchestration",
            )
            problems.check(
                group.partition_name is None,
                f"{where}.partition_name",
                group.partition_name,
                "unset with EKS orchestration",
            )
    if slurm and len(controllers) != 1:
        problems.add(
            "instance_groups",
            [instance_groups[i].name for i in controllers],
            "exactly one group with slurm_node_type CONTROLLER",
        )


def _is_int(value: Any) -> bool:
    return is_token(value) or (isinstance(value, int) and not isinstance(value, bool))
