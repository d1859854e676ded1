// ChatCast SEI worker: sits in the video receiver's encoded-frame path, passes every
// frame through unchanged and posts what the frame's SEI carries to the page:
//   {type:'frame', rtpTimestamp, envelope (or null), receivedAt (epoch ms), key, bytes}
//   {type:'stats', ...counters}   every second
// Two ways in:
//   - RTCRtpScriptTransform (Chromium 141+, Firefox, Safari): the 'rtctransform' event.
//   - Encoded insertable streams (older Chromium): the page posts
//     {type:'streams', readable, writable} (transferred streams).
// Also {type:'parse', data: ArrayBuffer} -> {type:'parsed', result} for tests.
'use strict';
importScripts('sei.js');

var counters = { frames: 0, envelopes: 0, malformed: 0, truncated: 0, foreign: 0,
                 droppedChat: 0, droppedObjects: 0, errors: 0, lastReason: null };
var statsDirty = false;

function rtpTimestampOf(frame) {
  try {
    var md = frame.getMetadata ? frame.getMetadata() : null;
    if (md && typeof md.rtpTimestamp === 'number') return md.rtpTimestamp;
  } catch (e) { /* fall through */ }
  // legacy Chromium: RTCEncodedVideoFrame.timestamp is the RTP timestamp
  return typeof frame.timestamp === 'number' ? frame.timestamp : null;
}

function inspect(frame) {
  try {
    var r = self.ChatCastSEI.parseAccessUnit(frame.data);
    var s = r.stats;
    counters.frames++;
    if (r.envelope) counters.envelopes++;
    counters.malformed += s.malformed;
    counters.truncated += s.truncated;
    counters.foreign += s.foreign;
    counters.droppedChat += s.droppedChat;
    counters.droppedObjects += s.droppedObjects;
    if (s.reasons.length) counters.lastReason = s.reasons[s.reasons.length - 1];
    statsDirty = true;
    self.postMessage({
      type: 'frame',
      rtpTimestamp: rtpTimestampOf(frame),
      envelope: r.envelope,
      receivedAt: Date.now(),
      key: frame.type === 'key',
      bytes: frame.data.byteLength,
    });
  } catch (e) {
    // never let a bad frame stop the video
    counters.errors++;
    counters.lastReason = String(e && e.message || e);
    statsDirty = true;
  }
}

function run(readable, writable) {
  var transform = new TransformStream({
    transform: function (frame, controller) {
      inspect(frame);
      controller.enqueue(frame);   // unchanged
    },
  });
  readable.pipeThrough(transform).pipeTo(writable).catch(function (e) {
    self.postMessage({ type: 'closed', reason: String(e && e.message || e) });
  });
}

setInterval(function () {
  if (!statsDirty) return;
  statsDirty = false;
  var msg = { type: 'stats' };
  for (var k in counters) msg[k] = counters[k];
  self.postMessage(msg);
}, 1000);

self.addEventListener('rtctransform', function (event) {
  run(event.transformer.readable, event.transformer.writable);
});

self.addEventListener('message', function (event) {
  var m = event.data || {};
  if (m.type === 'streams') {
    run(m.readable, m.writable);
  } else if (m.type === 'parse') {
    self.postMessage({ type: 'parsed', id: m.id, result: self.ChatCastSEI.parseAccessUnit(m.data) });
  }
});

self.postMessage({ type: 'ready' });
