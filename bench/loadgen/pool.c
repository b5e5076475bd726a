#include "pool.h"

void pool_fill(subscriber_pool *pool)
{
    while (pool->ready + pool->pending < pool->target && pool->pending < pool->concurrency &&
           !pool_failing(pool)) {
        pool->pending++;
        client_open(ROLE_SUBSCRIBER, AUTH_ANONYMOUS);
    }
}

void pool_on_ready(subscriber_pool *pool)
{
    pool->pending--;
    pool->ready++;
    pool->live++;
}

void pool_on_lost(subscriber_pool *pool, const client *c)
{
    if (c->was_ready) {
        pool->live--;
        pool->lost_after_ready++;
        pool->received_by_live -= c->received;
    } else {
        pool->pending--;
        pool->setup_failures++;
    }
}

int pool_failing(const subscriber_pool *pool)
{
    return pool->setup_failures > 100 + pool->target / 10;
}
