"""Reading a posted form's text fields as the JSON API reads a body's strings: a NUL character
(which PostgreSQL cannot store) is refused as bad input (400), never passed on to a write."""

from litestar.datastructures import FormMultiDict

from services.api.errors import Problem


def form_text(form: FormMultiDict, name: str) -> str:
    """The field's text, trimmed; empty when it is missing."""
    value = str(form.get(name, "")).strip()
    if "\x00" in value:
        raise Problem(400, "nul_in_text", "Text may not contain the NUL character.")
    return value
