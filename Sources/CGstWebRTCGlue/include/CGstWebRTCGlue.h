// webrtcbin's action signals carry GstPromises and return values, which Swift cannot emit
// (g_signal_emit_by_name is variadic): one call each. Those that webrtcbin answers later call
// back instead of waiting (cgst_webrtc_async.c).
#pragma once
#include <gst/gst.h>

/// The kinds of the m= sections of an SDP offer, in order, into `kinds` ('v' video, 'a' audio,
/// 'd' application, 'o' other); the number of sections, or -1 when `sdp` is not SDP.
gint cgst_webrtc_offer_kinds(const gchar *sdp, gchar *kinds, gint max);

/// Told when webrtcbin has answered a step: `error` is NULL on success, else why (freed
/// after the call). Runs on webrtcbin's thread, or at once when the step fails early.
typedef void (*CGstWebRTCDone)(const gchar *error, gpointer data);

/// Sets `sdp` as webrtcbin's remote offer; `done` follows, then `destroy(data)`.
void cgst_webrtc_set_offer_async(GstElement *webrtcbin, const gchar *sdp, CGstWebRTCDone done, gpointer data,
                                 GDestroyNotify destroy);

/// Creates the answer and makes it the local description; `done` follows, then `destroy(data)`.
void cgst_webrtc_answer_async(GstElement *webrtcbin, CGstWebRTCDone done, gpointer data, GDestroyNotify destroy);

/// webrtcbin's ice-gathering-state (GstWebRTCICEGatheringState as an int: 2 is complete).
gint cgst_webrtc_ice_gathering_state(GstElement *webrtcbin);

/// The local description as SDP text (free with g_free), or NULL when there is none.
gchar *cgst_webrtc_local_sdp(GstElement *webrtcbin);

/// Adds a TURN server ("turn(s)://user:password@host:port").
gboolean cgst_webrtc_add_turn_server(GstElement *webrtcbin, const gchar *uri);

/// Turns off UPnP port mapping in webrtcbin's ICE agent: a server has no router to open, and
/// libnice would otherwise search the LAN (SSDP multicast) from a thread of its own per viewer.
void cgst_webrtc_disable_upnp(GstElement *webrtcbin);

/// webrtcbin's connection-state (GstWebRTCPeerConnectionState as an int).
gint cgst_webrtc_connection_state(GstElement *webrtcbin);

/// The first payload type the offer's m= section `section` gives `encoding` ("H264" in
/// packetization mode 1, "OPUS"), or -1 (webrtcbin answers with the first that fits too).
gint cgst_webrtc_offer_payload(const gchar *sdp, guint section, const gchar *encoding);

/// The first payload type of m= section `section` of an SDP, or -1.
gint cgst_sdp_first_payload(const gchar *sdp, guint section);

/// g_object_set for one guint property (g_object_set is variadic).
void cgst_object_set_uint(gpointer object, const gchar *name, guint value);

/// Sends `text` on a webrtcbin data channel when it is open; FALSE when it is not (yet).
gboolean cgst_webrtc_data_channel_send(gpointer channel, const gchar *text);

/// The RTP timestamp of an RTP packet buffer.
gboolean cgst_rtp_timestamp(GstBuffer *buffer, guint32 *timestamp);
