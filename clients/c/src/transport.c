/* transport.c — gRPC over HTTP/2 cleartext (prior knowledge) on one TCP socket and one nghttp2
 * client session: a poll()-based loop, one call at a time.
 *
 * A call: HEADERS (:method POST, :path /pkg.Service/Method, content-type application/grpc,
 * te: trailers, grpc-timeout), then the request as one length-prefixed message (1 byte flags,
 * 4 bytes big-endian length) with END_STREAM. The answer: HEADERS (:status 200,
 * content-type application/grpc*), zero or more length-prefixed messages, and trailers with
 * grpc-status and grpc-message (percent-encoded) — or one HEADERS frame with everything
 * (Trailers-Only). Messages are handed to the caller from the loop, never from inside nghttp2's
 * callbacks, so a callback may block or fail without corrupting the session.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "internal.h"

#define BT_DEFAULT_CALL_TIMEOUT_MS 10000
#define BT_MAX_MESSAGE (64u * 1024u * 1024u) /* largest answer message accepted */
#define BT_CLIENT_GRACE_MS 2000 /* the server answers at the deadline; the client waits this much more */
#define BT_USER_AGENT "baton-c/0.1"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

typedef struct call {
    int32_t stream_id;
    uint8_t *body;
    size_t body_len, body_off;
    int http_status;
    int have_headers;
    char content_type[96];
    int grpc_status; /* -1 until received */
    char *grpc_message;
    bt_buf in;       /* answer bytes not yet handed over */
    size_t in_off;
    size_t messages;
    int closed;
    uint32_t rst_code;
    int peer_reset; /* the server sent RST_STREAM (rather than the session ending) */
    int too_big;
} call;

struct baton_client {
    char *host, *port, *authority;
    int fd;
    nghttp2_session *session;
    int broken; /* the connection cannot carry another call: reconnect first */
    int eof;    /* the server closed the connection */
    int goaway;
    uint32_t goaway_code;
    int send_errno;
    char h2_error[160]; /* nghttp2's last complaint about what the peer sent */
    int busy;
    int timeout_ms;
    int interrupt_fd; /* > 0: a call ends as soon as it is readable */
    call *call;
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static call *current(baton_client *c, int32_t stream_id) {
    return c->call && c->call->stream_id == stream_id ? c->call : NULL;
}

/* ---- nghttp2 callbacks ---- */

static ssize_t cb_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud) {
    (void)s, (void)flags;
    baton_client *c = ud;
    for (;;) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n > 0) return n;
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) return NGHTTP2_ERR_WOULDBLOCK;
        c->send_errno = errno;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
}

static int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* grpc-message is percent-encoded; a malformed escape is kept as it is. */
static char *percent_decode(const uint8_t *v, size_t len) {
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (v[i] == '%' && i + 2 < len && (hi = hex_digit(v[i + 1])) >= 0 && (lo = hex_digit(v[i + 2])) >= 0) {
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[k++] = (char)v[i];
        }
    }
    out[k] = '\0';
    return out;
}

static int header_is(const uint8_t *name, size_t len, const char *want) {
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

static int cb_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud) {
    (void)s, (void)flags;
    call *k = current(ud, f->hd.stream_id);
    if (!k || f->hd.type != NGHTTP2_HEADERS) return 0;
    if (header_is(name, namelen, ":status")) {
        int status = 0;
        for (size_t i = 0; i < valuelen && i < 4; i++) status = status * 10 + (value[i] - '0');
        if (status >= 200) { /* 1xx answers are interim */
            k->http_status = status;
            k->have_headers = 1;
        }
    } else if (header_is(name, namelen, "content-type")) {
        size_t n = valuelen < sizeof k->content_type - 1 ? valuelen : sizeof k->content_type - 1;
        memcpy(k->content_type, value, n);
        k->content_type[n] = '\0';
    } else if (header_is(name, namelen, "grpc-status")) {
        int status = valuelen ? 0 : -1;
        for (size_t i = 0; i < valuelen; i++) {
            if (value[i] < '0' || value[i] > '9' || i >= 3) {
                status = BATON_UNKNOWN;
                break;
            }
            status = status * 10 + (value[i] - '0');
        }
        if (status < 0 || status > BATON_UNAUTHENTICATED) status = BATON_UNKNOWN;
        k->grpc_status = status;
    } else if (header_is(name, namelen, "grpc-message")) {
        free(k->grpc_message);
        k->grpc_message = percent_decode(value, valuelen);
    }
    return 0;
}

