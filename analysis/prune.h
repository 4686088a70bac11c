/* prune.h: deleting runs from a results database (`stragsim rm`): the runs
 * of one experiment, or those a --where filter selects (report's rules), with
 * everything that hangs off them (params, metrics, jobs, iterations, tuner), in one
 * transaction. An experiment left without runs goes too. The database stays
 * consistent: PRAGMA foreign_key_check is clean afterwards, or nothing is
 * changed. A deleted point is missing again, so `run --resume` reruns it. */
#ifndef STRAG_PRUNE_H
#define STRAG_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/report.h"
#include "analysis/results.h"

struct prune_selection {
    bool by_experiment;
    int64_t experiment_id;            /* when by_experiment */
    const struct report_filter *where; /* and/or these filters (report_run_matches) */
    size_t nwhere;
};

/* What a deletion removes (or would). */
struct prune_counts {
    size_t runs, params, metrics, jobs, iterations, tuner, experiments;
};

/* Indexes into runs[0..nruns) (results_read_runs) of the runs sel selects,
 * in id order; the caller frees *picked. An experiment id that does not exist,
 * or a filter key no run has, is STRAG_EINPUT ("stragsim rm: ..."); an empty
 * selection is not an error. */
int prune_select(struct results *r, const struct results_run *runs, size_t nruns,
                 const struct prune_selection *sel, size_t **picked, size_t *npicked,
                 struct error *err);

/* Counts what deleting the picked runs (of sel) removes; with dry_run that
 * is all, else deletes them in one transaction (rolled back, with an error,
 * if foreign_key_check then finds anything). The experiments they leave
 * without runs go too, and sel's experiment even when it had none. */
int prune_delete(struct results *r, const struct prune_selection *sel,
                 const struct results_run *runs, const size_t *picked, size_t npicked,
                 bool dry_run, struct prune_counts *counts, struct error *err);

#endif
