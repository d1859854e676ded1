// ChatCast SEI reader: finds the ChatCast envelope (H.264 SEI, payload type 5,
// user_data_unregistered, UUID 9f8ccd97-fb33-4dc7-a688-bc6dfa535d02, UTF-8 JSON)
// in one encoded access unit. Plain functions, no DOM: loaded by the page
// (<script src="/static/sei.js">) and by the worker (importScripts), and by
// Tests/fixtures/web/sei-test.html. Nothing here throws on bad input: a malformed
// payload is counted and skipped, one bad chat message or object costs only itself.
(function (root) {
  'use strict';

  var UUID = [0x9f, 0x8c, 0xcd, 0x97, 0xfb, 0x33, 0x4d, 0xc7,
              0xa6, 0x88, 0xbc, 0x6d, 0xfa, 0x53, 0x5d, 0x02];
  var SEI_NAL = 6;
  var USER_DATA_UNREGISTERED = 5;
  var MAX_CHAT_TEXT = 500;   // characters, as the IRC server allows
  var MAX_NICK = 32;

  var utf8 = null;
  function decodeUtf8(bytes) {
    if (!utf8) utf8 = new TextDecoder('utf-8', { fatal: true });
    return utf8.decode(bytes);   // throws TypeError on invalid UTF-8
  }

  function newStats() {
    return { nals: 0, seiNals: 0, seiMessages: 0, foreign: 0, envelopes: 0,
             malformed: 0, truncated: 0, droppedChat: 0, droppedObjects: 0, reasons: [] };
  }

  function note(stats, reason) {
    if (stats.reasons.length < 8) stats.reasons.push(reason);
  }

  // Splits an Annex B buffer (00 00 01 / 00 00 00 01 start codes) into NAL units.
  // Returns [{type, start, end}] (start at the NAL header byte, end exclusive,
  // trailing zero bytes removed). With stopAtVcl, stops at the first slice NAL
  // (types 1-5) without looking for its end: ChatCast puts its SEI before the
  // first slice, so the slice data (most of the frame) is never scanned.
  function annexBNals(buf, stopAtVcl) {
    var out = [];
    var n = buf.length;
    var i = 0;
    // first start code
    var s = -1;
    while (i + 2 < n) {
      if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) { s = i + 3; break; }
      if (buf[i + 2] > 1) i += 3; else i += 1;
    }
    while (s >= 0 && s < n) {
      var type = buf[s] & 0x1f;
      if (stopAtVcl && type >= 1 && type <= 5) {
        out.push({ type: type, start: s, end: n, cut: true });
        break;
      }
      // find next start code
      var j = s + 1;
      var next = -1;
      while (j + 2 < n) {
        if (buf[j + 2] > 1) { j += 3; continue; }
        if (buf[j] === 0 && buf[j + 1] === 0 && buf[j + 2] === 1) { next = j; break; }
        j += 1;
      }
      var end = next < 0 ? n : next;
      var e = end;
      while (e > s && buf[e - 1] === 0) e--;   // trailing_zero_8bits / 4-byte start code
      out.push({ type: type, start: s, end: e });
      s = next < 0 ? -1 : next + 3;
    }
    return out;
  }

  // Length-prefixed (AVCC, 4-byte lengths) NAL units, or null when buf is not that.
  function avccNals(buf) {
    var out = [];
    var i = 0, n = buf.length;
    while (i + 4 <= n) {
      var len = ((buf[i] << 24) >>> 0) + (buf[i + 1] << 16) + (buf[i + 2] << 8) + buf[i + 3];
      if (len === 0 || i + 4 + len > n) return null;
      out.push({ type: buf[i + 4] & 0x1f, start: i + 4, end: i + 4 + len });
      i += 4 + len;
    }
    return i === n && out.length ? out : null;
  }

  function nalUnits(buf, stopAtVcl) {
    if (buf.length >= 3 && buf[0] === 0 && buf[1] === 0 &&
        (buf[2] === 1 || (buf[2] === 0 && buf.length >= 4 && buf[3] === 1))) {
      return annexBNals(buf, stopAtVcl);
    }
    return avccNals(buf) || annexBNals(buf, stopAtVcl);
  }

  // Removes emulation prevention bytes: 00 00 03 xx -> 00 00 xx.
  function unescapeRbsp(buf, start, end) {
    var out = new Uint8Array(end - start);
    var o = 0, zeros = 0;
    for (var i = start; i < end; i++) {
      var b = buf[i];
      if (zeros >= 2 && b === 3) { zeros = 0; continue; }
      out[o++] = b;
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return out.subarray(0, o);
  }

  // Parses the sei_message()s of an SEI RBSP (NAL header byte excluded).
  // Returns [{type, size, payload}]; sets stats.truncated when a message runs past the end.
  function seiMessages(rbsp, stats) {
    var msgs = [];
    var n = rbsp.length;
    while (n > 0 && rbsp[n - 1] === 0) n--;          // cabac_zero_words / padding
    var p = 0;
    while (p < n) {
      // rbsp_trailing_bits: a lone 0x80 at the end
      if (p === n - 1 && rbsp[p] === 0x80) break;
      var type = 0, size = 0;
      while (p < n && rbsp[p] === 0xff) { type += 255; p++; }
      if (p >= n) { stats.truncated++; note(stats, 'truncated payload type'); break; }
      type += rbsp[p++];
      while (p < n && rbsp[p] === 0xff) { size += 255; p++; }
      if (p >= n) { stats.truncated++; note(stats, 'truncated payload size'); break; }
      size += rbsp[p++];
      if (p + size > n) {
        stats.truncated++;
        note(stats, 'payload of ' + size + ' bytes runs past the NAL (' + (n - p) + ' left)');
        break;
      }
      msgs.push({ type: type, size: size, payload: rbsp.subarray(p, p + size) });
      p += size;
    }
    return msgs;
  }

  function isOurUuid(payload) {
    if (payload.length < 16) return false;
    for (var i = 0; i < 16; i++) if (payload[i] !== UUID[i]) return false;
    return true;
  }

  function str(v, max) {
    if (typeof v !== 'string') return null;
    return max && v.length > max ? v.slice(0, max) : v;
  }

  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }

  // One chat message, or null when it is unusable.
  function cleanChat(m) {
    if (!m || typeof m !== 'object') return null;
    var nick = str(m.nick, MAX_NICK), text = str(m.text, MAX_CHAT_TEXT);
    if (!nick || text === null) return null;
    return {
      id: typeof m.id === 'string' || typeof m.id === 'number' ? String(m.id) : null,
      room: str(m.room) || null,
      nick: nick,
      text: text,
      time: str(m.time) || null,
    };
  }

  // One detected object, or null when it is unusable.
  function cleanObject(o) {
    if (!o || typeof o !== 'object') return null;
    var x = num(o.x), y = num(o.y), w = num(o.w), h = num(o.h);
    if (x === null || y === null || w === null || h === null || w <= 0 || h <= 0) return null;
    var classId = Number.isInteger(o.class_id) ? o.class_id : null;
    var label = str(o.label, 64);
    if (!label) label = classId !== null ? 'class ' + classId : 'object';
    var conf = num(o.confidence);
    var out = { label: label, class_id: classId, confidence: conf === null ? null : Math.max(0, Math.min(1, conf)),
                x: x, y: y, w: w, h: h };
    if (Number.isInteger(o.track_id) && o.track_id >= 1) out.track_id = o.track_id;
    if (o.predicted === true) out.predicted = true;
    return out;
  }

  // Validates a parsed JSON value as an envelope. Returns the cleaned envelope or null.
  function cleanEnvelope(obj, stats) {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) { note(stats, 'not an object'); return null; }
    if (obj.v !== 1) { note(stats, 'unsupported version ' + JSON.stringify(obj.v)); return null; }
    var env = { v: 1, chat: [], det: null };
    if (Array.isArray(obj.chat)) {
      for (var i = 0; i < obj.chat.length; i++) {
        var c = cleanChat(obj.chat[i]);
        if (c) env.chat.push(c); else stats.droppedChat++;
      }
    }
    var d = obj.det;
    if (d && typeof d === 'object') {
      var W = num(d.width), H = num(d.height);
      if (W !== null && H !== null && W > 0 && H > 0) {
        env.det = { width: W, height: H, objects: [] };
        if (Array.isArray(d.objects)) {
          for (var k = 0; k < d.objects.length; k++) {
            var o = cleanObject(d.objects[k]);
            if (o) env.det.objects.push(o); else stats.droppedObjects++;
          }
        }
      } else {
        note(stats, 'det without a usable width/height');
        if (Array.isArray(d.objects)) stats.droppedObjects += d.objects.length;
      }
    }
    // glass-to-glass time stamp, if a writer adds one (epoch ms or an ISO string)
    if (typeof obj.sent_at === 'number' || typeof obj.sent_at === 'string') env.sent_at = obj.sent_at;
    return env;
  }

  // Parses the user_data_unregistered payload (UUID + JSON). Returns envelope or null.
  function parseUserData(payload, stats) {
    if (!isOurUuid(payload)) { stats.foreign++; return null; }
    var body = payload.subarray(16);
    var e = body.length;
    while (e > 0 && body[e - 1] === 0) e--;        // tolerate NUL padding
    var text;
    try { text = decodeUtf8(body.subarray(0, e)); } catch (err) {
      stats.malformed++; note(stats, 'invalid UTF-8'); return null;
    }
    var obj;
    try { obj = JSON.parse(text); } catch (err) {
      stats.malformed++; note(stats, 'invalid JSON'); return null;
    }
    var env = cleanEnvelope(obj, stats);
    if (!env) { stats.malformed++; return null; }
    stats.envelopes++;
    return env;
  }

  // Merges several envelopes of one access unit: chat concatenated, last det wins.
  function mergeEnvelopes(list) {
    if (list.length === 0) return null;
    if (list.length === 1) return list[0];
    var out = { v: 1, chat: [], det: null };
    for (var i = 0; i < list.length; i++) {
      out.chat = out.chat.concat(list[i].chat);
      if (list[i].det) out.det = list[i].det;
      if (list[i].sent_at !== undefined) out.sent_at = list[i].sent_at;
    }
    return out;
  }

  // Main entry: one encoded access unit (ArrayBuffer, Uint8Array or DataView).
  // Returns {envelope: merged envelope or null, stats}.
  // opts.scanAll: also look at NALs after the first slice (slower; default false).
  function parseAccessUnit(data, opts) {
    var stats = newStats();
    var envs = [];
    try {
      var buf = data instanceof Uint8Array ? data
        : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data);
      var nals = nalUnits(buf, !(opts && opts.scanAll));
      stats.nals = nals.length;
      for (var i = 0; i < nals.length; i++) {
        var nal = nals[i];
        if (nal.type !== SEI_NAL || nal.cut) continue;
        stats.seiNals++;
        var rbsp = unescapeRbsp(buf, nal.start + 1, nal.end);
        var msgs = seiMessages(rbsp, stats);
        for (var k = 0; k < msgs.length; k++) {
          stats.seiMessages++;
          if (msgs[k].type !== USER_DATA_UNREGISTERED) continue;
          var env = parseUserData(msgs[k].payload, stats);
          if (env) envs.push(env);
        }
      }
    } catch (err) {
      stats.malformed++;
      note(stats, 'parser error: ' + (err && err.message));
    }
    return { envelope: mergeEnvelopes(envs), stats: stats };
  }

  // Builds an SEI NAL (Annex B, with start code) carrying payload bytes as type 5
  // with our UUID, emulation prevention applied. Used by tests.
  function buildSeiNal(jsonBytes, uuid) {
    var u = uuid || UUID;
    var payloadSize = 16 + jsonBytes.length;
    var raw = [6, USER_DATA_UNREGISTERED];
    var s = payloadSize;
    while (s >= 255) { raw.push(255); s -= 255; }
    raw.push(s);
    for (var i = 0; i < 16; i++) raw.push(u[i]);
    for (var j = 0; j < jsonBytes.length; j++) raw.push(jsonBytes[j]);
    raw.push(0x80);
    var out = [0, 0, 0, 1, raw[0]];
    var zeros = 0;
    for (var k = 1; k < raw.length; k++) {
      var b = raw[k];
      if (zeros >= 2 && b <= 3) { out.push(3); zeros = 0; }
      out.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return new Uint8Array(out);
  }

  root.ChatCastSEI = {
    UUID: UUID,
    parseAccessUnit: parseAccessUnit,
    nalUnits: nalUnits,
    unescapeRbsp: unescapeRbsp,
    seiMessages: seiMessages,
    parseUserData: parseUserData,
    cleanEnvelope: cleanEnvelope,
    buildSeiNal: buildSeiNal,
    newStats: newStats,
  };
})(typeof self !== 'undefined' ? self : this);
