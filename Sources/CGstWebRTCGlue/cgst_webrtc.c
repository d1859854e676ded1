#include "CGstWebRTCGlue.h"
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <gst/rtp/rtp.h>
#include <string.h>

/// `sdp` parsed, or NULL. gst_sdp_message_new_from_text leaves its message to the caller
/// even when it fails, so it is freed here then; empty text is not handed over at all (GStreamer
/// calls that a programming error, with a critical warning).
static GstSDPMessage *sdp_from_text(const gchar *sdp) {
  GstSDPMessage *message = NULL;
  if (sdp == NULL || sdp[0] == '\0') return NULL;
  if (gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK) {
    if (message != NULL) gst_sdp_message_free(message);
    return NULL;
  }
  return message;
}

gint cgst_webrtc_offer_kinds(const gchar *sdp, gchar *kinds, gint max) {
  if (sdp == NULL || strncmp(sdp, "v=0", 3) != 0) return -1;
  GstSDPMessage *message = sdp_from_text(sdp);
  if (message == NULL) return -1;
  guint count = gst_sdp_message_medias_len(message);
  for (guint i = 0; i < count && (gint)i < max; i++) {
    const gchar *media = gst_sdp_media_get_media(gst_sdp_message_get_media(message, i));
    kinds[i] = media == NULL ? 'o'
               : g_str_equal(media, "video") ? 'v'
               : g_str_equal(media, "audio") ? 'a'
               : g_str_equal(media, "application") ? 'd'
                                                   : 'o';
  }
  gst_sdp_message_free(message);
  return (gint)count;
}

void cgst_webrtc_disable_upnp(GstElement *webrtcbin) {
  GObject *ice = NULL;
  g_object_get(webrtcbin, "ice-agent", &ice, NULL);
  if (ice == NULL) return;
  // 1.22's libnice-backed agent exposes its NiceAgent as "agent"; other agents may not.
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) {
    GObject *agent = NULL;
    g_object_get(ice, "agent", &agent, NULL);
    if (agent != NULL) {
      if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp")) g_object_set(agent, "upnp", FALSE, NULL);
      g_object_unref(agent);
    }
  }
  g_object_unref(ice);
}

gboolean cgst_webrtc_add_turn_server(GstElement *webrtcbin, const gchar *uri) {
  gboolean added = FALSE;
  g_signal_emit_by_name(webrtcbin, "add-turn-server", uri, &added);
  return added;
}

gint cgst_webrtc_connection_state(GstElement *webrtcbin) {
  GstWebRTCPeerConnectionState state;
  g_object_get(webrtcbin, "connection-state", &state, NULL);
  return (gint)state;
}

/// The RTP payload type an m= line's format names (RFC 3551: 0…127, in digits), or -1: a
/// browser's offer is anyone's text, and atoi made "909" or "96abc" payload types.
static gint payload_type(const gchar *format) {
  gint pt = 0;
  if (format == NULL || format[0] == '\0' || strlen(format) > 3) return -1;
  for (const gchar *c = format; *c; c++) {
    if (!g_ascii_isdigit(*c)) return -1;
    pt = pt * 10 + (*c - '0');
  }
  return pt <= 127 ? pt : -1;
}

gint cgst_webrtc_offer_payload(const gchar *sdp, guint section, const gchar *encoding) {
  GstSDPMessage *message = sdp_from_text(sdp);
  if (message == NULL) return -1;
  gint chosen = -1;
  if (section < gst_sdp_message_medias_len(message)) {
    const GstSDPMedia *media = gst_sdp_message_get_media(message, section);
    for (guint i = 0; i < gst_sdp_media_formats_len(media) && chosen < 0; i++) {
      gint pt = payload_type(gst_sdp_media_get_format(media, i));
      GstCaps *caps = pt < 0 ? NULL : gst_sdp_media_get_caps_from_media(media, pt);
      if (caps == NULL) continue;
      const GstStructure *s = gst_caps_get_structure(caps, 0);
      const gchar *name = gst_structure_get_string(s, "encoding-name");
      const gchar *mode = gst_structure_get_string(s, "packetization-mode");
      gboolean h264 = g_ascii_strcasecmp(encoding, "H264") == 0;
      if (name != NULL && g_ascii_strcasecmp(name, encoding) == 0 && (!h264 || (mode != NULL && g_str_equal(mode, "1"))))
        chosen = pt;
      gst_caps_unref(caps);
    }
  }
  gst_sdp_message_free(message);
  return chosen;
}

gint cgst_sdp_first_payload(const gchar *sdp, guint section) {
  GstSDPMessage *message = sdp_from_text(sdp);
  if (message == NULL) return -1;
  gint pt = -1;
  if (section < gst_sdp_message_medias_len(message)) {
    const GstSDPMedia *media = gst_sdp_message_get_media(message, section);
    if (gst_sdp_media_formats_len(media) > 0) pt = payload_type(gst_sdp_media_get_format(media, 0));
  }
  gst_sdp_message_free(message);
  return pt;
}

void cgst_object_set_uint(gpointer object, const gchar *name, guint value) { g_object_set(object, name, value, NULL); }

gboolean cgst_webrtc_data_channel_send(gpointer channel, const gchar *text) {
  GstWebRTCDataChannelState state;
  g_object_get(channel, "ready-state", &state, NULL);
  if (state != GST_WEBRTC_DATA_CHANNEL_STATE_OPEN) return FALSE;
  g_signal_emit_by_name(channel, "send-string", text);
  return TRUE;
}

gboolean cgst_rtp_timestamp(GstBuffer *buffer, guint32 *timestamp) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return FALSE;
  *timestamp = gst_rtp_buffer_get_timestamp(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  return TRUE;
}
