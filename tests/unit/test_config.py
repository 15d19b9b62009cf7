import pytest

from infra.config import Settings, settings_from


def test_defaults_point_at_the_local_servers() -> None:
    settings = settings_from({})

    assert settings.database_url == "postgresql://goals_app@127.0.0.1:5432/therapy_goals"
    assert settings.migration_database_url == "postgresql://postgres@127.0.0.1:5432/therapy_goals"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_environment_values_are_parsed_into_their_types() -> None:
    settings = settings_from({"API_PORT": "9000", "DATABASE_POOL_MAX": "4", "UNRELATED": "x"})

    assert settings.api_port == 9000
    assert settings.database_pool_max == 4


def test_a_value_that_does_not_parse_names_the_setting() -> None:
    with pytest.raises(SystemExit, match="api_port"):
        settings_from({"API_PORT": "eighty"})


def test_every_setting_is_documented() -> None:
    with open("docs/configuration.md", encoding="utf-8") as document:
        text = document.read()

    for field in Settings.__struct_fields__:
        assert f"`{field.upper()}`" in text


def test_email_is_off_until_smtp_host_is_set_and_then_needs_a_sender() -> None:
    assert not settings_from({}).mail_enabled
    with pytest.raises(SystemExit, match="MAIL_FROM"):
        settings_from({"SMTP_HOST": "smtp.clinic.example"})
    on = settings_from({"SMTP_HOST": "smtp.clinic.example", "MAIL_FROM": "Goals <a@b.example>"})
    assert on.mail_enabled


def test_a_lease_no_longer_than_a_send_is_refused() -> None:
    with pytest.raises(SystemExit, match="MAIL_LEASE_SECONDS"):
        settings_from({"SMTP_TIMEOUT_SECONDS": "30", "MAIL_LEASE_SECONDS": "30"})
