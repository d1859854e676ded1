#include "cgst_element.h"

// What a registered type knows about itself: the Swift description and the parent class
// every vfunc chains to.
typedef struct {
    const CGstElementDesc *desc;
    gpointer parent_class;
    guint *signal_ids;
} CGstTypeData;

typedef struct { GstVideoFilter parent; void *swift; } CGstVideoFilterObj;
typedef struct { GstVideoFilterClass parent; CGstTypeData *data; } CGstVideoFilterObjClass;
typedef struct { GstBaseTransform parent; void *swift; } CGstTransformObj;
typedef struct { GstBaseTransformClass parent; CGstTypeData *data; } CGstTransformObjClass;
typedef struct { GstBaseSink parent; void *swift; } CGstSinkObj;
typedef struct { GstBaseSinkClass parent; CGstTypeData *data; } CGstSinkObjClass;

static CGstBaseKind kind_of(gpointer instance) {
    if (G_TYPE_CHECK_INSTANCE_TYPE(instance, GST_TYPE_VIDEO_FILTER)) return CGST_BASE_VIDEO_FILTER;
    if (G_TYPE_CHECK_INSTANCE_TYPE(instance, GST_TYPE_BASE_TRANSFORM)) return CGST_BASE_TRANSFORM;
    return CGST_BASE_SINK;
}

static void **swift_slot(gpointer instance) {
    switch (kind_of(instance)) {
    case CGST_BASE_VIDEO_FILTER: return &((CGstVideoFilterObj *)instance)->swift;
    case CGST_BASE_TRANSFORM: return &((CGstTransformObj *)instance)->swift;
    default: return &((CGstSinkObj *)instance)->swift;
    }
}

static CGstTypeData *data_of_class(gpointer klass, CGstBaseKind kind) {
    switch (kind) {
    case CGST_BASE_VIDEO_FILTER: return ((CGstVideoFilterObjClass *)klass)->data;
    case CGST_BASE_TRANSFORM: return ((CGstTransformObjClass *)klass)->data;
    default: return ((CGstSinkObjClass *)klass)->data;
    }
}

static CGstTypeData *data_of(gpointer instance) {
    return data_of_class(G_TYPE_INSTANCE_GET_CLASS(instance, G_TYPE_OBJECT, GTypeClass), kind_of(instance));
}

#define SWIFT(o) (*swift_slot(o))
#define CB(o) (data_of(o)->desc->callbacks)
#define PARENT_BT(o) ((GstBaseTransformClass *)data_of(o)->parent_class)
#define PARENT_VF(o) ((GstVideoFilterClass *)data_of(o)->parent_class)
#define PARENT_SINK(o) ((GstBaseSinkClass *)data_of(o)->parent_class)

/* GObject */

static void instance_init(GTypeInstance *instance, gpointer klass) {
    CGstTypeData *data = data_of_class(klass, kind_of(instance));
    *swift_slot(instance) = data->desc->callbacks.create(data->desc->user_data, GST_ELEMENT(instance));
}

static void finalize(GObject *object) {
    CGstTypeData *data = data_of(object);
    void **slot = swift_slot(object);
    if (*slot) data->desc->callbacks.destroy(*slot);
    *slot = NULL;
    G_OBJECT_CLASS(data->parent_class)->finalize(object);
}

static void set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
    (void)id;
    // A setting read in start() cannot change a running element: say so instead of
    // storing a value that get_property would then misreport as in use.
    if ((pspec->flags & GST_PARAM_MUTABLE_READY) && !(pspec->flags & GST_PARAM_MUTABLE_PLAYING)) {
        GstState state;
        GST_OBJECT_LOCK(object);
        state = GST_STATE(object);
        GST_OBJECT_UNLOCK(object);
        if (state > GST_STATE_READY) {
            gchar *text = g_strdup_printf("%s: property '%s' applies only when the element starts; set it in the "
                                          "NULL or READY state (it keeps its current value)",
                                          GST_OBJECT_NAME(object), g_param_spec_get_name(pspec));
            GST_WARNING_OBJECT(object, "%s", text);
            gst_element_message_full(GST_ELEMENT(object), GST_MESSAGE_WARNING, GST_CORE_ERROR,
                                     GST_CORE_ERROR_STATE_CHANGE, text, NULL, __FILE__, G_STRFUNC, __LINE__);
            return;
        }
    }
    CB(object).set_property(SWIFT(object), g_param_spec_get_name(pspec), value);
}

