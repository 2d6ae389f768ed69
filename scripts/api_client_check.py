#!/usr/bin/env python3
"""Pushes a 3-event batch and reads every report through the client that
openapi-python-client generated from the served /openapi.json (scripts/api-check.sh).

Nothing here speaks HTTP itself: each call is a generated function, each answer a
generated model. A model's `from_dict` fails on a missing or mistyped field, and any
field the document does not declare is reported here, so a pass means the document
describes what the server sends. Money arrives as JSON numbers, which the models hold
as floats: each is read back through its shortest repr, which is the server's digits,
and compared as an exact Decimal.

Usage: api_client_check.py BASE_URL API_KEY BACKEND   (the generated package on PYTHONPATH)
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterable
from decimal import Decimal
from http import HTTPStatus
from typing import Any, TypeVar, cast

import attrs
from cost_tracker_client import AuthenticatedClient
from cost_tracker_client.api.admin import list_rules, status
from cost_tracker_client.api.costs import (
    bill_check,
    by_agent,
    by_model,
    by_project,
    by_provider,
    by_session_type,
    daily,
    daily_summary,
    monthly,
    range_,
    reconciliation,
    weekly,
)
from cost_tracker_client.api.meta import document, health
from cost_tracker_client.api.models import list_models, show_model
from cost_tracker_client.api.usage import list_usage, push_usage, usage_summary
from cost_tracker_client.models import (
    BillCheck,
    Breakdown,
    BreakdownItem,
    BucketItem,
    Created,
    DailyReport,
    DailySummary,
    DocumentResponse200,
    Health,
    ModelList,
    ModelPrices,
    RangeReport,
    RangeStackBy,
    Reconciliation,
    RuleList,
    Status,
    SummaryReport,
    UsageEvent,
    UsageEventMetadataType0,
    UsageList,
    UsageSummaryGroupBy,
)
from cost_tracker_client.types import Response, Unset

T = TypeVar("T")


class CheckFailed(Exception):
    """A report disagreed with what was pushed, or with the document."""


def usd(value: float) -> Decimal:
    """The server's figure exactly: `repr` of a parsed JSON number gives back its digits."""
    return Decimal(repr(value))


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


def undocumented(value: object, path: str) -> list[str]:
    """Fields of `value` (a parsed model) that its schema does not declare, at any depth.

    A model with no declared field is a free-form object (`metadata`): all its fields
    are its own.
    """
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in undocumented(item, f"{path}[{i}]")]
    if not attrs.has(type(value)):
        return []
    declared = [f.name for f in attrs.fields(type(value)) if f.name != "additional_properties"]
    if not declared:
        return []
    found = [f"{path}.{name}" for name in getattr(value, "additional_properties", {})]
    for name in declared:
        found += undocumented(getattr(value, name), f"{path}.{name}")
    return found


def parsed(response: Response[Any], model: type[T], what: str, status_code: int = 200) -> T:
    """The answer as `model`, when the status is `status_code` and every field is declared."""
    body = response.content[:600].decode(errors="replace")
    expect(
        response.status_code == HTTPStatus(status_code) and isinstance(response.parsed, model),
        f"{what}: expected {status_code} {model.__name__}, got {response.status_code.value}: {body}",
    )
    extra = undocumented(response.parsed, model.__name__)
    expect(not extra, f"{what}: fields the document does not declare: {', '.join(extra)}")
    print(f"ok   {what} -> {status_code} {model.__name__}")
    return cast(T, response.parsed)


def total(items: Iterable[BreakdownItem | BucketItem]) -> Decimal:
    return sum((usd(item.cost_usd) for item in items), Decimal(0))


def batch(day: datetime.date) -> list[UsageEvent]:
    """Three events whose costs the README works out: two priced from the catalog, one reported."""

    def at(hour: int) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour), datetime.UTC)

    return [
        # 1,200 × $3 + 350 × $15 + 40,000 × $0.30 + 2,000 × $3.75 per million = $0.02835.
        UsageEvent(
            event_id="api-check-1",
            model="claude-sonnet-4-5",
            input_tokens=1200,
            output_tokens=350,
            cache_read_tokens=40000,
            cache_write_tokens=2000,
            session_label="peakpaws-safety-review",
            agent="openclaw",
            recorded_at=at(10),
        ),
        # 5,000 × $2.50 + 800 × $10 per million = $0.0205.
        UsageEvent(
            event_id="api-check-2",
            model="gpt-4o",
            tokens_in=5000,
            tokens_out=800,
            project="Client Work",
            session_type="cron",
            session_label="cron:nightly-report",
            recorded_at=at(11),
        ),
        # A reported cost is the figure totals use.
        UsageEvent(
            event_id="api-check-3",
            model="claude-opus-4-5",
            input_tokens=300,
            output_tokens=900,
            cost="0.05",
            session_label="agent:main:subagent:7f3c",
            recorded_at=at(12),
            metadata=UsageEventMetadataType0.from_dict({"ticket": "CT-42"}),
        ),
    ]


