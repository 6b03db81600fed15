#!/bin/bash
# Call-back inside PPP, first leg: several real pppd callers at once, each on its own socat
# pty pair, against cbcp-driver.mjs (callbackd's PPP engine from dist/) on the other ends.
# Cases: `callback 123456`, `callback ""`, a number the rules refuse, a wrong PAP secret,
# pppd without `callback` (no LCP option 13), line garbage before a good caller, and a PPP
# user without call-back whose line the engine hands to real pppd after PAP (handoff).
set -u
R=$E2E_RESULT
D=$R/run
t0=$(date +%s%N)
mark() { echo "mark $1 $(( ($(date +%s%N) - t0) / 1000000 ))"; }

cases=(user admin refused wrong plain garbage handoff)
printf 'password right-secret\n' >"$D/right"
printf 'password wrong-secret\n' >"$D/wrong"
chmod 600 "$D/right" "$D/wrong"
# For the pppd that takes the handoff line (it checks PAP itself, as on a real server).
echo "pppuser * right-secret *" >/etc/ppp/pap-secrets
chmod 600 /etc/ppp/pap-secrets

holders=()
args=()
for i in "${!cases[@]}"; do
  socat pty,raw,echo=0,link="$D/a$i" pty,raw,echo=0,link="$D/b$i" &
  for _ in $(seq 50); do [ -e "$D/b$i" ] && [ -e "$D/a$i" ] && break; sleep 0.1; done
  # Second holders of both ends: when the driver closes its side after the last frame (its
  # hang-up) or the noise writer closes the caller's, socat keeps the pair up, as a modem
  # keeps the line while the caller's pppd finishes on its own.
  sleep 300 <>"$D/a$i" &
  holders+=($!)
  sleep 300 <>"$D/b$i" &
  holders+=($!)
  args+=("$D/a$i=${cases[$i]}")
done
mark ptys

node "$E2E_REPO/test/e2e/cbcp-driver.mjs" "${args[@]}" >"$R/driver.out" 2>"$R/driver.log" &
driver=$!
for _ in $(seq 600); do
  [ "$(grep -c ' ready ' "$R/driver.out" 2>/dev/null)" = "${#cases[@]}" ] && break
  kill -0 "$driver" 2>/dev/null || break
  sleep 0.1
done
mark driver-ready

# Deterministic line noise: text, bare flags, a frame with a bad FCS, an aborted frame and
# an overlong run without a flag.
garbage() {
  printf 'login: ATZ\r\n\x7e\x7e'
  printf '\x7e\xff\x7d\x23\xc0\x21\x7d\x21\x7d\x21\x7d\x20\x7d\x24\x12\x34\x7e'
  printf '\x7e\xff\x7d\x23\xc0\x21\x7d\x7e'
  head -c 3000 /dev/zero | tr '\0' 'U'
  printf '\x7e'
}

clients=()
for i in "${!cases[@]}"; do
  c=${cases[$i]}
  secret=$D/right
  cb=(callback 123456)
  case $c in
    admin) cb=(callback "") ;;
    refused) cb=(callback 0900123456) ;;
    wrong) secret=$D/wrong ;;
    plain | handoff) cb=() ;;
    garbage) garbage >"$D/b$i" ;;
  esac
  # Own network namespace: IPCP on the handoff line must not meet the server's addresses.
  unshare -n pppd "$D/b$i" 115200 nodetach local nolock user pppuser file "$secret" noauth \
    noipdefault lcp-echo-interval 0 "${cb[@]}" logfile "$R/client-$c.log" debug >/dev/null 2>&1 &
  clients+=($!)
done
mark clients-started

for i in "${!cases[@]}"; do
  pid=${clients[$i]}
  for _ in $(seq 900); do
    kill -0 "$pid" 2>/dev/null || break
    # The handoff caller stays connected: once IPCP is up it is done, as a user hanging up.
    if [ "${cases[$i]}" = handoff ] && grep -q "local  IP address" "$R/client-handoff.log" 2>/dev/null; then
      mark handoff-ipcp-up
      kill -TERM "$pid"
    fi
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && { echo "client ${cases[$i]} still running: stopping it"; kill -TERM "$pid"; }
  wait "$pid"
  echo "client_rc ${cases[$i]} $?"
done
mark clients-done

for _ in $(seq 300); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
kill -0 "$driver" 2>/dev/null && { echo "driver still running: killing it"; kill -KILL "$driver"; }
wait "$driver"
echo "driver_rc $?"
kill "${holders[@]}" 2>/dev/null
mark done
