/*
 * onnx_node_runner: runs ONNX backend node-test cases (a folder with
 * model.onnx and test_data_set_N/{input,output}_K.pb) through the engine
 * and compares the outputs as ONNX's backend runner does:
 * np.testing.assert_allclose(rtol=1e-3, atol=1e-7) for floating types (NaN
 * equals NaN, infinities must match), exact for integers, bools and
 * strings; dtypes and shapes must match exactly. Sequences compare item by
 * item, an empty optional only with another; each .pb is read as the
 * message the model declares for it (TensorProto, SequenceProto or
 * OptionalProto).
 *
 *   onnx_node_runner [options] DIR...
 *     DIR: a case folder, or a folder of case folders (test_*)
 *     -s, --summary        per-op table and totals at the end
 *     -r, --required FILE  op list for the table's "required" column
 *     -e, --expect FILE    check the results against FILE (see
 *                          node_suite_expected.txt): exit 1 when a listed
 *                          op has a case that does not pass, or fewer
 *                          cases pass than its min_pass line
 *     -f, --filter TEXT    only cases whose folder name contains TEXT
 *     -j, --jobs N         cases run at once (default 1)
 *     -t, --timeout S      seconds per case (default 60)
 *     --no-fork            run in this process (no crash isolation)
 *     -q, --quiet          print only non-passing cases
 *     -P, --passing-ops    list the ops whose every case passes (for
 *                          extending node_suite_expected.txt)
 *
 * A case's op is the op types of its model's main-graph nodes (Constant
 * nodes are ignored when other ops are present); a model of several op
 * types is listed under "A+B+...". Statuses: PASS, FAIL (first mismatch),
 * UNSUPPORTED (no kernel, or a type we lack), CRASH, TIMEOUT. Each case runs
 * in a child process (unless --no-fork) so one crash or hang cannot stop
 * the suite. Exit status: 0 when every case ran (whatever it found) and
 * the expectations held, 1 otherwise, 2 on usage errors.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ia/core.h"
#include "ia/engine.h"
#include "ia/onnx.h"
#include "ia/tensor_io.h"

enum status { ST_PASS = 0, ST_FAIL, ST_UNSUPPORTED, ST_CRASH, ST_TIMEOUT, ST_COUNT };
static const char *const st_name[] = {"PASS", "FAIL", "UNSUPPORTED", "CRASH", "TIMEOUT"};

#define MSG_CAP 1200
#define OP_CAP 256

struct result {
    enum status st;
    char op[OP_CAP];
    char msg[MSG_CAP];
    int done;
};

struct opts {
    int summary, quiet, jobs, no_fork, timeout, print_passing;
    const char *required, *expect, *filter;
};

/* ---- comparison ---------------------------------------------------------------- */

static int is_float(enum ia_dtype t) {
    return t == IA_DTYPE_FLOAT32 || t == IA_DTYPE_FLOAT64 || t == IA_DTYPE_FLOAT16 ||
           t == IA_DTYPE_BFLOAT16;
}

static void shape_str(const struct ia_tensor *t, char *buf, size_t cap) {
    ia_tensor_describe(t, buf, cap);
}

