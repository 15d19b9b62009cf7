"""Domain records are frozen msgspec structs that the cycle collector never walks.

An API process keeps thousands of goals folded; walking them on every full collection paused
requests for tens of milliseconds. `gc=False` is safe only for records that cannot be part of a
reference cycle: frozen, with immutable fields (tuples, not lists or dicts).
"""

import importlib
import pkgutil
import typing

import msgspec
import pytest

import domain
from infra.eventstore import envelope
from infra.goals import folds


def _records() -> list[type[msgspec.Struct]]:
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(domain.__path__, "domain.")
        if not info.ispkg
    ]
    found = {
        value
        for module in [*modules, envelope, folds]
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == module.__name__
    }
    return sorted(found, key=lambda record: f"{record.__module__}.{record.__qualname__}")


RECORDS = _records()


def test_the_domain_has_records_to_check() -> None:
    assert len(RECORDS) > 40


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__qualname__)
def test_a_record_is_frozen_untracked_and_holds_no_mutable_container(
    record: type[msgspec.Struct],
) -> None:
    config = record.__struct_config__
    assert config.frozen
    assert not config.gc
    for name, hint in typing.get_type_hints(record).items():
        for part in (hint, *typing.get_args(hint)):
            origin = typing.get_origin(part) or part
            assert origin not in (list, dict, set), f"{record.__qualname__}.{name}: {hint}"
