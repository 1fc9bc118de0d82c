#!/usr/bin/env bash
# Draws benches/scale/scaling.png from target/scale/scale.csv (written by
# `cargo bench --bench scale`), with matplotlib from PyPI in a virtualenv under target/.
#
#   cargo bench --bench scale && benches/scale/plot.sh
#
# `zkw prove` on one of the curve's models, as a whole process (keys loaded, one proof):
#   cargo build --release -p zkw
#   /usr/bin/time -v target/release/zkw prove target/scale/mlp-1m-committed/model.zkm \
#     --keys target/scale/mlp-1m-committed/keys --input target/scale/mlp-1m-committed/input.json \
#     --backend cpu -o /tmp/receipt.json
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/plot-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'matplotlib==3.9.2'
fi
"$venv/bin/python" "$root/benches/scale/plot.py" "$root/target/scale/scale.csv" \
    "$root/benches/scale/scaling.png"