static int cb_data(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                   void *ud) {
    (void)flags;
    call *k = current(ud, stream_id);
    if (!k || k->too_big) return 0;
    if (k->in.len - k->in_off + len > BT_MAX_MESSAGE + 5 + 65536) {
        k->too_big = 1;
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
        return 0;
    }
    bt_buf_put(&k->in, data, len);
    if (k->in.failed) nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    return 0;
}

static int cb_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *ud) {
    (void)s;
    call *k = current(ud, stream_id);
    if (k) {
        k->closed = 1;
        k->rst_code = error_code;
    }
    return 0;
}

static int cb_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
    (void)s;
    baton_client *c = ud;
    call *k = current(c, f->hd.stream_id);
    if (k && f->hd.type == NGHTTP2_RST_STREAM) k->peer_reset = 1;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        c->goaway = 1;
        c->goaway_code = f->goaway.error_code;
    }
    return 0;
}

static int cb_error(nghttp2_session *s, int lib_error_code, const char *msg, size_t len, void *ud) {
    (void)s, (void)lib_error_code;
    baton_client *c = ud;
    size_t n = len < sizeof c->h2_error - 1 ? len : sizeof c->h2_error - 1;
    memcpy(c->h2_error, msg, n);
    c->h2_error[n] = '\0';
    return 0;
}

static ssize_t cb_read_body(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *ud) {
    (void)s, (void)source;
    call *k = current(ud, stream_id);
    if (!k) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* an abandoned call: reset its stream */
    size_t n = k->body_len - k->body_off;
    if (n > length) n = length;
    memcpy(buf, k->body + k->body_off, n);
    k->body_off += n;
    if (k->body_off == k->body_len) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- connection ---- */

static void disconnect(baton_client *c) {
    if (c->session) nghttp2_session_del(c->session);
    c->session = NULL;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->broken = c->eof = c->goaway = 0;
    c->goaway_code = 0;
    c->h2_error[0] = '\0';
}

static int wait_connected(int fd, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return ETIMEDOUT;
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return ETIMEDOUT;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) return errno;
        return soerr;
    }
}

static int open_socket(baton_client *c, baton_error *err) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(c->host, c->port, &hints, &res);
    if (rc != 0)
        return bt_fail(err, BATON_ERR_CONNECT, "cannot resolve '%s': %s", c->host, gai_strerror(rc));
    int last = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        int e = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
            e = errno == EINPROGRESS ? wait_connected(fd, c->timeout_ms) : errno;
        if (e == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
            freeaddrinfo(res);
            c->fd = fd;
            return BATON_OK;
        }
        last = e;
        close(fd);
    }
    freeaddrinfo(res);
    return bt_fail(err, BATON_ERR_CONNECT, "cannot connect to %s: %s", c->authority,
                   last == ETIMEDOUT ? "timed out" : strerror(last));
}

static int start_session(baton_client *c, baton_error *err) {
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory (nghttp2 callbacks)");
    nghttp2_session_callbacks_set_send_callback(cbs, cb_send);
    nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
    nghttp2_session_callbacks_set_error_callback2(cbs, cb_error);
    int rv = nghttp2_session_client_new(&c->session, cbs, c);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
        c->session = NULL;
        return bt_fail(err, BATON_ERR_NO_MEMORY, "cannot start an HTTP/2 session: %s", nghttp2_strerror(rv));
    }
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
    };
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof settings[0]);
    nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, 1 << 24);
    /* The preface and SETTINGS go out now, so that a dead peer shows at once. */
    if (nghttp2_session_send(c->session) != 0)
        return bt_fail(err, BATON_ERR_CONNECT, "cannot talk to %s: %s", c->authority,
                       c->send_errno ? strerror(c->send_errno) : "HTTP/2 session failed");
    return BATON_OK;
}

