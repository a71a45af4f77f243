"""``LustreStorage``: the shared FSx for Lustre file system of a training cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypedDict

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib._security_group_rules import wait_for_security_group_rules
from constructs_lib.errors import Problems, is_token
from constructs_lib.training import _limits
from constructs_lib.training._resources import create_key
from constructs_lib.training.network import TrainingNetwork

DEFAULT_MOUNT_POINT = "/fsx"
DEFAULT_STORAGE_GIB = 1200
DEFAULT_BACKUP_RETENTION = Duration.days(7)


class LustreDeploymentType(str, Enum):
    """Persistent SSD deployment types (scratch file systems lose data when a server fails)."""

    PERSISTENT_2 = "PERSISTENT_2"
    PERSISTENT_1 = "PERSISTENT_1"  # only where PERSISTENT_2 is not offered in the region

    @property
    def throughputs(self) -> tuple[int, ...]:
        """Allowed MB/s per TiB of storage."""
        if self is LustreDeploymentType.PERSISTENT_2:
            return _limits.PERSISTENT_2_THROUGHPUT
        return _limits.PERSISTENT_1_THROUGHPUT

    @property
    def default_throughput(self) -> int:
        return 250 if self is LustreDeploymentType.PERSISTENT_2 else 200


class DataRepositoryEvent(str, Enum):
    NEW = "NEW"
    CHANGED = "CHANGED"
    DELETED = "DELETED"


ALL_EVENTS = (DataRepositoryEvent.NEW, DataRepositoryEvent.CHANGED, DataRepositoryEvent.DELETED)


@dataclass(frozen=True, kw_only=True)
class DataRepository:
    """Links an S3 prefix to a directory of the file system (``AWS::FSx::DataRepositoryAssociation``).

    :param bucket: the S3 bucket holding the data set.
    :param prefix: key prefix inside the bucket, e.g. ``"datasets/c4"``. Default: the whole bucket.
    :param file_system_path: directory of the file system linked to the prefix. Default ``/datasets``.
    :param import_events: S3 changes imported automatically. Default: new, changed and deleted objects.
    :param export_events: file system changes exported to S3 automatically. Default: none (read-mostly data sets).
    :param import_metadata_on_create: list the prefix's objects when the association is created. Default ``True``.
    """

    bucket: s3.IBucket
    prefix: str = ""
    file_system_path: str = "/datasets"
    import_events: tuple[DataRepositoryEvent, ...] = ALL_EVENTS
    export_events: tuple[DataRepositoryEvent, ...] = ()
    import_metadata_on_create: bool = True

    @property
    def data_repository_path(self) -> str:
        prefix = self.prefix.strip("/")
        return f"s3://{self.bucket.bucket_name}/{prefix + '/' if prefix else ''}"


class LustreStorageOptions(TypedDict, total=False):
    """The keyword arguments of :class:`LustreStorage` that size and link the file system: every one
    but the deploy-time objects and policies (``network``, ``subnet``, ``encryption_key``,
    ``removal_policy``, ...), with the constructor's names, types and defaults.

    ``LustreStorage(scope, id, network=..., **options)`` (type checkers check the splat);
    :func:`check_lustre_props` takes the same keywords. The platform's config builds one per
    ``fsx_lustre`` section (``FsxLustreSection.to_spec(bucket=...)``).
    """

    storage_capacity_gib: int
    deployment_type: LustreDeploymentType
    per_unit_storage_throughput: int | None
    data_repositories: Sequence[DataRepository]


class LustreStorage(Construct):
    """A persistent FSx for Lustre file system in the training subnet and EFA security group.

    :param network: the cluster's network; the file system joins its security group (which allows
        all traffic between members, including Lustre's ports 988 and 1018-1023).
    :param subnet: subnet of the file system. Default: ``network.primary_subnet`` (first AZ); keep the
        cluster in the same subnet for bandwidth and to avoid cross-AZ charges.
    :param storage_capacity_gib: size in GiB: 1200, 2400 or a multiple of 2400. Default 1200.
    :param deployment_type: Default ``PERSISTENT_2``.
    :param per_unit_storage_throughput: MB/s per TiB: 125, 250, 500 or 1000 for PERSISTENT_2; 50, 100
        or 200 for PERSISTENT_1. Default 250 (PERSISTENT_2) or 200 (PERSISTENT_1).
    :param data_compression: LZ4 compression of file data. Default ``True``.
    :param encryption_key: key for data at rest. Default: a new key (rotation on, retained).
    :param removal_policy: what stack deletion does to the file system. Default ``RETAIN``: training
        data and checkpoints survive; pass ``DESTROY`` for throw-away environments.
    :param automatic_backup_retention: daily automatic backups kept this long (0-90 days; 0 turns
        them off). Default 7 days.
    :param mount_point: where cluster nodes mount the file system. Default ``/fsx``.
    :param data_repositories: S3 prefixes linked to directories (at most 8). Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        network: TrainingNetwork,
        subnet: ec2.ISubnet | None = None,
        storage_capacity_gib: int = DEFAULT_STORAGE_GIB,
        deployment_type: LustreDeploymentType = LustreDeploymentType.PERSISTENT_2,
        per_unit_storage_throughput: int | None = None,
        data_compression: bool = True,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        automatic_backup_retention: Duration = DEFAULT_BACKUP_RETENTION,
        mount_point: str = DEFAULT_MOUNT_POINT,
        data_repositories: Sequence[DataRepository] = (),
    ) -> None:
        super().__init__(scope, id)
        if per_unit_storage_throughput is None and deployment_type in tuple(LustreDeploymentType):
            per_unit_storage_throughput = LustreDeploymentType(deployment_type).default_throughput
        _validate(
            self.node.path,
            storage_capacity_gib=storage_capacity_gib,
            deployment_type=deployment_type,
            per_unit_storage_throughput=per_unit_storage_throughput,
            automatic_backup_retention=automatic_backup_retention,
            mount_point=mount_point,
            data_repositories=data_repositories,
        )
        self.network = network
        self.subnet: ec2.ISubnet = subnet or network.primary_subnet
        self.security_group: ec2.ISecurityGroup = network.security_group
        self.mount_point = mount_point
        self.storage_capacity_gib = storage_capacity_gib
        self.per_unit_storage_throughput = per_unit_storage_throughput  # MB/s per TiB, the default filled in
        self.encryption_key: kms.IKey = encryption_key or create_key(
            self, "Key", description=f"{self.node.path} FSx for Lustre data"
        )
        self.file_system = fsx.LustreFileSystem(
            self,
            "Resource",
            vpc=network.vpc,
            vpc_subnet=self.subnet,
            security_group=self.security_group,
            storage_capacity_gib=storage_capacity_gib,
            kms_key=self.encryption_key,
            removal_policy=removal_policy,
            file_system_type_version=fsx.FileSystemTypeVersion.V_2_15,
            lustre_configuration=fsx.LustreConfiguration(
                deployment_type=fsx.LustreDeploymentType[LustreDeploymentType(deployment_type).value],
                per_unit_storage_throughput=per_unit_storage_throughput,
                data_compression_type=(
                    fsx.LustreDataCompressionType.LZ4
                    if data_compression
                    else fsx.LustreDataCompressionType.NONE
                ),
                automatic_backup_retention=automatic_backup_retention,
                copy_tags_to_backups=True,
            ),
        )
        # FSx checks the group's Lustre rules (988, 1018-1023) at creation: wait for every rule resource.
        wait_for_security_group_rules(self.file_system, [self.security_group])
        self.data_repository_associations: list[fsx.CfnDataRepositoryAssociation] = []
        for index, repository in enumerate(data_repositories):
            self.data_repository_associations.append(self._associate(index, repository))

    @property
    def file_system_id(self) -> str:
        return self.file_system.file_system_id

    @property
    def dns_name(self) -> str:
        return self.file_system.dns_name

    @property
    def mount_name(self) -> str:
        return self.file_system.mount_name

    def _associate(self, index: int, repository: DataRepository) -> fsx.CfnDataRepositoryAssociation:
        s3_config = fsx.CfnDataRepositoryAssociation.S3Property(
            auto_import_policy=(
                fsx.CfnDataRepositoryAssociation.AutoImportPolicyProperty(
                    events=[DataRepositoryEvent(e).value for e in repository.import_events]
                )
                if repository.import_events
                else None
            ),
            auto_export_policy=(
                fsx.CfnDataRepositoryAssociation.AutoExportPolicyProperty(
                    events=[DataRepositoryEvent(e).value for e in repository.export_events]
                )
                if repository.export_events
                else None
            ),
        )
        return fsx.CfnDataRepositoryAssociation(
            self,
            f"DataRepository{index}",
            file_system_id=self.file_system.file_system_id,
            file_system_path=repository.file_system_path,
            data_repository_path=repository.data_repository_path,
            batch_import_meta_data_on_create=repository.import_metadata_on_create,
            s3=s3_config,
        )


