"""Staging of the HyperPod lifecycle scripts and the node layout built from the groups.

HyperPod reads lifecycle scripts as individual objects under ``LifeCycleConfig.SourceS3Uri`` and
runs the entry script (``OnInitComplete`` on Slurm, ``OnCreate`` on EKS) from there; a zipped CDK
asset object cannot serve as that prefix. The construct therefore stages the script folder (plus the
generated CloudWatch agent config) as a CDK asset and has a ``BucketDeployment`` unpack it, together
with ``aiplatform_cluster.json`` (the node layout, whose FSx values are deploy-time tokens), under a
prefix named after the content hash. New content means a new prefix, so ``SourceS3Uri`` changes and
CloudFormation updates the cluster; unchanged content synthesizes to the same template.

The node layout is this project's own file. No ``provisioning_parameters.json`` is staged: that is
the legacy Slurm configuration file HyperPod reads from the lifecycle prefix, and the cluster uses the
API-driven model instead (``SlurmConfig`` per instance group, ``Orchestrator.Slurm.SlurmConfigStrategy``,
FSx through ``InstanceStorageConfigs``); the SageMaker Developer Guide treats the two as alternatives
("Migrating to API-driven Slurm configuration", step "Remove provisioning_parameters.json from Amazon S3").
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from .collector import DCGM_EXPORTER_CSV

SCRIPTS_DIR = Path(__file__).resolve().parent / "lifecycle_scripts"
ON_CREATE = "on_create.sh"  # EKS entry (LifeCycleConfig.OnCreate)
ON_INIT_COMPLETE = "on_init_complete.sh"  # Slurm entry (LifeCycleConfig.OnInitComplete)
NODE_LAYOUT = "aiplatform_cluster.json"
# The file name HyperPod's legacy Slurm configuration reads; never staged (see the module docstring).
LEGACY_PROVISIONING_PARAMETERS = "provisioning_parameters.json"
AGENT_CONFIG = "cloudwatch_agent_config.json"
# DCGM_EXPORTER_CSV (collector, where its content is built): only with a Prometheus workspace.
COLLECTOR_CONFIG = "node_collector.json"  # only with node monitoring (install_node_collector.sh skips without)
LAYOUT_VERSION = "2.0.0"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    )


@cache
def stage_scripts(
    agent_config_json: str, collector_config_json: str | None = None, dcgm_exporter_csv: str | None = None
) -> str:
    """Copy of the script folder plus the agent config (and, when given, the node collector's config and
    dcgm-exporter's metrics file), in a temp dir (one per distinct set of configs).

    CDK copies an asset into the cloud assembly when the asset is constructed, so the temp dir is
    only needed while the process builds constructs; it is removed when the process exits.
    """
    staging = Path(tempfile.mkdtemp(prefix="aiplatform-hyperpod-lifecycle-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    shutil.copytree(SCRIPTS_DIR, staging, dirs_exist_ok=True, ignore=_IGNORE)
    (staging / AGENT_CONFIG).write_text(agent_config_json, encoding="utf-8")
    if collector_config_json is not None:
        (staging / COLLECTOR_CONFIG).write_text(collector_config_json, encoding="utf-8")
    if dcgm_exporter_csv is not None:
        (staging / DCGM_EXPORTER_CSV).write_text(dcgm_exporter_csv, encoding="utf-8")
    for script in staging.glob("*.sh"):
        script.chmod(0o755)
    for program in staging.glob("*.py"):
        program.chmod(0o755)
    return str(staging)


def content_hash(staged_dir: str, resolved_layout: Any) -> str:
    """Hash of every staged file (path and bytes) and the resolved node layout."""
    digest = hashlib.sha256()
    root = Path(staged_dir)
    for path in _files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(json.dumps(resolved_layout, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()[:16]


def node_layout(
    *,
    workload_manager: str,
    cluster_name: str,
    groups: dict[str, str],
    fsx_dns_name: str | None,
    fsx_mount_name: str | None,
    fsx_mount_point: str | None,
) -> dict[str, Any]:
    """The node-side contract read by ``node_config.py``: ``groups`` maps each instance group to its
    role (``controller``, ``login``, ``compute``)."""
    layout: dict[str, Any] = {
        "version": LAYOUT_VERSION,
        "workload_manager": workload_manager,
        "cluster_name": cluster_name,
        "groups": dict(groups),
    }
    if fsx_dns_name is not None:
        layout["shared_storage"] = {
            "dns_name": fsx_dns_name,
            "mount_name": fsx_mount_name,
            "mount_point": fsx_mount_point,
        }
    return layout
