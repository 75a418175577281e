#!/usr/bin/env bash
# The PostgreSQL + nginx drill (issue 5) end to end, as lab/postgres/README.md describes
# it: stands the lab up, runs a dry run and a live switchover a → b, prints the run's
# recovery time against its target, and takes the lab down. As root, on Debian.
# Usage: bench/postgres_drill.sh      (from the repository root; builds --release)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
exe="$(realpath "${CARGO_TARGET_DIR:-target}")/release/switchyard"
lab="$(mktemp -d /tmp/switchyard-pg-bench-XXXXXX)"
evidence="$(mktemp -d)"
trap 'lab/postgres/down.sh "$lab" >/dev/null 2>&1 || true; rm -rf "$evidence"' EXIT
lab/postgres/up.sh "$lab" >/dev/null
# The runbook's inventory names the lab's default paths; this lab's own inventory overrides it.
"$exe" -q --no-progress --inventory "$lab/inventory.toml" run runbooks/postgres.toml --to b \
    --evidence-dir "$evidence" >/dev/null
"$exe" -q --no-progress --inventory "$lab/inventory.toml" run runbooks/postgres.toml --to b \
    --live --yes --evidence-dir "$evidence" > "$evidence/stdout"
dir="$(sed -n 's/^passed: evidence in //p' "$evidence/stdout")"
python3 - "$dir/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"outcome {s['outcome']}: recovered in {s['rto']['achieved_s']:.2f} s against a target of {s['rto']['target_s']:.0f} s")
for svc in s["services"]:
    print(f"  {svc['name']}: {svc['recovered_s']:.2f} s")
PY
