"""How a training job spreads over its instances: launcher, data and model parallelism, data channels
and the code a framework container runs -- props, rules and the request fields they become.

The rules and the hyperparameters follow the SageMaker Python SDK, which is what SageMaker's framework
containers (the sagemaker-training toolkit) are built to read:

* ``fw_utils.validate_distribution_for_instance_type``: Trainium runs ``torch_distributed`` only;
* ``fw_utils.validate_torch_distributed_distribution``: ``torch_distributed`` on GPU (``ml.p*``,
  ``ml.g*``) or Trainium (``ml.trn*``) instances only, with a ``*.py`` entry point;
* ``fw_utils.SM_DATAPARALLEL_SUPPORTED_INSTANCE_TYPES`` and ``Framework._distribution_configuration``:
  the SageMaker distributed data parallelism library (SMDDP) on ml.p3.16xlarge, ml.p3dn.24xlarge,
  ml.p4d.24xlarge, ml.p4de.24xlarge, and on ml.p5.48xlarge only together with ``torch_distributed``
  ("SMModelParallel and SMDataParallel currently do not support p5 instances" otherwise);
* ``PyTorch._pytorch_distribution_configuration``: ``pytorchddp`` is SMDDP's data parallelism launched
  with ``mpirun``; with ``torch_distributed`` the SMDDP/SMP keys are set next to
  ``sagemaker_torch_distributed_enabled``;
* ``modules.distributed.SMP`` (SMP v2 parameters, SageMaker Developer Guide "SageMaker model
  parallelism library v2 reference"): ``mp_parameters`` holds the JSON of the SMP v2 configuration;
  SMP v2 runs through ``torch_distributed`` on ml.p4d.24xlarge, ml.p4de.24xlarge and ml.p5.48xlarge.

Hyperparameter values are JSON-encoded, as the SDK sends them (``EstimatorBase._json_encode_hyperparameters``).
These keys are read only by SageMaker's framework containers; a custom image must launch its own
processes from the environment SageMaker provides (see the package README, "Custom images").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from constructs_lib.errors import Problems, is_token
from constructs_lib.limits import instance_family


class Distribution(str, Enum):
    """The launcher of a framework container (SageMaker Python SDK ``distribution``)."""

    TORCH_DISTRIBUTED = "torch_distributed"  # torchrun on every instance
    PYTORCH_DDP = "pytorchddp"  # PyTorch DDP through SMDDP, launched with mpirun
    MPI = "mpi"  # mpirun across instances (Horovod and similar)

    @property
    def hyperparameters(self) -> dict[str, str]:
        """The launcher's own switch (``sagemaker_<launcher>_enabled``), JSON-encoded."""
        return {_LAUNCHER_KEYS[self]: "true"}


_LAUNCHER_KEYS = {
    Distribution.TORCH_DISTRIBUTED: "sagemaker_torch_distributed_enabled",
    Distribution.PYTORCH_DDP: "sagemaker_pytorch_ddp_enabled",
    Distribution.MPI: "sagemaker_mpi_enabled",
}


class DataParallel(str, Enum):
    SMDDP = "smddp"  # SageMaker distributed data parallelism library (smdistributed.dataparallel)


# SMP v2 configuration keys and their types (SDK modules/distributed.py ``SMP``).
SMP_V2_POSITIVE_INTS = (
    "hybrid_shard_degree",
    "activation_loading_horizon",
    "tensor_parallel_degree",
    "context_parallel_degree",
    "expert_parallel_degree",
)
SMP_V2_BOOLS = ("sm_activation_offloading", "fsdp_cache_flush_warnings", "allow_empty_shards")
SMP_V2_INTS = ("random_seed",)
SMP_V2_KEYS = SMP_V2_POSITIVE_INTS + SMP_V2_BOOLS + SMP_V2_INTS

SMDDP_INSTANCE_TYPES = ("ml.p3.16xlarge", "ml.p3dn.24xlarge", "ml.p4d.24xlarge", "ml.p4de.24xlarge")
SMDDP_TORCH_DISTRIBUTED_ONLY = ("ml.p5.48xlarge",)
SMP_V2_INSTANCE_TYPES = ("ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge")
GPU_FAMILY_PREFIXES = ("p", "g")
TRAINIUM_FAMILY_PREFIX = "trn"