/* 0 when equal; else a message in msg. */
static int compare(const char *name, const struct ia_tensor *got, const struct ia_tensor *exp,
                   char *msg, size_t cap) {
    char a[128], b[128];
    if (got->dtype != exp->dtype || !ia_tensor_same_shape(got, exp)) {
        shape_str(got, a, sizeof a);
        shape_str(exp, b, sizeof b);
        snprintf(msg, cap, "output '%s': got %s, expected %s", name, a, b);
        return 1;
    }
    const double rtol = 1e-3, atol = 1e-7;
    uint64_t n = exp->numel, bad = 0, first = 0;
    double fg = 0, fe = 0;
    for (uint64_t i = 0; i < n; i++) {
        int ok;
        if (exp->dtype == IA_DTYPE_STRING) {
            const struct ia_onnx_bytes *x = got->strings ? got->strings : got->data;
            const struct ia_onnx_bytes *y = exp->strings ? exp->strings : exp->data;
            ok = x[i].len == y[i].len && (!x[i].len || !memcmp(x[i].data, y[i].data, x[i].len));
            if (!ok && !bad) {
                snprintf(msg, cap, "output '%s' element %llu: got \"%.*s\", expected \"%.*s\"",
                         name, (unsigned long long)i, (int)(x[i].len > 60 ? 60 : x[i].len),
                         x[i].data ? (const char *)x[i].data : "",
                         (int)(y[i].len > 60 ? 60 : y[i].len),
                         y[i].data ? (const char *)y[i].data : "");
            }
        } else if (is_float(exp->dtype)) {
            double x = ia_tensor_get_f64(got, i), y = ia_tensor_get_f64(exp, i);
            if (isnan(y) || isnan(x))
                ok = isnan(x) && isnan(y);
            else if (isinf(y) || isinf(x))
                ok = x == y;
            else
                ok = fabs(x - y) <= atol + rtol * fabs(y);
            if (!ok && !bad) fg = x, fe = y;
        } else if (exp->dtype == IA_DTYPE_UINT64) {
            ok = ((const uint64_t *)got->data)[i] == ((const uint64_t *)exp->data)[i];
            if (!ok && !bad)
                fg = (double)((const uint64_t *)got->data)[i],
                fe = (double)((const uint64_t *)exp->data)[i];
        } else {
            int64_t x = ia_tensor_get_i64(got, i), y = ia_tensor_get_i64(exp, i);
            ok = x == y;
            if (!ok && !bad) fg = (double)x, fe = (double)y;
        }
        if (!ok) {
            if (!bad) first = i;
            bad++;
        }
    }
    if (!bad) return 0;
    if (exp->dtype != IA_DTYPE_STRING) {
        shape_str(exp, b, sizeof b);
        snprintf(
            msg, cap,
            "output '%s' %s: %llu of %llu elements differ; first at %llu: got %.9g, expected %.9g",
            name, b, (unsigned long long)bad, (unsigned long long)n, (unsigned long long)first, fg,
            fe);
    }
    return 1;
}

/* Sequences item by item; an empty optional only equals another. */
static int compare_value(const char *name, const struct ia_tensor *got,
                         const struct ia_tensor *exp, char *msg, size_t cap) {
    static const char *const kinds[] = {"a tensor", "a sequence", "an empty optional"};
    if (got->kind != exp->kind) {
        snprintf(msg, cap, "output '%s': got %s, expected %s", name,
                 got->kind <= IA_KIND_NONE ? kinds[got->kind] : "?",
                 exp->kind <= IA_KIND_NONE ? kinds[exp->kind] : "?");
        return 1;
    }
    if (exp->kind == IA_KIND_NONE) return 0;
    if (exp->kind == IA_KIND_TENSOR) return compare(name, got, exp, msg, cap);
    if (got->n_items != exp->n_items) {
        snprintf(msg, cap, "output '%s': got a sequence of %zu, expected %zu", name, got->n_items,
                 exp->n_items);
        return 1;
    }
    for (size_t i = 0; i < exp->n_items; i++) {
        char item[160];
        snprintf(item, sizeof item, "%s[%zu]", name, i);
        if (compare(item, &got->items[i], &exp->items[i], msg, cap)) return 1;
    }
    return 0;
}

/* ---- one case -------------------------------------------------------------------- */

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The op key of a model: sorted distinct op types (Constant dropped when
 * there are others), joined with '+'. */
static void op_key(const struct ia_model *m, char *out, size_t cap) {
    const char *types[64];
    size_t n = 0, n_nonconst = 0;
    for (size_t i = 0; i < m->graph.n_nodes && n < 64; i++) {
        const char *t = m->graph.nodes[i].op_type;
        size_t k = 0;
        for (; k < n; k++)
            if (!strcmp(types[k], t)) break;
        if (k == n) {
            types[n++] = t;
            n_nonconst += strcmp(t, "Constant") != 0;
        }
    }
    qsort(types, n, sizeof *types, cmp_str);
    out[0] = '\0';
    size_t len = 0;
    for (size_t k = 0; k < n; k++) {
        if (n_nonconst && !strcmp(types[k], "Constant")) continue;
        len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? "+" : "",
                                types[k]);
    }
    if (!out[0]) snprintf(out, cap, "(none)");
}

static int unsupported_rc(int rc) { return rc == IA_EUNSUPPORTED; }

