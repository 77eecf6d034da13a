/* test_transport.c — the client's gRPC framing against a scripted fake peer (no Baton server):
 * malformed, truncated and unterminated answers, HTTP errors without grpc-status, percent-encoded
 * grpc-message, a peer that is not HTTP/2, and a peer that never answers (the client's deadline).
 *
 * The fake peer is a thread with a listening socket. Per connection it reads the client's preface
 * and frames until the request's END_STREAM, then writes hand-made HTTP/2 frames (HPACK literals
 * without indexing, so no dynamic table is involved).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

/* The fake peer answers its n-th connection with scenario n: the tests call in this order. */
enum scenario {
    BAD_PROTOBUF,      /* a message that is not protobuf */
    TRUNCATED,         /* the length prefix promises more than is sent, then grpc-status 0 */
    NO_STATUS,         /* END_STREAM on DATA, no trailers */
    NOT_GRPC,          /* :status 200 with content-type text/html */
    TWO_MESSAGES,      /* a unary call answered twice */
    NOT_HTTP2,         /* an HTTP/1.1 answer to the request */
    ENCODED_MESSAGE,   /* Trailers-Only: grpc-status 5 with a percent-encoded grpc-message */
    HTTP_503,          /* :status 503, no grpc-status */
    SILENT,            /* reads the request, never answers */
    SCENARIOS
};

typedef struct peer {
    int listener;
    int port;
    int release[2]; /* SILENT holds its connection until this pipe is written or closed */
} peer;

typedef struct out {
    uint8_t data[1024];
    size_t len;
} out;

static void put(out *o, const void *p, size_t n) {
    memcpy(o->data + o->len, p, n);
    o->len += n;
}

static void frame(out *o, uint8_t type, uint8_t flags, uint32_t stream, const uint8_t *payload, size_t n) {
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
                    (uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8), (uint8_t)stream};
    put(o, h, 9);
    if (n) put(o, payload, n);
}

/* An HPACK "literal header field without indexing, new name". */
static void header(out *block, const char *name, const char *value) {
    uint8_t b = 0;
    put(block, &b, 1);
    b = (uint8_t)strlen(name);
    put(block, &b, 1);
    put(block, name, strlen(name));
    b = (uint8_t)strlen(value);
    put(block, &b, 1);
    put(block, value, strlen(value));
}

static void status_header(out *block, const char *status) {
    if (strcmp(status, "200") == 0) {
        uint8_t indexed = 0x88; /* static table entry 8, ":status: 200" */
        put(block, &indexed, 1);
        return;
    }
    uint8_t b = 0x08; /* literal without indexing, name from static entry 8 (":status") */
    put(block, &b, 1);
    b = (uint8_t)strlen(status);
    put(block, &b, 1);
    put(block, status, strlen(status));
}

#define END_STREAM 0x1
#define END_HEADERS 0x4

/* Reads until the request's DATA frame with END_STREAM (or the peer closing). */
static int read_request(int fd) {
    uint8_t buf[8192];
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0) return -1;
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n <= 0) return -1;
        len += (size_t)n;
        size_t at = 24; /* the client magic */
        while (len >= at + 9) {
            size_t flen = (size_t)buf[at] << 16 | (size_t)buf[at + 1] << 8 | buf[at + 2];
            if (len < at + 9 + flen) break;
            if (buf[at + 3] == 0 && (buf[at + 4] & END_STREAM)) return 0;
            at += 9 + flen;
        }
        if (len == sizeof buf) return -1;
    }
}