@dataclass(frozen=True, kw_only=True)
class ModelParallel:
    """SageMaker model parallelism v2 (SMP v2), run through ``torch_distributed``.

    :param parameters: the SMP v2 configuration, e.g. ``{"hybrid_shard_degree": 8,
        "tensor_parallel_degree": 2}``; keys among :data:`SMP_V2_KEYS`.
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DistributionConfig:
    """A launcher plus the SageMaker distributed libraries it runs with.

    :param kind: the launcher.
    :param data_parallel: ``DataParallel.SMDDP`` for SageMaker's data parallelism library (with
        ``torch_distributed`` or ``pytorchddp``). Default: the framework's own collectives (NCCL).
    :param model_parallel: SMP v2 parameters (``torch_distributed`` only). Default: none.
    :param processes_per_host: ``mpi`` only: processes per instance. Default: the container's choice.
    """

    kind: Distribution
    data_parallel: DataParallel | None = None
    model_parallel: ModelParallel | None = None
    processes_per_host: int | None = None

    @classmethod
    def of(cls, value: Distribution | DistributionConfig | str | None) -> DistributionConfig | None:
        """Accept the scalar form (``Distribution.TORCH_DISTRIBUTED`` or ``"torch_distributed"``)."""
        if value is None or isinstance(value, DistributionConfig):
            return value
        return cls(kind=value)  # type: ignore[arg-type]


class InputMode(str, Enum):
    """``Channel.InputMode`` (botocore enum ``TrainingInputMode``)."""

    FILE = "File"  # downloaded to the instance volume before training starts
    FAST_FILE = "FastFile"  # streamed from S3 on read, through a file system view
    PIPE = "Pipe"  # streamed through a named pipe


class DataDistribution(str, Enum):
    """``S3DataSource.S3DataDistributionType`` (botocore enum ``S3DataDistribution``)."""

    FULLY_REPLICATED = "FullyReplicated"  # every instance gets every object
    SHARDED_BY_S3_KEY = "ShardedByS3Key"  # each of n instances gets about 1/n of the objects


@dataclass(frozen=True, kw_only=True)
class DataChannel:
    """One input channel, read from a key prefix of the artifacts bucket; the container finds it at
    ``/opt/ml/input/data/<name>`` (and ``SM_CHANNEL_<NAME>`` with the training toolkit).

    :param name: 1-64 letters, digits, ``.``, ``-``, ``_`` (botocore ``ChannelName``).
    :param s3_prefix: key prefix in the artifacts bucket, e.g. ``datasets/llm/train/``.
    :param distribution: ``SHARDED_BY_S3_KEY`` splits the objects across the instances (data
        parallelism without duplicate reads). Default ``FULLY_REPLICATED``.
    :param input_mode: Default: the job's (``File``).
    """

    name: str
    s3_prefix: str
    distribution: DataDistribution = DataDistribution.FULLY_REPLICATED
    input_mode: InputMode | None = None


@dataclass(frozen=True, kw_only=True)
class EntryPoint:
    """The script a SageMaker framework container runs (``sagemaker_program``) from the code archive
    ``s3://<artifacts>/<source_prefix>sourcedir.tar.gz`` (``sagemaker_submit_directory``), as the
    SageMaker Python SDK uploads it.

    :param script: path of the script inside the archive, e.g. ``train.py``.
    :param source_prefix: key prefix in the artifacts bucket holding ``sourcedir.tar.gz``; ends with ``/``.
    """

    script: str
    source_prefix: str

    @property
    def archive_key(self) -> str:
        return f"{self.source_prefix}{SOURCE_ARCHIVE}"


SOURCE_ARCHIVE = "sourcedir.tar.gz"
CHANNEL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")
CHANNELS_MAX = 20  # botocore InputDataConfig: 1-20 channels
KEY_PREFIX_PATTERN = re.compile(r"^[^/\s][^\s]*$")


def is_gpu(instance_type: str) -> bool:
    return instance_family(instance_type).startswith(GPU_FAMILY_PREFIXES)


def is_trainium(instance_type: str) -> bool:
    return instance_family(instance_type).startswith(TRAINIUM_FAMILY_PREFIX)


def _json(value: Any) -> str:
    return json.dumps(value)


def distribution_hyperparameters(config: DistributionConfig | None, instance_type: str) -> dict[str, str]:
    """What the SageMaker Python SDK's PyTorch estimator sends for ``config`` (JSON-encoded values)."""
    if config is None:
        return {}
    kind = Distribution(config.kind)
    out: dict[str, str] = {}
    smdistributed = config.data_parallel is not None or config.model_parallel is not None
    if kind is Distribution.MPI:
        out[_LAUNCHER_KEYS[kind]] = "true"
        if config.processes_per_host is not None:
            out["sagemaker_mpi_num_of_processes_per_host"] = _json(config.processes_per_host)
        out["sagemaker_mpi_custom_mpi_options"] = _json("")
        return out
    if kind is Distribution.PYTORCH_DDP and config.data_parallel is None:
        return {_LAUNCHER_KEYS[kind]: "true", "sagemaker_instance_type": _json(instance_type)}
    if config.model_parallel is not None:
        out["mp_parameters"] = _json(dict(config.model_parallel.parameters))
    if smdistributed:
        # The SDK rewrites pytorchddp + SMDDP into smdistributed.dataparallel.
        out["sagemaker_distributed_dataparallel_enabled"] = _json(config.data_parallel is not None)
        out["sagemaker_instance_type"] = _json(instance_type)
        if config.data_parallel is not None:
            out["sagemaker_distributed_dataparallel_custom_mpi_options"] = _json("")
    if kind is Distribution.TORCH_DISTRIBUTED:
        out[_LAUNCHER_KEYS[kind]] = "true"
        out["sagemaker_instance_type"] = _json(instance_type)
    return out


