"""Shared helpers: a nonlinear model whose store-everything gradient is the reference."""

import signal

import numpy as np
import pytest

DT = 0.05


def step(u):
    """u_{k+1} = u_k + dt sin(u_k) (in place)."""
    u += DT * np.sin(u)


def step_out(u_in, u_out):
    """The same step, out of place."""
    np.sin(u_in, out=u_out)
    u_out *= DT
    u_out += u_in


def adjoint_step(u, lam):
    """lam_k = lam_{k+1} (1 + dt cos(u_k)) (in place)."""
    lam *= 1.0 + DT * np.cos(u)


def reference(u0, n, lam_n):
    """Store every state, then reverse: the gradient and all states."""
    states = [u0.copy()]
    u = u0.copy()
    for _ in range(n):
        step(u)
        states.append(u.copy())
    lam = lam_n.copy()
    for k in range(n - 1, -1, -1):
        adjoint_step(states[k], lam)
    return states, lam


@pytest.fixture
def u0():
    return np.linspace(-2.0, 3.0, 257)


@pytest.fixture
def ctrl_c():
    """Ctrl-C (SIGINT) raises KeyboardInterrupt during the test, also where the test process
    started with SIGINT ignored (a shell starts background jobs so, and Python then installs no
    handler)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)
