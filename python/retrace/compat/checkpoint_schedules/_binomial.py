"""Binomial checkpointing numbers (Griewank & Walther 2000): beta(s, r) = C(s + r, s), the
repetition number and the optimal forward count."""

from math import comb


def beta(s, r):
    """The most steps ``s`` checkpoints reverse with each step advanced at most ``r`` times."""
    return comb(s + r, s) if r >= 0 else 0


def repetition(n, s):
    """The least ``r`` with ``beta(s, r) >= n`` (``n >= 1``, ``s >= 1``)."""
    r = 0
    while beta(s, r) < n:
        r += 1
    return r


def total_steps(n, s):
    """Forward steps (the taped step of each reversed step included) of an optimal reversal of
    ``n`` steps with ``s`` checkpoints (the one of the first step included)."""
    if n == 1:
        return 1
    s = max(1, min(s, n - 1))
    r = repetition(n, s)
    return n + r * n - beta(s + 1, r - 1)
