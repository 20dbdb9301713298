/* Results database: schema, round trips, migrations, refusing files that
 * are not ours, concurrent writers and a writer killed mid-run. Every row
 * written here is TEST data with made-up numbers, never a measurement. */
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "db/db_internal.h"
#include "ia/core.h"
#include "ia/db.h"

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/ia_test_db_XXXXXX");
        IA_ASSERT(mkdtemp(tmpdir));
    }
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static void fill_hw(struct ia_hw_info *hw, const char *model) {
    memset(hw, 0, sizeof *hw);
    strcpy(hw->arch, "x86_64");
    strcpy(hw->vendor, "TEST");
    snprintf(hw->model, sizeof hw->model, "%s", model);
    hw->physical_cores = 2;
    hw->logical_cpus = 4;
    hw->numa_nodes = 1;
    hw->total_memory_bytes = hw->os_memory_bytes = 8ull << 30;
    hw->gpu_status = IA_HW_GPU_NO_LIBRARY;
    IA_ASSERT(ia_hw_fingerprint(hw) == IA_OK);
}

/* A measured TEST result: timings 1, 2, ..., n ms plus `base`. */
static int put_result(struct ia_db *db, int64_t run, int64_t model, const char *fp, int batch,
                      double base, int n, int64_t *id) {
    double t[64];
    IA_ASSERT(n <= 64);
    for (int i = 0; i < n; i++) t[i] = base + i + 1;
    struct ia_db_result r;
    ia_db_result_init(&r);
    r.run_id = run;
    r.model_id = model;
    r.hw_fingerprint = fp;
    r.scenario = "single-stream";
    r.batch = batch;
    r.threads = 1;
    r.precision = "fp32";
    r.iterations = n;
    r.p50_ms = base + (n + 1) / 2.0;
    r.mean_ms = r.p50_ms;
    return ia_db_insert_result(db, &r, t, NULL, (size_t)n, id);
}

/* Opens a store with one TEST machine, model and run. */
static int setup(const char *path, struct ia_db **db, struct ia_hw_info *hw, int64_t *model,
                 int64_t *run) {
    fill_hw(hw, "TEST CPU");
    int rc = ia_db_open(path, 0, db);
    if (rc == IA_OK) rc = ia_db_upsert_hardware(*db, hw);
    struct ia_db_model m;
    ia_db_model_init(&m);
    m.name = "TEST-model";
    m.synthetic = 1;
    if (rc == IA_OK) rc = ia_db_upsert_model(*db, &m, model);
    struct ia_db_run r = {.command_line = "test_db", .hw_fingerprint = hw->fingerprint};
    if (rc == IA_OK) rc = ia_db_insert_run(*db, &r, run);
    return rc;
}

