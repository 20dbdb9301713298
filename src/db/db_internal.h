/* Private to src/db: the handle, a string pool for query results, and the
 * SQLite migration framework (exposed here so tests can run their own
 * migration lists against hand-made old databases). */
#ifndef IA_DB_INTERNAL_H
#define IA_DB_INTERNAL_H

#include <sqlite3.h>

#include "ia/db.h"

struct ia_db {
    const struct ia_db_backend *backend;
    void *impl;
    char *location;
};

/* ---- string pool: the strings of a query's rows, freed at once ---------- */

struct ia_db_strpool;
struct ia_db_strpool *ia_db_strpool_create(void);
/* Copies s (NULL stays NULL); sets *failed on allocation failure. */
const char *ia_db_strpool_add(struct ia_db_strpool *p, const char *s, int *failed);
void ia_db_strpool_destroy(struct ia_db_strpool *p);

/* ---- SQLite schema migrations ------------------------------------------ */

/* PRAGMA application_id of our files: "IADB". A file with another non-zero
 * id belongs to some other program and is left alone. */
#define IA_DB_SQLITE_APPLICATION_ID 0x49414442

/* Step `version` turns a database at version-1 into one at `version`. The
 * list is in ascending order starting at 1; a new schema version appends a
 * step (ALTER TABLE ... ADD COLUMN, CREATE INDEX, ...) and bumps
 * IA_DB_SCHEMA_VERSION. Steps never change once released. */
struct ia_db_migration {
    int version;
    const char *sql; /* one or more statements */
};
extern const struct ia_db_migration ia_db_sqlite_migrations[];
extern const int ia_db_sqlite_n_migrations;

/* Brings the database `h` (file `path`, for messages) up to the last step's
 * version, all steps in one IMMEDIATE transaction, so a concurrent opener
 * waits and then finds the work done. *from receives the version found.
 * Errors: IA_EUNSUPPORTED (newer than the list), IA_EFORMAT (someone
 * else's database), IA_ECORRUPT (not a database / malformed), IA_EIO. */
int ia_db_sqlite_migrate(sqlite3 *h, const char *path, const struct ia_db_migration *steps,
                         int n_steps, int *from);

/* Maps an SQLite error to an IA_E* code with a one-line message
 * "<path>: <what>: <sqlite's message>". */
int ia_db_sqlite_error(sqlite3 *h, int rc, const char *path, const char *what);

#endif
