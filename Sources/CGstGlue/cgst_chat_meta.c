#include "cgst_chat_meta.h"

void cgst_chat_meta_register(void) {
    // An empty tag list (not NULL, which GStreamer refuses): untagged metas are copied by
    // encoders and decoders.
    static const gchar *no_tags[] = {NULL};
    if (!gst_meta_get_info(CGST_CHAT_META_NAME))
        gst_meta_register_custom(CGST_CHAT_META_NAME, no_tags, NULL, NULL, NULL);
}

gboolean cgst_buffer_add_chat_message(GstBuffer *buffer, const char *id, const char *room, const char *nick,
                                      const char *text, const char *time) {
    if (!gst_buffer_is_writable(buffer)) return FALSE;
    GstCustomMeta *meta = gst_buffer_add_custom_meta(buffer, CGST_CHAT_META_NAME);
    if (!meta) return FALSE;
    gst_structure_set(gst_custom_meta_get_structure(meta), "id", G_TYPE_STRING, id, "room", G_TYPE_STRING, room,
                      "nick", G_TYPE_STRING, nick, "text", G_TYPE_STRING, text, "time", G_TYPE_STRING, time, NULL);
    return TRUE;
}

const GstStructure *cgst_buffer_chat_message(GstBuffer *buffer, guint n) {
    gpointer state = NULL;
    GstMeta *meta;
    guint seen = 0;
    while ((meta = gst_buffer_iterate_meta(buffer, &state))) {
        if (!gst_meta_info_is_custom(meta->info)) continue;
        GstCustomMeta *custom = (GstCustomMeta *)meta;
        if (!gst_custom_meta_has_name(custom, CGST_CHAT_META_NAME)) continue;
        if (seen++ == n) return gst_custom_meta_get_structure(custom);
    }
    return NULL;
}
