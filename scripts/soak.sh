#!/usr/bin/env bash
# A bounded soak of the worker daemon, on loopback only: load, kill -9, SIGTERM, disk-full and
# corrupt-store rounds against a real `zkw worker` on the bundled digits model (fixed weights),
# this script acting as its supervisor (it restarts the worker when it exits, as
# deploy/zkw-worker.service would). At the end every accepted job is followed to its end, its
# history read (completed exactly once?) and its receipt verified strictly (model keys, the
# client's input and salt, job id, worker id, nonce). It prints one table row per round and a
# total; the must-hold line is the last: 0 accepted jobs lost, 0 completed twice, every receipt
# verified, the daemon never alive while unable to serve.
#
#   scripts/soak.sh                     # defaults: 40 jobs a round, 3 kills, 20 minutes at most
#   JOBS=100 KILLS=10 MINUTES=30 scripts/soak.sh
#
# Not part of CI (it takes minutes and, as root, mounts a small tmpfs for the disk-full round;
# otherwise that round uses the worker's ZKW_FAULT=disk-full-while:PATH hook). Needs jq.
# Figures of its last run are in BENCHMARKS.md ("Soak").

set -euo pipefail

JOBS=${JOBS:-40}         # jobs submitted in each round
KILLS=${KILLS:-3}        # kill -9s in the kill round
MINUTES=${MINUTES:-20}   # the whole run's bound
PAR=${PAR:-8}            # concurrent clients

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ZKW=${ZKW:-$ROOT/target/release/zkw}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

die() { echo "soak: $*" >&2; exit 2; }
command -v jq >/dev/null || die "needs jq (apt-get install -y jq)"
if [ ! -x "$ZKW" ]; then
  (cd "$ROOT" && cargo build --release -p zkw) || die "building zkw failed"
fi

