"""Rule violations, each with a stable code that clients can branch on."""


class GoalRuleViolation(Exception):
    """A command broke a rule; nothing was decided.

    `code` is stable and machine-readable, `message` is written for the person who sent the
    command, and `field` names the offending input where there is one (e.g. "terms.due_date").
    """

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
