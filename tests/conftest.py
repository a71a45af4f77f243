"""Shared fixtures. Expensive synths happen once per test session (per xdist worker)."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest

REPO = Path(__file__).resolve().parents[1]
CDK_CONTEXT = json.loads((REPO / "cdk.json").read_text())["context"]


def new_app(outdir: Path | None = None, **extra_context):
    """An App with the project's cdk.json feature flags (incl. validateAgainstDefaultRules)."""
    from aws_cdk import App

    context = {**CDK_CONTEXT, **extra_context}
    return App(context=context, outdir=str(outdir) if outdir else None)


class Synthesized:
    """A synthesized platform: the Platform object and a Template per stack (by concern)."""

    def __init__(self, platform, outdir: Path) -> None:
        from aws_cdk.assertions import Template

        self.platform = platform
        self.outdir = outdir
        self.templates = {}
        self.stack_names = {}  # concern -> CloudFormation stack name
        prefix = platform.data.stack_name.removesuffix("data")  # "acme-ml-dev-"
        for stack in platform.stacks:
            concern = stack.stack_name.removeprefix(prefix)  # "data", "inference", "inference-2", ...
            self.stack_names[concern] = stack.stack_name
            body = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
            self.templates[concern] = Template.from_json(body)
            self.templates[concern].raw = body

    def __getitem__(self, concern: str):
        return self.templates[concern]


def synth_platform(config, outdir: Path) -> Synthesized:
    """Build the platform from a validated config with every nag pack on, and synthesize it."""
    from constructs_lib import add_compliance_checks
    from stacks.platform import build_platform

    app = new_app(outdir)
    platform = build_platform(app, config)
    add_compliance_checks(app)
    app.synth()
    return Synthesized(platform, outdir)


# -- one worker builds the platform synths ------------------------------------------------------------
PLATFORM_FIXTURES = ("default_platform", "prod_platform")
PLATFORM_GROUP = "platform"


@pytest.hookimpl(trylast=True)  # after pytest-xdist has added each test's "@group" to its node id
def pytest_collection_modifyitems(config, items):
    """Under ``--dist loadgroup``, every test that uses ``default_platform`` or ``prod_platform`` runs on
    one worker, with the other tests of its xdist group (they share that group's own fixtures), so each
    platform is synthesized once per run instead of once per worker (about 12 CPU-s for the default
    platform after a worker's first synth, measured). Applied here, not by a marker in each module,
    so that a new test using either fixture joins the group without anyone remembering to mark it."""
    if not getattr(config.option, "loadgroup", False):  # set on pytest-xdist workers
        return

    def group(item) -> str:  # the suffix pytest-xdist gave the node id (xdist/remote.py), "" if none
        marks = item.iter_markers("xdist_group")
        return "_".join(sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks}))

    def uses_platform(item) -> bool:
        return any(f in getattr(item, "fixturenames", ()) for f in PLATFORM_FIXTURES)

    merged = {group(item) for item in items if uses_platform(item)} - {""}
    for item in items:
        own = group(item)
        if uses_platform(item) or own in merged:
            base = item.nodeid.removesuffix(f"@{own}") if own else item.nodeid
            item._nodeid = f"{base}@{PLATFORM_GROUP}"


@pytest.fixture(scope="session")
def default_config():
    from stacks.config import DEFAULT_CONFIG, load_config

    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="session")
def default_platform(default_config, tmp_path_factory) -> Synthesized:
    """The embedded default config, synthesized once with all compliance packs (synth fails on a finding)."""
    return synth_platform(default_config, tmp_path_factory.mktemp("default-cdk-out"))


@pytest.fixture(scope="session")
def prod_platform(tmp_path_factory) -> Synthesized:
    """A prod config with account and region set: stateful stack protected, synth still offline."""
    import yaml

    from stacks.config import DEFAULT_CONFIG, parse_config

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["platform"].update(environment="prod", account="123456789012", region="us-east-1")
    data["network"]["availability_zones"] = ["us-east-1a", "us-east-1b"]
    data["endpoints"][1]["volume_kms_key"] = False  # the ranker: the documented switch that omits KmsKeyId
    data["endpoints"][0]["alarms"] = {"model_latency_p99_ms": {"critical": 2000}}
    # The ranker's candidate variant and its after-hours floor run one instance on purpose.
    data["prod_overrides"] = [{"rule": "realtime-two-instances", "reason": "ranker candidate is a 10 % canary"}]
    return synth_platform(parse_config(data, source="prod"), tmp_path_factory.mktemp("prod-cdk-out"))


