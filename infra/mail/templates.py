"""E-mail bodies from Jinja2 templates in infra/mail/templates/: `NAME.txt` for the plain text
and `NAME.html` for the HTML, both given the same context.

HTML is autoescaped, so a name or a note written by a person cannot become markup; plain text
is not (it is no markup). A name the context lacks is an error, never a blank.
"""

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_email(template: str, **context: object) -> tuple[str, str]:
    """(text, html) of the template `template` with `context`."""
    environment = _environment()
    text = environment.get_template(f"{template}.txt").render(context)
    html = environment.get_template(f"{template}.html").render(context)
    return text, html
