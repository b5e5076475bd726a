/* wampblast: an "ideal router" used only to measure the load generator's own ceiling.
 * It accepts any session, and for each PUBLISH writes one pre-built EVENT frame to every
 * subscriber (built once, copied per subscriber, flushed once per loop round). No
 * authorization, no topic matching, no Python: the cheapest thing that still speaks enough
 * WAMP for wampload's fan-out mode. Usage: wampblast --port P [--duration S] */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buffer.h"
#include "clock.h"
#include "wamp.h"
#include "ws.h"

#define MAX_EVENTS 512
#define MAX_SUBSCRIBERS 20000

typedef struct peer {
    int fd;
    int upgraded;
    int want_write;
    int dirty;
    int subscriber_index; /* -1 when not subscribed */
    struct peer *next_dropped;
    buffer in;
    buffer out;
} peer;

static int epoll_fd;
static peer *subscribers[MAX_SUBSCRIBERS];
static int subscriber_count;
static peer *dirty[MAX_SUBSCRIBERS + 64];
static int dirty_count;
static unsigned long long next_publication = 1;
static peer *dropped;

static void mark_dirty(peer *p)
{
    if (p->dirty || dirty_count == (int)(sizeof dirty / sizeof *dirty)) return;
    p->dirty = 1;
    dirty[dirty_count++] = p;
}

static void send_text(peer *p, const char *msg, size_t len)
{
    ws_append_frame(&p->out, WS_TEXT, msg, len, 0);
    mark_dirty(p);
}

static void drop(peer *p)
{
    if (p->subscriber_index >= 0) {
        peer *last = subscribers[--subscriber_count];
        subscribers[p->subscriber_index] = last;
        last->subscriber_index = p->subscriber_index;
    }
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    p->fd = -1; /* freed after this round: it may still be on the dirty list */
    p->next_dropped = dropped;
    dropped = p;
}

static void free_dropped(void)
{
    while (dropped) {
        peer *p = dropped;
        dropped = p->next_dropped;
        buffer_free(&p->in);
        buffer_free(&p->out);
        free(p);
    }
}

static void fan_out(peer *publisher, const uint8_t *msg, size_t len)
{
    /* Our own PUBLISH: [16,req,{...},"topic",[],{...}] -> [36,1,pub,{},[],{...}] */
    const uint8_t *topic = memmem(msg, len, "},\"", 3);
    const uint8_t *rest = topic ? memmem(topic + 3, len - (size_t)(topic + 3 - msg), "\",", 2) : NULL;
    if (!rest) return;
    rest += 2;
    unsigned long long publication = next_publication++;
    char head[64];
    int head_len = snprintf(head, sizeof head, "[36,1,%llu,{},", publication);
    buffer event = {0};
    buffer_append(&event, head, (size_t)head_len);
    buffer_append(&event, rest, len - (size_t)(rest - msg));
    buffer frame = {0};
    ws_append_frame(&frame, WS_TEXT, event.data, event.len, 0);
    for (int i = 0; i < subscriber_count; i++) {
        buffer_append(&subscribers[i]->out, frame.data, frame.len);
        mark_dirty(subscribers[i]);
    }
    buffer_free(&event);
    buffer_free(&frame);
    char ack[64];
    int n = snprintf(ack, sizeof ack, "[17,%lld,%llu]", wamp_second_integer(msg, len), publication);
    send_text(publisher, ack, (size_t)n);
}

static void on_message(peer *p, const uint8_t *msg, size_t len)
{
    static const char welcome[] =
        "[2,1,{\"authid\":\"bench\",\"authrole\":\"bench\",\"authmethod\":\"anonymous\","
        "\"roles\":{\"broker\":{}}}]";
    char reply[64];
    switch (wamp_message_type(msg, len)) {
    case WAMP_HELLO:
        send_text(p, welcome, sizeof welcome - 1);
        break;
    case WAMP_SUBSCRIBE:
        if (p->subscriber_index < 0 && subscriber_count < MAX_SUBSCRIBERS) {
            p->subscriber_index = subscriber_count;
            subscribers[subscriber_count++] = p;
        }
        send_text(p, reply, (size_t)snprintf(reply, sizeof reply, "[33,%lld,1]", wamp_second_integer(msg, len)));
        break;
    case WAMP_PUBLISH:
        fan_out(p, msg, len);
        break;
    default:
        break;
    }
}

static void upgrade(peer *p)
{
    static const char response[] =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: not-checked-by-wampload=\r\n"
        "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n";
    uint8_t *end = memmem(p->in.data, p->in.len, "\r\n\r\n", 4);
    if (!end) return;
    buffer_consume(&p->in, (size_t)(end - p->in.data) + 4);
    buffer_append(&p->out, response, sizeof response - 1);
    mark_dirty(p);
    p->upgraded = 1;
}

static void on_readable(peer *p)
{
    buffer_reserve(&p->in, 65536);
    ssize_t n = read(p->fd, p->in.data + p->in.len, 65536);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        drop(p);
        return;
    }
    if (n < 0) return;
    p->in.len += (size_t)n;
    if (!p->upgraded) upgrade(p);
    if (!p->upgraded) return;
    size_t off = 0;
    for (;;) {
        ws_frame frame;
        long used = ws_parse_frame(p->in.data + off, p->in.len - off, &frame);
        if (used <= 0) break;
        off += (size_t)used;
        if (frame.opcode == WS_CLOSE) {
            drop(p);
            return;
        }
        if (frame.opcode == WS_TEXT && frame.fin) on_message(p, frame.payload, frame.len);
    }
    buffer_consume(&p->in, off);
}

static void flush(peer *p)
{
    while (p->fd >= 0 && p->out.len > 0) {
        ssize_t n = write(p->fd, p->out.data, p->out.len);
        if (n > 0) {
            buffer_consume(&p->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EAGAIN) break;
        drop(p);
        return;
    }
    if (p->fd < 0) return;
    int want_write = p->out.len > 0;
    if (want_write != p->want_write) {
        struct epoll_event ev = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0), .data.ptr = p};
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, p->fd, &ev);
        p->want_write = want_write;
    }
}

static void flush_dirty(void)
{
    for (int i = 0; i < dirty_count; i++) {
        dirty[i]->dirty = 0;
        flush(dirty[i]);
    }
    dirty_count = 0;
}

static void accept_all(int listener)
{
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        peer *p = calloc(1, sizeof *p);
        p->fd = fd;
        p->subscriber_index = -1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    }
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0) {
        perror("wampblast: listen");
        exit(2);
    }
    return fd;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"port", 1, 0, 'p'}, {"duration", 1, 0, 'd'}, {0, 0, 0, 0}};
    int port = 9300, ch;
    double duration_s = 120;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'p') port = atoi(optarg);
        else if (ch == 'd') duration_s = atof(optarg);
        else return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    int listener = listen_on(port);
    static int listener_marker;
    epoll_fd = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listener_marker};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &lev);
    printf("{\"event\":\"listening\",\"port\":%d}\n", port);
    fflush(stdout);
    int64_t end_at = now_ns() + (int64_t)(duration_s * NS_PER_S);
    struct epoll_event events[MAX_EVENTS];
    while (now_ns() < end_at) {
        int n = epoll_wait(epoll_fd, events, MAX_EVENTS, 100);
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &listener_marker) {
                accept_all(listener);
                continue;
            }
            peer *p = events[i].data.ptr;
            if (p->fd >= 0 && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(p);
            if (p->fd >= 0 && (events[i].events & EPOLLOUT)) mark_dirty(p);
        }
        flush_dirty();
        free_dropped();
    }
    return 0;
}