# -- cfn-lint over every assembly the tests synthesize ------------------------------------------------
_LINTED: dict[str, list] = {}  # sha256 of a template body -> its cfn-lint matches (each template linted once)


def _cfnlint_ignores() -> list[str]:
    """The project's ignore list (``.cfnlintrc.yaml``, what ``make lint`` applies)."""
    import yaml

    return list(yaml.safe_load((REPO / ".cfnlintrc.yaml").read_text())["ignore_checks"])


def lint_matches(path: Path) -> list:
    """cfn-lint's matches (``cfnlint.match.Match``) for one template beyond ``.cfnlintrc.yaml``'s ignores.

    Runs the pinned cfn-lint in this process (schemas load once per worker, no CLI start-up per call);
    a template already linted in this session (same bytes) is not linted again.
    """
    import hashlib

    from cfnlint.config import ConfigMixIn
    from cfnlint.decode import decode
    from cfnlint.runner import run_template_by_data

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest not in _LINTED:
        template, errors = decode(str(path))
        config = ConfigMixIn(["--template", str(path)], ignore_checks=_cfnlint_ignores())
        _LINTED[digest] = errors or list(run_template_by_data(template, config, _cfnlint_rules(config)))
    return _LINTED[digest]


def lint_template(path: Path) -> list[str]:
    """cfn-lint findings of one template beyond ``.cfnlintrc.yaml``'s ignores, as readable lines."""
    return [f"{path.name}:{m.linenumber}: {m.rule.id} {m.message}" for m in lint_matches(path)]


def lint_json(path: Path) -> list[dict]:
    """The findings as the CLI's ``--format json`` prints them (Rule.Id, Message, Location.Path, ...)."""
    from cfnlint.formatters.json import JsonFormatter

    encoder = JsonFormatter.CustomEncoder()
    return [{**json.loads(json.dumps(encoder.default(m))), "Filename": str(path)} for m in lint_matches(path)]


_RULES: list = []  # cfn-lint's rule collection, loaded once per worker


def _cfnlint_rules(config):
    """cfn-lint's rules as its CLI loads them for a run over many templates: once, not per template.

    ``cfnlint.api.lint_file`` builds a new ``Runner`` (and imports and instantiates all ~330 rules)
    for every file, about 2.5 s each on this machine; the CLI itself reuses one collection across the
    templates of a run, which is what this does.
    """
    if not _RULES:
        from cfnlint.runner import Runner

        _RULES.append(Runner(config).rules)
    return _RULES[0]


def lint_assembly(outdir: Path | str) -> list[str]:
    """cfn-lint findings of every template of a cloud assembly (``[]`` when clean)."""
    templates = sorted(Path(outdir).glob("*.template.json"))
    assert templates, f"no templates in {outdir}"
    return [finding for template in templates for finding in lint_template(template)]


def resources_of(template, cfn_type: str) -> dict:
    return {k: v for k, v in template.raw["Resources"].items() if v["Type"] == cfn_type}


def only(template, cfn_type: str) -> tuple[str, dict]:
    found = resources_of(template, cfn_type)
    assert len(found) == 1, f"expected one {cfn_type}, found {sorted(found)}"
    return next(iter(found.items()))


@pytest.fixture(scope="session")
def installed_library(tmp_path_factory) -> Path:
    """The library installed from this checkout into a fresh virtual environment, as an outsider does.

    `uv pip install <repo>` builds the wheel through the same PEP 517 backend (setuptools) and resolves
    the same pinned dependencies as `pip install .`, in a few seconds instead of a minute or more.
    Returns that environment's python.
    """
    import shutil
    import subprocess
    import sys

    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is pinned in requirements-dev.txt"
    env_dir = tmp_path_factory.mktemp("installed") / "venv"
    python = env_dir / "bin" / "python"
    for args in (["venv", "--quiet", "--python", sys.executable, str(env_dir)],
                 ["pip", "install", "--quiet", "--python", str(python), str(REPO)]):
        run = subprocess.run([uv, *args], capture_output=True, text=True, timeout=600, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
    return python
