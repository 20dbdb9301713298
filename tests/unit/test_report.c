/* Reports from a database this test fills with clearly made-up TEST rows
 * (machines "TEST CPU A/B", models "TEST-bert"/"TEST-gpt2"): the numbers
 * are chosen so the expected tables, chart series, regression verdicts and
 * recommendations are known in advance. None of it is a measurement. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "ia/bench.h"
#include "ia/core.h"
#include "ia/db.h"
#include "ia/report.h"

static char dir[64];
static struct ia_hw_info hw_a, hw_b;

static void fill_hw(struct ia_hw_info *hw, const char *model) {
    memset(hw, 0, sizeof *hw);
    strcpy(hw->arch, "x86_64");
    strcpy(hw->vendor, "TEST");
    snprintf(hw->model, sizeof hw->model, "%s", model);
    hw->physical_cores = 2;
    hw->logical_cpus = 4;
    hw->numa_nodes = 1;
    hw->total_memory_bytes = 8ull << 30;
    hw->gpu_status = IA_HW_GPU_NO_LIBRARY;
    IA_ASSERT(ia_hw_fingerprint(hw) == IA_OK);
}

/* Five timings centre + {-2,-1,0,1,2} * spread * centre: p50 = mean =
 * centre, cv = spread * sqrt(2.5). Stats come from ia_bench_stats_compute
 * so the stored row is consistent with its timings. */
static void add(struct ia_db *db, int64_t run, int64_t model, const struct ia_hw_info *hw,
                int batch, int threads, double centre, double spread) {
    double t[5];
    uint8_t o[5];
    for (int i = 0; i < 5; i++) t[i] = centre * (1 + (i - 2) * spread);
    struct ia_bench_stats s;
    IA_ASSERT(ia_bench_stats_compute(t, 5, 0, &s, o) == IA_OK);
    struct ia_db_result r;
    ia_db_result_init(&r);
    r.run_id = run;
    r.model_id = model;
    r.hw_fingerprint = hw->fingerprint;
    r.scenario = "single-stream";
    r.batch = batch;
    r.seq_len = 128;
    r.threads = threads;
    r.precision = "fp32";
    r.warmup = 1;
    r.iterations = 5;
    r.mean_ms = s.mean_ms;
    r.stddev_ms = s.stddev_ms;
    r.cv = s.cv;
    r.min_ms = s.min_ms;
    r.p50_ms = s.p50_ms;
    r.p90_ms = s.p90_ms;
    r.p99_ms = s.p99_ms;
    r.max_ms = s.max_ms;
    r.n_outliers = (int)s.n_outliers;
    r.unstable = s.unstable;
    r.throughput_per_s = batch * 1000.0 / s.mean_ms;
    r.peak_rss_bytes = (100 + batch * 10 + threads * 5) << 20;
    int64_t id;
    IA_ASSERT(ia_db_insert_result(db, &r, t, o, 5, &id) == IA_OK);
}

static int64_t new_run(struct ia_db *db, const struct ia_hw_info *hw) {
    struct ia_db_run r = {.command_line = "TEST", .hw_fingerprint = hw->fingerprint};
    int64_t id;
    IA_ASSERT(ia_db_insert_run(db, &r, &id) == IA_OK);
    return id;
}

/* TEST-bert on A, two runs of batch {1,2,4,8} x threads {1,2}; p50 =
 * (0.5 + 0.5 * batch) / threads ms, except in run 2: b8 t1 4.5 -> 6.0
 * (regression), b4 t2 1.25 -> 1.0 (improvement), b1 t2 unstable (30 %
 * spread). TEST-gpt2 on B: one run, one configuration, decoder metrics.
 * One predicted TEST-bert row at batch 16. */