static int open_connection(baton_client *c, baton_error *err) {
    disconnect(c);
    int rc = open_socket(c, err);
    if (rc == BATON_OK) rc = start_session(c, err);
    if (rc != BATON_OK) disconnect(c);
    return rc;
}

static int split_address(baton_client *c, const char *address, baton_error *err) {
    const char *host = address, *host_end, *port;
    if (address[0] == '[') {
        host = address + 1;
        host_end = strchr(host, ']');
        if (!host_end || host_end[1] != ':')
            return bt_fail(err, BATON_ERR_USAGE, "address '%s': expected [IPV6]:PORT", address);
        port = host_end + 2;
    } else {
        host_end = strrchr(address, ':');
        if (!host_end)
            return bt_fail(err, BATON_ERR_USAGE, "address '%s' has no port (expected HOST:PORT)", address);
        if (memchr(address, ':', (size_t)(host_end - address)))
            return bt_fail(err, BATON_ERR_USAGE, "address '%s': write an IPv6 address as [IPV6]:PORT", address);
        port = host_end + 1;
    }
    long number = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9' || number > 65535) {
            number = -1;
            break;
        }
        number = number * 10 + (*p - '0');
    }
    if (port[0] == '\0' || number <= 0 || number > 65535)
        return bt_fail(err, BATON_ERR_USAGE, "address '%s': the port must be 1..65535", address);
    if (host_end == host)
        return bt_fail(err, BATON_ERR_USAGE, "address '%s' has no host (expected HOST:PORT)", address);
    c->host = strndup(host, (size_t)(host_end - host));
    c->port = strdup(port);
    c->authority = strdup(address);
    if (!c->host || !c->port || !c->authority) return bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory");
    return BATON_OK;
}

baton_client *baton_connect(const char *host_port, baton_error *err) {
    if (!host_port || !host_port[0]) {
        bt_fail(err, BATON_ERR_USAGE, "baton_connect: no address (expected HOST:PORT)");
        return NULL;
    }
    baton_client *c = calloc(1, sizeof *c);
    if (!c) {
        bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    c->fd = -1;
    c->timeout_ms = BT_DEFAULT_CALL_TIMEOUT_MS;
    if (split_address(c, host_port, err) != BATON_OK || open_connection(c, err) != BATON_OK) {
        baton_close(c);
        return NULL;
    }
    bt_ok(err);
    return c;
}

void baton_close(baton_client *c) {
    if (!c) return;
    if (c->session && !c->broken) {
        /* A polite goodbye; best effort, never blocking. */
        nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
        nghttp2_session_send(c->session);
    }
    disconnect(c);
    free(c->host);
    free(c->port);
    free(c->authority);
    free(c);
}

void baton_set_call_timeout(baton_client *c, int timeout_ms) {
    if (c) c->timeout_ms = timeout_ms > 0 ? timeout_ms : BT_DEFAULT_CALL_TIMEOUT_MS;
}

int bt_call_timeout(const baton_client *c) { return c->timeout_ms; }

int bt_set_interrupt_fd(baton_client *c, int fd) {
    int previous = c->interrupt_fd;
    c->interrupt_fd = fd > 0 ? fd : 0;
    return previous;
}

/* ---- one call ---- */

/* Reads what the socket has. Sets c->eof / c->broken; returns an error only for a broken session. */
static int read_available(baton_client *c, baton_error *err) {
    uint8_t buf[16384];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) {
            ssize_t used = nghttp2_session_mem_recv(c->session, buf, (size_t)n);
            if (used < 0) {
                c->broken = 1;
                return bt_fail(err, BATON_ERR_PROTOCOL, "HTTP/2 error talking to %s: %s", c->authority,
                               c->h2_error[0] ? c->h2_error : nghttp2_strerror((int)used));
            }
            continue;
        }
        if (n == 0) {
            c->eof = c->broken = 1;
            return BATON_OK;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return BATON_OK;
        c->broken = 1;
        return bt_fail(err, BATON_ERR_CONNECTION, "reading from %s: %s", c->authority, strerror(errno));
    }
}

/* Makes sure the connection can carry a call: takes in what arrived while idle (a GOAWAY, the
 * server closing) and reconnects when needed. */
