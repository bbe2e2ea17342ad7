#!/usr/bin/env bash
# The shipped rotation script deletes only what is old, keeps the newest, and
# the contract's cron line makes a backup.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo 20
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"

# the contract's cron line, word for word but for the port
ACCESS_TOKEN=$(token operator)
out=$(curl -s -X POST "$BASE/backup/create?compress=true" -H "Authorization: Bearer $ACCESS_TOKEN")
check "the contract's cron line makes a backup" bash -c "jq -e '.success == true' <<<'$out' >/dev/null"
fresh=$(jq -r .filename <<<"$out")

# old backups, as if made by earlier nights (names carry their date)
cp "$WORK/backups/$fresh" "$WORK/backups/backup_sqlite_20200101_020000.db.gz"
cp "$WORK/backups/$fresh" "$WORK/backups/backup_sqlite_20200102_020000.db.gz"
cp "$WORK/backups/$fresh" "$WORK/backups/safety_backup_sqlite_20200103_020000.db.gz"
cp "$WORK/backups/$fresh" "$WORK/backups/backup_sqlite_20200103_030000.db.zst"
recent=$(date -u -d '2 days ago' +backup_sqlite_%Y%m%d_%H%M%S.db.gz)
cp "$WORK/backups/$fresh" "$WORK/backups/$recent"

export ACCESS_TOKEN BACKUP_API_URL="$BASE"
ACCESS_TOKEN=$(token admin)
out=$(bash "$DBB_SOURCE_DIR/setup/rotate-backups.sh" --keep-days 7 --dry-run)
check "dry run names the old backups" bash -c "grep -c '^would delete' <<<'$out' | grep -qx 4"
check "dry run deletes nothing" test -e "$WORK/backups/backup_sqlite_20200101_020000.db.gz"
out=$(bash "$DBB_SOURCE_DIR/setup/rotate-backups.sh" --keep-days 7)
check "rotation exits 0" test $? -eq 0
check "it prints what it deleted" bash -c "grep -q '^deleted backup_sqlite_20200101_020000.db.gz' <<<'$out'"
check "old backups are gone" test ! -e "$WORK/backups/backup_sqlite_20200101_020000.db.gz" -a ! -e "$WORK/backups/backup_sqlite_20200102_020000.db.gz"
check "old safety backups are gone" test ! -e "$WORK/backups/safety_backup_sqlite_20200103_020000.db.gz"
check "old .zst backups are gone" test ! -e "$WORK/backups/backup_sqlite_20200103_030000.db.zst"
check "the backup made a minute ago is kept" test -e "$WORK/backups/$fresh"
check "a 2-day-old backup is kept" test -e "$WORK/backups/$recent"

# --keep-min: with only old backups, the newest is kept all the same
rm -f "$WORK/backups/$fresh" "$WORK/backups/$fresh.sha256" "$WORK/backups/$recent"
cp "$WORK/backups/backup_sqlite_20200101_020000.db.gz" "$WORK/backups/" 2>/dev/null || true
for d in 20200101 20200105; do
	gzip -c "$SQLITE_DB" >"$WORK/backups/backup_sqlite_${d}_020000.db.gz"
done
bash "$DBB_SOURCE_DIR/setup/rotate-backups.sh" --keep-days 7 >/dev/null
check "the newest backup is kept even when old" test -e "$WORK/backups/backup_sqlite_20200105_020000.db.gz"
check "older ones are not" test ! -e "$WORK/backups/backup_sqlite_20200101_020000.db.gz"

# a token without the admin role: the script fails loudly, deletes nothing
gzip -c "$SQLITE_DB" >"$WORK/backups/backup_sqlite_20200104_020000.db.gz"
ACCESS_TOKEN=$(token operator) bash "$DBB_SOURCE_DIR/setup/rotate-backups.sh" --keep-days 7 >/dev/null 2>&1
check "a refused delete makes the script exit non-zero" test $? -ne 0
check "and nothing was deleted" test -e "$WORK/backups/backup_sqlite_20200104_020000.db.gz"
e2e_done
