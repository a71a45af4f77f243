"""The HyperPod lifecycle scripts: shellcheck, the node-side Python, and a dry run of on_create.sh.

``node_config.py`` is imported by path (it ships in the asset, not as a package module). The dry run
executes the real ``on_create.sh`` with stub commands on PATH (mount, mountpoint, systemctl, hostname,
the CloudWatch agent) and every system path redirected into a temp dir, so it checks the scripts'
control flow and the files they write without root or a HyperPod node.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from training_testkit import SCRIPTS_DIR

SHELLCHECK = Path(sys.executable).with_name("shellcheck")
SCRIPTS = sorted(SCRIPTS_DIR.glob("*.sh"))


def _load_node_config():
    spec = importlib.util.spec_from_file_location("hyperpod_node_config", SCRIPTS_DIR / "node_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nc = _load_node_config()

PARAMS = {
    "version": "1.0.0",
    "workload_manager": "slurm",
    "cluster_name": "llm-pretrain",
    "controller_group": "controller",
    "login_groups": ["login"],
    "worker_groups": [{"instance_group_name": "workers", "instance_type": "ml.p5.48xlarge"}],
    "fsx_dns_name": "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com",
    "fsx_mountname": "abcdefgh",
    "fsx_mount_point": "/fsx",
}
RESOURCE_CONFIG = {
    "ClusterConfig": {
        "ClusterArn": "arn:aws:sagemaker:us-east-1:123456789012:cluster/abcd1234efgh",
        "ClusterName": "llm-pretrain",
    },
    "InstanceGroups": [
        {
            "Name": "controller",
            "InstanceType": "ml.m5.xlarge",
            "Instances": [
                {
                    "InstanceName": "controller-1",
                    "AgentIpAddress": "172.16.0.10",
                    "CustomerIpAddress": "10.0.64.10",
                    "InstanceId": "i-0aaaaaaaaaaaaaaaa",
                }
            ],
        },
        {
            "Name": "login",
            "InstanceType": "ml.m5.xlarge",
            "Instances": [
                {
                    "InstanceName": "login-1",
                    "AgentIpAddress": "172.16.0.11",
                    "CustomerIpAddress": "10.0.64.11",
                    "InstanceId": "i-0bbbbbbbbbbbbbbbb",
                }
            ],
        },
        {
            "Name": "workers",
            "InstanceType": "ml.p5.48xlarge",
            "Instances": [
                {
                    "InstanceName": "workers-1",
                    "AgentIpAddress": "172.16.0.12",
                    "CustomerIpAddress": "10.0.64.12",
                    "InstanceId": "i-0cccccccccccccccc",
                }
            ],
        },
    ],
}


# -- shellcheck -------------------------------------------------------------------------------------
def test_every_shell_script_passes_shellcheck():
    assert {p.name for p in SCRIPTS} == {
        "on_create.sh",
        "mount_fsx.sh",
        "setup_slurm.sh",
        "install_cloudwatch_agent.sh",
    }
    result = subprocess.run(
        [str(SHELLCHECK), "--severity=style", "-x", *map(str, SCRIPTS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_are_executable_and_strict():
    for script in [*SCRIPTS, SCRIPTS_DIR / "node_config.py"]:
        assert script.stat().st_mode & stat.S_IXUSR, script.name
    for script in SCRIPTS:
        assert "set -euo pipefail" in script.read_text(), script.name


# -- node_config.py ---------------------------------------------------------------------------------
def test_node_config_runs_on_the_python_of_older_hyperpod_amis():
    import ast

    ast.parse((SCRIPTS_DIR / "node_config.py").read_text(), feature_version=(3, 8))


@pytest.mark.parametrize(
    ("kwargs", "group"),
    [
        ({"ip_addresses": ["10.0.64.12"]}, "workers"),
        ({"ip_addresses": ["127.0.0.1", "172.16.0.10"]}, "controller"),
        ({"instance_id": "i-0bbbbbbbbbbbbbbbb"}, "login"),
    ],
)
def test_find_own_group(kwargs, group):
    assert nc.find_own_group(RESOURCE_CONFIG, **kwargs) == group


def test_find_own_group_fails_clearly_for_unknown_node():
    with pytest.raises(
        nc.ConfigError, match=r"no instance matches instance id None or addresses \['10\.9\.9\.9'\]"
    ):
        nc.find_own_group(RESOURCE_CONFIG, ip_addresses=["10.9.9.9"])


def test_node_roles():
    assert [nc.node_role(PARAMS, g) for g in ("controller", "login", "workers")] == [
        "controller",
        "login",
        "compute",
    ]
    assert nc.node_role({**PARAMS, "workload_manager": "eks"}, "controller") == "compute"


def test_node_facts_for_a_worker():
    facts = nc.node_facts(PARAMS, RESOURCE_CONFIG, ip_addresses=["10.0.64.12"])
    assert facts == {
        "WORKLOAD_MANAGER": "slurm",
        "CLUSTER_NAME": "llm-pretrain",
        "CLUSTER_REGION": "us-east-1",
        "INSTANCE_GROUP": "workers",
        "NODE_ROLE": "compute",
        "CONTROLLER_GROUP": "controller",
        "LOGIN_GROUPS": "login",
        "WORKER_GROUPS": "workers",
        "FSX_DNS_NAME": "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com",
        "FSX_MOUNT_NAME": "abcdefgh",
        "FSX_MOUNT_POINT": "/fsx",
    }


def test_provisioning_parameters_validation_lists_every_problem():
    bad = {
        "version": "9",
        "workload_manager": "pbs",
        "worker_groups": [{"name": "x"}],
        "fsx_dns_name": "fs-1",
    }
    with pytest.raises(nc.ConfigError) as caught:
        nc.validate_provisioning_parameters(bad)
    message = str(caught.value)
    for fragment in (
        "version: got '9'",
        "workload_manager: got 'pbs'",
        "worker_groups[0]",
        "fsx_dns_name/fsx_mountname",
        "fsx_mount_point",
    ):
        assert fragment in message


def test_shell_env_quotes_values():
    assert nc.shell_env({"B": "two words", "A": "it's"}) == "A='it'\"'\"'s'\nB='two words'\n"
    with pytest.raises(nc.ConfigError):
        nc.shell_env({"bad-name": "x"})


def test_fstab_entry():
    assert nc.fstab_entry("fs-1.fsx.us-east-1.amazonaws.com", "abcdefgh", "/fsx") == (
        "fs-1.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh /fsx lustre "
        "defaults,noatime,flock,_netdev,x-systemd.automount,x-systemd.requires=network-online.target 0 0"
    )
    with pytest.raises(nc.ConfigError):
        nc.fstab_entry("", "abcdefgh", "/fsx")


def test_upsert_block_is_idempotent_and_keeps_other_lines():
    original = "UUID=1 / ext4 defaults 0 1\n"
    once = nc.upsert_block(original, "fsx", ["line-a"])
    assert once == "UUID=1 / ext4 defaults 0 1\n\n# BEGIN aiplatform fsx\nline-a\n# END aiplatform fsx\n"
    assert nc.upsert_block(once, "fsx", ["line-a"]) == once
    assert "line-a" not in nc.upsert_block(once, "fsx", ["line-b"])
    assert nc.upsert_block("", "x", ["y"]) == "# BEGIN aiplatform x\ny\n# END aiplatform x\n"


def test_render_agent_config_fills_the_group_and_drops_gpu_on_cpu_nodes():
    from constructs_lib.training.metrics import cloudwatch_agent_config

    template = cloudwatch_agent_config(cluster_name="llm-pretrain")
    gpu = nc.render_agent_config(template, instance_group="workers", has_gpu=True)
    dims = gpu["metrics"]["metrics_collected"]["nvidia_gpu"]["append_dimensions"]
    assert dims == {"ClusterName": "llm-pretrain", "InstanceGroup": "workers"}
    assert "__INSTANCE_GROUP__" not in json.dumps(gpu)
    cpu = nc.render_agent_config(template, instance_group="controller", has_gpu=False)
    assert set(cpu["metrics"]["metrics_collected"]) == {"mem", "disk"}
    assert template["metrics"]["metrics_collected"]["nvidia_gpu"]["append_dimensions"]["InstanceGroup"] == (
        "__INSTANCE_GROUP__"
    )  # the template itself is not modified


def test_enroot_and_user_environment_lines():
    assert (
        nc.enroot_settings("/opt/dlami/nvme/")[1]
        == "ENROOT_CACHE_PATH /opt/dlami/nvme/enroot/cache/group-$(id -g)"
    )
    assert nc.user_environment("/fsx") == [
        "export TRAINING_SHARED_DIR=/fsx",
        "export CHECKPOINT_ROOT=/fsx/checkpoints",
        "export DATASETS_ROOT=/fsx/datasets",
    ]
    assert nc.systemd_mount_dropin("/fsx") == "[Unit]\nRequiresMountsFor=/fsx\nAfter=remote-fs.target\n"


def test_cli_reports_bad_input_with_exit_code_2(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert nc.main(["env", "--params", str(missing), "--resource-config", str(missing)]) == 2
    assert "node_config.py env:" in capsys.readouterr().err


# -- dry run of on_create.sh ---------------------------------------------------------------------------
def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture
def node(tmp_path):
    """A fake node: staged scripts, resource config, stub commands and redirected system paths."""
    from constructs_lib.training import _lifecycle
    from constructs_lib.training.metrics import cloudwatch_agent_config

    scripts = tmp_path / "lifecycle"
    shutil.copytree(
        _lifecycle.stage_scripts(json.dumps(cloudwatch_agent_config(cluster_name="llm-pretrain"))), scripts
    )
    root = tmp_path / "root"
    for sub in (
        "etc/systemd/system",
        "etc/enroot",
        "etc/profile.d",
        "opt/dlami/nvme",
        "opt/cwagent/bin",
        "var/log",
    ):
        (root / sub).mkdir(parents=True)
    (root / "etc/fstab").write_text("UUID=1 / ext4 defaults 0 1\n")
    (root / "etc/enroot/enroot.conf").write_text("#ENROOT_RUNTIME_PATH ${XDG_RUNTIME_DIR}/enroot\n")
    params = {**PARAMS, "fsx_mount_point": str(root / "fsx")}
    (scripts / "provisioning_parameters.json").write_text(json.dumps(params))
    (root / "resource_config.json").write_text(json.dumps(RESOURCE_CONFIG))

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    state = tmp_path / "mounted"
    _stub(bin_dir, "hostname", f'[[ "$1" == "-I" ]] && echo "$NODE_IP 127.0.0.1"; echo "$*" >> {calls}')
    _stub(bin_dir, "mount.lustre", "exit 0")
    _stub(bin_dir, "mount", f'echo "mount $*" >> {calls}; touch {state}')
    _stub(bin_dir, "mountpoint", f"[[ -f {state} ]]")
    _stub(bin_dir, "systemctl", f'echo "systemctl $*" >> {calls}')
    _stub(bin_dir, "curl", f'echo "curl $*" >> {calls}; exit 1')
    _stub(root / "opt/cwagent/bin", "amazon-cloudwatch-agent-ctl", f'echo "agent $*" >> {calls}')
    env = {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SAGEMAKER_RESOURCE_CONFIG_PATH": str(root / "resource_config.json"),
        "AIPLATFORM_LOG_DIR": str(root / "var/log/provision"),
        "AIPLATFORM_STATE_DIR": str(root / "etc/aiplatform"),
        "AIPLATFORM_FSTAB": str(root / "etc/fstab"),
        "AIPLATFORM_MOUNT_ATTEMPTS": "2",
        "AIPLATFORM_SYSTEMD_DIR": str(root / "etc/systemd/system"),
        "AIPLATFORM_PROFILE_FILE": str(root / "etc/profile.d/aiplatform-training.sh"),
        "AIPLATFORM_ENROOT_CONF": str(root / "etc/enroot/enroot.conf"),
        "AIPLATFORM_NVME_DIR": str(root / "opt/dlami/nvme"),
        "AIPLATFORM_AGENT_DIR": str(root / "opt/cwagent"),
    }

    def run(ip: str, shell: str = "bash") -> subprocess.CompletedProcess:
        return subprocess.run(
            [shell, str(scripts / "on_create.sh")],
            env={**env, "NODE_IP": ip},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run, root, calls


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_on_create_provisions_a_worker(node):
    run, root, calls = node
    result = run("10.0.64.12", shell="sh")  # started as `sh on_create.sh`: it re-executes itself with bash
    assert result.returncode == 0, result.stdout + result.stderr
    env = (root / "etc/aiplatform/node.env").read_text()
    assert "INSTANCE_GROUP=workers" in env and "NODE_ROLE=compute" in env
    fstab = (root / "etc/fstab").read_text()
    assert f"fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh {root}/fsx lustre" in fstab
    assert fstab.startswith("UUID=1 / ext4")
    dropin = root / "etc/systemd/system/slurmd.service.d/aiplatform-shared-storage.conf"
    assert f"RequiresMountsFor={root}/fsx" in dropin.read_text()
    assert (
        f"CHECKPOINT_ROOT={root}/fsx/checkpoints"
        in (root / "etc/profile.d/aiplatform-training.sh").read_text()
    )
    assert "ENROOT_DATA_PATH" in (root / "etc/enroot/enroot.conf").read_text()
    agent = json.loads((root / "opt/cwagent/etc/aiplatform-hyperpod.json").read_text())
    assert agent["metrics"]["metrics_collected"]["mem"]["append_dimensions"]["InstanceGroup"] == "workers"
    log = calls.read_text()
    assert f"mount {root}/fsx" in log and "agent -a fetch-config -m ec2 -s -c file:" in log
    assert "curl" not in log  # the agent was already installed
    assert "done" in (root / "var/log/provision/provisioning.log").read_text()


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_on_create_provisions_the_controller_and_is_rerunnable(node):
    run, root, _ = node
    assert run("10.0.64.10").returncode == 0
    second = run("10.0.64.10")
    assert second.returncode == 0, second.stdout + second.stderr
    assert (root / "etc/systemd/system/slurmctld.service.d/aiplatform-shared-storage.conf").exists()
    assert oct((root / "fsx/checkpoints").stat().st_mode & 0o7777) == "0o1777"
    assert (root / "etc/fstab").read_text().count("# BEGIN aiplatform fsx") == 1
    assert "ENROOT_DATA_PATH" not in (root / "etc/enroot/enroot.conf").read_text()  # compute nodes only


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_on_create_fails_when_the_node_is_not_in_the_resource_config(node):
    run, _, _ = node
    result = run("10.9.9.9")
    assert result.returncode != 0
    assert "no instance matches" in result.stdout + result.stderr
