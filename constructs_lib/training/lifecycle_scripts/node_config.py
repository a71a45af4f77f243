#!/usr/bin/env python3
"""Node-side helpers of the HyperPod lifecycle scripts: pure functions plus a small CLI.

Runs on the cluster node with the system ``python3`` (3.8 on older HyperPod AMIs), standard library
only. ``on_create.sh`` calls it to learn which instance group and Slurm role this node has, to render
configuration snippets, and to finish the CloudWatch agent configuration; the shell scripts only run
commands. Inputs:

* ``provisioning_parameters.json`` -- written by the ``HyperPodCluster`` construct from its instance
  groups and shared storage (controller, login and worker group names, FSx DNS and mount names);
* ``resource_config.json`` -- written by HyperPod on every node
  (``$SAGEMAKER_RESOURCE_CONFIG_PATH``, default ``/opt/ml/config/resource_config.json``): the
  cluster's ARN and name and every instance group with its instances and their IP addresses.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from typing import Any

ROLE_CONTROLLER = "controller"
ROLE_LOGIN = "login"
ROLE_COMPUTE = "compute"
WORKLOAD_SLURM = "slurm"
WORKLOAD_EKS = "eks"
WORKLOAD_MANAGERS = (WORKLOAD_SLURM, WORKLOAD_EKS)
SUPPORTED_VERSIONS = ("1.0.0",)
INSTANCE_GROUP_PLACEHOLDER = "__INSTANCE_GROUP__"
LUSTRE_MOUNT_OPTIONS = (
    "defaults,noatime,flock,_netdev,x-systemd.automount,x-systemd.requires=network-online.target"
)
BLOCK_BEGIN = "# BEGIN aiplatform {name}"
BLOCK_END = "# END aiplatform {name}"
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class ConfigError(ValueError):
    """A provisioning input is missing or malformed; the message lists every problem."""


# -- inputs -----------------------------------------------------------------------------------------
def load_json(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def validate_provisioning_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """Return ``params`` when well formed; raise :class:`ConfigError` listing every problem."""
    problems: list[str] = []
    if params.get("version") not in SUPPORTED_VERSIONS:
        problems.append(f"version: got {params.get('version')!r}; one of {', '.join(SUPPORTED_VERSIONS)}")
    manager = params.get("workload_manager")
    if manager not in WORKLOAD_MANAGERS:
        problems.append(f"workload_manager: got {manager!r}; one of {', '.join(WORKLOAD_MANAGERS)}")
    if manager == WORKLOAD_SLURM and not isinstance(params.get("controller_group"), str):
        problems.append(
            f"controller_group: got {params.get('controller_group')!r}; the controller group name"
        )
    for key in ("login_groups", "worker_groups"):
        if not isinstance(params.get(key, []), list):
            problems.append(f"{key}: got {params.get(key)!r}; a list")
    for index, group in enumerate(params.get("worker_groups") or []):
        if not isinstance(group, dict) or not isinstance(group.get("instance_group_name"), str):
            problems.append(f"worker_groups[{index}]: got {group!r}; an object with instance_group_name")
    fsx = [params.get("fsx_dns_name"), params.get("fsx_mountname")]
    if any(fsx) and not all(isinstance(v, str) and v for v in fsx):
        problems.append(f"fsx_dns_name/fsx_mountname: got {fsx!r}; both or neither")
    if any(fsx) and not str(params.get("fsx_mount_point", "")).startswith("/"):
        problems.append(f"fsx_mount_point: got {params.get('fsx_mount_point')!r}; an absolute path")
    if problems:
        raise ConfigError("provisioning_parameters.json: " + "; ".join(problems))
    return params


def find_own_group(
    resource_config: dict[str, Any],
    *,
    instance_id: str | None = None,
    ip_addresses: Iterable[str] = (),
) -> str:
    """Name of the instance group this node belongs to, matched by instance id or IP address."""
    addresses = {ip for ip in ip_addresses if ip}
    for group in resource_config.get("InstanceGroups") or []:
        for instance in group.get("Instances") or []:
            if instance_id and instance.get("InstanceId") == instance_id:
                return str(group["Name"])
            if addresses & {instance.get("CustomerIpAddress"), instance.get("AgentIpAddress")}:
                return str(group["Name"])
    raise ConfigError(
        f"resource_config.json: no instance matches instance id {instance_id!r} or addresses {sorted(addresses)}"
    )


def node_role(params: dict[str, Any], group: str) -> str:
    """``controller``, ``login`` or ``compute`` for ``group`` (every EKS node is ``compute``)."""
    if params.get("workload_manager") == WORKLOAD_SLURM:
        if group == params.get("controller_group"):
            return ROLE_CONTROLLER
        if group in (params.get("login_groups") or []):
            return ROLE_LOGIN
    return ROLE_COMPUTE


def region_of(arn: str) -> str:
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else ""


def node_facts(
    params: dict[str, Any],
    resource_config: dict[str, Any],
    *,
    instance_id: str | None = None,
    ip_addresses: Iterable[str] = (),
) -> dict[str, str]:
    """Everything the shell steps need, as environment variables."""
    validate_provisioning_parameters(params)
    group = find_own_group(resource_config, instance_id=instance_id, ip_addresses=ip_addresses)
    cluster = resource_config.get("ClusterConfig") or {}
    worker_groups = [g["instance_group_name"] for g in params.get("worker_groups") or []]
    return {
        "WORKLOAD_MANAGER": str(params["workload_manager"]),
        "CLUSTER_NAME": str(cluster.get("ClusterName") or params.get("cluster_name") or ""),
        "CLUSTER_REGION": region_of(str(cluster.get("ClusterArn") or "")),
        "INSTANCE_GROUP": group,
        "NODE_ROLE": node_role(params, group),
        "CONTROLLER_GROUP": str(params.get("controller_group") or ""),
        "LOGIN_GROUPS": " ".join(params.get("login_groups") or []),
        "WORKER_GROUPS": " ".join(worker_groups),
        "FSX_DNS_NAME": str(params.get("fsx_dns_name") or ""),
        "FSX_MOUNT_NAME": str(params.get("fsx_mountname") or ""),
        "FSX_MOUNT_POINT": str(params.get("fsx_mount_point") or ""),
    }


# -- renderers --------------------------------------------------------------------------------------
def shell_env(facts: dict[str, str]) -> str:
    """``KEY='value'`` lines safe to ``source`` from bash."""
    lines = []
    for key in sorted(facts):
        if not _ENV_NAME.match(key):
            raise ConfigError(f"not an environment variable name: {key!r}")
        lines.append(f"{key}={shlex.quote(facts[key])}")
    return "\n".join(lines) + "\n"


def fstab_entry(dns_name: str, mount_name: str, mount_point: str) -> str:
    """The ``/etc/fstab`` line for FSx for Lustre (FSx user guide, "Mounting Amazon FSx automatically")."""
    if not dns_name or not mount_name or not mount_point.startswith("/"):
        raise ConfigError(
            f"fstab: need DNS name, mount name and an absolute mount point; got {dns_name!r}, "
            f"{mount_name!r}, {mount_point!r}"
        )
    return f"{dns_name}@tcp:/{mount_name} {mount_point} lustre {LUSTRE_MOUNT_OPTIONS} 0 0"


def upsert_block(text: str, name: str, lines: Sequence[str]) -> str:
    """Put ``lines`` between aiplatform markers in ``text``, replacing an earlier copy (idempotent)."""
    begin, end = BLOCK_BEGIN.format(name=name), BLOCK_END.format(name=name)
    kept: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.strip() == begin:
            inside = True
            continue
        if inside and line.strip() == end:
            inside = False
            continue
        if not inside:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    block = [begin, *lines, end]
    return "\n".join(kept + ([""] if kept else []) + block) + "\n"


def systemd_mount_dropin(mount_point: str) -> str:
    """Drop-in making a Slurm daemon wait for the shared file system after every boot."""
    return f"[Unit]\nRequiresMountsFor={mount_point}\nAfter=remote-fs.target\n"


def enroot_settings(scratch_dir: str) -> list[str]:
    """Keep enroot's image layers and container roots on node-local NVMe, not the small root volume."""
    base = scratch_dir.rstrip("/") + "/enroot"
    return [
        f"ENROOT_RUNTIME_PATH {base}/runtime/user-$(id -u)",
        f"ENROOT_CACHE_PATH {base}/cache/group-$(id -g)",
        f"ENROOT_DATA_PATH {base}/data/user-$(id -u)",
        f"ENROOT_TEMP_PATH {base}/tmp",
    ]


