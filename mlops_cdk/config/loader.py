"""Reading ``config/*.yaml`` into validated models, with one error line per problem."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_core import ErrorDetails

from mlops_cdk._internal.errors import ConfigurationError
from mlops_cdk._internal.patterns import (
    MODEL_PACKAGE_VERSION_ARN,
    MODEL_PACKAGE_VERSION_ARN_MEANING,
)
from mlops_cdk._internal.registry import (
    ApprovedLookup,
    RegistryUnavailable,
    botocore_lookup,
    resolve_approved,
)
from mlops_cdk.config._fields import CONFIG_DIR, DELIVERY, PROMOTION_ORDER, package_group
from mlops_cdk.config.delivery import DeliverySettings
from mlops_cdk.config.environment import EnvironmentConfig


def with_approved_package(config: EnvironmentConfig, approved_arn: str | None) -> EnvironmentConfig:
    """``config`` serving ``approved_arn`` (``-c approved_model_package``) when its endpoint
    serves a package of that group; otherwise ``config`` unchanged (it keeps its pin)."""
    package = config.realtime_endpoint.model_package
    if not approved_arn or package is None:
        return config
    if re.fullmatch(MODEL_PACKAGE_VERSION_ARN, approved_arn) is None:
        raise ConfigurationError(
            f"-c approved_model_package: must be {MODEL_PACKAGE_VERSION_ARN_MEANING} "
            f"(got {approved_arn!r})"
        )
    if package_group(approved_arn).lower() != package.group.lower():
        return config
    data = config.model_dump(mode="json")
    data["realtime_endpoint"]["model_package"]["approved_arn"] = approved_arn
    try:
        updated = EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        problems = [_format(Path("-c approved_model_package"), d) for d in error.errors()]
        raise ConfigurationError("\n".join(problems)) from None
    return updated


# ``-c approved_model_package=latest``: ask the registry for the newest approved package.
LATEST_APPROVED = "latest"


def with_latest_approved_packages(
    configs: list[EnvironmentConfig],
    *,
    lookup: ApprovedLookup | None = None,
    note: Callable[[str], None] | None = None,
) -> list[EnvironmentConfig]:
    """``configs``, each endpoint that serves a registry package serving the newest approved
    package of its group (asked once per group of the registry its ``pinned_arn`` names, else
    of ``registry_account`` or the environment's own account), or its pin (or the demo model,
    when nothing is pinned) when the registry cannot be asked (see
    ``ModelPackage.latest_approved``, the same lookup)."""
    answers: dict[tuple[str, str], str | RegistryUnavailable | None] = {}

    def once(group: str, region: str) -> str | None:
        if (group, region) not in answers:
            try:
                answers[group, region] = (lookup or botocore_lookup)(group, region)
            except RegistryUnavailable as offline:
                answers[group, region] = offline
        answer = answers[group, region]
        if isinstance(answer, RegistryUnavailable):
            raise answer
        return answer

    updated = []
    for config in configs:
        package = config.realtime_endpoint.model_package
        if package is None:
            updated.append(config)
            continue
        account: str | None
        if package.pinned_arn is not None:
            region, account = package.pinned_arn.split(":")[3:5]
        elif config.region is not None:  # the registry account, in this environment's region
            region, account = config.region, package.registry_account or config.account
        else:
            updated.append(config)  # no region to ask in: the demo model
            continue
        arn = resolve_approved(
            f"{CONFIG_DIR / config.name}.yaml: realtime_endpoint.model_package",
            package.group,
            region=region,
            account=account,
            pinned=package.pinned_arn,
            lookup=once,
            note=note,
        )
        updated.append(with_approved_package(config, arn))
    return updated


def load_environment(
    name: str,
    *,
    config_dir: Path = CONFIG_DIR,
    environ: Mapping[str, str] | None = None,
) -> EnvironmentConfig:
    """Load and validate ``<config_dir>/<name>.yaml``.

    ``account`` and ``region`` left out of the file fall back to ``CDK_DEFAULT_ACCOUNT`` and
    ``CDK_DEFAULT_REGION`` from ``environ`` (the CDK CLI sets them from your credentials), so a
    developer can deploy dev into their own account without editing the file.
    """
    path = config_dir / f"{name}.yaml"
    if not path.is_file():
        available = ", ".join(available_environments(config_dir)) or "none"
        msg = f"{path}: no such environment file (environments in {config_dir}: {available})"
        raise ConfigurationError(msg)
    data = _read_yaml(path)
    env = os.environ if environ is None else environ
    data.setdefault("account", env.get("CDK_DEFAULT_ACCOUNT"))
    data.setdefault("region", env.get("CDK_DEFAULT_REGION"))
    try:
        config = EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        lines = [_format(path, detail) for detail in error.errors()]
        raise ConfigurationError("\n".join(lines)) from None
    problems = []
    if config.name != name:
        problems.append(f"{path}: name: must match the file name {name!r} (got {config.name!r})")
    for key, variable in (("account", "CDK_DEFAULT_ACCOUNT"), ("region", "CDK_DEFAULT_REGION")):
        if getattr(config, key) is None:
            problems.append(
                f"{path}: {key}: required; set it in the file or export {variable} "
                "(the CDK CLI sets it from your AWS credentials)"
            )
    if problems:
        raise ConfigurationError("\n".join(problems))
    return config


def available_environments(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Names of the environment files in ``config_dir``, in promotion order (dev, staging, prod,
    then any others alphabetically). ``delivery.yaml`` configures the pipeline, not an
    environment."""
    names = [p.stem for p in config_dir.glob("*.yaml") if p.stem != DELIVERY]
    rank = {name: index for index, name in enumerate(PROMOTION_ORDER)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def load_environments(
    names: Sequence[str] | None = None,
    *,
    config_dir: Path = CONFIG_DIR,
    environ: Mapping[str, str] | None = None,
) -> list[EnvironmentConfig]:
    """Load several environments (default: every file in ``config_dir``); all errors at once."""
    selected = list(names) if names else available_environments(config_dir)
    configs, problems = [], []
    for name in selected:
        try:
            configs.append(load_environment(name, config_dir=config_dir, environ=environ))
        except ConfigurationError as error:
            problems.append(str(error))
    problems += _unadmitted_serving_accounts(configs, config_dir)
    if problems:
        raise ConfigurationError("\n".join(problems))
    return configs


def _unadmitted_serving_accounts(
    configs: Sequence[EnvironmentConfig], config_dir: Path
) -> list[str]:
    """An environment that serves packages from another loaded environment's artifacts bucket
    must be listed in that environment's ``ml_pipeline.serving_accounts`` (or its reads fail at
    deploy time)."""
    problems = []
    by_bucket = {c.bucket_name("artifacts"): c for c in configs}
    for config in configs:
        package = config.realtime_endpoint.model_package
        if package is None or package.artifact_bucket is None:
            continue
        source = by_bucket.get(package.artifact_bucket)
        if source is None or source is config or config.account is None:
            continue
        if config.account not in source.ml_pipeline.serving_accounts:
            problems.append(
                f"{config_dir / source.name}.yaml: ml_pipeline.serving_accounts: must list "
                f"{config.account} ({config.name} serves packages from {package.artifact_bucket}"
                f" per its realtime_endpoint.model_package) (got "
                f"{list(source.ml_pipeline.serving_accounts)})"
            )
    return problems


def load_delivery(config_dir: Path = CONFIG_DIR) -> DeliverySettings | None:
    """The delivery pipeline settings from ``<config_dir>/delivery.yaml``, or ``None`` when the
    file does not exist (workstation-only use)."""
    path = config_dir / f"{DELIVERY}.yaml"
    if not path.is_file():
        return None
    try:
        return DeliverySettings.model_validate(_read_yaml(path))
    except ValidationError as error:
        lines = [_format(path, detail, DeliverySettings) for detail in error.errors()]
        raise ConfigurationError("\n".join(lines)) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ConfigurationError(f"duplicate key {key!r} on line {line}")
        seen.add(key)
    return dict(loader.construct_mapping(node))


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except ConfigurationError as error:
        raise ConfigurationError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: must be a mapping of keys to values (got {data!r})")
    return data


def _dotted(location: Sequence[int | str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: itself, or inside ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _section_model(argument)
        if found is not None:
            return found
    return None


def _allowed_keys(location: Sequence[int | str], root: type[BaseModel]) -> list[str]:
    model: type[BaseModel] | None = root
    for part in location[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _section_model(field.annotation) if field else None
        if model is None:
            return []
    return list(model.model_fields) if model else []


def _format(path: Path, detail: ErrorDetails, root: type[BaseModel] | None = None) -> str:
    location = list(detail["loc"])
    message = detail["msg"].removeprefix("Value error, ")
    if message.startswith("@"):
        dotted, _, rest = message[1:].partition(": ")
        return f"{path}: {dotted}: {rest}"
    where = _dotted(location)
    if detail["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(location, root or EnvironmentConfig))
        return f"{path}: {where}: unknown key (allowed keys here: {allowed})"
    if detail["type"] == "missing":
        return f"{path}: {where}: required key is missing"
    if detail["type"] == "enum":
        expected = detail.get("ctx", {}).get("expected", "")
        return f"{path}: {where}: must be one of {expected} (got {detail['input']!r})"
    if "(got " in message:
        return f"{path}: {where}: {message}"
    return f"{path}: {where}: {message} (got {detail['input']!r})"