static const char *make_db(void) {
    static char path[128];
    snprintf(path, sizeof path, "%s/report.db", dir);
    fill_hw(&hw_a, "TEST CPU A");
    fill_hw(&hw_b, "TEST CPU B");
    struct ia_db *db;
    IA_ASSERT(ia_db_open(path, 0, &db) == IA_OK);
    IA_ASSERT(ia_db_upsert_hardware(db, &hw_a) == IA_OK);
    IA_ASSERT(ia_db_upsert_hardware(db, &hw_b) == IA_OK);
    struct ia_db_model m;
    ia_db_model_init(&m);
    m.name = "TEST-bert";
    m.family = "bert";
    m.synthetic = 1;
    int64_t bert, gpt2;
    IA_ASSERT(ia_db_upsert_model(db, &m, &bert) == IA_OK);
    m.name = "TEST-gpt2";
    m.family = "gpt2";
    IA_ASSERT(ia_db_upsert_model(db, &m, &gpt2) == IA_OK);

    for (int pass = 0; pass < 2; pass++) {
        int64_t run = new_run(db, &hw_a);
        for (int t = 1; t <= 2; t++)
            for (int b = 1; b <= 8; b *= 2) {
                double p50 = (0.5 + 0.5 * b) / t, spread = 0.001;
                if (pass == 1 && b == 8 && t == 1) p50 = 6.0;
                if (pass == 1 && b == 4 && t == 2) p50 = 1.0;
                if (pass == 1 && b == 1 && t == 2) spread = 0.3;
                add(db, run, bert, &hw_a, b, t, p50, spread);
            }
        IA_ASSERT(ia_db_finish_run(db, run, "ok", NULL) == IA_OK);
    }

    int64_t run = new_run(db, &hw_b);
    double t[3] = {20, 21, 22};
    struct ia_db_result r;
    ia_db_result_init(&r);
    r.run_id = run;
    r.model_id = gpt2;
    r.hw_fingerprint = hw_b.fingerprint;
    r.scenario = "single-stream";
    r.batch = 1;
    r.seq_len = 32;
    r.threads = 4;
    r.precision = "fp32";
    r.iterations = 3;
    r.p50_ms = r.mean_ms = 21;
    r.ttft_ms = 7.5;
    r.tpot_ms = 1.25;
    r.tokens_per_s = 800;
    int64_t id;
    IA_ASSERT(ia_db_insert_result(db, &r, t, NULL, 3, &id) == IA_OK);

    ia_db_result_init(&r);
    r.run_id = run;
    r.model_id = bert;
    r.hw_fingerprint = hw_a.fingerprint;
    r.scenario = "single-stream";
    r.batch = 16;
    r.seq_len = 128;
    r.threads = 2;
    r.precision = "fp32";
    r.p50_ms = 123.456;
    r.is_predicted = 1;
    r.prediction_method = "TEST roofline";
    IA_ASSERT(ia_db_insert_result(db, &r, NULL, NULL, 0, &id) == IA_OK);
    ia_db_close(db);
    return path;
}

