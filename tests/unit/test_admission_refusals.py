"""A process at its bound on concurrent requests refuses the next at once: in problem details,
or, on the FHIR routes, as an OperationOutcome."""

import asyncio

import httpx
import msgspec
from litestar.types import Receive, Scope, Send

from services.api.admission import admission
from tests.fhir_validation import validate_fhir


async def test_a_refusal_speaks_the_language_of_the_route() -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def held(scope: Scope, receive: Receive, send: Send) -> None:
        entered.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    app = admission(held, limit=1)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        holding = asyncio.create_task(client.get("/v1/me/goals"))
        await entered.wait()
        fhir = await client.get("/fhir/r4/Goal?patient=someone")
        plain = await client.get("/v1/me/goals")
        release.set()
        assert (await holding).status_code == 204

    assert fhir.status_code == plain.status_code == 503
    assert fhir.headers["retry-after"] == plain.headers["retry-after"]
    assert fhir.headers["content-type"] == "application/fhir+json"
    outcome = validate_fhir(msgspec.json.decode(fhir.content))
    assert outcome["issue"][0]["code"] == "transient"
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "overloaded"
    assert plain.headers["content-type"] == "application/problem+json"
    assert plain.json()["code"] == "overloaded"
