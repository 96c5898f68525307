"""Environment configuration: the checked-in files load, and bad files fail with one precise
line naming the file, the dotted path, what is allowed and what was given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk.config import (
    EnvironmentConfig,
    RemovalPolicy,
    available_environments,
    load_delivery,
    load_environment,
    load_environments,
)
from tests.helpers.config import VALID, with_changes, write_config
from tests.helpers.paths import CONFIG_DIR


def test_checked_in_environments_load_in_promotion_order(
    environment_configs: list[EnvironmentConfig],
) -> None:
    assert [c.name for c in environment_configs] == ["dev", "staging", "prod"]
    assert available_environments(CONFIG_DIR) == ["dev", "staging", "prod"]


def test_prod_retains_data_and_dev_does_not(environment_configs: list[EnvironmentConfig]) -> None:
    by_name = {c.name: c for c in environment_configs}
    assert by_name["prod"].removal_policy is RemovalPolicy.RETAIN
    assert by_name["staging"].removal_policy is RemovalPolicy.RETAIN
    assert by_name["dev"].removal_policy is RemovalPolicy.DESTROY


def test_every_environment_has_its_own_network_and_no_nat_by_default(
    environment_configs: list[EnvironmentConfig],
) -> None:
    cidrs = {c.network.cidr for c in environment_configs}
    assert len(cidrs) == len(environment_configs)
    assert all(c.network.nat_gateways == 0 for c in environment_configs)


def test_minimal_file_gets_documented_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, "qa", VALID)
    config = load_environment("qa", config_dir=tmp_path, environ={})
    assert config.project == "mlops"
    assert config.stage_name == "mlops-qa"
    assert config.stack_name("Data") == "mlops-qa-data"
    assert config.network.nat_gateways == 0
    assert config.network.interface_endpoints is False
    assert config.log_retention_days == 365
    assert config.realtime_endpoint.enabled is False


def test_account_and_region_fall_back_to_the_cdk_cli_environment(tmp_path: Path) -> None:
    write_config(tmp_path, "qa", with_changes(account=None, region=None))
    environ = {"CDK_DEFAULT_ACCOUNT": "555555555555", "CDK_DEFAULT_REGION": "eu-west-1"}
    config = load_environment("qa", config_dir=tmp_path, environ=environ)
    assert (config.account, config.region) == ("555555555555", "eu-west-1")


def test_values_in_the_file_win_over_the_cli_environment(tmp_path: Path) -> None:
    write_config(tmp_path, "qa", VALID)
    environ = {"CDK_DEFAULT_ACCOUNT": "555555555555", "CDK_DEFAULT_REGION": "us-east-1"}
    config = load_environment("qa", config_dir=tmp_path, environ=environ)
    assert (config.account, config.region) == ("444444444444", "eu-west-1")


INVALID_CASES = [
    pytest.param(
        with_changes(name="prod", removal_policy="destroy"),
        "prod",
        r"prod\.yaml: removal_policy: must be 'retain' in prod.*\(got 'destroy'\)$",
        id="prod-must-retain",
    ),
    pytest.param(
        with_changes(removal_policy="delete"),
        "qa",
        r"qa\.yaml: removal_policy: must be one of 'retain' or 'destroy' \(got 'delete'\)$",
        id="removal-policy-enum",
    ),
    pytest.param(
        with_changes(nat_gatways=1),
        "qa",
        r"qa\.yaml: nat_gatways: unknown key \(allowed keys here: name, project, account,",
        id="unknown-top-level-key",
    ),
    pytest.param(
        with_changes(network={"availability_zones": ["eu-west-1a"], "nat_gatways": 1}),
        "qa",
        r"qa\.yaml: network\.nat_gatways: unknown key \(allowed keys here: cidr, "
        r"availability_zones, nat_gateways, interface_endpoints, interface_endpoint_zones, "
        r"flow_log_retention_days\)$",
        id="unknown-nested-key",
    ),
    pytest.param(
        with_changes(account="12345"),
        "qa",
        r"qa\.yaml: account: must be a 12-digit AWS account ID in quotes \(got '12345'\)$",
        id="malformed-account",
    ),
    pytest.param(
        with_changes(account=123456789012),
        "qa",
        r"qa\.yaml: account: must be a 12-digit AWS account ID in quotes: YAML read the "
        r"unquoted value as the number 123456789012 .*quote it: '123456789012' "
        r"\(got 123456789012\)$",
        id="account-not-quoted",
    ),
    pytest.param(
        with_changes(region="Europe"),
        "qa",
        r"qa\.yaml: region: must be an AWS region code <area>-<direction>-<number> such as "
        r"eu-west-1, one botocore [\d.]+ knows \(got 'Europe'\)$",
        id="malformed-region",
    ),
    pytest.param(
        with_changes(network={"availability_zones": ["us-east-1a"]}),
        "qa",
        r"qa\.yaml: network\.availability_zones\[0\]: must be a zone of region eu-west-1, "
        r"such as eu-west-1a \(got 'us-east-1a'\)$",
        id="zone-outside-region",
    ),
    pytest.param(
        with_changes(network={"availability_zones": ["eu-west-1a"], "nat_gateways": 2}),
        "qa",
        r"qa\.yaml: network: .*nat_gateways must be at most the number of availability_zones "
        r"\(1\) \(got 2\)",
        id="more-nat-than-zones",
    ),
    pytest.param(
        with_changes(network={"availability_zones": ["eu-west-1a"], "cidr": "10.0.0.0/8"}),
        "qa",
        r"qa\.yaml: network\.cidr: must be a private IPv4 block between /16 and /24 .*"
        r"\(got '10\.0\.0\.0/8'\)$",
        id="cidr-too-large",
    ),
    pytest.param(
        with_changes(log_retention_days=45),
        "qa",
        r"qa\.yaml: log_retention_days: must be a CloudWatch Logs retention period: one of 1, "
        r"3, .* 3653 \(got 45\)$",
        id="retention-not-allowed",
    ),
    pytest.param(
        with_changes(alarms={"email": "oncall"}),
        "qa",
        r"qa\.yaml: alarms\.email: must be an e-mail address \(got 'oncall'\)$",
        id="bad-email",
    ),
    pytest.param(
        with_changes(alarms={"existing_topic_arn": "alarms"}),
        "qa",
        r"qa\.yaml: alarms\.existing_topic_arn: must be an sns topic ARN "
        r"arn:aws:sns:<region>:<account>:<topic-name>, not a name or ID \(got 'alarms'\)$",
        id="topic-name-not-arn",
    ),
    pytest.param(
        with_changes(alarms={"existing_topic_arn": "arn:aws:sns:eu-west-1:444444444444:alarms/x"}),
        "qa",
        r"qa\.yaml: alarms\.existing_topic_arn: must be an sns topic ARN .*\(the resource part "
        r"'alarms/x' is not one\)",
        id="topic-name-with-slash",
    ),
    pytest.param(
        with_changes(
            alarms={
                "email": "a@example.com",
                "existing_topic_arn": "arn:aws:sns:eu-west-1:444444444444:alarms",
            }
        ),
        "qa",
        r"qa\.yaml: alarms: .*give either email .* or existing_topic_arn, not both",
        id="two-alarm-destinations",
    ),
    pytest.param(
        with_changes(tags={"owner": "ml-platform"}),
        "qa",
        r"qa\.yaml: tags\.cost_centre: required key is missing$",
        id="missing-cost-centre",
    ),
    pytest.param(
        with_changes(name="dev"),
        "qa",
        r"qa\.yaml: name: must match the file name 'qa' \(got 'dev'\)$",
        id="name-differs-from-file",
    ),
    pytest.param(
        with_changes(account=None),
        "qa",
        r"qa\.yaml: account: required; set it in the file or export CDK_DEFAULT_ACCOUNT",
        id="no-account-anywhere",
    ),
    pytest.param(
        with_changes(realtime_endpoint={"enabled": "sometimes"}),
        "qa",
        r"qa\.yaml: realtime_endpoint\.enabled: Input should be a valid boolean.*"
        r"\(got 'sometimes'\)$",
        id="section-enabled-not-boolean",
    ),
    pytest.param(
        with_changes(project="machinelearning", name="qa-environment"),
        "qa-environment",
        r"qa-environment\.yaml: project: must be short enough that bucket names fit in 63 "
        r"characters \(with name 'qa-environment' the longest is "
        r"'machinelearning-qa-environment-batch-output-444444444444-eu-west-1', 66 characters\) "
        r"\(got 'machinelearning'\)$",
        id="bucket-names-too-long",
    ),
    pytest.param(
        with_changes(realtime_endpoint={"enabled": True, "data_capture_percent": 10}),
        "qa",
        r"qa\.yaml: realtime_endpoint\.data_capture_percent: must be left out when mode is "
        r"serverless \(it needs instances\) \(got 10\)$",
        id="serverless-with-capture",
    ),
    pytest.param(
        with_changes(realtime_endpoint={"mode": "instance", "instance_type": "m5.large"}),
        "qa",
        r"qa\.yaml: realtime_endpoint\.instance_type: must be an instance type "
        r"CreateEndpointConfig accepts \(ml\.<family>\.<size>, families c4, .*\) "
        r"\(did you mean 'ml\.m5\.large'\?\) \(got 'm5\.large'\)$",
        id="instance-type-without-ml-prefix",
    ),
    pytest.param(
        "name: qa\nname: qa\n",
        "qa",
        r"qa\.yaml: duplicate key 'name' on line 2$",
        id="duplicate-key",
    ),
    pytest.param(
        "- just\n- a list\n",
        "qa",
        r"qa\.yaml: must be a mapping of keys to values",
        id="not-a-mapping",
    ),
]


@pytest.mark.parametrize(("data", "name", "message"), INVALID_CASES)
def test_invalid_file_fails_with_a_precise_message(
    tmp_path: Path, data: object, name: str, message: str
) -> None:
    write_config(tmp_path, name, data)
    with pytest.raises(ConfigurationError) as error:
        load_environment(name, config_dir=tmp_path, environ={})
    lines = str(error.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(str(tmp_path / f"{name}.yaml") + ": ")
    assert re.search(message, lines[0]), lines[0]


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    write_config(tmp_path, "qa", with_changes(account="1", region="x", log_retention_days=2))
    with pytest.raises(ConfigurationError) as error:
        load_environment("qa", config_dir=tmp_path, environ={})
    reported = [line.split(": ")[1] for line in str(error.value).splitlines()]
    assert reported == ["account", "region", "log_retention_days"]


def test_unknown_environment_lists_the_ones_that_exist() -> None:
    with pytest.raises(ConfigurationError, match=r"no such environment file .*dev, staging, prod"):
        load_environment("qa", config_dir=CONFIG_DIR, environ={})


def test_selecting_environments_loads_only_those() -> None:
    configs = load_environments(["prod"], config_dir=CONFIG_DIR, environ={})
    assert [c.name for c in configs] == ["prod"]


DELIVERY = {
    "account": "444444444444",
    "region": "eu-west-1",
    "connection_arn": "arn:aws:codeconnections:eu-west-1:444444444444:connection/"
    "11111111-2222-3333-4444-555555555555",
    "repository": "acme/mlops-cdk",
}


def test_no_delivery_file_means_no_pipeline(tmp_path: Path) -> None:
    assert load_delivery(tmp_path) is None


def test_delivery_file_is_not_an_environment(tmp_path: Path) -> None:
    write_config(tmp_path, "qa", VALID)
    write_config(tmp_path, "delivery", DELIVERY)
    assert available_environments(tmp_path) == ["qa"]
    settings = load_delivery(tmp_path)
    assert settings is not None
    assert (settings.branch, settings.environments) == ("main", ["dev", "staging", "prod"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"connection_arn": "arn:aws:codestar:eu-west-1:1:connection/x"},
            r"delivery\.yaml: connection_arn: must be a codeconnections or codestar-connections "
            r"connection ARN arn:aws:codeconnections:<region>:<account>:connection/<uuid> "
            r"\(got 'arn:aws:codestar:eu-west-1:1:connection/x'\)$",
        ),
        (
            {
                "connection_arn": "arn:aws:codeconnections:eu-west-1:444444444444:connection/"
                + "-" * 36
            },
            r"delivery\.yaml: connection_arn: must be a codeconnections or codestar-connections "
            r"connection ARN .*\(the resource part 'connection/-{36}' is not one\)",
        ),
        (
            {"repository": "mlops-cdk"},
            r"delivery\.yaml: repository: must be owner/repository \(got 'mlops-cdk'\)$",
        ),
        (
            {"stages": ["dev"]},
            r"delivery\.yaml: stages: unknown key \(allowed keys here: project, account, region, "
            r"connection_arn, repository, branch, environments, notification_email, "
            r"model_registry_account, "
            r"model_package_group\)$",
        ),
        (
            {"model_package_group": "churn_models"},
            r"delivery\.yaml: model_package_group: must be a model package group name",
        ),
    ],
    ids=[
        "codestar-connection-arn",
        "connection-id-not-a-uuid",
        "repository-without-owner",
        "unknown-key",
        "bad-group-name",
    ],
)
def test_invalid_delivery_file_fails_precisely(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    write_config(tmp_path, "delivery", {**DELIVERY, **changes})
    with pytest.raises(ConfigurationError, match=message):
        load_delivery(tmp_path)


def test_an_environment_serving_another_one_s_packages_must_be_admitted_by_it(
    tmp_path: Path,
) -> None:
    import shutil

    from mlops_cdk.config import load_environments
    from tests.helpers.paths import CONFIG_DIR

    for name in ("staging", "prod"):
        shutil.copy(CONFIG_DIR / f"{name}.yaml", tmp_path / f"{name}.yaml")
    assert [c.name for c in load_environments(config_dir=tmp_path, environ={})] == [
        "staging",
        "prod",
    ]
    staging = tmp_path / "staging.yaml"
    text = staging.read_text(encoding="utf-8")
    planted = text.replace('serving_accounts: ["333333333333"]', "serving_accounts: []")
    assert planted != text, "the planted change no longer applies: update the test"
    staging.write_text(planted, encoding="utf-8")
    with pytest.raises(
        ConfigurationError,
        match=r"staging\.yaml: ml_pipeline\.serving_accounts: must list 333333333333 \(prod "
        r"serves packages from mlops-staging-artifacts-222222222222-eu-west-1 .*\(got \[\]\)",
    ):
        load_environments(config_dir=tmp_path, environ={})
