"""The back-off after failed sign-ins doubles and is capped."""
from innolab.domain import throttle


def test_backoff_starts_after_the_free_failures_and_doubles():
    free = throttle.ACCOUNT_FREE_FAILURES
    assert [throttle.delay(n, free) for n in range(free)] == [0] * free
    assert [throttle.delay(free + k, free) for k in range(4)] == [2, 4, 8, 16]


def test_backoff_is_capped():
    assert throttle.delay(10_000, 5) == throttle.MAX_DELAY
    assert throttle.MAX_DELAY <= 15 * 60
