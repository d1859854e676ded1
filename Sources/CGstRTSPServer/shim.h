#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
