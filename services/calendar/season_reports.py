"""What other services reported about a season, kept for its results: each service publishes its own figures
by event once its part of the season is over (the roles service when the season's pick window closed, the
feedback service when the calendar closed the season), and the calendar never asks them. One document per
season and source (key ``<season>:<source>``), replaced by a later report of the same source, so the results
carry each source's last word.

Each source has its own consumer and collection (``season_reports_<source>``), all of one shape: a consumer
filters one subject, and a rebuild drops its consumer's collections whole, so two consumers never share one.
A new source is one more entry in ``SOURCES``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from libs.contracts import calendar as c
from libs.contracts import feedback as fb
from libs.contracts import roles as r
from libs.contracts.base import Event
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service


@dataclass(frozen=True)
class Source:
    subject: str
    #: the season and its lines, when the event is this source's season report (else None)
    report: Callable[[Event], tuple[str, tuple[c.ReportLine, ...]] | None]


def _roles_report(e: Event) -> tuple[str, tuple[c.ReportLine, ...]] | None:
    return (e.season_id, e.lines) if isinstance(e, r.RolesSeasonReported) else None


def _feedback_report(e: Event) -> tuple[str, tuple[c.ReportLine, ...]] | None:
    return (e.season_id, e.lines) if isinstance(e, fb.FeedbackSeasonReported) else None


SOURCES: dict[str, Source] = {r.SERVICE: Source(events_of(r.SERVICE, "window"), _roles_report),
                              fb.SERVICE: Source(events_of(fb.SERVICE, "season_report"), _feedback_report)}


def collection(source: str) -> str:
    """Also the name of the source's projection (its durable consumer)."""
    return f"season_reports_{source}"


#: the projections the results wait for before they are computed
SEASON_REPORT_VIEWS = [collection(source) for source in SOURCES]


def report_key(season_id: str, source: str) -> str:
    return f"{season_id}:{source}"


async def reported_lines(svc: Service, season_id: str) -> tuple[c.ReportLine, ...]:
    """Sorted by source, then key: the same report whatever order the sources reported in."""
    lines = []
    for source in SOURCES:
        doc = await svc.store.get(collection(source), report_key(season_id, source))
        lines += [c.ReportLine(**line) for line in doc["lines"]] if doc else []
    return tuple(sorted(lines, key=lambda line: (line.source, line.key)))


def register_season_reports(svc: Service) -> None:
    for source, spec in SOURCES.items():
        _keep(svc, source, spec)


def _keep(svc: Service, source: str, spec: Source) -> None:
    name = collection(source)

    @svc.projection(name, [spec.subject], [name])
    async def when_a_service_reports_a_season_keep_its_lines(rec: Recorded, view: View) -> None:
        """The lines as the source wrote them; the document replaced whole, so a redelivery writes the same."""
        found = spec.report(rec.event)
        if found is None:
            return
        season_id, lines = found
        key = report_key(season_id, source)
        await view.put(name, key, {"key": key, "season_id": season_id, "source": source,
                                   "lines": [line.model_dump(mode="json") for line in lines]})
