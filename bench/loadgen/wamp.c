#include "wamp.h"

#include <string.h>

#include "sha256.h"

static const uint8_t *skip_space(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const uint8_t *parse_integer(const uint8_t *p, const uint8_t *end, long long *value)
{
    long long v = 0;
    const uint8_t *start = p;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    *value = v;
    return p == start ? NULL : p;
}

int wamp_message_type(const uint8_t *msg, size_t len)
{
    const uint8_t *end = msg + len, *p = skip_space(msg, end);
    long long type;
    if (p == end || *p != '[') return -1;
    p = parse_integer(skip_space(p + 1, end), end, &type);
    return p ? (int)type : -1;
}

long long wamp_second_integer(const uint8_t *msg, size_t len)
{
    const uint8_t *end = msg + len;
    const uint8_t *comma = memchr(msg, ',', len);
    long long value;
    if (!comma) return -1;
    return parse_integer(skip_space(comma + 1, end), end, &value) ? value : -1;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes the JSON string starting after its opening quote; ASCII escapes only, which is
 * what routers emit for a challenge (itself JSON text). Returns the decoded length or -1. */
static long json_unescape(const uint8_t *p, const uint8_t *end, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (p < end && *p != '"') {
        uint8_t c = *p++;
        if (c == '\\') {
            if (p == end) return -1;
            c = *p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                if (end - p < 4) return -1;
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hex_value(p[i]);
                    if (h < 0) return -1;
                    v = v * 16 + h;
                }
                if (v > 127) return -1;
                c = (uint8_t)v;
                p += 4;
                break;
            }
            default: break; /* \" \\ \/ */
            }
        }
        if (n == cap) return -1;
        out[n++] = c;
    }
    return p < end ? (long)n : -1;
}

int wamp_cra_signature(const uint8_t *msg, size_t len, const char *secret, char *signature)
{
    static const char key[] = "\"challenge\"";
    const uint8_t *end = msg + len;
    const uint8_t *p = memmem(msg, len, key, sizeof key - 1);
    uint8_t challenge[4096], digest[SHA256_DIGEST_LEN];
    if (!p) return -1;
    p = skip_space(p + sizeof key - 1, end);
    if (p == end || *p != ':') return -1;
    p = skip_space(p + 1, end);
    if (p == end || *p != '"') return -1;
    long n = json_unescape(p + 1, end, challenge, sizeof challenge);
    if (n < 0) return -1;
    hmac_sha256((const uint8_t *)secret, strlen(secret), challenge, (size_t)n, digest);
    base64_encode(digest, SHA256_DIGEST_LEN, signature);
    return 0;
}

long long wamp_event_timestamp(const uint8_t *msg, size_t len)
{
    static const char key[] = "\"ts\"";
    const uint8_t *end = msg + len;
    const uint8_t *p = memmem(msg, len, key, sizeof key - 1);
    long long value;
    if (!p) return -1;
    p = skip_space(p + sizeof key - 1, end);
    if (p == end || *p != ':') return -1;
    return parse_integer(skip_space(p + 1, end), end, &value) ? value : -1;
}
