"""oracle_tables.py: what the coded-computing oracles (bspline_oracle.py,
codes_oracle.py, floater_hormann_oracle.py, and inference_oracle.py through
them) share: the data nodes, the worker node families, and printing a
matrix as the C table the tests embed between their ORACLE markers.
"""
import numpy as np


def cheb1(k):
    """The K data nodes: first-kind Chebyshev points cos((2i+1) pi / 2K)."""
    return np.cos((2 * np.arange(k) + 1) * np.pi / (2 * k))


def workers(n, family):
    """The N worker nodes of a family: "N" cos(n pi/N), "N-1" cos(n pi/(N-1)),
    "uniform" equispaced from 1 down to -1."""
    if family == "uniform":
        return 1.0 - 2.0 * np.arange(n) / (n - 1)
    d = n if family == "N" else n - 1
    return np.cos(np.arange(n) * np.pi / d)


def c_table(name, mat):
    """Prints mat, row-major, as `static const double name[size] = {...};`,
    four values a line to 17 significant digits."""
    vals = ["%.17g" % v for v in np.asarray(mat).ravel()]
    print("static const double %s[%d] = {" % (name, mat.size))
    for i in range(0, len(vals), 4):
        print("    " + ", ".join(vals[i:i + 4]) + ",")
    print("};")
