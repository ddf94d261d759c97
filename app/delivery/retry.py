"""When to try a failed helpdesk export again: exponential backoff with jitter, so that many
exports queued while the helpdesk was down do not all come back at the same moment."""

from __future__ import annotations

import random


def next_attempt_delay(
    attempts: int,
    base: float = 5.0,
    cap: float = 900.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after ``attempts`` failed attempts: ``base``, then doubling each time,
    never more than ``cap``, each delay moved by up to ±``jitter`` (a fraction) at random.
    Returns 0 when nothing has failed yet."""
    if base <= 0 or cap <= 0:
        raise ValueError(f"base and cap must be positive (base={base}, cap={cap})")
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be a fraction in [0, 1), not {jitter}")
    if attempts <= 0:
        return 0.0
    # Past 2**64 × base every realistic cap is reached; this also keeps the power finite.
    delay = min(cap, base * 2.0 ** min(attempts - 1, 64))
    spread = (rng or random).uniform(-jitter, jitter)
    return min(cap, delay * (1.0 + spread))
