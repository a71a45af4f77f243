"""Synth leaves nothing in the system temp folder, and Lambda asset hashes stay stable.

Function assets are bundled locally straight into the cloud assembly (no staging folder in the temp
folder); the HyperPod lifecycle scripts' temp copy is removed when the process exits. A fresh
interpreter with its own ``TMPDIR`` stages the lifecycle scripts, synthesizes a function in two apps
and exits; its temp folder must then hold no ``aiplatform-*`` folder. The same interpreter then
imports app.py to show that synth loads no AWS client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, lint_assembly

pytestmark = pytest.mark.xdist_group("fresh-interpreter")  # one worker runs the subprocess once

_SYNTH = """
import json, sys, tempfile
from pathlib import Path
from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from constructs_lib.lifecycle.reliable_function import ReliableFunction
from constructs_lib.training._lifecycle import stage_scripts

assert tempfile.gettempdir() == sys.argv[1], tempfile.gettempdir()
stage_scripts("{}")  # what HyperPodCluster stages for its lifecycle scripts asset
hashes = []
for run in ("a", "b"):
    app = App(outdir=str(Path(sys.argv[2]) / run))
    stack = Stack(app, "Litter")
    ReliableFunction(stack, "Fn", code_name="endpoint_notifier", description="d", key=kms.Key(stack, "Key"))
    assembly = app.synth()
    assets = json.loads((Path(assembly.directory) / "Litter.assets.json").read_text())["files"]
    hashes.append(sorted(assets))
during = sorted(p.name for p in Path(sys.argv[1]).iterdir())
import app, stacks.platform  # what `cdk synth` imports: the app and every stack module
modules = {m: m in sys.modules for m in ("stacks.preflight", "boto3")}
print(json.dumps({"hashes": hashes, "during": during, "imported": modules}))
"""


@pytest.fixture(scope="module")
def fresh_synth(tmp_path_factory) -> tuple[dict, Path, Path]:
    """Runs ``_SYNTH`` once in a fresh interpreter with its own ``TMPDIR``; returns its report, that
    temp folder and the output folder."""
    root = tmp_path_factory.mktemp("fresh-synth")
    temp = root / "tmp"
    temp.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", _SYNTH, str(temp), str(root / "out")],
        # CDK_VALIDATION=false: the built-in CloudFormation validation of these plain Apps can only warn
        # (see tests/test_cli.py), and its WASM engine's start was half of this test's CPU time (measured).
        cwd=REPO, env={**os.environ, "TMPDIR": str(temp), "CDK_VALIDATION": "false"},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), temp, root / "out"


def test_synth_leaves_no_staging_folder_in_the_temp_folder(fresh_synth):
    result, temp, out = fresh_synth
    # Bundled into the assembly: no aiplatform-fn-* folder even while the process runs; the lifecycle
    # scripts' copy exists while the process builds constructs and is gone after it exits.
    ours = [n for n in result["during"] if n.startswith("aiplatform-")]
    assert len(ours) == 1 and ours[0].startswith("aiplatform-hyperpod-lifecycle-"), ours
    assert not [p.name for p in temp.iterdir() if p.name.startswith("aiplatform-")]
    # Deterministic: the same function and scripts give the same asset hashes in two assemblies.
    first, second = result["hashes"]
    assert first == second
    (function_asset,) = [
        p for p in (out / "a").glob("asset.*") if p.is_dir() and (p / "handler.py").is_file()
    ]
    assert function_asset.name.removeprefix("asset.") in first
    assert (function_asset / "handler.py").read_bytes() == (
        REPO / "lambda" / "endpoint_notifier" / "handler.py"
    ).read_bytes()
    assert not list((out / "a").glob("bundling-temp-*"))  # renamed into asset.<hash>
    assert lint_assembly(out / "a") == []


def test_synth_imports_neither_preflight_nor_boto3(fresh_synth):
    """Synth never calls AWS: importing app.py and every stack module loads neither the preflight
    module (which reads quotas) nor boto3. Checked in the same fresh interpreter as above, after a synth,
    instead of a second interpreter that pays the jsii start again (about 9 CPU-s)."""
    result, _, _ = fresh_synth
    assert result["imported"] == {"stacks.preflight": False, "boto3": False}
