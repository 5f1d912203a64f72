"""The translation lane: one worker thread translating queued texts in batches, a bounded queue, a shared future
per text, and a failed batch failing only its own texts."""

from __future__ import annotations

import threading

import pytest

from search.language.lane import TranslationLane


def test_concurrent_texts_are_translated_in_batches(translator):
    lane = TranslationLane(translator, batch_size=4)
    texts = [f"robe rouge numéro {number}" for number in range(10)]
    with lane._ready:  # hold the worker back until everything is queued, as concurrent requests would
        futures = [lane.submit(text)[0] for text in texts]
    results = [future.result(timeout=120) for future in futures]
    assert lane.batch_sizes == [4, 4, 2]
    batches = [translator.translate(texts[start : start + 4]) for start in (0, 4, 8)]
    assert results == [translation for batch in batches for translation in batch]  # each text gets its own
    lane.close()


def test_a_text_already_queued_is_shared(translator):
    lane = TranslationLane(translator)
    with lane._ready:
        first, queued = lane.submit("robe rouge")
        again, queued_again = lane.submit("robe rouge")
    assert queued and not queued_again and again is first
    first.result(timeout=120)
    lane.close()


def test_beyond_the_pending_limit_nothing_is_queued(translator):
    lane = TranslationLane(translator, max_pending=2)
    with lane._ready:
        accepted = [lane.submit(f"robe {number}") for number in range(3)]
    assert [future is not None for future, _ in accepted] == [True, True, False]
    for future, _ in accepted[:2]:
        future.result(timeout=120)
    assert lane.submit("robe 2")[0] is not None  # room again once the queue drained
    lane.close()


class BrokenError(Exception):
    pass


def test_a_failed_batch_fails_its_texts_and_the_lane_goes_on(translator, monkeypatch):
    lane = TranslationLane(translator)
    real = translator.translate
    calls = []

    def fail_once(texts, time_budget=None):
        calls.append(list(texts))
        if len(calls) == 1:
            raise BrokenError("out of memory")
        return real(texts, time_budget)

    monkeypatch.setattr(translator, "translate", fail_once)
    with pytest.raises(BrokenError):
        lane.submit("robe rouge")[0].result(timeout=120)
    assert lane.submit("robe bleue")[0].result(timeout=120).text
    lane.close()


def test_the_worker_is_one_thread_of_its_own(translator):
    lane = TranslationLane(translator)
    seen = []
    real = translator.translate

    def record(texts, time_budget=None):
        seen.append(threading.current_thread().name)
        return real(texts, time_budget)

    translator.translate = record
    try:
        lane.submit("robe rouge")[0].result(timeout=120)
        lane.submit("robe bleue")[0].result(timeout=120)
    finally:
        del translator.translate
    assert seen == ["translation-lane", "translation-lane"]
    lane.close()
