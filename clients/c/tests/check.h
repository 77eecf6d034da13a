/* check.h — a minimal test harness for the C client's tests: CHECK macros that count and report
 * failures with file:line, and a runner that prints one line per test and a summary. */
#ifndef BATON_CHECK_H
#define BATON_CHECK_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "baton.h"

static int check_failures, check_count, check_test_failed;

#define CHECK(cond, ...)                                                                               \
    do {                                                                                               \
        check_count++;                                                                                 \
        if (!(cond)) {                                                                                 \
            check_failures++;                                                                          \
            check_test_failed = 1;                                                                     \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                 \
            fprintf(stderr, __VA_ARGS__);                                                              \
            fputc('\n', stderr);                                                                       \
        }                                                                                              \
    } while (0)

/* A call that must succeed: reports the code's name and the message otherwise. */
#define CHECK_OK(call, err)                                                                            \
    do {                                                                                               \
        int check_rc_ = (call);                                                                        \
        CHECK(check_rc_ == BATON_OK, "%s returned %s: %s", #call, baton_status_name(check_rc_),        \
              (err).message);                                                                          \
    } while (0)

/* A call that must fail with `code`. */
#define CHECK_CODE(call, want, err)                                                                    \
    do {                                                                                               \
        int check_rc_ = (call);                                                                        \
        CHECK(check_rc_ == (want) && (err).code == (want), "%s returned %s (%s), expected %s",         \
              #call, baton_status_name(check_rc_), (err).message, baton_status_name(want));            \
    } while (0)

#define CHECK_STR(actual, expected)                                                                    \
    do {                                                                                               \
        const char *check_a_ = (actual), *check_e_ = (expected);                                       \
        CHECK(check_a_ && strcmp(check_a_, check_e_) == 0, "got %s%s%s, expected \"%s\"",             \
              check_a_ ? "\"" : "", check_a_ ? check_a_ : "NULL", check_a_ ? "\"" : "", check_e_);     \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                               \
    do {                                                                                               \
        const char *check_h_ = (haystack), *check_n_ = (needle);                                       \
        CHECK(check_h_ && strstr(check_h_, check_n_), "\"%s\" does not contain \"%s\"",               \
              check_h_ ? check_h_ : "(null)", check_n_);                                               \
    } while (0)

static double check_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int check_tests, check_failed_tests;

static void check_run(const char *name, void (*fn)(void)) {
    check_test_failed = 0;
    double start = check_now();
    fn();
    check_tests++;
    if (check_test_failed) check_failed_tests++;
    printf("%-4s %s (%.2fs)\n", check_test_failed ? "FAIL" : "ok", name, check_now() - start);
    fflush(stdout);
}

#define RUN(test) check_run(#test, test)

/* Prints the summary; the exit status of the test program. */
static int check_summary(const char *program) {
    printf("%s: %d tests, %d checks, %d failed checks in %d tests: %s\n", program, check_tests, check_count,
           check_failures, check_failed_tests, check_failures ? "FAILED" : "passed");
    return check_failures ? 1 : 0;
}

#endif
