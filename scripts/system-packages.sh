#!/bin/sh
# Provides the system programs that `make test` needs, from Debian's packages.
#
# Each need is "package:command[:command…]": it is met when one of the commands is an
# executable file (an absolute path) or is found on PATH. What is missing is installed with
# apt-get when this user may install system packages (root, or sudo without a password);
# otherwise the script stops at once and prints the one command to run. PostgreSQL's
# server (its initdb lives under /usr/lib/postgresql/<major>/bin, off PATH; pg_lsclusters
# comes with it) and redis-server are started by the scale-out tests in temporary folders.
#
# Environment:
#   GAPO_TEST_CHROMIUM      a Chromium to use instead of Debian's (the tests honour it too)
#   GAPO_SYSTEM_PACKAGES    overrides the list of needs (used by the script's own test)
#   GAPO_APT_GET            the apt-get to run (default: apt-get; the script's test sets a stand-in)
set -eu

chromium_need="chromium:${GAPO_TEST_CHROMIUM:-/usr/bin/chromium}:chromium"
postgres_need="postgresql:pg_lsclusters"
redis_need="redis-server:redis-server"
needs="${GAPO_SYSTEM_PACKAGES:-$chromium_need $postgres_need $redis_need}"
apt_get="${GAPO_APT_GET:-apt-get}"

has_command() {
    case "$1" in
        /*) [ -x "$1" ] && [ -f "$1" ] ;;
        "") return 1 ;;
        *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

missing=""
for need in $needs; do
    package="${need%%:*}"
    commands="${need#*:}"
    met=no
    old_ifs="$IFS"
    IFS=:
    for candidate in $commands; do
        if has_command "$candidate"; then met=yes; break; fi
    done
    IFS="$old_ifs"
    if [ "$met" = no ]; then missing="$missing $package"; fi
done

if [ -z "$missing" ]; then
    exit 0
fi
missing="${missing# }"

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    echo "make test needs these Debian packages, which are not installed: $missing" >&2
    echo "Install them once, then run make test again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
    exit 1
fi

if ! command -v "$apt_get" >/dev/null 2>&1; then
    echo "make test needs: $missing; this machine has no apt-get, so install them by hand" >&2
    echo "(or point GAPO_TEST_CHROMIUM at a Chromium binary)." >&2
    exit 1
fi

echo "Installing the system packages the tests need: $missing"
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine are empty or stale: update them first.
$sudo "$apt_get" update -qq
# shellcheck disable=SC2086  # one word per package
$sudo "$apt_get" install -y -qq --no-install-recommends $missing
