"""Architecture diagram of a synthesized platform, from its cloud assembly (not drawn by hand).

    python docs/architecture.py cdk.out docs/architecture.dot    # make diagram (after make synth)
    dot -Tsvg docs/architecture.dot -o docs/architecture.svg     # graphviz (Debian: apt-get install graphviz)

One cluster per stack with its main resources (counted by type, named where a name exists) and
the deploy-order dependencies between stacks from the assembly manifest. CI does not need
graphviz: the rendered SVG is committed, and a test checks the DOT source is current.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# Resource types shown, with the label of their node; everything else is left out of the picture.
SHOWN = {
    "AWS::KMS::Key": "KMS key",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::SNS::Topic": "SNS topic",
    "AWS::EC2::VPC": "VPC",
    "AWS::EC2::NatGateway": "NAT gateway",
    "AWS::SageMaker::Endpoint": "endpoint",
    "AWS::SageMaker::InferenceComponent": "inference component",
    "AWS::SageMaker::Cluster": "HyperPod cluster",
    "AWS::FSx::FileSystem": "FSx for Lustre",
    "AWS::ECR::Repository": "ECR repository",
    "AWS::SageMaker::ModelPackageGroup": "model package group",
    "AWS::StepFunctions::StateMachine": "training pipeline",
    "AWS::CloudWatch::Dashboard": "dashboard",
    "AWS::CloudWatch::Alarm": "alarm",
    "AWS::CloudWatch::CompositeAlarm": "composite alarm",
    "AWS::Events::Rule": "EventBridge rule",
    "AWS::Lambda::Function": "Lambda function",
    "AWS::SQS::Queue": "SQS queue",
    "AWS::Budgets::Budget": "budget",
}
NAME_PROPERTIES = {
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::SageMaker::Cluster": "ClusterName",
    "AWS::Budgets::Budget": None,
}


def _name(resource: dict) -> str | None:
    prop = NAME_PROPERTIES.get(resource["Type"], "")
    props = resource.get("Properties", {})
    if resource["Type"] == "AWS::Budgets::Budget":
        return props.get("Budget", {}).get("BudgetName")
    value = props.get(prop) if prop else None
    return value if isinstance(value, str) else None


def to_dot(outdir: Path) -> str:
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = {k: a for k, a in sorted(manifest["artifacts"].items()) if a["type"] == "aws:cloudformation:stack"}
    lines = [
        "digraph platform {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, compound=true, newrank=true];',
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", fontname="Helvetica", fontsize=10];',
        '  edge [color="#667085", fontname="Helvetica", fontsize=9];',
    ]
    anchors = {}
    for i, (artifact_id, artifact) in enumerate(stacks.items()):
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        resources = template.get("Resources", {})
        lines.append(f'  subgraph cluster_{i} {{')
        lines.append(f'    label="{artifact["properties"].get("stackName", artifact_id)} ({len(resources)} resources)";')
        lines.append('    style="rounded"; color="#98a2b3";')
        named = [(r["Type"], _name(r)) for r in resources.values() if r["Type"] in SHOWN and _name(r)]
        counts = Counter(r["Type"] for r in resources.values() if r["Type"] in SHOWN)
        nodes = []
        for cfn_type, name in named:
            nodes.append(f"{SHOWN[cfn_type]}\\n{name}")
            counts[cfn_type] -= 1
        for cfn_type, label in SHOWN.items():
            n = counts.get(cfn_type, 0)
            if n > 0:
                nodes.append(f"{n} x {label}" if n > 1 else label)
        if not nodes:
            nodes.append("(supporting resources)")
        for j, label in enumerate(nodes):
            lines.append(f'    s{i}_{j} [label="{label}"];')
        lines.append("  }")
        anchors[artifact_id] = f"s{i}_0"
    for i, (artifact_id, artifact) in enumerate(stacks.items()):
        for dep in artifact.get("dependencies", []):
            if dep in anchors:
                lines.append(
                    f'  {anchors[dep]} -> {anchors[artifact_id]} [ltail=cluster_{list(stacks).index(dep)}, lhead=cluster_{i}];'
                )
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdk.out")
    target = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("architecture.dot")
    target.write_text(to_dot(outdir))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
