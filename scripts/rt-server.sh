#!/usr/bin/env bash
# A real Request Tracker 5 on loopback for the helpdesk tests (and for trying the RT export by
# hand): Debian's request-tracker5 with a throwaway SQLite database, user root / password.
#
#   scripts/rt-server.sh start    install on first use, then start; each start from a stopped
#                                 state restores the pristine database, so a test run begins clean
#   scripts/rt-server.sh stop     stop it (TERM, then wait)
#   scripts/rt-server.sh status   say whether it runs, and where
#
# CALMLINE_RT_PORT overrides the port (default 8080). Runs as root, or as a user with sudo.
# An auth token for root is written to $STATE_DIR/token at each start (RT::Authen::Token).
set -euo pipefail
# shellcheck source=lib/debian.sh
source "$(dirname "$0")/lib/debian.sh"

PORT=${CALMLINE_RT_PORT:-8080}
URL="http://127.0.0.1:$PORT/rt"
STATE_DIR="${XDG_RUNTIME_DIR:-/tmp}/calmline-rt"
PID_FILE="$STATE_DIR/rt-server.pid"
LOG_FILE="$STATE_DIR/rt-server.log"
TOKEN_FILE="$STATE_DIR/token"
PORT_FILE="$STATE_DIR/port"  # of the running server: one database, so one server at a time

RT_SERVER=/usr/share/request-tracker5/libexec/rt-server
SITE_CONFIG=/etc/request-tracker5/RT_SiteConfig.d/99-local.pm
DB_FILE=/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb
# Kept beside the system's RT files (not in $STATE_DIR, which a reboot may empty) so that the
# pristine copy is always the database as installed, never one a test run already wrote to.
PRISTINE_DIR=/var/lib/calmline-rt
PRISTINE_DB="$PRISTINE_DIR/rtdb.pristine"

say() { echo "rt-server: $*"; }

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q rt-server "/proc/$pid/cmdline" 2>/dev/null &&
    echo "$pid"
}

use_running_port() {
  local running_port
  running_port=$(cat "$PORT_FILE" 2>/dev/null || true)
  if [ -n "$running_port" ]; then
    PORT=$running_port
    URL="http://127.0.0.1:$PORT/rt"
  fi
}

answers() {
  curl -fsS -o /dev/null --max-time 5 -u root:password "$URL/REST/2.0/rt" 2>/dev/null
}

