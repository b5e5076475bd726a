/* The load generator's three modes; each returns the process exit status. */
#ifndef LOADGEN_SCENARIOS_H
#define LOADGEN_SCENARIOS_H

#include "options.h"

int run_fanout(const loadgen_options *opts);
int run_sessions(const loadgen_options *opts);
int run_idle(const loadgen_options *opts);

#endif
