"""Query parameters that several resources take."""

from typing import Annotated

from litestar.params import QueryParameter

MinPosition = Annotated[int | None, QueryParameter(ge=0, description="wait for this position")]
"""A write's log position: the read waits briefly until the projection has applied it."""