static void set_msg(struct result *r, enum status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(struct result *r, enum status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    for (char *p = r->msg; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
    r->st = st;
}

static int run_dataset(struct ia_session *s, const struct ia_model *m, const char *dir,
                       struct result *r) {
    (void)m;
    char path[4096 + 64]; /* dir is at most 4095 bytes */
    struct ia_tensor *ins[64] = {0}, *exps[64] = {0};
    const char *names[64];
    size_t n_in = 0, n_exp = 0;
    int rc = 0;
    for (; n_in < 64; n_in++) {
        snprintf(path, sizeof path, "%s/input_%zu.pb", dir, n_in);
        if (!exists(path)) break;
        if (n_in >= ia_session_n_inputs(s)) {
            set_msg(r, ST_FAIL, "%s: more input files than model inputs", dir);
            rc = 1;
            goto out;
        }
        /* A .pb does not say whether it is a TensorProto, SequenceProto or
         * OptionalProto: the model's declaration does. */
        int e = ia_tensor_io_read_value(path, ia_session_input(s, n_in)->type, &ins[n_in]);
        if (e) {
            set_msg(r, unsupported_rc(e) ? ST_UNSUPPORTED : ST_FAIL, "%s", ia_error_msg());
            rc = 1;
            goto out;
        }
        names[n_in] = ia_session_input(s, n_in)->name;
        /* ONNX writes bfloat16 test data as uint16 bit patterns. */
        if (ins[n_in]->kind == IA_KIND_TENSOR && ins[n_in]->dtype == IA_DTYPE_UINT16 &&
            ia_session_input(s, n_in)->dtype == IA_DTYPE_BFLOAT16)
            ins[n_in]->dtype = IA_DTYPE_BFLOAT16;
    }
    for (; n_exp < 64; n_exp++) {
        snprintf(path, sizeof path, "%s/output_%zu.pb", dir, n_exp);
        if (!exists(path)) break;
        const struct ia_session_value *ov = ia_session_output(s, n_exp);
        int e = ia_tensor_io_read_value(path, ov ? ov->type : IA_ONNX_TYPE_TENSOR, &exps[n_exp]);
        if (e) {
            set_msg(r, unsupported_rc(e) ? ST_UNSUPPORTED : ST_FAIL, "%s", ia_error_msg());
            rc = 1;
            goto out;
        }
    }
    size_t n_out = ia_session_n_outputs(s);
    if (n_exp != n_out) {
        set_msg(r, ST_FAIL, "%s: %zu expected outputs for a model with %zu", dir, n_exp, n_out);
        rc = 1;
        goto out;
    }
    struct ia_tensor *const *outs;
    int e = ia_session_run(s, n_in, names, (const struct ia_tensor *const *)ins, n_out, &outs);
    if (e) {
        set_msg(r, unsupported_rc(e) ? ST_UNSUPPORTED : ST_FAIL, "run: %s", ia_error_msg());
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < n_out; i++) {
        char msg[MSG_CAP];
        if (exps[i]->kind == IA_KIND_TENSOR && exps[i]->dtype == IA_DTYPE_UINT16 &&
            outs[i]->dtype == IA_DTYPE_BFLOAT16 &&
            ia_session_output(s, i)->dtype == IA_DTYPE_BFLOAT16)
            exps[i]->dtype = IA_DTYPE_BFLOAT16;
        if (compare_value(ia_session_output(s, i)->name, outs[i], exps[i], msg, sizeof msg)) {
            set_msg(r, ST_FAIL, "%s", msg);
            rc = 1;
            goto out;
        }
    }
out:
    for (size_t i = 0; i < 64; i++) {
        ia_tensor_io_free(ins[i]);
        ia_tensor_io_free(exps[i]);
    }
    return rc;
}

static void run_case(const char *dir, struct result *r) {
    char path[4096];
    r->st = ST_PASS;
    r->msg[0] = '\0';
    const char *base = strrchr(dir, '/');
    snprintf(r->op, sizeof r->op, "(%s)", base ? base + 1 : dir);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    struct ia_model *m = NULL;
    int rc = ia_onnx_load(path, &m);
    if (rc) {
        const char *msg = ia_error_msg();
        set_msg(r, rc == IA_EUNSUPPORTED || strstr(msg, "not supported") ? ST_UNSUPPORTED : ST_FAIL,
                "load: %s", msg);
        return;
    }
    op_key(m, r->op, sizeof r->op);
    /* Some of the suite's data disagrees with the declared shapes
     * (castlike_*: 'like' is [1], declared [3,4]); ONNX's runner does not
     * check them either. */
    struct ia_session_opts so = {.threads = 1, .no_shape_check = 1};
    struct ia_session *s = NULL;
    rc = ia_session_create(m, &so, &s);
    if (rc) {
        set_msg(r, unsupported_rc(rc) ? ST_UNSUPPORTED : ST_FAIL, "create: %s", ia_error_msg());
        ia_model_free(m);
        return;
    }
    DIR *d = opendir(dir);
    char *sets[256];
    size_t n_sets = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n_sets < 256)
        if (!strncmp(e->d_name, "test_data_set_", 14)) sets[n_sets++] = strdup(e->d_name);
    if (d) closedir(d);
    qsort(sets, n_sets, sizeof *sets, cmp_str);
    if (!n_sets) set_msg(r, ST_FAIL, "no test_data_set_* folder");
    for (size_t i = 0; i < n_sets; i++) {
        if (r->st == ST_PASS) {
            snprintf(path, sizeof path, "%s/%s", dir, sets[i]);
            run_dataset(s, m, path, r);
        }
        free(sets[i]);
    }
    ia_session_destroy(s);
    ia_model_free(m);
}

/* ---- driver ---------------------------------------------------------------------- */

struct job {
    pid_t pid;
    int fd;
    size_t idx;
};

static void child_run(const char *dir, int fd, int timeout) {
    struct result r;
    memset(&r, 0, sizeof r);
    signal(SIGALRM, SIG_DFL);
    alarm((unsigned)timeout);
    run_case(dir, &r);
    char line[MSG_CAP + OP_CAP + 16];
    int n = snprintf(line, sizeof line, "%d\t%s\t%s", (int)r.st, r.op, r.msg);
    if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
    ssize_t w = write(fd, line, (size_t)n);
    (void)w;
    _exit(0);
}

static void parse_child(struct result *r, const char *buf, size_t len, int status) {
    r->done = 1;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        r->st = sig == SIGALRM ? ST_TIMEOUT : ST_CRASH;
        snprintf(r->msg, sizeof r->msg, sig == SIGALRM ? "timed out" : "killed by signal %d (%s)",
                 sig, strsignal(sig));
        return;
    }
    if (!len) {
        r->st = ST_CRASH;
        snprintf(r->msg, sizeof r->msg, "exited with status %d and no result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return;
    }
    char tmp[MSG_CAP + OP_CAP + 16];
    memcpy(tmp, buf, len);
    tmp[len] = '\0';
    char *t1 = strchr(tmp, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t1 || !t2) {
        r->st = ST_CRASH;
        snprintf(r->msg, sizeof r->msg, "garbled result");
        return;
    }
    *t1 = *t2 = '\0';
    r->st = (enum status)atoi(tmp);
    if (r->st >= ST_COUNT) r->st = ST_CRASH;
    snprintf(r->op, sizeof r->op, "%s", t1 + 1);
    snprintf(r->msg, sizeof r->msg, "%s", t2 + 1);
}

static void print_result(const char *dir, const struct result *r, int quiet) {
    if (quiet && r->st == ST_PASS) return;
    const char *base = strrchr(dir, '/');
    printf("%-11s %s [%s]%s%s\n", st_name[r->st], base ? base + 1 : dir, r->op,
           r->msg[0] ? ": " : "", r->msg);
    fflush(stdout);
}

static int collect_cases(const char *arg, const char *filter, char ***list, size_t *n,
                         size_t *cap) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", arg);
    if (exists(path)) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *list = realloc(*list, *cap * sizeof **list);
        }
        (*list)[(*n)++] = strdup(arg);
        return 0;
    }
    DIR *d = opendir(arg);
    if (!d) {
        fprintf(stderr, "onnx_node_runner: %s: %s\n", arg, strerror(errno));
        return -1;
    }
    struct dirent *e;
    size_t start = *n;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (filter && !strstr(e->d_name, filter)) continue;
        snprintf(path, sizeof path, "%s/%s/model.onnx", arg, e->d_name);
        if (!exists(path)) continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *list = realloc(*list, *cap * sizeof **list);
        }
        snprintf(path, sizeof path, "%s/%s", arg, e->d_name);
        (*list)[(*n)++] = strdup(path);
    }
    closedir(d);
    qsort(*list + start, *n - start, sizeof **list, cmp_str);
    return 0;
}

