"""The architecture diagram is generated from the synthesized app, and the rendered SVG is committed."""

from __future__ import annotations

import importlib.util

from tests.conftest import REPO


def _module():
    spec = importlib.util.spec_from_file_location("architecture", REPO / "docs" / "architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_diagram_shows_every_stack_endpoint_cluster_and_budget_of_the_default_platform(default_platform):
    dot = _module().to_dot(default_platform.outdir)
    assert dot.startswith("digraph platform {") and dot.rstrip().endswith("}")
    for stack in default_platform.platform.stacks:
        assert f'label="{stack.stack_name} (' in dot
    for name in ("chat-llm", "ranker", "embeddings", "batch-scoring", "llm-hosting", "many-models"):
        assert f"endpoint\\nacme-ml-dev-{name}" in dot
    assert "HyperPod cluster\\nacme-ml-dev-llm-pretrain" in dot
    assert "budget\\nacme-ml-dev-platform" in dot
    assert dot.count(" -> ") == sum(len(s.dependencies) for s in default_platform.platform.stacks)


def test_rendered_svg_is_committed_next_to_its_source():
    import html

    svg = html.unescape((REPO / "docs" / "architecture.svg").read_text())  # graphviz writes '-' as &#45;
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    dot = (REPO / "docs" / "architecture.dot").read_text()
    assert "acme-ml-dev-data" in dot and "acme-ml-dev-data" in svg
