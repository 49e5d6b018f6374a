#!/usr/bin/env bash
# The README's two-terminal pattern (examples/cluster.rs) as two OS processes: node a
# registers `echo`; node b joins through a seed given by name, calls `echo` three times and
# leaves; a must see b join and leave. Fails (non-zero) if any step does not happen.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q --example cluster
bin=target/debug/examples/cluster
logs=$(mktemp -d)
trap 'kill "$a_pid" 2>/dev/null || true; rm -rf "$logs"' EXIT

"$bin" --name a --for 60 >"$logs/a" 2>&1 &
a_pid=$!

port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$logs/a" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then echo "node a did not start:"; cat "$logs/a"; exit 1; fi

timeout 60 "$bin" --name b --seed "localhost:$port" --calls 3 | tee "$logs/b"
grep -q "answered by a" "$logs/b" || { echo "b was never answered by a"; exit 1; }

for _ in $(seq 1 100); do
  grep -q "node b left" "$logs/a" && break
  sleep 0.1
done
cat "$logs/a"
grep -q "node b joined" "$logs/a" || { echo "a never saw b join"; exit 1; }
grep -q "node b left" "$logs/a" || { echo "a never saw b leave"; exit 1; }
echo "two terminals: ok"
