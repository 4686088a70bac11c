#!/bin/sh
# bench_quickstart_point.sh: the quickstart's Berrut point (configs/quickstart.ini
# with scheme.kind = berrut: 10,000 jobs of K = 10 LeNet5 queries, 12 coded
# workers) before and after the forward passes moved from one thread with
# OpenBLAS's own threads to fixed batches over the point's threads with
# OpenBLAS single-threaded (commit d4125f5), in wall and CPU seconds.
#
# usage: bench/bench_quickstart_point.sh SOURCE_ROOT BUILD_ROOT BEFORE_BIN [CHANGE_BIN]
#   BEFORE_BIN: stragsim built at d4125f5^ (the last commit before the change),
#   CHANGE_BIN: optionally stragsim built at d4125f5 (the change alone),
#   BUILD_ROOT/stragsim: this tree (the change and all that came after, such
#   as the direct conv kernels). Both old commits link GSL's reference CBLAS
#   ahead of OpenBLAS (cblas_sgemm then runs at a fraction of the speed,
#   whatever the threads); build them with the link order of dc2549c:
#     git worktree add --detach /tmp/before d4125f5^
#     git show dc2549c -- meson.build | git -C /tmp/before apply
#     meson setup /tmp/before-build /tmp/before --buildtype=release
#     meson compile -C /tmp/before-build stragsim
#
# Every binary runs with its defaults on this machine: OPENBLAS_NUM_THREADS
# unset (OpenBLAS then uses every CPU) and, where it exists, --threads at
# its default (the CPUs the process may use). They take turns, ROUNDS times
# (default 5); each keeps its fastest wall run and its least CPU time, and
# the per-round ratios before/after are summarised by their median. The
# table goes into README.md between <!-- bench:berrut-point --> and
# <!-- /bench:berrut-point --> (bench/readme_table.sh).
#
# Environment: ROUNDS, PYTHON (for the timer), BENCH_README (readme_table.sh).
set -eu
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: bench_quickstart_point.sh SOURCE_ROOT BUILD_ROOT BEFORE_BIN [CHANGE_BIN]" >&2
    exit 2
fi
SRC=$1
BUILD=$2
ROUNDS=${ROUNDS:-5}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/bench/readme_table.sh"

# the quickstart without its sweep, at its Berrut point, weights by absolute path
awk -v weights="$(cd "$SRC" && pwd)/models/weights" '
    /^\[sweep\]/ { skip = 1; next }
    /^\[/ { skip = 0 }
    skip { next }
    /^weights *=/ { print "weights = " weights; next }
    { print }
    /^\[scheme\]/ { print "kind = berrut" }' "$SRC/configs/quickstart.ini" > "$TMP/berrut.ini"

CHANGE=${4:-}
set -- before "$3"
if [ -n "$CHANGE" ]; then
    set -- "$@" change "$CHANGE"
fi
set -- "$@" now "$BUILD/stragsim"
echo "== quickstart Berrut point, $ROUNDS rounds ($(uptime | sed 's/.*load/load/')) =="
: > "$TMP/runs"
for r in $(seq "$ROUNDS"); do
    i=1
    while [ $i -lt $# ]; do
        eval "name=\${$i} bin=\${$((i + 1))}"
        rm -f "$TMP/p.db"
        t=$(unset OPENBLAS_NUM_THREADS; bench_timed "$bin" run "$TMP/berrut.ini" -o "$TMP/p.db" --quiet)
        echo "$r $name $t" | tee -a "$TMP/runs"
        i=$((i + 2))
    done
done
echo "== end ($(uptime | sed 's/.*load/load/')) =="

awk -v rounds="$ROUNDS" -v nproc="$(nproc)" '
    function median(a, n,    i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { if (!($2 in wall)) { order[++n] = $2; wall[$2] = $3; cpu[$2] = most[$2] = $4; cores[$2] = $4 / $3 }
      if ($3 < wall[$2]) { wall[$2] = $3; cores[$2] = $4 / $3 }
      if ($4 < cpu[$2]) cpu[$2] = $4
      if ($4 > most[$2]) most[$2] = $4
      w[$1, $2] = $3; c[$1, $2] = $4 }
    END {
        what["before"] = "d4125f5^ (+ dc2549c'"'"'s link order): one forward thread, OpenBLAS threads at their default"
        what["change"] = "d4125f5 (+ dc2549c'"'"'s link order): fixed batches over the point'"'"'s threads, OpenBLAS single-threaded"
        what["now"] = "this tree (the same, and the direct conv kernels)"
        print "| build | fastest wall s | cores | CPU s (least to most) | wall: before / this build (median of rounds) | CPU: before / this build (median of rounds) |"
        print "|---|---|---|---|---|---|"
        for (i = 1; i <= n; i++) {
            b = order[i]
            if (b == "before") { rw = "-"; rc = "-" }
            else {
                for (r = 1; r <= rounds; r++) { xw[r] = w[r, "before"] / w[r, b]; xc[r] = c[r, "before"] / c[r, b] }
                mw[b] = median(xw, rounds); mc[b] = median(xc, rounds)
                rw = sprintf("**%.2fx**", mw[b]); rc = sprintf("%.2fx", mc[b])
            }
            printf "| %s | %.2f | %.2f | %.2f to %.2f | %s | %s |\n", what[b], wall[b], cores[b], cpu[b], most[b], rw, rc
        }
        printf "\nThe builds take turns, %d rounds, on %d CPUs, with OPENBLAS_NUM_THREADS unset and `--threads` at its default;", rounds, nproc
        printf " a ratio above 1 means the later build is faster (CPU: uses less CPU time); \"cores\" is the CPU time over the wall time of the fastest run.\n"
        for (i = 1; i <= n; i++) {
            b = order[i]
            if (b == "before") continue
            printf "\nGoal, %s against before: >= 1.5x faster in wall time (%.2fx: %s) with no more CPU time (%.2fx: %s).", b == "change" ? "the change alone" : "this tree",
                   mw[b], (mw[b] >= 1.5 ? "met" : "missed"), mc[b], (mc[b] >= 1 ? "met" : "missed")
        }
        print ""
    }' "$TMP/runs" > "$TMP/table.md"
cat "$TMP/table.md"
bench_readme_write berrut-point "$TMP/table.md" \
    "bench/bench_quickstart_point.sh . build BEFORE_BIN CHANGE_BIN"
