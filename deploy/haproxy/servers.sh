#!/bin/sh
# servers.sh writes the backend section of deploy/haproxy/haproxy.cfg: one
# "server" line per wsreactor instance. Give each instance as
# HOST:PORT/ADMIN, where PORT is its WebSocket port (-addr) and ADMIN its
# admin port (-admin-addr, checked at /readyz), or HOST:PORT/ADMINHOST:ADMIN
# when the admin server listens on another address. Every other server
# setting is in haproxy.cfg's "defaults" ("default-server"). IPv6 hosts are
# written [2001:db8::1]:8080/9090.
#
#   deploy/haproxy/servers.sh 10.0.0.11:8080/9090 10.0.0.12:8080/9090 > wsreactor-servers.cfg
set -eu
usage() {
	echo "$0: ${1:+\"$1\": }want HOST:PORT/ADMIN or HOST:PORT/ADMINHOST:ADMIN" >&2
	exit 2
}
[ $# -gt 0 ] || usage
lines=""
i=0
for spec in "$@"; do
	i=$((i + 1))
	addr=${spec%%/*}
	admin=${spec#*/}
	[ "$addr" != "$spec" ] && [ -n "$addr" ] && [ -n "$admin" ] || usage "$spec"
	port=${admin##*:}
	case $port in "" | *[!0-9]*) usage "$spec" ;; esac
	check="port $port"
	case $admin in *:*) check="$check addr ${admin%:*}" ;; esac
	case $addr in
	\[*\]:*) host=${addr%]:*}; addr="ipv6@${host#[}:${addr##*]:}" ;;
	*:*) ;;
	*) usage "$spec" ;;
	esac
	lines="$lines    server ws$i $addr $check
"
done
echo "# Written by deploy/haproxy/servers.sh $*"
echo "backend wsreactor"
printf '%s' "$lines"
