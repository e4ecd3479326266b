#!/usr/bin/env bash
# Main job: set up what is missing, then the default study (bias_dependence, quick
# settings): bias dependence of T_par and T_perp (window and total) of the bundled
# symmetric and asymmetric Fe/MgO-like junctions, their quadratic fits, the BTM
# prediction, and the linear T_perp term versus barrier asymmetry.  Figures, data and
# provenance go to out/studies/bias_dependence_quick/.  Extra arguments go to
# `mtj-kwant study` (e.g. `bash scripts/run.sh` then `--out DIR`; drop --quick by running
# `.venv/bin/mtj-kwant study bias_dependence` for the full figures).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
.venv/bin/mtj-kwant study bias_dependence --quick "$@"