static int64_t raw_count(const char *path, const char *sql) {
    sqlite3 *h;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

static int raw_exec(const char *path, const char *sql) {
    sqlite3 *h;
    int rc = sqlite3_open(path, &h);
    if (rc == SQLITE_OK) rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

static void test_fresh_schema(void) {
    const char *path = tmp_path("fresh.db");
    struct ia_db *db;
    REQUIRE(ia_db_open(path, 0, &db) == IA_OK);
    struct ia_db_info info;
    REQUIRE(ia_db_info(db, &info) == IA_OK);
    CHECK_EQ_INT(info.schema_version, IA_DB_SCHEMA_VERSION);
    CHECK_EQ_INT(info.migrated_from, 0);
    CHECK_EQ_INT(info.n_results, 0);
    ia_db_close(db);
    /* Reopening migrates nothing. */
    REQUIRE(ia_db_open(path, IA_DB_OPEN_EXISTING, &db) == IA_OK);
    REQUIRE(ia_db_info(db, &info) == IA_OK);
    CHECK_EQ_INT(info.migrated_from, IA_DB_SCHEMA_VERSION);
    ia_db_close(db);
    CHECK_EQ_INT(raw_count(path, "PRAGMA user_version"), IA_DB_SCHEMA_VERSION);
    CHECK_EQ_INT(raw_count(path, "PRAGMA application_id"), IA_DB_SQLITE_APPLICATION_ID);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                 "name IN ('hardware','models','runs','results','timings')"),
                 5);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM pragma_table_info('results') WHERE name "
                                 "IN ('is_predicted','ttft_ms','achieved_qps','p99_ms')"),
                 4);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                 "name = 'results_config'"),
                 1);
    /* WAL is a property of the file; it stays after close. */
    sqlite3 *h;
    REQUIRE(sqlite3_open(path, &h) == SQLITE_OK);
    sqlite3_stmt *st;
    REQUIRE(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK_EQ_STR((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_round_trip(void) {
    const char *path = tmp_path("roundtrip.db");
    struct ia_db *db;
    struct ia_hw_info hw;
    int64_t model, run;
    REQUIRE(setup(path, &db, &hw, &model, &run) == IA_OK);

    /* Same model again: same id, columns updated. */
    struct ia_db_model m;
    ia_db_model_init(&m);
    m.name = "TEST-model";
    m.family = "bert";
    m.n_params = 4386;
    m.flops_estimated = 123456;
    m.provenance_json = "{\"built_by\":\"test_db\"}";
    int64_t again = 0;
    REQUIRE(ia_db_upsert_model(db, &m, &again) == IA_OK);
    CHECK_EQ_INT(again, model);
    m.provenance_json = "{not json";
    CHECK_EQ_INT(ia_db_upsert_model(db, &m, &again), IA_EINVAL);
    /* Keyed by CID when there is one. */
    struct ia_db_model mc;
    ia_db_model_init(&mc);
    mc.name = "TEST-model";
    mc.cid = "bafkreitestcid";
    int64_t by_cid = 0;
    REQUIRE(ia_db_upsert_model(db, &mc, &by_cid) == IA_OK);
    CHECK(by_cid != model);

    double t[5] = {1.5, 1.25, 1.75, 9.0, 1.5};
    uint8_t o[5] = {0, 0, 0, 1, 0};
    struct ia_db_result r;
    ia_db_result_init(&r);
    r.run_id = run;
    r.model_id = model;
    r.hw_fingerprint = hw.fingerprint;
    r.scenario = "offline";
    r.batch = 8;
    r.seq_len = 128;
    r.threads = 2;
    r.precision = "fp32";
    r.warmup = 3;
    r.iterations = 5;
    r.mean_ms = 3.0;
    r.stddev_ms = 3.4;
    r.cv = 1.13;
    r.min_ms = 1.25;
    r.p50_ms = 1.5;
    r.p90_ms = 6.1;
    r.p99_ms = 8.71;
    r.max_ms = 9.0;
    r.throughput_per_s = 5333.25;
    r.n_outliers = 1;
    r.unstable = 1;
    r.peak_rss_bytes = 123456789;
    r.load_ms = 12.5;
    r.ttft_ms = 4.0;
    int64_t rid = 0;
    REQUIRE(ia_db_insert_result(db, &r, t, o, 5, &rid) == IA_OK);
    CHECK(rid > 0);
    REQUIRE(ia_db_finish_run(db, run, "ok", NULL) == IA_OK);
    CHECK_EQ_INT(ia_db_finish_run(db, 999, "ok", NULL), IA_ENOTFOUND);
    CHECK_EQ_INT(ia_db_finish_run(db, run, "great", NULL), IA_EINVAL);

    struct ia_db_result_list l;
    REQUIRE(ia_db_query_results(db, NULL, &l) == IA_OK);
    REQUIRE(l.n == 1);
    const struct ia_db_result_row *row = &l.rows[0];
    CHECK_EQ_INT(row->id, rid);
    CHECK_EQ_STR(row->model_name, "TEST-model");
    CHECK_EQ_STR(row->model_family, "bert");
    CHECK(row->model_cid == NULL);
    CHECK_EQ_INT(row->model_synthetic, 0); /* the second upsert cleared it */
    CHECK_EQ_STR(row->r.scenario, "offline");
    CHECK_EQ_STR(row->r.hw_fingerprint, hw.fingerprint);
    CHECK_EQ_STR(row->hw_short_id, hw.fingerprint_short);
    CHECK_EQ_INT(row->r.batch, 8);
    CHECK_EQ_INT(row->r.seq_len, 128);
    CHECK_EQ_INT(row->r.threads, 2);
    CHECK_EQ_INT(row->r.warmup, 3);
    CHECK(row->r.p90_ms == 6.1 && row->r.p99_ms == 8.71 && row->r.throughput_per_s == 5333.25);
    CHECK_EQ_INT(row->r.n_outliers, 1);
    CHECK_EQ_INT(row->r.unstable, 1);
    CHECK_EQ_INT(row->r.peak_rss_bytes, 123456789);
    CHECK_EQ_INT(row->r.arena_bytes, -1);
    CHECK(row->r.ttft_ms == 4.0);
    CHECK(isnan(row->r.tpot_ms) && isnan(row->r.target_qps) && isnan(row->r.first_inference_ms));
    CHECK_EQ_INT(row->r.is_predicted, 0);
    CHECK(row->r.prediction_method == NULL);
    CHECK(row->created_at && strlen(row->created_at) == 24);
    CHECK(row->run_git_commit && *row->run_git_commit);
    ia_db_result_list_free(&l);

    double *ms;
    uint8_t *flags;
    size_t n;
    REQUIRE(ia_db_query_timings(db, rid, &ms, &flags, &n) == IA_OK);
    REQUIRE(n == 5);
    for (int i = 0; i < 5; i++) {
        CHECK(ms[i] == t[i]);
        CHECK_EQ_INT(flags[i], o[i]);
    }
    ia_free(ms);
    ia_free(flags);

    /* Predicted rows must say how; measured rows must carry their timings. */
    struct ia_db_result p = r;
    p.is_predicted = 1;
    CHECK_EQ_INT(ia_db_insert_result(db, &p, NULL, NULL, 0, &rid), IA_EINVAL);
    p.prediction_method = "TEST roofline";
    REQUIRE(ia_db_insert_result(db, &p, NULL, NULL, 0, &rid) == IA_OK);
    CHECK_EQ_INT(ia_db_insert_result(db, &r, t, o, 4, &rid), IA_EINVAL);
    struct ia_db_result bad = r;
    bad.run_id = 4242; /* no such run: the foreign key refuses it */
    CHECK_EQ_INT(ia_db_insert_result(db, &bad, t, o, 5, &rid), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "FOREIGN KEY") != NULL);

    struct ia_db_filter f = {.measured_only = 1};
    REQUIRE(ia_db_query_results(db, &f, &l) == IA_OK);
    CHECK_EQ_INT(l.n, 1);
    ia_db_result_list_free(&l);
    f.measured_only = 0;
    f.model_name = "nope";
    REQUIRE(ia_db_query_results(db, &f, &l) == IA_OK);
    CHECK_EQ_INT(l.n, 0);
    ia_db_result_list_free(&l);

    /* Hardware seen again keeps its first_seen. */
    struct ia_db_hardware_list hl;
    REQUIRE(ia_db_query_hardware(db, &hl) == IA_OK);
    REQUIRE(hl.n == 1);
    char first[32];
    snprintf(first, sizeof first, "%s", hl.rows[0].first_seen);
    CHECK(strstr(hl.rows[0].report_json, "\"TEST CPU\"") != NULL);
    ia_db_hardware_list_free(&hl);
    usleep(2000);
    REQUIRE(ia_db_upsert_hardware(db, &hw) == IA_OK);
    REQUIRE(ia_db_query_hardware(db, &hl) == IA_OK);
    REQUIRE(hl.n == 1);
    CHECK_EQ_STR(hl.rows[0].first_seen, first);
    CHECK(strcmp(hl.rows[0].last_seen, first) > 0);
    ia_db_hardware_list_free(&hl);

    struct ia_db_info info;
    REQUIRE(ia_db_info(db, &info) == IA_OK);
    CHECK_EQ_INT(info.n_results, 2);
    CHECK_EQ_INT(info.n_predicted, 1);
    CHECK_EQ_INT(info.n_timings, 5);
    CHECK_EQ_INT(info.n_models, 2);
    ia_db_close(db);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM runs WHERE status = 'ok' AND ended_at "
                                 "IS NOT NULL"),
                 1);
}

