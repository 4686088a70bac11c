#!/usr/bin/env bash
# test_reproduce.sh: every generated table of the docs has a part of
# scripts/reproduce.sh that writes it, and the script's own checks work.
#
# 1. Markers come in pairs (<!-- reproduce:NAME --> ... <!-- /reproduce:NAME -->)
#    and no name is used twice.
# 2. Every marker's NAME is listed by `reproduce.sh --list` (each part names
#    the tables it writes), except reproduce-times, which the script writes
#    after every part; and every table --list names has its markers.
# 3. An unknown part is refused with one line and status 2, before any run.
# 4. --check, over a scratch copy of the docs, accepts tables that match the
#    produced ones and names the table that differs.
# Running the parts themselves takes minutes to an hour: that is the
# script's job, not a test's.
source "$(dirname "$0")/tap.sh"
root=${STRAGSIM_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

docs=(README.md doc/*.md)

# 1. pairs, no name twice
bad=()
for doc in "${docs[@]}"; do
    while read -r name; do
        n_open=$(grep -cxF "<!-- reproduce:$name -->" "$doc")
        n_close=$(grep -cxF "<!-- /reproduce:$name -->" "$doc")
        ((n_open == 1 && n_close == 1)) || bad+=("$doc: $name: $n_open opening, $n_close closing markers")
    done < <(sed -n 's/^<!-- \/\{0,1\}reproduce:\([A-Za-z0-9_-]*\) -->$/\1/p' "$doc" | sort -u)
done
twice=$(sed -n 's/^<!-- reproduce:\([A-Za-z0-9_-]*\) -->$/\1/p' "${docs[@]}" | sort | uniq -d)
[[ -z $twice ]] || bad+=("used in two places: $twice")
if ((${#bad[@]} == 0)); then tap_ok "markers come in pairs, each name once"; else tap_fail "markers" "${bad[@]}"; fi

# 2. markers <-> parts
list=$(scripts/reproduce.sh --list)
listed=$(printf '%s\n' "$list" | sed 's/^[^ ]* *//; s/figures\{0,1\} [^;]*//g' |
    grep -o '[a-z][a-z0-9_.-]*: [^;]*' | sed 's/^[^:]*: //' | tr ',' '\n' | sed 's/^ *//; s/ *$//' |
    grep -v '^$' | sort -u)
missing=()
for doc in "${docs[@]}"; do
    while read -r name; do
        [[ $name == reproduce-times ]] && continue
        grep -qxF "$name" <<<"$listed" || missing+=("$doc: $name: no part of reproduce.sh --list writes it")
    done < <(sed -n 's/^<!-- reproduce:\([A-Za-z0-9_-]*\) -->$/\1/p' "$doc")
done
if ((${#missing[@]} == 0)); then tap_ok "every table in the docs is written by a part"; else
    tap_fail "tables without a part" "${missing[@]}"; fi
orphans=()
while read -r name; do
    grep -qxF "<!-- reproduce:$name -->" "${docs[@]}" || orphans+=("--list names $name, no doc has its markers")
done <<<"$listed"
if ((${#orphans[@]} == 0)); then tap_ok "every table a part names has its markers"; else
    tap_fail "tables named by --list without markers" "${orphans[@]}"; fi
grep -qxF "<!-- reproduce:reproduce-times -->" README.md &&
    tap_ok "README has the table of part times" || tap_fail "README lacks <!-- reproduce:reproduce-times -->"

# 3. unknown part: one line, status 2, nothing run
err=$(STRAGSIM=/nonexistent scripts/reproduce.sh no-such-part 2>&1)
rc=$?
if ((rc == 2)) && [[ $err == "reproduce.sh: unknown part 'no-such-part' (see --list)" ]]; then
    tap_ok "an unknown part: one line, status 2"
else
    tap_fail "an unknown part" "status $rc" "$err"
fi

# 4. --check over a scratch copy: matching tables pass, a changed one is named
mkdir -p "$scratch/repo/scripts" "$scratch/repo/doc" "$scratch/out/tables"
cp scripts/reproduce.sh "$scratch/repo/scripts/"
printf '# t\n\n<!-- reproduce:alpha -->\n| a |\n|---|\n| 1 |\n<!-- /reproduce:alpha -->\n' >"$scratch/repo/README.md"
printf '| a |\n|---|\n| 1 |\n' >"$scratch/out/tables/alpha.md"
out=$(REPRODUCE_DIR="$scratch/out" "$scratch/repo/scripts/reproduce.sh" --check 2>&1)
rc=$?
((rc == 0)) && tap_ok "--check: the docs hold the produced tables" || tap_fail "--check on matching tables" "status $rc" "$out"
printf '| a |\n|---|\n| 2 |\n' >"$scratch/out/tables/alpha.md"
out=$(REPRODUCE_DIR="$scratch/out" "$scratch/repo/scripts/reproduce.sh" --check 2>&1)
rc=$?
if ((rc != 0)) && [[ $out == *"README.md: alpha: differs"* ]]; then
    tap_ok "--check names a table that differs"
else
    tap_fail "--check on a changed table" "status $rc" "$out"
fi

echo "1..$tap_n"
((tap_failed == 0))
