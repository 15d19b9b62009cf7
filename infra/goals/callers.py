"""Who each token proved last, per process: a guess for the one-trip check-in."""

from collections import OrderedDict

from domain.access.policy import Caller


class RecentCallers:
    """The caller each token hash last proved in this process, as a guess to act on, never as
    proof: whatever acts on a guess must confirm the token in the same statement
    (infra/goals/check_ins_at_once.py). A user's clinic and role never change."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._callers: OrderedDict[bytes, Caller] = OrderedDict()

    def remember(self, token_hash: bytes, caller: Caller) -> None:
        self._callers[token_hash] = caller
        self._callers.move_to_end(token_hash)
        if len(self._callers) > self._capacity:
            self._callers.popitem(last=False)

    def guess(self, token_hash: bytes) -> Caller | None:
        return self._callers.get(token_hash)
