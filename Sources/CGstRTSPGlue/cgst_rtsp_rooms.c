#include "CGstRTSPGlue.h"
#include <stdlib.h>
#include <string.h>

// ---- client: path routing and the PLAY hook --------------------------------------------

typedef struct {
  GstRTSPClient parent;
  gchar *published;  // the path this connection ANNOUNCEd (its RECORD session), if any
  GPtrArray *session_ids;  // of the sessions this connection made (1.22 forgets them before "closed")
  GstRTSPStatusCode announce_status;  // the hook's answer to the ANNOUNCE being handled
  GstRTSPStatusCode refusal;  // the hook's refusal of the ANNOUNCE being handled (0: none)
  gchar *announce_reason;  // and its reason phrase (names what was refused), or NULL
  CGstRTSPAnnounceHook announce;
  CGstRTSPPlayHook play;
  CGstRTSPAnnouncerGoneHook announcer_gone;
  gpointer user_data;
} CGstRoomClient;

typedef struct {
  GstRTSPClientClass parent_class;
} CGstRoomClientClass;

G_DEFINE_TYPE(CGstRoomClient, cgst_room_client, GST_TYPE_RTSP_CLIENT)

static gboolean is_under(const gchar *path, const gchar *prefix) {
  size_t n = strlen(prefix);
  return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/// Where a request for `path` (taken) goes: the room's RECORD mount for the connection that
/// ANNOUNCEd it, the path itself otherwise; NULL (404) for paths naming the RECORD mounts.
static gchar *route_path(CGstRoomClient *self, gchar *path, GstRTSPContext *ctx) {
  if (is_under(path, CGST_RTSP_RECORD_PREFIX) || g_str_has_prefix(path, CGST_RTSP_RECORD_PREFIX "/")) {
    g_free(path);
    return NULL;
  }
  // The answer to an ANNOUNCE is decided here and given in pre-announce, which 1.22 runs later.
  if (ctx && ctx->request && ctx->request->type == GST_RTSP_MESSAGE_REQUEST &&
      ctx->request->type_data.request.method == GST_RTSP_ANNOUNCE) {
    gchar *reason = NULL;
    self->announce_status = self->announce(ctx, path, &reason, self->user_data);
    g_free(self->announce_reason);
    self->announce_reason = reason;
    self->refusal = self->announce_status == GST_RTSP_STS_OK ? 0 : self->announce_status;
    if (self->announce_status == GST_RTSP_STS_OK) {
      g_free(self->published);
      self->published = g_strdup(path);
    }
  }
  if (self->published && is_under(path, self->published)) {
    gchar *routed = g_strconcat(CGST_RTSP_RECORD_PREFIX, path, NULL);
    g_free(path);
    return routed;
  }
  return path;
}

// 1.22 makes paths in two places: DESCRIBE, ANNOUNCE and SETUP's media lookup ask the mount
// points, the other methods (and SETUP's session lookup) the client. Both route.
static gchar *room_client_make_path(GstRTSPClient *client, const GstRTSPUrl *uri) {
  gchar *path = GST_RTSP_CLIENT_CLASS(cgst_room_client_parent_class)->make_path_from_uri(client, uri);
  return path ? route_path((CGstRoomClient *)client, path, gst_rtsp_context_get_current()) : NULL;
}

static GstPadProbeReturn drop_data(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  (void)pad; (void)info; (void)data;
  return GST_PAD_PROBE_DROP;
}

static GstElement *media_rtpbin(GstRTSPMedia *media) {
  GstElement *bin = gst_rtsp_media_get_element(media);
  GstObject *pipeline = bin ? gst_object_get_parent(GST_OBJECT(bin)) : NULL;
  if (bin) gst_object_unref(bin);
  if (!pipeline) return NULL;
  GstElement *found = NULL;
  GstIterator *it = gst_bin_iterate_elements(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (!found && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *element = g_value_get_object(&item);
    if (g_strcmp0(G_OBJECT_TYPE_NAME(element), "GstRtpBin") == 0) found = gst_object_ref(element);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  gst_object_unref(pipeline);
  return found;
}

#define DROP_PROBE_KEY "cgst-not-set-up-probe"

/// A viewer may SETUP only some streams: those it left out have no sink, and what 1.22 let
/// through to them while preparing fails the media with not-linked when PLAY unblocks it (the
/// next PAUSE or PLAY is then refused). Their output is dropped where the sinks would be.
static void drop_streams_not_set_up(GstRTSPContext *ctx) {
  if (!ctx->media || !ctx->sessmedia) return;
  GstElement *rtpbin = media_rtpbin(ctx->media);
  if (!rtpbin) return;
  guint n = gst_rtsp_media_n_streams(ctx->media);
  for (guint i = 0; i < n; i++) {
    GstRTSPStream *stream = gst_rtsp_media_get_stream(ctx->media, i);
    gchar *name = g_strdup_printf("send_rtp_src_%u", gst_rtsp_stream_get_index(stream));
    GstPad *pad = gst_element_get_static_pad(rtpbin, name);
    g_free(name);
    if (!pad) continue;
    gulong probe = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(pad), DROP_PROBE_KEY));
    gboolean set_up = gst_rtsp_session_media_get_transport(ctx->sessmedia, i) != NULL;
    if (!set_up && probe == 0) {
      probe = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, drop_data, NULL, NULL);
      g_object_set_data(G_OBJECT(pad), DROP_PROBE_KEY, GSIZE_TO_POINTER(probe));
    } else if (set_up && probe != 0) {
      gst_pad_remove_probe(pad, probe);
      g_object_set_data(G_OBJECT(pad), DROP_PROBE_KEY, NULL);
    }
    gst_object_unref(pad);
  }
  gst_object_unref(rtpbin);
}

