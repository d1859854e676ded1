// GObject subclasses of gst-rtsp-server that Swift cannot declare: a server whose clients
// route a publisher's requests to the room's RECORD mount while viewers of the same path
// reach its PLAY mount, and hand PLAY requests to the application before the media sees
// them.
#pragma once
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/app/app.h>
#include <gst/sdp/sdp.h>
#include <gst/rtp/rtp.h>
#include "cgst_signals.h"

/// Mount-point paths of RECORD mounts start with this; requests that name it are refused
/// (404), so only the routing reaches them.
#define CGST_RTSP_RECORD_PREFIX "/~record"

/// ANNOUNCE for `path`: GST_RTSP_STS_OK when the path takes this publisher (the client's
/// requests under it then go to CGST_RTSP_RECORD_PREFIX + path), otherwise the status to
/// answer. Runs on the server's thread, before authentication.
/// A refusal may set `*reason` (g_malloc'd, one ASCII line) to name what was refused.
typedef GstRTSPStatusCode (*CGstRTSPAnnounceHook)(GstRTSPContext *ctx, const gchar *path, gchar **reason,
                                                  gpointer user_data);
/// PLAY (a start or a resume) of `path`, before the media is touched: GST_RTSP_STS_OK lets
/// it through, any other status is the answer.
typedef GstRTSPStatusCode (*CGstRTSPPlayHook)(GstRTSPContext *ctx, const gchar *path, gpointer user_data);

/// A connection that ANNOUNCEd `path` closed (whether or not it went on to RECORD); `client`
/// is the one the ANNOUNCE hook's context named.
typedef void (*CGstRTSPAnnouncerGoneHook)(GstRTSPClient *client, const gchar *path, gpointer user_data);

GstRTSPServer *cgst_rtsp_room_server_new(CGstRTSPAnnounceHook announce, CGstRTSPPlayHook play);
/// The hook for connections that ANNOUNCEd and closed (clients made from now on).
void cgst_rtsp_room_server_set_announcer_gone(GstRTSPServer *server, CGstRTSPAnnouncerGoneHook gone);
/// What the hooks receive as user_data (clients made from now on).
void cgst_rtsp_room_server_set_user_data(GstRTSPServer *server, gpointer user_data);

/// One m= section of an ANNOUNCEd SDP: its media ("video"), the encoding of its first
/// format ("H264", from rtpmap or the static payload table; empty when unknown).
typedef struct {
  gchar media[32];
  gchar encoding[32];
  gint clock_rate;
} CGstSDPTrack;

/// The m= sections of the ANNOUNCE body in `ctx` (up to `max` filled in); -1 when the body
/// is missing or not SDP.
gint cgst_rtsp_announced_tracks(GstRTSPContext *ctx, CGstSDPTrack *tracks, gint max);
/// The same for an SDP body of `size` bytes (what the ANNOUNCE hook's call reads; fuzzed
/// on its own: Fuzz/Announce).
gint cgst_sdp_tracks(const guint8 *body, guint size, CGstSDPTrack *tracks, gint max);

/// The request's header `name` (first value), or NULL.
const gchar *cgst_rtsp_request_header(GstRTSPContext *ctx, GstRTSPHeaderField field);
/// The request URI's path ("/lobby"), or NULL; free with g_free.
gchar *cgst_rtsp_request_path(GstRTSPContext *ctx);

/// A token whose media.factory.role is `role` (gst_rtsp_token_new is variadic).
GstRTSPToken *cgst_rtsp_token_new_role(const gchar *role);
/// Lets `role` see and construct media of `factory` (gst_rtsp_media_factory_add_role is variadic).
void cgst_rtsp_factory_allow(GstRTSPMediaFactory *factory, const gchar *role);
/// Lets `role` find `factory` but not construct media, so gst-rtsp-auth answers 401 and
/// clients send credentials (without access it answers 404, and they never do).
void cgst_rtsp_factory_challenge(GstRTSPMediaFactory *factory, const gchar *role);
/// Connects a GObject signal (g_signal_connect is a macro).
gulong cgst_signal_connect(gpointer instance, const gchar *signal, GCallback handler, gpointer data);
