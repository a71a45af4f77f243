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

LAYOUT = {
    "version": "2.0.0",
    "workload_manager": "slurm",
    "cluster_name": "llm-pretrain",
    "groups": {"controller": "controller", "login": "login", "workers": "compute"},
    "shared_storage": {
        "dns_name": "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com",
        "mount_name": "abcdefgh",
        "mount_point": "/fsx",
    },
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
        "common.sh",
        "on_init_complete.sh",
        "on_create.sh",
        "setup_container_runtime.sh",
        "mount_fsx.sh",
        "setup_slurm.sh",
        "install_cloudwatch_agent.sh",
        "install_node_collector.sh",
        "install_prometheus_forwarder.sh",
    }
    result = subprocess.run(
        [str(SHELLCHECK), "--severity=style", "-x", *map(str, SCRIPTS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_are_executable_and_strict():
    for script in [*SCRIPTS, SCRIPTS_DIR / "node_config.py", SCRIPTS_DIR / "node_collector.py"]:
        assert script.stat().st_mode & stat.S_IXUSR, script.name
    for script in SCRIPTS:
        if script.name != "common.sh":  # sourced by the others, under their options
            assert "set -euo pipefail" in script.read_text(), script.name


def test_every_lifecycle_file_is_lf_only_and_gitattributes_forces_lf():
    """A CRLF checkout breaks every script on the node (`bash\\r: No such file or directory`)."""
    files = [p for p in SCRIPTS_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) >= 7
    for path in files:
        assert b"\r" not in path.read_bytes(), path.name
    attributes = (SCRIPTS_DIR.parents[2] / ".gitattributes").read_text().splitlines()
    assert "constructs_lib/training/lifecycle_scripts/** text eol=lf" in attributes


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
    assert [nc.node_role(LAYOUT, g) for g in ("controller", "login", "workers")] == [
        "controller",
        "login",
        "compute",
    ]
    assert nc.node_role({**LAYOUT, "workload_manager": "eks"}, "controller") == "compute"


def test_node_facts_for_a_worker():
    facts = nc.node_facts(LAYOUT, RESOURCE_CONFIG, ip_addresses=["10.0.64.12"])
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
        "PROMETHEUS_REMOTE_WRITE_URL": "",
    }


def test_node_facts_leave_the_region_to_instance_metadata_without_a_cluster_arn():
    config = {**RESOURCE_CONFIG, "ClusterConfig": {"ClusterName": "llm-pretrain"}}
    assert nc.node_facts(LAYOUT, config, ip_addresses=["10.0.64.12"])["CLUSTER_REGION"] == ""


def test_layout_validation_lists_every_problem():
    bad = {
        "version": "1.0.0",
        "workload_manager": "pbs",
        "groups": {"a": "boss"},
        "shared_storage": {"dns_name": "fs-1", "mount_point": "fsx"},
    }
    with pytest.raises(nc.ConfigError) as caught:
        nc.validate_layout(bad)
    message = str(caught.value)
    for fragment in (
        "aiplatform_cluster.json: version: got '1.0.0'",
        "workload_manager: got 'pbs'",
        "groups.a: got 'boss'",
        "shared_storage.dns_name/mount_name",
        "shared_storage.mount_point: got 'fsx'",
    ):
        assert fragment in message
    with pytest.raises(nc.ConfigError, match="exactly one controller group with Slurm"):
        nc.validate_layout({**LAYOUT, "groups": {"w": "compute"}})


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



def test_mount_dropin_orders_without_requiring_so_an_fsx_outage_does_not_keep_slurm_down():
    assert nc.systemd_mount_dropin("/fsx") == "[Unit]\nWants=fsx.mount\nAfter=remote-fs.target fsx.mount\n"
    assert "Requires" not in nc.systemd_mount_dropin("/fsx")
    # systemd-escape --path --suffix=mount
    assert nc.mount_unit("/mnt/shared-fs/") == "mnt-shared\\x2dfs.mount"
    assert nc.mount_unit("/") == "-.mount"


def test_fstab_is_replaced_atomically_keeping_its_mode(tmp_path, monkeypatch):
    fstab = tmp_path / "fstab"
    fstab.write_text("UUID=1 / ext4 defaults 0 1\n")
    fstab.chmod(0o644)
    replaced = []
    real_replace = nc.os.replace
    monkeypatch.setattr(nc.os, "replace", lambda a, b: (replaced.append((a, b)), real_replace(a, b)))
    assert nc.main(["upsert-block", "--file", str(fstab), "--name", "fsx", "line-a"]) == 0
    assert fstab.read_text().endswith("# BEGIN aiplatform fsx\nline-a\n# END aiplatform fsx\n")
    assert oct(fstab.stat().st_mode & 0o777) == "0o644"
    [(source, target)] = replaced
    assert Path(source).parent == tmp_path and target == str(fstab)
    assert [p.name for p in tmp_path.iterdir()] == ["fstab"]  # no temp file left behind


def test_cli_reports_bad_input_with_exit_code_2(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert nc.main(["env", "--layout", str(missing), "--resource-config", str(missing)]) == 2
    assert "node_config.py env:" in capsys.readouterr().err


# -- dry runs of on_init_complete.sh (Slurm) and on_create.sh (EKS) --------------------------------------
def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture
def node(tmp_path):
    """A fake node: staged scripts, resource config, stub commands and redirected system paths.

    ``STUB_*`` environment variables of ``run`` steer the stubs: ``STUB_API_MOUNT=1`` means HyperPod
    already mounted the file system (API-driven ``FsxLustreConfig``), ``STUB_PROBE_FAILURES=n`` makes
    the first n write probes fail (the mounted-but-not-writable race), ``STUB_NO_LUSTRE=1`` removes
    the Lustre kernel module, ``STUB_NO_MOUNT=1`` makes every mount fail.
    """
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
        "fsx",
    ):
        (root / sub).mkdir(parents=True)
    (root / "etc/fstab").write_text("UUID=1 / ext4 defaults 0 1\n")
    (root / "etc/enroot/enroot.conf").write_text("#ENROOT_RUNTIME_PATH ${XDG_RUNTIME_DIR}/enroot\n")
    layout = {**LAYOUT, "shared_storage": {**LAYOUT["shared_storage"], "mount_point": str(root / "fsx")}}
    (scripts / _lifecycle.NODE_LAYOUT).write_text(json.dumps(layout))
    (root / "resource_config.json").write_text(json.dumps(RESOURCE_CONFIG))

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    state = tmp_path / "mounted"
    probes = tmp_path / "probes"
    _stub(bin_dir, "hostname", f'[[ "$1" == "-I" ]] && echo "$NODE_IP 127.0.0.1"; [[ "$1" == "-s" ]] && echo node; echo "hostname $*" >> {calls}')
    _stub(bin_dir, "modinfo", f'echo "modinfo $*" >> {calls}; [[ -z "${{STUB_NO_LUSTRE:-}}" ]]')
    _stub(bin_dir, "mount", f'echo "mount $*" >> {calls}; [[ -z "${{STUB_NO_MOUNT:-}}" ]] && touch {state}')
    _stub(bin_dir, "mountpoint", f'[[ -f {state} || -n "${{STUB_API_MOUNT:-}}" ]]')
    _stub(
        bin_dir,
        "touch",
        f'if [[ "$1" == *write-probe* ]]; then echo "probe" >> {probes}; '
        f'(( $(wc -l < {probes}) > ${{STUB_PROBE_FAILURES:-0}} )) || exit 1; fi; exec /usr/bin/touch "$@"',
    )
    _stub(bin_dir, "systemctl", f'echo "systemctl $*" >> {calls}')
    _stub(bin_dir, "getent", f'echo "getent $*" >> {calls}')
    _stub(
        bin_dir,
        "curl",
        f'echo "curl $*" >> {calls}; case "$*" in *api/token*) echo token ;; '
        f'*placement/region*) echo eu-west-1 ;; *) exit 1 ;; esac',
    )
    _stub(bin_dir, "sleep", f'echo "sleep $*" >> {calls}')
    _stub(root / "opt/cwagent/bin", "amazon-cloudwatch-agent-ctl", f'echo "agent $*" >> {calls}')
    env = {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SAGEMAKER_RESOURCE_CONFIG_PATH": str(root / "resource_config.json"),
        "AIPLATFORM_LOG_DIR": str(root / "var/log/provision"),
        "AIPLATFORM_STATE_DIR": str(root / "etc/aiplatform"),
        "AIPLATFORM_FSTAB": str(root / "etc/fstab"),
        "AIPLATFORM_MOUNT_ATTEMPTS": "4",
        "AIPLATFORM_MOUNT_GRACE": "2",
        "AIPLATFORM_SYSTEMD_DIR": str(root / "etc/systemd/system"),
        "AIPLATFORM_PROFILE_FILE": str(root / "etc/profile.d/aiplatform-training.sh"),
        "AIPLATFORM_ENROOT_CONF": str(root / "etc/enroot/enroot.conf"),
        "AIPLATFORM_NVME_DIR": str(root / "opt/dlami/nvme"),
        "AIPLATFORM_AGENT_DIR": str(root / "opt/cwagent"),
    }

    def run(ip: str, shell: str = "bash", entry: str = _lifecycle.ON_INIT_COMPLETE, **stubs: str):
        return subprocess.run(
            [shell, str(scripts / entry)],
            env={**env, "NODE_IP": ip, **stubs},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run, root, calls, scripts


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_on_init_complete_waits_for_the_api_mount_to_be_writable_and_provisions_a_worker(node):
    run, root, calls, _ = node
    # HyperPod mounted FSx (API-driven); the first write probe fails (the boot race), the second succeeds.
    result = run("10.0.64.12", shell="sh", STUB_API_MOUNT="1", STUB_PROBE_FAILURES="1")
    assert result.returncode == 0, result.stdout + result.stderr
    env = (root / "etc/aiplatform/node.env").read_text()
    assert "INSTANCE_GROUP=workers" in env and "NODE_ROLE=compute" in env
    # HyperPod's mount is used as is: no fstab entry, no mount of our own.
    assert (root / "etc/fstab").read_text() == "UUID=1 / ext4 defaults 0 1\n"
    log = calls.read_text()
    assert "mount " not in log and "modinfo" not in log
    assert "not writable yet" in (root / "var/log/provision/provisioning.log").read_text()
    dropin = root / "etc/systemd/system/slurmd.service.d/aiplatform-shared-storage.conf"
    assert dropin.read_text() == nc.systemd_mount_dropin(str(root / "fsx"))
    assert (
        f"CHECKPOINT_ROOT={root}/fsx/checkpoints"
        in (root / "etc/profile.d/aiplatform-training.sh").read_text()
    )
    assert "ENROOT_DATA_PATH" in (root / "etc/enroot/enroot.conf").read_text()
    agent = json.loads((root / "opt/cwagent/etc/aiplatform-hyperpod.json").read_text())
    assert agent["metrics"]["metrics_collected"]["mem"]["append_dimensions"]["InstanceGroup"] == "workers"
    assert "agent -a fetch-config -m ec2 -s -c file:" in log
    assert "curl" not in log  # the agent was already installed
    assert not list((root / "fsx").glob(".aiplatform-write-probe-*"))  # the probe cleans up
    assert "done" in (root / "var/log/provision/provisioning.log").read_text()


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_login_nodes_get_the_same_storage_dropin_as_workers(node):
    run, root, _, _ = node
    result = run("10.0.64.11", STUB_API_MOUNT="1")
    assert result.returncode == 0, result.stdout + result.stderr
    dropin = root / "etc/systemd/system/slurmd.service.d/aiplatform-shared-storage.conf"
    assert dropin.read_text() == nc.systemd_mount_dropin(str(root / "fsx"))


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_without_the_api_mount_the_script_mounts_itself_and_is_rerunnable(node):
    run, root, calls, _ = node
    first = run("10.0.64.10")
    assert first.returncode == 0, first.stdout + first.stderr
    log = calls.read_text()
    assert "modinfo lustre" in log and f"mount {root}/fsx" in log
    fstab = (root / "etc/fstab").read_text()
    assert fstab.startswith("UUID=1 / ext4")
    assert f"fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh {root}/fsx lustre" in fstab
    second = run("10.0.64.10")
    assert second.returncode == 0, second.stdout + second.stderr
    assert (root / "etc/systemd/system/slurmctld.service.d/aiplatform-shared-storage.conf").exists()
    assert oct((root / "fsx/checkpoints").stat().st_mode & 0o7777) == "0o1777"
    assert (root / "etc/fstab").read_text().count("# BEGIN aiplatform fsx") == 1
    assert "ENROOT_DATA_PATH" not in (root / "etc/enroot/enroot.conf").read_text()  # compute nodes only


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_mount_fsx_fails_unless_a_write_succeeds_and_flushes_the_log_first(node):
    run, root, calls, _ = node
    result = run("10.0.64.12", STUB_API_MOUNT="1", STUB_PROBE_FAILURES="99")
    assert result.returncode != 0
    text = (root / "var/log/provision/provisioning.log").read_text()
    assert "is not writable at" in text and "after 4 attempts" in text
    assert "waiting 60s so the log reaches CloudWatch" in text
    assert "sleep 60" in calls.read_text()  # the failure waits for the log upload
    assert not (root / "etc/systemd/system/slurmd.service.d").exists()  # later steps never ran


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_mount_fsx_fails_clearly_without_the_lustre_client_instead_of_installing_one(node):
    run, root, calls, _ = node
    result = run("10.0.64.12", STUB_NO_LUSTRE="1", AIPLATFORM_FAILURE_FLUSH_SECONDS="0")
    assert result.returncode != 0
    text = (root / "var/log/provision/provisioning.log").read_text()
    assert "no Lustre client kernel module" in text and "modinfo lustre failed" in text
    assert "apt-get" not in calls.read_text() and "mount " not in calls.read_text()


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_region_comes_from_instance_metadata_when_the_resource_config_has_no_cluster_arn(node):
    run, root, calls, _ = node
    config = {**RESOURCE_CONFIG, "ClusterConfig": {"ClusterName": "llm-pretrain"}}
    (root / "resource_config.json").write_text(json.dumps(config))
    result = run("10.0.64.12", STUB_API_MOUNT="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CLUSTER_REGION=eu-west-1" in (root / "etc/aiplatform/node.env").read_text()
    log = calls.read_text()
    assert "-X PUT http://169.254.169.254/latest/api/token" in log  # IMDSv2 token first
    assert "(eu-west-1)" in (root / "var/log/provision/provisioning.log").read_text()


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_agent_install_waits_for_dns_retries_the_download_and_waits_for_the_dpkg_lock(node):
    run, root, calls, scripts = node
    (root / "opt/cwagent/bin/amazon-cloudwatch-agent-ctl").unlink()
    result = run("10.0.64.12", STUB_API_MOUNT="1")
    assert result.returncode == 0, result.stdout + result.stderr  # the agent is optional
    log = calls.read_text()
    host = "amazoncloudwatch-agent-us-east-1.s3.us-east-1.amazonaws.com"
    assert f"getent hosts {host}" in log
    assert log.count(f"https://{host}/") == 5  # retried five times
    assert "WARNING: CloudWatch agent not installed" in (root / "var/log/provision/provisioning.log").read_text()
    text = (scripts / "install_cloudwatch_agent.sh").read_text()
    assert 'apt-get -o "DPkg::Lock::Timeout=$DPKG_LOCK_TIMEOUT" install -y "$package.deb"' in text


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_on_create_of_an_eks_node_installs_only_the_agent(node):
    run, root, calls, scripts = node
    from constructs_lib.training import _lifecycle

    layout = {**LAYOUT, "workload_manager": "eks", "groups": {"workers": "compute"}}
    del layout["shared_storage"]
    (scripts / _lifecycle.NODE_LAYOUT).write_text(json.dumps(layout))
    result = run("10.0.64.12", entry=_lifecycle.ON_CREATE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WORKLOAD_MANAGER=eks" in (root / "etc/aiplatform/node.env").read_text()
    assert "agent -a fetch-config" in calls.read_text()
    assert not (root / "etc/systemd/system/slurmd.service.d").exists()


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_on_init_complete_fails_when_the_node_is_not_in_the_resource_config(node):
    run, root, _, _ = node
    result = run("10.9.9.9", AIPLATFORM_FAILURE_FLUSH_SECONDS="0")
    assert result.returncode != 0
    assert "no instance matches" in (root / "var/log/provision/provisioning.log").read_text()
