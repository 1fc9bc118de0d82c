#!/usr/bin/env bash
# Fuzzes each named target (default: all six) in turn, one AFL++ process at a time, until it
# has run EXECS executions (default 1,000,000), then prints its figures from fuzzer_stats.
# Usage: ./run.sh [target...]; EXECS=n and NICE=n (default 10) override the defaults.
# Needs `cargo afl build --release` first (README.md). Findings: out/<target>/default/.
# The seeds (corpus/) are written afresh by `seeds` first, so they always speak today's formats.
set -euo pipefail
cd "$(dirname "$0")"
EXECS="${EXECS:-1000000}"
NICE="${NICE:-10}"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(receipt registration licence verifying_key model_file input)
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
rm -rf corpus
./target/release/seeds
for t in "${targets[@]}"; do
    [ -d "corpus/$t" ] || { echo "seeds wrote no corpus/$t"; exit 2; }
    rm -rf "out/$t"
    mkdir -p out
    start=$(date +%s)
    # AFL_NO_UI prints a line per test case: keep only the end of it.
    nice -n "$NICE" cargo afl fuzz -i "corpus/$t" -o "out/$t" -E "$EXECS" "target/release/$t" \
        2>&1 | tail -n 40 > "out/$t.log"
    end=$(date +%s)
    s="out/$t/default/fuzzer_stats"
    get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$s"; }
    echo "$t: execs_done=$(get execs_done) execs_per_sec=$(get execs_per_sec)" \
        "wall_s=$((end - start)) run_time_s=$(get run_time) saved_crashes=$(get saved_crashes)" \
        "saved_hangs=$(get saved_hangs) corpus_count=$(get corpus_count)" \
        "bitmap_cvg=$(get bitmap_cvg) exec_timeout_ms=$(get exec_timeout)" \
        "afl=$(get afl_version)" | tee -a out/summary.txt
done
