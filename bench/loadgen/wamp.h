/* The few WAMP v2 JSON messages the load generator sends and recognises. */
#ifndef LOADGEN_WAMP_H
#define LOADGEN_WAMP_H

#include <stddef.h>
#include <stdint.h>

enum {
    WAMP_HELLO = 1, WAMP_WELCOME = 2, WAMP_ABORT = 3, WAMP_CHALLENGE = 4, WAMP_AUTHENTICATE = 5,
    WAMP_GOODBYE = 6, WAMP_ERROR = 8, WAMP_PUBLISH = 16, WAMP_PUBLISHED = 17,
    WAMP_SUBSCRIBE = 32, WAMP_SUBSCRIBED = 33, WAMP_EVENT = 36,
};

/* The message type code, or -1 when `msg` does not start like a WAMP JSON message. */
int wamp_message_type(const uint8_t *msg, size_t len);

/* The second element of a message (a request or publication id), or -1. */
long long wamp_second_integer(const uint8_t *msg, size_t len);

/* Computes the WAMP-CRA (unsalted) signature for a CHALLENGE message into `signature`
 * (at least 64 bytes). Returns 0, or -1 when the message carries no challenge string. */
int wamp_cra_signature(const uint8_t *msg, size_t len, const char *secret, char *signature);

/* Finds `"ts":<integer>` in an EVENT and returns the integer, or -1. */
long long wamp_event_timestamp(const uint8_t *msg, size_t len);

#endif
