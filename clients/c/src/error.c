/* error.c — status names, error reporting and the growable buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *baton_status_name(int code) {
    static const char *const grpc[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if (code >= 0 && code < (int)(sizeof grpc / sizeof grpc[0])) return grpc[code];
    switch (code) {
    case BATON_ERR_CONNECT: return "CONNECT_FAILED";
    case BATON_ERR_CONNECTION: return "CONNECTION_LOST";
    case BATON_ERR_PROTOCOL: return "PROTOCOL_ERROR";
    case BATON_ERR_JSON: return "JSON_SYNTAX";
    case BATON_ERR_USAGE: return "USAGE";
    case BATON_ERR_NO_MEMORY: return "NO_MEMORY";
    default: return "UNRECOGNIZED";
    }
}

const char *baton_workflow_status_name(int status) {
    static const char *const names[] = {
        "UNSPECIFIED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TERMINATED", "COMPENSATED",
        "COMPENSATION_FAILED", "CORRUPTED",
    };
    return status > 0 && status < (int)(sizeof names / sizeof names[0]) ? names[status] : names[0];
}

const char *baton_step_status_name(int status) {
    static const char *const names[] = {
        "UNSPECIFIED", "PENDING", "RUNNING", "RETRYING", "COMPLETED", "FAILED", "SKIPPED",
        "COMPENSATED", "CANCELLED",
    };
    return status > 0 && status < (int)(sizeof names / sizeof names[0]) ? names[status] : names[0];
}

void bt_copy_text(char *dst, size_t cap, const char *src) {
    if (cap == 0) return;
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        /* Never end inside a UTF-8 sequence: back up over continuation bytes to a lead byte. */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int bt_vfail(baton_error *err, int code, const char *fmt, va_list ap) {
    if (err) {
        char text[BATON_ERROR_MESSAGE_MAX * 2];
        vsnprintf(text, sizeof text, fmt, ap);
        err->code = code;
        bt_copy_text(err->message, sizeof err->message, text);
    }
    return code;
}

int bt_fail(baton_error *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    bt_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int bt_ok(baton_error *err) {
    if (err) {
        err->code = BATON_OK;
        err->message[0] = '\0';
    }
    return BATON_OK;
}

int bt_require(const char *value, const char *name, baton_error *err) {
    if (value == NULL || value[0] == '\0') return bt_fail(err, BATON_ERR_USAGE, "%s is required", name);
    return BATON_OK;
}

/* ---- bt_buf ---- */

static int bt_buf_reserve(bt_buf *b, size_t extra) {
    if (b->failed) return -1;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1; /* room for a terminating NUL */
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void bt_buf_put(bt_buf *b, const void *data, size_t len) {
    if (len == 0 || bt_buf_reserve(b, len) != 0) return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void bt_buf_putc(bt_buf *b, char c) { bt_buf_put(b, &c, 1); }

void bt_buf_puts(bt_buf *b, const char *s) { bt_buf_put(b, s, strlen(s)); }

void bt_buf_free(bt_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

char *bt_buf_take(bt_buf *b) {
    if (bt_buf_reserve(b, 0) != 0) {
        bt_buf_free(b);
        return NULL;
    }
    char *out = b->data;
    out[b->len] = '\0';
    memset(b, 0, sizeof *b);
    return out;
}
