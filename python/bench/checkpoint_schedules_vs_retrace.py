"""Generation time of `Revolve(n, s)` schedules: checkpoint_schedules 1.0.4 against
retrace.compat.checkpoint_schedules (the same user code, only the import changed).

Each cell consumes the whole action stream (`for a in Revolve(n, s): pass`), construction
included, and reports CPU seconds of this thread (on a shared machine wall time also counts
other processes' turns), best of the repeats; the ratio is checkpoint_schedules / retrace.
The forward steps of both streams are counted while they are consumed and must agree (both
are optimal). A last table gives retrace's time to the first action at large n.

Needs: pip install ./python checkpoint_schedules==1.0.4
Run:   python python/bench/checkpoint_schedules_vs_retrace.py [--n 1000 10000] [--s 10]
       [--repeats 3] [--peer-repeats 1]
"""

import argparse
import time

import checkpoint_schedules as peer

from retrace.compat import checkpoint_schedules as ours


def consume(make):
    """CPU seconds to build the schedule and take every action (counting the actions and the
    forward steps, the same work on both sides)."""
    t0 = time.thread_time()
    count = forward = 0
    for a in make():
        count += 1
        if type(a).__name__ == "Forward":
            forward += a.n1 - a.n0
    return time.thread_time() - t0, count, forward


def best(make, repeats):
    runs = [consume(make) for _ in range(repeats)]
    return min(r[0] for r in runs), runs[0][1], runs[0][2]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--s", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--peer-repeats", type=int, default=1)
    args = p.parse_args()
    s = args.s
    print(f"Revolve(n, s = {s}): CPU seconds to generate the whole stream (best of "
          f"{args.repeats} for retrace, {args.peer_repeats} for checkpoint_schedules)")
    print(f"{'n':>8} {'actions':>9} {'forward':>9} {'checkpoint_schedules':>21} "
          f"{'retrace':>10} {'ratio':>9}")
    for n in args.n:
        t_ours, count, f_ours = best(lambda: ours.Revolve(n, s), args.repeats)
        t_peer, _, f_peer = best(lambda: peer.Revolve(n, s), args.peer_repeats)
        if f_ours != f_peer:
            raise SystemExit(f"forward steps differ at n = {n}: {f_ours} != {f_peer}")
        print(f"{n:>8} {count:>9} {f_ours:>9} {t_peer:>21.4f} {t_ours:>10.4f} "
              f"{t_peer / t_ours:>8.0f}x")
    print()
    print("retrace: CPU seconds to the first action")
    print(f"{'n':>10} {'s':>5} {'seconds':>10}")
    for n, s1 in [(10**6, 100), (10**9, 100)]:
        t0 = time.thread_time()
        next(ours.Revolve(n, s1))
        print(f"{n:>10} {s1:>5} {time.thread_time() - t0:>10.6f}")


if __name__ == "__main__":
    main()
