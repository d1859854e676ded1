#include "CGstWebRTCGlue.h"
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <gst/rtp/rtp.h>
#include <stdlib.h>
#include <string.h>

gint cgst_webrtc_offer_kinds(const gchar *sdp, gchar *kinds, gint max) {
  GstSDPMessage *message = NULL;
  if (sdp == NULL || strncmp(sdp, "v=0", 3) != 0) return -1;
  if (gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK) return -1;
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

/// The error a promise was answered with, if any (g_malloc'd).
static gchar *promise_error(GstPromise *promise) {
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return g_strdup("webrtcbin did not answer");
  const GstStructure *reply = gst_promise_get_reply(promise);
  if (reply == NULL || !gst_structure_has_field(reply, "error")) return NULL;
  GError *error = NULL;
  gst_structure_get(reply, "error", G_TYPE_ERROR, &error, NULL);
  gchar *text = g_strdup(error != NULL ? error->message : "webrtcbin refused it");
  g_clear_error(&error);
  return text;
}

gboolean cgst_webrtc_set_offer(GstElement *webrtcbin, const gchar *sdp, gchar **error) {
  GstSDPMessage *message = NULL;
  if (gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK) {
    *error = g_strdup("the offer is not SDP");
    return FALSE;
  }
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, message);
  GstPromise *promise = gst_promise_new();
  g_signal_emit_by_name(webrtcbin, "set-remote-description", offer, promise);
  *error = promise_error(promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(offer);
  return *error == NULL;
}

gchar *cgst_webrtc_answer(GstElement *webrtcbin, guint timeout_ms, gchar **error) {
  GstPromise *promise = gst_promise_new();
  g_signal_emit_by_name(webrtcbin, "create-answer", NULL, promise);
  *error = promise_error(promise);
  GstWebRTCSessionDescription *answer = NULL;
  if (*error == NULL) {
    gst_structure_get(gst_promise_get_reply(promise), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  }
  gst_promise_unref(promise);
  if (answer == NULL) {
    if (*error == NULL) *error = g_strdup("webrtcbin made no answer");
    return NULL;
  }
  promise = gst_promise_new();
  g_signal_emit_by_name(webrtcbin, "set-local-description", answer, promise);
  *error = promise_error(promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(answer);
  if (*error != NULL) return NULL;

  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    GstWebRTCICEGatheringState state;
    g_object_get(webrtcbin, "ice-gathering-state", &state, NULL);
    if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE || g_get_monotonic_time() > deadline) break;
    g_usleep(5000);
  }
  GstWebRTCSessionDescription *local = NULL;
  g_object_get(webrtcbin, "local-description", &local, NULL);
  if (local == NULL) {
    *error = g_strdup("webrtcbin has no local description");
    return NULL;
  }
  gchar *text = gst_sdp_message_as_text(local->sdp);
  gst_webrtc_session_description_free(local);
  return text;
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

gint cgst_webrtc_offer_payload(const gchar *sdp, guint section, const gchar *encoding) {
  GstSDPMessage *message = NULL;
  if (sdp == NULL || gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK) return -1;
  gint chosen = -1;
  if (section < gst_sdp_message_medias_len(message)) {
    const GstSDPMedia *media = gst_sdp_message_get_media(message, section);
    for (guint i = 0; i < gst_sdp_media_formats_len(media) && chosen < 0; i++) {
      gint pt = atoi(gst_sdp_media_get_format(media, i));
      GstCaps *caps = gst_sdp_media_get_caps_from_media(media, pt);
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
  GstSDPMessage *message = NULL;
  if (sdp == NULL || gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK) return -1;
  gint pt = -1;
  if (section < gst_sdp_message_medias_len(message)) {
    const GstSDPMedia *media = gst_sdp_message_get_media(message, section);
    if (gst_sdp_media_formats_len(media) > 0) pt = atoi(gst_sdp_media_get_format(media, 0));
  }
  gst_sdp_message_free(message);
  return pt;
}

void cgst_object_set_uint(gpointer object, const gchar *name, guint value) { g_object_set(object, name, value, NULL); }

void cgst_pad_prime(GstPad *sinkpad, GstCaps *caps) {
  gchar *stream = g_strdup_printf("%08x%08x", g_random_int(), g_random_int());
  gst_pad_send_event(sinkpad, gst_event_new_stream_start(stream));
  g_free(stream);
  gst_pad_send_event(sinkpad, gst_event_new_caps(caps));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_send_event(sinkpad, gst_event_new_segment(&segment));
}

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
