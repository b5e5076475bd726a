/* Non-blocking WAMP-over-WebSocket client sessions driven by one epoll loop. */
#ifndef LOADGEN_CLIENT_H
#define LOADGEN_CLIENT_H

#include <stdint.h>

#include "buffer.h"

typedef enum { ROLE_SUBSCRIBER, ROLE_PUBLISHER, ROLE_SESSION } client_role;
typedef enum { AUTH_ANONYMOUS, AUTH_WAMPCRA } client_auth;

typedef enum {
    CS_CONNECTING, CS_UPGRADING, CS_JOINING, CS_SUBSCRIBING, CS_READY, CS_CLOSED,
} client_state;

typedef struct client {
    int fd;
    client_role role;
    client_auth auth;
    client_state state;
    int want_write;
    int was_ready;
    buffer in;
    buffer fragment;
    buffer out;
    uint64_t received;  /* EVENTs received */
    uint64_t inflight;  /* publishes awaiting PUBLISHED */
    uint64_t next_request;
    struct client *next_dead;
} client;

typedef struct {
    void (*on_ready)(client *c);
    void (*on_event)(client *c, const uint8_t *msg, size_t len);
    void (*on_reply)(client *c, int type, const uint8_t *msg, size_t len);
    void (*on_lost)(client *c, const char *reason);
} client_hooks;

typedef struct {
    const char *host;
    int port;
    const char *path;
    const char *realm;
    const char *topic;
    const char *authid;
    const char *secret;
} client_target;

void clients_init(const client_target *target, const client_hooks *hooks);

/* Starts a connection; the outcome arrives through on_ready or on_lost. */
client *client_open(client_role role, client_auth auth);

void client_send_text(client *c, const char *msg, size_t len);

/* Closes without calling on_lost; `abortive` resets the TCP connection (no TIME_WAIT). */
void client_close(client *c, int abortive);

/* Waits up to `timeout_ms` for I/O and dispatches it. `stdin_closed` is set when the
 * controlling process writes a line to, or closes, standard input. */
void clients_poll(int timeout_ms, int *stdin_closed);

#endif
