#include "buffer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buffer_reserve(buffer *b, size_t extra)
{
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *data = realloc(b->data, cap);
    if (!data) {
        perror("realloc");
        exit(2);
    }
    b->data = data;
    b->cap = cap;
}

void buffer_append(buffer *b, const void *data, size_t len)
{
    buffer_reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void buffer_consume(buffer *b, size_t len)
{
    if (len >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + len, b->len - len);
    b->len -= len;
}

void buffer_free(buffer *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
