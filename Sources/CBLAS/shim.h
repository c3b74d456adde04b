// OpenBLAS is loaded on first use (dlopen), not linked: the commands that never train (convert,
// info, report, restore) then start without it and without its worker threads. This header gives
// FlowEngine the CBLAS declarations and the exact function types it looks up.
// Not linked, so no pkg-config: OpenBLAS's own cblas.h (it declares the openblas_* calls), found
// under the multiarch include folder (Debian, Ubuntu) or the usual others.
#if __has_include(<openblas-pthread/cblas.h>)
#include <openblas-pthread/cblas.h>
#elif __has_include(<openblas/cblas.h>)
#include <openblas/cblas.h>
#else
#include <cblas.h>
#endif
#include <dlfcn.h>

typedef __typeof__(cblas_sgemm) *audiodq_cblas_sgemm_fn;
typedef __typeof__(openblas_set_num_threads) *audiodq_openblas_set_num_threads_fn;
typedef __typeof__(openblas_get_num_threads) *audiodq_openblas_get_num_threads_fn;
