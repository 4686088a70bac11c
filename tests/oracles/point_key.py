#!/usr/bin/env python3
# point_key.py: computes the point keys that tests/test_config.c pins
# (point_keys_match_independently_computed_literals), from the canonical
# form documented in app/config.c (above config_point_canonical), without
# stragsim's code:
#   keep the params that apply to the point (its workload, scheme and
#   latency kinds read them), minus experiment.name/db/repeats and minus a
#   value equal to its own default; sort by key; "key=value\n" each; then
#   "\nrepeat=R". The key is the 16-digit hex of FNV-1a 64 over those bytes
#   followed by one splitmix64 step.
# The kept params of each case are worked out by hand from the config text
# in the test (the comments say what was dropped and why).
# Run: python3 tests/oracles/point_key.py

M = (1 << 64) - 1


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & M
    return h


def point_key(kept, repeat):
    text = "".join(f"{k}={v}\n" for k, v in sorted(kept.items()))
    text += f"\nrepeat={repeat}"
    return f"{splitmix64(fnv1a64(text.encode())):016x}"


CASES = {
    # [workload] kind = latency, [latency] kind = exp: scheme.kind (uncoded),
    # experiment.seed (1), common_streams (true), ... are their defaults.
    "latency_exp": ({"latency.kind": "exp", "workload.kind": "latency"}, 0),
    # lagrange on a latency workload; dropped: scheme.degree = 0 (lagrange's
    # own default), latency.shape (exp does not read it), train.epochs
    # (only `stragsim train`), workload.model (the latency workload does not
    # read it); kept: scheme.nodes = n (berrut's default, not lagrange's).
    "lagrange_nodes_n": ({"cluster.workers": "6", "latency.kind": "exp",
                          "scheme.kind": "lagrange", "scheme.nodes": "n",
                          "scheme.stragglers": "2", "workload.kind": "latency"}, 0),
    # markov, repeat 1 of 2; dropped: latency.active.shape (exp does not
    # read it), latency.slow.scale = 1 (its default), experiment.repeats.
    "markov_repeat1": ({"latency.kind": "markov", "latency.p_active_to_slow": "0.1",
                        "latency.p_slow_to_active": "0.5", "latency.active.kind": "exp",
                        "latency.active.rate": "2", "latency.slow.kind": "pareto",
                        "latency.slow.shape": "2", "workload.kind": "latency",
                        "experiment.common_streams": "false"}, 1),
}

if __name__ == "__main__":
    for name, (kept, repeat) in CASES.items():
        print(name, point_key(kept, repeat))
