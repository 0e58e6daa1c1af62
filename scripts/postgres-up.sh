#!/usr/bin/env bash
# Makes sure the local PostgreSQL answers, starting the cluster if needed, and prints the URL
# tests create their databases through. Leftover test databases of finished runs are dropped:
# their names carry the test process's pid (test_<pid>_<random>), and a database whose process
# is still alive belongs to a run in progress, which is left alone.
set -euo pipefail

host=127.0.0.1
port=5432
if ! pg_isready -h "$host" -p "$port" -q; then
  echo "PostgreSQL is down; starting it" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start >&2
  for _ in $(seq 1 60); do
    pg_isready -h "$host" -p "$port" -q && break
    sleep 0.5
  done
  pg_isready -h "$host" -p "$port" -q || { echo "PostgreSQL did not come up" >&2; exit 1; }
fi

url="${TEST_DATABASE_URL:-postgres://postgres@$host:$port/postgres}"
for db in $(psql "$url" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'test\_%\_%'"); do
  pid=$(echo "$db" | cut -d_ -f2)
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    continue
  fi
  psql "$url" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >&2 || true
done
echo "$url"
