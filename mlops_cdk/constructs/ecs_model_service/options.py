"""Option groups of :class:`~mlops_cdk.constructs.EcsModelService`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration

from mlops_cdk._internal.alarms import check_latency
from mlops_cdk._internal.patterns import LatencyPercentile
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk._internal.validators import ecs_deployments as deployments

# ECS container health checks (RegisterTaskDefinition HealthCheck): start period 0-300 s.
MAX_CONTAINER_START_PERIOD = 300
ONE_SECOND, FIVE_SECONDS, FIFTEEN_SECONDS, THIRTY_SECONDS = (
    Duration.seconds(1),
    Duration.seconds(5),
    Duration.seconds(15),
    Duration.seconds(30),
)
ONE_MINUTE, FIVE_MINUTES = Duration.minutes(1), Duration.minutes(5)


@dataclass(frozen=True, kw_only=True)
class ServiceAutoScaling:
    """Target tracking on CPU and on load-balancer requests per task.

    Example: ``ServiceAutoScaling(min_capacity=2, max_capacity=8, requests_per_target=600)``.

    :param min_capacity: fewest tasks. At least 1: a load-balanced model service with no task
        answers 503. Default: none (required).
    :param max_capacity: most tasks. Default: none (required).
    :param target_cpu_percent: average CPU of the service to hold. Default: 60 %, which leaves
        room for a burst while new tasks download and load the model.
    :param requests_per_target: ALB ``RequestCountPerTarget`` (requests per task per minute) to
        hold, or ``None`` to scale on CPU only. Default: 1000.
    :param scale_in_cooldown: Default: 5 minutes (model start-up is slow; do not flap).
    :param scale_out_cooldown: Default: 1 minute.
    """

    min_capacity: int
    max_capacity: int
    target_cpu_percent: float = 60.0
    requests_per_target: int | None = 1000
    scale_in_cooldown: Duration = FIVE_MINUTES
    scale_out_cooldown: Duration = ONE_MINUTE

    def __post_init__(self) -> None:
        check = Checker("ServiceAutoScaling")
        check.at_least("min_capacity", self.min_capacity, 1)
        check.require(
            self.max_capacity >= self.min_capacity,
            "max_capacity",
            f"at least min_capacity ({self.min_capacity})",
            self.max_capacity,
        )
        check.in_range("target_cpu_percent", self.target_cpu_percent, 10, 90, "%")
        check.positive("requests_per_target", self.requests_per_target)
        for keyword in ("scale_in_cooldown", "scale_out_cooldown"):
            check.in_range(keyword, getattr(self, keyword).to_seconds(), 0, 3600, "seconds")


@dataclass(frozen=True, kw_only=True)
class ServiceHealthCheck:
    """How the load balancer and ECS decide that a task serves.

    The target group polls ``path``; a task receives traffic after ``healthy_threshold_count``
    successes in a row and is taken out after ``unhealthy_threshold_count`` failures. The
    container health check runs ``container_command`` inside the task; ECS replaces a task whose
    check fails ``container_retries`` times after the start period (the service's grace period,
    at most 300 s), which covers the model download and load.

    :param path: Default: ``/ping`` (200 once the model is loaded, 503 before).
    :param interval: target-group check interval, 5-300 s. Default: 15 s.
    :param timeout: 2-120 s and shorter than ``interval``. Default: 5 s.
    :param healthy_threshold_count: 2-10. Default: 2 (in service 30 s after the model loads).
    :param unhealthy_threshold_count: 2-10. Default: 3 (out of service after 45 s of failures).
    :param container_command: the container check, ``("CMD", ...)`` or ``("CMD-SHELL", ...)``,
        or ``None`` for none. Default: empty, meaning a Python one-liner that GETs ``path`` on
        the server's ``PORT`` (the reference server's image has Python and no curl); images
        without Python need their own command.
    :param container_interval: 5-300 s. Default: 30 s.
    :param container_timeout: 2-60 s. Default: 5 s.
    :param container_retries: 1-10. Default: 3.
    """

    path: str = "/ping"
    interval: Duration = FIFTEEN_SECONDS
    timeout: Duration = FIVE_SECONDS
    healthy_threshold_count: int = 2
    unhealthy_threshold_count: int = 3
    container_command: Sequence[str] | None = ()
    container_interval: Duration = THIRTY_SECONDS
    container_timeout: Duration = FIVE_SECONDS
    container_retries: int = 3

    def __post_init__(self) -> None:
        check = Checker("ServiceHealthCheck")
        check.matches(
            "path", self.path, r"/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]{0,1023}", "a path starting with /"
        )
        interval, timeout = self.interval.to_seconds(), self.timeout.to_seconds()
        check.in_range("interval", interval, 5, 300, "seconds")
        check.in_range("timeout", timeout, 2, 120, "seconds")
        check.require(
            timeout < interval, "timeout", f"shorter than interval ({interval:g} s)", timeout
        )
        for keyword in ("healthy_threshold_count", "unhealthy_threshold_count"):
            check.in_range(keyword, getattr(self, keyword), 2, 10)
        if self.container_command is not None and len(self.container_command) > 0:
            check.one_of("container_command[0]", self.container_command[0], ["CMD", "CMD-SHELL"])
        check.in_range(
            "container_interval", self.container_interval.to_seconds(), 5, 300, "seconds"
        )
        check.in_range("container_timeout", self.container_timeout.to_seconds(), 2, 60, "seconds")
        check.in_range("container_retries", self.container_retries, 1, 10)

    @property
    def time_to_healthy(self) -> float:
        """Seconds the load balancer needs, at least, to put a started task in service."""
        return self.healthy_threshold_count * self.interval.to_seconds()


@dataclass(frozen=True, kw_only=True)
class ServiceAlarms:
    """Alarm thresholds. Every alarm notifies the service's alarm topic.

    Example (p95 response time above 200 ms): ``ServiceAlarms(latency_percentile="p95",
    latency=Duration.millis(200))``.

    :param error_5xx_rate_percent: target 5XX responses per request. Default: 1 %.
    :param latency: ``TargetResponseTime`` at ``latency_percentile`` that fires the latency
        alarm. Default: 1 second.
    :param latency_percentile: ``p50``, ``p90``, ``p95`` or ``p99``. Default: ``p99``.
    :param latency_p99: the older name of ``latency`` (p99 only). Default: none.
    :param cpu_percent: service average CPU. Default: 90 %.
    :param memory_percent: service average memory. Default: 90 %.
    :param period: evaluation period. Default: 1 minute (3 of 5 periods fire an alarm).
    """

    error_5xx_rate_percent: float = 1.0
    latency: Duration | None = None
    latency_percentile: LatencyPercentile = "p99"
    latency_p99: Duration | None = None
    cpu_percent: float = 90.0
    memory_percent: float = 90.0
    period: Duration = ONE_MINUTE

    def __post_init__(self) -> None:
        check = Checker("ServiceAlarms")
        check.in_range("error_5xx_rate_percent", self.error_5xx_rate_percent, 0.01, 100, "%")
        check_latency(
            check,
            latency=self.latency,
            latency_p99=self.latency_p99,
            percentile=self.latency_percentile,
        )
        for keyword in ("cpu_percent", "memory_percent"):
            check.in_range(keyword, getattr(self, keyword), 1, 100, "%")
        check.one_of("period", int(self.period.to_seconds()), [60, 300, 900, 3600])

    @property
    def latency_threshold(self) -> Duration:
        """The latency alarm's threshold: ``latency`` (or ``latency_p99``), else 1 second."""
        return self.latency or self.latency_p99 or ONE_SECOND


