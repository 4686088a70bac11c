#!/usr/bin/env bash
# test_bad_input.sh: the bad-input catalogue, end to end through the stragsim
# binary: malformed ini files and --set values, trace CSVs, Fashion-MNIST IDX
# files, weights files and database paths, each given to `stragsim run`,
# `eval`, `trace stats`, `report` or `check`. Every case must print exactly
# one line, the exact message below, exit with status 2, and write nothing:
# the case directory (names, sizes, contents) is the same before and after.
#
# BAD_INPUT_LEARN=1 prints what each case gives instead of judging it.
source "$(dirname "$0")/tap.sh"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
root=${STRAGSIM_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
data=/usr/share/datasets/fashion-mnist
cd "$scratch"

# ---- the good inputs the bad ones are made from ----
write_ini() { # FILE [LATENCY KEY LINES...]: a small valid latency-only config
    local f=$1
    shift
    {
        printf '[experiment]\nname = bad\nseed = 1\n[cluster]\nworkers = 4\n'
        printf '[workload]\nkind = latency\njobs = 50\n[scheme]\nkind = kofn\nk = 3\n[latency]\n'
        if (($#)); then printf '%s\n' "$@"; else printf 'kind = exp\nrate = 1\n'; fi
    } >"$f"
}
ini_with() { # FILE LINES...: the config of LINES, one a line (\n within a LINE starts another)
    printf '%b\n' "${@:2}" >"$1"
}
write_ini ok.ini
"$STRAGSIM" run ok.ini -o good.db -q || tap_fail "a good run for the database cases"
replay_ini() { # FILE CSV: a config replaying CSV with columns w, it, t
    write_ini "$1" "kind = replay" "file = $2" "worker_column = w" "iteration_column = it" \
        "value_column = t"
}
# IDX: a copy of the test set with one file replaced (eval reads the test set only).
idx_dir() { # DIR: a directory holding copies (never links: cases overwrite them) of the test set
    mkdir -p "$1"
    cp "$data"/t10k-*.gz "$1/"
}
idx_header() { # FILE MAGIC_HEX COUNT [ROWS COLS]: an uncompressed IDX header, big-endian
    printf "$(printf '\\x%s' $(echo "$2" | sed 's/../& /g'))" >"$1"
    local v
    for v in "${@:3}"; do printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v >> 24 & 255)) \
        $((v >> 16 & 255)) $((v >> 8 & 255)) $((v & 255)))" >>"$1"; done
}
weights=$root/models/weights/logreg.bin

# snapshot: every entry under the case directory; a file with its size and
# modification time (nanoseconds), so any write to it shows, even one that
# leaves the same bytes; a directory by name only (a temporary file created
# and removed in it is no change). One find, no process per file.
snapshot() {
    find . \( -path ./case.out -o -path ./case.err \) -prune -o -type f -printf '%p f %s %T@\n' \
        -o ! -type f -printf '%p %y\n' | sort
}

# bad DESCRIPTION 'EXPECTED LINE' COMMAND ARGS...: run in the case directory
bad() {
    local desc=$1 want=$2
    shift 2
    local before after status lines
    before=$(snapshot)
    "$@" >case.out 2>case.err
    status=$?
    after=$(snapshot)
    local got
    got=$(cat case.out case.err)
    if [[ -n ${BAD_INPUT_LEARN:-} ]]; then
        printf '%s\n  status %s: %s\n' "$desc" "$status" "$got"
        return
    fi
    lines=$(cat case.out case.err | wc -l)
    if ((status == 2)) && [[ $got == "$want" && $lines == 1 && $before == "$after" ]]; then
        tap_ok "$desc"
    else
        local diff
        diff=$(diff <(echo "$before") <(echo "$after"))
        tap_fail "$desc" "status $status (want 2), $lines lines" "got:  $got" "want: $want" \
            ${diff:+"written: $diff"}
    fi
}
S=$STRAGSIM

# ---- ini files and --set ----
bad "ini: missing file" \
    "missing.ini: cannot read: No such file or directory" \
    "$S" run missing.ini -o new.db -q
mkdir -p adir.ini
bad "ini: a directory" \
    "adir.ini: cannot read: Is a directory" "$S" run adir.ini -o new.db -q
