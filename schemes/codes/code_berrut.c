/* code_berrut.c: Berrut node sets, encoder E, decoder D_F and ApproxIFER's
 * Byzantine error locator (see code_berrut.h for the conventions). It builds
 * small matrices; applying them to data is the caller's GEMM. */
#include "schemes/codes/code_berrut.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (shipped inside libopenblas): minimum-norm least squares by SVD. */
void dgelsd_(const int *m, const int *n, const int *nrhs, double *a, const int *lda, double *b,
             const int *ldb, double *s, const double *rcond, int *rank, double *work,
             const int *lwork, int *iwork, int *info);

void berrut_data_nodes(int k, double *alpha)
{
    for (int j = 0; j < k; j++)
        alpha[j] = cos((2.0 * j + 1.0) * M_PI / (2.0 * k));
}

void berrut_worker_nodes(int n, enum berrut_nodes family, double *z)
{
    int denom = family == BERRUT_NODES_N ? n : n - 1;
    for (int i = 0; i < n; i++)
        z[i] = denom > 0 ? cos(i * M_PI / denom) : 1.0;
}

/* Berrut weights of the nodes x[idx[0..m-1]] (idx NULL: x[0..m-1]) at t. */
static void berrut_weights_indexed(const double *x, const int *idx, int m, double t, double *w)
{
    for (int l = 0; l < m; l++) {
        if (fabs(t - x[idx ? idx[l] : l]) < BERRUT_COLLISION) { /* the limit at a node */
            memset(w, 0, (size_t)m * sizeof *w);
            w[l] = 1.0;
            return;
        }
    }
    double sum = 0.0;
    for (int l = 0; l < m; l++) {
        w[l] = ((l & 1) ? -1.0 : 1.0) / (t - x[idx ? idx[l] : l]);
        sum += w[l];
    }
    for (int l = 0; l < m; l++)
        w[l] /= sum;
}

void berrut_weights(const double *x, int m, double t, double *w)
{
    berrut_weights_indexed(x, NULL, m, t, w);
}

void berrut_encoder(const double *alpha, int k, const double *z, int n, double *E)
{
    for (int r = 0; r < n; r++)
        berrut_weights_indexed(alpha, NULL, k, z[r], E + (size_t)r * k);
}

void berrut_decoder(const double *alpha, int k, const double *z, const int *returned, int nf,
                    double *D)
{
    /* Rank order inside the returned set: the sign alternates with the rank. */
    for (int j = 0; j < k; j++)
        berrut_weights_indexed(z, returned, nf, alpha[j], D + (size_t)j * nf);
}

int berrut_remove_workers(int *returned, int nf, const int *bad, int nbad)
{
    int kept = 0;
    for (int l = 0; l < nf; l++) {
        bool drop = false;
        for (int b = 0; b < nbad; b++)
            drop = drop || returned[l] == bad[b];
        if (!drop)
            returned[kept++] = returned[l];
    }
    return kept;
}

/* One coordinate: fit P(z) = y Q(z), Q(0) = 1, and write |Q| at the returned
 * nodes into qabs[0..nf-1]. A (nf x cols, column-major) and rhs are scratch. */
static int locate_fit(const double *zf, const double *y, int nf, int deg, double *A, double *rhs,
                      double *sv, double *work, int lwork, int *iwork, double *qabs)
{
    /* Unknowns: p_0..p_deg (deg+1), then q_1..q_deg (deg): sum p_k z^k - y sum q_k z^k = y. */
    int cols = 2 * deg + 1, ld = nf > cols ? nf : cols;
    for (int l = 0; l < nf; l++) {
        double pw = 1.0;
        for (int c = 0; c <= deg; c++) {
            A[(size_t)c * nf + l] = pw;
            if (c >= 1)
                A[(size_t)(deg + c) * nf + l] = -y[l] * pw;
            pw *= zf[l];
        }
        rhs[l] = y[l];
    }
    for (int l = nf; l < ld; l++)
        rhs[l] = 0.0;
    int one = 1, rank = 0, info = 0, lda = nf;
    double rcond = 1e-15; /* numpy.linalg.pinv's default cutoff */
    dgelsd_(&nf, &cols, &one, A, &lda, rhs, &ld, sv, &rcond, &rank, work, &lwork, iwork, &info);
    if (info != 0)
        return info;
    const double *q = rhs + deg + 1; /* q_1..q_deg */
    for (int l = 0; l < nf; l++) {
        double acc = 0.0; /* Horner: Q(z) = 1 + z (q_1 + z (q_2 + ...)) */
        for (int c = deg - 1; c >= 0; c--)
            acc = acc * zf[l] + q[c];
        qabs[l] = fabs(1.0 + acc * zf[l]);
    }
    return 0;
}

