"""The helpers of pyTAMS 1.0's `pytams.utils` that tests and scripts import."""

import platform

import numpy as np

__all__ = ["get_min_scored", "is_mac_os", "is_windows_os"]


def is_windows_os():
    """Whether this is Windows."""
    return platform.system() == "Windows"


def is_mac_os():
    """Whether this is macOS."""
    return platform.system() == "Darwin"


def get_min_scored(maxes, nworkers):
    """Indices and values of the `nworkers` lowest maxima, and of any tied with the highest of
    them."""
    maxes = np.asarray(maxes)
    order = np.argsort(maxes, kind="stable")
    cut = maxes[order[min(nworkers, len(maxes)) - 1]]
    idx = [int(i) for i in order if maxes[i] <= cut]
    return idx, maxes[idx]