/* ---- summary and expectations ------------------------------------------------------- */

struct op_row {
    char op[OP_CAP];
    int n[ST_COUNT];
    int required;
};

static struct op_row *row_for(struct op_row **rows, size_t *n, const char *op) {
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*rows)[i].op, op)) return &(*rows)[i];
    *rows = realloc(*rows, (*n + 1) * sizeof **rows);
    struct op_row *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->op, sizeof r->op, "%s", op);
    return r;
}

static int cmp_row(const void *a, const void *b) {
    const struct op_row *x = a, *y = b;
    int mx = strchr(x->op, '+') != NULL, my = strchr(y->op, '+') != NULL;
    if (mx != my) return mx - my;
    return strcmp(x->op, y->op);
}

/* Reads a list of words (one per line, '#' comments); "min_pass N" lines set *min_pass. */
static char **read_list(const char *path, size_t *n, long *min_pass) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "onnx_node_runner: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char line[512];
    char **list = NULL;
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        char *h = strchr(line, '#');
        if (h) *h = '\0';
        char *tok = strtok(line, " \t\r\n");
        while (tok) {
            if (!strcmp(tok, "min_pass")) {
                char *v = strtok(NULL, " \t\r\n");
                if (v && min_pass) *min_pass = atol(v);
            } else {
                list = realloc(list, (*n + 1) * sizeof *list);
                list[(*n)++] = strdup(tok);
            }
            tok = strtok(NULL, " \t\r\n");
        }
    }
    fclose(f);
    if (!list) list = calloc(1, sizeof *list);
    return list;
}

