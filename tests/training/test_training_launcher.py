"""The custom-image launcher (constructs_lib/training/launcher.py): torchrun from what SageMaker provides.

It ships as a standalone file images copy, so it is loaded by path here, like the node scripts.
"""

from __future__ import annotations

import ast
import importlib.util
import json

import pytest
from training_testkit import REPO

PATH = REPO / "constructs_lib" / "training" / "launcher.py"
spec = importlib.util.spec_from_file_location("aiplatform_launcher", PATH)
launcher = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launcher)

# /opt/ml/input/config/resourceconfig.json as SageMaker writes it (Developer Guide, "Distributed
# training configuration"): the hosts are algo-1..algo-n.
RESOURCE_CONFIG = {"current_host": "algo-2", "hosts": ["algo-2", "algo-1", "algo-3"], "network_interface_name": "eth0"}


def test_each_instance_gets_its_rank_among_all_hosts():
    argv, extra = launcher.torchrun_command(
        RESOURCE_CONFIG, {"AIPLATFORM_DISTRIBUTION": "torch_distributed"}, ["python3", "-u", "train.py", "--epochs", "3"]
    )
    assert argv == [
        "torchrun",
        "--nnodes=3",
        "--node_rank=1",
        "--nproc_per_node=gpu",
        "--master_addr=algo-1",
        "--master_port=29500",
        "train.py",
        "--epochs",
        "3",
    ]
    assert extra == {"NCCL_SOCKET_IFNAME": "eth0"}


def test_the_training_toolkit_variables_win_when_the_image_has_them():
    env = {"SM_HOSTS": json.dumps(["algo-1", "algo-2"]), "SM_CURRENT_HOST": "algo-1", "SM_NUM_GPUS": "8"}
    argv, _ = launcher.torchrun_command(RESOURCE_CONFIG, env, ["train.py"])
    assert argv[1:4] == ["--nnodes=2", "--node_rank=0", "--nproc_per_node=8"]


def test_other_distributions_run_the_command_unchanged():
    assert launcher.torchrun_command(RESOURCE_CONFIG, {"AIPLATFORM_DISTRIBUTION": "none"}, ["python3", "t.py"]) == (
        ["python3", "t.py"],
        {},
    )


def test_an_unknown_host_is_refused_clearly(tmp_path, monkeypatch, capsys):
    config = tmp_path / "resourceconfig.json"
    config.write_text(json.dumps({**RESOURCE_CONFIG, "current_host": "algo-9"}))
    monkeypatch.setenv("AIPLATFORM_RESOURCE_CONFIG", str(config))
    monkeypatch.delenv("AIPLATFORM_DISTRIBUTION", raising=False)
    assert launcher.main(["--", "python3", "train.py"]) == 2
    assert "current host 'algo-9' is not among the job's hosts" in capsys.readouterr().err
    with pytest.raises(ValueError):
        launcher.cluster({"hosts": []}, {})


def test_the_launcher_needs_nothing_beyond_the_standard_library():
    tree = ast.parse(PATH.read_text(), feature_version=(3, 8))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "json", "os", "sys", "collections", "typing"}
