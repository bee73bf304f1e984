# Shared by backup.sh and restore.sh (sourced, not run): the settings and the database login.
# shellcheck shell=sh

say() { printf '%s: %s\n' "$prog" "$*"; }
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

# The app's settings file (INNOLAB_ENV_FILE, default /etc/innolab/innolab.env) when it is
# readable; DATABASE_URL and UPLOAD_FOLDER given in the environment win over it (e.g. to
# restore into another database).
load_settings() {
  env_file=${INNOLAB_ENV_FILE:-/etc/innolab/innolab.env}
  given_database=${DATABASE_URL:-}
  given_folder=${UPLOAD_FOLDER:-}
  if [ -r "$env_file" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
  fi
  [ -z "$given_database" ] || DATABASE_URL=$given_database
  [ -z "$given_folder" ] || UPLOAD_FOLDER=$given_folder
  [ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set (nor in $env_file)"
  [ -n "${UPLOAD_FOLDER:-}" ] || die "UPLOAD_FOLDER is not set (nor in $env_file)"
}

# DATABASE_URL (postgresql://, postgres:// or postgresql+psycopg://) as the PG* variables
# pg_dump, pg_restore and psql read, so the password never appears on a command line.
export_pg_env() {
  command -v python3 >/dev/null || die "python3 is needed to read DATABASE_URL"
  pg_env=$(python3 - <<'PY'
import os, shlex, sys
from urllib.parse import parse_qsl, unquote, urlsplit

url = os.environ["DATABASE_URL"]
scheme, sep, rest = url.partition("://")
if not sep or scheme.split("+")[0] not in ("postgres", "postgresql"):
    sys.exit("DATABASE_URL must be a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DB)")
parts = urlsplit("postgresql://" + rest)
env = {}
if parts.hostname:
    env["PGHOST"] = unquote(parts.hostname)
if parts.port:
    env["PGPORT"] = str(parts.port)
if parts.username:
    env["PGUSER"] = unquote(parts.username)
if parts.password is not None:
    env["PGPASSWORD"] = unquote(parts.password)
if parts.path.strip("/"):
    env["PGDATABASE"] = unquote(parts.path.strip("/"))
known = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
         "dbname": "PGDATABASE", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
         "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT"}
for key, value in parse_qsl(parts.query):
    if key in known:
        env[known[key]] = value
if "PGDATABASE" not in env:
    sys.exit("DATABASE_URL names no database")
for key, value in env.items():
    print(f"{key}={shlex.quote(value)}; export {key}")
PY
  ) || die "cannot read DATABASE_URL"
  eval "$pg_env"
}
