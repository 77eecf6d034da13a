/* json.c — JSON text <-> google.protobuf.Value.
 *
 * The parser takes RFC 8259 JSON: one value, UTF-8 (checked), strings with every escape including
 * \uXXXX and surrogate pairs, numbers as doubles (google.protobuf.Value's only number type), and
 * nesting up to BT_JSON_MAX_DEPTH arrays/objects. Errors name the line, column and byte offset.
 * Objects with a repeated key are refused (a Struct holds one value per key). "\u0000" is refused
 * too: protobuf-c strings end at the first NUL.
 *
 * The printer writes compact JSON with object keys sorted bytewise (the server's map order is not
 * stable), integral numbers without a fraction (up to 1e21, like JavaScript), other numbers with
 * the fewest digits that read back to the same double, and non-finite numbers as null.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct parser {
    const char *text;
    size_t len;
    size_t pos;
    int depth;
    const char *what;
    baton_error *err;
} parser;

/* ---- errors with positions ---- */

static int parse_error(parser *p, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int parse_error(parser *p, size_t at, const char *fmt, ...) {
    int line = 1, column = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        unsigned char c = (unsigned char)p->text[i];
        if (c == '\n') {
            line++;
            column = 1;
        } else if ((c & 0xC0) != 0x80) { /* count characters, not UTF-8 continuation bytes */
            column++;
        }
    }
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    bt_fail(p->err, BATON_ERR_JSON, "%s is not valid JSON: %s at line %d, column %d (byte offset %zu)",
            p->what, what, line, column, at);
    return -1;
}

static int unexpected(parser *p, const char *expected) {
    if (p->pos >= p->len) return parse_error(p, p->pos, "unexpected end of text, expected %s", expected);
    unsigned char c = (unsigned char)p->text[p->pos];
    if (c >= 0x20 && c < 0x7F)
        return parse_error(p, p->pos, "unexpected character '%c', expected %s", c, expected);
    return parse_error(p, p->pos, "unexpected byte 0x%02X, expected %s", c, expected);
}

static int no_memory(parser *p) {
    bt_fail(p->err, BATON_ERR_NO_MEMORY, "out of memory while parsing %s", p->what);
    return -1;
}

/* ---- values ---- */

static Google__Protobuf__Value *new_value(void) {
    Google__Protobuf__Value *v = malloc(sizeof *v);
    if (v) google__protobuf__value__init(v);
    return v;
}

static void free_value(Google__Protobuf__Value *v) {
    if (v) google__protobuf__value__free_unpacked(v, NULL);
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int parse_value(parser *p, Google__Protobuf__Value **out);

static int literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos >= n && memcmp(p->text + p->pos, word, n) == 0) {
        p->pos += n;
        return 0;
    }
    return parse_error(p, p->pos, "invalid literal (expected %s)", word);
}

static int hex4(parser *p, size_t at, unsigned *out) {
    if (p->len - at < 4) return parse_error(p, at, "\\u needs four hex digits");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->text[at + i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return parse_error(p, at + i, "\\u needs four hex digits");
    }
    *out = v;
    return 0;
}

