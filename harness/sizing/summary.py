"""One sweep variant's figures, flat and in display units, shared by sweep.json, the table and sweep.html.

Example::

    rows = [variant_summary(outcome) for outcome in result.outcomes]
"""

from __future__ import annotations

from typing import Any

from harness.sizing.sweep import VariantOutcome


def variant_summary(outcome: VariantOutcome) -> dict[str, Any]:
    """The figures of one variant the issue asks for, flat and in display units."""
    usage = outcome.usage
    cost = outcome.cost
    month = cost.monthly if cost is not None else None
    return {
        "variant": outcome.name,
        "passed": outcome.passed,
        "eligible": outcome.passed and outcome.reason is None,
        "reason": outcome.reason,
        "freshness_seconds": dict(outcome.freshness_s),
        "lambda_invocations": usage.invocations if usage else None,
        "lambda_gb_seconds": (usage.billed_duration_ms / 1000.0 * usage.memory_mb / 1024.0)
        if usage
        else None,
        "firehose_records": usage.firehose_records if usage else None,
        "firehose_billed_gb": (usage.firehose_billed_bytes / 2**30)
        if usage and usage.firehose_billed_bytes is not None
        else None,
        "s3_objects": usage.s3_objects if usage else None,
        "s3_puts": usage.s3_puts if usage else None,
        "objects_per_hour": month.objects_per_hour if month else None,
        "s3_puts_per_hour": (usage.s3_puts / (usage.window_seconds / 3600.0))
        if usage and usage.window_seconds > 0
        else None,
        "average_object_bytes": outcome.average_object_bytes,
        "monthly_usd": {
            "lambda": cost.service_usd("lambda"),
            "firehose": cost.service_usd("firehose"),
            "s3": cost.service_usd("s3"),
            "total": cost.total_usd,
        }
        if cost
        else None,
        "unpriced": list(cost.unpriced) if cost else None,
    }
