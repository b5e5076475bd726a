/* Fan-out: subscribers on one topic, publishers under flow control, events counted in a
 * fixed window. With --rate the publishers keep a fixed rate and receivers record latency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "pool.h"
#include "report.h"
#include "scenarios.h"
#include "wamp.h"

#define MAX_LATENCY_SAMPLES (4u * 1000 * 1000)
#define MAX_RATE_BACKLOG 1000

static const loadgen_options *opts;
static subscriber_pool pool;
static client *publishers[64];
static int publishers_ready, publishers_opened, publisher_lost;
static uint64_t published, acked, errors, total_received;
static int measuring;
static char payload_tail[4096];

static int64_t *latencies;
static size_t latency_count;

static void on_ready(client *c)
{
    if (c->role == ROLE_SUBSCRIBER) pool_on_ready(&pool);
    else publishers[publishers_ready++] = c;
}

static void on_event(client *c, const uint8_t *msg, size_t len)
{
    (void)c;
    total_received++;
    pool.received_by_live++;
    if (opts->rate > 0 && measuring && latency_count < MAX_LATENCY_SAMPLES) {
        long long sent = wamp_event_timestamp(msg, len);
        if (sent > 0) latencies[latency_count++] = now_ns() - sent;
    }
}

static void on_reply(client *c, int type, const uint8_t *msg, size_t len)
{
    if (c->role != ROLE_PUBLISHER) return;
    if (type == WAMP_PUBLISHED) {
        c->inflight--;
        acked++;
    } else if (type == WAMP_ERROR) {
        if (errors++ == 0) fprintf(stderr, "loadgen: publish error: %.*s\n", (int)(len > 300 ? 300 : len), msg);
        c->inflight--;
    }
}

static void on_lost(client *c, const char *reason)
{
    if (c->role == ROLE_SUBSCRIBER) {
        pool_on_lost(&pool, c);
        return;
    }
    fprintf(stderr, "loadgen: publisher lost: %s\n", reason);
    publisher_lost = 1;
}

/* The event body after the timestamp, shaped like a Telegraphy model event and padded so
 * the whole PUBLISH is about --payload-bytes long. */
static void build_payload_tail(void)
{
    static const char head[] = "\"name\":\"shop.Order\",\"meta\":{\"event_type\":\"update\","
                               "\"verbose_name\":\"order\"},\"data\":{\"id\":4242,\"status\":"
                               "\"paid\",\"total\":\"99.50\",\"note\":\"";
    size_t fixed = strlen(head) + 3 + 80; /* closing quote and braces, PUBLISH framing */
    size_t pad = (size_t)opts->payload_bytes > fixed ? (size_t)opts->payload_bytes - fixed : 0;
    if (pad > sizeof payload_tail - sizeof head - 8) pad = sizeof payload_tail - sizeof head - 8;
    size_t n = strlen(head);
    memcpy(payload_tail, head, n);
    memset(payload_tail + n, 'x', pad);
    strcpy(payload_tail + n + pad, "\"}");
}

static void publish(client *p)
{
    char msg[4608];
    int n = snprintf(msg, sizeof msg, "[16,%llu,{\"acknowledge\":true},\"%s\",[],{\"ts\":%lld,%s}]",
                     (unsigned long long)p->next_request++, opts->target.topic,
                     (long long)now_ns(), payload_tail);
    p->inflight++;
    published++;
    client_send_text(p, msg, (size_t)n);
}

static int deliveries_within_lag(void)
{
    uint64_t owed = (uint64_t)pool.live * published - pool.received_by_live;
    return owed < (uint64_t)opts->max_lag * (uint64_t)pool.live;
}

/* Publishes as fast as the acknowledgement window and the subscribers' lag allow. */
static void pump_saturating(void)
{
    for (int i = 0; i < publishers_ready; i++) {
        client *p = publishers[i];
        while (p->inflight < (uint64_t)opts->publish_window && deliveries_within_lag()) publish(p);
    }
}