printf '[experiment]\nname = x\n[clusterr]\nworkers = 4\n' >sect.ini
bad "ini: unknown section" "sect.ini:3: unknown section [clusterr]" "$S" run sect.ini -o new.db -q
write_ini key.ini "kind = exp" "rate = 1" "rte = 2"
bad "ini: unknown key" "key.ini:15: unknown key 'rte' in [latency]" "$S" run key.ini -o new.db -q
sed 's/^workers = 4/workers = four/' ok.ini >int.ini
bad "ini: not an integer" "int.ini:5: cluster.workers: expected an integer, got 'four'" "$S" run int.ini -o new.db -q
sed 's/^workers = 4/workers = 0/' ok.ini >range.ini
bad "ini: out of range" "range.ini:5: cluster.workers: must be >= 1" "$S" run range.ini -o new.db -q
write_ini enum.ini "kind = gamma"
bad "ini: not one of the choices" "enum.ini:13: latency.kind: expected one of exp|shifted_exp|pareto|lognormal|weibull|bimodal|markov|replay, got 'gamma'" "$S" run enum.ini -o new.db -q
hetero_dists=("active.kind = exp" "active.rate = 1" "slow.kind = exp" "slow.rate = 0.1")
write_ini hetero_n.ini "kind = markov" "slow_nodes = 5" "${hetero_dists[@]}"
bad "ini: more slow nodes than workers" "hetero_n.ini:14: latency.slow_nodes: 5 slow nodes, more than cluster.workers (4)" "$S" run hetero_n.ini -o new.db -q
write_ini hetero_t.ini "kind = markov" "slow_nodes = 1" "reclass_every = 0" "${hetero_dists[@]}"
bad "ini: slow set re-drawn every 0 iterations" "hetero_t.ini:15: latency.reclass_every: must be >= 1" "$S" run hetero_t.ini -o new.db -q
write_ini hetero_f.ini "kind = markov" "slow_nodes = 1" "p_straggle_slow = 0.5" "${hetero_dists[@]}"
bad "ini: straggle probability without a factor" "hetero_f.ini:15: latency.p_straggle_slow: above 0 needs latency.straggle_factor (how much slower a straggling draw is)" "$S" run hetero_f.ini -o new.db -q
write_ini hetero_0.ini "kind = markov" "p_active_to_slow = 0" "p_slow_to_active = 0" "${hetero_dists[@]}"
bad "ini: a chain without a start" "hetero_0.ini:15: latency.p_slow_to_active: p_active_to_slow and p_slow_to_active are both 0: the chain has no stationary distribution to start from (for permanent classes set latency.slow_nodes)" "$S" run hetero_0.ini -o new.db -q
write_ini real.ini "kind = exp" "rate = 1e999"
bad "ini: real beyond a double" "real.ini:14: latency.rate: '1e999' is out of range" "$S" run real.ini -o new.db -q
write_ini tiny.ini "kind = exp" "rate = 1e-999"
bad "ini: real below a double" "tiny.ini:14: latency.rate: '1e-999' is out of range (must be > 0)" "$S" run tiny.ini -o new.db -q
sed 's/^workers = 4/workers = 99999999999999999999/' ok.ini >bigint.ini
bad "ini: integer beyond int64" "bigint.ini:5: cluster.workers: '99999999999999999999' is out of range (must be <= 100000)" "$S" run bigint.ini -o new.db -q
sed 's/^workers = 4/workers = 9999999999/' ok.ini >bigint2.ini
bad "ini: integer beyond int" "bigint2.ini:5: cluster.workers: must be <= 100000" "$S" run bigint2.ini -o new.db -q
sed 's/^\[cluster\]/[cluster] junk/' ok.ini >hdrjunk.ini
bad "ini: text after a section header" "hdrjunk.ini:4: text after [cluster]: 'junk'" "$S" run hdrjunk.ini -o new.db -q
{ cat ok.ini; printf 'rate = 2\n'; } >dupkey.ini
bad "ini: duplicate key in one section" "dupkey.ini:15: duplicate key 'rate' in [latency] (first on line 14)" "$S" run dupkey.ini -o new.db -q
{ cat ok.ini; printf '[cluster]\nworkers = 5\n'; } >dupsect.ini
bad "ini: a key again in a repeated section" "dupsect.ini:16: duplicate key 'workers' in [cluster] (first on line 5)" "$S" run dupsect.ini -o new.db -q
{ printf '[experiment]\nname = '; head -c 1048576 /dev/zero | tr '\0' x; printf '\n'; } >longline.ini
bad "ini: a line of 1 MiB" "longline.ini:2: line too long (1048583 bytes; lines must be shorter than 1 MiB)" "$S" run longline.ini -o new.db -q
printf '[cluster]\ncancel = maybe\n' >bool.ini
bad "ini: not a boolean" "bool.ini:2: cluster.cancel: expected true or false, got 'maybe'" "$S" run bool.ini -o new.db -q
printf '[experiment]\nname = x\nthis line has no equals sign\n' >syntax.ini
bad "ini: line without =" "syntax.ini:3: expected 'key = value' or '[section]', got 'this line has no equals sign'" "$S" run syntax.ini -o new.db -q
printf '[experiment\nname = x\n' >header.ini
bad "ini: unterminated section header" "header.ini:1: malformed section header '[experiment'" "$S" run header.ini -o new.db -q
printf 'name = x\n' >nosect.ini
bad "ini: key before any section" "nosect.ini:1: key 'name' outside any section" "$S" run nosect.ini -o new.db -q
{ cat ok.ini; printf '[sweep]\ncluster.workers =\n'; } >sweep_empty.ini
bad "ini: empty sweep axis" "sweep_empty.ini:16: sweep of cluster.workers has no values" "$S" run sweep_empty.ini -o new.db -q
{ cat ok.ini; printf '[sweep]\ncluster.workerz = 1, 2\n'; } >sweep_key.ini
bad "ini: sweep of an unknown key" "sweep_key.ini:16: unknown key 'cluster.workerz' in [sweep]" "$S" run sweep_key.ini -o new.db -q
{ cat ok.ini; printf '[sweep]\ncluster.workers = 4, x\n'; } >sweep_val.ini
bad "ini: bad value in a sweep axis" "sweep_val.ini:16: cluster.workers: expected an integer, got 'x'" "$S" run sweep_val.ini -o new.db -q
{ cat ok.ini; printf '[sweep]\ncluster.workers = 4, 2\n'; } >sweep_sem.ini
bad "ini: a sweep point breaks a constraint (k > workers)" "sweep_sem.ini:11: scheme.k: 3 is more than cluster.workers (2)" "$S" run sweep_sem.ini -o new.db -q
sed 's/^k = 3/k = 9/' ok.ini >kofn.ini
bad "ini: scheme constraint (k > workers)" "kofn.ini:11: scheme.k: 9 is more than cluster.workers (4)" "$S" run kofn.ini -o new.db -q
bary=(--set scheme.kind=barycentric)
bad "barycentric: d > K - 1" "--set scheme.d=4: scheme.d: blending degree d = 4 needs K >= d + 1 queries per job (K = 3)" "$S" run ok.ini -o new.db -q "${bary[@]}" --set scheme.d=4
bad "barycentric: K > N" "--set workload.queries=5: workload.queries: K = 5 queries need 6 workers, cluster.workers is 4" "$S" run ok.ini -o new.db -q "${bary[@]}" --set workload.queries=5
bad "barycentric: a deadline rule without a deadline" "--set scheme.decode_when=deadline: scheme.decode_when: decode_when = deadline needs scheme.deadline" "$S" run ok.ini -o new.db -q "${bary[@]}" --set scheme.decode_when=deadline
bad "barycentric: deadline 0" "--set scheme.deadline=0: scheme.deadline: must be > 0" "$S" run ok.ini -o new.db -q "${bary[@]}" --set scheme.deadline=0
bad "barycentric: unknown decode rule" "--set scheme.decode_when=soon: scheme.decode_when: expected one of results|deadline|first, got 'soon'" "$S" run ok.ini -o new.db -q "${bary[@]}" --set scheme.decode_when=soon
printf '[experiment]\nname = \x01\x02\xff\xfe\x00garbage\n\xff\xff' >binary.ini
bad "ini: binary garbage" "binary.ini: not a text file (contains a NUL byte)" "$S" run binary.ini -o new.db -q
bad "--set without =" "--set cluster.workers: expected section.key=value" "$S" run ok.ini -o new.db -q --set cluster.workers
bad "--set unknown key" "--set cluster.wrkers=3: unknown key 'cluster.wrkers'" "$S" run ok.ini -o new.db -q --set cluster.wrkers=3
bad "--set bad value" "--set cluster.workers=-1: cluster.workers: must be >= 1" "$S" run ok.ini -o new.db -q --set cluster.workers=-1
bad "--set a real where an integer belongs" "--set cluster.workers=1e3: cluster.workers: expected an integer, got '1e3'" "$S" run ok.ini -o new.db -q --set cluster.workers=1e3
bad "--set a real beyond a double" "--set latency.rate=-1e999: latency.rate: '-1e999' is out of range (must be > 0)" "$S" run ok.ini -o new.db -q --set latency.rate=-1e999
bad "--set breaks another key's constraint" "--set cluster.workers=2: scheme.k: 3 is more than cluster.workers (2)" "$S" run ok.ini -o new.db -q --set cluster.workers=2
bad "--set sweep breaks another key's constraint" "--set sweep.cluster.workers=4,2: scheme.k: 3 is more than cluster.workers (2)" "$S" run ok.ini -o new.db -q --set sweep.cluster.workers=4,2
bad "--set leaves a required key missing" "--set latency.kind=pareto: latency.shape: missing (required when latency.kind = pareto)" "$S" run ok.ini -o new.db -q --set latency.kind=pareto
bad "--set of a key twice" "--set cluster.workers=5: cluster.workers is also set by --set cluster.workers=6" "$S" run ok.ini -o new.db -q --set cluster.workers=6 --set cluster.workers=5
bad "--set sweep.X and --set X" "--set cluster.workers=6: cluster.workers is also set by --set sweep.cluster.workers=4,5" "$S" run ok.ini -o new.db -q --set sweep.cluster.workers=4,5 --set cluster.workers=6
bad "--set X and --set sweep.X" "--set sweep.cluster.workers=4,5: cluster.workers is also set by --set cluster.workers=6" "$S" run ok.ini -o new.db -q --set cluster.workers=6 --set sweep.cluster.workers=4,5

