#include "report.h"

#include <stdio.h>
#include <sys/resource.h>

#include "clock.h"

void report_mark(const char *name, int64_t start_ns)
{
    printf("{\"event\":\"%s\",\"t\":%.6f}\n", name, (double)(now_ns() - start_ns) / NS_PER_S);
    fflush(stdout);
}

double report_cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}
