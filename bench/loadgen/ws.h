/* WebSocket framing (RFC 6455) shared by the client and the ideal-router server. */
#ifndef LOADGEN_WS_H
#define LOADGEN_WS_H

#include "buffer.h"

enum { WS_CONT = 0, WS_TEXT = 1, WS_BINARY = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };

typedef struct {
    int fin;
    int opcode;
    uint8_t *payload; /* unmasked in place */
    size_t len;
} ws_frame;

/* Parses one frame at data[0..avail). Returns bytes consumed, 0 if incomplete, -1 if invalid. */
long ws_parse_frame(uint8_t *data, size_t avail, ws_frame *frame);

/* Appends a frame; `masked` for client-to-server frames. */
void ws_append_frame(buffer *out, int opcode, const void *payload, size_t len, int masked);

#endif
