#!/bin/sh
# servers.sh writes the environment that lists the instances for
# deploy/haproxy/haproxy.cfg: WSLB_SERVER<i>, WSLB_ADMIN<i> and, when the
# admin server listens on another host, WSLB_CHECKADDR<i>, one assignment a
# line (for /etc/default/haproxy, which Debian's haproxy service reads, or
# export $(servers.sh ...)). Give each instance as HOST:PORT/ADMIN,
# where PORT is its WebSocket port (-addr) and ADMIN its admin port
# (-admin-addr, checked at /readyz), or HOST:PORT/ADMINHOST:ADMIN. IPv6
# hosts are written [2001:db8::1]:8080/9090. At most 16 instances (the
# blocks haproxy.cfg has).
#
#   deploy/haproxy/servers.sh 10.0.0.11:8080/9090 10.0.0.12:8080/9090 >> /etc/default/haproxy
set -eu
max=16
usage() {
	echo "$0: ${1:+\"$1\": }want HOST:PORT/ADMIN or HOST:PORT/ADMINHOST:ADMIN, 1 to $max of them" >&2
	exit 2
}
[ $# -gt 0 ] && [ $# -le $max ] || usage
lines=""
i=0
for spec in "$@"; do
	i=$((i + 1))
	addr=${spec%%/*}
	admin=${spec#*/}
	[ "$addr" != "$spec" ] && [ -n "$addr" ] && [ -n "$admin" ] || usage "$spec"
	port=${admin##*:}
	case $port in "" | *[!0-9]*) usage "$spec" ;; esac
	case $addr in
	\[*\]:*) host=${addr%]:*}; addr="ipv6@${host#[}:${addr##*]:}" ;;
	*:*) ;;
	*) usage "$spec" ;;
	esac
	case $addr in *[!A-Za-z0-9.:@_-]*) usage "$spec" ;; esac
	lines="${lines}WSLB_SERVER$i=$addr
WSLB_ADMIN$i=$port
"
	case $admin in
	*:*)
		checkaddr=${admin%:*}
		case $checkaddr in "" | *[!A-Za-z0-9.:_-]*) usage "$spec" ;; esac
		lines="${lines}WSLB_CHECKADDR$i=$checkaddr
"
		;;
	esac
done
printf '%s' "$lines"
