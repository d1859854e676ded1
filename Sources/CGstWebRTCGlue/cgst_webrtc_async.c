#include "CGstWebRTCGlue.h"
#include <gst/webrtc/webrtc.h>

// webrtcbin answers its action signals through GstPromises on its own thread. These start
// a step and call back when webrtcbin has answered, so nobody waits for it.

typedef struct {
  GstElement *webrtcbin;
  CGstWebRTCDone done;
  gpointer data;
  GDestroyNotify destroy;
} Step;

static Step *step_new(GstElement *webrtcbin, CGstWebRTCDone done, gpointer data, GDestroyNotify destroy) {
  Step *step = g_new0(Step, 1);
  step->webrtcbin = gst_object_ref(webrtcbin);
  step->done = done;
  step->data = data;
  step->destroy = destroy;
  return step;
}

/// Calls back (error NULL on success) and frees the step.
static void step_finish(Step *step, gchar *error) {
  step->done(error, step->data);
  g_free(error);
  if (step->destroy) step->destroy(step->data);
  gst_object_unref(step->webrtcbin);
  g_free(step);
}

/// The error a replied promise carries (g_malloc'd), or NULL.
static gchar *reply_error(GstPromise *promise) {
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return g_strdup("webrtcbin did not answer");
  const GstStructure *reply = gst_promise_get_reply(promise);
  if (reply == NULL || !gst_structure_has_field(reply, "error")) return NULL;
  GError *error = NULL;
  gst_structure_get(reply, "error", G_TYPE_ERROR, &error, NULL);
  gchar *text = g_strdup(error != NULL ? error->message : "webrtcbin refused it");
  g_clear_error(&error);
  return text;
}

static void offer_set(GstPromise *promise, gpointer user_data) {
  step_finish((Step *)user_data, reply_error(promise));
  gst_promise_unref(promise);
}

void cgst_webrtc_set_offer_async(GstElement *webrtcbin, const gchar *sdp, CGstWebRTCDone done, gpointer data,
                                 GDestroyNotify destroy) {
  Step *step = step_new(webrtcbin, done, data, destroy);
  GstSDPMessage *message = NULL;
  if (gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK) {
    if (message != NULL) gst_sdp_message_free(message);  // allocated even when the parse fails
    step_finish(step, g_strdup("the offer is not SDP"));
    return;
  }
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, message);
  GstPromise *promise = gst_promise_new_with_change_func(offer_set, step, NULL);
  g_signal_emit_by_name(webrtcbin, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free(offer);
}

static void answer_set(GstPromise *promise, gpointer user_data) {
  step_finish((Step *)user_data, reply_error(promise));
  gst_promise_unref(promise);
}

static void answer_made(GstPromise *promise, gpointer user_data) {
  Step *step = user_data;
  gchar *error = reply_error(promise);
  GstWebRTCSessionDescription *answer = NULL;
  if (error == NULL) {
    gst_structure_get(gst_promise_get_reply(promise), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  }
  gst_promise_unref(promise);
  if (answer == NULL) {
    step_finish(step, error ? error : g_strdup("webrtcbin made no answer"));
    return;
  }
  GstPromise *set = gst_promise_new_with_change_func(answer_set, step, NULL);
  g_signal_emit_by_name(step->webrtcbin, "set-local-description", answer, set);
  gst_webrtc_session_description_free(answer);
}

void cgst_webrtc_answer_async(GstElement *webrtcbin, CGstWebRTCDone done, gpointer data, GDestroyNotify destroy) {
  Step *step = step_new(webrtcbin, done, data, destroy);
  GstPromise *promise = gst_promise_new_with_change_func(answer_made, step, NULL);
  g_signal_emit_by_name(webrtcbin, "create-answer", NULL, promise);
}

gint cgst_webrtc_ice_gathering_state(GstElement *webrtcbin) {
  GstWebRTCICEGatheringState state;
  g_object_get(webrtcbin, "ice-gathering-state", &state, NULL);
  return (gint)state;
}

gchar *cgst_webrtc_local_sdp(GstElement *webrtcbin) {
  GstWebRTCSessionDescription *local = NULL;
  g_object_get(webrtcbin, "local-description", &local, NULL);
  if (local == NULL) return NULL;
  gchar *text = gst_sdp_message_as_text(local->sdp);
  gst_webrtc_session_description_free(local);
  return text;
}
