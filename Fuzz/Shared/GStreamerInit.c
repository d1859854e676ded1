// GStreamer for the SDP targets (announce, whep-offer): caps need gst_init. No plugin is
// loaded and no registry read or written (SDP and caps need none), so start-up takes
// milliseconds and the user's plugin cache is left alone. libFuzzer calls this once.
#include <gst/gst.h>
#include <stdlib.h>

// GLib never frees its table of interned strings (GQuark) when it outgrows it, and SDP's
// fmtp parameter names become caps field names, interned: new names in the fuzzed bodies grow
// it, and the old tables show as leaks when the process exits. libFuzzer's own check of each
// input (it runs an input that allocates more than it frees again, and asks LSan) still finds
// what our glue leaks; the check at exit is off.
const char *__asan_default_options(void) { return "leak_check_at_exit=0"; }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  setenv("GST_REGISTRY_DISABLE", "yes", 1);
  setenv("GST_PLUGIN_SYSTEM_PATH_1_0", "", 1);
  setenv("GST_PLUGIN_PATH_1_0", "", 1);
  gst_init(NULL, NULL);
  return 0;
}