bad "--points: not a number" "stragsim run: --points: 'x' is not a point number or a range such as 2-5 (points are numbered 1 to 1)" "$S" run ok.ini -o new.db -q --points 1,x
bad "--points: point 0" "stragsim run: --points: '0' is not a point number or a range such as 2-5 (points are numbered 1 to 1)" "$S" run ok.ini -o new.db -q --points 0
bad "--points: beyond the sweep" "stragsim run: --points: point 2 does not exist (points are numbered 1 to 1)" "$S" run ok.ini -o new.db -q --points 2
bad "--points: a point twice" "stragsim run: --points: point 1 is listed twice" "$S" run ok.ini -o new.db -q --points 1,1
bad "--points: empty range" "stragsim run: --points: the range 3-2 is empty" "$S" run ok.ini -o new.db -q --points 3-2
bad "--points: empty list" "stragsim run: --points: '' is not a point number or a range such as 2-5 (points are numbered 1 to 1)" "$S" run ok.ini -o new.db -q --points ''
bad "--points twice" "stragsim run: --points given twice ('1' and '2')" "$S" run ok.ini -o new.db -q --points 1 --points 2
bad "--threads 0" "stragsim run: --threads must be an integer from 1 to 1024, got '0' (try stragsim run --help)" "$S" run ok.ini -o new.db -q --threads 0
# ---- options given twice, empty list items ----
bad "run: -o twice" "stragsim run: -o/--output given twice ('a.db' and 'b.db')" "$S" run ok.ini -o a.db -o b.db -q
bad "report: --metrics with an empty item" "stragsim report: --metrics needs a comma-separated list of names, got 'mean,,p99'" "$S" report good.db --metrics mean,,p99
bad "report: --format twice" "stragsim report: --format given twice ('csv' and 'text')" "$S" report good.db --format csv --format text
bad "check: --baseline twice" "stragsim check: --baseline given twice ('good.db' and 'good.db')" "$S" check good.db --baseline good.db --baseline good.db
bad "check: --rtol beyond a double" "stragsim check: --rtol: '1e999' is out of range" "$S" check good.db --baseline good.db --rtol 1e999
bad "eval: --weights twice" "stragsim eval: --weights given twice ('a.bin' and 'b.bin')" "$S" eval --model logreg --weights a.bin --weights b.bin
bad "export: -o twice" "stragsim export: -o/--output given twice ('a.csv' and 'b.csv')" "$S" export good.db --table metrics -o a.csv -o b.csv
bad "export: --table tuner of runs without a tuner" "good.db: no tuner rows (training runs with workload.tuner.kind write them)" \
    "$S" export good.db --table tuner -o t.csv
bad "trace stats: --threshold beyond a double" "stragsim trace stats: --threshold: '1e999' is out of range" "$S" trace stats x.csv --threshold 1e999
bad "trace stats: --value twice" "stragsim trace stats: --value given twice ('t' and 'u')" "$S" trace stats x.csv --value t --value u
bad "help: unknown command" "stragsim help: unknown command 'nope' (try stragsim --help)" "$S" help nope
bad "help: extra argument" "stragsim help: expected a command (and a trace subcommand), got extra argument 'x'" "$S" help run x

# ---- train: never overwrites existing weights without --force ----
printf '[experiment]\nseed = 1\n[workload]\nmodel = logreg\n[train]\nepochs = 1\noutput = shipped.bin\n' >train.ini
cp "$weights" shipped.bin
bad "train: train.output exists" "train.ini:7: train.output: ./shipped.bin exists: write elsewhere with -o FILE, or overwrite it with --force" "$S" train train.ini -q
bad "train: -o exists" "stragsim train: shipped.bin exists (--force overwrites it)" "$S" train train.ini -q -o shipped.bin
bad "train: -o twice" "stragsim train: -o/--output given twice ('a.bin' and 'b.bin')" "$S" train train.ini -q -o a.bin -o b.bin

# ---- durations that would overflow (limit 1e100 on a task's duration) ----
lim="beyond the limit 1e+100 on a task's duration"
bad "overflow: shifted_exp shift" "--set latency.shift=1e308: latency.shift: draws could reach 1e+308, $lim" "$S" run ok.ini -o new.db -q --set latency.kind=shifted_exp --set latency.shift=1e308
bad "overflow: network_delay" "--set cluster.network_delay=1e308: cluster.network_delay: a task could take more than 1.8e+308 (cost 1 x largest draw 45.1 + 2 x network delay 1e+308), $lim" "$S" run ok.ini -o new.db -q --set cluster.network_delay=1e308
bad "overflow: task_cost" "--set scheme.task_cost=1e308: scheme.task_cost: a task could take more than 1.8e+308 (cost 1e+308 x largest draw 45.1 + 2 x network delay 0), $lim" "$S" run ok.ini -o new.db -q --set scheme.task_cost=1e308
bad "overflow: bimodal slow_factor" "--set latency.slow_factor=1e308: latency.slow_factor: draws could overflow, $lim" "$S" run ok.ini -o new.db -q --set latency.kind=bimodal --set latency.slow_prob=0.5 --set latency.slow_factor=1e308
bad "overflow: lognormal mu" "--set latency.mu=1000: latency.mu: draws could overflow, $lim" "$S" run ok.ini -o new.db -q --set latency.kind=lognormal --set latency.mu=1000
bad "overflow: pareto shape" "--set latency.shape=1e-300: latency.shape: draws could overflow, $lim" "$S" run ok.ini -o new.db -q --set latency.kind=pareto --set latency.shape=1e-300
bad "overflow: weibull shape" "--set latency.shape=1e-300: latency.shape: draws could overflow, $lim" "$S" run ok.ini -o new.db -q --set latency.kind=weibull --set latency.shape=1e-300
write_ini tiny_rate.ini "kind = exp" "rate = 1e-300"
bad "overflow: exp rate (in the file)" "tiny_rate.ini:14: latency.rate: draws could reach 4.51e+301, $lim" "$S" run tiny_rate.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n1,0,1e308\n' >huge.csv
replay_ini huge.ini huge.csv
bad "overflow: replay value" "./huge.csv:3: column 't': 1e+308 is $lim" "$S" run huge.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n1,0,2\n' >two.csv
replay_ini two.ini two.csv
bad "overflow: replay value times latency.scale" "--set latency.scale=1e300: latency.scale: 1e+300 times the trace's largest value 2 is $lim" "$S" run two.ini -o new.db -q --set latency.scale=1e300

# ---- memory: a point estimated larger than --max-memory (8 bytes per job latency) ----
bad "memory: a point above --max-memory" "--set workload.jobs=1000000: workload.jobs: the point needs about 7.6 MB of memory, more than 1.0 MB (--max-memory)" "$S" run ok.ini -o new.db -q --set workload.jobs=1000000 --max-memory 1M
bad "memory: a malformed --max-memory" "stragsim run: --max-memory: expected a size such as 512M or 2G, got '1X' (try stragsim run --help)" "$S" run ok.ini -o new.db -q --max-memory 1X

# ---- trace CSVs (latency replay and trace stats) ----
replay_ini nocsv.ini missing.csv
bad "csv: missing trace" "nocsv.ini:14: latency.file: cannot open './missing.csv': No such file or directory" "$S" run nocsv.ini -o new.db -q
: >empty.csv
replay_ini empty.ini empty.csv
bad "csv: empty file" "./empty.csv:1: empty file, expected a header row" "$S" run empty.ini -o new.db -q
printf 'w,it,t\n' >header_only.csv
replay_ini header_only.ini header_only.csv
bad "csv: header but no rows" "./header_only.csv:1: header but no data rows" "$S" run header_only.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n1,0,2.5,7\n' >ragged.csv
replay_ini ragged.ini ragged.csv
bad "csv: ragged row" "./ragged.csv:3: expected 3 fields as in the header, got 4" "$S" run ragged.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n1,0,fast\n' >text.csv
replay_ini text.ini text.csv
bad "csv: text where a number belongs" "./text.csv:3: column 't': expected a number, got 'fast'" "$S" run text.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n1,0,-2\n' >negative.csv
replay_ini negative.ini negative.csv
bad "csv: negative duration" "./negative.csv:3: column 't': negative value '-2'" "$S" run negative.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n1,0,inf\n' >inf.csv
replay_ini inf.ini inf.csv
bad "csv: infinite duration" "./inf.csv:3: column 't': 'inf' is not a finite number" "$S" run inf.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n1.5,0,2\n' >frac.csv
replay_ini frac.ini frac.csv
bad "csv: fractional worker id" "./frac.csv:3: column 'w': expected an integer, got '1.5'" "$S" run frac.ini -o new.db -q
printf 'worker,it,t\n0,0,1.5\n' >column.csv
replay_ini column.ini column.csv
bad "csv: named column missing" "./column.csv:1: latency.worker_column: no column named 'w' in the header" "$S" run column.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n1,0,1e999\n' >huge.csv
replay_ini huge.ini huge.csv
bad "csv: duration beyond a double" "./huge.csv:3: column 't': '1e999' is out of range" "$S" run huge.ini -o new.db -q
printf 'w,it,t\n0,0,1.5\n99999999999,0,2\n' >bigid.csv
replay_ini bigid.ini bigid.csv
bad "csv: worker id beyond int" "./bigid.csv:3: column 'w': '99999999999' is out of range (at most 2147483647)" "$S" run bigid.ini -o new.db -q
printf '"w","it","t"\n0,0,"1.5\n' >quote.csv
replay_ini quote.ini quote.csv
bad "csv: unterminated quote" "./quote.csv:2: unterminated quoted field" "$S" run quote.ini -o new.db -q
printf '\xEF\xBB\xBF"time"\n0.5\n1e999\n' >arrivals.csv
bad "arrivals: time beyond a double (after a BOM and a quoted header)" "$PWD/arrivals.csv:3: arrival time '1e999' is out of range" "$S" run ok.ini -o new.db -q --set workload.arrival=replay --set workload.arrival_file=arrivals.csv --set workload.arrival_column=time
printf '"w"x,"it","t"\n0,0,1.5\n' >quote2.csv
bad "csv: text after a closing quote (trace stats)" "quote2.csv:1: text after the closing quote of a field" "$S" trace stats quote2.csv
printf '\x00\x01\xff\n\xfe\x00,\x00\n' >garbage.csv
bad "csv: binary garbage (trace stats)" "garbage.csv:1: not a text file (contains a NUL byte)" "$S" trace stats garbage.csv