static char *render(const char *path, enum ia_report_format f) {
    struct ia_db *db;
    if (ia_db_open(path, IA_DB_OPEN_EXISTING, &db) != IA_OK) return NULL;
    struct ia_report_options o = {.format = f, .generated_at = "TEST-TIME"};
    char *text = NULL;
    size_t len = 0;
    int rc = ia_report_render(db, &o, &text, &len);
    ia_db_close(db);
    if (rc != IA_OK) return NULL;
    IA_ASSERT(strlen(text) == len);
    return text;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static const char *db_path;

static void test_markdown(void) {
    char *md = render(db_path, IA_REPORT_MD);
    REQUIRE(md);
    char h[128];
    snprintf(h, sizeof h, "## TEST-bert on `%s`", hw_a.fingerprint_short);
    CHECK(strstr(md, h) != NULL);
    snprintf(h, sizeof h, "## TEST-gpt2 on `%s`", hw_b.fingerprint_short);
    CHECK(strstr(md, h) != NULL);
    CHECK(strstr(md, "| scenario | batch | seq | threads | precision | p50 ms |") != NULL);
    /* b8 t1 latest row: p50 6.000; b4 t2: 1.000 */
    CHECK(strstr(md, "| single-stream | 8 | 128 | 1 | fp32 | 6.000 |") != NULL);
    CHECK(strstr(md, "| single-stream | 4 | 128 | 2 | fp32 | 1.000 |") != NULL);
    CHECK_EQ_INT(count(md, "**REGRESSION**"), 1);
    CHECK(strstr(md, "| single-stream b=8 seq=128 t=1 fp32 | 4.500 | 6.000 | +33.3 % |") != NULL);
    CHECK(strstr(md, "| single-stream b=4 seq=128 t=2 fp32 | 1.250 | 1.000 | -20.0 % |") != NULL);
    CHECK_EQ_INT(count(md, "| improvement |"), 1);
    CHECK_EQ_INT(count(md, "| within noise |"), 6);
    CHECK_EQ_INT(count(md, "**unstable**"), 1);
    CHECK(strstr(md, "TTFT ms") != NULL); /* the decoder table */
    CHECK(strstr(md, "| 7.500 | 1.250 | 800.0 |") != NULL);
    CHECK(strstr(md, "No earlier run of these configurations") != NULL); /* TEST-gpt2 */
    /* Recommendations: b1 t2 (0.5 ms) is unstable, so the lowest stable p50
     * is b2 t2 (0.75 ms); the highest throughput is b4 t2 after its
     * improvement, 4000/1.0 = 4000/s; the least memory is b1 t1 (115 MiB). */
    const char *rec = strstr(md, "## Recommendations");
    REQUIRE(rec);
    CHECK(strstr(rec, "| TEST-bert | `") != NULL);
    CHECK(strstr(rec, "single-stream b=2 seq=128 t=2 fp32 (p50 0.750 ms) |") != NULL);
    CHECK(strstr(rec, "single-stream b=4 seq=128 t=2 fp32 (4000.0 /s) |") != NULL);
    CHECK(strstr(rec, "single-stream b=1 seq=128 t=1 fp32 (115.0 MiB) |") != NULL);
    /* The prediction only in its own section, after everything measured. */
    const char *pred = strstr(md, "## Predicted (not measured)");
    REQUIRE(pred);
    CHECK(pred > rec);
    CHECK_EQ_INT(count(md, "b=16"), 1);
    CHECK(strstr(pred, "b=16") != NULL);
    CHECK(strstr(pred, "123.5") != NULL && strstr(pred, "TEST roofline") != NULL);
    CHECK(strstr(md, "123.5") > pred);
    ia_free(md);
}

/* The chart with data-chart=KIND that follows `from`, with its series count. */
static int series_in_chart(const char *html, const char *kind, const char **series_names) {
    char attr[96];
    snprintf(attr, sizeof attr, "data-chart=\"%s\"", kind);
    const char *start = strstr(html, attr);
    if (!start) return -1;
    const char *end = strstr(start, "</svg>");
    int n = 0;
    for (const char *p = start; (p = strstr(p, "<g class=\"series\"")) && p < end; p++) n++;
    for (int i = 0; series_names && series_names[i]; i++) {
        char want[160];
        snprintf(want, sizeof want, "data-series=\"%s\"", series_names[i]);
        const char *at = strstr(start, want);
        if (!at || at > end) return -2;
    }
    return n;
}

static void test_html(void) {
    char *html = render(db_path, IA_REPORT_HTML);
    REQUIRE(html);
    CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(html, "</html>\n") != NULL);
    /* Self-contained: no scripts, no external references of any kind. */
    CHECK(strstr(html, "<script") == NULL);
    CHECK(strstr(html, "src=") == NULL);
    CHECK(strstr(html, "href=") == NULL);
    CHECK(strstr(html, "url(") == NULL);
    CHECK(strstr(html, "@import") == NULL);
    CHECK_EQ_INT(count(html, "http"),
                 count(html, "http://www.w3.org/2000/svg") + count(html, "http-equiv"));
    CHECK(strstr(html, "default-src 'none'") != NULL);

    CHECK_EQ_INT(count(html, "<svg class=\"chart\""), 2); /* TEST-gpt2 has one point: none */
    const char *lat[] = {"single-stream seq=128 t=1 fp32", "single-stream seq=128 t=2 fp32", NULL};
    CHECK_EQ_INT(series_in_chart(html, "latency-vs-batch", lat), 2);
    const char *thr[] = {"single-stream b=1 seq=128 fp32", "single-stream b=8 seq=128 fp32", NULL};
    CHECK_EQ_INT(series_in_chart(html, "throughput-vs-threads", thr), 4);
    CHECK_EQ_INT(count(html, "<circle"), 16);
    CHECK(strstr(html, "data-points=\"4\"") != NULL);
    /* Tooltips carry measured values: b8 t1 latest. */
    CHECK(strstr(html, "single-stream b=8 seq=128 t=1 fp32: measured p50 6.000 ms") != NULL);
    CHECK(strstr(html, "(log scale)") != NULL); /* batch 1..8 */
    CHECK(strstr(html, "No latency-vs-batch chart") != NULL);
    CHECK(strstr(html, "class=\"legend\"") != NULL);

    CHECK_EQ_INT(count(html, "<tr class=\"regression\">"), 1);
    CHECK_EQ_INT(count(html, "<tr class=\"improvement\">"), 1);
    CHECK(strstr(html, "<td class=\"verdict\">REGRESSION</td>") != NULL);
    CHECK_EQ_INT(count(html, "<td class=\"unstable\">"), 1);
    const char *pred = strstr(html, "<section id=\"predicted\"");
    REQUIRE(pred);
    CHECK(strstr(html, "123.5") > pred);
    CHECK(strstr(pred, "TEST roofline") != NULL);
    CHECK(strstr(pred, "<svg") == NULL);
    ia_free(html);
}