static GstRTSPStatusCode room_client_pre_play(GstRTSPClient *client, GstRTSPContext *ctx) {
  CGstRoomClient *self = (CGstRoomClient *)client;
  drop_streams_not_set_up(ctx);
  gchar *path = cgst_rtsp_request_path(ctx);
  GstRTSPStatusCode code = self->play(ctx, path ? path : "", self->user_data);
  g_free(path);
  return code;
}

static GstRTSPStatusCode room_client_pre_announce(GstRTSPClient *client, GstRTSPContext *ctx) {
  (void)ctx;
  CGstRoomClient *self = (CGstRoomClient *)client;
  GstRTSPStatusCode code = self->announce_status;
  self->announce_status = GST_RTSP_STS_OK;
  return code;
}

// A refused ANNOUNCE gets the hook's status (1.22 answers 404 before pre-announce when the
// refused path has no mount) and says why in its reason phrase (ffmpeg prints it: "method
// ANNOUNCE failed: 415 …"), not just the status's stock text.
static void room_client_send_message(GstRTSPClient *client, GstRTSPContext *ctx, GstRTSPMessage *response) {
  CGstRoomClient *self = (CGstRoomClient *)client;
  if (self->refusal && response && response->type == GST_RTSP_MESSAGE_RESPONSE && ctx && ctx->request &&
      ctx->request->type == GST_RTSP_MESSAGE_REQUEST && ctx->request->type_data.request.method == GST_RTSP_ANNOUNCE &&
      response->type_data.response.code != GST_RTSP_STS_OK) {
    response->type_data.response.code = self->refusal;
    g_free(response->type_data.response.reason);
    response->type_data.response.reason =
        self->announce_reason ? self->announce_reason : g_strdup(gst_rtsp_status_as_text(self->refusal));
    self->announce_reason = NULL;
    self->refusal = 0;
  }
  if (GST_RTSP_CLIENT_CLASS(cgst_room_client_parent_class)->send_message)
    GST_RTSP_CLIENT_CLASS(cgst_room_client_parent_class)->send_message(client, ctx, response);
}

