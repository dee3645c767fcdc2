#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sqlite3 on a temporary database (inserts, an index, queries, an update, a failing statement
# and VACUUM): the preload changes neither output nor exit status, and the snapshot adds up.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
need sqlite3
[ -f "$LIBMEMPROF" ] || fail "$LIBMEMPROF is missing (make all)"

cat >work.sql <<'EOF'
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER, val REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
INSERT INTO item SELECT x, 'name-' || x, x % 37, x * 1.5 FROM c;
CREATE INDEX item_grp ON item(grp, val);
SELECT grp, count(*), sum(val) FROM item GROUP BY grp ORDER BY grp LIMIT 5;
SELECT count(*) FROM item WHERE grp = 5 AND val > 100;
BEGIN;
UPDATE item SET name = upper(name) WHERE id % 3 = 0;
DELETE FROM item WHERE id % 11 = 0;
COMMIT;
SELECT count(*), max(length(name)), group_concat(DISTINCT substr(name, 1, 4)) FROM item;
SELECT name FROM item WHERE name LIKE 'NAME-12%' ORDER BY id LIMIT 3;
SELECT * FROM no_such_table;
PRAGMA integrity_check;
VACUUM;
SELECT count(*) FROM item INDEXED BY item_grp WHERE grp BETWEEN 3 AND 9;
EOF

run_capture bare sqlite3 "$T/work.db" <work.sql
rm -f "$T/work.db"
run_capture prof profile "$T/snap.%p.gz" sqlite3 "$T/work.db" <work.sql
expect_match 'no such table' bare.err # the workload really contains a failing statement
same_output bare prof
check_snapshots 1 1000
