"""The shared throttle: a rate limit halves the sends in flight, successes win them back."""

from __future__ import annotations

import threading

from amp_destinations._delivery import RetryPolicy, Throttle


def fill(throttle: Throttle, count: int, stop: threading.Event) -> None:
    for _ in range(count):
        throttle.acquire(stop)


def test_a_rate_limit_halves_the_sends_in_flight_and_successes_win_them_back():
    stop = threading.Event()
    throttle = Throttle(8)
    fill(throttle, 1, stop)
    throttle.release(throttled=True)
    assert (throttle.limit, throttle.lowest, throttle.pauses) == (4, 4, 1)
    for _ in range(4):
        fill(throttle, 1, stop)
        throttle.release()
    assert throttle.limit == 5
    for _ in range(20):
        fill(throttle, 1, stop)
        throttle.release(succeeded=False)  # a server error is no reason to speed up
    assert throttle.limit == 5


def test_the_limit_never_drops_below_one_send():
    stop = threading.Event()
    throttle = Throttle(2)
    for _ in range(5):
        fill(throttle, 1, stop)
        throttle.release(throttled=True)
    assert throttle.limit == throttle.lowest == 1


def test_a_worker_waits_for_a_free_place_once_the_limit_is_reached():
    stop = threading.Event()
    throttle = Throttle(2)
    fill(throttle, 2, stop)
    got_in = threading.Event()

    def third_worker():
        throttle.acquire(stop)
        got_in.set()

    worker = threading.Thread(target=third_worker)
    worker.start()
    assert not got_in.wait(0.3)
    throttle.release()
    assert got_in.wait(5)
    worker.join(5)


def test_a_pause_holds_the_next_send_back():
    stop = threading.Event()
    throttle = Throttle(4)
    fill(throttle, 1, stop)
    throttle.release(throttled=True, delay=60)
    waiting = threading.Thread(target=throttle.acquire, args=(stop,))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive()
    stop.set()  # a stopped run does not sit out the pause
    waiting.join(5)
    assert not waiting.is_alive()


def test_backoff_doubles_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=1, max_delay=10)
    assert [policy.backoff(n, 1.0) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 10]
    assert policy.backoff(3, 0.0) == 2
