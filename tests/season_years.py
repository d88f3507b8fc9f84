"""Years of seasons for tests that share one platform: each year handed out once per session.

Season ids are ``YYYY-spring``/``YYYY-autumn`` and the platform refuses a second season of a year
(409 ``season_exists``). Modules drew their years from ranges of their own that overlapped (a calendar
test's counter and my-data's random year met on 4864 in a whole run); one registry of what is taken
keeps them apart, whatever range each module needs (past years, far future, room for several)."""

from __future__ import annotations

import random

_taken: set[int] = set()
_rng = random.SystemRandom()


def fresh_year(lo: int, hi: int, span: int = 1) -> int:
    """A year in [lo, hi) not handed out before, with the ``span - 1`` years after it free too (and
    taken with it): a test that runs a season of ``year`` and of ``year + 1`` asks for a span of 2."""
    for _ in range(10_000):
        year = _rng.randrange(lo, hi - span + 1)
        if not _taken.intersection(range(year, year + span)):
            _taken.update(range(year, year + span))
            return year
    raise RuntimeError(f"no free span of {span} years left in [{lo}, {hi})")


class Years:
    """``next(years)``: a fresh year of the range, as the modules' counters were used."""

    def __init__(self, lo: int, hi: int, span: int = 1):
        self.lo, self.hi, self.span = lo, hi, span

    def __iter__(self) -> Years:
        return self

    def __next__(self) -> int:
        return fresh_year(self.lo, self.hi, self.span)