static int ready(baton_client *c, baton_error *err) {
    if (c->session && !c->broken && !c->goaway) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0) read_available(c, NULL);
        if (!c->broken && !c->goaway) return BATON_OK;
    }
    return open_connection(c, err);
}

static void cancel(baton_client *c, call *k) {
    if (!k->closed) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, k->stream_id, NGHTTP2_CANCEL);
        nghttp2_session_send(c->session); /* best effort; the stream is forgotten either way */
    }
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int is_grpc(const call *k) {
    return k->http_status == 200 && strncmp(k->content_type, "application/grpc", 16) == 0 &&
           (k->content_type[16] == '\0' || k->content_type[16] == '+' || k->content_type[16] == ';');
}

/* Hands complete messages over: 0 to go on, 1 when the callback stopped, or an error code. */
static int deliver(call *k, bt_message_fn fn, void *ud, baton_error *err) {
    if (!k->have_headers || !is_grpc(k)) return 0; /* judged when the stream ends */
    for (;;) {
        size_t avail = k->in.len - k->in_off;
        if (avail < 5) break;
        const uint8_t *h = (const uint8_t *)k->in.data + k->in_off;
        if (h[0] != 0)
            return bt_fail(err, BATON_ERR_PROTOCOL,
                           h[0] == 1 ? "the server sent a compressed message although the client accepts none"
                                     : "a response message has unknown flags 0x%02X", h[0]);
        uint32_t n = be32(h + 1);
        if (n > BT_MAX_MESSAGE)
            return bt_fail(err, BATON_RESOURCE_EXHAUSTED,
                           "a response message of %u bytes is over the client's limit of %u bytes", n, BT_MAX_MESSAGE);
        if (avail - 5 < n) break;
        k->in_off += 5 + (size_t)n;
        k->messages++;
        int rv = fn(h + 5, n, ud, err);
        if (rv != 0) return rv;
    }
    if (k->in_off == k->in.len) {
        k->in.len = k->in_off = 0;
    } else if (k->in_off > 65536) {
        memmove(k->in.data, k->in.data + k->in_off, k->in.len - k->in_off);
        k->in.len -= k->in_off;
        k->in_off = 0;
    }
    return 0;
}

static int h2_to_grpc(uint32_t code) {
    switch (code) {
    case NGHTTP2_REFUSED_STREAM: return BATON_UNAVAILABLE;
    case NGHTTP2_CANCEL: return BATON_CANCELLED;
    case NGHTTP2_ENHANCE_YOUR_CALM: return BATON_RESOURCE_EXHAUSTED;
    case NGHTTP2_INADEQUATE_SECURITY: return BATON_PERMISSION_DENIED;
    default: return BATON_INTERNAL;
    }
}

static int http_to_grpc(int status) {
    switch (status) {
    case 400: return BATON_INTERNAL;
    case 401: return BATON_UNAUTHENTICATED;
    case 403: return BATON_PERMISSION_DENIED;
    case 404: return BATON_UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return BATON_UNAVAILABLE;
    default: return BATON_UNKNOWN;
    }
}

