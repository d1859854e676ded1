#include "cgst_helpers.h"

void cgst_element_post_error(GstElement *element, gboolean warning, GQuark domain, gint code, const char *text,
                             const char *debug, const char *file, const char *function, gint line) {
    gst_element_message_full(element, warning ? GST_MESSAGE_WARNING : GST_MESSAGE_ERROR, domain, code,
                             g_strdup(text), debug ? g_strdup(debug) : NULL, file, function, line);
}

gboolean cgst_post_json_message(GstElement *element, const char *name, GstClockTime pts, const char *json) {
    GstStructure *s = gst_structure_new(name, "pts", G_TYPE_UINT64, (guint64)pts, "json", G_TYPE_STRING, json, NULL);
    return gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), s));
}




GType cgst_enum_register(const char *type_name, guint n, const gint *values, const char *const *nicks,
                         const char *const *descriptions) {
    GType existing = g_type_from_name(type_name);
    if (existing) return existing;
    // GLib keeps a pointer to the table for the life of the process.
    GEnumValue *table = g_new0(GEnumValue, n + 1);
    for (guint i = 0; i < n; i++) {
        table[i].value = values[i];
        table[i].value_nick = g_strdup(nicks[i]);
        table[i].value_name = g_strdup(descriptions[i]);
    }
    return g_enum_register_static(g_strdup(type_name), table);
}

gboolean cgst_buffer_replace_bytes(GstBuffer *buffer, const guint8 *data, gsize size) {
    if (!gst_buffer_is_writable(buffer)) return FALSE;
    guint8 *copy = g_memdup2(data, size);
    gst_buffer_replace_all_memory(buffer, gst_memory_new_wrapped(0, copy, size, 0, size, copy, g_free));
    return TRUE;
}
