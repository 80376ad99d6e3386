#!/usr/bin/env bash
# Runs a command inside a fresh network namespace whose only interface is loopback (with
# multicast routed to it), so mDNS announcements and listeners on 0.0.0.0 never leave this
# machine (ARCHITECTURE.md §10). Needs root and iproute2. The namespace is removed afterwards.
#   usage: scripts/in-netns.sh COMMAND [ARG...]
set -euo pipefail
ns="parley-$$-$RANDOM"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" link set lo multicast on
ip -n "$ns" route add 224.0.0.0/4 dev lo
PARLEY_NETNS="$ns" ip netns exec "$ns" "$@"
