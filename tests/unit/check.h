/* A minimal test harness: CHECK records a failure and goes on, REQUIRE
 * stops the current test. TEST_MAIN runs the listed tests and prints
 * "N passed, N failed" (the line CI reads). */
#ifndef IA_TEST_CHECK_H
#define IA_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_test_failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            check_failures++;                                                \
            check_test_failed = 1;                                           \
        }                                                                    \
    } while (0)

#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                    \
            check_failures++;                                                  \
            check_test_failed = 1;                                             \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                       \
    do {                                                                         \
        long long va_ = (long long)(a), vb_ = (long long)(b);                    \
        if (va_ != vb_) {                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",    \
                    __FILE__, __LINE__, #a, #b, va_, vb_);                       \
            check_failures++;                                                    \
            check_test_failed = 1;                                               \
        }                                                                        \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                       \
    do {                                                                         \
        const char *sa_ = (a), *sb_ = (b);                                       \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
                    __FILE__, __LINE__, #a, #b, sa_ ? sa_ : "(null)",            \
                    sb_ ? sb_ : "(null)");                                       \
            check_failures++;                                                    \
            check_test_failed = 1;                                               \
        }                                                                        \
    } while (0)

struct check_test {
    const char *name;
    void (*fn)(void);
};

static inline int check_run_all(const struct check_test *tests, int n) {
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        check_test_failed = 0;
        tests[i].fn();
        if (check_test_failed) {
            failed++;
            fprintf(stderr, "FAIL %s\n", tests[i].name);
        } else {
            passed++;
            printf("ok   %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                   \
    int main(void) {                                                     \
        static const struct check_test tests_[] = {__VA_ARGS__};         \
        return check_run_all(tests_, sizeof tests_ / sizeof tests_[0]);  \
    }
#define T(fn) {#fn, fn}

#endif
