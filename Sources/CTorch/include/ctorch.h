// A C ABI over libtorch. Nothing here throws: every libtorch exception is caught in the
// shim and comes back as an error string the caller must free with ctorch_string_free.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CTorchModel CTorchModel;

// Loads a TorchScript file onto `device` ("cpu", "cuda", "cuda:N"). `threads` sets
// libtorch's intra-op threads (0 = all cores). Returns NULL and sets *error on failure.
CTorchModel *ctorch_model_load(const char *path, const char *device, int threads, char **error);
void ctorch_model_free(CTorchModel *model);

// The archive's extra file `config.txt` (Ultralytics metadata), or NULL when absent.
const char *ctorch_model_metadata(const CTorchModel *model);

// Runs the model on a [1, c, h, w] float tensor wrapped around `input` (no copy on CPU).
// The output stays valid until the next forward. Returns 0, or -1 and sets *error.
int ctorch_model_forward(CTorchModel *model, float *input, int64_t c, int64_t h, int64_t w, char **error);
int ctorch_model_output_rank(const CTorchModel *model);
int64_t ctorch_model_output_dim(const CTorchModel *model, int index);
const float *ctorch_model_output_data(const CTorchModel *model);

void ctorch_string_free(char *s);

#ifdef __cplusplus
}
#endif