def entry_point_hyperparameters(entry_point: EntryPoint | None, *, bucket_name: str, region: str) -> dict[str, str]:
    """``sagemaker_program``, ``sagemaker_submit_directory`` and ``sagemaker_region`` (SDK
    ``Framework._script_mode_hyperparam_update``), JSON-encoded."""
    if entry_point is None:
        return {}
    return {
        "sagemaker_program": _json(entry_point.script),
        "sagemaker_submit_directory": _json(f"s3://{bucket_name}/{entry_point.archive_key}"),
        "sagemaker_region": _json(region),
    }


def check_distribution(
    problems: Problems,
    *,
    distribution: Any,
    instance_type: str,
    entry_point: Any,
) -> None:
    """The SDK's distribution rules (module docstring), recorded under ``distribution...`` paths."""
    if distribution is None:
        return
    if isinstance(distribution, (Distribution, str)) and not isinstance(distribution, DistributionConfig):
        if not problems.check(
            distribution in tuple(Distribution),
            "distribution",
            distribution,
            "one of " + ", ".join(d.value for d in Distribution),
        ):
            return
        config = DistributionConfig(kind=Distribution(distribution))
        where = "distribution"
    elif isinstance(distribution, DistributionConfig):
        config = distribution
        where = "distribution.kind"
        if not problems.check(
            config.kind in tuple(Distribution),
            where,
            config.kind,
            "one of " + ", ".join(d.value for d in Distribution),
        ):
            return
    else:
        problems.add("distribution", distribution, "a Distribution or a DistributionConfig(...)")
        return
    kind = Distribution(config.kind)
    known_type = isinstance(instance_type, str) and bool(instance_type) and not is_token(instance_type)
    if known_type:
        if kind is Distribution.TORCH_DISTRIBUTED:
            problems.check(
                is_gpu(instance_type) or is_trainium(instance_type),
                "instance_type",
                instance_type,
                "a GPU (ml.p*, ml.g*) or Trainium (ml.trn*) instance type with distribution "
                "torch_distributed (SageMaker Python SDK validate_torch_distributed_distribution)",
            )
        else:
            problems.check(
                not is_trainium(instance_type),
                where,
                kind.value,
                "torch_distributed on Trainium instances (SageMaker Python SDK "
                "validate_distribution_for_instance_type)",
            )
    if kind is Distribution.TORCH_DISTRIBUTED and isinstance(entry_point, EntryPoint):
        problems.check(
            str(entry_point.script).endswith(".py"),
            "entry_point.script",
            entry_point.script,
            "a Python script (*.py) with distribution torch_distributed",
        )
    if config.processes_per_host is not None:
        problems.check(
            kind is Distribution.MPI
            and isinstance(config.processes_per_host, int)
            and not isinstance(config.processes_per_host, bool)
            and config.processes_per_host >= 1,
            "distribution.processes_per_host",
            config.processes_per_host,
            "an integer >= 1, with kind mpi only",
        )
    if config.data_parallel is not None and problems.check(
        config.data_parallel in tuple(DataParallel),
        "distribution.data_parallel",
        config.data_parallel,
        "one of " + ", ".join(d.value for d in DataParallel),
    ):
        problems.check(
            kind in (Distribution.TORCH_DISTRIBUTED, Distribution.PYTORCH_DDP),
            "distribution.data_parallel",
            DataParallel(config.data_parallel).value,
            "smddp with kind torch_distributed (torchrun) or pytorchddp (mpirun); kind mpi launches "
            "its own processes",
        )
        if known_type:
            allowed = SMDDP_INSTANCE_TYPES + (
                SMDDP_TORCH_DISTRIBUTED_ONLY if kind is Distribution.TORCH_DISTRIBUTED else ()
            )
            problems.check(
                instance_type in allowed,
                "instance_type",
                instance_type,
                "an instance type SMDDP supports with this kind: " + ", ".join(allowed)
                + " (ml.p5.48xlarge with torch_distributed only)",
            )
    if config.model_parallel is not None:
        problems.check(
            kind is Distribution.TORCH_DISTRIBUTED,
            "distribution.model_parallel",
            kind.value,
            "kind torch_distributed (SMP v2 runs through torchrun)",
        )
        if known_type:
            problems.check(
                instance_type in SMP_V2_INSTANCE_TYPES,
                "instance_type",
                instance_type,
                "an instance type SMP v2 supports: " + ", ".join(SMP_V2_INSTANCE_TYPES),
            )
        _check_smp_parameters(problems, config.model_parallel)