/* A transaction opened by the caller holds several results until commit. */
static void test_caller_transaction(void) {
    const char *path = tmp_path("txn.db");
    struct ia_db *db;
    struct ia_hw_info hw;
    int64_t model, run, id;
    REQUIRE(setup(path, &db, &hw, &model, &run) == IA_OK);
    REQUIRE(ia_db_begin(db) == IA_OK);
    CHECK(put_result(db, run, model, hw.fingerprint, 1, 0, 3, &id) == IA_OK);
    CHECK(put_result(db, run, model, hw.fingerprint, 2, 0, 3, &id) == IA_OK);
    REQUIRE(ia_db_rollback(db) == IA_OK);
    REQUIRE(ia_db_begin(db) == IA_OK);
    CHECK(put_result(db, run, model, hw.fingerprint, 4, 0, 3, &id) == IA_OK);
    REQUIRE(ia_db_commit(db) == IA_OK);
    ia_db_close(db);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM results"), 1);
    CHECK_EQ_INT(raw_count(path, "SELECT batch FROM results"), 4);
}

static void test_default_path(void) {
    const char *home = tmp_path("home/deeper");
    char *old = getenv("IA_HOME") ? strdup(getenv("IA_HOME")) : NULL;
    setenv("IA_HOME", home, 1);
    char *p = NULL;
    REQUIRE(ia_db_default_path(&p) == IA_OK);
    char want[300];
    snprintf(want, sizeof want, "%s/results.db", home);
    CHECK_EQ_STR(p, want);
    ia_free(p);
    struct ia_db *db;
    CHECK_EQ_INT(ia_db_open(NULL, IA_DB_OPEN_EXISTING, &db), IA_ENOTFOUND);
    REQUIRE(ia_db_open(NULL, 0, &db) == IA_OK);
    CHECK_EQ_STR(ia_db_location(db), want);
    ia_db_close(db);
    struct stat sb;
    CHECK(stat(want, &sb) == 0);
    if (old) {
        setenv("IA_HOME", old, 1);
        free(old);
    } else {
        unsetenv("IA_HOME");
    }
}

