#!/bin/sh
# The chaos suite's script job (`--scripts`): a careless script that ignores SIGTERM, so that only
# SIGKILL of its process group ends it before its time. It logs its start and its end to the same
# run log as the module handler (`runs-<worker>-<worker pid>.jsonl`; its parent is the worker);
# a run killed by the worker logs no end: the checker takes that from the worker's own log
# (`run finished` ... `script killed by SIGKILL`, written once the script's processes are gone).
# Job parameter: sleepMs=N, how long a run takes.
trap '' TERM
ms=${ZKSHARD_JOB_PARAMETER#sleepMs=}
log="$CHAOS_DIR/runs-$ZKSHARD_WORKER-$PPID.jsonl"
line() {
  printf '{"event":"%s","worker":"%s","pid":%s,"job":"%s","item":%s,"fire":"%s","attempt":%s,"token":"%s","at":%s}\n' \
    "$1" "$ZKSHARD_WORKER" "$PPID" "$ZKSHARD_JOB" "$ZKSHARD_ITEM" "$ZKSHARD_FIRE_TIME" "$ZKSHARD_ATTEMPT" "$ZKSHARD_FENCING_TOKEN" \
    "$(date +%s%3N)" >> "$log"
}
line start
sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
line end
