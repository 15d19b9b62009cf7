"""The record's FHIR resources: a Provenance per event and an Observation per check-in, valid R4B
for every history the service could write."""

from uuid import UUID

from hypothesis import given, settings

from domain.goals.fhir_record import check_in_observation, provenance
from domain.goals.view import goal_detail
from tests.fhir_validation import validate_fhir
from tests.unit.goals.fhir_histories import Stamped, first_event, stamped_histories


@settings(max_examples=40)
@given(stamped_histories())
def test_every_event_has_its_provenance_and_every_check_in_its_observation(
    history: list[Stamped],
) -> None:
    goal_id = first_event(history).goal_id
    for number, (event, stamp) in enumerate(history, start=1):
        resource = provenance(goal_id, UUID(int=number), type(event).__name__, stamp, "why")
        validate_fhir(resource)
        assert resource["target"] == [{"reference": f"Goal/{goal_id}/_history/{number}"}]
        who = resource["agent"][0]["who"]  # type: ignore[index]
        if stamp.actor_id is not None:
            assert str(stamp.actor_id) in str(who)
    detail = goal_detail([event for event, _ in history])
    assert detail is not None
    observations = [check_in_observation(detail, check_in) for check_in in detail.check_ins]
    for observation, check_in in zip(observations, detail.check_ins, strict=True):
        validate_fhir(observation)
        expected = "entered-in-error" if check_in.entered_in_error else "final"
        assert observation["status"] == expected
