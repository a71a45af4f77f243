"""Staging of the HyperPod lifecycle scripts and the provisioning parameters built from the groups.

HyperPod reads lifecycle scripts as individual objects under ``LifeCycleConfig.SourceS3Uri`` and
runs ``OnCreate`` from there; a zipped CDK asset object cannot serve as that prefix. The construct
therefore stages the script folder (plus the generated CloudWatch agent config) as a CDK asset and
has a ``BucketDeployment`` unpack it, together with ``provisioning_parameters.json`` whose FSx values
are deploy-time tokens, under a prefix named after the content hash. New content means a new prefix,
so ``SourceS3Uri`` changes and CloudFormation updates the cluster; unchanged content synthesizes to
the same template.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

SCRIPTS_DIR = Path(__file__).resolve().parent / "lifecycle_scripts"
ON_CREATE = "on_create.sh"
PROVISIONING_PARAMETERS = "provisioning_parameters.json"
AGENT_CONFIG = "cloudwatch_agent_config.json"
PARAMETERS_VERSION = "1.0.0"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    )


@cache
def stage_scripts(agent_config_json: str) -> str:
    """Copy of the script folder plus the agent config, in a temp dir (one per distinct config)."""
    staging = Path(tempfile.mkdtemp(prefix="aiplatform-hyperpod-lifecycle-"))
    shutil.copytree(SCRIPTS_DIR, staging, dirs_exist_ok=True, ignore=_IGNORE)
    (staging / AGENT_CONFIG).write_text(agent_config_json, encoding="utf-8")
    for script in staging.glob("*.sh"):
        script.chmod(0o755)
    (staging / "node_config.py").chmod(0o755)
    return str(staging)


def content_hash(staged_dir: str, resolved_parameters: Any) -> str:
    """Hash of every staged file (path and bytes) and the resolved provisioning parameters."""
    digest = hashlib.sha256()
    root = Path(staged_dir)
    for path in _files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(json.dumps(resolved_parameters, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()[:16]


def provisioning_parameters(
    *,
    workload_manager: str,
    cluster_name: str,
    controller_group: str | None,
    login_groups: list[str],
    worker_groups: list[dict[str, str]],
    fsx_dns_name: str | None,
    fsx_mount_name: str | None,
    fsx_mount_point: str | None,
) -> dict[str, Any]:
    """The node-side contract read by ``node_config.py`` (keys follow HyperPod's reference scripts)."""
    params: dict[str, Any] = {
        "version": PARAMETERS_VERSION,
        "workload_manager": workload_manager,
        "cluster_name": cluster_name,
        "login_groups": login_groups,
        "worker_groups": worker_groups,
    }
    if controller_group is not None:
        params["controller_group"] = controller_group
    if fsx_dns_name is not None:
        params["fsx_dns_name"] = fsx_dns_name
        params["fsx_mountname"] = fsx_mount_name
        params["fsx_mount_point"] = fsx_mount_point
    return params
