"""Devito's acoustic FWI gradient (``jacobian_adjoint``) through pyrevolve, through retrace's
drop-in (``pyrevolve`` redirected by python/tests/shims) and without checkpointing.

    python python/bench/devito_gradient.py [--shape 150,150] [--tn 1500] [--repeat 3]

Each variant runs in its own process (Devito picks its pyrevolve at import). Prints a table:
wall seconds of one ``jacobian_adjoint`` call (the best of ``--repeat``, after a first call
that compiles), the ratio to checkpointing=False, and whether the gradient is bitwise equal to
the checkpointing=False one and to pyrevolve's. ``--mode`` runs one variant (used by
python/tests/test_compat_pyrevolve_devito.py).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

SHIMS = pathlib.Path(__file__).resolve().parents[1] / "tests" / "shims"


def run_one(mode, shape, tn, space_order, nbl, dtype, repeat, out):
    """In this process: one variant's gradient (saved to ``out``) and its best wall time."""
    if mode == "retrace":
        sys.path.insert(0, str(SHIMS))
    import time

    import numpy as np
    from devito import Function, smooth
    from examples.seismic import Receiver
    from examples.seismic.acoustic import acoustic_setup

    if mode != "none":
        import pyrevolve

        shimmed = pyrevolve.__file__.startswith(str(SHIMS))
        assert shimmed == (mode == "retrace"), pyrevolve.__file__
    dtype = np.dtype(dtype).type
    wave = acoustic_setup(shape=shape, spacing=(10.0,) * len(shape), dtype=dtype,
                          kernel="OT2", space_order=space_order, nbl=nbl, tn=tn,
                          opt=("advanced", {"openmp": True}), time_order=2)
    v0 = Function(name="v0", grid=wave.model.grid, space_order=space_order, dtype=dtype)
    smooth(v0, wave.model.vp)
    rec = wave.forward()[0]
    rec0, u0 = wave.forward(vp=v0, save=True)[0:2]
    residual = Receiver(name="rec", grid=wave.model.grid, data=rec0.data - rec.data,
                        time_range=wave.geometry.time_axis,
                        coordinates=wave.geometry.rec_positions, dtype=dtype)
    times = []
    for i in range(repeat + 1):  # the first call compiles: not timed (unless repeat is 0)
        grad = Function(name="grad", grid=wave.model.grid, dtype=dtype)
        t0 = time.perf_counter()
        wave.jacobian_adjoint(residual, u0, vp=v0, checkpointing=(mode != "none"), grad=grad)
        if i > 0 or repeat == 0:
            times.append(time.perf_counter() - t0)
    best = min(times)
    np.save(out, np.asarray(grad.data))
    return {"mode": mode, "seconds": best, "nt": int(wave.geometry.nt)}


def spawn(mode, args, out):
    """Run one variant in a fresh interpreter; its result dict."""
    cmd = [sys.executable, __file__, "--mode", mode, "--out", out,
           "--shape", ",".join(map(str, args.shape)), "--tn", str(args.tn),
           "--space-order", str(args.space_order), "--nbl", str(args.nbl),
           "--dtype", args.dtype, "--repeat", str(args.repeat)]
    env = dict(os.environ, DEVITO_LOGGING="WARNING")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def has_real_pyrevolve():
    code = "import pyrevolve, sys; sys.exit('retrace' in pyrevolve.__file__)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["retrace", "pyrevolve", "none"])
    p.add_argument("--out")
    p.add_argument("--shape", type=lambda s: tuple(int(x) for x in s.split(",")),
                   default=(150, 150))
    p.add_argument("--tn", type=float, default=1500.0)
    p.add_argument("--space-order", type=int, default=4)
    p.add_argument("--nbl", type=int, default=40)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    if args.mode:
        res = run_one(args.mode, args.shape, args.tn, args.space_order, args.nbl, args.dtype,
                      args.repeat, args.out)
        print(json.dumps(res))
        return
    import numpy as np

    modes = ["none", "retrace"] + (["pyrevolve"] if has_real_pyrevolve() else [])
    with tempfile.TemporaryDirectory() as tmp:
        res = {m: spawn(m, args, f"{tmp}/{m}.npy") for m in modes}
        grads = {m: np.load(f"{tmp}/{m}.npy") for m in modes}
    base = res["none"]["seconds"]
    print(f"Devito acoustic gradient, shape {args.shape}, nt {res['none']['nt']}, "
          f"{args.dtype}, space order {args.space_order}; best of {args.repeat}")
    print(f"{'variant':<28}{'seconds':>10}{'vs no ckp':>11}  bitwise = no ckp  = pyrevolve")
    names = {"none": "checkpointing=False", "retrace": "checkpointing=True, retrace",
             "pyrevolve": "checkpointing=True, pyrevolve"}
    for m in modes:
        same_none = np.array_equal(grads[m], grads["none"])
        same_pr = np.array_equal(grads[m], grads["pyrevolve"]) if "pyrevolve" in grads else None
        print(f"{names[m]:<28}{res[m]['seconds']:>10.3f}{res[m]['seconds'] / base:>11.2f}  "
              f"{str(same_none):<17} {'-' if same_pr is None else same_pr}")


if __name__ == "__main__":
    main()
