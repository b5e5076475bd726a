#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wamp.h"
#include "ws.h"

#define READ_CHUNK (256 * 1024)
#define MAX_EPOLL_EVENTS 512

static const client_target *target;
static const client_hooks *hooks;
static int epoll_fd = -1;
static struct sockaddr_in target_addr;
static buffer scratch;
static client *dead_clients;
static int stdin_registered;

void clients_init(const client_target *t, const client_hooks *h)
{
    target = t;
    hooks = h;
    epoll_fd = epoll_create1(0);
    memset(&target_addr, 0, sizeof target_addr);
    target_addr.sin_family = AF_INET;
    target_addr.sin_port = htons((uint16_t)t->port);
    if (epoll_fd < 0 || inet_pton(AF_INET, t->host, &target_addr.sin_addr) != 1) {
        fprintf(stderr, "loadgen: bad target %s\n", t->host);
        exit(2);
    }
}

static void update_interest(client *c, int want_write)
{
    if (c->want_write == want_write) return;
    struct epoll_event ev = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_write = want_write;
}

static void release(client *c, int abortive)
{
    if (c->state == CS_CLOSED) return;
    if (abortive) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = CS_CLOSED;
    c->next_dead = dead_clients; /* freed after the current dispatch round */
    dead_clients = c;
}

void client_close(client *c, int abortive) { release(c, abortive); }

static void lose(client *c, const char *reason)
{
    if (c->state == CS_CLOSED) return;
    release(c, 1);
    hooks->on_lost(c, reason);
}

static void flush(client *c)
{
    while (c->out.len > 0) {
        ssize_t n = write(c->fd, c->out.data, c->out.len);
        if (n > 0) {
            buffer_consume(&c->out, (size_t)n);
        } else if (n < 0 && errno == EAGAIN) {
            update_interest(c, 1);
            return;
        } else {
            lose(c, "write failed");
            return;
        }
    }
    update_interest(c, 0);
}

client *client_open(client_role role, client_auth auth)
{
    client *c = calloc(1, sizeof *c);
    c->role = role;
    c->auth = auth;
    c->next_request = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("loadgen: socket");
        exit(2);
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = CS_CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    c->want_write = 1;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev);
    if (connect(c->fd, (struct sockaddr *)&target_addr, sizeof target_addr) < 0 &&
        errno != EINPROGRESS) {
        lose(c, "connect failed");
    }
    return c;
}

void client_send_text(client *c, const char *msg, size_t len)
{
    if (c->state == CS_CLOSED) return;
    ws_append_frame(&c->out, WS_TEXT, msg, len, 1);
    flush(c);
}

static void send_upgrade(client *c)
{
    char request[512];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGVsZWdyYXBoeS1iZW5jaA==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n",
                     target->path, target->host, target->port);
    buffer_append(&c->out, request, (size_t)n);
    c->state = CS_UPGRADING;
    flush(c);
}

static void send_hello(client *c)
{
    char hello[512];
    int n;
    if (c->auth == AUTH_WAMPCRA) {
        n = snprintf(hello, sizeof hello,
                     "[1,\"%s\",{\"roles\":{\"publisher\":{},\"subscriber\":{}},"
                     "\"authmethods\":[\"wampcra\"],\"authid\":\"%s\"}]",
                     target->realm, target->authid);
    } else {
        n = snprintf(hello, sizeof hello,
                     "[1,\"%s\",{\"roles\":{\"publisher\":{},\"subscriber\":{}},"
                     "\"authmethods\":[\"anonymous\"]}]",
                     target->realm);
    }
    c->state = CS_JOINING;
    client_send_text(c, hello, (size_t)n);
}

static void become_ready(client *c)
{
    c->state = CS_READY;
    c->was_ready = 1;
    hooks->on_ready(c);
}

static void on_joining_message(client *c, int type, const uint8_t *msg, size_t len)
{
    char reply[256];
    if (type == WAMP_CHALLENGE) {
        char signature[64];
        if (wamp_cra_signature(msg, len, target->secret, signature) < 0) {
            lose(c, "unreadable CHALLENGE");
            return;
        }
        int n = snprintf(reply, sizeof reply, "[5,\"%s\",{}]", signature);
        client_send_text(c, reply, (size_t)n);
    } else if (type == WAMP_WELCOME && c->role == ROLE_SUBSCRIBER) {
        int n = snprintf(reply, sizeof reply, "[32,1,{},\"%s\"]", target->topic);
        c->state = CS_SUBSCRIBING;
        client_send_text(c, reply, (size_t)n);
    } else if (type == WAMP_WELCOME) {
        become_ready(c);
    } else {
        fprintf(stderr, "loadgen: join refused: %.*s\n", (int)(len > 300 ? 300 : len), msg);
        lose(c, "join refused");
    }
}

