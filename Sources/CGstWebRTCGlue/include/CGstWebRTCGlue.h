// webrtcbin's action signals carry GstPromises and return values, which Swift cannot emit
// (g_signal_emit_by_name is variadic): one call each, run on a worker thread, never on an
// event loop, since they wait for webrtcbin.
#pragma once
#include <gst/gst.h>

/// The kinds of the m= sections of an SDP offer, in order, into `kinds` ('v' video, 'a' audio,
/// 'd' application, 'o' other); the number of sections, or -1 when `sdp` is not SDP.
gint cgst_webrtc_offer_kinds(const gchar *sdp, gchar *kinds, gint max);

/// Sets `sdp` as webrtcbin's remote offer and waits for it to be taken. FALSE with `*error`
/// (g_malloc'd) when webrtcbin refuses it.
gboolean cgst_webrtc_set_offer(GstElement *webrtcbin, const gchar *sdp, gchar **error);

/// Creates the answer, makes it the local description and waits until ICE gathering is
/// complete (at most `timeout_ms`), so that the SDP returned holds every candidate (WHEP
/// without trickle). NULL with `*error` when webrtcbin cannot answer. Free with g_free.
gchar *cgst_webrtc_answer(GstElement *webrtcbin, guint timeout_ms, gchar **error);

/// Adds a TURN server ("turn(s)://user:password@host:port").
gboolean cgst_webrtc_add_turn_server(GstElement *webrtcbin, const gchar *uri);

/// webrtcbin's connection-state (GstWebRTCPeerConnectionState as an int).
gint cgst_webrtc_connection_state(GstElement *webrtcbin);

/// The first payload type the offer's m= section `section` gives `encoding` ("H264" in
/// packetization mode 1, "OPUS"), or -1 (webrtcbin answers with the first that fits too).
gint cgst_webrtc_offer_payload(const gchar *sdp, guint section, const gchar *encoding);

/// The first payload type of m= section `section` of an SDP, or -1.
gint cgst_sdp_first_payload(const gchar *sdp, guint section);

/// g_object_set for one guint property (g_object_set is variadic).
void cgst_object_set_uint(gpointer object, const gchar *name, guint value);

/// Sends stream-start, `caps` and a time segment into `sinkpad`, so that a payloader fixes
/// its RTP caps (SSRC included) before any buffer: webrtcbin's answer then names the SSRC,
/// which browsers need to route the stream (webrtcbin 1.22 adds no MID header extension).
void cgst_pad_prime(GstPad *sinkpad, GstCaps *caps);

/// Sends `text` on a webrtcbin data channel when it is open; FALSE when it is not (yet).
gboolean cgst_webrtc_data_channel_send(gpointer channel, const gchar *text);

/// The RTP timestamp of an RTP packet buffer.
gboolean cgst_rtp_timestamp(GstBuffer *buffer, guint32 *timestamp);
