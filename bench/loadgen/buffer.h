/* A growable byte buffer. */
#ifndef LOADGEN_BUFFER_H
#define LOADGEN_BUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} buffer;

void buffer_reserve(buffer *b, size_t extra);
void buffer_append(buffer *b, const void *data, size_t len);
void buffer_consume(buffer *b, size_t len);
void buffer_free(buffer *b);

#endif