static void get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
    (void)id;
    CB(object).get_property(SWIFT(object), g_param_spec_get_name(pspec), value);
}

/* GstBaseTransform and GstVideoFilter */

static gboolean bt_start(GstBaseTransform *bt) {
    if (CB(bt).start && !CB(bt).start(SWIFT(bt))) return FALSE;
    return PARENT_BT(bt)->start ? PARENT_BT(bt)->start(bt) : TRUE;
}

static gboolean bt_stop(GstBaseTransform *bt) {
    gboolean ok = CB(bt).stop ? CB(bt).stop(SWIFT(bt)) : TRUE;
    if (PARENT_BT(bt)->stop && !PARENT_BT(bt)->stop(bt)) ok = FALSE;
    return ok;
}


static gboolean vf_set_info(GstVideoFilter *vf, GstCaps *incaps, GstVideoInfo *in_info, GstCaps *outcaps,
                            GstVideoInfo *out_info) {
    if (CB(vf).set_info && !CB(vf).set_info(SWIFT(vf), incaps, in_info, outcaps, out_info)) return FALSE;
    return PARENT_VF(vf)->set_info ? PARENT_VF(vf)->set_info(vf, incaps, in_info, outcaps, out_info) : TRUE;
}

static GstFlowReturn vf_transform_frame_ip(GstVideoFilter *vf, GstVideoFrame *frame) {
    return CB(vf).transform_frame_ip(SWIFT(vf), frame);
}