static void test_json(void) {
    char *text = render(db_path, IA_REPORT_JSON);
    REQUIRE(text);
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    ia_free(text);
    REQUIRE(doc);
    json_t *sum = json_object_get(doc, "summary");
    CHECK_EQ_INT(json_integer_value(json_object_get(sum, "measured_results")), 17);
    CHECK_EQ_INT(json_integer_value(json_object_get(sum, "predicted_results")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(sum, "runs")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(sum, "machines")), 2);
    json_t *groups = json_object_get(doc, "groups");
    REQUIRE(json_array_size(groups) == 2);
    json_t *bert = json_array_get(groups, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(bert, "model"), "name")),
                 "TEST-bert");
    json_t *cfgs = json_object_get(bert, "configurations");
    REQUIRE(json_array_size(cfgs) == 8);
    int regressions = 0, improvements = 0;
    for (size_t i = 0; i < 8; i++) {
        const char *v = json_string_value(
            json_object_get(json_object_get(json_array_get(cfgs, i), "change"), "verdict"));
        regressions += v && !strcmp(v, "regression");
        improvements += v && !strcmp(v, "improvement");
    }
    CHECK_EQ_INT(regressions, 1);
    CHECK_EQ_INT(improvements, 1);
    json_t *rec = json_object_get(bert, "recommendations");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(rec, "latency"), "label")),
                 "single-stream b=2 seq=128 t=2 fp32");
    json_t *pred = json_object_get(doc, "predicted");
    REQUIRE(json_array_size(pred) == 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(pred, 0), "prediction_method")),
                 "TEST roofline");
    CHECK(json_is_true(json_object_get(json_array_get(pred, 0), "is_predicted")));
    json_decref(doc);
}

