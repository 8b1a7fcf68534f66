#!/bin/sh
# Runs the template's dev server ($AUTOCREA_DEV_COMMAND) and restarts it with
# backoff (1 s doubling to 30 s, reset after 30 s of running) when it exits.
# The appliance follows this container's output: the "[autocrea]" lines are
# how it learns that the dev server started or crashed.
#
# A warm-pool container starts before it has a project: it waits for
# $AUTOCREA_WAIT_FOR (a file the appliance creates when it hands the
# container a project) before starting the dev server.
if [ -n "${AUTOCREA_WAIT_FOR:-}" ]; then
  while [ ! -e "$AUTOCREA_WAIT_FOR" ]; do sleep 0.02; done
fi
delay=1
while :; do
  echo "[autocrea] starting: $AUTOCREA_DEV_COMMAND"
  started=$(date +%s)
  sh -c "$AUTOCREA_DEV_COMMAND"
  code=$?
  if [ $(( $(date +%s) - started )) -ge 30 ]; then delay=1; fi
  echo "[autocrea] exited with status $code; restarting in ${delay}s"
  sleep "$delay"
  delay=$(( delay * 2 )); if [ "$delay" -gt 30 ]; then delay=30; fi
done
