from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from emolens.io.read_ahead import ReadAhead


def test_items_arrive_in_order_and_the_producer_runs_in_another_thread():
    producers: set[int] = set()

    def numbers() -> Iterator[int]:
        for n in range(50):
            producers.add(threading.get_ident())
            yield n

    with ReadAhead(numbers(), depth=3) as ahead:
        assert list(ahead) == list(range(50))
    assert producers and threading.get_ident() not in producers
    assert ahead.busy_seconds >= 0.0


def test_an_error_while_producing_reaches_the_consumer_after_the_items_before_it():
    def broken() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    got = []
    with ReadAhead(broken()) as ahead, pytest.raises(OSError, match="disk gone"):
        got.extend(ahead)
    assert got == [1, 2]


def test_closing_early_stops_the_producer():
    produced = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    with ReadAhead(endless(), depth=2) as ahead:
        for item in ahead:
            if item == 5:
                break
    assert not ahead._thread.is_alive()
    assert len(produced) <= 5 + 1 + 2 + 1  # at most depth items (and one in hand) beyond what was taken


def test_depth_must_be_positive():
    with pytest.raises(ValueError):
        ReadAhead([], depth=0)
