"""The time a goal's cue names, if any: "at 7:30, after breakfast", "every day at 6pm"."""

import re
from datetime import time
from functools import lru_cache

_TWELVE_HOUR = re.compile(r"\b(1[0-2]|0?[1-9])(?:[:.]([0-5]\d))?\s*([ap])\.?m\b", re.IGNORECASE)
_TWENTY_FOUR_HOUR = re.compile(r"\b([01]?\d|2[0-3])[:h.]([0-5]\d)\b")


# A scan asks for every active goal's cue each minute; the same cues come again and again.
@lru_cache(maxsize=4096)
def cue_time(cue: str | None) -> time | None:
    """The first clock time the cue names; None when it names none ("after lunch")."""
    if not cue:
        return None
    twelve = _TWELVE_HOUR.search(cue)
    if twelve is not None:
        hour = int(twelve.group(1)) % 12 + (12 if twelve.group(3).lower() == "p" else 0)
        return time(hour, int(twelve.group(2) or 0))
    twenty_four = _TWENTY_FOUR_HOUR.search(cue)
    if twenty_four is not None:
        return time(int(twenty_four.group(1)), int(twenty_four.group(2)))
    return None
