"""The documentation page at /schema runs only what the service itself serves."""

import re

from litestar.testing import AsyncTestClient

_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


async def test_the_page_loads_only_same_origin_assets_that_are_served(
    api: AsyncTestClient,
) -> None:
    page = await api.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")

    references = _REFERENCE.findall(page.text)
    assert any(reference.endswith(".js") for reference in references)
    for reference in references:
        assert reference.startswith("/"), reference
        assert not reference.startswith("//"), reference
        asset = await api.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference
    # No inline code, which a policy of 'self' could not tell from injected code.
    assert all(tag.strip() for tag in re.findall(r"<script([^>]*)>", page.text))
    assert "style=" not in page.text
    assert "<style" not in page.text


async def test_the_page_forbids_anything_from_elsewhere(api: AsyncTestClient) -> None:
    for path in ("/schema", "/schema/assets/swagger-ui-bundle.js", "/schema/openapi.json"):
        answered = await api.get(path)
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in answered.headers["content-security-policy"].split(";")
        )
        assert policy["default-src"] == "'none'", path
        assert policy["script-src"] == "'self'", path
        assert policy["connect-src"] == "'self'", path
        assert policy["frame-ancestors"] == "'none'", path


async def test_only_the_page_s_own_files_are_served(api: AsyncTestClient) -> None:
    for name in ("swagger-editor-bundle.js", "..%2F..%2Fconfig.py", "LICENSE"):
        assert (await api.get(f"/schema/assets/{name}")).status_code == 404
