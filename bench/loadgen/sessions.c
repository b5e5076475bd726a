/* Session establishment: keep --concurrency handshakes in flight; each session is reset
 * right after WELCOME and replaced by a new one. */
#include <stdio.h>

#include "clock.h"
#include "report.h"
#include "scenarios.h"

static int in_flight, measuring;
static uint64_t established, failures, total_established, total_failures;

static void on_ready(client *c)
{
    in_flight--;
    total_established++;
    if (measuring) established++;
    client_close(c, 1);
}

static void on_lost(client *c, const char *reason)
{
    (void)c;
    if (total_failures++ == 0) fprintf(stderr, "loadgen: session failed: %s\n", reason);
    in_flight--;
    if (measuring) failures++;
}

static void ignore_event(client *c, const uint8_t *msg, size_t len) { (void)c; (void)msg; (void)len; }
static void ignore_reply(client *c, int type, const uint8_t *msg, size_t len)
{
    (void)c; (void)type; (void)msg; (void)len;
}

int run_sessions(const loadgen_options *o)
{
    static const client_hooks hooks = {on_ready, ignore_event, ignore_reply, on_lost};
    clients_init(&o->target, &hooks);
    int64_t start = now_ns();
    int64_t window_at = start + (int64_t)(o->warmup_s * NS_PER_S);
    int64_t end_at = window_at + (int64_t)(o->duration_s * NS_PER_S);
    double cpu_at_window = 0;
    for (int64_t now = start; now < end_at; now = now_ns()) {
        if (!measuring && now >= window_at) {
            measuring = 1;
            cpu_at_window = report_cpu_seconds();
            report_mark("window_start", start);
        }
        if (total_failures > 1000 && total_established == 0) {
            fprintf(stderr, "loadgen: no session could be established\n");
            return 1;
        }
        while (in_flight < o->concurrency) {
            in_flight++;
            client_open(ROLE_SESSION, o->session_auth);
        }
        clients_poll(1, NULL);
    }
    report_mark("window_end", start);
    printf("{\"event\":\"result\",\"mode\":\"sessions\",\"auth\":\"%s\",\"concurrency\":%d,"
           "\"window_s\":%.3f,\"sessions\":%llu,\"sessions_per_s\":%.1f,\"failures\":%llu,"
           "\"generator_cpu\":%.3f}\n",
           o->session_auth == AUTH_WAMPCRA ? "wampcra" : "anonymous", o->concurrency,
           o->duration_s, (unsigned long long)established, (double)established / o->duration_s,
           (unsigned long long)failures, (report_cpu_seconds() - cpu_at_window) / o->duration_s);
    fflush(stdout);
    return 0;
}
