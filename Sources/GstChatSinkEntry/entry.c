// GST_PLUGIN_DEFINE is a macro Swift cannot see. The loader looks up
// gst_plugin_chatsink_get_desc because the file is libgstchatsink.so.
#include <gst/gst.h>

gboolean chatcast_chatsink_plugin_init(GstPlugin *plugin);  // Swift, @_cdecl

#define PACKAGE "chatcast"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, chatsink,
                  "Chat and detections carried inside H.264 as SEI, written in Swift", chatcast_chatsink_plugin_init,
                  "0.1.0", "LGPL", "ChatCast", "https://chatcast.invalid")