static void test_missing_file(void) {
    const char *path = tmp_path("nope/missing.db");
    struct ia_db *db;
    CHECK_EQ_INT(ia_db_open(path, IA_DB_OPEN_EXISTING, &db), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), path) != NULL);
    CHECK(ia_db_open(path, 0, &db) != IA_OK); /* folder missing: not created for explicit paths */
    CHECK(strstr(ia_error_msg(), path) != NULL);
    CHECK(ia_db_open(tmpdir, 0, &db) == IA_EINVAL); /* a folder */
}

/* An empty file is a database at version 0: it gets the whole schema. */
static void test_migrate_empty_file(void) {
    const char *path = tmp_path("empty.db");
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fclose(f);
    struct ia_db *db;
    REQUIRE(ia_db_open(path, IA_DB_OPEN_EXISTING, &db) == IA_OK);
    struct ia_db_info info;
    REQUIRE(ia_db_info(db, &info) == IA_OK);
    CHECK_EQ_INT(info.migrated_from, 0);
    CHECK_EQ_INT(info.schema_version, IA_DB_SCHEMA_VERSION);
    ia_db_close(db);
}

/* The framework on a hand-made older database: a v1 file with a row in it
 * goes to a test-only v2 that adds a column; the row survives. A step that
 * fails leaves the file as it was. */
static void test_migrate_older_version(void) {
    const char *path = tmp_path("older.db");
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA user_version = 1; PRAGMA application_id = %d;",
             IA_DB_SQLITE_APPLICATION_ID);
    REQUIRE(raw_exec(path, ia_db_sqlite_migrations[0].sql) == SQLITE_OK);
    REQUIRE(raw_exec(path, sql) == SQLITE_OK);
    REQUIRE(raw_exec(path,
                     "INSERT INTO hardware VALUES ('ab', 'ab', '{}', 't0', 't0');"
                     "INSERT INTO models (id, model_key, name, first_seen) "
                     "VALUES (1, 'name:TEST', 'TEST', 't0');"
                     "INSERT INTO runs (id, started_at, version, hw_fingerprint) "
                     "VALUES (1, 't0', '0.0.1', 'ab');"
                     "INSERT INTO results (run_id, model_id, hw_fingerprint, scenario, batch, "
                     "threads, precision, warmup, iterations, p50_ms, created_at) "
                     "VALUES (1, 1, 'ab', 'offline', 1, 1, 'fp32', 0, 1, 2.5, 't0');") ==
            SQLITE_OK);

    const struct ia_db_migration bad[] = {ia_db_sqlite_migrations[0],
                                          {2, "ALTER TABLE no_such_table ADD COLUMN x REAL"}};
    const struct ia_db_migration v2[] = {ia_db_sqlite_migrations[0],
                                         {2, "ALTER TABLE results ADD COLUMN energy_j REAL;"
                                             "CREATE INDEX results_energy ON results(energy_j);"}};
    sqlite3 *h;
    REQUIRE(sqlite3_open(path, &h) == SQLITE_OK);
    int from = -1;
    CHECK(ia_db_sqlite_migrate(h, path, bad, 2, &from) != IA_OK);
    CHECK(strstr(ia_error_msg(), "v2") != NULL);
    CHECK_EQ_INT(raw_count(path, "PRAGMA user_version"), 1);
    REQUIRE(ia_db_sqlite_migrate(h, path, v2, 2, &from) == IA_OK);
    CHECK_EQ_INT(from, 1);
    sqlite3_close(h);
    CHECK_EQ_INT(raw_count(path, "PRAGMA user_version"), 2);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM results WHERE p50_ms = 2.5 AND "
                                 "energy_j IS NULL"),
                 1);

    /* This build knows v1 only: the v2 file is refused, by name. */
    struct ia_db *db;
    CHECK_EQ_INT(ia_db_open(path, 0, &db), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), path) && strstr(ia_error_msg(), "v2"));
}

