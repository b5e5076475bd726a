/* Idle connections: open --subscribers subscribed sessions, report "ready", and hold them
 * until standard input is closed (or a line arrives), so the driver can read router memory. */
#include <stdio.h>

#include "clock.h"
#include "pool.h"
#include "report.h"
#include "scenarios.h"

static subscriber_pool pool;

static void on_ready(client *c) { (void)c; pool_on_ready(&pool); }
static void on_lost(client *c, const char *reason)
{
    (void)reason;
    pool_on_lost(&pool, c);
}
static void ignore_event(client *c, const uint8_t *msg, size_t len) { (void)c; (void)msg; (void)len; }
static void ignore_reply(client *c, int type, const uint8_t *msg, size_t len)
{
    (void)c; (void)type; (void)msg; (void)len;
}

int run_idle(const loadgen_options *o)
{
    static const client_hooks hooks = {on_ready, ignore_event, ignore_reply, on_lost};
    pool = (subscriber_pool){.target = o->subscribers, .concurrency = o->concurrency};
    clients_init(&o->target, &hooks);
    int64_t start = now_ns();
    int64_t deadline = start + (int64_t)(o->setup_timeout_s * NS_PER_S);
    while (pool.ready < pool.target) {
        if (now_ns() > deadline || pool_failing(&pool)) {
            fprintf(stderr, "loadgen: only %d/%d idle sessions\n", pool.ready, pool.target);
            return 1;
        }
        pool_fill(&pool);
        clients_poll(10, NULL);
    }
    printf("{\"event\":\"ready\",\"t\":%.3f,\"connections\":%d}\n",
           (double)(now_ns() - start) / NS_PER_S, pool.ready);
    fflush(stdout);
    int released = 0;
    int64_t hold_until = now_ns() + (int64_t)(o->hold_timeout_s * NS_PER_S);
    while (!released && now_ns() < hold_until) clients_poll(100, &released);
    printf("{\"event\":\"result\",\"mode\":\"idle\",\"connections\":%d,\"lost\":%d,"
           "\"setup_failures\":%d}\n",
           pool.ready, pool.lost_after_ready, pool.setup_failures);
    fflush(stdout);
    return 0;
}