# ---- Fashion-MNIST IDX files (eval --data-dir) ----
ev() { "$S" eval --model logreg --weights "$weights" --data-dir "$@"; }
mkdir -p idx_none
bad "idx: directory without the files" "idx_none/t10k-images-idx3-ubyte.gz: cannot open: No such file or directory" ev idx_none
idx_dir idx_magic
idx_header idx_magic/t10k-images-idx3-ubyte.gz 00000999 10000 28 28
bad "idx: bad magic" "idx_magic/t10k-images-idx3-ubyte.gz: bad magic 0x00000999 (expected 2051 for an IDX image file)" ev idx_magic
idx_dir idx_dims
idx_header idx_dims/t10k-images-idx3-ubyte.gz 00000803 10000 32 32
bad "idx: images not 28x28" "idx_dims/t10k-images-idx3-ubyte.gz: images are 32x32, expected 28x28" ev idx_dims
idx_dir idx_trunc
idx_header idx_trunc/t10k-images-idx3-ubyte.gz 00000803 10000 28 28
head -c 5000 /dev/zero >>idx_trunc/t10k-images-idx3-ubyte.gz
bad "idx: truncated pixels" "idx_trunc/t10k-images-idx3-ubyte.gz: truncated: expected 7840000 bytes of pixels, got 5000" ev idx_trunc
idx_dir idx_count
idx_header idx_count/t10k-labels-idx1-ubyte.gz 00000801 9999
head -c 9999 /dev/zero >>idx_count/t10k-labels-idx1-ubyte.gz
bad "idx: label count differs from image count" "idx_count/t10k-labels-idx1-ubyte.gz: 9999 labels for the 10000 images of idx_count/t10k-images-idx3-ubyte.gz" ev idx_count
idx_dir idx_label
idx_header idx_label/t10k-labels-idx1-ubyte.gz 00000801 10000
{ printf '\x0c'; head -c 9999 /dev/zero; } >>idx_label/t10k-labels-idx1-ubyte.gz
bad "idx: label out of range" "idx_label/t10k-labels-idx1-ubyte.gz: label 12 of image 0 is out of range (expected 0..9)" ev idx_label
idx_dir idx_gzip
head -c 100000 "$data/t10k-images-idx3-ubyte.gz" >idx_gzip/t10k-images-idx3-ubyte.gz.tmp
mv idx_gzip/t10k-images-idx3-ubyte.gz.tmp idx_gzip/t10k-images-idx3-ubyte.gz
bad "idx: truncated gzip stream" "idx_gzip/t10k-images-idx3-ubyte.gz: truncated: expected 7840000 bytes of pixels, got 178532" ev idx_gzip
idx_dir idx_huge
idx_header idx_huge/t10k-images-idx3-ubyte.gz 00000803 2000000000 28 28
bad "idx: implausible image count" "idx_huge/t10k-images-idx3-ubyte.gz: count 2000000000 is implausible (more than 1000000)" ev idx_huge

# ---- weights files (eval --weights) ----
ew() { "$S" eval --model logreg --weights "$@"; }
bad "weights: missing file" "none.bin: cannot open: No such file or directory" ew none.bin
: >w_empty.bin
bad "weights: empty file" "w_empty.bin: bad magic (not a stragsim weights file)" ew w_empty.bin
{ printf 'NOTW\0\0'; tail -c +7 "$weights"; } >w_magic.bin
bad "weights: bad magic" "w_magic.bin: bad magic (not a stragsim weights file)" ew w_magic.bin
{ head -c 6 "$weights"; printf '\x09\x00'; tail -c +9 "$weights"; } >w_version.bin
bad "weights: unsupported version" "w_version.bin: unsupported version 9 (this build reads version 1)" ew w_version.bin
head -c 1000 "$weights" >w_trunc.bin
bad "weights: truncated" "w_trunc.bin: length mismatch: the header says 31472 bytes, the file has 1000 (truncated or corrupt)" ew w_trunc.bin
cp "$weights" w_flip.bin
printf '\x55' | dd of=w_flip.bin bs=1 seek=500 conv=notrunc status=none
bad "weights: flipped byte (checksum)" "w_flip.bin: checksum mismatch (file corrupt)" ew w_flip.bin
bad "weights: another model's weights" "$weights: architecture is 'logreg', expected 'mlp'" "$S" eval --model mlp --weights "$weights"

# ---- output that cannot be written: a full disk, a missing or read-only directory ----
# Standard output on a full disk (/dev/full) is an error, not exit 0; a file
# is written under a temporary name and renamed, so a failure leaves neither
# a partial file nor the temporary (the snapshot checks both).
to_full() { "$@" >/dev/full; }
"$S" trace gen ok.ini -o tr.csv --iterations 20 || tap_fail "a trace for the output cases"
"$S" run ok.ini -o jobs.db -q --set workload.job_rows=true --set workload.jobs=3000 ||
    tap_fail "a database with job rows for the output cases"
full="cannot write standard output: No space left on device"
bad "stdout full: report" "stragsim report: $full" to_full "$S" report good.db
bad "stdout full: report --format csv" "stragsim report: $full" to_full "$S" report good.db --format csv
bad "stdout full: check" "stragsim check: $full" to_full "$S" check good.db --baseline good.db
bad "stdout full: config --list" "stragsim config: $full" to_full "$S" config --list
bad "stdout full: trace stats" "stragsim trace: $full" to_full "$S" trace stats tr.csv
bad "stdout full: trace fit" "stragsim trace: $full" to_full "$S" trace fit tr.csv
bad "stdout full: trace gen -o -" "stragsim trace: $full" to_full "$S" trace gen ok.ini -o - --iterations 2
bad "stdout full: export -o -" "stragsim export: $full" to_full "$S" export good.db --table metrics -o -
bad "stdout full: export of many rows -o -" "stragsim export: $full" \
    to_full "$S" export jobs.db --table jobs -o -
bad "stdout full: eval" "stragsim eval: $full" to_full "$S" eval --model logreg --weights "$weights"
bad "stdout full: --help" "stragsim help: $full" to_full "$S" --help
bad "stdout full: report --help" "stragsim report: $full" to_full "$S" report --help
bad "file: export to /dev/full" "/dev/full: cannot write: No space left on device" \
    "$S" export good.db --table metrics -o /dev/full
bad "file: trace gen to /dev/full" "/dev/full: cannot write: No space left on device" \
    "$S" trace gen ok.ini -o /dev/full --iterations 2
