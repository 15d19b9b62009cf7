"""structlog set up once per process: JSON lines off a terminal, readable on one."""

import logging
import sys

import structlog

from infra.config import Settings


class _Stderr:
    """Whatever the process's standard error is when a line is written, not when logging was
    set up: a caller that swaps and closes its own (a test capturing output) leaves the logs
    working."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(settings: Settings) -> None:
    as_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # One write per line, so that lines piped through other processes never interleave.
        # structlog asks for a TextIO, of which it only ever calls write and flush.
        logger_factory=structlog.WriteLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    # Libraries log through the standard library; render their lines the same way.
    handler = logging.StreamHandler(_Stderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "dramatiq"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # The API logs one structured line per request itself; uvicorn writes its access line only
    # where the access logger has a handler.
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    # A line per outgoing request (webhook attempts) says nothing that the attempts' own rows
    # and the senders' lines do not, and costs a sender as much as a tenth of its time.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
