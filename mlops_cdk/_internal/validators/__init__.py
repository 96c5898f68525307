"""Shared validators, one module per kind of value, used by config loading and every construct.

Each validator is free of CDK imports (configuration is checked without starting jsii) and
returns a *problem*: what the value must be, phrased to follow "must be", or ``None`` when the
value is fine. Callers turn a problem into their own error: ``Checker.fail(keyword, problem,
value)`` in constructs (``<path>: <keyword> must be <problem> (got <value>)``), ``ValueError(f"must
be {problem}")`` in config. Constructs skip unresolved tokens before calling (``is_unresolved``).

- :mod:`.schedules`: cron/rate/at expressions, EventBridge Scheduler and EventBridge rules.
- :mod:`.time_zones`: IANA time zone names.
- :mod:`.images`: ECR image URIs, their region, AWS-owned SageMaker registries.
- :mod:`.s3`: S3 keys, key prefixes and s3:// URIs.
- :mod:`.environment`: container environment variable names per API.
- :mod:`.arns`: ARNs by service and resource type.
- :mod:`.instance_types`: SageMaker instance types per API, EC2 capacities of GPU instances.
- :mod:`.regions`: AWS region codes.
- :mod:`.ecs_deployments`: ECS deployment strategies, bake and step times, traffic percentages.
"""
