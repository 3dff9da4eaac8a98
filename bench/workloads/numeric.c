/* numeric: double-precision loops. A blocked-free naive matrix multiply and a
 * 2-D five-point stencil (Jacobi iterations).
 * Usage: numeric [n] [stencil_iterations]   Prints checksums. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 640;
    int iters = argc > 2 ? atoi(argv[2]) : 100;

    double *a = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n * n);
    double *c = malloc(sizeof(double) * n * n);
    if (!a || !b || !c) { perror("malloc"); return 1; }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 31 + j * 17) % 101) / 101.0 - 0.5;
            b[i * n + j] = (double)((i * 7 + j * 13) % 89) / 89.0 + 0.25;
            c[i * n + j] = 0.0;
        }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (int j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
    double trace = 0.0, total = 0.0;
    for (int i = 0; i < n; i++) {
        trace += c[i * n + i];
        for (int j = 0; j < n; j++)
            total += c[i * n + j];
    }

    int m = 2 * n;
    double *u = calloc((size_t)m * m, sizeof(double));
    double *v = calloc((size_t)m * m, sizeof(double));
    if (!u || !v) { perror("calloc"); return 1; }
    for (int i = 0; i < m; i++) {
        u[i] = v[i] = 1.0;                     /* hot top edge */
        u[(m - 1) * m + i] = v[(m - 1) * m + i] = -1.0;
    }
    for (int t = 0; t < iters; t++) {
        for (int i = 1; i < m - 1; i++)
            for (int j = 1; j < m - 1; j++)
                v[i * m + j] = 0.25 * (u[(i - 1) * m + j] + u[(i + 1) * m + j] +
                                       u[i * m + j - 1] + u[i * m + j + 1]);
        double *tmp = u; u = v; v = tmp;
    }
    double heat = 0.0;
    for (int i = 0; i < m * m; i++)
        heat += u[i] * (double)(i % 7);

    printf("numeric: n=%d trace=%.6f total=%.6f stencil(%dx%d,%d)=%.6f\n",
           n, trace, total, m, m, iters, heat);
    free(a); free(b); free(c); free(u); free(v);
    return 0;
}
