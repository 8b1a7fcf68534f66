/* Runs a task on llama.cpp's own OpenMP team.
 *
 * The output head runs between two llama.cpp graph computations. Its threads
 * must be the ones ggml uses: a thread of our own would share a core with an
 * OpenMP worker that is still spinning after ggml's last parallel region.
 * Compiled by the same C compiler as ggml, so the pragma binds to the same
 * OpenMP runtime (libgomp or libomp). */
#include <omp.h>

typedef void (*autocrea_task)(void *data, int thread, int threads);

void autocrea_omp_run(autocrea_task task, void *data, int threads) {
    if (threads <= 1) {
        task(data, 0, 1);
        return;
    }
    #pragma omp parallel num_threads(threads)
    {
        task(data, omp_get_thread_num(), omp_get_num_threads());
    }
}