bad "file: export into a missing directory" "nodir/m.csv: cannot write: No such file or directory" \
    "$S" export good.db --table metrics -o nodir/m.csv
mkdir -p outdir
bad "file: export onto a directory" "outdir: cannot write: Is a directory" \
    "$S" export good.db --table metrics -o outdir
bad "file: trace gen into a missing directory" "nodir/t.csv: cannot write: No such file or directory" \
    "$S" trace gen ok.ini -o nodir/t.csv --iterations 2
if command -v gnuplot >/dev/null; then
    bad "file: plot into a missing directory" "nodir/f.svg: cannot write: No such file or directory" \
        "$S" plot good.db --x workers --y latency_mean -o nodir/f.svg
fi
# A disk that fills up mid-file: RLIMIT_FSIZE (SIGXFSZ ignored, so the write
# fails with EFBIG) stops the file at 64 KiB; an older file of that name
# stays as it was.
fsize() { (trap '' XFSZ && ulimit -f 64 && exec "$@"); }
bad "file full: export" "big.csv: cannot write: File too large" \
    fsize "$S" export jobs.db --table jobs -o big.csv
bad "file full: trace gen" "big.csv: cannot write: File too large" \
    fsize "$S" trace gen ok.ini -o big.csv --iterations 20000
printf 'an older trace\n' >old.csv
bad "file full: trace gen over an older file" "old.csv: cannot write: File too large" \
    fsize "$S" trace gen ok.ini -o old.csv --iterations 20000
if (($(id -u) == 0)) && command -v setpriv >/dev/null; then
    mkdir -p rodir
    chmod 555 rodir
    chmod 755 "$scratch"
    bad "file: trace gen into a read-only directory" "rodir/t.csv: cannot write: Permission denied" \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$S" trace gen ok.ini -o rodir/t.csv --iterations 2
elif (($(id -u) != 0)); then
    mkdir -p rodir
    chmod 555 rodir
    bad "file: trace gen into a read-only directory" "rodir/t.csv: cannot write: Permission denied" \
        "$S" trace gen ok.ini -o rodir/t.csv --iterations 2
fi

# ---- every point validated before the first write (run) ----
wdir=$root/models/weights
infer_ini() { # FILE LINES...: a small inference config (logreg, 4 workers) plus LINES
    ini_with "$1" '[cluster]\nworkers = 4\n[latency]\nkind = exp\n[scheme]\nkind = uncoded' \
        '[workload]\nkind = inference\njobs = 20\nmodel = logreg\nqueries = 2' "${@:2}"
}
infer_ini wsweep.ini "[sweep]" "workload.weights = $wdir/logreg.bin, $wdir/mlp.bin"
bad "run: the second weights file of a sweep is another model's (nothing written)" \
    "$wdir/mlp.bin: architecture is 'mlp', expected 'logreg'" "$S" run wsweep.ini -o new.db -q
infer_ini wmissing.ini "weights = nope.bin"
bad "run: a missing weights file (no database created)" \
    "./nope.bin: cannot open: No such file or directory" "$S" run wmissing.ini -o new.db -q
bad "run: a missing weights file (no experiments row added)" \
    "./nope.bin: cannot open: No such file or directory" "$S" run wmissing.ini -o good.db -q
letcc_ini() { # FILE LINES...: a small letcc inference config (6 workers, K = 2) plus [scheme] LINES
    ini_with "$1" '[cluster]\nworkers = 6\n[latency]\nkind = exp' \
        '[workload]\nkind = inference\njobs = 20\nmodel = logreg\nqueries = 2' \
        '[scheme]\nkind = letcc' "${@:2}"
}
letcc_ini lneg.ini "lambda_dec = -1"
bad "letcc: a negative lambda_dec" "lneg.ini:12: scheme.lambda_dec: must be >= 0" "$S" run lneg.ini -o new.db -q
letcc_ini lscale.ini "lambda_scale = -2"
bad "letcc: a negative lambda_scale" "lscale.ini:12: scheme.lambda_scale: must be >= 0" "$S" run lscale.ini -o new.db -q
letcc_ini lunits.ini "lambda_units = meters"
bad "letcc: an unknown lambda_units" "lunits.ini:12: scheme.lambda_units: expected one of workers|interval, got 'meters'" \
    "$S" run lunits.ini -o new.db -q
letcc_ini lk.ini "[sweep]" "workload.queries = 9"
bad "letcc: K > N" "lk.ini:13: workload.queries: K = 9 queries need 10 workers, cluster.workers is 6" \
    "$S" run lk.ini -o new.db -q
letcc_ini ls.ini "stragglers = 6"
bad "letcc: K + S > N" "ls.ini:9: workload.queries: K = 2 queries need 8 workers, cluster.workers is 6" \
    "$S" run ls.ini -o new.db -q
printf '[cluster]\nworkers = 4\n[latency]\nkind = exp\n[scheme]\nkind = ignore\n[workload]\nkind = training\niterations = 2\nmodel = logreg\nbatch = 8\n[sweep]\nworkload.partitions = 4, 5\n' >parts.ini
bad "run: a bad workload.partitions in the second point (nothing written)" \
    "parts.ini:13: workload.partitions: must equal cluster.workers (4): gradient codes use one partition per worker" \
    "$S" run parts.ini -o new.db -q

split_ini() { # FILE LINES...: a small split inference config (4 workers, MLP nodes) plus [scheme] LINES
    ini_with "$1" '[cluster]\nworkers = 4\n[latency]\nkind = exp' \
        "[workload]\nkind = inference\njobs = 20\nmodel = mlp\nweights = $wdir/mlp.bin\nqueries = 1" \
        "[scheme]\nkind = split\nlearned_weights = $wdir/split-n4" "${@:2}"
}
split_ini sp5.ini "patches = 5"
bad "split: 5 patches tile no grid" \
    "sp5.ini:14: scheme.patches: no grid of 5 equal patches tiles the 28x28 image (patch rows and columns must divide 28)" \
    "$S" run sp5.ini -o new.db -q
split_ini sprows.ini "patches = 8" "tiling = rows"
bad "split: 8 row strips do not tile 28 rows" \
    "sprows.ini:14: scheme.patches: 8 rows do not tile the 28x28 image (28 is not a multiple of 8)" \
    "$S" run sprows.ini -o new.db -q
split_ini spgrid.ini "tiling = grid"
bad "split: tiling grid without grid_rows" \
    "spgrid.ini:14: scheme.tiling: tiling grid needs grid_rows (the grid's rows)" \
    "$S" run spgrid.ini -o new.db -q
split_ini spgr3.ini "tiling = grid" "grid_rows = 3"
bad "split: grid_rows does not divide patches" \
    "spgr3.ini:15: scheme.grid_rows: grid_rows = 3 does not divide patches = 4" \
    "$S" run spgr3.ini -o new.db -q
split_ini spgr8.ini "patches = 8" "tiling = grid" "grid_rows = 8"
bad "split: an 8 x 1 grid does not tile 28 rows" \
    "spgr8.ini:16: scheme.grid_rows: a 8 x 1 grid does not tile the 28x28 image (28 is not a multiple of both)" \
    "$S" run spgr8.ini -o new.db -q
split_ini sptil.ini "tiling = diagonal"
bad "split: an unknown tiling" \
    "sptil.ini:14: scheme.tiling: expected one of auto|rows|cols|grid, got 'diagonal'" \
    "$S" run sptil.ini -o new.db -q
split_ini spgr0.ini "tiling = grid" "grid_rows = 0"
bad "split: grid_rows 0" "spgr0.ini:15: scheme.grid_rows: must be >= 1" "$S" run spgr0.ini -o new.db -q
split_ini sp29.ini "[sweep]" "scheme.patches = 4, 29"
bad "split: 29 patches in a sweep (nothing written)" "sp29.ini:15: scheme.patches: must be <= 28" \
    "$S" run sp29.ini -o new.db -q
