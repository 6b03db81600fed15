#!/bin/bash
# Two real pppd over a socat pty pair: the server requires PAP, the client (in its own
# network namespace, so the ping crosses the link instead of the loopback) authenticates.
# E2E_PAP_CLIENT_SECRET picks the client's secret: the right one, or a wrong one.
set -u
R=$E2E_RESULT
D=$R/run
t0=$(date +%s%N)
echo "pppuser * right-secret *" >/etc/ppp/pap-secrets
chmod 600 /etc/ppp/pap-secrets
printf 'user pppuser\npassword %s\n' "${E2E_PAP_CLIENT_SECRET:-right-secret}" >"$D/client-secret"
chmod 600 "$D/client-secret"

socat pty,raw,echo=0,link="$D/a" pty,raw,echo=0,link="$D/b" &
for _ in $(seq 50); do [ -e "$D/b" ] && break; sleep 0.1; done
# With a wrong secret the client exits at once; a modem would keep the line up while our
# pppd finishes (TermReq, then exit 11), but socat would hang the pty up at once and pppd
# would report 16. Holding the client's pty open keeps the modem's behaviour.
hold_line() { [ -n "${E2E_PAP_CLIENT_SECRET:-}" ] && exec 9<>"$D/b"; }
hold_line

pppd "$D/a" 115200 nodetach local nolock require-pap 192.168.1.1:192.168.1.2 \
  logfile "$R/server-pppd.log" debug >/dev/null 2>&1 9>&- &
server=$!
unshare -n pppd "$D/b" 115200 nodetach local nolock file "$D/client-secret" noauth \
  noipdefault logfile "$R/client-pppd.log" debug >/dev/null 2>&1 9>&- &
client=$!

# Wait (bounded) for IPCP on both sides, or for either pppd to give up.
for _ in $(seq 300); do
  grep -q "local  IP address" "$R/server-pppd.log" 2>/dev/null &&
    grep -q "local  IP address" "$R/client-pppd.log" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
echo "negotiated_ms $(( ($(date +%s%N) - t0) / 1000000 ))"
if grep -q "local  IP address" "$R/client-pppd.log" 2>/dev/null; then
  nsenter -t "$client" -n ping -c 3 -W 2 192.168.1.1 >"$R/ping.log" 2>&1
  echo "ping_rc $?"
  kill -TERM "$client"
fi
wait "$client"
echo "client_rc $?"
for _ in $(seq 300); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
exec 9>&-
wait "$server"
echo "server_rc $?"
