"""Print a short summary of a cloud assembly: each stack with its resource count by type.

Usage: ``python -m stacks.summary cdk.out``
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def summarize(outdir: Path) -> str:
    manifest = json.loads((outdir / "manifest.json").read_text())
    lines = []
    total = 0
    for name, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        resources = template.get("Resources", {})
        total += len(resources)
        kinds = Counter(r["Type"] for r in resources.values())
        top = ", ".join(f"{k.split('::', 1)[1]} x{n}" for k, n in kinds.most_common(6))
        lines.append(f"  {name}: {len(resources)} resources ({top})")
    return f"Synthesized {len(lines)} stacks, {total} resources:\n" + "\n".join(lines)


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
