#!/usr/bin/env python3
"""Node-side helpers of the HyperPod lifecycle scripts: pure functions plus a small CLI.

Runs on the cluster node with the system ``python3`` (3.8 on older HyperPod AMIs), standard library
only. The entry scripts (``on_init_complete.sh`` on Slurm, ``on_create.sh`` on EKS) call it to learn
which instance group and role this node has, to render configuration snippets, and to finish the
CloudWatch agent configuration; the shell scripts only run commands. Inputs:

* ``aiplatform_cluster.json`` -- written by the ``HyperPodCluster`` construct beside the scripts: the
  orchestrator, the role of every instance group and the shared file system. It is this project's own
  contract, deliberately NOT named ``provisioning_parameters.json``: with the API-driven Slurm
  configuration (``SlurmConfig`` per instance group) HyperPod itself must not find a legacy file in
  the lifecycle prefix (SageMaker Developer Guide, "Migrating to API-driven Slurm configuration",
  step "Remove provisioning_parameters.json from Amazon S3");
* ``resource_config.json`` -- written by HyperPod on every node
  (``$SAGEMAKER_RESOURCE_CONFIG_PATH``, default ``/opt/ml/config/resource_config.json``): the
  cluster's ARN and name and every instance group with its instances and their IP addresses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

ROLE_CONTROLLER = "controller"
ROLE_LOGIN = "login"
ROLE_COMPUTE = "compute"
WORKLOAD_SLURM = "slurm"
WORKLOAD_EKS = "eks"
WORKLOAD_MANAGERS = (WORKLOAD_SLURM, WORKLOAD_EKS)
ROLES = (ROLE_CONTROLLER, ROLE_LOGIN, ROLE_COMPUTE)
SUPPORTED_VERSIONS = ("2.0.0",)
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


def validate_layout(layout: dict[str, Any]) -> dict[str, Any]:
    """Return ``layout`` when well formed; raise :class:`ConfigError` listing every problem."""
    problems: list[str] = []
    if layout.get("version") not in SUPPORTED_VERSIONS:
        problems.append(f"version: got {layout.get('version')!r}; one of {', '.join(SUPPORTED_VERSIONS)}")
    manager = layout.get("workload_manager")
    if manager not in WORKLOAD_MANAGERS:
        problems.append(f"workload_manager: got {manager!r}; one of {', '.join(WORKLOAD_MANAGERS)}")
    groups = layout.get("groups")
    if not isinstance(groups, dict) or not groups:
        problems.append(f"groups: got {groups!r}; an object of instance group name -> role")
        groups = {}
    for name, role in groups.items():
        if role not in ROLES:
            problems.append(f"groups.{name}: got {role!r}; one of {', '.join(ROLES)}")
    if manager == WORKLOAD_SLURM and list(groups.values()).count(ROLE_CONTROLLER) != 1:
        problems.append(f"groups: got {groups!r}; exactly one {ROLE_CONTROLLER} group with Slurm")
    storage = layout.get("shared_storage")
    if storage is not None:
        if not isinstance(storage, dict):
            problems.append(f"shared_storage: got {storage!r}; an object")
        else:
            fsx = [storage.get("dns_name"), storage.get("mount_name")]
            if not all(isinstance(v, str) and v for v in fsx):
                problems.append(f"shared_storage.dns_name/mount_name: got {fsx!r}; both")
            if not str(storage.get("mount_point", "")).startswith("/"):
                problems.append(f"shared_storage.mount_point: got {storage.get('mount_point')!r}; an absolute path")
    if problems:
        raise ConfigError("aiplatform_cluster.json: " + "; ".join(problems))
    return layout


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


def node_role(layout: dict[str, Any], group: str) -> str:
    """``controller``, ``login`` or ``compute`` for ``group`` (every EKS node is ``compute``)."""
    if layout.get("workload_manager") == WORKLOAD_SLURM:
        role = (layout.get("groups") or {}).get(group)
        if role in ROLES:
            return str(role)
    return ROLE_COMPUTE


def region_of(arn: str) -> str:
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else ""


def node_facts(
    layout: dict[str, Any],
    resource_config: dict[str, Any],
    *,
    instance_id: str | None = None,
    ip_addresses: Iterable[str] = (),
) -> dict[str, str]:
    """Everything the shell steps need, as environment variables.

    ``CLUSTER_REGION`` is empty when the resource config carries no cluster ARN; the entry script then
    asks the instance metadata service.
    """
    validate_layout(layout)
    group = find_own_group(resource_config, instance_id=instance_id, ip_addresses=ip_addresses)
    cluster = resource_config.get("ClusterConfig") or {}
    groups = layout.get("groups") or {}
    storage = layout.get("shared_storage") or {}

    def named(role: str) -> str:
        return " ".join(name for name, r in groups.items() if r == role)

    return {
        "WORKLOAD_MANAGER": str(layout["workload_manager"]),
        "CLUSTER_NAME": str(cluster.get("ClusterName") or layout.get("cluster_name") or ""),
        "CLUSTER_REGION": region_of(str(cluster.get("ClusterArn") or "")),
        "INSTANCE_GROUP": group,
        "NODE_ROLE": node_role(layout, group),
        "CONTROLLER_GROUP": named(ROLE_CONTROLLER),
        "LOGIN_GROUPS": named(ROLE_LOGIN),
        "WORKER_GROUPS": named(ROLE_COMPUTE),
        "FSX_DNS_NAME": str(storage.get("dns_name") or ""),
        "FSX_MOUNT_NAME": str(storage.get("mount_name") or ""),
        "FSX_MOUNT_POINT": str(storage.get("mount_point") or ""),
        "PROMETHEUS_REMOTE_WRITE_URL": str((layout.get("prometheus") or {}).get("remote_write_url") or ""),
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


def mount_unit(mount_point: str) -> str:
    """systemd's unit name for a mount point (``systemd-escape --path --suffix=mount``): ``/fsx`` -> ``fsx.mount``."""
    path = mount_point.strip("/")
    if not path:
        return "-.mount"
    out = []
    for index, char in enumerate(path):
        if char == "/":
            out.append("-")
        elif char.isascii() and (char.isalnum() or char in ":_" or (char == "." and index > 0)):
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return "".join(out) + ".mount"


