# Type checkers read this file: every public construct name, re-exported from the one list in
# mlops_cdk/constructs/__init__.pyi.
from mlops_cdk._internal.errors import ConfigurationError as ConfigurationError
from mlops_cdk._version import __version__ as __version__
from mlops_cdk.constructs import *  # noqa: F403