split_ini spcnn.ini "node_model = conv4k3 relu maxpool2 dense10" "patches = 28" "tiling = rows"
sed -i 's/^workers = 4$/workers = 28/' spcnn.ini
bad "split: a CNN node's kernel taller than its 1-row strip" \
    "spcnn.ini:14: scheme.node_model: model 'custom': layer 1 (conv): 4@3x3 kernel, stride 1, padding 0 does not fit a 1x1x28 input" \
    "$S" run spcnn.ini -o new.db -q
printf '[scheme]\nkind = split\npatches = 28\ntiling = rows\nlearned_weights = nowhere\ntrain_stragglers = 3\n[train]\ntarget = split\n' >sptrain.ini
bad "split train: too many straggler masks" \
    "sptrain.ini:6: scheme.train_stragglers: 28 patches with up to 3 erasures are 3683 masks per image (at most 256): lower it, or set scheme.erasure_prob" \
    "$S" train sptrain.ini -q
# ---- pipeline: a split that does not cover the layers once, P > layers, M > batch, a stage
# that does not parse, a scheme of another workload ----
pipeline_ini() { # FILE LINES...: a pipeline config of the mlp (5 layers) plus [workload] LINES
    ini_with "$1" '[cluster]\nworkers = 4\n[latency]\nkind = exp\n[scheme]\nkind = none' \
        '[workload]\nkind = pipeline\nmodel = mlp\niterations = 2\nbatch = 8' "${@:2}"
}
pipeline_ini pl-cover.ini "stages = dense200 relu | dense100 relu"
bad "pipeline: stages that miss a layer" \
    "pl-cover.ini:12: workload.stages: the stages cover 4 of the model's 5 layers" \
    "$S" run pl-cover.ini -o new.db -q
pipeline_ini pl-twice.ini "stages = dense200 relu | relu dense100 relu dense10"
bad "pipeline: stages that hold a layer twice" \
    "pl-twice.ini:12: workload.stages: stage 2's layer 'relu' is not the model's layer 3 ('dense100'): the stages must cover the model's layers once, in order" \
    "$S" run pl-twice.ini -o new.db -q
pipeline_ini pl-parse.ini "stages = dense200 relu | dense1x00 relu dense10"
bad "pipeline: a stage that does not parse" \
    "pl-parse.ini:12: workload.stages: stage 2: model spec '200: dense1x00 relu dense10': bad layer 'dense1x00' (expected denseN, convNkK[sS][pP], maxpoolK[sS], avgpoolK[sS], relu, tanh, square, flatten, lstmN or dropoutP with P in [0, 1))" \
    "$S" run pl-parse.ini -o new.db -q
pipeline_ini pl-p.ini "stage_count = 6"
bad "pipeline: more stages than layers" "pl-p.ini:12: workload.stage_count: 6 stages for a model of 5 layers" \
    "$S" run pl-p.ini -o new.db -q
pipeline_ini pl-m.ini "microbatches = 9"
bad "pipeline: more micro-batches than examples" \
    "pl-m.ini:12: workload.microbatches: 9 micro-batches of a batch of 8 examples" \
    "$S" run pl-m.ini -o new.db -q
pipeline_ini pl-w.ini "stage_count = 5"
bad "pipeline: more stages than workers" "pl-w.ini:2: cluster.workers: 5 stages x 1 replicas need 5 workers, cluster.workers is 4" \
    "$S" run pl-w.ini -o new.db -q
pipeline_ini pl-r.ini
sed -i 's/kind = none/kind = stage-replication\nreplicas = 5/' pl-r.ini
bad "pipeline: more replicas of a stage than workers" \
    "pl-r.ini:7: scheme.replicas: 5 replicas of a stage need more than 4 workers" \
    "$S" run pl-r.ini -o new.db -q
pipeline_ini pl-scheme.ini
sed -i 's/kind = none/kind = kofn/' pl-scheme.ini
bad "pipeline: a latency scheme" "pl-scheme.ini:6: scheme.kind: scheme 'kofn' does not run the pipeline workload" \
    "$S" run pl-scheme.ini -o new.db -q
# ---- the hyperparameter tuner (workload.tuner.*) ----
tuner_ini() { # FILE SCHEME LINES...: a tiny training config with a tuner, plus [workload] LINES
    ini_with "$1" "[cluster]\nworkers = 4\n[latency]\nkind = exp\n[scheme]\nkind = $2" \
        '[workload]\nkind = training\niterations = 2\nmodel = logreg\nbatch = 8' \
        'train_limit = 400\ntest_limit = 100' "${@:3}"
}
tuner_ini tu-kind.ini naive "tuner.kind = bayes"
bad "tuner: an unknown kind" "tu-kind.ini:14: workload.tuner.kind: expected one of none|fixed|schedule|rule|random|lstm, got 'bayes'" \
    "$S" run tu-kind.ini -o new.db -q
tuner_ini tu-win.ini naive "tuner.kind = rule" "tuner.window = 0"
bad "tuner: window 0" "tu-win.ini:15: workload.tuner.window: must be >= 1" "$S" run tu-win.ini -o new.db -q
tuner_ini tu-key.ini naive "tuner.kind = rule" "tuner.tune = learning_rate, momentum"
bad "tuner: a key it cannot tune" "tu-key.ini:15: workload.tuner.tune: expected one of learning_rate|batch|weight_decay|dropout|staleness, got 'momentum'" \
    "$S" run tu-key.ini -o new.db -q
tuner_ini tu-stale.ini naive "tuner.kind = rule" "tuner.tune = staleness"
bad "tuner: staleness on a workload without one (gradient codes)" \
    "tu-stale.ini:15: workload.tuner.tune: staleness: only the ssp scheme has a staleness bound to tune" \
    "$S" run tu-stale.ini -o new.db -q
tuner_ini tu-range.ini ssp "tuner.kind = random" "tuner.tune = learning_rate" "tuner.lr_min = 0.5" "tuner.lr_max = 0.1"
bad "tuner: a range with min > max" "tu-range.ini:17: workload.tuner.lr_max: 0.1 is less than workload.tuner.lr_min (0.5)" \
    "$S" run tu-range.ini -o new.db -q
tuner_ini tu-batch.ini ssp "tuner.kind = rule" "tuner.tune = batch" "tuner.batch_min = 2"
bad "tuner: a batch range below one example per worker" \
    "tu-batch.ini:16: workload.tuner.batch_min: 2 is less than one example per worker (4 workers)" \
    "$S" run tu-batch.ini -o new.db -q
tuner_ini tu-sched.ini naive "tuner.kind = schedule" "tuner.tune = batch"
bad "tuner: a schedule without the learning rate" \
    "tu-sched.ini:15: workload.tuner.tune: the schedule tuner sets learning_rate: tune it" \
    "$S" run tu-sched.ini -o new.db -q
tuner_ini tu-drop.ini naive "dropout = 1"
bad "training: dropout 1" "tu-drop.ini:14: workload.dropout: must be < 1" "$S" run tu-drop.ini -o new.db -q
tuner_ini tu-pw.ini naive "tuner.kind = rule" "tuner.lstm_input = per_worker"
bad "tuner: per_worker input to a tuner other than lstm" \
    "tu-pw.ini:15: workload.tuner.lstm_input: per_worker: only the lstm tuner reads it (workload.tuner.kind = lstm)" \
    "$S" run tu-pw.ini -o new.db -q
pipeline_ini pl-tstale.ini "tuner.kind = rule" "tuner.tune = learning_rate, staleness"
bad "pipeline tuner: a key the pipeline does not have (staleness)" \
    "pl-tstale.ini:13: workload.tuner.tune: staleness: only the ssp scheme has a staleness bound to tune" \
    "$S" run pl-tstale.ini -o new.db -q