WORK=$(mktemp -d /tmp/zkw-soak.XXXXXX)
DATA=$WORK/data
MOUNTED=0
WPID=
cleanup() {
  [ -n "$WPID" ] && { kill -9 "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; } || true
  [ "$MOUNTED" = 1 ] && umount "$DATA" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
DEADLINE=$(( $(date +%s) + MINUTES * 60 ))
past_deadline() { [ "$(date +%s)" -ge "$DEADLINE" ]; }

# The model and its keys.
"$ZKW" model import "$ROOT/examples/digits/digits.onnx" -o "$WORK/digits.zkm" \
  --calibration "$ROOT/examples/digits/calibration.json" --weights fixed >/dev/null
"$ZKW" keys new -o "$WORK/owner.key" >/dev/null
"$ZKW" model setup "$WORK/digits.zkm" -o "$WORK/models/digits" --owner-key "$WORK/owner.key" >/dev/null
MODEL=$(jq -r .model_id "$WORK/models/digits/record.json")
INPUT=$ROOT/examples/digits/input.json

# The data directory: a small tmpfs when this may mount one (the disk-full round fills it),
# else a plain directory and the fault hook.
mkdir -p "$DATA"
FULL_FLAG=$WORK/disk-full
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=96m tmpfs "$DATA" 2>/dev/null; then
  MOUNTED=1
  FAULT=
else
  FAULT="disk-full-while:$FULL_FLAG"
fi

PORT=$(( 20000 + RANDOM % 20000 ))
URL=http://127.0.0.1:$PORT
LOG=$WORK/worker.log
EXITS=$WORK/exits          # one line per worker exit: its code
ZOMBIE=0                   # times the worker was alive but not serving for long
: > "$EXITS"

start_worker() {
  env ${FAULT:+ZKW_FAULT=$FAULT} "$ZKW" worker --listen "127.0.0.1:$PORT" --backend cpu \
    --data "$DATA" --models "$WORK/models" >>"$WORK/worker.out" 2>>"$LOG" &
  WPID=$!
  # Serving within 30 s, or dead (then the caller decides); alive and not serving is a zombie.
  local t=0
  while [ $t -lt 300 ]; do
    if ! kill -0 "$WPID" 2>/dev/null; then
      wait "$WPID" 2>/dev/null && echo 0 >>"$EXITS" || echo $? >>"$EXITS"
      WPID=
      return 1
    fi
    "$ZKW" models --worker "$URL" >/dev/null 2>&1 && return 0
    sleep 0.1; t=$((t + 1))
  done
  ZOMBIE=$((ZOMBIE + 1))
  return 1
}

# Starts the worker, retrying as a supervisor with Restart=on-failure would (RestartSec=1).
supervise() {
  local tries=0
  until start_worker; do
    tries=$((tries + 1))
    [ $tries -ge 30 ] && die "the worker does not start (see $LOG)"
    sleep 1
  done
}

stop_worker() {   # SIGTERM; its exit code is recorded
  [ -n "$WPID" ] || return 0
  note_peak
  kill -TERM "$WPID" 2>/dev/null || true
  wait "$WPID" 2>/dev/null && echo 0 >>"$EXITS" || echo $? >>"$EXITS"
  WPID=
}

kill9_worker() {
  [ -n "$WPID" ] || return 0
  note_peak
  kill -9 "$WPID" 2>/dev/null || true
  wait "$WPID" 2>/dev/null || true
  echo 137 >>"$EXITS"
  WPID=
}

rss_kib() { [ -n "$WPID" ] && awk '/VmRSS/ {print $2}' "/proc/$WPID/status" 2>/dev/null || echo 0; }

# Submits $1 jobs named $2-N, $PAR at a time; each accepted one is appended to accepted.tsv
# (job id, nonce, salt, round), each refused one to refused.tsv (round, reason).
ACCEPTED=$WORK/accepted.tsv
REFUSED=$WORK/refused.tsv
: > "$ACCEPTED"; : > "$REFUSED"
submit_one() {
  local nonce=$1 round=$2 out
  if out=$("$ZKW" submit "$MODEL" --input "$INPUT" --nonce "$nonce" --idempotency-key "$nonce" \
        --worker "$URL" --json 2>&1); then
    printf '%s\t%s\t%s\t%s\n' "$(jq -r .job_id <<<"$out")" "$nonce" \
      "$(jq -r .input_salt <<<"$out")" "$round" >>"$ACCEPTED"
  else
    printf '%s\t%s\n' "$round" "$(tr '\n' ' ' <<<"$out" | cut -c1-160)" >>"$REFUSED"
  fi
}
export -f submit_one
export ZKW MODEL INPUT URL ACCEPTED REFUSED
submit_many() {   # count round
  seq 1 "$1" | xargs -P "$PAR" -I{} bash -c "submit_one $2-{} $2"
}

# Waits until every job accepted so far has ended (the worker supervised meanwhile).
declare -A ENDED
drain() {
  local t=0 pending id s
  while :; do
    { [ -n "$WPID" ] && kill -0 "$WPID" 2>/dev/null; } || { WPID=; supervise; }
    pending=0
    while IFS=$'\t' read -r id _ _ _; do
      [ -n "${ENDED[$id]:-}" ] && continue
      s=$("$ZKW" status "$id" --worker "$URL" --json 2>/dev/null | jq -r .state || echo "?")
      case $s in
        succeeded|failed|cancelled) ENDED[$id]=1 ;;
        *) pending=1; break ;;
      esac
    done <"$ACCEPTED"
    [ $pending = 0 ] && return 0
    t=$((t + 1))
    [ $t -gt 600 ] && die "jobs did not end within 10 minutes"
    sleep 1
  done
}

declare -a ROWS
row() {   # round, accepted in it, refused in it, rss
  ROWS+=("$1|$2|$3|$4")
}
count_round() { awk -F'\t' -v r="$1" '$4==r' "$ACCEPTED" | wc -l; }
refused_round() { awk -F'\t' -v r="$1" '$1==r' "$REFUSED" | wc -l; }

PEAK=0
# The worker's peak resident memory so far (VmHWM), over all its runs.
note_peak() {
  local p
  p=$( [ -n "$WPID" ] && awk '/VmHWM/ {print $2}' "/proc/$WPID/status" 2>/dev/null || echo 0)
  [ "${p:-0}" -gt "$PEAK" ] && PEAK=$p
  return 0
}
note_rss() { note_peak; rss_kib; }

supervise
echo "soak: worker on $URL, data in $DATA ($([ $MOUNTED = 1 ] && echo "tmpfs 96 MiB" || echo "fault hook")), $JOBS jobs a round"

# 1. Load.
submit_many "$JOBS" load
drain
row load "$(count_round load)" "$(refused_round load)" "$(note_rss)"

