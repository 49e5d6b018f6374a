#!/usr/bin/env bash
# Builds and runs the peers' benchmarks (release): ractor and kameo beside raw tokio
# baselines (rust/), then Erlang/OTP (erlang/, Debian's erlang-nox). Prints
# name<TAB>value<TAB>unit lines. Usage: bench/peers/run.sh [--quick]
#
# Erlang's nodes listen on 127.0.0.1 only, and so does epmd (started by the first node if
# none runs; stopped again at the end if this script's run started it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
quick=""
erlang_args=()
for arg in "$@"; do
    case "$arg" in
        --quick) quick="--quick"; erlang_args=(quick) ;;
        *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
    esac
done

# The Rust peers: a standalone package with its own Cargo.lock and target directory.
(cd "$here/rust" && cargo build --release --quiet)
"$here/rust/target/release/peers-bench" $quick

if ! command -v erl >/dev/null || ! command -v erlc >/dev/null; then
    echo "erl not found: apt-get install -y erlang-nox for the Erlang figures" >&2
    exit 1
fi
ebin="$here/erlang/ebin"
mkdir -p "$ebin"
erlc -Wall -o "$ebin" "$here/erlang/peers_bench.erl"

export ERL_EPMD_ADDRESS=127.0.0.1
epmd_was_running=0
if epmd -names >/dev/null 2>&1; then
    epmd_was_running=1
fi
status=0
erl -sname "peers_bench_$$" -noshell -pa "$ebin" \
    -kernel inet_dist_use_interface '{127,0,0,1}' \
    -run peers_bench main "${erlang_args[@]}" || status=$?
if [ "$epmd_was_running" = 0 ]; then
    epmd -kill >/dev/null 2>&1 || true
fi
exit "$status"