// ---- closed connections: their sessions go at once -------------------------------------

static void room_client_new_session(GstRTSPClient *client, GstRTSPSession *session) {
  CGstRoomClient *self = (CGstRoomClient *)client;
  g_ptr_array_add(self->session_ids, g_strdup(gst_rtsp_session_get_sessionid(session)));
  if (GST_RTSP_CLIENT_CLASS(cgst_room_client_parent_class)->new_session)
    GST_RTSP_CLIENT_CLASS(cgst_room_client_parent_class)->new_session(client, session);
}

// When a connection closes, 1.22 takes the media out of every session it made (a PLAY of
// such a session from another connection gets 404) but keeps the emptied session in the
// pool until it times out (60 s), counted against the session cap: 64 viewers coming and
// going within a minute locked out everyone after them (503). They go now.
static void room_client_closed(GstRTSPClient *client) {
  CGstRoomClient *self = (CGstRoomClient *)client;
  GstRTSPSessionPool *pool = gst_rtsp_client_get_session_pool(client);
  for (guint i = 0; pool && i < self->session_ids->len; i++) {
    GstRTSPSession *session = gst_rtsp_session_pool_find(pool, g_ptr_array_index(self->session_ids, i));
    if (!session) continue;  // torn down or expired already
    gst_rtsp_session_pool_remove(pool, session);
    g_object_unref(session);
  }
  g_ptr_array_set_size(self->session_ids, 0);
  if (pool) g_object_unref(pool);
  if (GST_RTSP_CLIENT_CLASS(cgst_room_client_parent_class)->closed)
    GST_RTSP_CLIENT_CLASS(cgst_room_client_parent_class)->closed(client);
  if (self->published && self->announcer_gone) self->announcer_gone(client, self->published, self->user_data);
}

static void room_client_finalize(GObject *object) {
  g_free(((CGstRoomClient *)object)->published);
  g_free(((CGstRoomClient *)object)->announce_reason);
  g_ptr_array_unref(((CGstRoomClient *)object)->session_ids);
  G_OBJECT_CLASS(cgst_room_client_parent_class)->finalize(object);
}

static void cgst_room_client_class_init(CGstRoomClientClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = room_client_finalize;
  GST_RTSP_CLIENT_CLASS(klass)->make_path_from_uri = room_client_make_path;
  GST_RTSP_CLIENT_CLASS(klass)->pre_play_request = room_client_pre_play;
  GST_RTSP_CLIENT_CLASS(klass)->pre_announce_request = room_client_pre_announce;
  GST_RTSP_CLIENT_CLASS(klass)->closed = room_client_closed;
  GST_RTSP_CLIENT_CLASS(klass)->new_session = room_client_new_session;
  GST_RTSP_CLIENT_CLASS(klass)->send_message = room_client_send_message;
}

static void cgst_room_client_init(CGstRoomClient *self) {
  self->announce_status = GST_RTSP_STS_OK;
  self->session_ids = g_ptr_array_new_with_free_func(g_free);
}

// ---- mount points: the same routing for the lookups that bypass the client -------------

typedef struct {
  GstRTSPMountPoints parent;
} CGstRoomMounts;

typedef struct {
  GstRTSPMountPointsClass parent_class;
} CGstRoomMountsClass;

G_DEFINE_TYPE(CGstRoomMounts, cgst_room_mounts, GST_TYPE_RTSP_MOUNT_POINTS)

static gchar *room_mounts_make_path(GstRTSPMountPoints *mounts, const GstRTSPUrl *url) {
  gchar *path = GST_RTSP_MOUNT_POINTS_CLASS(cgst_room_mounts_parent_class)->make_path(mounts, url);
  GstRTSPContext *ctx = gst_rtsp_context_get_current();
  if (path == NULL || ctx == NULL || ctx->client == NULL ||
      !G_TYPE_CHECK_INSTANCE_TYPE(ctx->client, cgst_room_client_get_type()))
    return path;
  return route_path((CGstRoomClient *)ctx->client, path, ctx);
}