# 2. kill -9 while jobs are queued, running and proving, $KILLS times.
for k in $(seq 1 "$KILLS"); do
  past_deadline && break
  submit_many "$JOBS" "kill$k" &
  # 1-3 s: long enough for the restarted worker to make progress. Killed every few hundred
  # ms, the job at the head of the queue is killed in every run, and after three runs the
  # attempt rule fails it as a poison job — which is what it looks like from inside.
  sleep "$(( 1 + RANDOM % 2 )).$(( RANDOM % 10 ))"
  kill9_worker
  wait || true
  supervise
done
drain
kills=0; refused=0
for k in $(seq 1 "$KILLS"); do
  kills=$((kills + $(count_round "kill$k"))); refused=$((refused + $(refused_round "kill$k")))
done
row "kill -9 ×$KILLS" "$kills" "$refused" "$(note_rss)"

# 3. SIGTERM while jobs are queued: it drains and exits 0; queued jobs resume.
if ! past_deadline; then
  submit_many "$JOBS" term &
  sleep 0.5
  stop_worker
  wait || true
  [ "$(tail -n1 "$EXITS")" = 0 ] || echo "soak: SIGTERM exit code $(tail -n1 "$EXITS"), not 0" >&2
  supervise
  drain
  row SIGTERM "$(count_round term)" "$(refused_round term)" "$(note_rss)"
fi

# 4. Disk full: the data directory fills while jobs arrive; the worker refuses or stops (exit
#    3), never loses an acknowledged job; space comes back and it resumes.
if ! past_deadline; then
  if [ $MOUNTED = 1 ]; then
    dd if=/dev/zero of="$DATA/filler" bs=1M 2>/dev/null || true   # until ENOSPC
  else
    touch "$FULL_FLAG"
  fi
  submit_many "$JOBS" full || true
  sleep 2
  rm -f "$DATA/filler" "$FULL_FLAG"
  [ -n "$WPID" ] && kill -0 "$WPID" 2>/dev/null || { WPID=; supervise; }
  drain
  row "disk full" "$(count_round full)" "$(refused_round full)" "$(note_rss)"
fi

# 5. Corrupt store: stopped cleanly, one byte flipped at random in the store file. The worker
#    refuses it by name (or, when the byte fell in a free page, serves); `store check` says so,
#    `store salvage` copies out what can be read; the salvaged store serves. Receipts whose only
#    copy the flip destroyed are counted apart (damage the round itself inflicted).
DESTROYED=0
if ! past_deadline; then
  submit_many "$JOBS" corrupt
  drain
  stop_worker
  # The bytes: inside every copy of the newest job's sealed receipt (tag r, key length 32,
  # its id) — the live copy among them, so redb's page checksums see it: the worker must
  # refuse the store, and salvage recover the rest (that one receipt is destroyed).
  last=$(tail -n1 "$ACCEPTED" | cut -f1)
  at=""
  for o in $(LC_ALL=C grep -boaP "r\x20\x00\x00\x00$last" "$DATA/jobs.redb" | cut -d: -f1); do
    o=$((o + 60))
    printf "$(printf '\\x%02x' $(( ($(od -An -tu1 -j "$o" -N1 "$DATA/jobs.redb") ^ 0x10) & 255 )))" \
      | dd of="$DATA/jobs.redb" bs=1 seek="$o" conv=notrunc 2>/dev/null
    at="$at $o"
  done
  [ -n "$at" ] || die "the newest receipt was not found in the store file"
  REFUSED_DAMAGE=no
  if ! start_worker; then
    REFUSED_DAMAGE=yes
    "$ZKW" worker store check "$DATA" >"$WORK/check.txt" 2>&1 && die "store check found nothing"
    "$ZKW" worker store salvage "$DATA" >"$WORK/salvage.txt" 2>&1 || die "salvage failed"
    mv "$DATA/jobs.redb" "$WORK/jobs.damaged.redb"
    mv "$DATA/jobs.salvaged.redb" "$DATA/jobs.redb"
    DESTROYED=$(grep -o '[0-9]* receipts\? lost' "$WORK/salvage.txt" | grep -o '^[0-9]*' || echo 0)
    supervise
  fi
  row "corrupt store (bytes$at)" "$(count_round corrupt)" "$(refused_round corrupt)" "$(note_rss)"
fi

