#!/bin/bash
# PID 1 inside user-mode-linux for the e2e tests. The root file system is the host's own
# (hostfs), so everything the tests write goes either to the result directory the host
# named (E2E_RESULT) or to tmpfs mounts that exist only inside this kernel: /run (with
# /var/lock and /var/run), /etc/ppp (our pap-secrets and options, not the host's) and
# $E2E_RESULT/run (sockets and pty links; hostfs cannot hold sockets).
# The kernel hands command-line words of the form KEY=VALUE to init as environment:
# E2E_SCENARIO (script to run), E2E_RESULT (host-visible result dir), E2E_REPO.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

say() { echo "uml-init: $*"; echo "$(date +%T.%N) $*" >>"$E2E_RESULT/init.log"; }
finish() {
  sync
  # halt -f needs no init daemon; the sysrq fallback covers a halt that cannot run.
  halt -f -f || echo o >/proc/sysrq-trigger
  sleep 5
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
mkdir -p /dev/pts /dev/shm
mount -t devpts -o ptmxmode=0666,mode=0620 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mkdir -p /run/lock
mount -t tmpfs -o mode=0755 tmpfs /etc/ppp
mkdir -p "$E2E_RESULT/run"
mount -t tmpfs tmpfs "$E2E_RESULT/run"
say "mounted; kernel $(uname -r)"

# PPP modules from the uml package, matching the running kernel.
moddir=/usr/lib/uml/modules/$(uname -r)/kernel
[ -d "$moddir" ] || moddir=$(ls -d /usr/lib/uml/modules/*/kernel | head -n 1)
for m in lib/crc-ccitt.ko drivers/net/slip/slhc.ko drivers/net/ppp/ppp_generic.ko \
  drivers/net/ppp/ppp_async.ko; do
  insmod "$moddir/$m" || say "insmod $m failed"
done
[ -e /dev/ppp ] || mknod /dev/ppp c 108 0
ip link set lo up

# A syslog stand-in: pppd and chat log through syslog(3); collect it in the result dir.
socat -u UNIX-RECV:/dev/log,mode=666 OPEN:"$E2E_RESULT/syslog.log",creat,append &

say "ready; running $E2E_SCENARIO"
cd "$E2E_RESULT" || finish
bash "$E2E_SCENARIO" >"$E2E_RESULT/scenario.log" 2>&1
rc=$?
echo "$rc" >"$E2E_RESULT/scenario.rc"
say "scenario exited $rc"
finish
