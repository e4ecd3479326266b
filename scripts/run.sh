#!/usr/bin/env bash
# Main job: set up what is missing, then a bias sweep of the bundled symmetric
# Fe-like/MgO-like/Fe-like junction (window torques, theta = 90 deg), written to
# out/fe_mgo_fe_sweep.json and out/fe_mgo_fe_sweep.png.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
.venv/bin/mtj-kwant sweep systems/fe_mgo_fe.toml --bias=-0.5:0.5:21 --theta 90 \
    --output out/fe_mgo_fe_sweep.json --plot out/fe_mgo_fe_sweep.png "$@"
echo "results: $root/out/fe_mgo_fe_sweep.json and $root/out/fe_mgo_fe_sweep.png"
