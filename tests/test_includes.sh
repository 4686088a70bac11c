#!/usr/bin/env bash
# test_includes.sh: the layering of doc/architecture.md holds in the code.
#
# 1. Every `#include "folder/..."` of a source file goes down or sideways:
#    each layer folder lists the folders it may include (itself included).
# 2. No circle between modules (a module is a .c/.h pair, e.g.
#    analysis/report, with its private x_impl.h): tsort of the module
#    include graph finds no loop.
# A new folder must be given its place here before its first include.
source "$(dirname "$0")/tap.sh"
root=${STRAGSIM_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

declare -A allowed=(
    [base]="base"
    [sim]="base sim"
    [traces]="base traces"
    [models]="base models"
    [schemes]="base sim traces models schemes"
    [workloads]="base sim traces models schemes workloads"
    [analysis]="base analysis"
    [app]="base sim traces models schemes workloads analysis app"
)

# "file included" for every project include of the layer folders' sources.
includes() {
    local layer
    for layer in "${!allowed[@]}"; do
        find "$layer" -name '*.[ch]' -print0 | xargs -0 grep -Ho '^#include "[a-z_]*/[^"]*"' |
            sed 's/:#include "/ /; s/"$//'
    done
}
edges=$(includes)
[[ -n $edges ]] || { tap_fail "the layer folders have includes to read"; tap_done; exit; }

upward=$(while read -r file inc; do
    layer=${file%%/*} target=${inc%%/*}
    [[ " ${allowed[$layer]} " == *" $target "* ]] || echo "$file includes $inc ($layer may include: ${allowed[$layer]})"
done <<<"$edges")
if [[ -z $upward ]]; then
    tap_ok "every include goes down or sideways ($(wc -l <<<"$edges") includes read)"
else
    tap_fail "includes that go up or to an unknown folder" "$upward"
fi

# Module graph: strip extensions and _impl; self-edges (x.c -> x.h) are no
# circle.
loops=$(while read -r file inc; do
    a=${file%.*} b=${inc%.*}
    a=${a%_impl} b=${b%_impl}
    [[ $a != "$b" ]] && echo "$a $b"
done <<<"$edges" | tsort 2>&1 >/dev/null | grep -v '^tsort: -: input contains a loop:$' || true)
if [[ -z $loops ]]; then
    tap_ok "no circle between modules"
else
    tap_fail "modules that include each other in a circle" "$loops"
fi
tap_done