/* Publishes what is due at the fixed rate, spread round-robin over the publishers. */
static void pump_rate(int64_t started_ns, int64_t now)
{
    uint64_t due = (uint64_t)((double)(now - started_ns) / NS_PER_S * opts->rate);
    while (published < due) {
        client *p = publishers[published % (uint64_t)publishers_ready];
        if (p->inflight >= MAX_RATE_BACKLOG) break;
        publish(p);
    }
}

static int setup(int64_t deadline)
{
    while (publishers_ready < opts->publishers) {
        if (now_ns() > deadline || pool_failing(&pool) || publisher_lost) {
            fprintf(stderr, "loadgen: setup failed: %d/%d subscribers, %d/%d publishers\n",
                    pool.ready, opts->subscribers, publishers_ready, opts->publishers);
            return -1;
        }
        pool_fill(&pool);
        if (pool.ready == pool.target && publishers_opened < opts->publishers) {
            for (; publishers_opened < opts->publishers; publishers_opened++)
                client_open(ROLE_PUBLISHER, AUTH_WAMPCRA);
        }
        clients_poll(10, NULL);
    }
    return 0;
}

static int compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double percentile_ms(double q)
{
    if (latency_count == 0) return -1;
    size_t i = (size_t)(q * (double)(latency_count - 1));
    return (double)latencies[i] / 1e6;
}

static void print_result(double window_s, uint64_t received, uint64_t publishes, double cpu_s)
{
    printf("{\"event\":\"result\",\"mode\":\"fanout\",\"subscribers\":%d,\"publishers\":%d,"
           "\"window_s\":%.3f,\"events_received\":%llu,\"events_per_s\":%.1f,"
           "\"publishes\":%llu,\"publishes_per_s\":%.1f,\"acked\":%llu,\"errors\":%llu,"
           "\"subscribers_lost\":%d,\"generator_cpu\":%.3f",
           pool.ready, publishers_ready, window_s, (unsigned long long)received,
           (double)received / window_s, (unsigned long long)publishes,
           (double)publishes / window_s, (unsigned long long)acked, (unsigned long long)errors,
           pool.lost_after_ready, cpu_s / window_s);
    if (opts->rate > 0) {
        qsort(latencies, latency_count, sizeof *latencies, compare_int64);
        printf(",\"latency_samples\":%zu,\"latency_p50_ms\":%.3f,\"latency_p90_ms\":%.3f,"
               "\"latency_p99_ms\":%.3f,\"latency_max_ms\":%.3f",
               latency_count, percentile_ms(0.50), percentile_ms(0.90), percentile_ms(0.99),
               percentile_ms(1.0));
    }
    printf("}\n");
    fflush(stdout);
}

int run_fanout(const loadgen_options *o)
{
    static const client_hooks hooks = {on_ready, on_event, on_reply, on_lost};
    opts = o;
    pool = (subscriber_pool){.target = o->subscribers, .concurrency = o->concurrency};
    if (o->rate > 0) latencies = malloc(MAX_LATENCY_SAMPLES * sizeof *latencies);
    build_payload_tail();
    clients_init(&o->target, &hooks);
    int64_t start = now_ns();
    if (setup(start + (int64_t)(o->setup_timeout_s * NS_PER_S)) < 0) return 1;
    report_mark("publishing", start);

    int64_t publishing_at = now_ns();
    int64_t window_at = publishing_at + (int64_t)(o->warmup_s * NS_PER_S);
    int64_t end_at = window_at + (int64_t)(o->duration_s * NS_PER_S);
    uint64_t received_at_window = 0, published_at_window = 0;
    double cpu_at_window = 0;
    for (int64_t now = now_ns(); now < end_at && !publisher_lost; now = now_ns()) {
        if (!measuring && now >= window_at) {
            measuring = 1;
            received_at_window = total_received;
            published_at_window = published;
            cpu_at_window = report_cpu_seconds();
            report_mark("window_start", start);
        }
        if (o->rate > 0) pump_rate(publishing_at, now);
        else pump_saturating();
        clients_poll(1, NULL);
    }
    if (publisher_lost || !measuring) return 1;
    report_mark("window_end", start);
    print_result(o->duration_s, total_received - received_at_window, published - published_at_window,
                 report_cpu_seconds() - cpu_at_window);
    return 0;
}