def _check_smp_parameters(problems: Problems, model_parallel: Any) -> None:
    params = getattr(model_parallel, "parameters", None)
    base = "distribution.model_parallel"
    if not isinstance(params, Mapping):
        problems.add(base, model_parallel, "ModelParallel(parameters={...})")
        return
    for key, value in params.items():
        where = f"{base}.{key}"
        if key in SMP_V2_POSITIVE_INTS:
            problems.check(
                isinstance(value, int) and not isinstance(value, bool) and value >= 1, where, value, "an integer >= 1"
            )
        elif key in SMP_V2_BOOLS:
            problems.check(isinstance(value, bool), where, value, "true or false")
        elif key in SMP_V2_INTS:
            problems.check(isinstance(value, int) and not isinstance(value, bool), where, value, "an integer")
        else:
            problems.add(base, key, "SMP v2 parameters among " + ", ".join(SMP_V2_KEYS))
    shard, context = params.get("hybrid_shard_degree"), params.get("context_parallel_degree")
    if isinstance(shard, int) and isinstance(context, int):
        problems.check(
            context <= shard,
            f"{base}.context_parallel_degree",
            context,
            f"at most hybrid_shard_degree ({shard})",
        )


def check_channels(problems: Problems, channels: Sequence[Any]) -> None:
    """Channel names, prefixes, modes and distributions (botocore ``Channel``, ``S3DataSource``)."""
    problems.check(
        1 <= len(channels) <= CHANNELS_MAX, "channels", f"{len(channels)} channels", f"1-{CHANNELS_MAX} channels"
    )
    seen: dict[str, int] = {}
    for index, channel in enumerate(channels):
        where = f"channels[{index}]"
        if not isinstance(channel, DataChannel):
            problems.add(where, channel, "a DataChannel(...)")
            continue
        if problems.check(
            isinstance(channel.name, str) and bool(CHANNEL_NAME_PATTERN.match(channel.name)),
            f"{where}.name",
            channel.name,
            "1-64 letters, digits, '.', '-', '_'",
        ):
            if channel.name in seen:
                problems.add(f"{where}.name", channel.name, f"a unique name; channels[{seen[channel.name]}] has it")
            seen.setdefault(channel.name, index)
        problems.check(
            isinstance(channel.s3_prefix, str) and bool(KEY_PREFIX_PATTERN.match(channel.s3_prefix)),
            f"{where}.s3_prefix",
            channel.s3_prefix,
            "a key prefix of the artifacts bucket, without a leading '/', e.g. datasets/llm/train/",
        )
        problems.check(
            channel.distribution in tuple(DataDistribution),
            f"{where}.distribution",
            channel.distribution,
            "one of " + ", ".join(d.value for d in DataDistribution),
        )
        if channel.input_mode is not None:
            problems.check(
                channel.input_mode in tuple(InputMode),
                f"{where}.input_mode",
                channel.input_mode,
                "one of " + ", ".join(m.value for m in InputMode),
            )


def check_entry_point(problems: Problems, entry_point: Any) -> None:
    if entry_point is None:
        return
    if not isinstance(entry_point, EntryPoint):
        problems.add("entry_point", entry_point, "an EntryPoint(script=..., source_prefix=...)")
        return
    problems.check(
        isinstance(entry_point.script, str) and bool(entry_point.script) and not entry_point.script.startswith("/"),
        "entry_point.script",
        entry_point.script,
        "a path inside the code archive, e.g. train.py",
    )
    prefix = entry_point.source_prefix
    problems.check(
        isinstance(prefix, str) and bool(KEY_PREFIX_PATTERN.match(prefix)) and prefix.endswith("/"),
        "entry_point.source_prefix",
        prefix,
        f"a key prefix of the artifacts bucket ending with '/' (holding {SOURCE_ARCHIVE}), e.g. code/llm-pretrain/",
    )


def channel_request(channel: DataChannel, bucket_name: str) -> dict[str, Any]:
    """One ``InputDataConfig`` entry of CreateTrainingJob."""
    out: dict[str, Any] = {
        "ChannelName": channel.name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://{bucket_name}/{channel.s3_prefix}",
                "S3DataDistributionType": DataDistribution(channel.distribution).value,
            }
        },
    }
    if channel.input_mode is not None:
        out["InputMode"] = InputMode(channel.input_mode).value
    return out
