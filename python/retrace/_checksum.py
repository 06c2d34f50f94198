"""Row checksums of a run database (format version 3): 64-bit FNV-1a over the row's values in
the canonical encoding of `sampler/src/db/rows.rs` (each value tagged; texts and blobs
length-prefixed). Pure Python, no dependencies."""

import struct

_OFFSET = 0xCBF29CE484222325
_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1

ITERATION_COLUMNS = (
    "iteration, level, k, killed, parents, children, weight, weight_bits, reached, next_id, "
    "branches, model_steps, replay_steps, held, peak_held, select_word_pos, committed_at"
)
CONFIG_COLUMNS = "toml, model, ntrajectories, l, seed, nsplititer, walltime"
TRAJECTORY_COLUMNS = "id, slot, parent, branch_step, born, last_step, max_score, reached, lineage"


class _Fnv:
    def __init__(self, table):
        self.h = _OFFSET
        self.bytes(table.encode())

    def bytes(self, b):
        h = self.h
        for x in b:
            h = ((h ^ x) * _PRIME) & _MASK
        self.h = h
        return self

    def int(self, v):
        return self.bytes(b"\x01" + struct.pack("<q", v))

    def real(self, v):
        return self.bytes(b"\x02" + struct.pack("<d", v))

    def blob(self, v):
        if isinstance(v, str):
            v = v.encode()
        return self.bytes(b"\x03" + struct.pack("<Q", len(v)) + bytes(v))

    def opt(self, v, put):
        return self.bytes(b"\x00") if v is None else put(v)

    def finish(self):
        return struct.unpack("<q", struct.pack("<Q", self.h))[0]


def iteration(row):
    """Checksum of an `iterations` row selected with ITERATION_COLUMNS."""
    (q, level, k, killed, parents, children, weight, weight_bits, reached, next_id, branches,
     model_steps, replay_steps, held, peak_held, pos, committed_at) = row
    f = _Fnv("iterations").int(q)
    f.opt(level, f.real)
    f.int(k).blob(killed).blob(parents).blob(children).real(weight).int(weight_bits)
    for v in (reached, next_id, branches, model_steps, replay_steps, held, peak_held):
        f.int(v)
    return f.blob(pos).real(committed_at).finish()


def config(row):
    """Checksum of the `config` row selected with CONFIG_COLUMNS."""
    toml, model, n, l, seed, nsplititer, walltime = row
    f = _Fnv("config").blob(toml).blob(model).int(n).int(l).int(seed).int(nsplititer)
    return f.opt(walltime, f.real).finish()


def trajectory(row):
    """Checksum of a `trajectories` row selected with TRAJECTORY_COLUMNS."""
    tid, slot, parent, branch_step, born, last_step, max_score, reached, lineage = row
    f = _Fnv("trajectories").int(tid).int(slot)
    f.opt(parent, f.int)
    f.opt(branch_step, f.int)
    return f.int(born).int(last_step).real(max_score).int(int(reached)).blob(lineage).finish()
