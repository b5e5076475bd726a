/* SHA-256, HMAC-SHA256 and base64: just enough for WAMP-CRA signatures. */
#ifndef LOADGEN_SHA256_H
#define LOADGEN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

void hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                 uint8_t out[SHA256_DIGEST_LEN]);

/* Writes the NUL-terminated base64 text of `in` to `out` (needs 4*((len+2)/3)+1 bytes). */
void base64_encode(const uint8_t *in, size_t len, char *out);

#endif
