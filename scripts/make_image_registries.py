"""Regenerate ``mlops_cdk/_internal/data/sagemaker-image-registries.json``: which AWS accounts
host SageMaker's own images (built-in algorithms, framework and deep-learning containers, Model
Monitor, Clarify) in which region; and ``sagemaker-framework-images.json``: for the inference
images the docs use (``FRAMEWORKS``), each version's repository, processors, Python versions,
tag parts and per-region registry accounts, which ``ContainerImage.aws_image`` turns into URIs
the way the SDK's ``image_uris.retrieve`` does.

Source: the ``image_uri_config/*.json`` files the SageMaker Python SDK publishes (in the
``sagemaker-core`` package, ``sagemaker/core/image_uri_config/``; before v3 in
``sagemaker/image_uri_config/``). Every ``"registries": {region: account}`` map in them is
collected. The SDK is not a dependency (it pulls in boto3 and more), so point this script at an
installed copy or a checkout:

    pip download --no-deps sagemaker-core && unzip -q sagemaker_core-*.whl -d /tmp/smc
    python scripts/make_image_registries.py /tmp/smc/sagemaker/core/image_uri_config \
        --source "sagemaker-core 2.27.0"
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Inference images ContainerImage.aws_image offers: those whose tag the SDK builds with the
# common rule (tag prefix or version, processor, Python version, container version).
FRAMEWORKS = ("sklearn", "xgboost", "pytorch", "tensorflow", "huggingface-llm", "djl-lmi")
_VERSION_KEYS = ("repository", "processors", "py_versions", "tag_prefix", "container_version")
OUT = (
    Path(__file__).resolve().parent.parent
    / "mlops_cdk"
    / "_internal"
    / "data"
    / "sagemaker-image-registries.json"
)


def registries(node: Any) -> Iterator[dict[str, str]]:
    """Every ``registries`` map anywhere in a loaded image_uri_config document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "registries" and isinstance(value, dict):
                yield value
            else:
                yield from registries(value)
    elif isinstance(node, list):
        for item in node:
            yield from registries(item)


def collect(config_dir: Path) -> dict[str, list[str]]:
    """Region -> sorted AWS-owned registry accounts, over every config file."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted(config_dir.glob("*.json")):
        for mapping in registries(json.loads(path.read_text(encoding="utf-8"))):
            for region, account in mapping.items():
                found[region].add(account)
    return {region: sorted(found[region]) for region in sorted(found)}


def frameworks(config_dir: Path) -> dict[str, Any]:
    """The inference scope of each of ``FRAMEWORKS``: aliases, scope-level processors and per
    version the tag parts and a reference into a table of distinct registries maps."""
    tables: list[dict[str, str]] = []
    out: dict[str, Any] = {}
    for name in FRAMEWORKS:
        document = json.loads((config_dir / f"{name}.json").read_text(encoding="utf-8"))
        scope = document.get("inference", document)
        versions: dict[str, Any] = {}
        for version, config in scope["versions"].items():
            entry = {k: config[k] for k in _VERSION_KEYS if k in config}
            if config.get("processor_in_tag") is False:
                entry["processor_in_tag"] = False
            registries = dict(sorted(config["registries"].items()))
            if registries not in tables:
                tables.append(registries)
            entry["registries"] = tables.index(registries)
            versions[version] = entry
        out[name] = {
            "aliases": {k: v for k, v in scope.get("version_aliases", {}).items() if k != "latest"},
            "processors": scope.get("processors"),
            "versions": versions,
        }
    return {"frameworks": out, "registries": tables}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config_dir", type=Path, help="an image_uri_config directory")
    parser.add_argument("--source", required=True, help="what config_dir is, with its version")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    accounts = collect(args.config_dir)
    document = {
        "_source": f"{args.source}: every registries map in image_uri_config/*.json "
        f"({len(list(args.config_dir.glob('*.json')))} files)",
        "_generated": datetime.now(UTC).date().isoformat(),
        "_regenerate": "python scripts/make_image_registries.py <image_uri_config dir> "
        "--source '<package> <version>'",
        "accounts": accounts,
    }
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(accounts)} regions")
    images = {
        "_source": f"{args.source}: image_uri_config/<framework>.json, inference scope",
        "_generated": document["_generated"],
        "_regenerate": document["_regenerate"],
        **frameworks(args.config_dir),
    }
    framework_out = args.out.with_name("sagemaker-framework-images.json")
    framework_out.write_text(json.dumps(images, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {framework_out}: {', '.join(FRAMEWORKS)}")


if __name__ == "__main__":
    main()
