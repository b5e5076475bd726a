/* Command-line options of the load generator. */
#ifndef LOADGEN_OPTIONS_H
#define LOADGEN_OPTIONS_H

#include "client.h"

typedef enum { MODE_FANOUT, MODE_SESSIONS, MODE_IDLE } loadgen_mode;

typedef struct {
    loadgen_mode mode;
    client_target target;
    client_auth session_auth;
    int subscribers;
    int publishers;
    int concurrency;      /* connections being set up at once */
    int publish_window;   /* unacknowledged publishes per publisher */
    int max_lag;          /* undelivered events per subscriber before publishing pauses */
    double rate;          /* publishes per second; 0 = as fast as flow control allows */
    int payload_bytes;
    double warmup_s;
    double duration_s;
    double setup_timeout_s;
    double hold_timeout_s;
} loadgen_options;

void options_parse(int argc, char **argv, loadgen_options *opts);

#endif
