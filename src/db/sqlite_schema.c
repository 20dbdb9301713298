/* The SQLite schema and its migrations.
 *
 * Versioning: PRAGMA user_version holds the schema version (0 = a fresh
 * file), PRAGMA application_id marks the file as ours (IA_DB_SQLITE_APPLICATION_ID).
 * Opening runs every step above the file's version in one transaction.
 * A file newer than this build is refused rather than guessed at; a file
 * with tables but no version and no application id is some other program's
 * database and is refused too, so pointing --db at the wrong file never
 * adds our tables to it.
 *
 * Units: *_ms columns are milliseconds, *_bytes bytes, *_per_s per second.
 * Timestamps are ISO 8601 UTC text ("2025-06-01T10:20:30.123Z"), so text
 * order is time order. *_estimated columns are computed from the model
 * graph, not measured. A result row is a measurement unless is_predicted = 1,
 * and then it names its prediction_method (enforced by a CHECK).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db/db_internal.h"
#include "ia/core.h"

static const char schema_v1[] =
    "CREATE TABLE hardware (\n"
    "  fingerprint TEXT PRIMARY KEY,       -- SHA-256 hex, include/ia/hw.h\n"
    "  short_id TEXT NOT NULL,             -- first 16 hex characters\n"
    "  report_json TEXT NOT NULL,          -- `ipfs-accelerate hw --json`\n"
    "  first_seen TEXT NOT NULL,\n"
    "  last_seen TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE models (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  model_key TEXT NOT NULL UNIQUE,     -- 'cid:<cid>' or 'name:<name>\\npath:<path>'\n"
    "  cid TEXT,\n"
    "  name TEXT NOT NULL,\n"
    "  path TEXT,\n"
    "  family TEXT,\n"
    "  n_params INTEGER,\n"
    "  flops_estimated INTEGER,            -- per inference, from the graph\n"
    "  bytes_moved_estimated INTEGER,      -- per inference, from the graph\n"
    "  weight_bytes INTEGER,\n"
    "  synthetic INTEGER NOT NULL DEFAULT 0,\n"
    "  converted INTEGER NOT NULL DEFAULT 0,\n"
    "  provenance_json TEXT,\n"
    "  first_seen TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE runs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  started_at TEXT NOT NULL,\n"
    "  ended_at TEXT,                      -- NULL while running or when killed\n"
    "  status TEXT NOT NULL DEFAULT 'running',\n"
    "  command_line TEXT,\n"
    "  version TEXT NOT NULL,              -- ipfs-accelerate version\n"
    "  git_commit TEXT,\n"
    "  host_name TEXT,\n"
    "  hw_fingerprint TEXT NOT NULL REFERENCES hardware(fingerprint)\n"
    ");\n"
    "CREATE TABLE results (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  model_id INTEGER NOT NULL REFERENCES models(id),\n"
    "  hw_fingerprint TEXT NOT NULL REFERENCES hardware(fingerprint),\n"
    "  scenario TEXT NOT NULL,\n"
    "  batch INTEGER NOT NULL CHECK (batch >= 1),\n"
    "  seq_len INTEGER,\n"
    "  threads INTEGER NOT NULL CHECK (threads >= 1),\n"
    "  precision TEXT NOT NULL,\n"
    "  warmup INTEGER NOT NULL,\n"
    "  iterations INTEGER NOT NULL,\n"
    "  mean_ms REAL, stddev_ms REAL, cv REAL,\n"
    "  min_ms REAL, p50_ms REAL, p90_ms REAL, p99_ms REAL, max_ms REAL,\n"
    "  throughput_per_s REAL,\n"
    "  n_outliers INTEGER,\n"
    "  unstable INTEGER NOT NULL DEFAULT 0,\n"
    "  peak_rss_bytes INTEGER,\n"
    "  arena_bytes INTEGER,\n"
    "  load_ms REAL,\n"
    "  first_inference_ms REAL,\n"
    "  flops_estimated INTEGER,            -- per inference at this configuration\n"
    "  ttft_ms REAL, tpot_ms REAL, tokens_per_s REAL,   -- decoders only\n"
    "  target_qps REAL, achieved_qps REAL,              -- server scenario only\n"
    "  is_predicted INTEGER NOT NULL DEFAULT 0 CHECK (is_predicted IN (0, 1)),\n"
    "  prediction_method TEXT,\n"
    "  created_at TEXT NOT NULL,\n"
    "  CHECK (is_predicted = 0 OR prediction_method IS NOT NULL)\n"
    ");\n"
    "CREATE TABLE timings (\n"
    "  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,\n"
    "  iteration INTEGER NOT NULL,\n"
    "  ms REAL NOT NULL,\n"
    "  is_outlier INTEGER NOT NULL DEFAULT 0,\n"
    "  PRIMARY KEY (result_id, iteration)\n"
    ") WITHOUT ROWID;\n"
    /* The report reads the latest results of each configuration, and a
     * run's results; the dashboard lists runs per machine. */
    "CREATE INDEX results_config ON results(model_id, hw_fingerprint, scenario, batch,\n"
    "  seq_len, threads, precision, created_at);\n"
    "CREATE INDEX results_created ON results(created_at, id);\n"
    "CREATE INDEX results_run ON results(run_id);\n"
    "CREATE INDEX runs_hw ON runs(hw_fingerprint, started_at);\n";