static void test_not_ours(void) {
    const char *path = tmp_path("other.db");
    REQUIRE(raw_exec(path, "CREATE TABLE photos (id INTEGER)") == SQLITE_OK);
    struct ia_db *db;
    CHECK_EQ_INT(ia_db_open(path, 0, &db), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), path) != NULL);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM sqlite_master"), 1); /* untouched */
    const char *path2 = tmp_path("other2.db");
    REQUIRE(raw_exec(path2, "PRAGMA application_id = 1234") == SQLITE_OK);
    CHECK_EQ_INT(ia_db_open(path2, 0, &db), IA_EFORMAT);
}

static void check_one_line_naming(const char *path) {
    const char *msg = ia_error_msg();
    CHECK(strstr(msg, path) == msg);
    CHECK(strchr(msg, '\n') == NULL);
}

static void test_corrupt_files(void) {
    const char *path = tmp_path("text.db");
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    for (int i = 0; i < 100; i++) fputs("this is not a database, just some text\n", f);
    fclose(f);
    struct ia_db *db;
    CHECK_EQ_INT(ia_db_open(path, IA_DB_OPEN_EXISTING, &db), IA_ECORRUPT);
    check_one_line_naming(path);
    CHECK(strstr(ia_error_msg(), "not an SQLite database") != NULL);

    /* A real database with its first page (the schema) overwritten. */
    const char *bad = tmp_path("malformed.db");
    struct ia_hw_info hw;
    int64_t model, run, id;
    REQUIRE(setup(bad, &db, &hw, &model, &run) == IA_OK);
    for (int i = 0; i < 20; i++) put_result(db, run, model, hw.fingerprint, 1, i, 10, &id);
    ia_db_close(db);
    f = fopen(bad, "r+b");
    REQUIRE(f);
    REQUIRE(fseek(f, 100, SEEK_SET) == 0);
    for (int i = 0; i < 3000; i++) fputc(0xA5, f);
    fclose(f);
    int rc = ia_db_open(bad, IA_DB_OPEN_EXISTING, &db);
    CHECK_EQ_INT(rc, IA_ECORRUPT);
    if (rc == IA_OK) ia_db_close(db);
    check_one_line_naming(bad);
}

/* Writers in two processes, each with its own run, racing from the moment
 * the file is created. Every row must arrive. */
#define N_PER_WRITER 60
static void writer(const char *path, int tag) {
    struct ia_db *db;
    struct ia_hw_info hw;
    int64_t model, run, id;
    int rc = setup(path, &db, &hw, &model, &run);
    for (int i = 0; rc == IA_OK && i < N_PER_WRITER; i++)
        rc = put_result(db, run, model, hw.fingerprint, 1 + tag, i, 4, &id);
    if (rc != IA_OK) fprintf(stderr, "writer %d: %s\n", tag, ia_error_msg());
    if (rc == IA_OK) rc = ia_db_finish_run(db, run, "ok", NULL);
    ia_db_close(db);
    _exit(rc == IA_OK ? 0 : 1);
}

