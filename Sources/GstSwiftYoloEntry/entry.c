// GST_PLUGIN_DEFINE is a macro Swift cannot see. The loader looks up
// gst_plugin_swiftyolo_get_desc because the file is libgstswiftyolo.so.
#include <gst/gst.h>

gboolean chatcast_swiftyolo_plugin_init(GstPlugin *plugin);  // Swift, @_cdecl

#define PACKAGE "chatcast"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, swiftyolo,
                  "YOLO object detection on libtorch, written in Swift", chatcast_swiftyolo_plugin_init, "0.1.0",
                  "LGPL", "ChatCast", "https://chatcast.invalid")
