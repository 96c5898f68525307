"""mlops-cdk: AWS CDK constructs for deploying and operating machine-learning models.

Importing this package is cheap: the constructs (and with them aws-cdk-lib) load on first use,
so ``mlops_cdk.config`` and ``mlops_cdk.runtime`` stay light. The public names are
``mlops_cdk.constructs.__all__`` (listed once, in ``constructs/__init__.pyi``) plus
:class:`ConfigurationError` and ``__version__``.
"""

from typing import Any

from mlops_cdk import constructs as _constructs
from mlops_cdk._internal.errors import ConfigurationError
from mlops_cdk._version import __version__

__all__ = ["ConfigurationError", "__version__", *_constructs.__all__]


def __getattr__(name: str) -> Any:
    if name in _constructs.__all__:
        return getattr(_constructs, name)
    raise AttributeError(f"module 'mlops_cdk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
