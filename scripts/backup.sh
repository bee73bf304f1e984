#!/bin/sh
# Back up the InnoLab platform: the PostgreSQL database (pg_dump, custom format) and then the
# upload folder (tar), into one timestamped folder with a manifest and SHA-256 sums; keeps the
# newest BACKUP_KEEP backups. See docs/deployment.md#backups.
#
#   scripts/backup.sh [BACKUP_DIR]
#
# Settings (environment, else read from INNOLAB_ENV_FILE, default /etc/innolab/innolab.env):
#   DATABASE_URL   the app's database (postgresql://USER:PASSWORD@HOST:PORT/DB)
#   UPLOAD_FOLDER  the app's upload folder
#   BACKUP_DIR     where the backups go (default /var/backups/innolab; or the first argument)
#   BACKUP_KEEP    how many backups to keep (default 14)
#
# Run it as root or as the app's user. pg_dump writes to standard output and this script
# writes that into the backup folder, so the database server's own user never needs to write
# there.
set -eu

prog=backup.sh
here=$(cd "$(dirname "$0")" && pwd)
. "$here/backup-common.sh"

load_settings
export_pg_env
backup_dir=${1:-${BACKUP_DIR:-/var/backups/innolab}}
keep=${BACKUP_KEEP:-14}
case $keep in
  '' | *[!0-9]* | 0) die "BACKUP_KEEP must be a whole number of at least 1, got '$keep'" ;;
esac
[ -d "$UPLOAD_FOLDER" ] || die "upload folder $UPLOAD_FOLDER does not exist"
for tool in pg_dump psql tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

umask 077  # the backups hold personal data: readable by their owner only
mkdir -p "$backup_dir"
chmod 700 "$backup_dir"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
while [ -e "$backup_dir/innolab-$stamp" ]; do  # two backups within one second
  sleep 1
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
done
name=innolab-$stamp
work=$backup_dir/.incomplete-$name
mkdir "$work"
trap 'rm -rf "$work"' EXIT  # a backup that failed halfway never looks like a backup

# 1. The database first. Files are put in place only after their row is committed and
#    removed only after the deletion is committed, so the upload archive taken afterwards
#    holds the file of every row in this dump (files uploaded in between are harmless
#    extras that `flask innolab check-files` reports).
say "dumping database $PGDATABASE on ${PGHOST:-local socket}"
server_version=$(psql -X -Atqw -c 'SHOW server_version') || die "cannot connect to the database"
revision=$(psql -X -Atqw -c 'SELECT version_num FROM alembic_version' 2>/dev/null || true)
pg_dump --format=custom --no-password > "$work/database.dump"

# 2. Then the upload folder, without uploads still on their way in (.tmp-*) and what a
#    restore put aside (.before-restore-*, .restore-*).
say "archiving $UPLOAD_FOLDER"
status=0
tar -C "$UPLOAD_FOLDER" --exclude='.tmp-*' --exclude='.before-restore-*' \
  --exclude='.restore-*' -czf "$work/uploads.tar.gz" . || status=$?
if [ "$status" -eq 1 ]; then  # GNU tar: a file was removed or changed while it was read
  say "note: files changed in the upload folder while it was archived (harmless)"
elif [ "$status" -ne 0 ]; then
  die "tar failed ($status)"
fi
files=$(tar -tzf "$work/uploads.tar.gz" | grep -c -v '/$' || true)

cat > "$work/manifest.txt" <<EOF
format: innolab-backup 1
created: $(date -u +%Y-%m-%dT%H:%M:%SZ)
host: $(hostname)
database: $PGDATABASE
database_server: PostgreSQL $server_version
pg_dump: $(pg_dump --version)
migration_revision: ${revision:-unknown}
database_dump: database.dump (pg_dump custom format; restore with scripts/restore.sh)
upload_folder: $UPLOAD_FOLDER
uploads_archive: uploads.tar.gz ($files files)
EOF
(cd "$work" && sha256sum database.dump uploads.tar.gz manifest.txt > SHA256SUMS)

mv "$work" "$backup_dir/$name"
trap - EXIT
say "backup written to $backup_dir/$name ($files files)"

# 3. Keep the newest $keep backups.
count=$(find "$backup_dir" -mindepth 1 -maxdepth 1 -type d -name 'innolab-*' | wc -l)
if [ "$count" -gt "$keep" ]; then
  find "$backup_dir" -mindepth 1 -maxdepth 1 -type d -name 'innolab-*' | sort \
    | head -n "$((count - keep))" | while read -r old; do
        say "removing old backup $old"
        rm -rf "$old"
      done
fi
# Leftovers of backups that were interrupted (power cut, kill -9) for more than a day.
find "$backup_dir" -mindepth 1 -maxdepth 1 -type d -name '.incomplete-*' -mtime +0 \
  -exec rm -rf {} + 2>/dev/null || true
