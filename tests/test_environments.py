"""Environments: base + overlays merged before validation; prod's stricter defaults and its refusals."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from constructs_lib.errors import PlatformValidationError
from stacks.config import load_config, merged_config_data, parse_config
from stacks.config.environments import PROD_RULES, deep_merge, load_merged, override_report
from tests.conftest import REPO

CONFIGS = REPO / "configs"


def test_deep_merge_merges_mappings_and_replaces_lists_and_scalars():
    base = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "x": 1}
    overlay = {"a": {"c": [3], "d": {"f": 2}}, "x": None}
    assert deep_merge(base, overlay) == {"a": {"b": 1, "c": [3], "d": {"e": 1, "f": 2}}, "x": None}
    assert base == {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "x": 1}  # inputs untouched


def test_configs_hold_base_and_three_environments_each_in_its_own_account():
    assert {p.name for p in CONFIGS.glob("*.yaml")} >= {"base.yaml", "dev.yaml", "staging.yaml", "prod.yaml", "default.yaml"}
    accounts = {}
    for env in ("dev", "staging", "prod"):
        config = load_config(CONFIGS / f"{env}.yaml")
        assert config.platform.environment == env
        assert config.platform.region == "us-east-1"
        accounts[env] = config.platform.account
    assert accounts == {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


def test_overlay_keeps_base_keys_it_does_not_name():
    staging = merged_config_data(CONFIGS / "staging.yaml")
    base = yaml.safe_load((CONFIGS / "base.yaml").read_text())
    assert staging["endpoints"] == base["endpoints"]  # not in the overlay: the base's list
    assert staging["budgets"]["teams"] == base["budgets"]["teams"]  # mapping merged key by key
    assert staging["budgets"]["monthly_usd"] == 12000  # overlay scalar replaces


def test_merged_prod_is_stricter_than_base():
    base = load_config(CONFIGS / "base.yaml")
    prod = load_config(CONFIGS / "prod.yaml")
    chat_base, chat_prod = base.endpoints[0], prod.endpoints[0]
    assert (chat_base.instance_count, chat_prod.instance_count) == (1, 2)  # prod default: 2 instances
    assert chat_prod.deployment.rollback_alarms is True
    assert chat_prod.slo.availability_percent == 99.9
    assert (base.platform.termination_protection, prod.platform.termination_protection) == (None, True)


def _prod(**endpoint_changes):
    data = copy.deepcopy(merged_config_data(CONFIGS / "prod.yaml"))
    data["endpoints"][0].update(endpoint_changes)
    return data


@pytest.mark.parametrize(
    ("changes", "rule", "where"),
    [
        ({"instance_count": 1, "autoscaling": {"min": 1, "max": 4, "target_invocations_per_instance": 60}},
         "realtime-two-instances", "endpoints[0].instance_count"),
        ({"deployment": {"strategy": "canary", "rollback_alarms": False}}, "deployment-guardrails",
         "endpoints[0].deployment.rollback_alarms"),
        ({"deployment": None}, "deployment-guardrails", "endpoints[0].deployment"),
        ({"deployment": {"strategy": "canary", "rollback_signals": []}}, "deployment-guardrails",
         "endpoints[0].deployment.rollback_signals"),
        ({"slo": None}, "slo-customer-facing", "endpoints[0].slo"),
    ],
)
def test_prod_refuses_weakening_without_override_naming_the_rule(changes, rule, where):
    data = _prod(**changes)
    with pytest.raises(PlatformValidationError, match=re.escape(where) + f": got .*prod rule '{rule}'"):
        parse_config(data, source="prod.yaml")
    data["prod_overrides"] = [{"rule": rule, "reason": "accepted for the launch week"}]
    config = parse_config(data, source="prod.yaml")
    assert override_report(config) == [f"prod override '{rule}' ({PROD_RULES[rule]}): accepted for the launch week"]


def test_prod_refuses_switching_termination_protection_off():
    data = _prod()
    data["platform"]["termination_protection"] = False
    with pytest.raises(PlatformValidationError, match=r"platform.termination_protection: got False; prod rule 'termination-protection'"):
        parse_config(data)


def test_customer_facing_false_needs_no_slo_in_prod():
    config = parse_config(_prod(slo=None, customer_facing=False))
    assert config.endpoints[0].slo is None


def test_overrides_must_be_needed_known_and_only_in_prod():
    data = _prod()
    data["prod_overrides"] = [{"rule": "slo-customer-facing", "reason": "not actually broken"}]
    with pytest.raises(PlatformValidationError, match=r"prod_overrides\[0\].rule: got 'slo-customer-facing'; a rule this config breaks"):
        parse_config(data)
    data["prod_overrides"] = [{"rule": "no-such-rule", "reason": "unknown rule name"}]
    with pytest.raises(PlatformValidationError, match=r"prod_overrides\[0\].rule: got 'no-such-rule'; Input should be"):
        parse_config(data)
    data["prod_overrides"] = [{"rule": "slo-customer-facing", "reason": "short"}]
    with pytest.raises(PlatformValidationError, match=r"prod_overrides\[0\].reason: got 'short'; String should have at least 10"):
        parse_config(data)
    dev = yaml.safe_load((CONFIGS / "base.yaml").read_text())
    dev["prod_overrides"] = [{"rule": "slo-customer-facing", "reason": "meaningless in dev"}]
    with pytest.raises(PlatformValidationError, match=r"prod_overrides\[0\]: got 'slo-customer-facing'; prod_overrides only in a prod config"):
        parse_config(dev)


def test_extends_errors_are_config_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nplatform: {environment: dev}\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(PlatformValidationError, match=r"extends: got 'a.yaml'; a base that does not extend this file again \(a.yaml -> b.yaml -> a.yaml\)"):
        load_merged(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: missing.yaml\n")
    with pytest.raises(PlatformValidationError, match=r"\(file\): got '.*missing.yaml'; a readable YAML file"):
        load_merged(tmp_path / "c.yaml")
    (tmp_path / "d.yaml").write_text("extends: [base.yaml]\n")
    with pytest.raises(PlatformValidationError, match=r"extends: got \['base.yaml'\]; the path of the base config"):
        load_merged(tmp_path / "d.yaml")


def test_error_paths_in_an_overlay_are_those_of_the_merged_file(tmp_path):
    (tmp_path / "base.yaml").write_text((CONFIGS / "base.yaml").read_text())
    (tmp_path / "bad.yaml").write_text("extends: base.yaml\nbudgets: {monthly_usd: -1}\n")
    with pytest.raises(PlatformValidationError, match=r"budgets.monthly_usd: got -1; Input should be greater than 0"):
        load_config(tmp_path / "bad.yaml")


def test_make_config_prints_the_merged_prod_config(capsys, monkeypatch):
    """``make config`` runs ``python -m stacks.config.show``: its ``main``, called here in this process
    (a subprocess would pay a second jsii start, 5 CPU-s, to run the same function)."""
    from stacks.config.show import main

    monkeypatch.chdir(REPO)
    assert main(["configs/prod.yaml"]) == 0
    header, body = capsys.readouterr().out.split("\n", 1)
    assert header == "# configs/prod.yaml: merged with its base and the prod defaults; valid"
    printed = yaml.safe_load(body)
    assert printed == merged_config_data(CONFIGS / "prod.yaml")
    assert printed["platform"]["account"] == "333333333333" and printed["endpoints"][0]["instance_count"] == 2