_TRAFFIC_SHIFTING = ("BLUE_GREEN", "LINEAR", "CANARY")
TEN_MINUTES = Duration.minutes(10)


@dataclass(frozen=True, kw_only=True)
class ServiceDeployment:
    """How a new revision (image, task definition) reaches traffic, and when ECS rolls back.

    ``BLUE_GREEN`` (the default) starts a full second set of tasks behind a second target
    group, moves all production traffic to it at once by rewriting the load balancer's listener
    rule, and keeps the old tasks for ``bake_time``: a rollback is a listener change (seconds),
    not a relaunch (minutes of model loading). ``CANARY`` first moves ``canary_percent`` of
    traffic for ``step_interval``, ``LINEAR`` moves ``step_percent`` every ``step_interval``;
    both then bake. ``ROLLING`` replaces tasks in place (no second target group). With
    ``rollback_on_alarms`` ECS fails and rolls back a deployment whose service 5XX-rate or p99
    latency alarm fires during the deployment or the bake; the circuit breaker always rolls back
    tasks that never become healthy.

    Use the factories: ``ServiceDeployment.blue_green()``, ``.canary(percent=10)``,
    ``.linear(step_percent=20)``, ``.rolling()``.

    :param strategy: ``ROLLING``, ``BLUE_GREEN``, ``LINEAR`` or ``CANARY``. Default:
        ``BLUE_GREEN``.
    :param bake_time: how long the old revision stays ready after all traffic moved, in whole
        minutes (0-1440); not for ``ROLLING``. Default: 10 minutes.
    :param canary_percent: traffic the canary receives first, 0.1-100 % in steps of 0.1;
        ``CANARY`` only. Default: 10 %.
    :param step_percent: traffic moved per step, 3-100 % in steps of 0.1; ``LINEAR`` only.
        Default: 20 %.
    :param step_interval: the wait after the canary or after each linear step, whole minutes
        (0-1440); ``CANARY`` and ``LINEAR`` only. Default: 10 minutes (canary), 5 (linear).
    :param rollback_on_alarms: roll back when the service's ``Target5xx`` or latency alarm
        (``LatencyP99``, or the percentile ``ServiceAlarms`` chose) fires during a deployment.
        Default: on.
    """

    strategy: str = "BLUE_GREEN"
    bake_time: Duration | None = None
    canary_percent: float | None = None
    step_percent: float | None = None
    step_interval: Duration | None = None
    rollback_on_alarms: bool = True

    @staticmethod
    def rolling(*, rollback_on_alarms: bool = True) -> ServiceDeployment:
        """Replace tasks in place, never below the running count."""
        return ServiceDeployment(strategy="ROLLING", rollback_on_alarms=rollback_on_alarms)

    @staticmethod
    def blue_green(
        bake_time: Duration = TEN_MINUTES, *, rollback_on_alarms: bool = True
    ) -> ServiceDeployment:
        """A full second revision takes all traffic at once; the old one bakes ``bake_time``."""
        return ServiceDeployment(
            strategy="BLUE_GREEN", bake_time=bake_time, rollback_on_alarms=rollback_on_alarms
        )

    @staticmethod
    def canary(
        percent: float = 10.0,
        interval: Duration = TEN_MINUTES,
        *,
        bake_time: Duration = TEN_MINUTES,
        rollback_on_alarms: bool = True,
    ) -> ServiceDeployment:
        """``percent`` of traffic for ``interval``, then the rest; then bake ``bake_time``."""
        return ServiceDeployment(
            strategy="CANARY",
            canary_percent=percent,
            step_interval=interval,
            bake_time=bake_time,
            rollback_on_alarms=rollback_on_alarms,
        )

    @staticmethod
    def linear(
        step_percent: float = 20.0,
        interval: Duration = FIVE_MINUTES,
        *,
        bake_time: Duration = TEN_MINUTES,
        rollback_on_alarms: bool = True,
    ) -> ServiceDeployment:
        """``step_percent`` more traffic every ``interval``; then bake ``bake_time``."""
        return ServiceDeployment(
            strategy="LINEAR",
            step_percent=step_percent,
            step_interval=interval,
            bake_time=bake_time,
            rollback_on_alarms=rollback_on_alarms,
        )

    def __post_init__(self) -> None:
        check = Checker("ServiceDeployment")
        check.one_of("strategy", self.strategy, deployments.STRATEGIES)
        allowed = deployments.SETTINGS[self.strategy]
        for keyword, taken_by in deployments.TAKEN_BY.items():
            if getattr(self, keyword) is not None and keyword not in allowed:
                check.not_together(
                    keyword,
                    f"strategy={self.strategy!r}",
                    f"{keyword} applies to {taken_by} deployments",
                )
        defaults = {
            "bake_time": TEN_MINUTES,
            "canary_percent": 10.0,
            "step_percent": 20.0,
            "step_interval": TEN_MINUTES if self.strategy == "CANARY" else FIVE_MINUTES,
        }
        for keyword in allowed:
            if getattr(self, keyword) is None:
                object.__setattr__(self, keyword, defaults[keyword])
        for keyword in ("bake_time", "step_interval"):
            value = getattr(self, keyword)
            if value is not None:
                seconds = value.to_seconds()
                problem = deployments.minutes_problem(seconds)
                if problem is not None:
                    check.fail(keyword, problem, Said(f"{seconds:g} seconds"))
        for keyword in ("canary_percent", "step_percent"):
            check.valid(
                keyword, getattr(self, keyword), deployments.percent_problem, setting=keyword
            )

    @property
    def shifts_traffic(self) -> bool:
        """True for the strategies with a second target group (all but ``ROLLING``)."""
        return self.strategy in _TRAFFIC_SHIFTING


