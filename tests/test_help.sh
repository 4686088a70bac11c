#!/usr/bin/env bash
# test_help.sh: every command listed by `stragsim --help` (and every trace
# subcommand) answers -h, --help and `stragsim help CMD` with the same text,
# on stdout, exit 0, starting with its own "usage: stragsim CMD" line.
source "$(dirname "$0")/tap.sh"
S=$STRAGSIM
commands=$("$S" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}')
[[ -n $commands ]] || tap_fail "stragsim --help lists the commands"
for cmd in $commands; do
    case $cmd in trace) subs=("" stats fit gen) ;; *) subs=("") ;; esac
    for sub in "${subs[@]}"; do
        name="$cmd${sub:+ $sub}"
        # shellcheck disable=SC2086 # $name is the command and its subcommand
        long=$("$S" $name --help 2>&1) && short=$("$S" $name -h 2>&1) &&
            via_help=$("$S" help $name 2>&1)
        status=$?
        first=${long%%$'\n'*}
        if ((status == 0)) && [[ $first == "usage: stragsim $name "* && $short == "$long" &&
            $via_help == "$long" ]]; then
            tap_ok "$name: -h, --help and 'stragsim help $name' print its usage"
        else
            tap_fail "$name: -h, --help and 'stragsim help $name' print its usage" \
                "status $status, first line: $first" "-h: ${short%%$'\n'*}" \
                "help: ${via_help%%$'\n'*}"
        fi
    done
done
tap_done
