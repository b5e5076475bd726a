/* JSON lines on standard output, read by the Python driver. */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include <stdint.h>

/* Prints {"event": name, "t": <seconds since start>} and flushes. */
void report_mark(const char *name, int64_t start_ns);

/* CPU seconds (user + system) this process has used so far. */
double report_cpu_seconds(void);

#endif
