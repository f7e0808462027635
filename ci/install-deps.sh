#!/bin/sh
# Installs the web servers, DynDNS clients and name servers the tests run against:
# apache2 (+ htpasswd from apache2-utils), nginx with fcgiwrap, ddclient, inadyn, curl,
# file (the tests check that the release binary is statically linked), iproute2 (`ip`,
# for the client's interface method and its tests), and BIND9 (named,
# tsig-keygen, dig, nsupdate) and Knot DNS (knotd, knotc, keymgr, kdig) for DNS UPDATE;
# pebble (the ACME test server), lego and certbot for certificates issued end to end,
# with openssl for pebble's own certificate.
#
# Idempotent: does nothing when everything is already installed, and reads the package
# lists only when a package is missing. The tests start their own server instances on
# 127.0.0.1 ports they choose, so the system services Debian's postinst scripts start are
# stopped again and kept from starting at boot; they would only hold ports 80 and 53.
#
# Usage (as root, or with sudo available):  ci/install-deps.sh
set -eu

packages="apache2 apache2-utils nginx fcgiwrap ddclient inadyn curl file iproute2 bind9 bind9-utils bind9-dnsutils knot knot-dnsutils pebble lego certbot openssl"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all present:$(for p in $packages; do printf ' %s' "$p"; done)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    exec sudo -- "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing$missing"
# Lists are fetched only when the cache is missing or too old to know a package.
if ! apt-get install -y --no-install-recommends -q $missing; then
    apt-get update -q
    apt-get install -y --no-install-recommends -q $missing
fi

# Debian starts the freshly installed daemons; the tests never use them.
for service in apache2 nginx fcgiwrap ddclient inadyn named knot certbot.timer; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl disable --now "$service" >/dev/null 2>&1 || true
    elif command -v service >/dev/null 2>&1; then
        service "$service" stop >/dev/null 2>&1 || true
    fi
done
# Without systemd, apache2ctl/nginx may still have been started directly by postinst.
if [ -f /var/run/apache2/apache2.pid ]; then
    apache2ctl stop >/dev/null 2>&1 || true
fi
if [ -f /run/nginx.pid ]; then
    nginx -s quit >/dev/null 2>&1 || true
fi
# The same for the name servers, by the PID files their packages use.
for pidfile in /run/named/named.pid /run/knot/knot.pid; do
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" >/dev/null 2>&1 || true
    fi
done
echo "install-deps: done"
