"""The container files name only services, commands and settings that exist."""

import argparse
import re
from pathlib import Path
from typing import Any

import yaml

from infra.config import Settings
from services.cli.__main__ import parser

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _cli_commands() -> set[str]:
    for action in parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("the goals command has no subcommands")


def test_compose_runs_postgres_redis_api_and_worker_with_health_checks() -> None:
    services = _compose()["services"]

    for name in ("postgres", "redis", "api", "worker"):
        assert name in services
        assert "healthcheck" in services[name], f"{name} has no health check"


def test_every_goals_command_in_compose_and_the_image_exists() -> None:
    named = {
        service["command"][1]
        for service in _compose()["services"].values()
        if service.get("command", [None])[0] == "goals"
    }
    dockerfile = (ROOT / "Dockerfile").read_text()
    named |= set(re.findall(r'CMD \["goals", "([a-z-]+)"\]', dockerfile))

    assert named >= {"migrate", "api", "worker"}
    assert named <= _cli_commands()


def test_compose_sets_only_known_settings() -> None:
    known = {field.upper() for field in Settings.__struct_fields__}
    for service in _compose()["services"].values():
        environment = service.get("environment", {})
        if service.get("build"):
            assert set(environment) <= known, set(environment) - known


def test_the_image_installs_from_the_lock_file() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "uv sync --frozen" in dockerfile
    assert "COPY pyproject.toml uv.lock" in dockerfile
