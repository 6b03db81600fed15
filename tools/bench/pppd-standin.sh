#!/bin/sh
# A light pppd stand-in for the scale benchmark: the same conversation as
# src/demo/pppd-standin.ts, but a POSIX sh script (dash on Debian) with builtins only, so
# starting it costs about what starting real pppd (a small C program) costs, not a Node
# process. It is not pppd and says so on stderr.
#
# It takes the line on stdin/stdout like pppd does, writes `STANDIN-HELLO`, answers each
# line it reads with `STANDIN-ACK <n> <text>`, and exits:
# - on a line `BYE` with 0, or `BYE <code>` with that code;
# - on end of input (the line hung up) with 16, pppd's "modem hung up";
# - on SIGHUP (carrier lost) with 16, on SIGTERM/SIGINT with 5, as pppd does.
# On exit it prints pppd's link statistics line (`Sent N bytes, received M bytes.`) on
# stderr, which callbackd's accounting reads. Every argument (pppd's argv) is ignored.

sent=0
received=0
count=0

finish() {
	printf 'pppd stand-in: %s, exiting %s after %s lines\n' "$2" "$1" "$count" >&2
	printf 'Sent %s bytes, received %s bytes.\n' "$sent" "$received" >&2
	exit "$1"
}
out() {
	printf '%s\n' "$1"
	sent=$((sent + ${#1} + 1))
}

# Handlers first: the greeting tells the other side we are ready, signals included.
trap 'finish 16 SIGHUP' HUP
trap 'finish 5 SIGTERM' TERM
trap 'finish 5 SIGINT' INT
printf 'pppd stand-in (sh): this is not pppd\n' >&2
printf 'pppd stand-in: pid %s, %s arguments\n' "$$" "$#" >&2
out STANDIN-HELLO

while IFS= read -r line; do
	received=$((received + ${#line} + 1))
	line=${line%[[:cntrl:]]}
	case $line in
	BYE) finish 0 BYE ;;
	'BYE '[0-9] | 'BYE '[0-9][0-9] | 'BYE '[0-9][0-9][0-9]) finish "${line#BYE }" BYE ;;
	esac
	count=$((count + 1))
	out "STANDIN-ACK $count $line"
done
finish 16 'end of input'
