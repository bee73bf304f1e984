#!/bin/sh
# Restore a backup made by scripts/backup.sh: checks the SHA-256 sums first, then restores
# the database (pg_restore --clean --if-exists, in one transaction) and the upload folder.
# See docs/deployment.md#restore.
#
#   scripts/restore.sh BACKUP_FOLDER
#
# Settings (environment, else read from INNOLAB_ENV_FILE, default /etc/innolab/innolab.env):
#   DATABASE_URL   the database to restore into; it must exist (empty, or the one to replace:
#                  every object of the backup is dropped and created again)
#   UPLOAD_FOLDER  the upload folder to restore into (created if missing); files already in it
#                  are moved aside into UPLOAD_FOLDER/.before-restore-TIME, not deleted
#   UPLOAD_OWNER   optional, e.g. innolab:innolab – owner of the restored files
#
# Stop the app and the worker first.
set -eu

prog=restore.sh
here=$(cd "$(dirname "$0")" && pwd)
. "$here/backup-common.sh"

[ $# -eq 1 ] || die "usage: restore.sh BACKUP_FOLDER"
backup=$(cd "$1" 2>/dev/null && pwd) || die "no backup folder $1"
load_settings
export_pg_env
for tool in pg_restore psql tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

# 1. Nothing is touched unless every file is there and unchanged.
for part in SHA256SUMS manifest.txt database.dump uploads.tar.gz; do
  [ -f "$backup/$part" ] || die "$backup/$part is missing; not a complete backup"
done
(cd "$backup" && sha256sum --check --quiet --strict SHA256SUMS) \
  || die "checksums do not match: $backup is damaged; nothing restored"
grep -q '^format: innolab-backup 1$' "$backup/manifest.txt" \
  || die "$backup/manifest.txt is not from scripts/backup.sh"
tar -tzf "$backup/uploads.tar.gz" > /dev/null || die "the upload archive cannot be read"
say "checksums verified: $backup"

# 2. The database, in one transaction: either all of it or nothing.
say "restoring the database into $PGDATABASE on ${PGHOST:-local socket}"
psql -X -Atqw -c 'SELECT 1' > /dev/null || die "cannot connect to database $PGDATABASE"
pg_restore --clean --if-exists --no-owner --no-acl --single-transaction --exit-on-error \
  --no-password --dbname="$PGDATABASE" "$backup/database.dump"

# 3. The upload folder: unpacked next to the files (same file system), then the files that
#    were there are moved aside and the restored ones moved in.
umask 077
mkdir -p "$UPLOAD_FOLDER"
stamp=$(date -u +%Y%m%dT%H%M%SZ)-$$
staging=$UPLOAD_FOLDER/.restore-$stamp
aside=$UPLOAD_FOLDER/.before-restore-$stamp
mkdir "$staging"
trap 'rm -rf "$staging"' EXIT
tar -C "$staging" -xzf "$backup/uploads.tar.gz"
old=$(find "$UPLOAD_FOLDER" -mindepth 1 -maxdepth 1 -type f | wc -l)
if [ "$old" -gt 0 ]; then
  mkdir "$aside"
  find "$UPLOAD_FOLDER" -mindepth 1 -maxdepth 1 -type f -exec mv -t "$aside" {} +
  say "$old file(s) that were in $UPLOAD_FOLDER moved to $aside"
fi
find "$staging" -mindepth 1 -maxdepth 1 -exec mv -t "$UPLOAD_FOLDER" {} +
rmdir "$staging"
trap - EXIT
if [ -n "${UPLOAD_OWNER:-}" ]; then
  find "$UPLOAD_FOLDER" -mindepth 1 -maxdepth 1 -type f -exec chown "$UPLOAD_OWNER" {} +
fi
files=$(find "$UPLOAD_FOLDER" -mindepth 1 -maxdepth 1 -type f | wc -l)
say "restored $files file(s) into $UPLOAD_FOLDER"
say "done; check with: flask --app wsgi innolab check-files"
