// Keeps a shared media prepared with no viewers (see CGstRTSPGlue.h).
#include "CGstRTSPGlue.h"

gboolean cgst_rtsp_media_anchor(GstRTSPMedia *media) {
    // Each prepare counts; the media unprepares only when every one has been undone. On a
    // prepared media this only counts, so no thread is needed.
    if (gst_rtsp_media_get_status(media) != GST_RTSP_MEDIA_STATUS_PREPARED) return FALSE;
    return gst_rtsp_media_prepare(media, NULL);
}

void cgst_rtsp_media_release_anchor(GstRTSPMedia *media) {
    gst_rtsp_media_unprepare(media);
}
