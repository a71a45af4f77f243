"""Every ```python block of the library READMEs runs as it stands, in anyone's app.

Each example is written to its own empty folder (no ``cdk.json``, no feature flags, no context) and run
there with ``constructs_lib`` importable, as a user's ``app.py`` would be; the examples create their own
``App()``, call ``add_compliance_checks(app)`` (the five cdk-nag packs fail synth on any finding) and
``app.synth()``. All examples run in ONE Python process (jsii starts once), each in its own App.
Signature listings are fenced as ``text``, not ``python``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
READMES = [REPO / "README.md", *sorted((REPO / "constructs_lib").glob("*/README.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)

# Runs each example file given on the command line in its own folder; prints one JSON line of results.
RUNNER = """
import json, os, runpy, sys
results = {}
for path in sys.argv[1:]:
    os.chdir(os.path.dirname(path))
    try:
        runpy.run_path(path, run_name="__main__")
        results[path] = "ok"
    except BaseException as error:  # noqa: BLE001 - report every example, not only the first failure
        results[path] = f"{type(error).__name__}: {error}"[:8000]
print("RESULTS " + json.dumps(results))
"""


def readme_examples() -> list[tuple[str, str]]:
    found = []
    for readme in READMES:
        text = readme.read_text()
        for match in FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{readme.relative_to(REPO)}:{line}", match.group(1)))
    return found


def test_every_library_readme_has_examples():
    names = {name.split(":")[0] for name, _ in readme_examples()}
    assert names == {str(r.relative_to(REPO)) for r in READMES}


def test_readme_examples_synthesize_in_an_empty_folder_with_every_nag_pack(tmp_path):
    examples = readme_examples()
    paths = []
    for i, (name, code) in enumerate(examples):
        folder = tmp_path / f"example{i:02d}"
        folder.mkdir()
        (folder / "app.py").write_text(f"# {name}\n{code}")
        paths.append(str(folder / "app.py"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "PYTHONPATH"))}
    env.update(PYTHONPATH=str(REPO), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    run = subprocess.run(
        [sys.executable, "-c", RUNNER, *paths], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )
    lines = [x for x in run.stdout.splitlines() if x.startswith("RESULTS ")]
    assert lines, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(lines[-1].removeprefix("RESULTS "))
    failed = {examples[paths.index(p)][0]: error for p, error in results.items() if error != "ok"}
    assert not failed, "\n\n".join(f"{name}\n{error}" for name, error in failed.items()) + run.stderr[-3000:]
    assert len(results) == len(examples)
    # No example depended on a cdk.json: none was there, and each synthesized a template with the nag packs.
    for p in paths:
        folder = Path(p).parent
        assert not (folder / "cdk.json").exists()


@pytest.mark.parametrize("name, code", readme_examples(), ids=[n for n, _ in readme_examples()])
def test_readme_example_is_complete(name, code):
    """Complete as it stands: its own App, the nag packs and a synth (no names defined elsewhere)."""
    compile(code, name, "exec")
    assert "App(" in code and "add_compliance_checks(app)" in code and "app.synth()" in code, name
