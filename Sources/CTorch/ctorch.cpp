#include "ctorch.h"

#include <torch/script.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>

struct CTorchModel {
    torch::jit::script::Module module;
    torch::Device device{torch::kCPU};
    std::string metadata;
    bool has_metadata = false;
    at::Tensor output;  // contiguous float on the CPU
};

static void set_error(char **error, const std::string &message) {
    if (error) *error = strdup(message.c_str());
}

// libtorch errors carry a C++ backtrace or TorchScript source; the user needs the first
// line that says something.
static std::string first_line(const std::string &text) {
    auto start = text.find_first_not_of(" \n\r\t");
    if (start == std::string::npos) return text;
    auto end = text.find('\n', start);
    return end == std::string::npos ? text.substr(start) : text.substr(start, end - start);
}

// TorchScript interpreter errors put the real cause ("RuntimeError: shape … is invalid")
// on their last line, after the TorchScript traceback.
static std::string cause(const std::string &text) {
    std::string first = first_line(text);
    auto end = text.find_last_not_of(" \n\r\t");
    if (end == std::string::npos) return first;
    auto start = text.find_last_of('\n', end);
    std::string last = text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
    return last == first ? first : first + " " + last;
}

static std::string explain_load_error(const std::string &path, const std::string &what) {
    const char *newer_torch_signs[] = {"Unknown builtin op", "Expected at most", "maximum supported version",
                                       "may be too old", "Unknown type name", "unknown type", "has no attribute"};
    for (const char *sign : newer_torch_signs) {
        if (what.find(sign) != std::string::npos) {
            return path + ": saved by a newer torch than this libtorch " TORCH_VERSION
                          " can read (" + first_line(what) +
                   "). Export the model with torch 1.13 (Debian's python3-torch), e.g. "
                   "`yolo export format=torchscript` in a torch 1.13 environment.";
        }
    }
    if (what.find("PytorchStreamReader") != std::string::npos || what.find("zip archive") != std::string::npos ||
        what.find("file_size") != std::string::npos) {
        return path + ": not a TorchScript file, or truncated (" + first_line(what) +
               "). Pass a model exported with torch.jit.save / `yolo export format=torchscript`.";
    }
    return path + ": cannot load the TorchScript model: " + first_line(what);
}

extern "C" CTorchModel *ctorch_model_load(const char *path, const char *device, int threads, char **error) {
    try {
        FILE *probe = fopen(path, "rb");
        if (!probe) {
            set_error(error, std::string(path) + ": " + strerror(errno) + ". Set model= to a readable TorchScript file.");
            return nullptr;
        }
        fclose(probe);

        torch::Device dev(torch::kCPU);
        try {
            dev = torch::Device(device && *device ? device : "cpu");
        } catch (const std::exception &e) {
            set_error(error, std::string("device \"") + device + "\" is not a device name; use cpu, cuda or cuda:N");
            return nullptr;
        }
        if (dev.is_cuda() && !torch::cuda::is_available()) {
            set_error(error, std::string("device \"") + device + "\" requested, but this libtorch " TORCH_VERSION
                             " has no CUDA support (or no GPU is visible). Use device=cpu.");
            return nullptr;
        }
        at::set_num_threads(threads > 0 ? threads : (int)std::max(1u, std::thread::hardware_concurrency()));

        auto model = new CTorchModel();
        std::unordered_map<std::string, std::string> extra{{"config.txt", ""}};
        try {
            model->module = torch::jit::load(path, dev, extra);
        } catch (const c10::Error &e) {
            delete model;
            set_error(error, explain_load_error(path, e.what_without_backtrace()));
            return nullptr;
        } catch (const std::exception &e) {
            delete model;
            set_error(error, explain_load_error(path, e.what()));
            return nullptr;
        }
        model->module.eval();
        model->device = dev;
        model->metadata = extra["config.txt"];
        model->has_metadata = !model->metadata.empty();
        return model;
    } catch (const std::exception &e) {
        set_error(error, std::string(path) + ": " + first_line(e.what()));
    } catch (...) {
        set_error(error, std::string(path) + ": unknown error while loading");
    }
    return nullptr;
}

extern "C" void ctorch_model_free(CTorchModel *model) {
    try {
        delete model;
    } catch (...) {
    }
}

extern "C" const char *ctorch_model_metadata(const CTorchModel *model) {
    return model->has_metadata ? model->metadata.c_str() : nullptr;
}

static at::Tensor first_tensor(const c10::IValue &value) {
    if (value.isTensor()) return value.toTensor();
    if (value.isTuple()) {
        for (const auto &element : value.toTuple()->elements())
            if (element.isTensor()) return element.toTensor();
    }
    if (value.isList()) {
        for (const auto &element : value.toList()) {
            c10::IValue item = element;
            if (item.isTensor()) return item.toTensor();
        }
    }
    throw std::runtime_error("the model returned no tensor");
}

extern "C" int ctorch_model_forward(CTorchModel *model, float *input, int64_t c, int64_t h, int64_t w, char **error) {
    try {
        c10::InferenceMode guard;
        at::Tensor tensor = torch::from_blob(input, {1, c, h, w}, torch::kFloat32);
        if (model->device.is_cuda()) tensor = tensor.to(model->device);
        at::Tensor out = first_tensor(model->module.forward({tensor}));
        model->output = out.to(torch::kCPU, torch::kFloat32).contiguous();
        return 0;
    } catch (const c10::Error &e) {
        set_error(error, cause(e.what_without_backtrace()));
    } catch (const std::exception &e) {
        set_error(error, cause(e.what()));
    } catch (...) {
        set_error(error, "unknown error in forward");
    }
    return -1;
}

extern "C" int ctorch_model_output_rank(const CTorchModel *model) { return (int)model->output.dim(); }

extern "C" int64_t ctorch_model_output_dim(const CTorchModel *model, int index) { return model->output.size(index); }

extern "C" const float *ctorch_model_output_data(const CTorchModel *model) {
    return model->output.data_ptr<float>();
}

extern "C" void ctorch_string_free(char *s) { free(s); }
