"""Lambda code assets for the library's functions, bundled without Docker.

Function code lives in the repository's ``lambda/<name>/`` folder (shipped inside the wheel as
``constructs_lib/functions/<name>/``). Every asset root gets, next to ``handler.py``:

* ``lambda/common/*.py`` (``lambda_common.py``: the envelope, text and SNS helpers every handler shares);
* ``constructs_lib/sagemaker_events.py`` (the EventBridge vocabulary shared by constructs and handlers);
* the pinned, pure-Python ``aws_lambda_powertools`` package and ``typing_extensions`` (which it
  imports), copied from this environment's site-packages: Powertools is not in the Lambda runtime;
* the X-Ray SDK (``aws_xray_sdk``) and ``wrapt``, which Powertools' ``Tracer`` imports, when both are
  installed here. ``wrapt`` ships a C extension built for this interpreter and platform; it is left
  out (``*.so``/``*.pyd``/``*.c``), and wrapt then uses its pure-Python implementation (its
  ``__wrapt__`` module falls back on ``ImportError``), so the asset runs on any Lambda runtime and
  architecture. When they are not installed, the handlers' ``Tracer`` is a no-op stand-in
  (``lambda_common.tracer_for``) and the functions run untraced; pin ``aws-xray-sdk`` and ``wrapt``
  next to Powertools to keep the asset the same on every machine.

The asset is built by CDK's local bundling (``ILocalBundling``, no Docker) straight into the cloud
assembly (``cdk.out/asset.<hash>``): nothing is staged in the system temp folder, and nothing is
left behind. The asset hash is the hash of that output (``AssetHashType.OUTPUT``), the same
fingerprint CDK took of the former temp staging folder, so synth stays deterministic and hashes do
not change for a given set of installed packages. The tests stage the very same files with
:func:`stage_function`.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

# The newest Python runtime known to the pinned aws-cdk-lib (cdk-nag AwsSolutions-L1 checks this).
FUNCTION_RUNTIME = lambda_.Runtime.PYTHON_3_14

_VENDORED = ("aws_lambda_powertools", "typing_extensions")
# Powertools' Tracer needs these; bundled only together, and only when installed (see module docstring).
_TRACING = ("aws_xray_sdk", "wrapt")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "requirements*.txt")
# Compiled extensions are built for this machine's interpreter and platform, not for Lambda's.
_IGNORE_VENDORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "tests", "requirements*.txt", "*.so", "*.pyd", "*.c"
)
_COMMON = "common"


def _code_dir(name: str, marker: str) -> Path:
    """``lambda/<name>`` holding ``marker``: the installed package data first, then the repo layout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "functions" / name, here.parent / "lambda" / name):
        if candidate.is_dir() and any(candidate.glob(marker)):
            return candidate
    raise FileNotFoundError(f"Lambda code {name!r} ({marker}) not found next to constructs_lib")


def function_source_dir(name: str) -> Path:
    """Folder holding ``lambda/<name>/handler.py``: the installed package data first, then the repo layout."""
    return _code_dir(name, "handler.py")


def common_source_dir() -> Path:
    """Folder holding ``lambda/common/*.py``, the modules copied into every function asset."""
    return _code_dir(_COMMON, "*.py")


def tracing_vendored() -> bool:
    """Whether the assets carry the X-Ray SDK (Powertools' Tracer traces) or run untraced."""
    return all(importlib.util.find_spec(module) is not None for module in _TRACING)


def _vendor(module: str, staging: Path) -> None:
    spec = importlib.util.find_spec(module)  # located, not imported: synth runs none of its code
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{module} is not installed; it is bundled into every Lambda asset")
    src = Path(spec.origin)
    if src.name == "__init__.py":
        shutil.copytree(src.parent, staging / src.parent.name, ignore=_IGNORE_VENDORED)
    else:
        shutil.copy2(src, staging / src.name)


def stage_function(name: str, directory: Path | str) -> Path:
    """Write the asset of ``lambda/<name>`` into ``directory`` (created if missing): the handler, the
    shared modules and the vendored packages. Returns the directory."""
    if name == _COMMON:
        raise ValueError(f"{_COMMON!r} holds the shared modules, not a function")
    staging = Path(directory)
    shutil.copytree(function_source_dir(name), staging, dirs_exist_ok=True, ignore=_IGNORE)
    for shared in sorted(common_source_dir().glob("*.py")):
        shutil.copy2(shared, staging / shared.name)
    # The shared EventBridge vocabulary, importable by the handler as ``sagemaker_events``.
    shutil.copy2(Path(__file__).resolve().parent / "sagemaker_events.py", staging / "sagemaker_events.py")
    for module in _VENDORED + (_TRACING if tracing_vendored() else ()):
        _vendor(module, staging)
    return staging


@jsii.implements(ILocalBundling)
class _LocalStaging:
    """CDK local bundling: stages the function into the folder CDK gives (inside the cloud assembly)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def try_bundle(self, output_dir: str, *, image, **_options) -> bool:
        stage_function(self._name, output_dir)
        return True


def function_code(name: str) -> lambda_.Code:
    """``lambda_.Code`` for ``lambda/<name>`` with the shared modules and Powertools bundled;
    the handler is ``handler.handler``."""
    return lambda_.Code.from_asset(
        str(function_source_dir(name)),
        asset_hash_type=AssetHashType.OUTPUT,
        # The image is never pulled: local bundling always succeeds (a failure raises), no Docker needed.
        bundling=BundlingOptions(image=DockerImage.from_registry("local-bundling-only"), local=_LocalStaging(name)),
    )