static void test_empty_db(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/empty.db", dir);
    struct ia_db *db;
    REQUIRE(ia_db_open(path, 0, &db) == IA_OK);
    ia_db_close(db);
    char *md = render(path, IA_REPORT_MD);
    REQUIRE(md);
    CHECK(strstr(md, "No results yet: run `ipfs-accelerate bench MODEL`") != NULL);
    CHECK(strstr(md, "## ") == NULL);
    ia_free(md);
    char *html = render(path, IA_REPORT_HTML);
    REQUIRE(html);
    CHECK(strstr(html, "id=\"no-results\"") != NULL && strstr(html, "<svg") == NULL);
    ia_free(html);
    char *js = render(path, IA_REPORT_JSON);
    REQUIRE(js);
    json_error_t je;
    json_t *doc = json_loads(js, 0, &je);
    CHECK(doc && json_array_size(json_object_get(doc, "groups")) == 0);
    json_decref(doc);
    ia_free(js);
}

/* Odd characters in names are escaped, never interpreted. */
static void test_escaping(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/escape.db", dir);
    struct ia_db *db;
    REQUIRE(ia_db_open(path, 0, &db) == IA_OK);
    REQUIRE(ia_db_upsert_hardware(db, &hw_a) == IA_OK);
    struct ia_db_model m;
    ia_db_model_init(&m);
    m.name = "TEST<script>alert(1)</script>|x";
    int64_t model;
    REQUIRE(ia_db_upsert_model(db, &m, &model) == IA_OK);
    int64_t run = new_run(db, &hw_a);
    add(db, run, model, &hw_a, 1, 1, 1.0, 0.01);
    add(db, run, model, &hw_a, 2, 1, 2.0, 0.01);
    ia_db_close(db);
    char *html = render(path, IA_REPORT_HTML);
    REQUIRE(html);
    CHECK(strstr(html, "<script") == NULL);
    CHECK(strstr(html, "TEST&lt;script&gt;") != NULL);
    ia_free(html);
    char *md = render(path, IA_REPORT_MD);
    REQUIRE(md);
    CHECK(strstr(md, "TEST\\<script>alert(1)\\</script>\\|x") != NULL);
    ia_free(md);
}

static void test_alloc_failures(void) {
    struct ia_db *db;
    REQUIRE(ia_db_open(db_path, IA_DB_OPEN_EXISTING, &db) == IA_OK);
    struct ia_report_options o = {.format = IA_REPORT_HTML, .generated_at = "TEST-TIME"};
    int ok = 0;
    for (long k = 0; k < 400 && !ok; k += 3) {
        char *text = NULL;
        size_t len;
        ia_alloc_fail_after(k);
        int rc = ia_report_render(db, &o, &text, &len);
        ia_alloc_fail_after(-1);
        CHECK(rc == IA_OK || rc == IA_ENOMEM);
        ok = rc == IA_OK;
        ia_free(text);
    }
    CHECK(ok);
    ia_db_close(db);
}

static void test_format_parse(void) {
    enum ia_report_format f;
    CHECK(ia_report_format_parse("md", &f) == IA_OK && f == IA_REPORT_MD);
    CHECK(ia_report_format_parse("html", &f) == IA_OK && f == IA_REPORT_HTML);
    CHECK(ia_report_format_parse("json", &f) == IA_OK && f == IA_REPORT_JSON);
    CHECK_EQ_INT(ia_report_format_parse("pdf", &f), IA_EINVAL);
}

static void setup(void) {
    strcpy(dir, "/tmp/ia_test_report_XXXXXX");
    REQUIRE(mkdtemp(dir));
    db_path = make_db();
}

/* IA_TEST_KEEP=1 leaves the databases for a look. */
static void cleanup(void) {
    if (getenv("IA_TEST_KEEP")) {
        printf("kept %s\n", dir);
        return;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

TEST_MAIN(T(setup), T(test_markdown), T(test_html), T(test_json), T(test_empty_db),
          T(test_escaping), T(test_alloc_failures), T(test_format_parse), T(cleanup))
