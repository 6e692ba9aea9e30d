#!/bin/sh
# A script job: the facts arrive as ZKSHARD_* environment variables; exit 0 means success.
echo "item ${ZKSHARD_ITEM}/${ZKSHARD_SHARDS} of ${ZKSHARD_JOB} fire ${ZKSHARD_FIRE_TIME} attempt ${ZKSHARD_ATTEMPT} token ${ZKSHARD_FENCING_TOKEN}"
df -P / | tail -n 1
