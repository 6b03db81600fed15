#!/bin/bash
# pppd's PAP decided by FreeRADIUS through radius.so, with the files callbackd generates
# from [radius]: a real FreeRADIUS (config made by the host-side test), a server pppd
# with `plugin radius.so radius-config-file F avpair Acct-Multi-Session-Id=ID`, and a
# client pppd in its own network namespace. E2E_PAP_SECRET is the client's password.
set -u
R=$E2E_RESULT
D=$R/run
t0=$(date +%s%N)
. "$(dirname "$0")/pair-lib.sh"

freeradius -f -l stdout -d "$E2E_RADIUS_DIR/raddb" >"$R/freeradius.log" 2>&1 &
fr=$!
for _ in $(seq 300); do
  grep -q "Ready to process requests" "$R/freeradius.log" && break
  kill -0 "$fr" 2>/dev/null || break
  sleep 0.1
done
mark freeradius_ready

printf 'password %s\n' "$E2E_PAP_SECRET" >"$D/client-secret"
chmod 600 "$D/client-secret"
# A wrong password makes the client exit at once; hold its pty as a modem would (pair-lib).
if [ "$E2E_PAP_SECRET" != secret1 ]; then E2E_PAP_CLIENT_SECRET=wrong; fi
pty_pair

pppd "$D/a" 115200 nodetach local nolock require-pap plugin radius.so \
  radius-config-file "$E2E_RADIUS_CONF" avpair "Acct-Multi-Session-Id=$E2E_MULTI" \
  192.168.1.1:192.168.1.2 logfile "$R/server-pppd.log" debug >/dev/null 2>&1 9>&- &
server=$!
unshare -n pppd "$D/b" 115200 nodetach local nolock user cbuser file "$D/client-secret" noauth \
  noipdefault logfile "$R/client-pppd.log" debug >/dev/null 2>&1 9>&- &
client=$!

wait_ipcp "$server" "$client"
mark negotiated
if grep -q "local  IP address" "$R/client-pppd.log" 2>/dev/null; then
  sleep 1
  kill -TERM "$client"
fi
wait "$client"
echo "client_rc $?"
wait_gone "$server"
exec 9>&-
wait "$server"
echo "server_rc $?"
kill -TERM "$fr"
wait "$fr"
