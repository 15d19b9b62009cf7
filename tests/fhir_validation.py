"""Checks every FHIR resource the service emits: the `fhir-resources` package's R4B models (every
element's name, type and cardinality), and the required code bindings, which those models leave
unchecked (they take any string as a code)."""

from typing import Any
from urllib.parse import urlsplit

from fhir.resources.R4B import get_fhir_model_class

from domain.goals.fhir import ACHIEVEMENT_SYSTEM, PRIORITY_SYSTEM

LIFECYCLE_CODES = {
    "proposed",
    "planned",
    "accepted",
    "active",
    "on-hold",
    "completed",
    "cancelled",
    "entered-in-error",
    "rejected",
}
ACHIEVEMENT_CODES = {
    "in-progress",
    "improving",
    "worsening",
    "no-change",
    "achieved",
    "sustaining",
    "not-achieved",
    "no-progress",
    "not-attainable",
}
OBSERVATION_STATUSES = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}
PRIORITY_CODES = {"high-priority", "medium-priority", "low-priority"}
ISSUE_SEVERITIES = {"fatal", "error", "warning", "information"}
ISSUE_TYPES = {
    "invalid",
    "required",
    "value",
    "security",
    "login",
    "forbidden",
    "not-found",
    "throttled",
    "transient",
    "exception",
    "processing",
    "not-supported",
    "too-costly",
}
PERIOD_UNITS = {"s", "min", "h", "d", "wk", "mo", "a"}


def _codes(concept: dict[str, Any], system: str) -> list[str]:
    return [coding["code"] for coding in concept["coding"] if coding["system"] == system]


def _check_goal(goal: dict[str, Any]) -> None:
    assert goal["lifecycleStatus"] in LIFECYCLE_CODES, goal
    if "achievementStatus" in goal:
        (code,) = _codes(goal["achievementStatus"], ACHIEVEMENT_SYSTEM)
        assert code in ACHIEVEMENT_CODES, goal
    if "priority" in goal:
        (code,) = _codes(goal["priority"], PRIORITY_SYSTEM)
        assert code in PRIORITY_CODES, goal
    for target in goal.get("target", []):
        for extension in target.get("extension", []):
            assert urlsplit(extension["url"]).scheme == "https", extension
            repeat = extension["valueTiming"]["repeat"]
            assert repeat.get("periodUnit", "d") in PERIOD_UNITS, extension
        quantity = target.get("detailQuantity")
        if quantity is not None and "code" in quantity:
            # qty-3: a coded unit names its system.
            assert quantity["system"], quantity


def _check(resource: dict[str, Any]) -> None:
    kind = resource["resourceType"]
    if kind == "Goal":
        _check_goal(resource)
    elif kind == "Bundle":
        assert resource["type"] in {"searchset", "collection"}
        for link in resource.get("link", []):
            assert link["relation"] in {"self", "next", "previous", "first", "last"}
            assert urlsplit(link["url"]).scheme in {"http", "https"}, link
        for entry in resource.get("entry", []):
            assert urlsplit(entry["fullUrl"]).scheme in {"http", "https"}, entry
            if resource["type"] == "searchset":
                assert entry["search"]["mode"] == "match"
            validate_fhir(entry["resource"])
    elif kind == "Observation":
        assert resource["status"] in OBSERVATION_STATUSES, resource
    elif kind == "OperationOutcome":
        for issue in resource["issue"]:
            assert issue["severity"] in ISSUE_SEVERITIES, issue
            assert issue["code"] in ISSUE_TYPES, issue
    elif kind == "CapabilityStatement":
        assert resource["status"] in {"draft", "active", "retired", "unknown"}
        assert resource["kind"] in {"instance", "capability", "requirements"}


def validate_fhir(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource`, once the R4B model of its type and the code bindings accept it."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    _check(resource)
    return resource