pipeline_ini pl-drop.ini "dropout = 0.2" "stages = dense200 relu | dense100 relu dense10"
bad "pipeline: dropout with stages that leave its layer out" \
    "pl-drop.ini:13: workload.stages: stage 2's layer 'dense10' is not the model's layer 5 ('dropout0.2'): the stages must cover the model's layers once, in order" \
    "$S" run pl-drop.ini -o new.db -q

# ---- bspline (BSCC): K > N, too few results for the spline, its own keys ----
bspline_ini() { # FILE WORKERS LINES...: a latency config of the bspline scheme plus [scheme] LINES
    ini_with "$1" "[cluster]\nworkers = $2\n[latency]\nkind = exp" \
        '[workload]\nkind = latency\njobs = 20\n[scheme]\nkind = bspline' "${@:3}"
}
bspline_ini bs-kn.ini 4 "stragglers = 0" "[workload]" "queries = 6"
bad "bspline: K > N" "bs-kn.ini:12: workload.queries: K = 6 queries need 6 workers, cluster.workers is 4" \
    "$S" run bs-kn.ini -o new.db -q
bspline_ini bs-few.ini 4 "stragglers = 1"
bad "bspline: too few results for a cubic" \
    "bs-few.ini:10: scheme.stragglers: N - S = 3 returned results (N = 4, S = 1) are too few for a degree-3 spline (needs 4)" \
    "$S" run bs-few.ini -o new.db -q
bspline_ini bs-even.ini 8 "spline_degree = 2"
bad "bspline: an even spline degree" "bs-even.ini:10: scheme.spline_degree: must be odd (got 2)" \
    "$S" run bs-even.ini -o new.db -q
bspline_ini bs-nat.ini 8 "spline_degree = 5" "boundary = natural"
bad "bspline: natural boundary of a quintic" \
    "bs-nat.ini:11: scheme.boundary: natural needs scheme.spline_degree = 3 (got 5)" \
    "$S" run bs-nat.ini -o new.db -q
bspline_ini bs-enc.ini 6 "stragglers = 1" "encoder = spline" "[workload]" "queries = 3"
bad "bspline: a spline encoder through too few queries" \
    "bs-enc.ini:11: scheme.encoder: spline needs K >= 4 queries for a degree-3 spline (K = 3)" \
    "$S" run bs-enc.ini -o new.db -q

# ---- not an error, one warning: an open arrival stream above capacity ----
# exp(rate 1) tasks of cost 1 on 2 workers: a poisson rate of 3 is a load of
# 1.5; the run goes on (exit 0) and says so in one line, even with -q.
printf '[cluster]\nworkers = 2\n[latency]\nkind = exp\nrate = 1\n[scheme]\nkind = uncoded\n[workload]\nkind = latency\narrival = poisson\nrate = 3\njobs = 50\n' >over.ini
overload="over.ini:11: workload.rate: warning: load 1.5 >= 1 (rate x mean task duration of cost 1 / (workers x slots)): above the cluster's capacity, the queue grows without bound"
warned=$("$S" run over.ini -o over.db -q 2>&1)
if [[ $? == 0 && $warned == "$overload" ]]; then
    tap_ok "run: a poisson load above capacity warns in one line and runs"
else
    tap_fail "run: a poisson load above capacity warns in one line and runs" "got: $warned"
fi
warned=$("$S" run over.ini -o under.db -q --set workload.rate=1.9 2>&1)
if [[ $? == 0 && -z $warned ]]; then
    tap_ok "run: a poisson load below capacity gives no warning"
else
    tap_fail "run: a poisson load below capacity gives no warning" "got: $warned"
fi

# ---- database paths ----
mkdir -p dir.db
bad "db: -o a directory" "dir.db: is a directory" "$S" run ok.ini -o dir.db -q
bad "db: -o under a file" "ok.ini/x.db: cannot create: 'ok.ini' is not a directory" "$S" run ok.ini -o ok.ini/x.db -q
bad "db: -o in a missing directory" "nodir/x.db: cannot create: directory 'nodir' does not exist" "$S" run ok.ini -o nodir/x.db -q
printf 'just some text, not a database\n' >text.db
bad "db: -o a text file" "text.db: not a stragsim results database (file is not a database)" "$S" run ok.ini -o text.db -q
sqlite3 other.db "CREATE TABLE t(x); INSERT INTO t VALUES(1);"
bad "db: -o another application's SQLite file" "other.db: not a stragsim results database (no meta table)" "$S" run ok.ini -o other.db -q
cp good.db v99.db
sqlite3 v99.db "UPDATE meta SET value = '99' WHERE key = 'schema_version'"
bad "db: -o a database of another schema version" "v99.db: results database schema version 99, this stragsim (0.1.0) reads version 1" "$S" run ok.ini -o v99.db -q
bad "db: report a missing database" "none.db: no such file" "$S" report none.db
bad "db: report a text file" "text.db: not a stragsim results database (file is not a database)" "$S" report text.db
bad "db: report another schema version" "v99.db: results database schema version 99, this stragsim (0.1.0) reads version 1" "$S" report v99.db
bad "db: check against a directory" "dir.db: is a directory" "$S" check good.db --baseline dir.db
bad "db: check --intervals without repeats" "stragsim check: --intervals needs repeats (experiment.repeats >= 2): scheme.kind=kofn has one run in good.db" "$S" check good.db --baseline good.db --intervals
bad "db: check --intervals with --rtol" "stragsim check: --rtol does not apply with --intervals (intervals are compared by overlap)" "$S" check good.db --baseline good.db --intervals --rtol 0.1
bad "db: report --aggregate --params repeat" "stragsim report: --params: repeat is folded by --aggregate" "$S" report good.db --aggregate --params repeat
# report --format html (issue #19): -o needed and only there, its own options, an unwritable page
bad "report: --format html without -o" "stragsim report: --format html needs -o FILE.html" "$S" report good.db --format html
bad "report: -o without --format html" "stragsim report: -o is for --format html (other formats go to standard output)" "$S" report good.db -o r.html
bad "report: --format html --aggregate" "stragsim report: --format html takes only --where and -o (its table is --aggregate's, default columns)" "$S" report good.db --format html --aggregate -o r.html
bad "report: --format html into a missing directory" "nodir/r.html: cannot write: No such file or directory" "$S" report good.db --format html -o nodir/r.html
bad "report: --format html --where on a param no run has" "stragsim report: --where: no param 'nokey' in good.db" "$S" report good.db --format html -o r.html --where nokey=1
bad "report: --format html --where that selects nothing" "good.db: no runs match the --where filters" "$S" report good.db --format html -o r.html --where scheme.kind=nothing
bad "report: --format html, a missing database" "none.db: no such file" "$S" report none.db --format html -o r.html
# ls, diff, rm, merge (issue #19): bad databases, experiment ids, filters
bad "ls: a missing database" "none.db: no such file" "$S" ls none.db
bad "ls: a text file" "text.db: not a stragsim results database (file is not a database)" "$S" ls text.db
bad "ls: another application's SQLite file" "other.db: not a stragsim results database (no meta table)" "$S" ls other.db
bad "ls: --format yaml" "stragsim ls: --format must be text or json, got 'yaml'" "$S" ls good.db --format yaml
bad "diff: a missing database" "none.db: no such file" "$S" diff good.db none.db
bad "diff: a text file" "text.db: not a stragsim results database (file is not a database)" "$S" diff text.db good.db
bad "diff: one database" "stragsim diff: expected two databases (usage: stragsim diff A.db B.db)" "$S" diff good.db
bad "diff: an unknown metric" "stragsim diff: --metrics: no metric 'latency_mode' in good.db or good.db" "$S" diff good.db good.db --metrics latency_mode
bad "rm: a missing database (not created)" "none.db: no such file" "$S" rm none.db --experiment 1
bad "rm: a text file" "text.db: not a stragsim results database (file is not a database)" "$S" rm text.db --experiment 1
bad "rm: another application's SQLite file" "other.db: not a stragsim results database (no meta table)" "$S" rm other.db --where scheme.k=3
bad "rm: an experiment id that does not exist" "stragsim rm: --experiment: good.db has no experiment 99 (stragsim ls lists them)" "$S" rm good.db --experiment 99
bad "rm: an experiment id that is not a number" "stragsim rm: --experiment must be an integer >= 1 (an experiment id: stragsim ls lists them), got 'one'" "$S" rm good.db --experiment one
bad "rm: --where without =" "stragsim rm: --where expects key=value, got 'scheme.k'" "$S" rm good.db --where scheme.k
bad "rm: --where on a param no run has" "stragsim rm: --where: no param 'scheme.kk' in good.db" "$S" rm good.db --where scheme.kk=3
bad "rm: nothing selected" "stragsim rm: nothing selected: give --experiment N or --where KEY=VALUE" "$S" rm good.db
bad "rm --dry-run: an experiment id that does not exist" "stragsim rm: --experiment: good.db has no experiment 2 (stragsim ls lists them)" "$S" rm good.db --experiment 2 --dry-run
bad "merge: a missing input (no output created)" "none.db: no such file" "$S" merge out.db good.db none.db
bad "merge: a text file as input" "text.db: not a stragsim results database (file is not a database)" "$S" merge out.db text.db
bad "merge: a text file as output" "text.db: not a stragsim results database (file is not a database)" "$S" merge text.db good.db
bad "merge: the output as an input" "stragsim merge: good.db is the output database" "$S" merge good.db good.db
bad "merge: no input" "stragsim merge: missing IN.db (usage: stragsim merge OUT.db IN.db...)" "$S" merge out.db
bad "run --dry-run: a bad config writes nothing" "key.ini:15: unknown key 'rte' in [latency]" "$S" run key.ini -o new.db --dry-run
bad "run: --show without --dry-run" "stragsim run: --show applies with --dry-run only (try stragsim run --help)" "$S" run ok.ini -o new.db --show 3
bad "run --dry-run: --show -1" "stragsim run: --show must be an integer >= 0 (0: every point), got '-1' (try stragsim run --help)" "$S" run ok.ini -o new.db --dry-run --show -1
head -c 3000 good.db >torn.db
bad "db: report a truncated database" "torn.db: damaged database (database disk image is malformed)" "$S" report torn.db
if (($(id -u) == 0)) && command -v setpriv >/dev/null; then
    cp good.db ro.db
    chmod 444 ro.db
    chmod 755 "$scratch"
    bad "db: -o a read-only database" "ro.db: cannot write: permission denied" \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$S" run ok.ini -o ro.db -q
