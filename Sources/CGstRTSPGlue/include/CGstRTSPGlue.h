// GObject subclasses of gst-rtsp-server that Swift cannot declare: a server whose clients
// route a publisher's requests to the room's RECORD mount while viewers of the same path
// reach its PLAY mount, and hand PLAY requests to the application before the media sees
// them.
#pragma once
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/app/app.h>

/// Mount-point paths of RECORD mounts start with this; requests that name it are refused
/// (404), so only the routing reaches them.
#define CGST_RTSP_RECORD_PREFIX "/~record"

/// ANNOUNCE for `path`: GST_RTSP_STS_OK when the path takes this publisher (the client's
/// requests under it then go to CGST_RTSP_RECORD_PREFIX + path), otherwise the status to
/// answer. Runs on the server's thread, before authentication.
typedef GstRTSPStatusCode (*CGstRTSPAnnounceHook)(GstRTSPContext *ctx, const gchar *path, gpointer user_data);
/// PLAY (a start or a resume) of `path`, before the media is touched: GST_RTSP_STS_OK lets
/// it through, any other status is the answer.
typedef GstRTSPStatusCode (*CGstRTSPPlayHook)(GstRTSPContext *ctx, const gchar *path, gpointer user_data);

GstRTSPServer *cgst_rtsp_room_server_new(CGstRTSPAnnounceHook announce, CGstRTSPPlayHook play);
/// What the hooks receive as user_data (clients made from now on).
void cgst_rtsp_room_server_set_user_data(GstRTSPServer *server, gpointer user_data);

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

/// Keeps a prepared shared media up while nobody watches it, by holding one more prepare
/// (1.22 counts them and unprepares at zero). Without it 1.22 unprepares a shared media as
/// its last viewer leaves and hands that dying media to viewers arriving in the same
/// instant, who get 503. FALSE when the media is not prepared.
gboolean cgst_rtsp_media_anchor(GstRTSPMedia *media);
/// Gives the held prepare back: the media unprepares once its viewers are gone too.
void cgst_rtsp_media_release_anchor(GstRTSPMedia *media);
