"""Thin alias, kept for callers not yet moved: the one schedule validator is
:mod:`mlops_cdk._internal.validators.schedules` (import from there in new code)."""

from mlops_cdk._internal.validators.schedules import SCHEDULE_MEANING, schedule_problem

__all__ = ["SCHEDULE_MEANING", "schedule_problem"]
