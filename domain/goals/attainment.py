"""Goal Attainment Scaling (Kiresuk and Sherman): one T-score over a client's rated goals."""

import math
from collections.abc import Sequence

# The conventional correlation between goal scores assumed by the formula.
RHO = 0.3
RATINGS = range(-2, 3)


def t_score(ratings: Sequence[int], weights: Sequence[float] | None = None) -> float | None:
    """T = 50 + 10 * sum(w*x) / sqrt((1 - rho) * sum(w^2) + rho * sum(w)^2); None if none rated.

    A score of 50 means every goal reached its expected outcome (0).
    """
    if not ratings:
        return None
    chosen = [1.0] * len(ratings) if weights is None else list(weights)
    if len(chosen) != len(ratings):
        raise ValueError("one weight per rating")
    weighted = sum(w * x for w, x in zip(chosen, ratings, strict=True))
    spread = (1 - RHO) * sum(w * w for w in chosen) + RHO * sum(chosen) ** 2
    return 50 + 10 * weighted / math.sqrt(spread)