static GstFlowReturn vf_transform_ip_read_only(GstBaseTransform *bt, GstBuffer *buffer) {
    GstVideoFilter *vf = GST_VIDEO_FILTER(bt);
    if (!vf->negotiated) {
        GST_ELEMENT_ERROR(bt, CORE, NEGOTIATION, (NULL), ("unknown format"));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    GstVideoFrame frame;
    // NO_REF: a mapped frame holding a second ref would make the buffer read-only for metas.
    if (!gst_video_frame_map(&frame, &vf->in_info, buffer, GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF)) {
        GST_ELEMENT_ERROR(bt, STREAM, FAILED, ("could not map the video frame"), (NULL));
        return GST_FLOW_ERROR;
    }
    GstFlowReturn ret = CB(vf).transform_frame_ip(SWIFT(vf), &frame);
    gst_video_frame_unmap(&frame);
    return ret;
}

static GstFlowReturn bt_transform_ip(GstBaseTransform *bt, GstBuffer *buffer) {
    return CB(bt).transform_ip(SWIFT(bt), buffer);
}

static gboolean bt_sink_event(GstBaseTransform *bt, GstEvent *event) {
    if (CB(bt).sink_event && !CB(bt).sink_event(SWIFT(bt), event)) {
        gst_event_unref(event);
        return TRUE;
    }
    return PARENT_BT(bt)->sink_event(bt, event);
}

// ACCEPT_CAPS queries only probe (autoplugging asks many elements): caps that arrive in a
// CAPS event and are refused are a real negotiation failure, the one worth explaining. The
// pad refuses such caps before any vfunc runs, so a probe looks at them first.
static GstPadProbeReturn caps_event_probe(GstPad *pad, GstPadProbeInfo *info, gpointer unused) {
    (void)unused;
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
    GstCaps *caps = NULL;
    gst_event_parse_caps(event, &caps);
    GstObject *element = GST_OBJECT_PARENT(pad);
    if (caps && element && gst_caps_is_fixed(caps) && !gst_pad_query_accept_caps(pad, caps))
        CB(element).caps_refused(SWIFT(element), caps);
    return GST_PAD_PROBE_OK;
}

static gboolean bt_query(GstBaseTransform *bt, GstPadDirection dir, GstQuery *query) {
    if (CB(bt).query) {
        gboolean answered = FALSE;
        if (CB(bt).query(SWIFT(bt), dir == GST_PAD_SRC, query, &answered)) return answered;
    }
    return PARENT_BT(bt)->query(bt, dir, query);
}

static gboolean bt_propose_allocation(GstBaseTransform *bt, GstQuery *decide_query, GstQuery *query) {
    // Analytics attach ROI metas: tell upstream pools they are welcome.
    if (data_of(bt)->desc->read_only_frames)
        gst_query_add_allocation_meta(query, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE, NULL);
    return PARENT_BT(bt)->propose_allocation(bt, decide_query, query);
}

/* GstBaseSink */

static gboolean sink_start(GstBaseSink *sink) {
    if (CB(sink).start && !CB(sink).start(SWIFT(sink))) return FALSE;
    return PARENT_SINK(sink)->start ? PARENT_SINK(sink)->start(sink) : TRUE;
}

static gboolean sink_stop(GstBaseSink *sink) {
    gboolean ok = CB(sink).stop ? CB(sink).stop(SWIFT(sink)) : TRUE;
    if (PARENT_SINK(sink)->stop && !PARENT_SINK(sink)->stop(sink)) ok = FALSE;
    return ok;
}

static GstFlowReturn sink_render(GstBaseSink *sink, GstBuffer *buffer) {
    return CB(sink).render(SWIFT(sink), buffer);
}

static gboolean sink_event(GstBaseSink *sink, GstEvent *event) {
    if (CB(sink).sink_event && !CB(sink).sink_event(SWIFT(sink), event)) {
        gst_event_unref(event);
        return TRUE;
    }
    return PARENT_SINK(sink)->event(sink, event);
}

/* Signals */

typedef struct { guint index; } ActionData;

static void action_marshal(GClosure *closure, GValue *return_value, guint n_params, const GValue *params,
                           gpointer hint, gpointer marshal_data) {
    (void)n_params; (void)hint; (void)marshal_data;
    guint index = GPOINTER_TO_UINT(closure->data);
    GObject *object = g_value_get_object(&params[0]);
    const CGstSignalDesc *signal = &data_of(object)->desc->signals[index];
    if (signal->action) signal->action(SWIFT(object), index, &params[1], n_params - 1, return_value);
}

gboolean cgst_element_has_handlers(GstElement *element, guint index) {
    return g_signal_has_handler_pending(element, data_of(element)->signal_ids[index], 0, FALSE);
}

void cgst_element_emit(GstElement *element, guint index, const GValue *params) {
    CGstTypeData *data = data_of(element);
    const CGstSignalDesc *signal = &data->desc->signals[index];
    GValue *all = g_new0(GValue, signal->n_params + 1);
    g_value_init(&all[0], G_OBJECT_TYPE(element));
    g_value_set_object(&all[0], element);
    for (guint i = 0; i < signal->n_params; i++) {
        g_value_init(&all[i + 1], G_VALUE_TYPE(&params[i]));
        g_value_copy(&params[i], &all[i + 1]);
    }
    g_signal_emitv(all, data->signal_ids[index], 0, NULL);
    for (guint i = 0; i <= signal->n_params; i++) g_value_unset(&all[i]);
    g_free(all);
}

/* Class */

static void class_init(gpointer klass, gpointer class_data) {
    CGstTypeData *data = class_data;
    const CGstElementDesc *desc = data->desc;
    GObjectClass *gobject_class = klass;
    GstElementClass *element_class = klass;

    data->parent_class = g_type_class_peek_parent(klass);
    switch (desc->base) {
    case CGST_BASE_VIDEO_FILTER: ((CGstVideoFilterObjClass *)klass)->data = data; break;
    case CGST_BASE_TRANSFORM: ((CGstTransformObjClass *)klass)->data = data; break;
    default: ((CGstSinkObjClass *)klass)->data = data; break;
    }

    gobject_class->set_property = set_property;
    gobject_class->get_property = get_property;
    gobject_class->finalize = finalize;
    for (guint i = 0; i < desc->n_properties; i++)
        g_object_class_install_property(gobject_class, i + 1, desc->properties[i]);

    gst_element_class_set_static_metadata(element_class, desc->longname, desc->klass, desc->description,
                                          desc->author);
    gst_element_class_add_pad_template(
        element_class, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, gst_caps_from_string(desc->sink_caps)));
    if (desc->src_caps)
        gst_element_class_add_pad_template(
            element_class, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, gst_caps_from_string(desc->src_caps)));

    data->signal_ids = g_new0(guint, desc->n_signals ? desc->n_signals : 1);
    for (guint i = 0; i < desc->n_signals; i++) {
        const CGstSignalDesc *s = &desc->signals[i];
        GClosure *closure = NULL;
        GSignalFlags flags = G_SIGNAL_RUN_LAST;
        if (s->is_action) {
            closure = g_closure_new_simple(sizeof(GClosure), GUINT_TO_POINTER(i));
            g_closure_set_marshal(closure, action_marshal);
            flags |= G_SIGNAL_ACTION;
        }
        data->signal_ids[i] = g_signal_newv(s->signal_name, G_TYPE_FROM_CLASS(klass), flags, closure, NULL, NULL,
                                            NULL, s->return_type, s->n_params, (GType *)s->param_types);
    }

    if (desc->base == CGST_BASE_SINK) {
        GstBaseSinkClass *sink_class = klass;
        sink_class->start = sink_start;
        sink_class->stop = sink_stop;
        if (desc->callbacks.render) sink_class->render = sink_render;
        sink_class->event = sink_event;
        return;
    }
    GstBaseTransformClass *bt_class = klass;
    bt_class->start = bt_start;
    bt_class->stop = bt_stop;
    bt_class->sink_event = bt_sink_event;
    bt_class->query = bt_query;
    bt_class->propose_allocation = bt_propose_allocation;
    bt_class->passthrough_on_same_caps = FALSE;
    if (desc->base == CGST_BASE_VIDEO_FILTER) {
        GstVideoFilterClass *vf_class = klass;
        vf_class->set_info = vf_set_info;
        if (desc->callbacks.transform_frame_ip) vf_class->transform_frame_ip = vf_transform_frame_ip;
        if (desc->read_only_frames) bt_class->transform_ip = vf_transform_ip_read_only;
    } else if (desc->callbacks.transform_ip) {
        bt_class->transform_ip = bt_transform_ip;
    }
}

