#!/bin/bash
# Call-back inside PPP through the daemon, for real, inside user-mode-linux: the simulator's
# exchange with two modems, callbackd (test/e2e/callbackd-ppp.toml, ppp_callback) on 5376443,
# and on 123456 the caller's real pppd with `user pppuser` and `callback 123456`. callbackd's
# PPP engine checks PAP and agrees the call-back in CBCP; the caller's pppd exits 14; a second
# pppd on the caller's modem answers the call-back (cbcp-answer), and the second leg is
# today's AutoPPP: callbackd's pppd checks PAP, IPCP comes up, pings pass.
# Each step waits for a log line with a bound; `mark NAME` lines report timings.
set -u
R=$E2E_RESULT
REPO=$E2E_REPO
D=/run/e2e
mkdir -p "$D/state"
t0=$(date +%s%N)
mark() { echo "mark $1 $(( ($(date +%s%N) - t0) / 1000000 ))"; }

# wait_for SECONDS FILE PATTERN: until PATTERN is in FILE (bash's SECONDS as the clock).
wait_for() {
  local deadline=$(( SECONDS + $1 ))
  while [ "$SECONDS" -lt "$deadline" ]; do
    grep -q -- "$3" "$2" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "timeout: $3 not in $2 after $1 s"
  return 1
}
stop_all() {
  [ -n "${daemon:-}" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon"
  [ -n "${sim:-}" ] && kill -TERM "$sim" 2>/dev/null && wait "$sim"
  cp "$D/accounting.jsonl" "$R/accounting.jsonl" 2>/dev/null
  mark done
}
fail() { echo "FAIL: $*"; stop_all; exit 1; }

# Our own /etc/ppp (a tmpfs): Debian's `lock`; the server pppd's PAP secret for the second leg.
echo "lock" >/etc/ppp/options
echo "pppuser * password_for_pppuser *" >/etc/ppp/pap-secrets
chmod 600 /etc/ppp/pap-secrets
printf 'password password_for_pppuser\n' >"$D/client-secret"
chmod 600 "$D/client-secret"

node "$REPO/dist/cli.js" sim --numbers 5376443,123456 --link-dir "$D" --control "$D/sim.sock" \
  >"$R/sim.log" 2>&1 &
sim=$!
wait_for 60 "$R/sim.log" "ready" || fail "simulator not ready"
mark sim-ready
node "$REPO/dist/cli.js" run --config "$REPO/test/e2e/callbackd-ppp.toml" >"$R/callbackd.log" 2>&1 &
daemon=$!
wait_for 90 "$R/callbackd.log" '"line-ready"' || fail "callbackd line not ready"
mark daemon-ready

# First leg: dial, PAP and CBCP with callbackd's engine; pppd exits 14 on a call-back.
unshare -n pppd "$D/modem123456" 115200 connect "chat -v -f $REPO/test/e2e/cbcp-dial" \
  user pppuser file "$D/client-secret" callback 123456 noauth local nodetach noipdefault debug \
  lcp-echo-interval 0 logfile "$R/client1-pppd.log" >/dev/null 2>&1
echo "client1_rc $?"
mark client1-exit

# callbackd has hung up the first leg and waits out the delay before dialling.
wait_for 60 "$R/callbackd.log" '"to":"callback-wait"' || echo "first leg: no callback-wait"
mark callback-wait

# Second leg: the caller's modem answers the call-back; AutoPPP, PAP with callbackd's pppd.
unshare -n pppd "$D/modem123456" 115200 connect "chat -v -f $REPO/test/e2e/cbcp-answer" \
  user pppuser file "$D/client-secret" noauth local nodetach noipdefault debug \
  lcp-echo-interval 0 logfile "$R/client2-pppd.log" >/dev/null 2>&1 &
client=$!
if wait_for 150 "$R/client2-pppd.log" "local  IP address"; then
  mark ipcp-up
  nsenter -t "$client" -n ping -c 3 -W 5 192.168.1.1 >"$R/ping.log" 2>&1
  echo "ping_rc $?"
  mark pinged
else
  echo "second leg: the caller never reached IPCP"
fi
kill -TERM "$client" 2>/dev/null
wait "$client"
echo "client2_rc $?"
wait_for 60 "$R/callbackd.log" '"call-end"' || echo "no call-end"
mark call-end
stop_all