const struct ia_db_migration ia_db_sqlite_migrations[] = {
    {1, schema_v1},
};
const int ia_db_sqlite_n_migrations =
    (int)(sizeof ia_db_sqlite_migrations / sizeof ia_db_sqlite_migrations[0]);
_Static_assert(sizeof ia_db_sqlite_migrations / sizeof ia_db_sqlite_migrations[0] ==
                   IA_DB_SCHEMA_VERSION,
               "one migration step per schema version");

int ia_db_sqlite_error(sqlite3 *h, int rc, const char *path, const char *what) {
    const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
        return ia_error_set(IA_ECORRUPT, "%s: not an SQLite database (%s)", path, msg);
    case SQLITE_CORRUPT:
        return ia_error_set(IA_ECORRUPT, "%s: the database is corrupt (%s)", path, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ia_error_set(IA_ETIMEOUT, "%s: %s: still locked by another process after %d s (%s)",
                            path, what, IA_DB_BUSY_TIMEOUT_MS / 1000, msg);
    case SQLITE_FULL:
        return ia_error_set(IA_ENOSPC, "%s: %s: disk full (%s)", path, what, msg);
    case SQLITE_NOMEM:
        return ia_error_set(IA_ENOMEM, "%s: %s: out of memory", path, what);
    case SQLITE_CONSTRAINT:
        return ia_error_set(IA_EINVAL, "%s: %s: %s", path, what, msg);
    default:
        return ia_error_set(IA_EIO, "%s: %s: %s", path, what, msg);
    }
}

static int pragma_int(sqlite3 *h, const char *path, const char *sql, int *out) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? IA_OK : ia_db_sqlite_error(h, rc, path, sql);
}

static int exec(sqlite3 *h, const char *path, const char *sql, const char *what) {
    int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? IA_OK : ia_db_sqlite_error(h, rc, path, what);
}

/* Refuses files that are not ours; `version` is the file's user_version. */
static int check_owner(sqlite3 *h, const char *path, int version) {
    int app = 0, n_tables = 0;
    int rc = pragma_int(h, path, "PRAGMA application_id", &app);
    if (rc == IA_OK && app != 0 && app != IA_DB_SQLITE_APPLICATION_ID)
        return ia_error_set(IA_EFORMAT,
                            "%s: an SQLite database of another program (application id 0x%08x), "
                            "not an ipfs-accelerate results database",
                            path, (unsigned)app);
    if (rc == IA_OK && version == 0)
        rc = pragma_int(h, path, "SELECT count(*) FROM sqlite_master", &n_tables);
    if (rc == IA_OK && version == 0 && n_tables > 0 && app == 0)
        return ia_error_set(IA_EFORMAT,
                            "%s: an SQLite database with %d tables but no schema version: "
                            "not an ipfs-accelerate results database",
                            path, n_tables);
    return rc;
}

int ia_db_sqlite_migrate(sqlite3 *h, const char *path, const struct ia_db_migration *steps,
                         int n_steps, int *from) {
    int target = n_steps > 0 ? steps[n_steps - 1].version : 0, version = 0;
    int rc = pragma_int(h, path, "PRAGMA user_version", &version);
    if (rc != IA_OK) return rc;
    *from = version;
    if (version > target)
        return ia_error_set(IA_EUNSUPPORTED,
                            "%s: results database schema v%d is newer than this build "
                            "understands (v%d); upgrade ipfs-accelerate",
                            path, version, target);
    rc = check_owner(h, path, version);
    if (rc != IA_OK || version == target) return rc;

    rc = exec(h, path, "BEGIN IMMEDIATE", "starting the schema migration");
    if (rc != IA_OK) return rc;
    /* Another process may have migrated while we waited for the lock. */
    rc = pragma_int(h, path, "PRAGMA user_version", &version);
    if (rc == IA_OK) rc = check_owner(h, path, version);
    for (int i = 0; rc == IA_OK && i < n_steps; i++) {
        IA_ASSERT(steps[i].version == i + 1);
        if (steps[i].version <= version) continue;
        char what[64];
        snprintf(what, sizeof what, "migrating the schema to v%d", steps[i].version);
        rc = exec(h, path, steps[i].sql, what);
    }
    if (rc == IA_OK) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", target,
                 IA_DB_SQLITE_APPLICATION_ID);
        rc = exec(h, path, sql, "recording the schema version");
    }
    if (rc == IA_OK) rc = exec(h, path, "COMMIT", "committing the schema migration");
    if (rc != IA_OK) sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