EVENT_COSTS = {"api-check-1": Decimal("0.02835"), "api-check-2": Decimal("0.0205"), "api-check-3": Decimal("0.05")}
TOTAL = sum(EVENT_COSTS.values(), Decimal(0))
BY_DIMENSION = {
    "model": {
        "claude-sonnet-4-5-20250929": Decimal("0.02835"),
        "gpt-4o": Decimal("0.0205"),
        "claude-opus-4-5-20251101": Decimal("0.05"),
    },
    "provider": {"anthropic": Decimal("0.07835"), "openai": Decimal("0.0205")},
    "project": {"PeakPaws": Decimal("0.02835"), "Client Work": Decimal("0.0205"), "General": Decimal("0.05")},
    "session_type": {"main": Decimal("0.02835"), "cron": Decimal("0.0205"), "subagent": Decimal("0.05")},
    "agent": {"openclaw": Decimal("0.02835"), "(none)": Decimal("0.0205"), "main": Decimal("0.05")},
}


def check_breakdown(items: list[BreakdownItem], dimension: str, what: str) -> None:
    got = {item.key: usd(item.cost_usd) for item in items}
    expect(got == BY_DIMENSION[dimension], f"{what}: by {dimension} {got} != {BY_DIMENSION[dimension]}")
    expect(sum(item.requests for item in items) == 3, f"{what}: requests by {dimension}")
    costs = [item.cost_usd for item in items]
    expect(costs == sorted(costs, reverse=True), f"{what}: {dimension} not sorted by cost")


def check_totals(report: RangeReport | DailyReport | SummaryReport | Breakdown, what: str) -> None:
    expect(usd(report.total_cost_usd) == TOTAL, f"{what}: total {report.total_cost_usd} != {TOTAL}")
    expect(report.requests == 3 and report.unpriced_requests == 0, f"{what}: requests {report.requests}")
    expect(
        (report.input_tokens, report.output_tokens, report.cache_read_tokens, report.cache_write_tokens)
        == (6500, 2050, 40000, 2000),
        f"{what}: token totals",
    )


def push(client: AuthenticatedClient, day: datetime.date) -> None:
    first = parsed(push_usage.sync_detailed(client=client, body=batch(day)), Created, "POST /api/usage", 201)
    expect((first.created, first.updated, first.unchanged) == (3, 0, 0), f"first push: {first}")
    got = {record.event_id: usd(record.cost_usd) for record in first.records}
    expect(got == EVENT_COSTS, f"record costs {got} != {EVENT_COSTS}")
    # The same batch again: nothing new is stored, and the answer says so.
    again = parsed(push_usage.sync_detailed(client=client, body=batch(day)), Created, "POST /api/usage again")
    expect((again.created, again.updated, again.unchanged) == (0, 0, 3), f"second push: {again}")
    expect(sorted(r.id for r in again.records) == sorted(r.id for r in first.records), "second push: ids")


