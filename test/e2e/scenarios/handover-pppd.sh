#!/bin/bash
# callbackd's own hand-over code (dist/ppp) giving a tty to real pppd, inside UML:
# handover-driver.mjs holds the line and the UUCP lock, then hands both to pppd with
# `lock` in /etc/ppp/options (as on Debian), so pppd must accept the handed-over lock.
# The peer is a real pppd in its own network namespace; E2E_PAP_CLIENT_SECRET picks its secret,
# E2E_DRIVER_MODE=keep-lock skips the lock hand-over (the control experiment).
set -u
R=$E2E_RESULT
D=$R/run
t0=$(date +%s%N)
. "$(dirname "$0")/pair-lib.sh"
echo "lock" >/etc/ppp/options
pap_secrets
pty_pair

node "$E2E_REPO/test/e2e/handover-driver.mjs" "$D/a" /run/lock "${E2E_DRIVER_MODE:-handover}" >"$R/driver.out" 2>"$R/driver.log" 9>&- &
driver=$!
mark driver-started
# The peer starts once the driver holds the line (its lock exists), so that its first
# frames reach callbackd's transport, as a caller's would.
for _ in $(seq 600); do ls /run/lock/LCK..* >/dev/null 2>&1 && break; sleep 0.1; done
mark driver-locked
unshare -n pppd "$D/b" 115200 nodetach local nolock user pppuser file "$D/client-secret" noauth \
  noipdefault lcp-echo-interval 0 logfile "$R/client-pppd.log" debug >/dev/null 2>&1 9>&- &
client=$!

for _ in $(seq 1200); do
  grep -q "local  IP address" "$R/client-pppd.log" 2>/dev/null && break
  kill -0 "$client" 2>/dev/null || break
  kill -0 "$driver" 2>/dev/null || break
  sleep 0.1
done
if grep -q "local  IP address" "$R/client-pppd.log" 2>/dev/null; then
  mark ipcp-up
  for f in /run/lock/LCK..*; do echo "lockfile $(basename "$f") $(tr -d ' \n' <"$f")"; done
  nsenter -t "$client" -n ping -c 3 -W 5 192.168.1.1 >"$R/ping.log" 2>&1
  echo "ping_rc $?"
  kill -TERM "$client"
fi
# With no pppd left on our side (refused lock) the peer would wait forever: stop it.
kill -0 "$driver" 2>/dev/null || kill -TERM "$client" 2>/dev/null
wait "$client"
echo "client_rc $?"
for _ in $(seq 300); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
exec 9>&-
for _ in $(seq 100); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
kill -0 "$driver" 2>/dev/null && { echo "driver still running: killing it"; kill -KILL "$driver"; }
wait "$driver"
echo "driver_rc $?"
mark done
