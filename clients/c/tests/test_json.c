/* test_json.c — the client's JSON parser and printer (no server needed): round trips, numbers,
 * escapes and surrogate pairs, UTF-8, nesting limits, and errors that name the position. */
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* `in` normalizes to `out`. */
static void expect_json(const char *in, const char *out) {
    baton_error err;
    char *got = NULL;
    int rc = baton_json_normalize(in, &got, &err);
    CHECK(rc == BATON_OK, "normalizing %s: %s: %s", in, baton_status_name(rc), err.message);
    if (rc == BATON_OK) CHECK(strcmp(got, out) == 0, "%s normalized to %s, expected %s", in, got, out);
    free(got);
}

/* `in` is refused with BATON_ERR_JSON and a message containing each of `parts` (NULL-terminated). */
static void expect_error(const char *in, const char *part1, const char *part2) {
    baton_error err;
    char *got = NULL;
    int rc = baton_json_normalize(in, &got, &err);
    CHECK(rc == BATON_ERR_JSON && err.code == BATON_ERR_JSON && got == NULL, "%s gave %s (%s), expected JSON_SYNTAX",
          in, baton_status_name(rc), got ? got : err.message);
    if (part1) CHECK_CONTAINS(err.message, part1);
    if (part2) CHECK_CONTAINS(err.message, part2);
    free(got);
}

static void test_round_trip_and_key_order(void) {
    expect_json("{\"b\":1,\"a\":[1,2.5,-3,true,false,null,\"x\"]}", "{\"a\":[1,2.5,-3,true,false,null,\"x\"],\"b\":1}");
    expect_json("  [ 1 ,\t2 ,\r\n {} , [] , \"\" ]  \n", "[1,2,{},[],\"\"]");
    expect_json("{\"z\":{\"y\":{\"x\":[{\"b\":null,\"a\":0}]}}}", "{\"z\":{\"y\":{\"x\":[{\"a\":0,\"b\":null}]}}}");
    expect_json("\"just a string\"", "\"just a string\"");
    expect_json("null", "null");
    expect_json("true", "true");
}

static void test_integers_stay_integers(void) {
    expect_json("42", "42");
    expect_json("-7", "-7");
    expect_json("0", "0");
    expect_json("-0", "0");
    expect_json("1e3", "1000");
    expect_json("2.0", "2");
    expect_json("1234567890123", "1234567890123");
    expect_json("9007199254740992", "9007199254740992");
    expect_json("[100000000000000000000]", "[100000000000000000000]");
    /* Beyond 2^53 a double cannot hold every integer: the nearest one comes back. */
    expect_json("9007199254740993", "9007199254740992");
}

static void test_other_numbers_use_the_fewest_digits(void) {
    expect_json("0.1", "0.1");
    expect_json("2.5", "2.5");
    expect_json("-123.456", "-123.456");
    expect_json("1e-7", "1e-7");
    expect_json("1E+21", "1e+21");
    expect_json("1.5e300", "1.5e+300");
    expect_json("0.30000000000000004", "0.30000000000000004");
    expect_json("5e-324", "5e-324");
}

static void test_strings_escapes_and_unicode(void) {
    expect_json("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\"");
    expect_json("\"caf\\u00e9\"", "\"caf\xC3\xA9\"");
    expect_json("\"\\u20AC\"", "\"\xE2\x82\xAC\"");
    expect_json("\"\\ud83d\\ude00\"", "\"\xF0\x9F\x98\x80\"");   /* a surrogate pair: U+1F600 */
    expect_json("\"\\uD834\\uDD1E\"", "\"\xF0\x9D\x84\x9E\"");   /* U+1D11E, upper-case hex */
    expect_json("\"\xE6\x97\xA5\xE6\x9C\xAC\"", "\"\xE6\x97\xA5\xE6\x9C\xAC\""); /* raw UTF-8 kept */
    expect_json("\"\\u0001\\u001f\"", "\"\\u0001\\u001f\"");     /* control characters escaped */
    expect_json("{\"k\\u00e9y\":1}", "{\"k\xC3\xA9y\":1}");
}

static void test_nesting_is_bounded_at_32(void) {
    char ok[80], deep[80];
    memset(ok, '[', 32);
    memset(ok + 32, ']', 32);
    ok[64] = '\0';
    expect_json(ok, ok);
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = '\0';
    expect_error(deep, "nesting deeper than 32 levels", "column 33");
    char objects[400] = "";
    for (int i = 0; i < 33; i++) strcat(objects, "{\"a\":");
    strcat(objects, "1");
    for (int i = 0; i < 33; i++) strcat(objects, "}");
    expect_error(objects, "nesting deeper than 32 levels", "line 1");
}

