# A throw-away PostgreSQL server on 127.0.0.1 for the test suite. Sourced by bin/test.

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

start_postgres() {
  local bin port run_as=()
  bin=$(pg_bin)
  if [ -z "$bin" ]; then
    echo "==> installing PostgreSQL"
    apt_install postgresql >/dev/null || return 1
    bin=$(pg_bin)
  fi
  PG_DIR=$(mktemp -d /tmp/moderation-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; run_as=(runuser -u postgres --); fi
  port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${run_as[@]}" "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  "${run_as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-h 127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null
  "${run_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres moderation_test
  PG_RUN_AS=("${run_as[@]}") PG_BIN=$bin
  export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/moderation_test"
}

stop_postgres() {
  "${PG_RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