def user_environment(mount_point: str) -> list[str]:
    """Shared locations users' jobs read (``/etc/profile.d``): checkpoints must live on shared storage."""
    return [
        f"export TRAINING_SHARED_DIR={shlex.quote(mount_point)}",
        f"export CHECKPOINT_ROOT={shlex.quote(mount_point.rstrip('/') + '/checkpoints')}",
        f"export DATASETS_ROOT={shlex.quote(mount_point.rstrip('/') + '/datasets')}",
    ]


def render_agent_config(template: dict[str, Any], *, instance_group: str, has_gpu: bool) -> dict[str, Any]:
    """Fill the instance group into the synthesized CloudWatch agent config; drop GPU metrics on CPU nodes."""

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        if value == INSTANCE_GROUP_PLACEHOLDER:
            return instance_group
        return value

    config = fill(template)
    if not has_gpu:
        config.get("metrics", {}).get("metrics_collected", {}).pop("nvidia_gpu", None)
    return config


# -- CLI --------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    env = sub.add_parser("env", help="print this node's facts as shell variables")
    env.add_argument("--params", required=True)
    env.add_argument("--resource-config", required=True)
    env.add_argument("--instance-id")
    env.add_argument("--ip", action="append", default=[])
    fstab = sub.add_parser("fstab", help="print the fstab line for FSx for Lustre")
    fstab.add_argument("--dns-name", required=True)
    fstab.add_argument("--mount-name", required=True)
    fstab.add_argument("--mount-point", required=True)
    block = sub.add_parser("upsert-block", help="replace a marked block of a config file")
    block.add_argument("--file", required=True)
    block.add_argument("--name", required=True)
    block.add_argument("lines", nargs="*")
    dropin = sub.add_parser("mount-dropin", help="print a systemd drop-in requiring a mount")
    dropin.add_argument("--mount-point", required=True)
    enroot = sub.add_parser("enroot-settings", help="print enroot.conf settings for a scratch dir")
    enroot.add_argument("--scratch-dir", required=True)
    profile = sub.add_parser("user-env", help="print /etc/profile.d lines for the shared file system")
    profile.add_argument("--mount-point", required=True)
    agent = sub.add_parser("agent-config", help="write the node's CloudWatch agent config")
    agent.add_argument("--template", required=True)
    agent.add_argument("--instance-group", required=True)
    agent.add_argument("--out", required=True)
    agent.add_argument("--no-gpu", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "env":
            facts = node_facts(
                load_json(args.params),
                load_json(args.resource_config),
                instance_id=args.instance_id,
                ip_addresses=args.ip,
            )
            sys.stdout.write(shell_env(facts))
        elif args.command == "fstab":
            print(fstab_entry(args.dns_name, args.mount_name, args.mount_point))
        elif args.command == "upsert-block":
            try:
                with open(args.file, encoding="utf-8") as handle:
                    text = handle.read()
            except FileNotFoundError:
                text = ""
            with open(args.file, "w", encoding="utf-8") as handle:
                handle.write(upsert_block(text, args.name, args.lines))
        elif args.command == "mount-dropin":
            sys.stdout.write(systemd_mount_dropin(args.mount_point))
        elif args.command == "enroot-settings":
            print("\n".join(enroot_settings(args.scratch_dir)))
        elif args.command == "user-env":
            print("\n".join(user_environment(args.mount_point)))
        elif args.command == "agent-config":
            config = render_agent_config(
                load_json(args.template), instance_group=args.instance_group, has_gpu=not args.no_gpu
            )
            with open(args.out, "w", encoding="utf-8") as handle:
                json.dump(config, handle, indent=2, sort_keys=True)
    except (ConfigError, OSError, json.JSONDecodeError) as error:
        print(f"node_config.py {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
