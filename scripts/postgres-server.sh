#!/usr/bin/env bash
# A real PostgreSQL on loopback for team mode (its tests, and trying `calmline team` by hand):
# Debian's postgresql (15), cluster 15/main on 127.0.0.1:5432, password (scram-sha-256) logins
# over TCP, an admin role calmline_admin (CREATEROLE, CREATEDB) and its database calmline_test.
#
#   scripts/postgres-server.sh start    install on first use, configure, start; idempotent
#   scripts/postgres-server.sh stop     stop the cluster
#   scripts/postgres-server.sh status   say whether it runs, and where
#
# Prints the admin URL. Runs as root, or as a user with sudo.
set -euo pipefail
# shellcheck source=lib/debian.sh
source "$(dirname "$0")/lib/debian.sh"

VERSION=15
CLUSTER=main
HOST=127.0.0.1
PORT=5432
ADMIN=calmline_admin
ADMIN_PASSWORD=calmline_admin
DATABASE=calmline_test
ADMIN_URL="postgresql://$ADMIN:$ADMIN_PASSWORD@$HOST:$PORT/$DATABASE"
CONF_DIR=/etc/postgresql/$VERSION/$CLUSTER
OUR_CONF=$CONF_DIR/conf.d/calmline.conf
HBA=$CONF_DIR/pg_hba.conf

say() { echo "postgres-server: $*"; }

as_postgres() {
  # From / so that psql does not complain that it cannot enter the caller's directory.
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && $SUDO -u postgres -- "$@")
  fi
}

psql_admin() {
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"
}

install_postgres() {
  installed "postgresql-$VERSION" && command -v pg_ctlcluster >/dev/null && return 0
  say "installing postgresql-$VERSION from Debian (first use only)…"
  local started=$SECONDS
  apt_install_without_services postgresql "postgresql-$VERSION" "postgresql-client-$VERSION"
  say "installed in $((SECONDS - started)) s"
}

ensure_cluster() {
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "$VERSION/$CLUSTER"; then
    say "creating cluster $VERSION/$CLUSTER"
    $SUDO pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" >/dev/null
  fi
}

online() {
  pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" -v c="$CLUSTER" \
    '$1 == v && $2 == c {print $4}' | grep -q online
}

answers() {
  pg_isready -q -h "$HOST" -p "$PORT" -t 2
}

configure() {
  # Returns 0 when a setting that needs a restart changed.
  local restart=1 wanted
  wanted=$(printf '%s\n' \
    "# Written by calmline scripts/postgres-server.sh: loopback only." \
    "listen_addresses = '$HOST'" \
    "port = $PORT")
  if [ "$($SUDO cat "$OUR_CONF" 2>/dev/null || true)" != "$wanted" ]; then
    printf '%s\n' "$wanted" | $SUDO tee "$OUR_CONF" >/dev/null
    $SUDO chown postgres:postgres "$OUR_CONF"
    $SUDO chmod 0644 "$OUR_CONF"
    restart=0
  fi
  # Debian's default already has this line; a changed pg_hba.conf only needs a reload.
  if ! $SUDO grep -Eq "^host[[:space:]]+all[[:space:]]+all[[:space:]]+$HOST/32[[:space:]]+scram-sha-256" \
    "$HBA"; then
    say "adding password (scram-sha-256) logins from $HOST to $HBA"
    $SUDO sed -i "1i host    all    all    $HOST/32    scram-sha-256  # calmline" "$HBA"
    online && $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" reload
  fi
  return $restart
}

ensure_admin() {
  # The password is set on every start, so the URL below always works.
  psql_admin <<SQL
SET client_min_messages = warning;
SET password_encryption = 'scram-sha-256';
SELECT format('CREATE ROLE %I LOGIN', '$ADMIN')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ADMIN') \\gexec
ALTER ROLE $ADMIN LOGIN CREATEROLE CREATEDB PASSWORD '$ADMIN_PASSWORD';
-- Lets the admin end leftover sessions of other roles (DROP DATABASE … WITH (FORCE)).
GRANT pg_signal_backend TO $ADMIN;
SELECT format('CREATE DATABASE %I OWNER %I', '$DATABASE', '$ADMIN')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DATABASE') \\gexec
SQL
}

start() {
  use_sudo
  install_postgres
  local started=$SECONDS
  ensure_cluster
  if configure && online; then
    say "restarting to listen on $HOST:$PORT only"
    $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" restart
  fi
  if ! online; then
    $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start
  fi
  for _ in $(seq 120); do
    answers && break
    sleep 0.25
  done
  if ! answers; then
    say "PostgreSQL did not answer on $HOST:$PORT within 30 s; its log:" >&2
    $SUDO tail -n 30 "/var/log/postgresql/postgresql-$VERSION-$CLUSTER.log" >&2 || true
    exit 1
  fi
  ensure_admin
  say "running on $HOST:$PORT (ready in $((SECONDS - started)) s); admin URL:"
  echo "$ADMIN_URL"
}

stop() {
  if ! command -v pg_lsclusters >/dev/null || ! online; then
    say "not running"
    return 0
  fi
  use_sudo
  $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" stop
  say "stopped"
}

status() {
  if ! command -v pg_lsclusters >/dev/null; then
    say "not installed (start installs it)"
    return 3
  fi
  if ! online; then
    say "not running"
    return 3
  fi
  if answers; then
    say "running on $HOST:$PORT; admin URL:"
    echo "$ADMIN_URL"
  else
    say "cluster $VERSION/$CLUSTER is up but $HOST:$PORT does not answer"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
