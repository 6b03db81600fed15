# Sourced by the two-pppd scenarios (pppd-pair.sh, radius-pap.sh, handover-pppd.sh): the PAP secrets
# of both ends and a socat pty pair $D/a <-> $D/b. Needs R, D and t0 set.

mark() { echo "mark $1 $(( ($(date +%s%N) - t0) / 1000000 ))"; }

# The server's pap-secrets for pppuser; the client's secret (right or wrong, from
# E2E_PAP_CLIENT_SECRET) in $D/client-secret for pppd's `file` option.
pap_secrets() {
  echo "pppuser * right-secret *" >/etc/ppp/pap-secrets
  chmod 600 /etc/ppp/pap-secrets
  printf 'password %s\n' "${E2E_PAP_CLIENT_SECRET:-right-secret}" >"$D/client-secret"
  chmod 600 "$D/client-secret"
}

# With a wrong secret the client exits at once; a modem would keep the line up while our
# pppd finishes (TermReq, then exit 11), but socat would hang the pty up at once and pppd
# would report 16. Holding the client's pty open (fd 9) keeps the modem's behaviour.
pty_pair() {
  socat pty,raw,echo=0,link="$D/a" pty,raw,echo=0,link="$D/b" &
  for _ in $(seq 300); do [ -e "$D/b" ] && break; sleep 0.1; done
  if [ -n "${E2E_PAP_CLIENT_SECRET:-}" ]; then exec 9<>"$D/b"; fi
}

# Waits (at most 30 s) until both pppd logs say IPCP is up, or one of the given pids is gone.
wait_ipcp() {
  for _ in $(seq 300); do
    grep -q "local  IP address" "$R/server-pppd.log" 2>/dev/null &&
      grep -q "local  IP address" "$R/client-pppd.log" 2>/dev/null && return 0
    for p in "$@"; do kill -0 "$p" 2>/dev/null || return 1; done
    sleep 0.1
  done
  return 1
}

# Waits (at most 30 s) for a process to be gone.
wait_gone() {
  for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
}
