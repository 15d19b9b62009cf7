"""Goals as the nudge rules see them."""

import uuid
from datetime import date, datetime
from uuid import UUID

from domain.goals.progress import CountedCheckIn
from domain.goals.terms import Cadence, GoalTerms, Measure
from domain.nudges.scan import GoalFacts

CLINIC = uuid.UUID(int=1)
CLIENT = uuid.UUID(int=2)
THERAPIST = uuid.UUID(int=3)
GOAL = uuid.UUID(int=4)


def goal_terms(
    *,
    start: date = date(2026, 3, 1),
    due: date = date(2026, 6, 30),
    cadence: Cadence = "per_day",
    target: float = 1,
    cue: str | None = None,
    zone: str = "Europe/Berlin",
) -> GoalTerms:
    return GoalTerms(
        statement="Walk in the park",
        life_area="physical_health",
        values=("health",),
        measure=Measure("count", target, "walks", cadence),
        cue=cue,
        start_date=start,
        due_date=due,
        priority="medium",
        time_zone=zone,
    )


def facts(
    terms: GoalTerms,
    check_ins: tuple[datetime, ...] = (),
    goal_id: UUID = GOAL,
    therapists: tuple[UUID, ...] = (THERAPIST,),
) -> GoalFacts:
    return GoalFacts(
        goal_id=goal_id,
        client_id=CLIENT,
        clinic_id=CLINIC,
        terms=terms,
        status="active",
        therapists=therapists,
        check_ins=tuple(CountedCheckIn(1, moment) for moment in check_ins),
    )
