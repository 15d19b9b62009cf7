"""A client's record in FHIR R4: beside each goal's Goal (`fhir.goal_resource`), a Provenance
for every event of the goal (who changed which version, when, why) and an Observation for every
check-in (a corrected one is kept, with status entered-in-error). Pure: JSON-ready dicts out.
"""

from datetime import datetime
from uuid import UUID

from domain.goals.fhir import Json
from domain.goals.record import Stamp
from domain.goals.view import CheckIn, GoalDetail

DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
_WHO = {"client": "Patient", "therapist": "Practitioner", "supporter": "RelatedPerson"}


def _agent(stamp: Stamp) -> Json:
    author = {"coding": [{"system": PROVENANCE_AGENT, "code": "author", "display": "Author"}]}
    if stamp.actor_id is None:
        return {"type": author, "who": {"display": "The service itself"}}
    kind = _WHO.get(stamp.actor_role)
    who: Json = (
        {"reference": f"{kind}/{stamp.actor_id}", "type": kind}
        if kind is not None
        else {"identifier": {"value": str(stamp.actor_id)}, "display": stamp.actor_role}
    )
    return {"type": author, "who": who}


def provenance(
    goal_id: UUID, event_id: UUID, event_type: str, stamp: Stamp, reason: str | None
) -> Json:
    """The Provenance of one event: the version of the Goal it made, who made it, when, why."""
    operation = "CREATE" if stamp.version == 1 else "UPDATE"
    resource: Json = {
        "resourceType": "Provenance",
        "id": str(event_id),
        "target": [{"reference": f"Goal/{goal_id}/_history/{stamp.version}"}],
        "recorded": stamp.recorded_at.isoformat(),
        "activity": {
            "coding": [{"system": DATA_OPERATION, "code": operation}],
            "text": event_type,
        },
        "agent": [_agent(stamp)],
    }
    if reason:
        resource["reason"] = [{"text": reason}]
    return resource


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def check_in_observation(goal: GoalDetail, check_in: CheckIn) -> Json:
    """One check-in as an Observation of progress towards its goal."""
    measure = goal.terms.measure
    resource: Json = {
        "resourceType": "Observation",
        "id": str(check_in.check_in_id),
        "status": "entered-in-error" if check_in.entered_in_error else "final",
        "code": {"text": f"Progress towards the goal: {measure.unit}"},
        "subject": {"reference": f"Patient/{goal.client_id}", "type": "Patient"},
        "focus": [{"reference": f"Goal/{goal.goal_id}", "type": "Goal"}],
        "effectiveDateTime": _instant(check_in.occurred_at),
        "valueQuantity": {"value": check_in.amount, "unit": measure.unit},
    }
    if check_in.note:
        resource["note"] = [{"text": check_in.note}]
    return resource
