#!/bin/bash
# The seed scenario of the call-back mini-HOWTO, for real, inside user-mode-linux:
# the simulator's exchange with two modems, callbackd on 5376443, and on 123456 a real
# pppd whose connect script is the HOWTO's chat script (dial in, log in as `call`, hang
# up, answer the call-back, log in as pppuser). Then PPP with PAP between two real pppd.
# Case 1: the right PAP secret; ping across the link; the client hangs up.
# Case 2: a wrong PAP secret; the server's pppd must refuse it (exit 11).
# Each step waits for a log line with a bound; `mark NAME` lines report timings.
set -u
R=$E2E_RESULT
REPO=$E2E_REPO
D=/run/e2e
mkdir -p "$D/state"
t0=$(date +%s%N)
mark() { echo "mark $1 $(( ($(date +%s%N) - t0) / 1000000 ))"; }

# wait_for SECONDS FILE PATTERN [FROM]: until PATTERN is in FILE at or after line FROM.
# Deadlines use bash's SECONDS: a fork costs milliseconds in UML, so counted loops overrun.
wait_for() {
  local deadline=$(( SECONDS + $1 )) from=${4:-1}
  while [ "$SECONDS" -lt "$deadline" ]; do
    tail -n "+$from" "$2" 2>/dev/null | grep -q -- "$3" && return 0
    sleep 0.2
  done
  echo "timeout: $3 not in $2 (from line $from) after $1 s"
  return 1
}
# next_line FILE: the number of the line that will be written next.
next_line() { echo $(( $(wc -l <"$1") + 1 )); }
# after_event FILE PATTERN: the line number just after the last PATTERN in FILE.
after_event() { echo $(( $(grep -n -- "$2" "$1" | tail -n 1 | cut -d: -f1) + 1 )); }
status_copy() { cp "$D/state/status.json" "$R/status-$1.json" 2>/dev/null; }
stop_all() {
  [ -n "${daemon:-}" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon"
  [ -n "${sim:-}" ] && kill -TERM "$sim" 2>/dev/null && wait "$sim"
  cp "$D/accounting.jsonl" "$R/accounting.jsonl" 2>/dev/null
  cp -r "$D/state" "$R/state" 2>/dev/null
  mark done
}
fail() { echo "FAIL: $*"; stop_all; exit 1; }

# Our own /etc/ppp (a tmpfs): Debian's `lock` in options, the seed's PAP secret.
echo "lock" >/etc/ppp/options
echo "pppuser * password_for_pppuser *" >/etc/ppp/pap-secrets
chmod 600 /etc/ppp/pap-secrets

node "$REPO/dist/cli.js" sim --numbers 5376443,123456 --link-dir "$D" --control "$D/sim.sock" \
  >"$R/sim.log" 2>&1 &
sim=$!
wait_for 60 "$R/sim.log" "ready" || fail "simulator not ready"
mark sim-ready
node "$REPO/dist/cli.js" run --config "$REPO/test/e2e/callbackd.toml" >"$R/callbackd.log" 2>&1 &
daemon=$!
wait_for 90 "$R/callbackd.log" '"line-ready"' || fail "callbackd line not ready"
mark daemon-ready

# client N SECRET: one call from 123456 with a real pppd in its own network namespace.
client() {
  printf 'password %s\n' "$2" >"$D/client-secret"
  chmod 600 "$D/client-secret"
  unshare -n pppd "$D/modem123456" 115200 connect "chat -v -f $REPO/test/e2e/pppcallback" \
    user pppuser file "$D/client-secret" noauth local nodetach noipdefault debug \
    lcp-echo-interval 0 logfile "$R/client$1-pppd.log" >/dev/null 2>&1 &
  client=$!
}

# Case 1: the right secret.
from=$(next_line "$R/callbackd.log")
client 1 password_for_pppuser
if wait_for 240 "$R/client1-pppd.log" "local  IP address"; then
  mark ipcp-up
  for f in /run/lock/LCK..*; do echo "lockfile $(basename "$f") $(tr -d ' \n' <"$f")"; done
  nsenter -t "$client" -n ping -c 3 -W 5 192.168.1.1 >"$R/ping.log" 2>&1
  echo "ping_rc $?"
  mark pinged
else
  echo "case 1: client never reached IPCP"
fi
kill -TERM "$client" 2>/dev/null
wait "$client"
echo "client1_rc $?"
wait_for 60 "$R/callbackd.log" '"ppp-exit"' "$from" || echo "case 1: no ppp-exit"
wait_for 30 "$R/callbackd.log" '"call-end"' "$(after_event "$R/callbackd.log" '"ppp-exit"')" || echo "case 1: no call-end"
wait_for 60 "$R/callbackd.log" '"to":"idle"' "$(after_event "$R/callbackd.log" '"ppp-exit"')" || echo "case 1: line not idle again"
wait_for 30 "$D/state/status.json" '"state": *"idle"' || echo "case1: status not idle"
status_copy case1
mark case1-done

# Case 2: a wrong secret. pppd on our side must refuse it, callbackd logs it.
from=$(next_line "$R/callbackd.log")
echo "case2_from $from"
client 2 not-the-secret
wait "$client"
echo "client2_rc $?"
mark client2-exit
wait_for 60 "$R/callbackd.log" '"ppp-exit"' "$from" || echo "case 2: no ppp-exit"
wait_for 30 "$R/callbackd.log" '"call-end"' "$(after_event "$R/callbackd.log" '"ppp-exit"')" || echo "case 2: no call-end"
wait_for 60 "$R/callbackd.log" '"to":"idle"' "$(after_event "$R/callbackd.log" '"ppp-exit"')" || echo "case 2: line not idle again"
wait_for 30 "$D/state/status.json" '"state": *"idle"' || echo "case2: status not idle"
status_copy case2
mark case2-done
stop_all
