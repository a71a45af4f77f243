"""Every ```python block of the library READMEs runs as it stands, in anyone's app.

Each example is written to its own empty folder (no ``cdk.json``, no feature flags, no context) and run
there, as a user's ``app.py`` would be: its exact text, executed as ``__main__`` in a fresh namespace
with that folder as the working directory, ``constructs_lib`` imported as any installed package is.
The examples create their own ``App()``, call ``add_compliance_checks(app)`` (the five cdk-nag packs
fail synth on any finding) and ``app.synth()``. They run in the test's own process (jsii and
aws-cdk-lib already loaded), each in its own App: a subprocess for them cost a Python start and an
aws-cdk-lib load (measured: 34 CPU-s in a subprocess, see the commit). ``App()`` reads its context and
output folder from ``CDK_CONTEXT_JSON``/``CDK_OUTDIR`` (set by the CDK CLI), so the test refuses to
run where those are set. Signature listings are fenced as ``text``, not ``python``.
"""

from __future__ import annotations

import os
import re
import traceback
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
READMES = [REPO / "README.md", *sorted((REPO / "constructs_lib").glob("*/README.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
# What an App() reads from its environment (aws-cdk-lib cx-api: CONTEXT_ENV, OUTDIR_ENV): none may be set.
APP_ENV = ("CDK_CONTEXT_JSON", "CDK_OUTDIR")


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


def test_readme_examples_synthesize_in_an_empty_folder_with_every_nag_pack(tmp_path, monkeypatch):
    assert not [k for k in APP_ENV if k in os.environ], "an App() here would read the CLI's context"
    examples = readme_examples()
    results, synthesized = {}, {}
    for i, (name, code) in enumerate(examples):
        folder = tmp_path / f"example{i:02d}"
        folder.mkdir()
        path = folder / "app.py"
        path.write_text(f"# {name}\n{code}")
        monkeypatch.chdir(folder)
        namespace = {"__name__": "__main__", "__file__": str(path)}
        try:
            exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - the example as it stands
            results[name] = "ok"
        except BaseException as error:  # noqa: BLE001 - report every example, not only the first failure
            results[name] = f"{type(error).__name__}: {error}"[:8000] + "\n" + traceback.format_exc()[-3000:]
        app = namespace.get("app")
        synthesized[name] = [s.template for s in app.synth().stacks] if app is not None else []
    failed = {name: error for name, error in results.items() if error != "ok"}
    assert not failed, "\n\n".join(f"{name}\n{error}" for name, error in failed.items())
    assert len(results) == len(examples)
    # No example depended on a cdk.json: none was there, and each synthesized a template with the nag packs.
    for i in range(len(examples)):
        assert not (tmp_path / f"example{i:02d}" / "cdk.json").exists()
    assert all(templates and all(t["Resources"] for t in templates) for templates in synthesized.values()), synthesized


@pytest.mark.parametrize("name, code", readme_examples(), ids=[n for n, _ in readme_examples()])
def test_readme_example_is_complete(name, code):
    """Complete as it stands: its own App, the nag packs and a synth (no names defined elsewhere)."""
    compile(code, name, "exec")
    assert "App(" in code and "add_compliance_checks(app)" in code and "app.synth()" in code, name