static void cgst_room_mounts_class_init(CGstRoomMountsClass *klass) {
  GST_RTSP_MOUNT_POINTS_CLASS(klass)->make_path = room_mounts_make_path;
}

static void cgst_room_mounts_init(CGstRoomMounts *self) { (void)self; }

// ---- server: makes room clients, configured as the stock server configures its own -----

typedef struct {
  GstRTSPServer parent;
  CGstRTSPAnnounceHook announce;
  CGstRTSPPlayHook play;
  CGstRTSPAnnouncerGoneHook announcer_gone;
  gpointer user_data;
} CGstRoomServer;

typedef struct {
  GstRTSPServerClass parent_class;
} CGstRoomServerClass;

G_DEFINE_TYPE(CGstRoomServer, cgst_room_server, GST_TYPE_RTSP_SERVER)

static GstRTSPClient *room_server_create_client(GstRTSPServer *server) {
  CGstRoomServer *self = (CGstRoomServer *)server;
  CGstRoomClient *room_client = g_object_new(cgst_room_client_get_type(), NULL);
  room_client->announce = self->announce;
  room_client->play = self->play;
  room_client->announcer_gone = self->announcer_gone;
  room_client->user_data = self->user_data;
  GstRTSPClient *client = GST_RTSP_CLIENT(room_client);
  // What gst-rtsp-server's default_create_client does, through the public getters.
  GstRTSPSessionPool *pool = gst_rtsp_server_get_session_pool(server);
  gst_rtsp_client_set_session_pool(client, pool);
  if (pool) g_object_unref(pool);
  GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_client_set_mount_points(client, mounts);
  if (mounts) g_object_unref(mounts);
  gst_rtsp_client_set_content_length_limit(client, gst_rtsp_server_get_content_length_limit(server));
  GstRTSPAuth *auth = gst_rtsp_server_get_auth(server);
  gst_rtsp_client_set_auth(client, auth);
  if (auth) g_object_unref(auth);
  GstRTSPThreadPool *threads = gst_rtsp_server_get_thread_pool(server);
  gst_rtsp_client_set_thread_pool(client, threads);
  if (threads) g_object_unref(threads);
  return client;
}

static void cgst_room_server_class_init(CGstRoomServerClass *klass) {
  GST_RTSP_SERVER_CLASS(klass)->create_client = room_server_create_client;
}

static void cgst_room_server_init(CGstRoomServer *self) { (void)self; }

GstRTSPServer *cgst_rtsp_room_server_new(CGstRTSPAnnounceHook announce, CGstRTSPPlayHook play) {
  CGstRoomServer *self = g_object_new(cgst_room_server_get_type(), NULL);
  self->announce = announce;
  self->play = play;
  GstRTSPMountPoints *mounts = g_object_new(cgst_room_mounts_get_type(), NULL);
  gst_rtsp_server_set_mount_points(GST_RTSP_SERVER(self), mounts);
  g_object_unref(mounts);
  return GST_RTSP_SERVER(self);
}

void cgst_rtsp_room_server_set_announcer_gone(GstRTSPServer *server, CGstRTSPAnnouncerGoneHook gone) {
  ((CGstRoomServer *)server)->announcer_gone = gone;
}

void cgst_rtsp_room_server_set_user_data(GstRTSPServer *server, gpointer user_data) {
  ((CGstRoomServer *)server)->user_data = user_data;
}

// ---- ANNOUNCE bodies -------------------------------------------------------------------

gint cgst_rtsp_announced_tracks(GstRTSPContext *ctx, CGstSDPTrack *tracks, gint max) {
  guint8 *body = NULL;
  guint size = 0;
  if (ctx == NULL || ctx->request == NULL || gst_rtsp_message_get_body(ctx->request, &body, &size) != GST_RTSP_OK)
    return -1;
  return cgst_sdp_tracks(body, size, tracks, max);
}

