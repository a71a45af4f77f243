"""Fixtures for the Lambda handler tests (lambda/<name>/handler.py).

* AWS environment for moto (fake credentials, us-east-1), Powertools tracing disabled, a test
  metrics namespace: set for every test, BEFORE any handler module is imported.
* ``load_handler(name, **env)``: imports ``lambda/<name>/handler.py`` by file path under a unique
  module name (``lambda`` is a keyword, so the folder cannot be a package). Module-scope
  configuration is read at import, so a test sets its env through this loader and gets a fresh module.
* The asset layout is mirrored: ``lambda/common`` (``lambda_common.py``) is put on ``sys.path``, and
  ``sagemaker_events`` (and the model deployer's ``deploy_targets``) are registered from
  ``constructs_lib/`` by path, exactly as the bundler places them next to the handler in the asset
  (without importing the CDK library).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.metrics.metrics import Metrics
from botocore.config import Config
from botocore.stub import Stubber
from cryptography.hazmat.primitives.asymmetric import rsa
from lambda_testkit import ACCOUNT, COMMON_DIR, EVENTS_DIR, LAMBDA_DIR, REGION, REPO, TEST_ENV, UNSET_ENV
from moto import mock_aws
from moto.sns.models import Subscription

_counter = itertools.count()


def _register_shared_module(name: str) -> ModuleType:
    """``constructs_lib/<name>.py`` importable as ``<name>``, as the bundler places it in the asset."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "constructs_lib" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_register_shared_module("sagemaker_events")
_register_shared_module("deploy_targets")  # the model deployer's DEPLOY_TARGETS schema
_register_shared_module("job_alarm_requests")  # the training job alarms' JOB_ALARMS schema
if str(COMMON_DIR) not in sys.path:
    sys.path.insert(0, str(COMMON_DIR))


# --- test-run speed: what every test would otherwise rebuild ---------------------------------------
# Each test imports its handler afresh, and a handler creates its clients at import, as Lambda does once
# per execution environment: about 1,200 clients in this directory, 30 ms each (botocore builds the
# client class and its endpoint resolver every time), a third of these tests' CPU (profiled). Clients
# hold no state of moto's (its backends are reset per test; its request hook is process-wide), so a
# client is created once per service, region and settings and shared. A client that a test stubs with
# botocore's Stubber is not shared again (an active stubber would answer the next test's calls).
_CLIENTS: dict[tuple[Any, ...], Any] = {}
_create_client = boto3.client


def _settings(config: Config | None) -> tuple[tuple[str, str], ...] | None:
    return None if config is None else tuple(sorted((k, repr(v)) for k, v in config._user_provided_options.items()))


def _shared_client(service_name: str, region_name: str | None = None, *, config: Config | None = None, **other: Any):
    if other:  # endpoint_url, credentials, ...: not what handlers or these tests share
        return _create_client(service_name, region_name=region_name, config=config, **other)
    key = (service_name, region_name, os.environ.get("AWS_REGION"), os.environ.get("AWS_DEFAULT_REGION"), _settings(config))
    if key not in _CLIENTS:
        _CLIENTS[key] = _create_client(service_name, region_name=region_name, config=config)
    return _CLIENTS[key]


@pytest.fixture(autouse=True)
def shared_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    stubbed: list[Any] = []
    activate = Stubber.activate

    def activate_and_remember(self: Stubber) -> None:
        stubbed.append(self.client)
        activate(self)

    monkeypatch.setattr(boto3, "client", _shared_client)
    monkeypatch.setattr(Stubber, "activate", activate_and_remember)
    yield
    for key in [k for k, c in _CLIENTS.items() if any(c is s for s in stubbed)]:
        del _CLIENTS[key]


# moto signs every message it delivers from a topic to a subscribed queue with an RSA key it generates
# per subscription (moto.sns.models.Subscription.private_key): 2048-bit, about 100 ms each, 78 times in
# this directory. Nothing here checks those signatures: one key serves every subscription.
_SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
Subscription.private_key = lambda self: _SIGNING_KEY  # type: ignore[method-assign]


def _apply_test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in UNSET_ENV:
        monkeypatch.delenv(name, raising=False)
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _apply_test_env(monkeypatch)


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    """Powertools keeps metrics in class attributes shared by every Metrics instance; a plain function
    called outside ``log_metrics`` would leave its metrics for the next test's flush."""
    Metrics._metrics.clear()
    Metrics._metadata.clear()
    yield
    Metrics._metrics.clear()
    Metrics._metadata.clear()


@pytest.fixture
def aws() -> Iterator[None]:
    """Everything inside runs against moto (fresh backends per test).

    boto3's default session is kept across tests (moto would reset it): its loader caches the
    service models, so creating the handlers' clients stays cheap (the SageMaker model is large).
    """
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield


@dataclass
class FakeLambdaContext:
    function_name: str = "aiplatform-test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:aiplatform-test-function"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/aiplatform-test-function"
    log_stream_name: str = "2026/11/28/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now: pytest swaps it between setup, call and capsys."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _reset_powertools_logger(service: str) -> None:
    """Powertools configures a service's std logger once per process (handler bound to the
    ``sys.stdout`` of that moment): forget it so that each fresh module configures its own."""
    std = logging.getLogger(service)
    std.handlers.clear()
    for attr in ("init", "powertools_handler", "powertools_buffer_config", "powertools_buffer_cache"):
        if hasattr(std, attr):
            delattr(std, attr)


def _follow_stdout(service: str) -> None:
    for handler in logging.getLogger(service).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_CurrentStdout())  # type: ignore[arg-type]


def _import_handler(name: str) -> ModuleType:
    """Import ``lambda/<name>/handler.py`` under a new module name (configuration is read now)."""
    path = LAMBDA_DIR / name / "handler.py"
    module_name = f"lambda_{name}_handler_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    _reset_powertools_logger(name.replace("_", "-"))
    sys.modules[module_name] = module  # kept: dataclasses and inspect look classes up by module name
    spec.loader.exec_module(module)
    _follow_stdout(name.replace("_", "-"))
    return module


@pytest.fixture
def load_handler(monkeypatch: pytest.MonkeyPatch) -> Callable[..., ModuleType]:
    """``load_handler("endpoint_notifier", TOPIC_ARN=...)`` -> a freshly imported handler module."""

    def load(name: str, **env: str | None) -> ModuleType:
        for key, value in env.items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        return _import_handler(name)

    return load


@pytest.fixture(scope="session")
def pure_handlers() -> dict[str, ModuleType]:
    """Every handler imported once with no configuration, for tests of pure functions only (its module
    clients are not mocked: inject fakes if a test needs one)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _apply_test_env(monkeypatch)
        return {
            p.parent.name: _import_handler(p.parent.name) for p in sorted(LAMBDA_DIR.glob("*/handler.py"))
        }


def load_event(file_name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / file_name).read_text())


@pytest.fixture
def event() -> Callable[[str], dict[str, Any]]:
    """``event("endpoint-failed.json")`` -> a fresh copy of a sample event."""
    return load_event