static void answer(peer *pe, int fd, enum scenario s) {
    if (s == NOT_HTTP2) {
        if (read_request(fd) != 0) return;
        const char *http1 = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        if (send(fd, http1, strlen(http1), MSG_NOSIGNAL) < 0) return;
        uint8_t sink[4096];
        while (recv(fd, sink, sizeof sink, 0) > 0) {} /* until the client hangs up */
        return;
    }
    if (read_request(fd) != 0) return;
    out o = {.len = 0}, head = {.len = 0}, tail = {.len = 0};
    frame(&o, 4, 0, 0, NULL, 0); /* SETTINGS */
    frame(&o, 4, 1, 0, NULL, 0); /* SETTINGS ACK */
    header(&tail, "grpc-status", "0");
    switch (s) {
    case BAD_PROTOBUF: {
        status_header(&head, "200");
        header(&head, "content-type", "application/grpc");
        frame(&o, 1, END_HEADERS, 1, head.data, head.len);
        const uint8_t msg[] = {0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF};
        frame(&o, 0, 0, 1, msg, sizeof msg);
        frame(&o, 1, END_HEADERS | END_STREAM, 1, tail.data, tail.len);
        break;
    }
    case TRUNCATED: {
        status_header(&head, "200");
        header(&head, "content-type", "application/grpc");
        frame(&o, 1, END_HEADERS, 1, head.data, head.len);
        const uint8_t msg[] = {0, 0, 0, 0, 100, 0x0A, 0x00, 0x00};
        frame(&o, 0, 0, 1, msg, sizeof msg);
        frame(&o, 1, END_HEADERS | END_STREAM, 1, tail.data, tail.len);
        break;
    }
    case NO_STATUS: {
        status_header(&head, "200");
        header(&head, "content-type", "application/grpc");
        frame(&o, 1, END_HEADERS, 1, head.data, head.len);
        const uint8_t msg[] = {0, 0, 0, 0, 0};
        frame(&o, 0, END_STREAM, 1, msg, sizeof msg);
        break;
    }
    case ENCODED_MESSAGE:
        status_header(&head, "200");
        header(&head, "content-type", "application/grpc");
        header(&head, "grpc-status", "5");
        header(&head, "grpc-message", "no run 'caf%C3%A9' (100%25 sure)%");
        frame(&o, 1, END_HEADERS | END_STREAM, 1, head.data, head.len);
        break;
    case HTTP_503:
        status_header(&head, "503");
        header(&head, "content-type", "text/plain");
        frame(&o, 1, END_HEADERS | END_STREAM, 1, head.data, head.len);
        break;
    case NOT_GRPC: {
        status_header(&head, "200");
        header(&head, "content-type", "text/html");
        frame(&o, 1, END_HEADERS, 1, head.data, head.len);
        const uint8_t body[] = "<html>";
        frame(&o, 0, END_STREAM, 1, body, sizeof body - 1);
        break;
    }
    case TWO_MESSAGES: {
        status_header(&head, "200");
        header(&head, "content-type", "application/grpc");
        frame(&o, 1, END_HEADERS, 1, head.data, head.len);
        const uint8_t two[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        frame(&o, 0, 0, 1, two, sizeof two);
        frame(&o, 1, END_HEADERS | END_STREAM, 1, tail.data, tail.len);
        break;
    }
    case SILENT: {
        if (send(fd, o.data, o.len, MSG_NOSIGNAL) < 0) return;
        /* Takes in whatever comes until released or the client gives up and closes. */
        for (;;) {
            struct pollfd p[2] = {{.fd = pe->release[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
            if (poll(p, 2, 30000) <= 0 || p[0].revents) return;
            uint8_t sink[4096];
            if (recv(fd, sink, sizeof sink, 0) <= 0) return;
        }
    }
    default:
        return;
    }
    if (send(fd, o.data, o.len, MSG_NOSIGNAL) < 0) return;
    uint8_t sink[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 10000) > 0 && recv(fd, sink, sizeof sink, 0) > 0) {} /* until the client closes */
}

static void *serve(void *arg) {
    peer *pe = arg;
    for (int i = 0; i < SCENARIOS; i++) {
        int fd = accept(pe->listener, NULL, NULL);
        if (fd < 0) return NULL;
        answer(pe, fd, (enum scenario)i);
        close(fd);
    }
    return NULL;
}

static peer fake;
static int calls; /* connections made to the fake peer so far */

/* One call (DescribeWorkflow) on a fresh connection to the fake peer, which answers with `s`. */
static int call_with(enum scenario s, int timeout_ms, baton_error *err) {
    char address[32];
    snprintf(address, sizeof address, "127.0.0.1:%d", fake.port);
    if (calls++ != (int)s) {
        fprintf(stderr, "test_transport: scenario %d called out of order\n", (int)s);
        exit(2);
    }
    baton_client *c = baton_connect(address, err);
    if (!c) return err->code;
    if (timeout_ms) baton_set_call_timeout(c, timeout_ms);
    baton_workflow *run = NULL;
    int rc = baton_describe(c, "w", &run, err);
    baton_workflow_free(run);
    baton_close(c);
    return rc;
}

static void test_malformed_answers_are_protocol_errors(void) {
    baton_error err;
    CHECK_CODE(call_with(BAD_PROTOBUF, 0, &err), BATON_ERR_PROTOCOL, err);
    CHECK_CONTAINS(err.message, "not a valid baton.v1.DescribeWorkflowResponse");
    CHECK_CODE(call_with(TRUNCATED, 0, &err), BATON_ERR_PROTOCOL, err);
    CHECK_CONTAINS(err.message, "ended inside a message");
    CHECK_CODE(call_with(NO_STATUS, 0, &err), BATON_ERR_PROTOCOL, err);
    CHECK_CONTAINS(err.message, "without a grpc-status");
    CHECK_CODE(call_with(NOT_GRPC, 0, &err), BATON_ERR_PROTOCOL, err);
    CHECK_CONTAINS(err.message, "content-type 'text/html' is not application/grpc");
    CHECK_CODE(call_with(TWO_MESSAGES, 0, &err), BATON_ERR_PROTOCOL, err);
    CHECK_CONTAINS(err.message, "more than one message");
    CHECK_CODE(call_with(NOT_HTTP2, 0, &err), BATON_ERR_PROTOCOL, err);
    CHECK_CONTAINS(err.message, "HTTP/2 error talking to 127.0.0.1:");
}

static void test_statuses_from_headers(void) {
    baton_error err;
    CHECK_CODE(call_with(ENCODED_MESSAGE, 0, &err), BATON_NOT_FOUND, err);
    CHECK_STR(err.message, "no run 'caf\xC3\xA9' (100% sure)%"); /* a malformed escape stays as it is */
    CHECK_CODE(call_with(HTTP_503, 0, &err), BATON_UNAVAILABLE, err);
    CHECK_CONTAINS(err.message, "HTTP status 503");
}

static void test_a_silent_peer_meets_the_client_deadline(void) {
    baton_error err;
    double start = check_now();
    CHECK_CODE(call_with(SILENT, 200, &err), BATON_DEADLINE_EXCEEDED, err);
    double took = check_now() - start;
    CHECK_CONTAINS(err.message, "(client side)");
    CHECK(took >= 0.2 && took < 10.0, "took %.2f s (200 ms deadline + 2 s grace)", took);
}

int main(void) {
    fake.listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (fake.listener < 0 || bind(fake.listener, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(fake.listener, 8) != 0 || getsockname(fake.listener, (struct sockaddr *)&sa, &len) != 0 ||
        pipe(fake.release) != 0) {
        perror("test_transport: fake peer");
        return 2;
    }
    fake.port = ntohs(sa.sin_port);
    pthread_t thread;
    if (pthread_create(&thread, NULL, serve, &fake) != 0) return 2;
    RUN(test_malformed_answers_are_protocol_errors);
    RUN(test_statuses_from_headers);
    RUN(test_a_silent_peer_meets_the_client_deadline);
    close(fake.release[1]); /* releases a SILENT connection still held */
    shutdown(fake.listener, SHUT_RDWR);
    pthread_join(thread, NULL);
    close(fake.listener);
    close(fake.release[0]);
    return check_summary("test_transport");
}
