"""pyrevolve's ``profiling``: wall-clock timings and counts per (section, action)."""

from time import perf_counter

__all__ = ["Profiler", "Timer"]


class Timer:
    """A context manager adding its elapsed milliseconds to a profiler entry."""

    def __init__(self, profiler, section, action):
        self.profiler = profiler
        self.section = section
        self.action = action
        self.start = 0.0
        self.elapsed_secs = 0.0
        self.elapsed = 0.0

    def __enter__(self):
        self.start = perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed_secs = perf_counter() - self.start
        self.elapsed = self.elapsed_secs * 1000.0
        self.profiler.increment(self.section, self.action, self.elapsed)
        return False


class Profiler:
    """Milliseconds (``timings``) and calls (``counts``) per section and action."""

    def __init__(self):
        self.timings = {}
        self.counts = {}

    def get_timer(self, section, action):
        """A :class:`Timer` for one (section, action) entry."""
        return Timer(self, section, action)

    def increment(self, section, action, elapsed):
        """Add ``elapsed`` milliseconds and one call to an entry."""
        t = self.timings.setdefault(section, {})
        t[action] = t.get(action, 0) + elapsed
        c = self.counts.setdefault(section, {})
        c[action] = c.get(action, 0) + 1

    def summary(self):
        """A text table: per section, each action's milliseconds and (calls)."""
        lines = ["****************"]
        for section, entries in self.timings.items():
            lines.append(f"In section {section}:")
            for action, ms in entries.items():
                lines.append(f"\tAction {action}: {ms:f} ({self.counts[section][action]})")
        lines.append("****************")
        return "\n".join(lines)

    def get_dict(self):
        """``{section_action_timing: "ms", section_action_counts: calls}``."""
        out = {}
        for section, entries in self.timings.items():
            for action, ms in entries.items():
                out[f"{section}_{action}_timing"] = f"{ms:.2f}"
        for section, entries in self.counts.items():
            for action, n in entries.items():
                out[f"{section}_{action}_counts"] = n
        return out