static void put_utf8(bt_buf *b, unsigned cp) {
    char s[4];
    size_t n;
    if (cp < 0x80) {
        s[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        s[0] = (char)(0xC0 | (cp >> 6));
        s[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        s[0] = (char)(0xE0 | (cp >> 12));
        s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        s[0] = (char)(0xF0 | (cp >> 18));
        s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    bt_buf_put(b, s, n);
}

/* Length of the valid UTF-8 sequence at text[at] (2..4), or 0 if it is not one. */
static size_t utf8_sequence(const parser *p, size_t at) {
    const unsigned char *s = (const unsigned char *)p->text + at;
    size_t left = p->len - at;
    unsigned c = s[0];
    size_t n;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (left < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Parses a string starting at the opening quote; *out is a NUL-terminated malloc'd copy. */
static int parse_string(parser *p, char **out) {
    size_t start = p->pos;
    bt_buf b = {0};
    p->pos++; /* the opening quote */
    for (;;) {
        if (p->pos >= p->len) {
            bt_buf_free(&b);
            return parse_error(p, start, "unterminated string");
        }
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            bt_buf_free(&b);
            return parse_error(p, p->pos, "control character 0x%02X in a string (escape it)", c);
        }
        if (c == '\\') {
            size_t at = p->pos;
            if (p->pos + 1 >= p->len) {
                bt_buf_free(&b);
                return parse_error(p, start, "unterminated string");
            }
            char e = p->text[p->pos + 1];
            p->pos += 2;
            switch (e) {
            case '"': bt_buf_putc(&b, '"'); break;
            case '\\': bt_buf_putc(&b, '\\'); break;
            case '/': bt_buf_putc(&b, '/'); break;
            case 'b': bt_buf_putc(&b, '\b'); break;
            case 'f': bt_buf_putc(&b, '\f'); break;
            case 'n': bt_buf_putc(&b, '\n'); break;
            case 'r': bt_buf_putc(&b, '\r'); break;
            case 't': bt_buf_putc(&b, '\t'); break;
            case 'u': {
                unsigned cp;
                if (hex4(p, p->pos, &cp) != 0) {
                    bt_buf_free(&b);
                    return -1;
                }
                p->pos += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    bt_buf_free(&b);
                    return parse_error(p, at, "unpaired low surrogate \\u%04X", cp);
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned low;
                    if (p->len - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u') {
                        bt_buf_free(&b);
                        return parse_error(p, at, "high surrogate \\u%04X not followed by a low surrogate", cp);
                    }
                    if (hex4(p, p->pos + 2, &low) != 0) {
                        bt_buf_free(&b);
                        return -1;
                    }
                    if (low < 0xDC00 || low > 0xDFFF) {
                        bt_buf_free(&b);
                        return parse_error(p, at, "high surrogate \\u%04X not followed by a low surrogate", cp);
                    }
                    p->pos += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                if (cp == 0) {
                    bt_buf_free(&b);
                    return parse_error(p, at, "\\u0000 is not supported (strings end at NUL in C)");
                }
                put_utf8(&b, cp);
                break;
            }
            default:
                bt_buf_free(&b);
                if ((unsigned char)e >= 0x20 && (unsigned char)e < 0x7F)
                    return parse_error(p, at, "invalid escape '\\%c'", e);
                return parse_error(p, at, "invalid escape");
            }
            continue;
        }
        if (c < 0x80) {
            bt_buf_putc(&b, (char)c);
            p->pos++;
            continue;
        }
        size_t n = utf8_sequence(p, p->pos);
        if (n == 0) {
            bt_buf_free(&b);
            return parse_error(p, p->pos, "invalid UTF-8 byte 0x%02X in a string", c);
        }
        bt_buf_put(&b, p->text + p->pos, n);
        p->pos += n;
    }
    char *s = bt_buf_take(&b);
    if (!s) return no_memory(p);
    *out = s;
    return 0;
}

static int parse_number(parser *p, double *out) {
    size_t start = p->pos, i = p->pos;
    const char *s = p->text;
    if (i < p->len && s[i] == '-') i++;
    if (i >= p->len || s[i] < '0' || s[i] > '9') {
        p->pos = i;
        return unexpected(p, "a digit");
    }
    if (s[i] == '0') {
        i++;
        if (i < p->len && s[i] >= '0' && s[i] <= '9')
            return parse_error(p, start, "leading zero in a number");
    } else {
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    size_t dot = (size_t)-1;
    if (i < p->len && s[i] == '.') {
        dot = i;
        i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            p->pos = i;
            return unexpected(p, "a digit after the decimal point");
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            p->pos = i;
            return unexpected(p, "a digit in the exponent");
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    /* strtod follows LC_NUMERIC: hand it the locale's decimal point. */
    size_t n = i - start;
    const char *point = localeconv()->decimal_point;
    if (!point || !point[0] || strlen(point) > 8) point = ".";
    size_t plen = strlen(point);
    char small[64];
    size_t need = n + plen + 1;
    char *copy = need <= sizeof small ? small : malloc(need);
    if (!copy) return no_memory(p);
    size_t k = 0;
    for (size_t j = start; j < i; j++) {
        if (j == dot) {
            memcpy(copy + k, point, plen);
            k += plen;
        } else {
            copy[k++] = s[j];
        }
    }
    copy[k] = '\0';
    errno = 0;
    double d = strtod(copy, NULL);
    int range = errno == ERANGE && isinf(d);
    if (copy != small) free(copy);
    if (range) return parse_error(p, start, "number out of range of a double");
    p->pos = i;
    *out = d;
    return 0;
}

static int cmp_entries(const void *a, const void *b) {
    const Google__Protobuf__Struct__FieldsEntry *x = *(Google__Protobuf__Struct__FieldsEntry *const *)a;
    const Google__Protobuf__Struct__FieldsEntry *y = *(Google__Protobuf__Struct__FieldsEntry *const *)b;
    return strcmp(x->key, y->key);
}

static int parse_object(parser *p, Google__Protobuf__Value *v) {
    size_t start = p->pos;
    Google__Protobuf__Struct *st = malloc(sizeof *st);
    if (!st) return no_memory(p);
    google__protobuf__struct__init(st);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
    v->struct_value = st;
    size_t cap = 0;
    p->pos++; /* '{' */
    skip_ws(p);
    if (p->pos < p->len && p->text[p->pos] == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->text[p->pos] != '"') return unexpected(p, "a string key");
        if (st->n_fields == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            void *grown = realloc(st->fields, ncap * sizeof *st->fields);
            if (!grown) return no_memory(p);
            st->fields = grown;
            cap = ncap;
        }
        Google__Protobuf__Struct__FieldsEntry *e = malloc(sizeof *e);
        if (!e) return no_memory(p);
        google__protobuf__struct__fields_entry__init(e);
        st->fields[st->n_fields++] = e;
        char *key;
        if (parse_string(p, &key) != 0) return -1;
        e->key = key;
        skip_ws(p);
        if (p->pos >= p->len || p->text[p->pos] != ':') return unexpected(p, "':' after an object key");
        p->pos++;
        if (parse_value(p, &e->value) != 0) return -1;
        skip_ws(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == '}') {
            p->pos++;
            break;
        }
        return unexpected(p, "',' or '}' in an object");
    }
    /* Sorted keys: the printer's order, and repeated keys become neighbours. */
    qsort(st->fields, st->n_fields, sizeof *st->fields, cmp_entries);
    for (size_t i = 1; i < st->n_fields; i++) {
        if (strcmp(st->fields[i - 1]->key, st->fields[i]->key) == 0)
            return parse_error(p, start, "repeated key \"%.100s\" in the object", st->fields[i]->key);
    }
    return 0;
}

static int parse_array(parser *p, Google__Protobuf__Value *v) {
    Google__Protobuf__ListValue *list = malloc(sizeof *list);
    if (!list) return no_memory(p);
    google__protobuf__list_value__init(list);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
    v->list_value = list;
    size_t cap = 0;
    p->pos++; /* '[' */
    skip_ws(p);
    if (p->pos < p->len && p->text[p->pos] == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        if (list->n_values == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            void *grown = realloc(list->values, ncap * sizeof *list->values);
            if (!grown) return no_memory(p);
            list->values = grown;
            cap = ncap;
        }
        list->values[list->n_values] = NULL;
        if (parse_value(p, &list->values[list->n_values]) != 0) {
            /* a partly built element is already linked below when it exists */
            if (list->values[list->n_values]) list->n_values++;
            return -1;
        }
        list->n_values++;
        skip_ws(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == ']') {
            p->pos++;
            return 0;
        }
        return unexpected(p, "',' or ']' in an array");
    }
}

/* On failure *out may hold a partly built value (so that it is freed with its parent). */
static int parse_value(parser *p, Google__Protobuf__Value **out) {
    skip_ws(p);
    if (p->pos >= p->len) return unexpected(p, "a value");
    Google__Protobuf__Value *v = new_value();
    if (!v) return no_memory(p);
    *out = v;
    char c = p->text[p->pos];
    switch (c) {
    case '{':
    case '[':
        if (p->depth >= BT_JSON_MAX_DEPTH)
            return parse_error(p, p->pos, "nesting deeper than %d levels", BT_JSON_MAX_DEPTH);
        p->depth++;
        if ((c == '{' ? parse_object(p, v) : parse_array(p, v)) != 0) return -1;
        p->depth--;
        return 0;
    case '"': {
        char *s;
        if (parse_string(p, &s) != 0) return -1;
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
        v->string_value = s;
        return 0;
    }
    case 't':
    case 'f':
        if (literal(p, c == 't' ? "true" : "false") != 0) return -1;
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
        v->bool_value = c == 't';
        return 0;
    case 'n':
        if (literal(p, "null") != 0) return -1;
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
        v->null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE;
        return 0;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            double d = 0;
            if (parse_number(p, &d) != 0) return -1;
            v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
            v->number_value = d;
            return 0;
        }
        return unexpected(p, "a value");
    }
}

Google__Protobuf__Value *bt_json_parse(const char *text, const char *what, baton_error *err) {
    if (!text) {
        bt_fail(err, BATON_ERR_USAGE, "%s: no JSON text (NULL)", what);
        return NULL;
    }
    parser p = {.text = text, .len = strlen(text), .what = what, .err = err};
    /* A UTF-8 byte order mark is not JSON, but tolerated at the very start. */
    if (p.len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) p.pos = 3;
    Google__Protobuf__Value *v = NULL;
    if (parse_value(&p, &v) != 0) {
        free_value(v);
        return NULL;
    }
    skip_ws(&p);
    if (p.pos < p.len) {
        unexpected(&p, "the end of the text after the value");
        free_value(v);
        return NULL;
    }
    bt_ok(err);
    return v;
}

/* ---- printing ---- */

static void print_string(bt_buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    bt_buf_putc(b, '"');
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = 0;
                esc = u;
            }
        }
        if (esc) {
            bt_buf_put(b, run, (size_t)(s - run));
            bt_buf_puts(b, esc);
            run = s + 1;
        }
    }
    bt_buf_put(b, run, (size_t)(s - run));
    bt_buf_putc(b, '"');
}

/* Rewrites the locale's decimal point (if not '.') to '.', and "e-07" to "e-7". */
static void tidy_number(char *s) {
    const char *point = localeconv()->decimal_point;
    if (point && point[0] && strcmp(point, ".") != 0) {
        char *at = strstr(s, point);
        if (at) {
            size_t plen = strlen(point);
            *at = '.';
            memmove(at + 1, at + plen, strlen(at + plen) + 1);
        }
    }
    char *e = strchr(s, 'e');
    if (e) {
        char *digits = e + 1;
        if (*digits == '+' || *digits == '-') digits++;
        char *first = digits;
        while (*first == '0' && first[1] != '\0') first++;
        memmove(digits, first, strlen(first) + 1);
    }
}

static void print_number(bt_buf *b, double d) {
    char s[64];
    if (!isfinite(d)) {
        bt_buf_puts(b, "null");
        return;
    }
    if (d == 0) {
        bt_buf_putc(b, '0'); /* also -0 */
        return;
    }
    if (d == floor(d) && fabs(d) < 1e21) {
        snprintf(s, sizeof s, "%.0f", d); /* exact: an integral double prints all its digits */
    } else {
        for (int precision = 1; precision <= 17; precision++) {
            snprintf(s, sizeof s, "%.*g", precision, d);
            if (strtod(s, NULL) == d) break;
        }
    }
    tidy_number(s);
    bt_buf_puts(b, s);
}

static int cmp_entry_keys(const void *a, const void *b) {
    const Google__Protobuf__Struct__FieldsEntry *x = *(Google__Protobuf__Struct__FieldsEntry *const *)a;
    const Google__Protobuf__Struct__FieldsEntry *y = *(Google__Protobuf__Struct__FieldsEntry *const *)b;
    return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static void print_value(bt_buf *b, const Google__Protobuf__Value *v) {
    if (!v) {
        bt_buf_puts(b, "null");
        return;
    }
    switch (v->kind_case) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
        print_number(b, v->number_value);
        return;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
        print_string(b, v->string_value ? v->string_value : "");
        return;
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        bt_buf_puts(b, v->bool_value ? "true" : "false");
        return;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE: {
        const Google__Protobuf__Struct *st = v->struct_value;
        size_t n = st ? st->n_fields : 0;
        bt_buf_putc(b, '{');
        if (n > 0) {
            Google__Protobuf__Struct__FieldsEntry **sorted = malloc(n * sizeof *sorted);
            if (!sorted) {
                b->failed = 1;
                return;
            }
            memcpy(sorted, st->fields, n * sizeof *sorted);
            qsort(sorted, n, sizeof *sorted, cmp_entry_keys);
            for (size_t i = 0; i < n; i++) {
                if (i) bt_buf_putc(b, ',');
                print_string(b, sorted[i]->key ? sorted[i]->key : "");
                bt_buf_putc(b, ':');
                print_value(b, sorted[i]->value);
            }
            free(sorted);
        }
        bt_buf_putc(b, '}');
        return;
    }
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE: {
        const Google__Protobuf__ListValue *list = v->list_value;
        bt_buf_putc(b, '[');
        for (size_t i = 0; list && i < list->n_values; i++) {
            if (i) bt_buf_putc(b, ',');
            print_value(b, list->values[i]);
        }
        bt_buf_putc(b, ']');
        return;
    }
    case GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE:
    default:
        bt_buf_puts(b, "null");
        return;
    }
}

char *bt_json_print(const Google__Protobuf__Value *value) {
    bt_buf b = {0};
    print_value(&b, value);
    return bt_buf_take(&b);
}

int baton_json_normalize(const char *json_text, char **out, baton_error *err) {
    if (!out) return bt_fail(err, BATON_ERR_USAGE, "baton_json_normalize: out is NULL");
    *out = NULL;
    baton_error local;
    baton_error *e = err ? err : &local;
    Google__Protobuf__Value *v = bt_json_parse(json_text, "the text", e);
    if (!v) return e->code;
    *out = bt_json_print(v);
    free_value(v);
    if (!*out) return bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory while printing JSON");
    return bt_ok(err);
}

int bt_optional_json(const char *text, const char *what, Google__Protobuf__Value **out, baton_error *err) {
    *out = NULL;
    if (text == NULL || text[0] == '\0') return BATON_OK;
    baton_error local;
    baton_error *e = err ? err : &local;
    *out = bt_json_parse(text, what, e);
    return *out ? BATON_OK : e->code;
}

int bt_print_optional(const Google__Protobuf__Value *value, int keep_null, char **out, baton_error *err) {
    *out = NULL;
    if (value == NULL && keep_null) return BATON_OK;
    *out = bt_json_print(value);
    if (!*out) return bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory while printing JSON");
    return BATON_OK;
}
