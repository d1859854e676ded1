// Wrappers for what Swift cannot call: function-like macros and variadic functions.
#pragma once
#include <gst/gst.h>
#include <gst/base/base.h>
#include <gst/video/video.h>

#include <stdio.h>

/// The C library's stdout stream (a mutable global to Swift's concurrency checking).
static inline FILE *cgst_stdout(void) { return stdout; }

static inline GstClockTime cgst_buffer_pts(GstBuffer *b) { return GST_BUFFER_PTS(b); }
static inline void cgst_buffer_set_pts(GstBuffer *b, GstClockTime t) { GST_BUFFER_PTS(b) = t; }
static inline gboolean cgst_clock_time_is_valid(GstClockTime t) { return GST_CLOCK_TIME_IS_VALID(t); }
static inline GstClockTime cgst_clock_time_none(void) { return GST_CLOCK_TIME_NONE; }

static inline guint8 *cgst_video_frame_plane(GstVideoFrame *f, guint p) { return (guint8 *)GST_VIDEO_FRAME_PLANE_DATA(f, p); }
static inline gint cgst_video_frame_stride(GstVideoFrame *f, guint p) { return GST_VIDEO_FRAME_PLANE_STRIDE(f, p); }
static inline gint cgst_video_frame_width(GstVideoFrame *f) { return GST_VIDEO_FRAME_WIDTH(f); }
static inline gint cgst_video_frame_height(GstVideoFrame *f) { return GST_VIDEO_FRAME_HEIGHT(f); }
static inline GstVideoFormat cgst_video_frame_format(GstVideoFrame *f) { return GST_VIDEO_FRAME_FORMAT(f); }
static inline GstBuffer *cgst_video_frame_buffer(GstVideoFrame *f) { return f->buffer; }
static inline GstVideoFormat cgst_video_info_format(const GstVideoInfo *i) { return GST_VIDEO_INFO_FORMAT(i); }
static inline gint cgst_video_info_width(const GstVideoInfo *i) { return GST_VIDEO_INFO_WIDTH(i); }
static inline gint cgst_video_info_height(const GstVideoInfo *i) { return GST_VIDEO_INFO_HEIGHT(i); }

static inline GType cgst_type_structure(void) { return GST_TYPE_STRUCTURE; }
static inline GType cgst_type_string(void) { return G_TYPE_STRING; }
static inline GType cgst_type_int(void) { return G_TYPE_INT; }
static inline GType cgst_type_uint(void) { return G_TYPE_UINT; }
static inline GType cgst_type_uint64(void) { return G_TYPE_UINT64; }
static inline GType cgst_type_double(void) { return G_TYPE_DOUBLE; }
static inline GType cgst_type_boolean(void) { return G_TYPE_BOOLEAN; }
static inline GType cgst_type_none(void) { return G_TYPE_NONE; }

static inline gboolean cgst_debug_enabled(GstDebugCategory *cat, GstDebugLevel level) {
    return level <= gst_debug_category_get_threshold(cat);
}

// Posts an element error or warning with a human message and a debug string.
void cgst_element_post_error(GstElement *element, gboolean warning, GQuark domain, gint code,
                             const char *text, const char *debug,
                             const char *file, const char *function, gint line);


// Posts an element message `name` with fields pts (guint64) and json (string).
gboolean cgst_post_json_message(GstElement *element, const char *name, GstClockTime pts, const char *json);

// Replaces all memory of a writable buffer with a copy of `data`.
gboolean cgst_buffer_replace_bytes(GstBuffer *buffer, const guint8 *data, gsize size);

static inline gboolean cgst_buffer_is_delta_unit(GstBuffer *b) { return GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT); }

// Registers a GEnum type once; values are (value, nick, description) triples; the
// arrays are copied.
GType cgst_enum_register(const char *type_name, guint n, const gint *values, const char *const *nicks,
                         const char *const *descriptions);
