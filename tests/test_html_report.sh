#!/usr/bin/env bash
# test_html_report.sh: `report --format html` end to end in headless
# Chromium (Debian's package, installed by scripts/setup.sh): the page loads
# without console errors, refers to nothing outside itself, has one table
# row per point and every figure its database calls for (the quickstart
# with repeats: latency CDF and trade-off; a training sweep: trade-off and
# training curves), and shows database text as text. Bad input:
# test_bad_input.sh.
source "$(dirname "$0")/tap.sh"
browser=$(command -v chromium || command -v chromium-browser) ||
    tap_skip_all "chromium not found (scripts/setup.sh installs it)"
command -v gnuplot >/dev/null || tap_skip_all "gnuplot not found"
command -v sqlite3 >/dev/null || tap_skip_all "sqlite3 not found"
command -v python3 >/dev/null || tap_skip_all "python3 not found"
S=$STRAGSIM
root=${STRAGSIM_SOURCE_ROOT:-$(dirname "$0")/..}
cd "$scratch"

# browse PAGE: the DOM Chromium built from PAGE on stdout; its log (console
# messages are "INFO:CONSOLE" lines) in PAGE.log.
browse() {
    "$browser" --headless --disable-gpu --no-sandbox --user-data-dir="$scratch/profile" \
        --enable-logging=stderr --v=0 --dump-dom "file://$scratch/$1" 2>"$1.log"
}
console_errors() { grep ':CONSOLE' "$1.log"; }

# The detector itself: a page that does log an error is caught.
printf '<!DOCTYPE html><html><body><script>console.error("seen")</script></body></html>\n' >probe.html
browse probe.html >/dev/null
if console_errors probe.html | grep -q seen; then
    tap_ok "a console error is seen in Chromium's log"
else
    tap_fail "a console error is seen in Chromium's log" "$(cat probe.html.log)"
fi

# page_check DOM POINTS FIGURE...: the DOM's summary table has POINTS body
# rows, exactly these figures (ids) each holding a drawn SVG, and nothing
# that loads from elsewhere (script, link, img, iframe, src, @import, url()).
page_check() {
    python3 - "$@" <<'PY'
import sys
from html.parser import HTMLParser
dom, points, figures = open(sys.argv[1]).read(), int(sys.argv[2]), sys.argv[3:]
class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.tbody, self.fig, self.figs, self.external = 0, False, None, {}, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tbody": self.tbody = True
        if tag == "tr" and self.tbody: self.rows += 1
        if tag == "figure": self.fig = a.get("id"); self.figs[self.fig] = 0
        if tag in ("path", "use", "text") and self.fig: self.figs[self.fig] += 1
        if tag in ("script", "link", "img", "iframe", "object", "embed") or "src" in a:
            self.external.append(tag)
    def handle_endtag(self, tag):
        if tag == "tbody": self.tbody = False
        if tag == "figure": self.fig = None
p = Page(); p.feed(dom)
bad = []
if p.rows != points: bad.append(f"{p.rows} table rows, expected {points}")
if sorted(p.figs) != sorted(figures): bad.append(f"figures {sorted(p.figs)}, expected {sorted(figures)}")
bad += [f"figure {f} has nothing drawn" for f, n in p.figs.items() if n < 10]
if p.external: bad.append(f"elements that load or run something: {p.external}")
if "@import" in dom or "url(http" in dom: bad.append("a style that loads from elsewhere")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

# check_page NAME DB POINTS FIGURE...: report DB (with the --where filters
# in the array where, if any) as NAME.html, load it, check it.
where=()
check_page() {
    local name=$1 db=$2 points=$3
    shift 3
    if ! out=$("$S" report "$db" --format html -o "$name.html" "${where[@]}" 2>&1); then
        tap_fail "$name: report --format html" "$out"
        return
    fi
    browse "$name.html" >"$name.dom"
    if errors=$(console_errors "$name.html"); then
        tap_fail "$name: the page loads without console errors" "$errors"
    elif ! grep -q '</html>' "$name.dom"; then
        tap_fail "$name: the page loads without console errors" "no DOM: $(tail -3 "$name.html.log")"
    else
        tap_ok "$name: the page loads without console errors"
    fi
    if why=$(page_check "$name.dom" "$points" "$@"); then
        tap_ok "$name: $points table rows, figures $*, nothing external"
    else
        tap_fail "$name: $points table rows, figures $*, nothing external" "$why"
    fi
}

"$S" run "$root/configs/quickstart.ini" --smoke --set experiment.repeats=2 -o qs.db -q ||
    tap_fail "the quickstart (smoke, 2 repeats) runs"
# A point is a scheme here (its repeats are rows of runs with the same params).
points=$(sqlite3 qs.db "SELECT count(DISTINCT value) FROM params WHERE key = 'scheme.kind'")
runs=$(sqlite3 qs.db "SELECT count(*) FROM runs")
[[ $points == 4 && $runs == 8 ]] || tap_fail "the quickstart has 4 points, 8 runs" "got $points, $runs"
check_page quickstart qs.db "$points" latency-cdf tradeoff
if grep -q '±' quickstart.dom; then
    tap_ok "quickstart: repeats give intervals (mean ± half-width)"
else
    tap_fail "quickstart: repeats give intervals (mean ± half-width)"
fi

# --where selects the table's rows and the figures' runs alike.
where=(--where scheme.kind=berrut --where scheme.kind=uncoded)
check_page where qs.db 2 latency-cdf tradeoff
where=()
if grep -q 'scheme.kind = uncoded' where.dom && ! grep -q 'scheme.kind = nercc' where.dom; then
    tap_ok "where: the figures draw the selected schemes only"
else
    tap_fail "where: the figures draw the selected schemes only"
fi

# Training: a sweep over the four schemes only (iterations rows, no job rows).
"$S" run "$root/configs/gc-fmnist.ini" --smoke --set latency.kind=shifted_exp \
    --set cluster.workers=10 --set scheme.stragglers=1 -o train.db -q ||
    tap_fail "the training sweep (smoke) runs"
check_page training train.db 4 tradeoff training-loss training-accuracy

# Database text is shown as text: a scheme named like markup.
cp qs.db evil.db
sqlite3 evil.db "UPDATE params SET value = '<b>x</b><script>alert(1)</script>&amp;'
                 WHERE key = 'scheme.kind' AND value = 'berrut'"
check_page evil evil.db 4 latency-cdf tradeoff
if grep -qF '&lt;b&gt;x&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;' evil.dom; then
    tap_ok "evil: markup in the database is shown as text"
else
    tap_fail "evil: markup in the database is shown as text" "$(grep -o '.\{40\}alert.\{40\}' evil.dom | head -3)"
fi

# Written whole or not at all: a failure leaves no page behind.
"$S" report qs.db --format html -o "$scratch/nodir/r.html" 2>/dev/null
if [[ $? == 2 && ! -e nodir/r.html ]]; then
    tap_ok "an unwritable output is exit 2 and no file"
else
    tap_fail "an unwritable output is exit 2 and no file"
fi
tap_done
