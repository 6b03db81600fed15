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
mark() { echo "mark $1 $(( ($(date +%s%N) - t0) / 1000000 ))"; }
echo "lock" >/etc/ppp/options
echo "pppuser * right-secret *" >/etc/ppp/pap-secrets
chmod 600 /etc/ppp/pap-secrets
printf 'password %s\n' "${E2E_PAP_CLIENT_SECRET:-right-secret}" >"$D/client-secret"
chmod 600 "$D/client-secret"

socat pty,raw,echo=0,link="$D/a" pty,raw,echo=0,link="$D/b" &
for _ in $(seq 50); do [ -e "$D/b" ] && break; sleep 0.1; done
# With a wrong secret the client exits at once; a modem would keep the line up while our
# pppd finishes (TermReq, then exit 11), but socat would hang the pty up at once and pppd
# would report 16. Holding the client's pty open keeps the modem's behaviour.
hold_line() { [ -n "${E2E_PAP_CLIENT_SECRET:-}" ] && exec 9<>"$D/b"; }
hold_line

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
