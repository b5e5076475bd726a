#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fputs("usage: wampload --mode fanout|sessions|idle [--host H] [--port P] [--path /ws]\n"
          "  [--realm R] [--topic T] [--authid ID] [--secret S] [--auth anonymous|wampcra]\n"
          "  [--subscribers N] [--publishers N] [--concurrency N] [--window N] [--max-lag N]\n"
          "  [--rate R] [--payload-bytes B] [--warmup S] [--duration S] [--setup-timeout S]\n"
          "  [--hold-timeout S]\n",
          stderr);
    exit(2);
}

static loadgen_mode parse_mode(const char *name)
{
    if (strcmp(name, "fanout") == 0) return MODE_FANOUT;
    if (strcmp(name, "sessions") == 0) return MODE_SESSIONS;
    if (strcmp(name, "idle") == 0) return MODE_IDLE;
    usage();
    return MODE_FANOUT;
}

void options_parse(int argc, char **argv, loadgen_options *o)
{
    static const struct option longopts[] = {
        {"mode", 1, 0, 'm'},        {"host", 1, 0, 'h'},          {"port", 1, 0, 'p'},
        {"path", 1, 0, 'P'},        {"realm", 1, 0, 'r'},         {"topic", 1, 0, 't'},
        {"authid", 1, 0, 'a'},      {"secret", 1, 0, 's'},        {"auth", 1, 0, 'A'},
        {"subscribers", 1, 0, 'S'}, {"publishers", 1, 0, 'B'},    {"concurrency", 1, 0, 'c'},
        {"window", 1, 0, 'w'},      {"max-lag", 1, 0, 'l'},       {"rate", 1, 0, 'R'},
        {"payload-bytes", 1, 0, 'b'}, {"warmup", 1, 0, 'W'},      {"duration", 1, 0, 'd'},
        {"setup-timeout", 1, 0, 'T'}, {"hold-timeout", 1, 0, 'H'}, {0, 0, 0, 0},
    };
    *o = (loadgen_options){
        .mode = MODE_FANOUT,
        .target = {.host = "127.0.0.1", .port = 9000, .path = "/ws", .realm = "telegraphy",
                   .topic = "bench.fanout", .authid = "bench-backend", .secret = "bench-secret-not-for-production"},
        .session_auth = AUTH_ANONYMOUS,
        .subscribers = 100, .publishers = 1, .concurrency = 50, .publish_window = 16,
        .max_lag = 64, .rate = 0, .payload_bytes = 200, .warmup_s = 2, .duration_s = 10,
        .setup_timeout_s = 120, .hold_timeout_s = 120,
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm': o->mode = parse_mode(optarg); break;
        case 'h': o->target.host = optarg; break;
        case 'p': o->target.port = atoi(optarg); break;
        case 'P': o->target.path = optarg; break;
        case 'r': o->target.realm = optarg; break;
        case 't': o->target.topic = optarg; break;
        case 'a': o->target.authid = optarg; break;
        case 's': o->target.secret = optarg; break;
        case 'A': o->session_auth = strcmp(optarg, "wampcra") == 0 ? AUTH_WAMPCRA : AUTH_ANONYMOUS; break;
        case 'S': o->subscribers = atoi(optarg); break;
        case 'B': o->publishers = atoi(optarg); break;
        case 'c': o->concurrency = atoi(optarg); break;
        case 'w': o->publish_window = atoi(optarg); break;
        case 'l': o->max_lag = atoi(optarg); break;
        case 'R': o->rate = atof(optarg); break;
        case 'b': o->payload_bytes = atoi(optarg); break;
        case 'W': o->warmup_s = atof(optarg); break;
        case 'd': o->duration_s = atof(optarg); break;
        case 'T': o->setup_timeout_s = atof(optarg); break;
        case 'H': o->hold_timeout_s = atof(optarg); break;
        default: usage();
        }
    }
    if (o->subscribers < 0 || o->publishers < 1 || o->publishers > 64 || o->concurrency < 1 ||
        o->publish_window < 1 || o->max_lag < 1 || o->duration_s <= 0)
        usage();
}
