"""`make bench`'s budgets: the queue is judged by its ratio to a page served in the same run."""

from __future__ import annotations

from bench.run import QUEUE_RATIO_BUDGET, _budgets


def queue(ratios: dict[str, dict[str, float]], absolute_ms: float = 500.0) -> dict[str, object]:
    return {
        "queue_ratio_vs_start_page": ratios,
        "queue_p95_ms": {size: dict.fromkeys(pages, absolute_ms) for size, pages in ratios.items()},
    }


def held(results: dict[str, object]) -> dict[str, bool]:
    return {name: ok for name, ok, _ in _budgets(results)}


def test_a_slow_machine_alone_fails_no_queue_budget() -> None:
    # 500 ms absolute would have failed the old 50 ms budget; the ratio is what counts.
    checks = held(queue({"10k": {"first": 4.0}, "1m": {"first": 4.4}}))
    assert checks == {
        "queue_ratio 10k first <= 8": True,
        "queue_ratio 1m first <= 8": True,
        "queue_ratio 1m first <= 1.5 x 10k": True,
    }


def test_a_slow_queue_fails_its_ratio_and_its_growth() -> None:
    over = QUEUE_RATIO_BUDGET + 0.5
    checks = held(queue({"10k": {"deep": 4.0}, "1m": {"deep": over}}, absolute_ms=5.0))
    assert checks["queue_ratio 10k deep <= 8"] is True
    assert checks["queue_ratio 1m deep <= 8"] is False
    assert checks["queue_ratio 1m deep <= 1.5 x 10k"] is False
