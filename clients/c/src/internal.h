/* internal.h — shared by the C client's sources; not installed. */
#ifndef BATON_INTERNAL_H
#define BATON_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "baton.h"
#include "google/protobuf/struct.pb-c.h"

/* ---- errors (error.c) ---- */

/** Sets *err (if not NULL) to code and a printf-style message; returns code. */
int bt_fail(baton_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int bt_vfail(baton_error *err, int code, const char *fmt, va_list ap);
/** Sets *err to OK with an empty message; returns BATON_OK. */
int bt_ok(baton_error *err);
/** Copies at most cap-1 bytes of src, cutting at a UTF-8 character boundary. */
void bt_copy_text(char *dst, size_t cap, const char *src);

/* ---- growable byte buffer ---- */

typedef struct bt_buf {
    char *data;
    size_t len, cap;
    int failed; /* an allocation failed; contents are incomplete */
} bt_buf;

void bt_buf_put(bt_buf *b, const void *data, size_t len);
void bt_buf_putc(bt_buf *b, char c);
void bt_buf_puts(bt_buf *b, const char *s);
void bt_buf_free(bt_buf *b);
/** NUL-terminates and hands the data over (NULL if an allocation failed); the buffer is reset. */
char *bt_buf_take(bt_buf *b);

/* ---- JSON <-> google.protobuf.Value (json.c) ---- */

#define BT_JSON_MAX_DEPTH 32

/** Parses JSON text (exactly one value, surrounded by optional whitespace). NULL with
 *  BATON_ERR_JSON (line, column, byte offset and what was wrong) or BATON_ERR_NO_MEMORY.
 *  `what` names the argument in messages ("input", "payload", ...). Free the result with
 *  google__protobuf__value__free_unpacked(v, NULL). */
Google__Protobuf__Value *bt_json_parse(const char *text, const char *what, baton_error *err);

/** Prints a value as compact JSON (keys sorted; an unset value or kind prints "null").
 *  NULL only when an allocation failed. */
char *bt_json_print(const Google__Protobuf__Value *value);

/* ---- transport (transport.c) ---- */

/** Called per response message of a server stream; return 0 to go on, 1 to stop the stream (the
 *  call then ends with BATON_OK), or an error code (with *err set) to abandon the call. */
typedef int (*bt_message_fn)(const uint8_t *data, size_t len, void *user_data, baton_error *err);

/** One call: sends `request` to `path`, feeds each response message to on_message, and returns
 *  the call's status. timeout_ms <= 0: no deadline. */
int bt_call(baton_client *c, const char *path, const ProtobufCMessage *request, int timeout_ms,
            bt_message_fn on_message, void *user_data, baton_error *err);

/** A unary call: *response receives the unpacked answer (free with protobuf_c_message_free_unpacked). */
int bt_unary(baton_client *c, const char *path, const ProtobufCMessage *request,
             const ProtobufCMessageDescriptor *response_type, int timeout_ms,
             ProtobufCMessage **response, baton_error *err);

/** While set (> 0), calls on the client end with BATON_CANCELLED ("interrupted") as soon as this
 *  descriptor is readable. Returns the previous value. */
int bt_set_interrupt_fd(baton_client *c, int fd);

/** The client's default deadline for unary calls. */
int bt_call_timeout(const baton_client *c);

/* ---- helpers shared by client.c and worker.c ---- */

/** Parses optional JSON (NULL or empty text gives NULL without error). Returns BATON_OK or the
 *  error; *out is NULL for no value. */
int bt_optional_json(const char *text, const char *what, Google__Protobuf__Value **out, baton_error *err);

/** Prints an optional value: NULL stays NULL (when keep_null), else JSON text. Returns BATON_OK or
 *  BATON_ERR_NO_MEMORY. */
int bt_print_optional(const Google__Protobuf__Value *value, int keep_null, char **out, baton_error *err);

/** Checks a required string argument; returns BATON_OK or BATON_ERR_USAGE naming it. */
int bt_require(const char *value, const char *name, baton_error *err);

#endif