gint cgst_sdp_tracks(const guint8 *body, guint size, CGstSDPTrack *tracks, gint max) {
  if (body == NULL || size == 0) return -1;
  GstSDPMessage *sdp = NULL;
  if (gst_sdp_message_new(&sdp) != GST_SDP_OK) return -1;
  if (gst_sdp_message_parse_buffer(body, size, sdp) != GST_SDP_OK) {
    gst_sdp_message_free(sdp);
    return -1;
  }
  gint count = (gint)gst_sdp_message_medias_len(sdp);
  for (gint i = 0; i < count && i < max; i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media(sdp, i);
    CGstSDPTrack *track = &tracks[i];
    memset(track, 0, sizeof *track);
    g_strlcpy(track->media, gst_sdp_media_get_media(media) ? gst_sdp_media_get_media(media) : "", sizeof track->media);
    if (gst_sdp_media_formats_len(media) == 0) continue;
    const gchar *format = gst_sdp_media_get_format(media, 0);
    gint pt = format ? atoi(format) : -1;
    GstCaps *caps = gst_sdp_media_get_caps_from_media(media, pt);
    if (caps == NULL) {
      // A static payload type without rtpmap (ffmpeg's MJPEG is 26): RFC 3551's table.
      const GstRTPPayloadInfo *info = pt >= 0 && pt < 96 ? gst_rtp_payload_info_for_pt((guint8)pt) : NULL;
      if (info && info->encoding_name) {
        g_strlcpy(track->encoding, info->encoding_name, sizeof track->encoding);
        track->clock_rate = (gint)info->clock_rate;
      }
      continue;
    }
    const GstStructure *s = gst_caps_get_structure(caps, 0);
    const gchar *encoding = gst_structure_get_string(s, "encoding-name");
    const GstRTPPayloadInfo *info = encoding == NULL && pt >= 0 && pt < 96 ? gst_rtp_payload_info_for_pt((guint8)pt) : NULL;
    g_strlcpy(track->encoding, encoding ? encoding : (info && info->encoding_name ? info->encoding_name : ""),
              sizeof track->encoding);
    gst_structure_get_int(s, "clock-rate", &track->clock_rate);
    gst_caps_unref(caps);
  }
  gst_sdp_message_free(sdp);
  return count;
}

// ---- request accessors (GstRTSPMessage's union is awkward from Swift) ------------------

const gchar *cgst_rtsp_request_header(GstRTSPContext *ctx, GstRTSPHeaderField field) {
  gchar *value = NULL;
  if (ctx == NULL || ctx->request == NULL) return NULL;
  if (gst_rtsp_message_get_header(ctx->request, field, &value, 0) != GST_RTSP_OK) return NULL;
  return value;
}

gchar *cgst_rtsp_request_path(GstRTSPContext *ctx) {
  if (ctx == NULL || ctx->uri == NULL || ctx->uri->abspath == NULL) return NULL;
  return g_strdup(ctx->uri->abspath);
}

// ---- variadic and macro wrappers -------------------------------------------------------

GstRTSPToken *cgst_rtsp_token_new_role(const gchar *role) {
  return gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, role, NULL);
}

void cgst_rtsp_factory_allow(GstRTSPMediaFactory *factory, const gchar *role) {
  gst_rtsp_media_factory_add_role(factory, role, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                  GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
}

void cgst_rtsp_factory_challenge(GstRTSPMediaFactory *factory, const gchar *role) {
  gst_rtsp_media_factory_add_role(factory, role, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                  GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, FALSE, NULL);
}

gulong cgst_signal_connect(gpointer instance, const gchar *signal, GCallback handler, gpointer data) {
  return g_signal_connect(instance, signal, handler, data);
}