static void on_message(client *c, const uint8_t *msg, size_t len)
{
    int type = wamp_message_type(msg, len);
    switch (c->state) {
    case CS_READY:
        if (type == WAMP_EVENT) {
            c->received++;
            hooks->on_event(c, msg, len);
        } else {
            hooks->on_reply(c, type, msg, len);
        }
        break;
    case CS_JOINING:
        on_joining_message(c, type, msg, len);
        break;
    case CS_SUBSCRIBING:
        if (type == WAMP_SUBSCRIBED) {
            become_ready(c);
        } else {
            fprintf(stderr, "loadgen: subscribe refused: %.*s\n", (int)(len > 300 ? 300 : len), msg);
            lose(c, "subscribe refused");
        }
        break;
    default:
        lose(c, "unexpected message");
    }
}

static void on_frame(client *c, const ws_frame *f)
{
    switch (f->opcode) {
    case WS_TEXT:
    case WS_BINARY:
        if (f->fin) {
            on_message(c, f->payload, f->len);
        } else {
            c->fragment.len = 0;
            buffer_append(&c->fragment, f->payload, f->len);
        }
        break;
    case WS_CONT:
        buffer_append(&c->fragment, f->payload, f->len);
        if (f->fin) {
            on_message(c, c->fragment.data, c->fragment.len);
            c->fragment.len = 0;
        }
        break;
    case WS_PING:
        ws_append_frame(&c->out, WS_PONG, f->payload, f->len, 1);
        flush(c);
        break;
    case WS_CLOSE:
        lose(c, "closed by router");
        break;
    default:
        break;
    }
}

/* Parses the frames in data[0..len); keeps an incomplete tail in c->in. */
static void parse_frames(client *c, uint8_t *data, size_t len)
{
    size_t off = 0;
    while (c->state != CS_CLOSED) {
        ws_frame frame;
        long used = ws_parse_frame(data + off, len - off, &frame);
        if (used < 0) {
            lose(c, "bad frame");
            return;
        }
        if (used == 0) break;
        off += (size_t)used;
        on_frame(c, &frame);
    }
    if (c->state == CS_CLOSED) return;
    c->in.len = 0;
    buffer_append(&c->in, data + off, len - off);
}

static void on_upgrade_bytes(client *c, uint8_t *data, size_t len)
{
    buffer_append(&c->in, data, len);
    uint8_t *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
    if (!end) {
        if (c->in.len > 8192) lose(c, "oversized HTTP response");
        return;
    }
    if (c->in.len < 12 || memcmp(c->in.data + 9, "101", 3) != 0) {
        lose(c, "upgrade refused");
        return;
    }
    buffer rest = {0};
    size_t head = (size_t)(end - c->in.data) + 4;
    buffer_append(&rest, c->in.data + head, c->in.len - head);
    c->in.len = 0;
    send_hello(c);
    if (rest.len) parse_frames(c, rest.data, rest.len);
    buffer_free(&rest);
}

static void on_readable(client *c)
{
    size_t kept = c->in.len;
    scratch.len = 0;
    buffer_reserve(&scratch, kept + READ_CHUNK);
    if (c->state != CS_UPGRADING) memcpy(scratch.data, c->in.data, kept);
    else kept = 0;
    ssize_t n = read(c->fd, scratch.data + kept, READ_CHUNK);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        lose(c, n == 0 ? "connection closed" : "read failed");
        return;
    }
    if (n < 0) return;
    if (c->state == CS_UPGRADING) on_upgrade_bytes(c, scratch.data, (size_t)n);
    else parse_frames(c, scratch.data, kept + (size_t)n);
}

static void on_connected(client *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) lose(c, "connect refused");
    else send_upgrade(c);
}

static void free_dead_clients(void)
{
    while (dead_clients) {
        client *c = dead_clients;
        dead_clients = c->next_dead;
        buffer_free(&c->in);
        buffer_free(&c->out);
        buffer_free(&c->fragment);
        free(c);
    }
}

void clients_poll(int timeout_ms, int *stdin_closed)
{
    static client stdin_marker;
    struct epoll_event events[MAX_EPOLL_EVENTS];
    if (stdin_closed && !stdin_registered) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &stdin_marker};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
        stdin_registered = 1;
    }
    int n = epoll_wait(epoll_fd, events, MAX_EPOLL_EVENTS, timeout_ms);
    for (int i = 0; i < n; i++) {
        client *c = events[i].data.ptr;
        if (c == &stdin_marker) {
            if (stdin_closed) *stdin_closed = 1;
            continue;
        }
        if (c->state == CS_CLOSED) continue;
        if (c->state == CS_CONNECTING) {
            if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c);
            continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
        if (c->state != CS_CLOSED && (events[i].events & EPOLLOUT)) flush(c);
    }
    free_dead_clients();
}