static void test_errors_name_the_position(void) {
    expect_error("{\"a\": }", "expected a value", "line 1, column 7");
    expect_error("[1,2", "unexpected end of text", "column 5");
    expect_error("{\"a\":1,}", "expected a string key", "column 8");
    expect_error("{\"a\" 1}", "expected ':'", "column 6");
    expect_error("[1 2]", "expected ',' or ']'", "column 4");
    expect_error("1 2", "the end of the text", "column 3");
    expect_error("", "unexpected end of text", "line 1, column 1");
    expect_error("   ", "unexpected end of text", "column 4");
    expect_error("{\n  \"a\": [1,\n   x]}", "unexpected character 'x'", "line 3, column 4");
    expect_error("[\"\xC3\xA9\", x]", "unexpected character 'x'", "column 7"); /* columns count characters */
    expect_error("01", "leading zero", "column 1");
    expect_error("1.", "digit after the decimal point", NULL);
    expect_error("1e+", "digit in the exponent", NULL);
    expect_error("-", "expected a digit", NULL);
    expect_error("+1", "unexpected character '+'", NULL);
    expect_error("1e999", "out of range", NULL);
    expect_error("tru", "invalid literal (expected true)", NULL);
    expect_error("nul", "invalid literal (expected null)", NULL);
    expect_error("\"abc", "unterminated string", "column 1");
    expect_error("\"a\x01\"", "control character 0x01", "column 3");
    expect_error("\"\xFF\"", "invalid UTF-8", NULL);
    expect_error("\"\xC0\xAF\"", "invalid UTF-8", NULL);          /* overlong */
    expect_error("\"\xED\xA0\x80\"", "invalid UTF-8", NULL);      /* an encoded surrogate */
    expect_error("\"\\x\"", "invalid escape '\\x'", NULL);
    expect_error("\"\\u12\"", "four hex digits", NULL);
    expect_error("\"\\ud800\"", "high surrogate \\uD800 not followed by a low surrogate", NULL);
    expect_error("\"\\ud800\\u0041\"", "not followed by a low surrogate", NULL);
    expect_error("\"\\udc00\"", "unpaired low surrogate", NULL);
    expect_error("\"\\u0000\"", "\\u0000 is not supported", NULL);
    expect_error("{\"a\":1,\"b\":2,\"a\":3}", "repeated key \"a\" in the object", "column 1");
    expect_error("NaN", "unexpected character 'N'", NULL);
}

static void test_bad_arguments(void) {
    baton_error err;
    char *out = NULL;
    CHECK_CODE(baton_json_normalize(NULL, &out, &err), BATON_ERR_USAGE, err);
    CHECK_CODE(baton_json_normalize("1", NULL, &err), BATON_ERR_USAGE, err);
    CHECK(baton_json_normalize("{", &out, NULL) == BATON_ERR_JSON, "a NULL error pointer is allowed");
}

static void test_status_names(void) {
    CHECK_STR(baton_status_name(BATON_OK), "OK");
    CHECK_STR(baton_status_name(BATON_NOT_FOUND), "NOT_FOUND");
    CHECK_STR(baton_status_name(BATON_FAILED_PRECONDITION), "FAILED_PRECONDITION");
    CHECK_STR(baton_status_name(BATON_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
    CHECK_STR(baton_status_name(BATON_UNAUTHENTICATED), "UNAUTHENTICATED");
    CHECK_STR(baton_status_name(BATON_ERR_CONNECT), "CONNECT_FAILED");
    CHECK_STR(baton_status_name(BATON_ERR_JSON), "JSON_SYNTAX");
    CHECK_STR(baton_status_name(BATON_ERR_PROTOCOL), "PROTOCOL_ERROR");
    CHECK_STR(baton_status_name(17), "UNRECOGNIZED");
    CHECK_STR(baton_status_name(-1), "UNRECOGNIZED");
    CHECK_STR(baton_workflow_status_name(BATON_WORKFLOW_COMPLETED), "COMPLETED");
    CHECK_STR(baton_workflow_status_name(99), "UNSPECIFIED");
    CHECK_STR(baton_step_status_name(BATON_STEP_RETRYING), "RETRYING");
}

int main(void) {
    RUN(test_round_trip_and_key_order);
    RUN(test_integers_stay_integers);
    RUN(test_other_numbers_use_the_fewest_digits);
    RUN(test_strings_escapes_and_unicode);
    RUN(test_nesting_is_bounded_at_32);
    RUN(test_errors_name_the_position);
    RUN(test_bad_arguments);
    RUN(test_status_names);
    return check_summary("test_json");
}