/* The status of a finished call. */
static int outcome(baton_client *c, call *k, baton_error *err) {
    if (k->grpc_status >= 0) {
        if (k->grpc_status == BATON_OK) {
            if (k->in.len > k->in_off)
                return bt_fail(err, BATON_ERR_PROTOCOL, "the answer ended inside a message (%zu bytes left over)",
                               k->in.len - k->in_off);
            return bt_ok(err);
        }
        const char *msg = k->grpc_message && k->grpc_message[0] ? k->grpc_message : NULL;
        return bt_fail(err, k->grpc_status, "%s", msg ? msg : baton_status_name(k->grpc_status));
    }
    if (k->too_big)
        return bt_fail(err, BATON_RESOURCE_EXHAUSTED, "the answer is over the client's limit of %u bytes", BT_MAX_MESSAGE);
    if (k->in.failed) return bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory while receiving the answer");
    if (k->peer_reset)
        return bt_fail(err, h2_to_grpc(k->rst_code), "the server reset the stream (HTTP/2 %s)%s",
                       nghttp2_http2_strerror(k->rst_code),
                       k->rst_code == NGHTTP2_REFUSED_STREAM ? "; the call did not run and can be retried" : "");
    if (c->h2_error[0]) {
        c->broken = 1;
        return bt_fail(err, BATON_ERR_PROTOCOL, "HTTP/2 error talking to %s: %s (is it a gRPC server speaking h2c?)",
                       c->authority, c->h2_error);
    }
    if (k->rst_code == NGHTTP2_REFUSED_STREAM && c->goaway)
        return bt_fail(err, BATON_UNAVAILABLE, "%s is going away (GOAWAY) and did not take the call; it can be retried",
                       c->authority);
    if (k->rst_code != NGHTTP2_NO_ERROR)
        return bt_fail(err, h2_to_grpc(k->rst_code), "the stream ended with HTTP/2 %s",
                       nghttp2_http2_strerror(k->rst_code));
    if (k->have_headers && k->http_status != 200)
        return bt_fail(err, http_to_grpc(k->http_status), "HTTP status %d from %s without a grpc-status",
                       k->http_status, c->authority);
    if (k->have_headers && !is_grpc(k))
        return bt_fail(err, BATON_ERR_PROTOCOL, "the answer's content-type '%s' is not application/grpc",
                       k->content_type);
    return bt_fail(err, BATON_ERR_PROTOCOL, "the call ended without a grpc-status");
}

static int pump(baton_client *c, call *k, int64_t deadline, int timeout_ms, bt_message_fn fn, void *ud,
                baton_error *err) {
    int stopped = 0;
    for (;;) {
        if (!stopped) {
            int rv = deliver(k, fn, ud, err);
            if (rv == 1) {
                stopped = 1;
                cancel(c, k);
            } else if (rv != 0) {
                cancel(c, k);
                return rv;
            }
        }
        if (k->closed) break;
        if (nghttp2_session_send(c->session) != 0) {
            c->broken = 1;
            return bt_fail(err, BATON_ERR_CONNECTION, "sending to %s: %s", c->authority,
                           c->send_errno ? strerror(c->send_errno) : "HTTP/2 session failed");
        }
        if (k->closed) continue; /* deliver what is left, then finish */
        if (c->eof) {
            return bt_fail(err, BATON_ERR_CONNECTION, "%s closed the connection before the call ended", c->authority);
        }
        if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) {
            c->broken = 1;
            if (c->goaway)
                return bt_fail(err, BATON_UNAVAILABLE, "%s ended the HTTP/2 session (GOAWAY %s) before the call ended",
                               c->authority, nghttp2_http2_strerror(c->goaway_code));
            return bt_fail(err, BATON_ERR_PROTOCOL, "HTTP/2 error talking to %s: %s (is it a gRPC server speaking h2c?)",
                           c->authority, c->h2_error[0] ? c->h2_error : "the session ended");
        }
        int wait = -1;
        if (deadline) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                cancel(c, k);
                return bt_fail(err, BATON_DEADLINE_EXCEEDED, "no answer within the deadline of %d ms (client side)",
                               timeout_ms);
            }
            wait = left > 60000 ? 60000 : (int)left;
        }
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = c->interrupt_fd, .events = POLLIN}};
        if (nghttp2_session_want_write(c->session)) p[0].events |= POLLOUT;
        int n = poll(p, c->interrupt_fd > 0 ? 2 : 1, wait);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            c->broken = 1;
            return bt_fail(err, BATON_ERR_CONNECTION, "poll: %s", strerror(errno));
        }
        if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            int rv = read_available(c, err);
            if (rv != BATON_OK) return rv;
        }
        if (n > 0 && c->interrupt_fd > 0 && p[1].revents != 0 && !k->closed) {
            cancel(c, k);
            return bt_fail(err, BATON_CANCELLED, "interrupted: the stop descriptor became readable");
        }
    }
    if (stopped) return bt_ok(err);
    return outcome(c, k, err);
}

