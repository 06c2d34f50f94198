"""Worker processes for `retrace.tams(model, ..., workers=N)`.

The parent is rank 0 of a distributed run (the sampler's coordinator/worker protocol, the
same as over MPI ranks); `N - 1` child processes, started with multiprocessing's "spawn"
method, are ranks 1..N-1. Each child gets the pickled model and one end of a Unix socket
pair, says whether it could load the model, then runs the Rust worker loop on that socket
until the parent says stop. Children ignore Ctrl-C (the parent ends them), and die with the
parent: Linux's parent-death signal, and the socket's end-of-file if the parent is gone.
"""

import ctypes
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import sys
import traceback

_PR_SET_PDEATHSIG = 1


class WorkerError(RuntimeError):
    """A worker process failed: its model raised (the message holds the Python traceback
    from the worker), it could not load the model, or it ended unexpectedly."""


def _send_frame(sock, data):
    sock.sendall(struct.pack("<Q", len(data)) + data)


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _recv_frame(sock):
    head = _recv_exact(sock, 8)
    if head is None:
        return None
    return _recv_exact(sock, struct.unpack("<Q", head)[0])


def _die_with_parent(parent):
    """Have the kernel kill this process when its parent ends; exit if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


def _main(sock, payload, rank, size, parent):
    """A worker process: load the model, report, serve rank 0 until it says stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    try:
        model = pickle.loads(payload)
    except BaseException:
        _send_frame(sock, traceback.format_exc().encode())
        return
    _send_frame(sock, b"")
    from . import _retrace

    try:
        _retrace._serve_worker(model, sock.detach(), rank, size)
    except Exception as e:  # the parent reports what matters; say why this one stopped
        if os.getppid() == parent:
            print(f"retrace worker {rank}: {e}", file=sys.stderr)
        sys.exit(1)


class Pool:
    """`n` worker processes for `model` (ranks 1..n), ready to serve when made."""

    def __init__(self, model, n):
        try:
            payload = pickle.dumps(model)
        except Exception as e:
            # A model with states held as pickles runs wrapped: name the model itself.
            named = getattr(model, "_retrace_model", model)
            raise TypeError(
                f"workers: the model must be picklable to run in worker processes, and "
                f"{type(named).__qualname__} is not ({type(e).__name__}: {e}); define its "
                "class at module level and keep no open files, locks or threads in it (or "
                "give it __getstate__/__setstate__)"
            ) from e
        ctx = multiprocessing.get_context("spawn")
        self._procs, self._socks = [], []
        try:
            for rank in range(1, n + 1):
                mine, theirs = socket.socketpair()
                self._socks.append(mine)
                p = ctx.Process(
                    target=_main,
                    args=(theirs, payload, rank, n + 1, os.getpid()),
                    name=f"retrace-worker-{rank}",
                    daemon=True,
                )
                p.start()
                theirs.close()
                self._procs.append(p)
            for rank, (p, s) in enumerate(zip(self._procs, self._socks), 1):
                said = _recv_frame(s)
                if said is None:
                    p.join()
                    raise WorkerError(
                        f"worker {rank} ended before it was ready (exit code {p.exitcode}; "
                        "its error is above; a script that starts workers needs "
                        "`if __name__ == \"__main__\":` around its run)"
                    )
                if said:
                    raise WorkerError(
                        f"worker {rank} could not load the model:\n{said.decode(errors='replace')}"
                    )
        except BaseException:
            self.kill()
            raise

    def pids(self):
        """The worker processes' ids (rank order)."""
        return [p.pid for p in self._procs]

    def take_fds(self):
        """The parent's socket ends (rank order), handed over to the caller, who closes them."""
        fds = [s.detach() for s in self._socks]
        self._socks = []
        return fds

    def kill(self):
        """End every worker now and wait for them."""
        for p in self._procs:
            if p.is_alive():
                p.kill()
        self.join()

    def join(self):
        """Wait for every worker to end."""
        for p in self._procs:
            p.join()
        for s in self._socks:
            s.close()
        self._socks = []


# For tests: called with the workers' pids once they are ready (None: nothing).
on_started = None


def start(model, n):
    """A ready `Pool` of `n` workers for `model`."""
    pool = Pool(model, n)
    try:
        if on_started is not None:
            on_started(pool.pids())
    except BaseException:
        pool.kill()
        raise
    return pool