def _validate(
    path: str,
    *,
    storage_capacity_gib: int,
    deployment_type: LustreDeploymentType,
    per_unit_storage_throughput: int | None,
    automatic_backup_retention: Duration,
    mount_point: str,
    data_repositories: Sequence[DataRepository],
) -> None:
    problems = Problems(f"LustreStorage {path}")
    check_lustre_props(
        problems,
        storage_capacity_gib=storage_capacity_gib,
        deployment_type=deployment_type,
        per_unit_storage_throughput=per_unit_storage_throughput,
        automatic_backup_retention=automatic_backup_retention,
        mount_point=mount_point,
        data_repositories=data_repositories,
    )
    problems.raise_if_any()


def check_lustre_props(
    problems: Problems,
    *,
    storage_capacity_gib: int,
    deployment_type: LustreDeploymentType,
    per_unit_storage_throughput: int | None,
    automatic_backup_retention: Duration = DEFAULT_BACKUP_RETENTION,
    mount_point: str = DEFAULT_MOUNT_POINT,
    data_repositories: Sequence[DataRepository] = (),
) -> None:
    """Every rule on :class:`LustreStorage` props, recorded in ``problems`` under the props' names.

    The one copy of these rules, shared by the construct and the platform's config schema.
    ``per_unit_storage_throughput=None`` stands for the deployment type's default.
    """
    known_type = deployment_type in tuple(LustreDeploymentType)
    problems.check(
        known_type,
        "deployment_type",
        deployment_type,
        "one of " + ", ".join(t.value for t in LustreDeploymentType),
    )
    smallest = _limits.LUSTRE_STORAGE_SMALLEST_GIB
    step = _limits.LUSTRE_STORAGE_STEP_GIB
    problems.check(
        isinstance(storage_capacity_gib, int)
        and not isinstance(storage_capacity_gib, bool)
        and (
            storage_capacity_gib in smallest
            or (storage_capacity_gib > 0 and storage_capacity_gib % step == 0)
        )
        and storage_capacity_gib <= _limits.LUSTRE_STORAGE_MAX_GIB,
        "storage_capacity_gib",
        storage_capacity_gib,
        f"1200, 2400 or a multiple of 2400 GiB for {getattr(deployment_type, 'value', deployment_type)}",
    )
    if known_type:
        allowed = LustreDeploymentType(deployment_type).throughputs
        if per_unit_storage_throughput is None:
            per_unit_storage_throughput = LustreDeploymentType(deployment_type).default_throughput
        problems.check(
            per_unit_storage_throughput in allowed,
            "per_unit_storage_throughput",
            per_unit_storage_throughput,
            f"one of {', '.join(map(str, allowed))} MB/s per TiB for {LustreDeploymentType(deployment_type).value}",
        )
    if not is_token(automatic_backup_retention.to_days(integral=False)):
        days = automatic_backup_retention.to_days(integral=False)
        problems.check(
            0 <= days <= 90 and float(days).is_integer(),
            "automatic_backup_retention",
            f"{days} days",
            "0-90 whole days",
        )
    problems.check(
        bool(_limits.FILE_SYSTEM_PATH_PATTERN.match(mount_point or "")) and mount_point != "/",
        "mount_point",
        mount_point,
        "an absolute directory other than /, e.g. /fsx",
    )
    problems.check(
        len(data_repositories) <= _limits.DATA_REPOSITORY_ASSOCIATIONS_MAX,
        "data_repositories",
        f"{len(data_repositories)} associations",
        f"at most {_limits.DATA_REPOSITORY_ASSOCIATIONS_MAX} per file system",
    )
    seen: list[str] = []
    for index, repository in enumerate(data_repositories):
        where = f"data_repositories[{index}]"
        fs_path = repository.file_system_path
        if not problems.check(
            bool(_limits.FILE_SYSTEM_PATH_PATTERN.match(fs_path or "")) and fs_path != "/",
            f"{where}.file_system_path",
            fs_path,
            "an absolute directory other than /, e.g. /datasets",
        ):
            continue
        normalized = fs_path.rstrip("/") + "/"
        overlapping = [
            other for other in seen if normalized.startswith(other) or other.startswith(normalized)
        ]
        problems.check(
            not overlapping,
            f"{where}.file_system_path",
            fs_path,
            f"a directory not inside or containing another association's ({overlapping[0] if overlapping else ''})",
        )
        seen.append(normalized)
        problems.check(
            not repository.prefix.startswith("/"),
            f"{where}.prefix",
            repository.prefix,
            "an S3 key prefix without a leading /",
        )
        for field in ("import_events", "export_events"):
            events = getattr(repository, field)
            bad = [e for e in events if e not in tuple(DataRepositoryEvent)]
            problems.check(not bad, f"{where}.{field}", list(events), "values among NEW, CHANGED, DELETED")
            problems.check(
                len(set(events)) == len(events), f"{where}.{field}", list(events), "no repeated event"
            )