int bt_call(baton_client *c, const char *path, const ProtobufCMessage *request, int timeout_ms,
            bt_message_fn on_message, void *user_data, baton_error *err) {
    baton_error local;
    if (!err) err = &local;
    if (!c) return bt_fail(err, BATON_ERR_USAGE, "no client (NULL)");
    if (c->busy)
        return bt_fail(err, BATON_ERR_USAGE,
                       "a call is already in progress on this client (one call at a time; use one client per thread)");
    c->busy = 1;
    call k;
    memset(&k, 0, sizeof k);
    k.grpc_status = -1;
    int rc = ready(c, err);
    if (rc != BATON_OK) goto done;

    size_t size = protobuf_c_message_get_packed_size(request);
    if (size > BT_MAX_MESSAGE) {
        rc = bt_fail(err, BATON_RESOURCE_EXHAUSTED, "the request of %zu bytes is over the limit of %u bytes", size,
                     BT_MAX_MESSAGE);
        goto done;
    }
    k.body_len = 5 + size;
    k.body = malloc(k.body_len);
    if (!k.body) {
        rc = bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    k.body[0] = 0;
    k.body[1] = (uint8_t)(size >> 24), k.body[2] = (uint8_t)(size >> 16);
    k.body[3] = (uint8_t)(size >> 8), k.body[4] = (uint8_t)size;
    protobuf_c_message_pack(request, k.body + 5);

    char timeout[24]; /* grpc-timeout: at most 8 digits and a unit */
    if (timeout_ms > 99999999) snprintf(timeout, sizeof timeout, "%dS", timeout_ms / 1000);
    else snprintf(timeout, sizeof timeout, "%dm", timeout_ms > 0 ? timeout_ms : 0);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv headers[8] = {
        NV(":method", "POST"),
        NV(":scheme", "http"),
        NV(":path", path),
        NV(":authority", c->authority),
        NV("content-type", "application/grpc"),
        NV("te", "trailers"),
        NV("user-agent", BT_USER_AGENT),
    };
    size_t nh = 7;
    if (timeout_ms > 0) headers[nh++] = (nghttp2_nv)NV("grpc-timeout", timeout);
#undef NV
    nghttp2_data_provider body = {.source = {.ptr = NULL}, .read_callback = cb_read_body};
    int32_t id = nghttp2_submit_request(c->session, NULL, headers, nh, &body, NULL);
    if (id < 0) {
        c->broken = 1; /* e.g. stream ids used up: the next call starts a new connection */
        rc = bt_fail(err, BATON_ERR_CONNECTION, "cannot start a call on %s: %s", c->authority, nghttp2_strerror(id));
        goto done;
    }
    k.stream_id = id;
    c->call = &k;
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms + BT_CLIENT_GRACE_MS : 0;
    rc = pump(c, &k, deadline, timeout_ms, on_message, user_data, err);

done:
    c->call = NULL;
    free(k.body);
    free(k.grpc_message);
    bt_buf_free(&k.in);
    c->busy = 0;
    return rc;
}

/* ---- unary ---- */

typedef struct unary {
    const ProtobufCMessageDescriptor *type;
    ProtobufCMessage *response;
} unary;

static int on_unary(const uint8_t *data, size_t len, void *ud, baton_error *err) {
    unary *u = ud;
    if (u->response)
        return bt_fail(err, BATON_ERR_PROTOCOL, "a unary call answered with more than one message");
    u->response = protobuf_c_message_unpack(u->type, NULL, len, data);
    if (!u->response)
        return bt_fail(err, BATON_ERR_PROTOCOL, "the answer is not a valid %s (%zu bytes)", u->type->name, len);
    return 0;
}

int bt_unary(baton_client *c, const char *path, const ProtobufCMessage *request,
             const ProtobufCMessageDescriptor *response_type, int timeout_ms, ProtobufCMessage **response,
             baton_error *err) {
    baton_error local;
    if (!err) err = &local;
    unary u = {.type = response_type, .response = NULL};
    *response = NULL;
    int rc = bt_call(c, path, request, timeout_ms, on_unary, &u, err);
    if (rc == BATON_OK && !u.response)
        rc = bt_fail(err, BATON_ERR_PROTOCOL, "the call ended OK without an answer message");
    if (rc != BATON_OK) {
        if (u.response) protobuf_c_message_free_unpacked(u.response, NULL);
        return rc;
    }
    *response = u.response;
    return BATON_OK;
}