def read_reports(client: AuthenticatedClient, day: datetime.date, backend: str) -> None:
    iso = day.isoformat()

    one_day = parsed(daily.sync_detailed(client=client, date=iso), DailyReport, "GET /costs/daily")
    check_totals(one_day, "daily")
    check_breakdown(one_day.by_model, "model", "daily")
    check_breakdown(one_day.by_project, "project", "daily")
    check_breakdown(one_day.by_session_type, "session_type", "daily")

    ranged = parsed(
        range_.sync_detailed(client=client, start=iso, end=iso, stack_by=RangeStackBy.MODEL),
        RangeReport,
        "GET /costs/range",
    )
    check_totals(ranged, "range")
    expect(len(ranged.buckets) == 1 and ranged.buckets[0].period == day, f"range buckets: {ranged.buckets}")
    expect(total(ranged.buckets) == TOTAL, "range: buckets do not sum to the total")
    stack = ranged.buckets[0].stack
    if not isinstance(stack, list):
        raise CheckFailed("range: no stack with stack_by")
    check_breakdown(stack, "model", "range stack")

    for name, call in (("weekly", weekly), ("monthly", monthly)):
        summary = parsed(call.sync_detailed(client=client), SummaryReport, f"GET /costs/summary/{name}")
        check_totals(summary, name)
        expect(total(summary.daily) == TOTAL, f"{name}: daily buckets do not sum to the total")
        expect(summary.days == len(summary.daily), f"{name}: days {summary.days}")
        check_breakdown(summary.by_model, "model", name)

    for dimension, call in (
        ("model", by_model),
        ("provider", by_provider),
        ("project", by_project),
        ("session_type", by_session_type),
        ("agent", by_agent),
    ):
        path = f"/costs/by-{dimension.replace('_', '-')}"
        report = parsed(call.sync_detailed(client=client, start=iso, end=iso), Breakdown, f"GET {path}")
        check_totals(report, path)
        expect(report.dimension == dimension, f"{path}: dimension {report.dimension}")
        check_breakdown(report.breakdown, dimension, path)

    figures = parsed(daily_summary.sync_detailed(client=client, date=iso), DailySummary, "GET /costs/daily-summary")
    # The Context Vault summary is in cents: $0.09885 is $0.10.
    expect(usd(figures.total_cost) == Decimal("0.1") and figures.requests == 3, f"daily-summary: {figures}")
    expect(figures.currency == "USD" and figures.date == day, f"daily-summary: {figures}")

    reconciled = parsed(
        reconciliation.sync_detailed(client=client, start=iso, end=iso), Reconciliation, "GET /costs/reconciliation"
    )
    # No bill was pulled: every pushed dollar is attributed and none of it billed.
    expect(usd(reconciled.attributed_usd) == TOTAL, f"reconciliation: attributed {reconciled.attributed_usd}")
    expect(usd(reconciled.unbilled_attributed_usd) == TOTAL, "reconciliation: unbilled")
    expect(usd(reconciled.billed_usd) == 0, "reconciliation: billed")

    bills = parsed(bill_check.sync_detailed(client=client, start=iso, end=iso), BillCheck, "GET /costs/bill-check")
    expect(bills.days == [] and usd(bills.billed_usd) == 0 and bills.start == day, f"bill-check: {bills}")

    records = parsed(
        list_usage.sync_detailed(client=client, start_date=iso, end_date=iso, limit=2), UsageList, "GET /api/usage"
    )
    expect(records.pagination.total == 3 and records.pagination.has_more, f"usage: {records.pagination}")
    rest = parsed(
        list_usage.sync_detailed(client=client, start_date=iso, end_date=iso, limit=2, offset=2),
        UsageList,
        "GET /api/usage offset=2",
    )
    seen = records.records + rest.records
    expect({r.event_id: usd(r.cost_usd) for r in seen} == EVENT_COSTS, "usage: the pages are not the batch")
    times = [r.recorded_at for r in seen]
    expect(times == sorted(times, reverse=True), "usage: not newest first")
    reported = next(r for r in seen if r.event_id == "api-check-3")
    # A reported cost is the figure; the catalog's price is kept beside it.
    computed = reported.computed_cost_usd
    if computed is None or isinstance(computed, Unset):
        raise CheckFailed(f"usage: no computed cost beside the reported one: {reported}")
    expect(reported.cost_source == "reported" and usd(computed) == Decimal("0.024"), "usage: computed cost")

    summed = parsed(
        usage_summary.sync_detailed(client=client, start_date=iso, end_date=iso, group_by=UsageSummaryGroupBy.WEEK),
        RangeReport,
        "GET /api/usage/summary",
    )
    check_totals(summed, "usage summary")
    expect(total(summed.buckets) == TOTAL and summed.group_by == "week", "usage summary: buckets")

    models = parsed(list_models.sync_detailed(client=client), ModelList, "GET /api/models")
    expect(models.count == len(models.models) > 0, f"models: count {models.count}")
    sonnet = parsed(show_model.sync_detailed("claude-sonnet-4-5", client=client), ModelPrices, "GET /api/models/{id}")
    expect(sonnet.id == "claude-sonnet-4-5-20250929" and sonnet.priced, f"model: {sonnet.id}")
    expect((usd(sonnet.prices.input_per_mtok), usd(sonnet.prices.output_per_mtok)) == (3, 15), "model: prices")
    expect(any(isinstance(m, ModelPrices) and m.id == sonnet.id for m in models.models), "models: no sonnet")

    state = parsed(status.sync_detailed(client=client), Status, "GET /admin/status")
    expect(state.database == backend and state.unpriced_models == [], f"status: {state.database}")
    rules = parsed(list_rules.sync_detailed(client=client), RuleList, "GET /admin/project-mappings")
    expect(rules.default_project == "General", f"rules: {rules.default_project}")
    expect(any(rule.project == "PeakPaws" for rule in rules.rules), "rules: no PeakPaws rule")

    up = parsed(health.sync_detailed(client=client), Health, "GET /health")
    expect(up.status == "ok" and up.backend == backend, f"health: {up}")
    spec = parsed(document.sync_detailed(client=client), DocumentResponse200, "GET /openapi.json")
    expect(spec.additional_properties.get("openapi") == "3.1.0", "document: not OpenAPI 3.1")


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, key, backend = argv[1:]
    # X-API-Key as the README's examples send it; an undocumented status raises.
    client = AuthenticatedClient(
        base_url=base_url, token=key, prefix="", auth_header_name="X-API-Key", raise_on_unexpected_status=True
    )
    # Two days back: inside the weekly and monthly windows, and a whole day already.
    day = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=2)
    try:
        with client:
            push(client, day)
            read_reports(client, day, backend)
    except CheckFailed as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    print(f"api client check ({backend}): the generated client pushed 3 events and read every report")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
