"""Regenerate the instance-type and region data the validators read, from botocore.

botocore is a test dependency, not a library one: the library reads the JSON files this script
writes into ``mlops_cdk/_internal/data/``, and ``tests/unit/internal/test_aws_data.py`` fails
when the installed botocore says something else (so a botocore bump that changes a list is
noticed and the files are regenerated on purpose).

- ``sagemaker-instance-types.json``: the instance-type enumerations of the SageMaker API per
  request field (CreateEndpointConfig ``ProductionVariantInstanceType``, CreateTransformJob
  ``TransformInstanceType``, CreateTrainingJob ``TrainingInstanceType``, CreateProcessingJob
  and monitoring schedules ``ProcessingInstanceType``).
- ``aws-regions.json``: every region of every partition in botocore's ``endpoints.json``.

Usage: ``python scripts/make_instance_types.py [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore
import botocore.loaders

DATA = Path(__file__).resolve().parent.parent / "mlops_cdk" / "_internal" / "data"
# API (as the validators name it) -> botocore sagemaker shape holding its enumeration.
SHAPES = {
    "endpoint": "ProductionVariantInstanceType",
    "transform": "TransformInstanceType",
    "training": "TrainingInstanceType",
    "processing": "ProcessingInstanceType",
}


def instance_types() -> dict[str, list[str]]:
    """API -> sorted instance types, as the installed botocore's sagemaker model lists them."""
    model = botocore.loaders.create_loader().load_service_model("sagemaker", "service-2")
    return {api: sorted(model["shapes"][shape]["enum"]) for api, shape in SHAPES.items()}


def regions() -> dict[str, list[str]]:
    """Partition -> sorted region codes from the installed botocore's endpoints.json."""
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return {p["partition"]: sorted(p["regions"]) for p in endpoints["partitions"]}


def documents(today: str) -> dict[str, dict[str, Any]]:
    """File name -> content, each recording the botocore version it came from."""
    source = f"botocore {botocore.__version__}"
    return {
        "sagemaker-instance-types.json": {
            "_source": f"{source}, sagemaker service model shapes "
            + ", ".join(f"{api}={shape}" for api, shape in SHAPES.items()),
            "_botocore": botocore.__version__,
            "_generated": today,
            "_regenerate": "python scripts/make_instance_types.py",
            "shapes": SHAPES,
            "instance_types": instance_types(),
        },
        "aws-regions.json": {
            "_source": f"{source}, data/endpoints.json partitions",
            "_botocore": botocore.__version__,
            "_generated": today,
            "_regenerate": "python scripts/make_instance_types.py",
            "regions": regions(),
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    today = datetime.now(UTC).date().isoformat()
    for name, content in documents(today).items():
        path = args.out / name
        path.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