elif (($(id -u) != 0)); then
    cp good.db ro.db
    chmod 444 ro.db
    bad "db: -o a read-only database" "ro.db: cannot write: permission denied" "$S" run ok.ini -o ro.db -q
fi
# ---- learned-lagrange's design keys: an unknown design, a feature extractor
# in the input design, K > N in the feature design, bad feature and worker specs
llc_ini() { # FILE LINES...: a small learned-lagrange config (6 workers, K = 2) plus [scheme] LINES
    ini_with "$1" '[cluster]\nworkers = 6\n[latency]\nkind = exp' \
        '[workload]\nkind = inference\njobs = 20\nmodel = mlp\nqueries = 2' \
        "[scheme]\nkind = learned-lagrange\nlearned_weights = $wdir/llc-n8-k4-r6" "${@:2}"
}
llc_ini llcd.ini "design = bogus"
bad "learned-lagrange: an unknown design" \
    "llcd.ini:13: scheme.design: expected one of input|feature, got 'bogus'" "$S" run llcd.ini -o new.db -q
llc_ini llcf.ini "feature_model = dense64 relu"
bad "learned-lagrange: a feature extractor in the input design" \
    "llcf.ini:13: scheme.feature_model: a feature extractor needs scheme.design = feature" \
    "$S" run llcf.ini -o new.db -q
llc_ini llck.ini "design = feature" "[sweep]" "workload.queries = 8"
bad "learned-lagrange: K > N in the feature design" \
    "llck.ini:15: workload.queries: the feature design sends each of the N = 6 workers the K = 8 images of a job; it needs K <= N" \
    "$S" run llck.ini -o new.db -q
llc_ini llcs.ini "design = feature" "feature_model = dense0 relu"
bad "learned-lagrange: a bad feature extractor spec" \
    "llcs.ini:14: scheme.feature_model: model 'custom': layer 1 (dense): needs at least 1 unit" \
    "$S" run llcs.ini -o new.db -q
llc_ini llcw.ini "design = feature" "worker_model = dense0 relu"
bad "learned-lagrange: a bad worker spec in the feature design is the worker's" \
    "llcw.ini:14: scheme.worker_model: model 'custom': layer 1 (dense): needs at least 1 unit" \
    "$S" run llcw.ini -o new.db -q
# advise: the [advise] section (the key is on line 16 of each file)
advise_ini() { # FILE LINES...: ok.ini plus [advise] LINES
    ini_with "$1" "$(<ok.ini)" '[advise]' "${@:2}"
}
advise_ini adv_obj.ini 'objective = latency_p98'
bad "advise: an unknown objective" "adv_obj.ini:16: advise.objective: expected one of latency_p99|latency_mean|latency_p50|latency_p999|worker_seconds|time_to_target, got 'latency_p98'" "$S" advise adv_obj.ini --db new.db
advise_ini adv_obj_wl.ini 'objective = time_to_target'
bad "advise: an objective the workload does not have" "adv_obj_wl.ini:16: advise.objective: the latency workload has no metric 'time_to_target' (known: latency_mean, latency_p50, latency_p99, latency_p999, worker_seconds)" "$S" advise adv_obj_wl.ini --db new.db
advise_ini adv_op.ini 'constraints = latency_p99 < 2'
bad "advise: a constraint without >= or <=" "adv_op.ini:16: advise.constraints: expected METRIC >= X or METRIC <= X, got 'latency_p99 < 2'" "$S" advise adv_op.ini --db new.db
advise_ini adv_num.ini 'constraints = latency_p99 <= fast'
bad "advise: a constraint without a number" "adv_num.ini:16: advise.constraints: expected a number after '<=', got 'fast'" "$S" advise adv_num.ini --db new.db
advise_ini adv_metric.ini 'constraints = accuracy >= 0.9'
bad "advise: a constraint on a metric the workload does not have" "adv_metric.ini:16: advise.constraints: unknown metric 'accuracy' for the latency workload (known: latency_mean, latency_p50, latency_p99, latency_p999, worker_seconds)" "$S" advise adv_metric.ini --db new.db
advise_ini adv_scheme.ini 'schemes = kofn, nosuch'
bad "advise: an unknown scheme" "adv_scheme.ini:16: advise.schemes: unknown scheme 'nosuch'" "$S" advise adv_scheme.ini --db new.db
advise_ini adv_serve.ini 'schemes = ssp'
bad "advise: a scheme that does not run the workload" "adv_serve.ini:16: advise.schemes: scheme 'ssp' does not run the latency workload" "$S" advise adv_serve.ini --db new.db
advise_ini adv_budget.ini 'budget = 0'
bad "advise: a budget of 0" "adv_budget.ini:16: advise.budget: must be > 0" "$S" advise adv_budget.ini --db new.db
advise_ini adv_batches.ini 'max_batches = 2'
bad "advise: max_batches below batches" "adv_batches.ini:16: advise.max_batches: 2 is less than advise.batches (3)" "$S" advise adv_batches.ini --db new.db
bad "env: STRAGSIM_CONV names no conv path" "STRAGSIM_CONV: 'fast' is not one of auto, im2col, portable, avx2, avx512" env STRAGSIM_CONV=fast "$S" run ok.ini -o new.db -q
bad "advise: --plot with an unknown extension" "f.jpg: unknown output extension (expected .png or .svg)" "$S" advise ok.ini --db new.db --plot f.jpg
tap_done