# The reckoning: every accepted job, once, verified.
declare -A DONE_ONCE VERIFIED LOST TWICE
total_verified=0; total_once=0; total_lost=0; total_twice=0; total_destroyed_seen=0
while IFS=$'\t' read -r id nonce salt round; do
  st=$("$ZKW" status "$id" --worker "$URL" --json 2>/dev/null || echo '{}')
  succeeded=$(jq '[.history[]? | select(.state=="succeeded")] | length' <<<"$st")
  if [ "$(jq -r '.state // "missing"' <<<"$st")" != succeeded ]; then
    LOST[$round]=$(( ${LOST[$round]:-0} + 1 )); total_lost=$((total_lost + 1))
    echo "soak: job $id ($round) is $(jq -c '{state, error}' <<<"$st")" >&2
    continue
  fi
  if [ "$succeeded" -gt 1 ]; then
    TWICE[$round]=$(( ${TWICE[$round]:-0} + 1 )); total_twice=$((total_twice + 1))
  else
    DONE_ONCE[$round]=$(( ${DONE_ONCE[$round]:-0} + 1 )); total_once=$((total_once + 1))
  fi
  r=$WORK/receipt-$id.json
  if ! "$ZKW" receipt "$id" --model "$MODEL" --nonce "$nonce" --worker "$URL" -o "$r" >/dev/null 2>"$WORK/receipt.err"; then
    if grep -q "receipt was lost" "$WORK/receipt.err"; then
      total_destroyed_seen=$((total_destroyed_seen + 1)); continue
    fi
    LOST[$round]=$(( ${LOST[$round]:-0} + 1 )); total_lost=$((total_lost + 1))
    echo "soak: no receipt for $id ($round): $(cat "$WORK/receipt.err")" >&2
    continue
  fi
  worker_id=$(jq -r .worker_id <<<"$st")
  if "$ZKW" verify "$r" --keys "$WORK/models/digits" --input "$INPUT" --input-salt "$salt" \
      --job-id "$id" --worker-id "$worker_id" --nonce "$nonce" >/dev/null 2>&1; then
    VERIFIED[$round]=$(( ${VERIFIED[$round]:-0} + 1 )); total_verified=$((total_verified + 1))
  else
    echo "soak: receipt of $id ($round) does not verify" >&2
  fi
done <"$ACCEPTED"
final_rss=$(note_rss)
stop_worker

key_of() { case $1 in load) echo load ;; kill*) echo kill ;; SIGTERM) echo term ;; "disk full") echo full ;; corrupt*) echo corrupt ;; esac; }
sum_prefix() {   # assoc-array-name prefix
  local -n a=$1; local n=0 k
  for k in "${!a[@]}"; do [[ $k == "$2"* ]] && n=$((n + a[$k])); done
  echo $n
}
echo
echo "| round | accepted | refused | completed once | verified | lost | completed twice | RSS after (MiB) |"
echo "|---|---|---|---|---|---|---|---|"
for r in "${ROWS[@]}"; do
  IFS='|' read -r name acc ref rss <<<"$r"
  k=$(key_of "$name")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$acc" "$ref" \
    "$(sum_prefix DONE_ONCE "$k")" "$(sum_prefix VERIFIED "$k")" "$(sum_prefix LOST "$k")" \
    "$(sum_prefix TWICE "$k")" "$(( rss / 1024 ))"
done
accepted_total=$(wc -l <"$ACCEPTED")
printf '| **total** | %s | %s | %s | %s | %s | %s | peak %s |\n' "$accepted_total" \
  "$(wc -l <"$REFUSED")" "$total_once" "$total_verified" "$total_lost" "$total_twice" "$(( PEAK / 1024 ))"
echo
echo "worker exits: $(sort "$EXITS" | uniq -c | awk '{printf "%s×%s ", $1, $2}')· zombies: $ZOMBIE"
echo "corrupt store: refused by the worker: ${REFUSED_DAMAGE:-n/a}; receipts destroyed by the injected flip: $DESTROYED (seen missing: $total_destroyed_seen)"
if [ "$total_lost" = 0 ] && [ "$total_twice" = 0 ] && [ "$ZOMBIE" = 0 ] \
   && [ $((total_verified + total_destroyed_seen)) = "$accepted_total" ]; then
  echo "holds: 0 accepted jobs lost, 0 completed twice, every receipt verified, no zombie"
else
  echo "FAILS: lost $total_lost, twice $total_twice, verified $total_verified of $accepted_total, zombies $ZOMBIE"
  exit 1
fi
