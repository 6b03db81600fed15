#!/bin/bash
# Two real pppd over a socat pty pair: the server requires PAP, the client (in its own
# network namespace, so the ping crosses the link instead of the loopback) authenticates.
# E2E_PAP_CLIENT_SECRET picks the client's secret: the right one, or a wrong one.
set -u
R=$E2E_RESULT
D=$R/run
t0=$(date +%s%N)
. "$(dirname "$0")/pair-lib.sh"
pap_secrets
pty_pair

pppd "$D/a" 115200 nodetach local nolock require-pap 192.168.1.1:192.168.1.2 \
  logfile "$R/server-pppd.log" debug >/dev/null 2>&1 9>&- &
server=$!
unshare -n pppd "$D/b" 115200 nodetach local nolock user pppuser file "$D/client-secret" noauth \
  noipdefault logfile "$R/client-pppd.log" debug >/dev/null 2>&1 9>&- &
client=$!

# Wait (bounded) for IPCP on both sides, or for a pppd to give up.
wait_ipcp "$server"
echo "negotiated_ms $(( ($(date +%s%N) - t0) / 1000000 ))"
if grep -q "local  IP address" "$R/client-pppd.log" 2>/dev/null; then
  nsenter -t "$client" -n ping -c 3 -W 2 192.168.1.1 >"$R/ping.log" 2>&1
  echo "ping_rc $?"
  kill -TERM "$client"
fi
wait "$client"
echo "client_rc $?"
wait_gone "$server"
exec 9>&-
wait "$server"
echo "server_rc $?"