static int report(struct result *res, char **cases, size_t n, const struct opts *o) {
    struct op_row *rows = NULL;
    size_t n_rows = 0;
    int tot[ST_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        row_for(&rows, &n_rows, res[i].op)->n[res[i].st]++;
        tot[res[i].st]++;
    }
    size_t n_req = 0;
    char **req = NULL;
    if (o->required) {
        req = read_list(o->required, &n_req, NULL);
        if (!req) {
            free(rows);
            return 1;
        }
        for (size_t i = 0; i < n_req; i++) row_for(&rows, &n_rows, req[i])->required = 1;
    }
    qsort(rows, n_rows, sizeof *rows, cmp_row);
    int req_full = 0;
    if (o->summary) {
        printf("\n%-40s %4s %6s %6s %7s %6s %6s\n", "op", "req", "pass", "fail", "unsupp", "crash",
               "total");
        for (size_t i = 0; i < n_rows; i++) {
            const struct op_row *r = &rows[i];
            int total = 0;
            for (int k = 0; k < ST_COUNT; k++) total += r->n[k];
            int full = total && r->n[ST_PASS] == total;
            if (r->required && full) req_full++;
            printf("%-40s %4s %6d %6d %7d %6d %6d%s\n", r->op, r->required ? "*" : "",
                   r->n[ST_PASS], r->n[ST_FAIL], r->n[ST_UNSUPPORTED],
                   r->n[ST_CRASH] + r->n[ST_TIMEOUT], total,
                   r->required && !total ? "  (no cases)" : "");
        }
        printf("%-40s %4s %6d %6d %7d %6d %6zu\n", "TOTAL", "", tot[ST_PASS], tot[ST_FAIL],
               tot[ST_UNSUPPORTED], tot[ST_CRASH] + tot[ST_TIMEOUT], n);
        if (o->required)
            printf("required ops with every case passing: %d of %zu\n", req_full, n_req);
    }
    if (o->print_passing) {
        printf("\nops with every case passing:\n");
        for (size_t i = 0; i < n_rows; i++) {
            const struct op_row *r = &rows[i];
            int total = 0;
            for (int k = 0; k < ST_COUNT; k++) total += r->n[k];
            if (total && r->n[ST_PASS] == total) printf("%s\n", r->op);
        }
    }
    int rc = tot[ST_CRASH] + tot[ST_TIMEOUT] ? 1 : 0;
    if (rc) printf("%d case(s) crashed or timed out\n", tot[ST_CRASH] + tot[ST_TIMEOUT]);
    if (o->expect) {
        long min_pass = 0;
        size_t n_exp;
        char **exp = read_list(o->expect, &n_exp, &min_pass);
        if (!exp) rc = 1;
        for (size_t i = 0; exp && i < n_exp; i++) {
            int found = 0;
            for (size_t k = 0; k < n; k++) {
                if (strcmp(res[k].op, exp[i])) continue;
                found = 1;
                if (res[k].st != ST_PASS) {
                    const char *b = strrchr(cases[k], '/');
                    printf("EXPECTATION: %s is listed as passing but %s is %s\n", exp[i],
                           b ? b + 1 : cases[k], st_name[res[k].st]);
                    rc = 1;
                }
            }
            if (!found && !o->filter) {
                printf("EXPECTATION: %s is listed as passing but no case has it\n", exp[i]);
                rc = 1;
            }
            free(exp[i]);
        }
        free(exp);
        if (!exp) {
        } else if (!o->filter && tot[ST_PASS] < min_pass) {
            printf("EXPECTATION: %d cases pass, fewer than the recorded floor of %ld\n",
                   tot[ST_PASS], min_pass);
            rc = 1;
        } else if (!o->filter) {
            printf("expectations held: %d cases pass (floor %ld)\n", tot[ST_PASS], min_pass);
        }
    }
    for (size_t i = 0; i < n_req; i++) free(req[i]);
    free(req);
    free(rows);
    return rc;
}

