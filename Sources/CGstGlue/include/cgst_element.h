// GObject boilerplate written once: registers GStreamer element types whose behaviour
// lives in Swift. Each instance keeps one pointer to its Swift object; each vfunc
// trampoline calls the Swift callback, then chains to the parent class where that is
// the GStreamer convention.
#pragma once
#include <gst/gst.h>
#include <gst/base/base.h>
#include <gst/video/video.h>

typedef enum {
    CGST_BASE_VIDEO_FILTER = 0,   // GstVideoFilter, in place
    CGST_BASE_TRANSFORM = 1,      // GstBaseTransform, in place
    CGST_BASE_SINK = 2,           // GstBaseSink
} CGstBaseKind;

// Every callback receives the Swift object returned by `create`.
typedef struct {
    void *(*create)(void *user_data, GstElement *element);
    void (*destroy)(void *swift);
    void (*set_property)(void *swift, const char *name, const GValue *value);
    void (*get_property)(void *swift, const char *name, GValue *value);
    gboolean (*start)(void *swift);
    gboolean (*stop)(void *swift);
    // GstVideoFilter
    gboolean (*set_info)(void *swift, GstCaps *incaps, GstVideoInfo *in_info, GstCaps *outcaps, GstVideoInfo *out_info);
    GstFlowReturn (*transform_frame_ip)(void *swift, GstVideoFrame *frame);
    // Called when fixed caps arrive that the element refuses, to explain why (never for
    // ACCEPT_CAPS probes).
    void (*caps_refused)(void *swift, GstCaps *caps);
    // GstBaseTransform
    GstFlowReturn (*transform_ip)(void *swift, GstBuffer *buffer);
    gboolean (*sink_event)(void *swift, GstEvent *event); // FALSE = consumed and dropped
    // Returns TRUE when it handled the query (its answer in *answered); FALSE chains to
    // the parent class. src = the query arrived on the source pad.
    gboolean (*query)(void *swift, gboolean src, GstQuery *query, gboolean *answered);
    // GstBaseSink
    GstFlowReturn (*render)(void *swift, GstBuffer *buffer);
} CGstCallbacks;

typedef struct {
    const char *signal_name;
    gboolean is_action;          // action signals are emitted by applications
    GType return_type;
    guint n_params;
    const GType *param_types;
    // For action signals: the Swift handler, with the signal's index in the desc and its
    // params (instance excluded). return_value is NULL for void signals.
    void (*action)(void *swift, guint index, const GValue *params, guint n_params, GValue *return_value);
} CGstSignalDesc;

typedef struct {
    const char *type_name;
    const char *element_name;
    guint rank;
    CGstBaseKind base;
    const char *longname, *klass, *description, *author;
    const char *sink_caps, *src_caps;   // src_caps NULL for sinks
    GParamSpec **properties;
    guint n_properties;
    const CGstSignalDesc *signals;
    guint n_signals;
    gboolean qos;                       // GstBaseTransform QoS (drops late frames)
    // GstVideoFilter that only reads pixels (analytics): frames are mapped READ, so a
    // buffer whose memory is shared (tee, imagefreeze) is not copied just to add metas.
    gboolean read_only_frames;
    CGstCallbacks callbacks;
    void *user_data;
} CGstElementDesc;

// Registers (once per process) the GType described by `desc` and the element factory in
// `plugin` (NULL = static registration for tests). `desc` and everything it points to
// must live forever. Returns FALSE when the element could not be registered.
gboolean cgst_element_register(GstPlugin *plugin, const CGstElementDesc *desc);

// Emits signal `index` of the element's desc with `params` (instance not included).
void cgst_element_emit(GstElement *element, guint index, const GValue *params);
/* Whether anyone listens to signal number `index`: lets elements skip building arguments. */
gboolean cgst_element_has_handlers(GstElement *element, guint index);
