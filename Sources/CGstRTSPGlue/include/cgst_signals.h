// GObject signals and pad probes whose user data GLib owns: the data is released through
// `destroy` when the handler is disconnected or its instance finalized (the probe removed
// or its pad finalized), so no callback can outlive what it points to.
#pragma once
#include <gst/gst.h>

/// Connects `handler` to `signal` of `instance` (g_signal_connect_data is a macro's target
/// whose notify type differs): `destroy(data)` runs once the handler is gone.
gulong cgst_signal_connect_owned(gpointer instance, const gchar *signal, GCallback handler, gpointer data,
                                  GDestroyNotify destroy);
