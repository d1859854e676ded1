#include <gst/gst.h>
#include <gst/base/base.h>
#include <gst/video/video.h>
