"""What a fold raises for an event it cannot apply where the log puts it.

Events are facts: a fold never refuses one on a rule, since the decider has already applied every
rule. An event a fold cannot apply means the stream is damaged, or the reader skipped or repeated
part of it; nothing the person who acted could have done. These are ValueErrors, as malformed
events are, so that a consumer that stops at a bad event stops at these too.

A kind of event that a fold does not handle at all is a different failure, and a type error:
every fold ends in `assert_never`, so mypy names the fold that lacks the case.
"""


class EventOutOfOrder(ValueError):
    """An event that cannot follow what was folded before it: a goal set twice, or an event on a
    goal not yet set."""


class VersionGap(EventOutOfOrder):
    """An event whose version is not the next after the one folded last: events were skipped or
    repeated."""


class IncompleteEvent(ValueError):
    """An event without what its kind requires: a check-in correction that names no check-in."""
