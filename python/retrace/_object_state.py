"""States that are not numeric arrays, for `retrace.tams` (docs/python.md, "States that are not
arrays").

A Python model's state is held as a float64 array when its `initial_state()` returns a numeric
numpy array, a number, or a (nested) list or tuple of numbers, unless the model declares
`state = "object"`. Any other state (a dataclass, a dict, a string, a path to a file the model
manages, ...) is held as its pickle, encoded by `retrace._state_codec.StateCodec` (the encoding
`retrace.compat.pytams` uses too): the same stores, memory budgets, spill files, run databases
and worker processes as array states. Such a model's `step(state, t, dt, noise)` returns the new
state (it cannot change a pickled state in place), and `score(state, t)` gets the state as
`step` returned it, unpickled.

The Rust side (`PyModel::new`) calls `prepare` once with the model and its first initial state;
an `ObjectStateModel` it returns is the model retrace runs (and pickles for worker processes).
"""

import pickle

import numpy as np

from ._state_codec import StateCodec, is_numeric


def _is_array_like(x):
    """Whether `x` was always run as a float64 array: a numeric array, a number, or a (nested)
    list or tuple of numbers."""
    if is_numeric(x):
        return True
    if isinstance(x, (list, tuple)):
        try:
            return np.asarray(x).dtype.kind in "biuf"
        except (ValueError, TypeError):
            return False
    return False


def _declared(model):
    """The model's `state` declaration: "object", "array" or None."""
    declared = getattr(model, "state", None)
    if not isinstance(declared, str):
        return None
    if declared not in ("object", "array"):
        raise TypeError(
            f"{type(model).__qualname__}.state = {declared!r}: \"object\" (states held as "
            "their pickle) or \"array\" (float64 arrays); leave it out to decide from "
            "initial_state()"
        )
    return declared


def prepare(model, first, random):
    """`None` when `model`'s states are float64 arrays; else `(wrapper, encoded_first)`: the
    `ObjectStateModel` to run and the template state it gives. `first`: the model's first
    initial state; `random`: its `initial_state` takes a generator."""
    declared = _declared(model)
    if declared == "array" or (declared is None and _is_array_like(first)):
        return None
    cls = RandomObjectStateModel if random else ObjectStateModel
    wrapper = cls(model, first)
    return wrapper, wrapper._encode(first)


class ObjectStateModel:
    """`model` with its states held as pickles (see the module documentation)."""

    def __init__(self, model, first):
        self._retrace_model = model
        self._name = type(model).__qualname__
        self.noise_size = model.noise_size
        capacity = getattr(model, "state_bytes", None)
        try:
            self._codec = StateCodec(
                first, None, capacity, pickled=True, capacity_attr=f"{self._name}.state_bytes"
            )
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as e:
            raise self._unpicklable(first, e) from e
        self._first = self._encode(first)

    def _unpicklable(self, state, e):
        return TypeError(
            f"{self._name}: its state, a {type(state).__qualname__}, cannot be pickled "
            f"({type(e).__name__}: {e}); a state that is not a numeric array is held as its "
            "pickle"
        )

    def _encode(self, state, out=None):
        # The codec raises ValueError only for a state too large; pickling fails otherwise.
        try:
            if out is None:
                return self._codec.encode(state)
            self._codec.encode_into(state, out)
            return out
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as e:
            raise self._unpicklable(state, e) from e

    def initial_state(self):
        """The encoded first state (a fresh copy)."""
        return self._first.copy()

    def step(self, x, t, dt, noise):
        """The model's step from the state `x` holds; the new state written into `x`."""
        new = self._retrace_model.step(self._codec.decode(x), t, dt, noise)
        if new is None:
            raise TypeError(
                f"{self._name}.step returned None: a model whose state is not a numeric array "
                "returns the new state"
            )
        self._encode(new, x)

    def score(self, x, t):
        """The model's score of the state `x` holds."""
        return self._retrace_model.score(self._codec.decode(x), t)


class RandomObjectStateModel(ObjectStateModel):
    """An `ObjectStateModel` whose model draws its initial states (`initial_state(rng)`)."""

    def initial_state(self, rng):
        """The model's initial state drawn with `rng`, encoded."""
        return self._encode(self._retrace_model.initial_state(rng))
