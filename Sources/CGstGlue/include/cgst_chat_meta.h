// ChatCast's chat meta: a custom meta (no tags, so encoders and decoders copy it) holding
// one chat message per meta in a structure with id, room, nick, text and time.
#pragma once
#include <gst/gst.h>

#define CGST_CHAT_META_NAME "ChatCastChatMeta"

// Registers the meta once per process (two plugins may each call it).
void cgst_chat_meta_register(void);

// Adds one message; FALSE when the buffer is not writable.
gboolean cgst_buffer_add_chat_message(GstBuffer *buffer, const char *id, const char *room, const char *nick,
                                      const char *text, const char *time);

// The structure of the n-th chat meta of the buffer (owned by the buffer), or NULL.
const GstStructure *cgst_buffer_chat_message(GstBuffer *buffer, guint n);