@dataclass(frozen=True, kw_only=True)
class ServiceRoute:
    """Which requests of the listener reach the service: one listener rule.

    The rule is where ECS shifts traffic between the blue and green target groups. On the
    listener this construct creates, the defaults route everything to the service; on a shared
    ``listener=`` pick a priority no other rule has and conditions that select this service.

    :param priority: 1-50000, lower first. Default: 1.
    :param path_patterns: up to 5 ALB path patterns. Default: ``("/*",)`` (every request).
    :param host_headers: up to 5 host names (``churn.models.example.com``). Default: none.
    """

    priority: int = 1
    path_patterns: Sequence[str] = ("/*",)
    host_headers: Sequence[str] = ()

    def __post_init__(self) -> None:
        check = Checker("ServiceRoute")
        check.in_range("priority", self.priority, 1, 50000)
        # ALB: at most 5 condition values per rule, each at most 128 characters.
        values = [*self.path_patterns, *self.host_headers]
        check.require(
            1 <= len(values) <= 5,
            "path_patterns and host_headers",
            "1 to 5 values together (an ALB rule's limit)",
            len(values),
        )
        for keyword in ("path_patterns", "host_headers"):
            for index, value in enumerate(getattr(self, keyword)):
                check.matches(
                    f"{keyword}[{index}]",
                    value,
                    r"[A-Za-z0-9_\-.$/~\"'@:+*?&=%]{1,128}",
                    "1-128 characters of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + * ? & = %",
                )
        object.__setattr__(self, "path_patterns", tuple(self.path_patterns))
        object.__setattr__(self, "host_headers", tuple(self.host_headers))

    @property
    def catches_all(self) -> bool:
        """True when every request matches (``/*``, no host condition)."""
        return tuple(self.path_patterns) == ("/*",) and not self.host_headers
