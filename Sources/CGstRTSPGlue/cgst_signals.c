#include "cgst_signals.h"

gulong cgst_signal_connect_owned(gpointer instance, const gchar *signal, GCallback handler, gpointer data,
                                  GDestroyNotify destroy) {
  // A GClosureNotify gets (data, closure); a GDestroyNotify reads only the first argument.
  return g_signal_connect_data(instance, signal, handler, data, (GClosureNotify)(void (*)(void))destroy, 0);
}