static void usage(FILE *f) {
    fprintf(f, "usage: onnx_node_runner [-s] [-q] [-r REQUIRED] [-e EXPECTED] [-f TEXT] [-j N] "
               "[-t SECONDS] [-P] [--no-fork] DIR...\n");
}

int main(int argc, char **argv) {
    struct opts o = {.jobs = 1, .timeout = 60};
    static const struct option lo[] = {{"summary", no_argument, NULL, 's'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"required", required_argument, NULL, 'r'},
                                       {"expect", required_argument, NULL, 'e'},
                                       {"filter", required_argument, NULL, 'f'},
                                       {"jobs", required_argument, NULL, 'j'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"no-fork", no_argument, NULL, 'F'},
                                       {"passing-ops", no_argument, NULL, 'P'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "sqPr:e:f:j:t:h", lo, NULL)) != -1) {
        switch (c) {
        case 's':
            o.summary = 1;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'P':
            o.print_passing = 1;
            break;
        case 'r':
            o.required = optarg;
            break;
        case 'e':
            o.expect = optarg;
            break;
        case 'f':
            o.filter = optarg;
            break;
        case 'j':
            o.jobs = atoi(optarg) > 0 ? atoi(optarg) : 1;
            break;
        case 't':
            o.timeout = atoi(optarg) > 0 ? atoi(optarg) : 60;
            break;
        case 'F':
            o.no_fork = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    char **cases = NULL;
    size_t n = 0, cap = 0;
    for (int i = optind; i < argc; i++)
        if (collect_cases(argv[i], o.filter, &cases, &n, &cap)) return 2;
    struct result *res = calloc(n ? n : 1, sizeof *res);
    size_t next_print = 0;
    if (o.no_fork) {
        for (size_t i = 0; i < n; i++) {
            run_case(cases[i], &res[i]);
            res[i].done = 1;
            print_result(cases[i], &res[i], o.quiet);
        }
    } else {
        struct job *jobs = calloc((size_t)o.jobs, sizeof *jobs);
        size_t next = 0, running = 0;
        while (next < n || running) {
            while (running < (size_t)o.jobs && next < n) {
                int p[2];
                if (pipe(p) != 0) {
                    perror("pipe");
                    return 1;
                }
                fflush(stdout);
                pid_t pid = fork();
                if (pid == 0) {
                    close(p[0]);
                    child_run(cases[next], p[1], o.timeout);
                }
                close(p[1]);
                if (pid < 0) {
                    perror("fork");
                    return 1;
                }
                for (int j = 0; j < o.jobs; j++)
                    if (!jobs[j].pid) {
                        jobs[j] = (struct job){pid, p[0], next};
                        break;
                    }
                next++;
                running++;
            }
            int status;
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0) {
                if (errno == EINTR) continue;
                perror("waitpid");
                return 1;
            }
            for (int j = 0; j < o.jobs; j++) {
                if (jobs[j].pid != pid) continue;
                char buf[MSG_CAP + OP_CAP + 16];
                size_t len = 0;
                ssize_t r;
                while (len < sizeof buf - 1 &&
                       (r = read(jobs[j].fd, buf + len, sizeof buf - 1 - len)) > 0)
                    len += (size_t)r;
                close(jobs[j].fd);
                struct result *rr = &res[jobs[j].idx];
                const char *b = strrchr(cases[jobs[j].idx], '/');
                snprintf(rr->op, sizeof rr->op, "(%s)", b ? b + 1 : cases[jobs[j].idx]);
                parse_child(rr, buf, len, status);
                jobs[j].pid = 0;
                running--;
            }
            while (next_print < n && res[next_print].done) {
                print_result(cases[next_print], &res[next_print], o.quiet);
                next_print++;
            }
        }
        free(jobs);
    }
    int rc = report(res, cases, n, &o);
    for (size_t i = 0; i < n; i++) free(cases[i]);
    free(cases);
    free(res);
    return rc;
}
