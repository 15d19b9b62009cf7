"""The interactive documentation at /schema, served whole by the service itself.

People paste their tokens into this page, so it runs no code from elsewhere: Swagger UI's files
come from the `swagger-ui-py` package (its version pinned in uv.lock) and are served under
/schema/assets, the page's own script is a file beside this module, and a Content-Security-Policy
on everything under /schema lets the browser load, run or send nothing to another origin. The
page works offline.
"""

from importlib.util import find_spec
from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.datastructures import ResponseHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.response import File

SCHEMA_PATH = "/schema"
ASSETS = f"{SCHEMA_PATH}/assets"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        # Swagger UI's stylesheet draws its icons as data: images.
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def _swagger_ui_files() -> Path:
    # Located, not imported: the package's Python side (for other frameworks) is not used.
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


_SWAGGER_UI = _swagger_ui_files()
_FILES: dict[str, tuple[Path, str]] = {
    "swagger-ui.css": (_SWAGGER_UI / "swagger-ui.css", "text/css"),
    "swagger-ui-bundle.js": (_SWAGGER_UI / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui-standalone-preset.js": (
        _SWAGGER_UI / "swagger-ui-standalone-preset.js",
        "text/javascript",
    ),
    "favicon.png": (_SWAGGER_UI / "favicon-32x32.png", "image/png"),
    "docs-page.js": (Path(__file__).with_name("docs_page.js"), "text/javascript"),
}


@get("/assets/{name:str}", sync_to_thread=False, include_in_schema=False)
def asset(name: FromPath[str]) -> File:
    if name not in _FILES:
        raise NotFoundException()
    path, media_type = _FILES[name]
    return File(
        path,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=86400"},
    )


class SwaggerPage(OpenAPIRenderPlugin):
    """Swagger UI, from the service's own assets, with no inline script or style."""

    def __init__(self) -> None:
        super().__init__(path="/swagger", favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = openapi_schema["info"]["title"]
        openapi_url = self.get_openapi_json_route(request)
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{ASSETS}/favicon.png">
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body data-openapi-url="{openapi_url}">
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/swagger-ui-standalone-preset.js"></script>
<script src="{ASSETS}/docs-page.js"></script>
</body>
</html>
""".encode()


def schema_router() -> Router:
    """The router Litestar serves the OpenAPI document and its page from."""
    return Router(
        SCHEMA_PATH,
        route_handlers=[asset],
        include_in_schema=False,
        response_headers=[
            ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY)
        ],
        dto=None,
        return_dto=None,
    )
