/*
 * sweepout: what a sweep writes.  The table (csmpq(1), "SWEEP TABLE"):
 * "# key: value" header lines, then
 * "#budget\tsize\tbops\tmean_wbits\tobjective\tstatus\ttop1\ttop5\twbits" and
 * one row per budget in the request's order: the budget as a config's
 * header gives it, the achieved size in bytes and BOPs per image, the
 * params-weighted mean width, the objective as allocate reports it
 * (shortest round-tripping form), the solver's status (proven,
 * time-limit, relaxed or infeasible), the simulated top-1 / top-5 in
 * percent (2 decimals, as eval prints them; "-" without --eval), and the
 * widths in layer order separated by commas.  Fields that an infeasible
 * row does not have are "-".  The plot: top-1 (or the objective) against
 * size, the budget rows joined, the uniform rows joined, the float
 * model's top-1 as a dashed line (util/plot.h).
 *
 * Both are written atomically ("-" = stdout for the table); everything is
 * borrowed.
 */
#ifndef CSQ_SWEEPOUT_H
#define CSQ_SWEEPOUT_H

#include "mpq/sweep.h"

int csq_sweepout_table(const struct csq_sweep_request *r, const struct csq_sweep_result *res,
                       const char *path);
int csq_sweepout_plot(const struct csq_sweep_request *r, const struct csq_sweep_result *res,
                      const char *path);

#endif