static void test_two_writers(void) {
    const char *path = tmp_path("concurrent.db");
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        REQUIRE(kids[k] >= 0);
        if (kids[k] == 0) writer(path, k);
    }
    for (int k = 0; k < 2; k++) {
        int st = 0;
        REQUIRE(waitpid(kids[k], &st, 0) == kids[k]);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM results"), 2 * N_PER_WRITER);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM results WHERE batch = 1"), N_PER_WRITER);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM timings"), 2 * N_PER_WRITER * 4);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM runs WHERE status = 'ok'"), 2);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM models"), 1);
}

/* A child inserts results until killed with SIGKILL; it reports each
 * commit on a pipe. The database must open and hold every reported row,
 * each with all its timings. */
static void test_sigkill_mid_run(void) {
    const char *path = tmp_path("killed.db");
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t kid = fork();
    REQUIRE(kid >= 0);
    if (kid == 0) {
        close(fds[0]);
        struct ia_db *db;
        struct ia_hw_info hw;
        int64_t model, run, id;
        if (setup(path, &db, &hw, &model, &run) != IA_OK) _exit(1);
        for (int32_t i = 1;; i++) {
            if (put_result(db, run, model, hw.fingerprint, 1, i, 20, &id) != IA_OK) _exit(1);
            if (write(fds[1], &i, sizeof i) != (ssize_t)sizeof i) _exit(1);
        }
    }
    close(fds[1]);
    int32_t reported = 0, v;
    while (reported < 25 && read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) reported = v;
    kill(kid, SIGKILL);
    int st;
    waitpid(kid, &st, 0);
    close(fds[0]);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    REQUIRE(reported >= 25);

    struct ia_db *db;
    REQUIRE(ia_db_open(path, IA_DB_OPEN_EXISTING, &db) == IA_OK);
    struct ia_db_result_list l;
    REQUIRE(ia_db_query_results(db, NULL, &l) == IA_OK);
    /* The child keeps committing while the parent stops reading at 25, so
     * more rows than reported may be there; none reported may be missing. */
    CHECK(l.n >= (size_t)reported);
    for (size_t i = 0; i < l.n; i++) {
        double *ms;
        uint8_t *o;
        size_t n;
        REQUIRE(ia_db_query_timings(db, l.rows[i].id, &ms, &o, &n) == IA_OK);
        CHECK_EQ_INT(n, 20);
        ia_free(ms);
        ia_free(o);
    }
    ia_db_result_list_free(&l);
    ia_db_close(db);
    CHECK_EQ_INT(raw_count(path, "SELECT count(*) FROM runs WHERE status = 'running' AND "
                                 "ended_at IS NULL"),
                 1);
    sqlite3 *h;
    REQUIRE(sqlite3_open(path, &h) == SQLITE_OK);
    sqlite3_stmt *s;
    REQUIRE(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    CHECK_EQ_STR((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    sqlite3_close(h);
}

/* Failing each of our allocations in turn never crashes or leaks. */
static void test_alloc_failures(void) {
    const char *path = tmp_path("alloc.db");
    struct ia_db *db;
    struct ia_hw_info hw;
    int64_t model, run, id;
    REQUIRE(setup(path, &db, &hw, &model, &run) == IA_OK);
    REQUIRE(put_result(db, run, model, hw.fingerprint, 1, 0, 3, &id) == IA_OK);
    ia_db_close(db);
    int ok = 0;
    for (long k = 0; k < 40 && !ok; k++) {
        ia_alloc_fail_after(k);
        int rc = ia_db_open(path, 0, &db);
        struct ia_db_result_list l = {0};
        if (rc == IA_OK) rc = ia_db_query_results(db, NULL, &l);
        ia_alloc_fail_after(-1);
        CHECK(rc == IA_OK || rc == IA_ENOMEM);
        if (rc == IA_OK) {
            ok = 1;
            CHECK_EQ_INT(l.n, 1);
        }
        ia_db_result_list_free(&l);
        if (db) ia_db_close(db);
        db = NULL;
    }
    CHECK(ok);
}

static void cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (tmpdir[0] && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

TEST_MAIN(T(test_fresh_schema), T(test_round_trip), T(test_caller_transaction),
          T(test_default_path), T(test_missing_file), T(test_migrate_empty_file),
          T(test_migrate_older_version), T(test_not_ours), T(test_corrupt_files),
          T(test_two_writers), T(test_sigkill_mid_run), T(test_alloc_failures), T(cleanup))
