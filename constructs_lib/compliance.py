"""Compliance gates: cdk-nag rule packs as CDK validation plugins, and narrow acknowledgments.

With the packs added, ``app.synth()`` fails on any unacknowledged finding and writes
``validation-report.json`` to the cloud assembly, so ``cdk synth`` and the tests share one gate.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

try:  # cdk-nag is needed to *run* the packs, not to acknowledge findings.
    from cdk_nag import (
        AwsSolutionsChecks,
        HIPAASecurityChecks,
        NIST80053R5Checks,
        PCIDSS321Checks,
        ServerlessChecks,
    )

    NAG_PACKS = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks)
except ImportError:  # pragma: no cover - exercised only without the optional dependency
    NAG_PACKS = ()


def add_compliance_checks(app: IConstruct, packs: Iterable[type] | None = None) -> None:
    """Run every nag pack (AwsSolutions, HIPAA Security, NIST 800-53 R5, PCI DSS 3.2.1, Serverless) at synth."""
    chosen = tuple(packs) if packs is not None else NAG_PACKS
    if not chosen:
        raise RuntimeError("cdk-nag is not installed: pip install cdk-nag")
    for pack in chosen:
        Validations.of(app).add_plugins(pack(app))


def acknowledge(construct: IConstruct, reason: str, *finding_ids: str) -> None:
    """Acknowledge exact findings (``AwsSolutions-IAM5[Resource::*]``) on one construct, with the reason.

    Call it next to the construct or grant that causes the finding, never on a whole stack.
    """
    if not reason.strip():
        raise ValueError("an acknowledgment needs a reason")
    Validations.of(construct).acknowledge(*(Acknowledgment(id=f, reason=reason) for f in finding_ids))


def nag_resource_id(scope: IConstruct, value: str) -> str:
    """Render a token-bearing ARN the way cdk-nag names it in a finding (``<AWS::Partition>``,
    ``<LogicalId.Arn>``), so an acknowledgment can name the exact finding, e.g.
    ``AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::bucket/prefix/*]``."""
    from aws_cdk import Stack

    def render(node) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Ref":
                return f"<{arg}>"
            if fn == "Fn::GetAtt":
                return f"<{arg[0]}.{arg[1]}>"
            if fn == "Fn::Join":
                return arg[0].join(render(part) for part in arg[1])
        raise ValueError(f"cannot render {node!r} as a cdk-nag finding id")

    return render(Stack.of(scope).resolve(value))
