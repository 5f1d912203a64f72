"""The micro-batcher: concurrent submissions share batches, yet each caller gets only its own result or error."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from search.encoding.batcher import MicroBatcher


def squares(items: list[int]) -> list[int]:
    time.sleep(0.02)  # long enough for the other submitters to queue behind the running batch
    return [item * item for item in items]


def strict_squares(items: list[object]) -> list[int]:
    """Fails the whole batch when any item is not an int, as a batched encoder fails on one bad tensor."""
    time.sleep(0.02)
    if not all(isinstance(item, int) for item in items):
        raise TypeError("only whole numbers can be squared")
    return [item * item for item in items]


def test_concurrent_submissions_are_batched_and_each_gets_its_own_result():
    batcher = MicroBatcher({"square": squares}, max_batch={"square": 8})
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: batcher.submit("square", n), range(48)))
    assert results == [n * n for n in range(48)]
    sizes = batcher.batch_sizes["square"]
    assert max(sizes) > 1 and max(sizes) <= 8
    assert sum(size * count for size, count in sizes.items()) == 48


def test_one_bad_item_fails_alone_and_its_batch_mates_succeed():
    batcher = MicroBatcher({"square": strict_squares})
    items: list[object] = [*range(10), "seven", *range(10, 20)]
    outcomes: dict[int, object] = {}
    lock = threading.Lock()

    def submit(position: int) -> None:
        try:
            outcome: object = batcher.submit("square", items[position])
        except TypeError as error:
            outcome = error
        with lock:
            outcomes[position] = outcome

    with ThreadPoolExecutor(len(items)) as pool:
        list(pool.map(submit, range(len(items))))
    assert any(size > 1 for size in batcher.batch_sizes["square"])  # the bad item really shared a batch
    bad = items.index("seven")
    assert isinstance(outcomes[bad], TypeError) and "whole numbers" in str(outcomes[bad])
    assert {p: o for p, o in outcomes.items() if p != bad} == {p: i * i for p, i in enumerate(items) if p != bad}


def test_kinds_run_in_separate_batches():
    seen: list[tuple[str, list[object]]] = []

    def record(kind: str):
        def run(items: list[object]) -> list[str]:
            time.sleep(0.01)
            seen.append((kind, items))
            return [f"{kind}:{item}" for item in items]

        return run

    batcher = MicroBatcher({"text": record("text"), "image": record("image")})
    calls = [("text", n) if n % 3 else ("image", n) for n in range(30)]
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda call: batcher.submit(*call), calls))
    assert results == [f"{kind}:{n}" for kind, n in calls]
    kind_of = {n: kind for kind, n in calls}
    assert all(kind_of[item] == kind for kind, items in seen for item in items)
    assert any(len(items) > 1 for _, items in seen)


def test_wrong_number_of_results_is_an_error_for_each_caller():
    batcher = MicroBatcher({"broken": lambda items: items[:-1]})
    with pytest.raises(RuntimeError, match="returned 0 results for 1 items"):
        batcher.submit("broken", 1)


def test_unknown_kind_is_refused():
    batcher = MicroBatcher({"square": squares})
    with pytest.raises(ValueError, match="Unknown batch kind 'cube'"):
        batcher.submit("cube", 2)


def test_a_lone_request_runs_in_its_own_thread():
    threads: list[str] = []
    batcher = MicroBatcher(
        {"name": lambda items: [threads.append(threading.current_thread().name) or i for i in items]}
    )
    assert batcher.submit("name", 7) == 7
    assert threads == [threading.current_thread().name]


def test_an_interrupt_reaches_every_waiting_caller():
    started = threading.Event()

    def interrupted(items: list[int]) -> list[int]:
        started.set()
        time.sleep(0.05)
        raise KeyboardInterrupt

    batcher = MicroBatcher({"slow": interrupted})
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(batcher.submit, "slow", 1)
        started.wait()
        with pytest.raises(KeyboardInterrupt):
            batcher.submit("slow", 2)
        with pytest.raises(KeyboardInterrupt):
            first.result()
