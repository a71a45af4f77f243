#!/usr/bin/env python3
"""Start ``torchrun`` on every instance of a SageMaker training job: the launcher of a custom image.

SageMaker's framework containers read the ``sagemaker_*`` hyperparameters a ``TrainingPipeline``
sets and start the processes themselves (the sagemaker-training toolkit). A custom image does not:
without a launcher, each instance of an n-instance job runs the same script on its own and trains the
same thing n times. This file is that launcher. It uses the standard library only, so an image copies
it (``COPY launcher.py /opt/aiplatform/launcher.py``) and uses it as entry point::

    ENTRYPOINT ["python3", "/opt/aiplatform/launcher.py", "--", "python3", "-u", "/opt/code/train.py"]

What SageMaker provides in every training container (SageMaker Developer Guide, "How Amazon SageMaker
AI provides training information": ``/opt/ml/input/config/resourceconfig.json`` with ``current_host``,
``hosts`` and ``network_interface_name``; ``hyperparameters.json``; channels under
``/opt/ml/input/data/<channel>``; the model directory ``/opt/ml/model``). ``SM_HOSTS``,
``SM_CURRENT_HOST``, ``SM_NUM_GPUS`` and the other ``SM_*`` variables are set by the sagemaker-training
toolkit when the image has it; this launcher prefers them and falls back to the resource config.

``torchrun`` gets ``--nnodes`` (number of hosts), ``--node_rank`` (this host's index in the sorted host
list), ``--master_addr`` (the first host), ``--master_port`` and ``--nproc_per_node`` (``SM_NUM_GPUS``,
else ``gpu``: one process per GPU); NCCL uses the job's network interface (``NCCL_SOCKET_IFNAME``).
With ``AIPLATFORM_DISTRIBUTION`` other than ``torch_distributed`` (the pipeline sets it) the command
runs unchanged, once per instance.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

RESOURCE_CONFIG = "/opt/ml/input/config/resourceconfig.json"
MASTER_PORT = "29500"
TORCH_DISTRIBUTED = "torch_distributed"


def cluster(resource_config: Mapping[str, Any], env: Mapping[str, str]) -> tuple[list[str], str, str]:
    """``(hosts, current host, network interface)``, from the toolkit's ``SM_*`` variables or the
    resource config SageMaker writes."""
    hosts = json.loads(env["SM_HOSTS"]) if env.get("SM_HOSTS") else list(resource_config.get("hosts") or [])
    current = env.get("SM_CURRENT_HOST") or str(resource_config.get("current_host") or "")
    interface = env.get("SM_NETWORK_INTERFACE_NAME") or str(resource_config.get("network_interface_name") or "")
    hosts = sorted(hosts)
    if not hosts or current not in hosts:
        raise ValueError(f"current host {current!r} is not among the job's hosts {hosts!r}")
    return hosts, current, interface


def torchrun_command(
    resource_config: Mapping[str, Any], env: Mapping[str, str], command: Sequence[str]
) -> tuple[list[str], dict[str, str]]:
    """The argv and the extra environment that start ``command`` (``python3 train.py ...``) under torchrun."""
    if env.get("AIPLATFORM_DISTRIBUTION", TORCH_DISTRIBUTED) != TORCH_DISTRIBUTED:
        return list(command), {}
    hosts, current, interface = cluster(resource_config, env)
    script = list(command)
    if script and os.path.basename(script[0]).startswith("python"):
        script = [arg for arg in script[1:] if arg != "-u"]  # torchrun starts the interpreter itself
    argv = [
        "torchrun",
        f"--nnodes={len(hosts)}",
        f"--node_rank={hosts.index(current)}",
        f"--nproc_per_node={env.get('SM_NUM_GPUS') or 'gpu'}",
        f"--master_addr={hosts[0]}",
        f"--master_port={env.get('AIPLATFORM_MASTER_PORT', MASTER_PORT)}",
        *script,
    ]
    extra = {"NCCL_SOCKET_IFNAME": interface} if interface else {}
    return argv, extra


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        print("usage: launcher.py -- python3 train.py [args...]", file=sys.stderr)
        return 2
    path = os.environ.get("AIPLATFORM_RESOURCE_CONFIG", RESOURCE_CONFIG)
    try:
        with open(path, encoding="utf-8") as handle:
            resource_config = json.load(handle)
        command, extra = torchrun_command(resource_config, os.environ, args)
    except (OSError, ValueError) as error:
        print(f"launcher.py: {error}", file=sys.stderr)
        return 2
    os.execvpe(command[0], command, {**os.environ, **extra})
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