static void transform_instance_setup(GTypeInstance *instance, gpointer klass) {
    instance_init(instance, klass);
    CGstTypeData *data = data_of_class(klass, kind_of(instance));
    if (data->desc->base != CGST_BASE_SINK) {
        // Analytics stay in place and non-passthrough so every buffer is writable and can
        // carry metas.
        gst_base_transform_set_in_place(GST_BASE_TRANSFORM(instance), TRUE);
        gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(instance), FALSE);
        gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(instance), data->desc->qos);
        if (data->desc->callbacks.caps_refused)
            gst_pad_add_probe(GST_BASE_TRANSFORM_SINK_PAD(instance), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                              caps_event_probe, NULL, NULL);
    }
}

gboolean cgst_element_register(GstPlugin *plugin, const CGstElementDesc *desc) {
    GType type = g_type_from_name(desc->type_name);
    if (type == 0) {
        GType parent;
        gsize class_size, instance_size;
        switch (desc->base) {
        case CGST_BASE_VIDEO_FILTER:
            parent = GST_TYPE_VIDEO_FILTER;
            class_size = sizeof(CGstVideoFilterObjClass);
            instance_size = sizeof(CGstVideoFilterObj);
            break;
        case CGST_BASE_TRANSFORM:
            parent = GST_TYPE_BASE_TRANSFORM;
            class_size = sizeof(CGstTransformObjClass);
            instance_size = sizeof(CGstTransformObj);
            break;
        default:
            parent = GST_TYPE_BASE_SINK;
            class_size = sizeof(CGstSinkObjClass);
            instance_size = sizeof(CGstSinkObj);
            break;
        }
        CGstTypeData *data = g_new0(CGstTypeData, 1);
        data->desc = desc;
        GTypeInfo info = {
            .class_size = class_size,
            .class_init = class_init,
            .class_data = data,
            .instance_size = instance_size,
            .instance_init = transform_instance_setup,
        };
        type = g_type_register_static(parent, desc->type_name, &info, 0);
    }
    return gst_element_register(plugin, desc->element_name, desc->rank, type);
}
