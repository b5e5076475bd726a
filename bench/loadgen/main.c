/* wampload: a WAMP v2 JSON load generator (see bench/README.md). */
#include <signal.h>
#include <sys/resource.h>

#include "options.h"
#include "scenarios.h"

static void raise_open_file_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

int main(int argc, char **argv)
{
    loadgen_options opts;
    options_parse(argc, argv, &opts);
    signal(SIGPIPE, SIG_IGN);
    raise_open_file_limit();
    switch (opts.mode) {
    case MODE_SESSIONS: return run_sessions(&opts);
    case MODE_IDLE: return run_idle(&opts);
    default: return run_fanout(&opts);
    }
}
