#!/usr/bin/env bash
# Runs the bench N times (default 5) with the given arguments (default `--quick`) and prints,
# for every `ratio.*` line (not their `.spread` companions), the median over the runs, the
# lowest and highest, the largest deviation from the median in percent, and whether every
# run stayed within ±25 % of the median.
#
#   bash bench/stability.sh [runs] [bench arguments...]
#   bash bench/stability.sh 5 --quick
#   BENCH_KEEP=/tmp/runs bash bench/stability.sh   # and keep each run's output
set -euo pipefail
runs=${1:-5}
shift || true
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--quick)
cd "$(dirname "$0")/.."
cargo build --release -p distribute-bench >&2
bin=${CARGO_TARGET_DIR:-target}/release/distribute-bench
# BENCH_KEEP=<dir> keeps each run's output there (run.1, run.2, ...).
if [ -n "${BENCH_KEEP:-}" ]; then
    out=$BENCH_KEEP
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
for run in $(seq 1 "$runs"); do
    echo "run $run of $runs: $bin ${args[*]}" >&2
    "$bin" "${args[@]}" > "$out/run.$run"
done
cat "$out"/run.* | awk -F'\t' '
    $1 ~ /^ratio\./ && $1 !~ /\.spread$/ {
        if (!($1 in count)) order[++names] = $1
        values[$1, ++count[$1]] = $2
    }
    END {
        printf "%-62s %8s %8s %8s %7s %s\n", "ratio", "median", "min", "max", "dev%", "within25%"
        all = "yes"
        for (i = 1; i <= names; i++) {
            name = order[i]; n = count[name]
            for (j = 1; j <= n; j++) sorted[j] = values[name, j]
            # insertion sort; n is small
            for (j = 2; j <= n; j++) {
                v = sorted[j]; k = j - 1
                while (k >= 1 && sorted[k] > v) { sorted[k + 1] = sorted[k]; k-- }
                sorted[k + 1] = v
            }
            median = (n % 2) ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
            dev = 0
            for (j = 1; j <= n; j++) {
                d = median > 0 ? (sorted[j] - median) / median : 0
                if (d < 0) d = -d
                if (d > dev) dev = d
            }
            ok = dev <= 0.25 ? "yes" : "NO"
            if (ok == "NO") all = "no"
            printf "%-62s %8.3f %8.3f %8.3f %7.1f %s\n", name, median, sorted[1], sorted[n], dev * 100, ok
        }
        printf "every ratio within ±25 %% of its median over %d runs: %s\n", n, all
    }'
