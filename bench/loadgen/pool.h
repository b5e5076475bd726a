/* A set of subscriber sessions opened with bounded setup concurrency. */
#ifndef LOADGEN_POOL_H
#define LOADGEN_POOL_H

#include <stdint.h>

#include "client.h"

typedef struct {
    int target;
    int concurrency;
    int pending;          /* being set up */
    int ready;            /* ever became ready */
    int live;             /* ready and still connected */
    int setup_failures;
    int lost_after_ready;
    uint64_t received_by_live; /* EVENTs received by the live subscribers */
} subscriber_pool;

/* Opens subscribers until `target` are ready or being set up, `concurrency` at a time. */
void pool_fill(subscriber_pool *pool);

void pool_on_ready(subscriber_pool *pool);

/* Call from on_lost for a subscriber. */
void pool_on_lost(subscriber_pool *pool, const client *c);

/* True when setup keeps failing (the router refuses or is gone). */
int pool_failing(const subscriber_pool *pool);

#endif