int berrut_locate_errors(const double *z, const int *returned, int nf, int k, int e,
                         const double *Y, int m, int *bad, struct error *err)
{
    if (e <= 0)
        return STRAG_OK;
    if (nf < e + 1)
        return error_fail(err, "berrut error locator: %d returned results cannot locate %d errors",
                          nf, e);
    int deg = k + e - 1, cols = 2 * deg + 1, ld = nf > cols ? nf : cols;
    int minmn = nf < cols ? nf : cols;

    /* Workspace query, then one allocation for everything. */
    int one = 1, rank = 0, info = 0, lwork = -1, iwq = 0;
    double wq = 0.0, rcond = 1e-15, dummy = 0.0;
    dgelsd_(&nf, &cols, &one, &dummy, &nf, &dummy, &ld, &dummy, &rcond, &rank, &wq, &lwork, &iwq,
            &info);
    lwork = (int)wq + 1;
    int liwork = iwq > 1 ? iwq : 1;
    size_t nd = (size_t)nf * cols + ld + minmn + lwork + 3 * (size_t)nf;
    double *buf = malloc(nd * sizeof *buf);
    int *ibuf = malloc(((size_t)liwork + 2 * (size_t)nf) * sizeof *ibuf);
    if (!buf || !ibuf) {
        free(buf);
        free(ibuf);
        return error_fail(err, "berrut error locator: out of memory");
    }
    double *A = buf, *rhs = A + (size_t)nf * cols, *sv = rhs + ld, *work = sv + minmn;
    double *zf = work + lwork, *y = zf + nf, *qabs = y + nf;
    int *iwork = ibuf, *votes = ibuf + liwork, *order = votes + nf;
    for (int l = 0; l < nf; l++) {
        zf[l] = z[returned[l]];
        votes[l] = 0;
    }

    int status = STRAG_OK;
    for (int i = 0; i < m && status == STRAG_OK; i++) {
        for (int l = 0; l < nf; l++)
            y[l] = Y[(size_t)l * m + i];
        int rc = locate_fit(zf, y, nf, deg, A, rhs, sv, work, lwork, iwork, qabs);
        if (rc != 0) {
            status = error_fail(err, "berrut error locator: dgelsd failed (info %d)", rc);
            break;
        }
        /* Flag the e smallest |Q| (selection by repeated minimum: e is small). */
        for (int l = 0; l < nf; l++)
            order[l] = 0;
        for (int f = 0; f < e && f < nf; f++) {
            int best = -1;
            for (int l = 0; l < nf; l++)
                if (!order[l] && (best < 0 || qabs[l] < qabs[best]))
                    best = l;
            order[best] = 1;
            votes[best]++;
        }
    }
    if (status == STRAG_OK) {
        /* The e most-voted returned workers; ties go to the lower rank. */
        for (int f = 0; f < e; f++) {
            int best = -1;
            for (int l = 0; l < nf; l++)
                if (votes[l] >= 0 && (best < 0 || votes[l] > votes[best]))
                    best = l;
            bad[f] = returned[best];
            votes[best] = -1;
        }
        for (int a = 1; a < e; a++) /* increasing worker numbers */
            for (int b = a; b > 0 && bad[b - 1] > bad[b]; b--) {
                int t = bad[b];
                bad[b] = bad[b - 1];
                bad[b - 1] = t;
            }
    }
    free(buf);
    free(ibuf);
    return status;
}
