#!/usr/bin/env bash
# Start the local services the integration tests talk to, if they are not up:
# Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (user postgres).
set -u
if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
if command -v pg_ctlcluster >/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -n "$version" ] && ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  # A fresh Debian cluster asks for a password over TCP; the tests connect as the
  # postgres user without one, from this machine only.
  if [ -n "$version" ] && [ -n "${EXTRACTOR_TEST_POSTGRES_URL:-}" ] || \
     PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1; then
    :
  elif [ -n "$version" ] && [ "$(id -u)" -eq 0 ]; then
    hba=/etc/postgresql/$version/main/pg_hba.conf
    if [ -f "$hba" ] && ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
      sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    fi
  fi
fi
exit 0
