// Detections as ROI metas whose `detection` params survive conversion: videoconvert and
// videoscale on 1.22 copy a GstVideoRegionOfInterestMeta's box and id but drop its params,
// so each ROI also gets a custom meta (no tags: decoders, converters and scalers copy it)
// holding the same params and the ROI's id.
#pragma once
#include <gst/gst.h>
#include <gst/video/video.h>

#define CGST_DETECTION_META_NAME "ChatCastDetectionMeta"

// Adds one ROI meta (roi_type = label, a buffer-unique id) with a `detection` param
// structure (label, class-id, confidence; track-id when > 0; predicted when TRUE), and its
// custom meta twin. NULL when the buffer is not writable.
GstVideoRegionOfInterestMeta *cgst_buffer_add_detection(GstBuffer *buffer, const char *label, gint class_id,
                                                        gdouble confidence, gint track_id, gboolean predicted,
                                                        guint x, guint y, guint w, guint h);

// The `detection` params of an ROI meta of `buffer`: its own, else those of the custom
// meta with its id. Owned by the buffer; NULL when there are none.
const GstStructure *cgst_roi_detection_params(GstBuffer *buffer, GstVideoRegionOfInterestMeta *roi);