def systemd_mount_dropin(mount_point: str) -> str:
    """Drop-in ordering a Slurm daemon after the shared file system on every boot, without depending on it.

    ``Wants=`` + ``After=`` (not ``Requires=``/``RequiresMountsFor=``): the daemon waits for the mount
    when there is one, and still starts when FSx is unreachable at boot, so the node reports to Slurm
    (and HyperPod's health checks) instead of silently keeping the scheduler down.
    """
    unit = mount_unit(mount_point)
    return f"[Unit]\nWants={unit}\nAfter=remote-fs.target {unit}\n"


def write_atomically(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename (same directory, same mode): a crash or a reboot
    mid-write never leaves a truncated ``/etc/fstab``."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    handle, tmp = tempfile.mkstemp(prefix=".aiplatform-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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


def otel_collector_config(
    *, remote_write_url: str, region: str, cluster: str, instance_group: str, host: str, dcgm_port: int = 9400
) -> dict[str, Any]:
    """OpenTelemetry collector configuration (JSON is YAML): scrape dcgm-exporter, remote-write to Amazon
    Managed Service for Prometheus with SigV4 (the receiver/exporter/extension layout of AWS's reference
    ``otel_config/config-compute-template.yaml``), labelled with cluster, instance group and host."""
    if not remote_write_url.startswith("https://") or not region:
        raise ConfigError(f"otel-config: need an https remote-write URL and a region; got {remote_write_url!r}, {region!r}")
    return {
        "receivers": {"prometheus": {"config": {
            "global": {"scrape_interval": "60s"},
            "scrape_configs": [{
                "job_name": "dcgm_exporter",
                "static_configs": [{
                    "targets": [f"localhost:{dcgm_port}"],
                    "labels": {"cluster": cluster, "instance_group": instance_group},
                }],
                "relabel_configs": [{"target_label": "instance", "replacement": host}],
            }],
        }}},
        "processors": {"batch": {"timeout": "10s", "send_batch_size": 1024}},
        "exporters": {"prometheusremotewrite": {"endpoint": remote_write_url, "auth": {"authenticator": "sigv4auth"}}},
        "extensions": {"sigv4auth": {"region": region, "service": "aps"}},
        "service": {
            "extensions": ["sigv4auth"],
            "pipelines": {"metrics": {"receivers": ["prometheus"], "processors": ["batch"],
                                      "exporters": ["prometheusremotewrite"]}},
        },
    }


# -- CLI --------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    env = sub.add_parser("env", help="print this node's facts as shell variables")
    env.add_argument("--layout", required=True)
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
    dropin = sub.add_parser("mount-dropin", help="print a systemd drop-in ordering a daemon after a mount")
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
    otel = sub.add_parser("otel-config", help="print the OpenTelemetry collector config (remote write)")
    for name in ("--remote-write-url", "--region", "--cluster", "--instance-group", "--host"):
        otel.add_argument(name, required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "env":
            facts = node_facts(
                load_json(args.layout),
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
            write_atomically(args.file, upsert_block(text, args.name, args.lines))
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
        elif args.command == "otel-config":
            config = otel_collector_config(
                remote_write_url=args.remote_write_url, region=args.region, cluster=args.cluster,
                instance_group=args.instance_group, host=args.host,
            )
            print(json.dumps(config, indent=2, sort_keys=True))
    except (ConfigError, OSError, json.JSONDecodeError) as error:
        print(f"node_config.py {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
