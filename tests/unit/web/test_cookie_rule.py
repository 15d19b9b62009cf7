"""Cookies are Secure unless the app is served over plain http on this machine alone."""

import pytest

from infra.config import Settings
from services.web.security import cookies_secure


@pytest.mark.parametrize(
    ("public_base_url", "secure"),
    [
        ("https://goals.clinic.example", True),
        ("https://127.0.0.1:8443", True),
        ("http://goals.clinic.example", True),
        ("http://10.0.0.5:8000", True),
        ("", True),
        ("http://127.0.0.1:8000", False),
        ("http://127.8.9.1", False),
        ("http://localhost:8000", False),
        ("http://[::1]:8000", False),
    ],
)
def test_cookies_are_secure_unless_plain_http_on_loopback(
    public_base_url: str, secure: bool
) -> None:
    assert cookies_secure(Settings(public_base_url=public_base_url)) is secure
