#include "cgst_detection_meta.h"

static gpointer register_meta(gpointer unused) {
    (void)unused;
    // An empty tag list (not NULL, which GStreamer refuses): untagged metas are copied.
    static const gchar *no_tags[] = {NULL};
    if (!gst_meta_get_info(CGST_DETECTION_META_NAME))
        gst_meta_register_custom(CGST_DETECTION_META_NAME, no_tags, NULL, NULL, NULL);
    return NULL;
}

static gint next_roi_id(GstBuffer *buffer) {
    gint highest = 0;
    gpointer state = NULL;
    GstMeta *meta;
    while ((meta = gst_buffer_iterate_meta_filtered(buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
        gint id = ((GstVideoRegionOfInterestMeta *)meta)->id;
        if (id > highest) highest = id;
    }
    return highest + 1;
}

GstVideoRegionOfInterestMeta *cgst_buffer_add_detection(GstBuffer *buffer, const char *label, gint class_id,
                                                        gdouble confidence, gint track_id, gboolean predicted,
                                                        guint x, guint y, guint w, guint h) {
    static GOnce once = G_ONCE_INIT;
    g_once(&once, register_meta, NULL);
    // 1.22 dereferences the meta without checking: refuse read-only buffers here.
    if (!gst_buffer_is_writable(buffer)) return NULL;
    gint id = next_roi_id(buffer);
    GstVideoRegionOfInterestMeta *meta = gst_buffer_add_video_region_of_interest_meta(buffer, label, x, y, w, h);
    if (!meta) return NULL;
    meta->id = id;
    GstStructure *s = gst_structure_new("detection", "label", G_TYPE_STRING, label, "class-id", G_TYPE_INT, class_id,
                                        "confidence", G_TYPE_DOUBLE, confidence, NULL);
    if (track_id > 0) gst_structure_set(s, "track-id", G_TYPE_INT, track_id, NULL);
    if (predicted) gst_structure_set(s, "predicted", G_TYPE_BOOLEAN, TRUE, NULL);
    GstCustomMeta *twin = gst_buffer_add_custom_meta(buffer, CGST_DETECTION_META_NAME);
    if (twin) {
        GstStructure *t = gst_custom_meta_get_structure(twin);
        gst_structure_set(t, "roi-id", G_TYPE_INT, id, "params", GST_TYPE_STRUCTURE, s, NULL);
    }
    gst_video_region_of_interest_meta_add_param(meta, s);
    return meta;
}

const GstStructure *cgst_roi_detection_params(GstBuffer *buffer, GstVideoRegionOfInterestMeta *roi) {
    GstStructure *own = gst_video_region_of_interest_meta_get_param(roi, "detection");
    if (own) return own;
    gpointer state = NULL;
    GstMeta *meta;
    while ((meta = gst_buffer_iterate_meta(buffer, &state))) {
        if (!gst_meta_info_is_custom(meta->info)) continue;
        GstCustomMeta *custom = (GstCustomMeta *)meta;
        if (!gst_custom_meta_has_name(custom, CGST_DETECTION_META_NAME)) continue;
        const GstStructure *t = gst_custom_meta_get_structure(custom);
        gint id = 0;
        if (!gst_structure_get_int(t, "roi-id", &id) || id != roi->id) continue;
        const GValue *v = gst_structure_get_value(t, "params");
        if (v && G_VALUE_HOLDS(v, GST_TYPE_STRUCTURE)) return gst_value_get_structure(v);
    }
    return NULL;
}
