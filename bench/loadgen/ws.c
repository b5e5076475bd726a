#include "ws.h"

#include <string.h>

static uint32_t mask_seed = 0x9e3779b9u;

long ws_parse_frame(uint8_t *data, size_t avail, ws_frame *frame)
{
    if (avail < 2) return 0;
    size_t header = 2;
    uint64_t len = data[1] & 0x7f;
    int masked = data[1] & 0x80;
    if (len == 126) {
        if (avail < 4) return 0;
        len = (uint64_t)data[2] << 8 | data[3];
        header = 4;
    } else if (len == 127) {
        if (avail < 10) return 0;
        len = 0;
        for (int i = 0; i < 8; i++) len = len << 8 | data[2 + i];
        header = 10;
    }
    if (len > (1u << 30)) return -1;
    size_t key_at = header;
    if (masked) header += 4;
    if (avail < header + len) return 0;
    frame->fin = data[0] & 0x80;
    frame->opcode = data[0] & 0x0f;
    frame->payload = data + header;
    frame->len = (size_t)len;
    if (masked) {
        for (size_t i = 0; i < len; i++) frame->payload[i] ^= data[key_at + (i & 3)];
    }
    return (long)(header + len);
}

void ws_append_frame(buffer *out, int opcode, const void *payload, size_t len, int masked)
{
    uint8_t header[14];
    size_t n = 0;
    uint8_t mask_bit = masked ? 0x80 : 0;
    header[n++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        header[n++] = (uint8_t)(mask_bit | len);
    } else if (len < 65536) {
        header[n++] = mask_bit | 126;
        header[n++] = (uint8_t)(len >> 8);
        header[n++] = (uint8_t)len;
    } else {
        header[n++] = mask_bit | 127;
        for (int i = 7; i >= 0; i--) header[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t key[4] = {0};
    if (masked) {
        mask_seed = mask_seed * 1664525u + 1013904223u;
        memcpy(key, &mask_seed, 4);
        memcpy(header + n, key, 4);
        n += 4;
    }
    buffer_reserve(out, n + len);
    memcpy(out->data + out->len, header, n);
    uint8_t *dst = out->data + out->len + n;
    const uint8_t *src = payload;
    if (masked) {
        for (size_t i = 0; i < len; i++) dst[i] = src[i] ^ key[i & 3];
    } else {
        memcpy(dst, src, len);
    }
    out->len += n + len;
}
