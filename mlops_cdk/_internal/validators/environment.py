"""Container environment variable names, per the API that receives them.

- ``sagemaker``: CreateModel / CreateTransformJob / CreateTrainingJob / CreateProcessingJob
  ``Environment`` keys, pattern ``[a-zA-Z_][a-zA-Z0-9_]{0,1023}`` (SageMaker API reference,
  e.g. ContainerDefinition.Environment, read 2026-12).
- ``lambda``: Lambda ``Environment.Variables`` keys, pattern ``[a-zA-Z]([a-zA-Z0-9_])+`` (so at
  least two characters; Lambda API reference, Environment), and the runtime's reserved names
  ("Defined runtime environment variables",
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-runtime.html), which a
  function cannot set.
- ``ecs``: RegisterTaskDefinition ``environment`` names have no documented pattern; the
  SageMaker pattern (a portable shell name) is applied.
"""

from __future__ import annotations

import re
from typing import Literal

EnvironmentApi = Literal["sagemaker", "lambda", "ecs"]

_NAME = {
    "sagemaker": re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,1023}"),
    "lambda": re.compile(r"[a-zA-Z][a-zA-Z0-9_]+"),
    "ecs": re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,1023}"),
}
_MEANING = {
    "sagemaker": "a name of letters, digits and _ not starting with a digit, at most 1024 "
    "characters (SageMaker's [a-zA-Z_][a-zA-Z0-9_]{0,1023})",
    "lambda": "a name of at least 2 letters, digits and _ starting with a letter "
    "(Lambda's [a-zA-Z][a-zA-Z0-9_]+)",
    "ecs": "a name of letters, digits and _ not starting with a digit",
}
# Lambda's reserved runtime variables: a function configuration that sets one is rejected.
LAMBDA_RESERVED = (
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
)


def environment_name_problem(name: str, *, api: EnvironmentApi) -> str | None:
    """What an environment variable name must be for ``api`` (after "must be"), or ``None``."""
    if not isinstance(name, str) or _NAME[api].fullmatch(name) is None:
        return _MEANING[api]
    if api == "lambda" and name in LAMBDA_RESERVED:
        return (
            "a name other than Lambda's reserved runtime variables ("
            + ", ".join(LAMBDA_RESERVED)
            + ")"
        )
    return None
