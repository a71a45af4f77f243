"""Lambda code assets for the library's functions, bundled without Docker.

Function code lives in the repository's ``lambda/<name>/`` folder (shipped inside the wheel as
``constructs_lib/functions/<name>/``). Powertools for AWS Lambda is not in the Lambda runtime, so
the pinned, pure-Python ``aws_lambda_powertools`` package (and ``typing_extensions``, which it
imports) is copied from this environment's site-packages next to the handler, and so is
``constructs_lib/sagemaker_events.py`` (the constants shared by constructs and handlers): the tests
import the very same code. The staged folder's content decides the asset hash, so synth stays deterministic.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

# The newest Python runtime known to the pinned aws-cdk-lib (cdk-nag AwsSolutions-L1 checks this).
FUNCTION_RUNTIME = lambda_.Runtime.PYTHON_3_14

_VENDORED = ("aws_lambda_powertools", "typing_extensions")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "requirements*.txt")


def function_source_dir(name: str) -> Path:
    """Folder holding ``lambda/<name>``: the installed package data first, then the repo layout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "functions" / name, here.parent / "lambda" / name):
        if (candidate / "handler.py").is_file():
            return candidate
    raise FileNotFoundError(f"Lambda code for {name!r} not found next to constructs_lib")


@cache
def _staged_dir(name: str) -> str:
    import importlib

    staging = Path(tempfile.mkdtemp(prefix=f"aiplatform-fn-{name}-"))
    shutil.copytree(function_source_dir(name), staging, dirs_exist_ok=True, ignore=_IGNORE)
    # The shared EventBridge vocabulary, importable by the handler as ``sagemaker_events``.
    shutil.copy2(Path(__file__).resolve().parent / "sagemaker_events.py", staging / "sagemaker_events.py")
    for module in _VENDORED:
        mod = importlib.import_module(module)
        src = Path(mod.__file__)
        if src.name == "__init__.py":
            shutil.copytree(src.parent, staging / src.parent.name, ignore=_IGNORE)
        else:
            shutil.copy2(src, staging / src.name)
    return str(staging)


def function_code(name: str) -> lambda_.Code:
    """``lambda_.Code`` for ``lambda/<name>`` with Powertools bundled; handler is ``handler.handler``."""
    return lambda_.Code.from_asset(_staged_dir(name))
