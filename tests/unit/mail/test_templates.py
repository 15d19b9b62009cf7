from datetime import UTC, datetime

import pytest
from jinja2 import UndefinedError

from infra.access.invitation_mail import invitation_link
from infra.mail.templates import render_email

CONTEXT = {
    "preview": "You have been invited to sign in.",
    "code": "tgi_<script>alert(1)</script>&",
    "link": None,
    "expires_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
}


def test_the_html_is_escaped_and_the_text_is_not() -> None:
    text, html = render_email("invitation", **CONTEXT)

    assert "tgi_<script>alert(1)</script>&" in text
    assert "<script>" not in html
    assert "tgi_&lt;script&gt;alert(1)&lt;/script&gt;&amp;" in html
    assert text.startswith(CONTEXT["preview"])  # type: ignore[arg-type]
    assert "2026-03-01 09:30 UTC" in text


def test_a_name_the_context_lacks_is_an_error() -> None:
    with pytest.raises(UndefinedError):
        render_email("invitation", preview="x", link=None, expires_at=CONTEXT["expires_at"])


def test_the_link_carries_the_code_after_the_fragment_mark_only() -> None:
    assert invitation_link("", "tgi_abc") is None
    assert (
        invitation_link("https://goals.clinic.example/", "tgi_a/b+c")
        == "https://goals.clinic.example/invitation#code=tgi_a%2Fb%2Bc"
    )