install_rt() {
  local packages=()
  for pkg in request-tracker5 rt5-db-sqlite rt5-standalone curl; do
    installed "$pkg" || packages+=("$pkg")
  done
  [ ${#packages[@]} -gt 0 ] || return 0
  say "installing ${packages[*]} from Debian (first use only)…"
  local started=$SECONDS
  $SUDO debconf-set-selections <<'EOF'
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1:8080
request-tracker5 request-tracker5/webpath string /rt
request-tracker5 request-tracker5/rtname string rt.test.local
request-tracker5 request-tracker5/correspondaddress string rt@test.local
request-tracker5 request-tracker5/commentaddress string rt-comment@test.local
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/initial-root-password password password
request-tracker5 request-tracker5/dbconfig-install boolean true
request-tracker5 request-tracker5/database-type select sqlite3
request-tracker5 request-tracker5/db/dbname string rtdb
request-tracker5 request-tracker5/db/basepath string /var/lib/dbconfig-common/sqlite3/request-tracker5
rt5-db-sqlite rt5-db-sqlite/available boolean true
exim4-config exim4/dc_eximconfig_configtype select local delivery only; not on a network
EOF
  apt_install_without_services "${packages[@]}"
  say "installed in $((SECONDS - started)) s"
}

write_site_config() {
  # Mail goes to an mbox instead of a mail server; the log goes to rt-server's stderr.
  local wanted
  wanted=$(printf '%s\n' \
    "# Written by calmline scripts/rt-server.sh: a loopback RT for tests." \
    "Set(\$WebBaseURL, 'http://127.0.0.1:$PORT');" \
    "Set(\$MailCommand, 'mbox');" \
    "Set(\$LogToSTDERR, 'info');" \
    "Set(\$LogToSyslog, undef);" \
    "1;")
  if [ "$($SUDO cat "$SITE_CONFIG" 2>/dev/null || true)" != "$wanted" ]; then
    printf '%s\n' "$wanted" | $SUDO tee "$SITE_CONFIG" >/dev/null
    $SUDO chmod 0644 "$SITE_CONFIG"
  fi
}

fresh_database() {
  if ! $SUDO test -f "$PRISTINE_DB"; then
    $SUDO mkdir -p "$PRISTINE_DIR"
    $SUDO cp --preserve=mode,ownership "$DB_FILE" "$PRISTINE_DB"
  fi
  $SUDO rm -f "$DB_FILE-journal" "$DB_FILE-wal" "$DB_FILE-shm"
  $SUDO cp --preserve=mode,ownership "$PRISTINE_DB" "$DB_FILE"
}

make_token() {
  # RT 5 has RT::Authen::Token built in; REST 2.0 accepts "Authorization: token <string>".
  local token
  token=$($SUDO perl -I/usr/share/request-tracker5/lib -e '
    use strict; use warnings;
    use RT; RT::LoadConfig(); RT::Init();
    my $user = RT::User->new(RT->SystemUser);
    $user->Load("root") or die "no root user\n";
    my $token = RT::AuthToken->new(RT->SystemUser);
    my ($id, $msg, $auth_string) =
      $token->Create(Owner => $user->Id, Description => "calmline tests");
    die "token not created: $msg\n" unless $id && $auth_string;
    print $auth_string;
  ' 2>>"$LOG_FILE")
  (umask 077 && printf '%s\n' "$token" >"$TOKEN_FILE")
}

own_state_dir() {
  mkdir -p "$STATE_DIR"
  # Root writes the pid file into it: never follow a directory planted by someone else.
  if [ ! -O "$STATE_DIR" ] || [ -L "$STATE_DIR" ]; then
    say "$STATE_DIR belongs to another user; set XDG_RUNTIME_DIR to a directory of yours" >&2
    exit 1
  fi
}

start() {
  own_state_dir
  if pid=$(running_pid); then
    local wanted=$PORT
    use_running_port
    if [ "$PORT" != "$wanted" ]; then
      say "already running on port $PORT (pid $pid); stop it first to use port $wanted" >&2
      exit 1
    fi
    say "already running (pid $pid) at $URL"
    return 0
  fi
  if answers; then
    say "something already answers at $URL (not started by this script); using it"
    return 0
  fi
  use_sudo
  install_rt
  local started=$SECONDS
  write_site_config
  fresh_database
  : >"$LOG_FILE"
  rm -f "$PID_FILE"
  echo "$PORT" >"$PORT_FILE"
  make_token
  # setsid --fork detaches rt-server into its own session and returns at once (so sudo, if
  # used, runs in the foreground). The inner shell writes its own pid, then becomes rt-server.
  $SUDO setsid --fork sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$PID_FILE" \
    "$RT_SERVER" --host 127.0.0.1 --port "$PORT" --webpath /rt --max-workers 2 \
    >>"$LOG_FILE" 2>&1 </dev/null
  for _ in $(seq 240); do
    answers && break
    if [ -f "$PID_FILE" ] && ! running_pid >/dev/null; then
      say "rt-server exited during start; its log ($LOG_FILE):"
      tail -n 30 "$LOG_FILE" >&2
      exit 1
    fi
    sleep 0.25
  done
  if ! answers; then
    say "rt-server did not answer at $URL within 60 s; its log ($LOG_FILE):"
    tail -n 30 "$LOG_FILE" >&2
    exit 1
  fi
  say "started in $((SECONDS - started)) s (pid $(cat "$PID_FILE")) at $URL  (root / password)"
}

stop() {
  local pid
  use_running_port
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE" "$PORT_FILE"
    say "not running"
    return 0
  fi
  use_sudo
  $SUDO kill -TERM "$pid"
  for _ in $(seq 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ]; then
    say "rt-server (pid $pid) ignored TERM for 10 s; killing it"
    $SUDO kill -KILL "$pid" || true
  fi
  # Workers outlive their master for a moment; wait until the port is free.
  for _ in $(seq 100); do
    answers || break
    sleep 0.1
  done
  rm -f "$PID_FILE" "$PORT_FILE"
  say "stopped"
}

status() {
  local pid
  use_running_port
  if pid=$(running_pid); then
    if answers; then
      say "running (pid $pid) at $URL"
    else
      say "process $pid is up but $URL does not answer (log: $LOG_FILE)"
      return 1
    fi
  else
    say "not running"
    return 3
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
