#!/usr/bin/env bash
# Time-to-capacity on the real stack (Prometheus, HAProxy, backends on 127.0.0.1): from the start of
# a step surge to the first request served by a promoted standby, over N surges, next to its floor
# (scrape interval + Warmpool's interval + health-check rise time).
# Usage: bench/time_to_capacity.sh [N=5] [run_demo.py options, e.g. --tick 500ms]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}; shift || true
scripts/build -DWARMPOOL_BUILD_BENCH=ON >/dev/null
exec python3 examples/demo/run_demo.py --warmpool build/controller/warmpool --out out/bench-ttc --bench "$N" "$@"
