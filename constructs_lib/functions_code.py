"""Lambda code assets for the library's functions, bundled without Docker.

Function code lives in the repository's ``lambda/<name>/`` folder (shipped inside the wheel as
``constructs_lib/functions/<name>/``). Every function's asset gets, next to ``handler.py``:

* ``lambda/common/*.py`` (``lambda_common.py``: the envelope, text and SNS helpers every handler shares);
* ``constructs_lib/sagemaker_events.py`` (the EventBridge vocabulary shared by constructs and handlers);
* for the functions listed in :data:`SHARED_SCHEMAS`, the schema modules they share with their construct
  (``model_deployer``: ``constructs_lib/deploy_targets.py``, its ``DEPLOY_TARGETS`` environment;
  ``training_job_alarms``: ``constructs_lib/job_alarm_requests.py``, its ``JOB_ALARMS`` environment);
and nothing else: the third-party packages live in ONE layer per stack (:func:`powertools_layer`),
shared by every function of the stack, instead of a 5.4 MB copy in every function's asset. Its asset
holds, under ``python/`` (the folder Lambda adds to ``sys.path`` for Python runtimes: Lambda Developer
Guide, "Packaging your layer content", layer paths for each Lambda runtime):

* the pinned, pure-Python ``aws_lambda_powertools`` package and ``typing_extensions`` (which it
  imports), copied from this environment's site-packages: Powertools is not in the Lambda runtime;
* the X-Ray SDK (``aws_xray_sdk``) and ``wrapt``, which Powertools' ``Tracer`` imports, when both are
  installed here. ``wrapt`` ships a C extension built for this interpreter and platform; it is left
  out (``*.so``/``*.pyd``/``*.c``), and wrapt then uses its pure-Python implementation (its
  ``__wrapt__`` module falls back on ``ImportError``), so the layer runs on any Lambda runtime and
  architecture. When they are not installed, the handlers' ``Tracer`` is a no-op stand-in
  (``lambda_common.tracer_for``) and the functions run untraced; pin ``aws-xray-sdk`` and ``wrapt``
  next to Powertools to keep the layer the same on every machine.

The layer's content is the same in every stack, so the cloud assembly stages it once (assets are
keyed by content hash) and ``cdk deploy`` uploads it once; each stack that has functions gets its own
``AWS::Lambda::LayerVersion`` of it, so no stack depends on another for its functions' code.

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
from collections.abc import Mapping
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

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
# Function -> modules of constructs_lib copied next to its handler: the schema the construct writes and
# the handler reads, defined once (standard library only). Only the functions that import them get them.
SHARED_SCHEMAS: dict[str, tuple[str, ...]] = {
    "model_deployer": ("deploy_targets.py",),
    "training_job_alarms": ("job_alarm_requests.py",),
}


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


def stage_function(name: str, directory: Path | str, data_files: Mapping[str, str] | None = None) -> Path:
    """Write the asset of ``lambda/<name>`` into ``directory`` (created if missing): the handler, the
    shared modules and ``data_files`` (file name -> text: configuration too large for the function's
    environment, read by the handler next to itself). Returns the directory."""
    if name == _COMMON:
        raise ValueError(f"{_COMMON!r} holds the shared modules, not a function")
    staging = Path(directory)
    shutil.copytree(function_source_dir(name), staging, dirs_exist_ok=True, ignore=_IGNORE)
    for shared in sorted(common_source_dir().glob("*.py")):
        shutil.copy2(shared, staging / shared.name)
    # The shared EventBridge vocabulary, importable by the handler as ``sagemaker_events``.
    shutil.copy2(Path(__file__).resolve().parent / "sagemaker_events.py", staging / "sagemaker_events.py")
    for schema in SHARED_SCHEMAS.get(name, ()):
        shutil.copy2(Path(__file__).resolve().parent / schema, staging / schema)
    for file_name, text in sorted((data_files or {}).items()):
        if Path(file_name).name != file_name or (staging / file_name).exists():
            raise ValueError(f"data file {file_name!r}: a new file name next to the handler, without folders")
        (staging / file_name).write_text(text)
    return staging


# The folder of a layer's content that Lambda's Python runtimes put on sys.path (/opt/python).
LAYER_PYTHON_DIR = "python"


def stage_layer(directory: Path | str) -> Path:
    """Write the Powertools layer's content into ``directory`` (created if missing): the vendored
    packages under ``python/``. Returns the directory."""
    staging = Path(directory)
    packages = staging / LAYER_PYTHON_DIR
    packages.mkdir(parents=True, exist_ok=True)
    for module in _VENDORED + (_TRACING if tracing_vendored() else ()):
        _vendor(module, packages)
    return staging


@jsii.implements(ILocalBundling)
class _LocalStaging:
    """CDK local bundling: stages a function (or, for ``None``, the layer) into the folder CDK gives
    (inside the cloud assembly)."""

    def __init__(self, name: str | None, data_files: Mapping[str, str] | None = None) -> None:
        self._name = name
        self._data_files = dict(data_files or {})

    def try_bundle(self, output_dir: str, *, image, **_options) -> bool:
        if self._name is None:
            stage_layer(output_dir)
        else:
            stage_function(self._name, output_dir, self._data_files)
        return True


def _local_bundling(name: str | None, data_files: Mapping[str, str] | None = None) -> BundlingOptions:
    # The image is never pulled: local bundling always succeeds (a failure raises), no Docker needed.
    return BundlingOptions(
        image=DockerImage.from_registry("local-bundling-only"), local=_LocalStaging(name, data_files)
    )


def function_code(name: str, data_files: Mapping[str, str] | None = None) -> lambda_.Code:
    """``lambda_.Code`` for ``lambda/<name>`` with the shared modules and ``data_files`` bundled
    (Powertools comes from :func:`powertools_layer`); the handler is ``handler.handler``. The asset
    hash is the output's, so other data is another asset (and a code update of the function)."""
    return lambda_.Code.from_asset(
        str(function_source_dir(name)),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=_local_bundling(name, data_files),
    )


POWERTOOLS_LAYER_ID = "PowertoolsLayer"


def powertools_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The stack's one Powertools layer (created on first use): every function of the stack shares it.

    A layer version is immutable; new content (another pinned Powertools) is a new version and the
    functions move to it in the same deploy. Deleting the stack deletes the layer version, which does
    not affect a function that still runs it (Lambda keeps the layer's copy for the functions that use
    it: Lambda Developer Guide, "Deleting a layer version").
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(POWERTOOLS_LAYER_ID)
    if existing is not None:
        return existing  # type: ignore[return-value]
    return lambda_.LayerVersion(
        stack, POWERTOOLS_LAYER_ID,
        # lambda/common only anchors the asset (CDK needs a source path); its content is stage_layer's.
        code=lambda_.Code.from_asset(
            str(common_source_dir()), asset_hash_type=AssetHashType.OUTPUT, bundling=_local_bundling(None)
        ),
        compatible_runtimes=[FUNCTION_RUNTIME],
        description=f"aws-lambda-powertools {_version('aws-lambda-powertools')} for the platform's functions",
    )


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)
