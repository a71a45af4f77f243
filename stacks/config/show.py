"""Print a config as synth sees it: merged onto its ``extends`` base, environment defaults filled in.

Usage: ``python -m stacks.config.show configs/prod.yaml`` (``make config CONFIG=...``). Exits 1,
listing every problem, when the merged config is invalid.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import yaml

    from constructs_lib.errors import PlatformValidationError

    from . import DEFAULT_CONFIG, merged_config_data, parse_config

    path = argv[0] if argv else str(DEFAULT_CONFIG)
    try:
        data = merged_config_data(path)
        parse_config(data, source=path)
    except PlatformValidationError as err:
        print(f"error: invalid platform configuration\n{err}", file=sys.stderr)
        return 1
    print(f"# {path}: merged with its base and the {data['platform']['environment']} defaults; valid")
    print(yaml.safe_dump(data, sort_keys=False, width=120), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
