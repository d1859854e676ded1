// ChatCast viewer page: WHEP video, SEI boxes and labels in sync with the frames,
// IRC chat over WebSocket (IRCv3 WebSocket transport). Needs sei.js and chat.js.
//
// Sync: a worker (sei-worker.js) reads each encoded video frame's SEI and posts
// {rtpTimestamp, envelope}. requestVideoFrameCallback tells which RTP timestamp is on
// screen; the page draws that frame's envelope. Decision for frames without an envelope:
//   - the worker saw the frame and it carried no ChatCast SEI -> no boxes (nothing claims
//     anything about that frame);
//   - the worker has not reported the frame (should not happen: frames are inspected
//     before decoding) -> the last drawn boxes stay only when they belong to the previous
//     frame (at most 1.5 frame intervals of RTP time earlier); counted in `unsyncedFrames`.
(function () {
  'use strict';

  var SEI = window.ChatCastSEI, Chat = window.ChatCastChat;
  var MAX_CHAT_LINES = 500;
  var FRAME_MAP_MS = 5000;          // keep envelopes of the last 5 s of frames
  var FRAME_MAP_MAX = 1000;
  var LABELS_EVERY_MS = 250;        // accessible list: at most 4 updates a second
  var FRAME_LOG_MAX = 1800;         // per-frame display records for benchmarks
  var BOX_COLOR = '#00ff00';        // untracked boxes; tests look for this colour in screenshots
  var NICK_KEY = 'chatcast.nick';

  var $ = function (id) { return document.getElementById(id); };
  var video = $('video'), canvas = $('overlay'), labelsEl = $('labels'), chatEl = $('chat');
  var statusEl = $('status'), ircStatusEl = $('irc-status'), nickEl = $('nick'), messageEl = $('message');

  var room = decodeURIComponent(location.pathname.replace(/^\/+/, '').split('/')[0] || '');
  var channel = '#' + room;

  // ---- state (read by tests and benchmarks) ----
  var S = {
    room: room,
    framesShown: 0,
    lastRtpTimestamp: null,
    labels: [],
    chatLines: [],
    boxes: [],
    boxesDrawn: 0,
    whepStatus: 'idle',
    whepHttpStatus: null,
    whepResource: null,
    whepAttempts: 0,
    connectionState: 'new',
    ircStatus: 'idle',
    ircCaps: [],
    nick: null,
    errors: [],
    seiMode: null,            // 'script-transform' | 'insertable-streams' | 'main-thread' | 'none'
    seiFrames: 0,             // frames the worker inspected
    seiEnvelopes: 0,          // frames that carried an envelope
    seiStats: {},
    syncedFrames: 0,          // shown frames whose own envelope (or known absence) was used
    unsyncedFrames: 0,        // shown frames the worker had not reported
    framesWithBoxes: 0,
    frameLog: [],             // [{rtp, receivedAt, shownAt, expectedDisplayAt, receiveAt, captureAt, sentAt, objects, chat}]
    latencySamples: [],       // shownAt - sent_at (ms) for envelopes that carry sent_at
    videoSize: null,
  };
  window.chatcastViewer = S;
  S.snapshot = function () { return JSON.parse(JSON.stringify(S)); };

  function error(msg) {
    S.errors.push(String(msg));
    if (S.errors.length > 50) S.errors.shift();
  }
  window.addEventListener('error', function (e) { error('page error: ' + (e.message || e)); });
  window.addEventListener('unhandledrejection', function (e) {
    error('unhandled rejection: ' + (e.reason && e.reason.message || e.reason));
  });

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = cls || '';
  }

  function wallNow() { return performance.timeOrigin + performance.now(); }

  // ---- frames and envelopes ----
  var frames = new Map();   // rtpTimestamp -> {envelope, receivedAt, key}
  var dcStats = SEI.newStats();  // what the data channel's envelopes lost to the checks

  function rememberFrame(m) {
    if (typeof m.rtpTimestamp !== 'number') return;
    S.seiFrames++;
    if (m.envelope) S.seiEnvelopes++;
    frames.delete(m.rtpTimestamp);
    frames.set(m.rtpTimestamp, { envelope: m.envelope, receivedAt: m.receivedAt || Date.now(), key: m.key });
    var cutoff = Date.now() - FRAME_MAP_MS;
    for (var it = frames.entries(), e = it.next(); !e.done; e = it.next()) {
      if (frames.size <= FRAME_MAP_MAX && e.value[1].receivedAt >= cutoff) break;
      frames.delete(e.value[0]);
    }
    if (!hasVideoFrameCallback && m.envelope) {
      // no requestVideoFrameCallback: best effort, show the newest envelope now
      showEnvelope(m.envelope, m.rtpTimestamp);
      takeChat(m.envelope);
    }
  }

  function onWorkerMessage(ev) {
    var m = ev.data || {};
    if (m.type === 'frame') rememberFrame(m);
    else if (m.type === 'stats') S.seiStats = m;
    else if (m.type === 'closed') error('SEI transform closed: ' + m.reason);
  }

  var worker = null;
  function getWorker() {
    if (worker) return worker;
    try {
      worker = new Worker('/static/sei-worker.js');
      worker.onmessage = onWorkerMessage;
      worker.onerror = function (e) { error('SEI worker: ' + (e.message || 'failed to load')); };
    } catch (e) {
      error('SEI worker unavailable: ' + e.message);
      worker = null;
    }
    return worker;
  }

  var hasScriptTransform = typeof window.RTCRtpScriptTransform === 'function';
  var hasInsertable = typeof RTCRtpReceiver !== 'undefined' && RTCRtpReceiver.prototype &&
    typeof RTCRtpReceiver.prototype.createEncodedStreams === 'function';
  var hasVideoFrameCallback = 'requestVideoFrameCallback' in HTMLVideoElement.prototype;

  function mainThreadTransform(readable, writable) {
    readable.pipeThrough(new TransformStream({
      transform: function (frame, controller) {
        try {
          var r = SEI.parseAccessUnit(frame.data);
          var md = frame.getMetadata ? frame.getMetadata() : {};
          rememberFrame({ rtpTimestamp: typeof md.rtpTimestamp === 'number' ? md.rtpTimestamp : frame.timestamp,
                          envelope: r.envelope, receivedAt: Date.now(), key: frame.type === 'key' });
        } catch (e) { /* never stop the video */ }
        controller.enqueue(frame);
      },
    })).pipeTo(writable).catch(function (e) { error('SEI transform closed: ' + e.message); });
  }

  function attachTransform(receiver, kind) {
    if (kind !== 'video') {
      if (!hasScriptTransform && hasInsertable) {
        // encodedInsertableStreams applies to every receiver: pass audio straight through
        var a = receiver.createEncodedStreams();
        a.readable.pipeTo(a.writable).catch(function () {});
      }
      return;
    }
    if (hasScriptTransform) {
      var w = getWorker();
      if (w) {
        receiver.transform = new RTCRtpScriptTransform(w, { kind: 'video' });
        S.seiMode = 'script-transform';
        return;
      }
    }
    if (hasInsertable) {
      var s = receiver.createEncodedStreams();
      var w2 = getWorker();
      if (w2) {
        try {
          w2.postMessage({ type: 'streams', readable: s.readable, writable: s.writable }, [s.readable, s.writable]);
          S.seiMode = 'insertable-streams';
          return;
        } catch (e) { error('cannot move streams to the worker: ' + e.message); }
      }
      mainThreadTransform(s.readable, s.writable);
      S.seiMode = 'main-thread';
      return;
    }
    S.seiMode = 'none';
  }

  // ---- drawing ----
  var ctx = canvas.getContext('2d');
  var drawn = { rtp: null, envelope: null };
  var labelsShown = '';
  var labelsPending = null, labelsTimer = null, labelsLast = 0;

  function labelText(o) {
    var text = o.confidence === null ? o.label : o.label + ' ' + Math.round(o.confidence * 100) + '%';
    return o.track_id ? '#' + o.track_id + ' ' + text : text;
  }

  // One bright colour per track, the hues yolooverlay gives the same ids (golden-ratio steps),
  // with black text on light tabs and white on dark ones, as yolooverlay writes them.
  function boxColors(o) {
    if (!o.track_id) return { box: BOX_COLOR, text: '#000' };
    var h = ((o.track_id * 0.61803398875 + 0.12) % 1) * 6, x = 1 - Math.abs((h % 2) - 1);
    var rgb = [[1, x, 0], [x, 1, 0], [0, 1, x], [0, x, 1], [x, 0, 1], [1, 0, x]][Math.min(5, Math.floor(h))];
    var luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return { box: 'rgb(' + rgb.map(function (v) { return Math.round(v * 255); }).join(',') + ')',
             text: luma < 0.45 ? '#fff' : '#000' };
  }

  function contentRect() {
    var cw = video.clientWidth, ch = video.clientHeight;
    var vw = video.videoWidth, vh = video.videoHeight;
    if (!vw || !vh || !cw || !ch) return null;
    var scale = Math.min(cw / vw, ch / vh);   // object-fit: contain
    var w = vw * scale, h = vh * scale;
    return { x: (cw - w) / 2, y: (ch - h) / 2, w: w, h: h };
  }

  function draw(envelope) {
    var dpr = window.devicePixelRatio || 1;
    var cw = canvas.clientWidth, ch = canvas.clientHeight;
    var W = Math.round(cw * dpr), H = Math.round(ch * dpr);
    if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    var boxes = [];
    var det = envelope && envelope.det;
    var r = contentRect();
    if (det && r && det.objects.length) {
      var sx = r.w / det.width, sy = r.h / det.height;
      var vb = video.getBoundingClientRect();
      ctx.lineWidth = 3;
      ctx.font = '14px system-ui, "DejaVu Sans", sans-serif';
      ctx.textBaseline = 'top';
      det.objects.forEach(function (o) {
        var x = r.x + o.x * sx, y = r.y + o.y * sy, w = o.w * sx, h = o.h * sy;
        var text = labelText(o);
        var colors = boxColors(o);
        ctx.strokeStyle = colors.box;
        if (o.predicted) ctx.setLineDash([6, 4]); else ctx.setLineDash([]);
        ctx.strokeRect(x, y, w, h);
        ctx.setLineDash([]);
        var tw = ctx.measureText(text).width + 6, th = 18;
        var ty = y - th >= 0 ? y - th : y;
        ctx.fillStyle = colors.box;
        ctx.fillRect(x - 1.5, ty, tw, th);
        ctx.fillStyle = colors.text;
        ctx.fillText(text, x + 1.5, ty + 2);
        boxes.push({
          label: o.label, confidence: o.confidence, text: text,
          track_id: o.track_id === undefined ? null : o.track_id, predicted: !!o.predicted,
          video: { x: o.x, y: o.y, w: o.w, h: o.h, width: det.width, height: det.height },
          screen: { x: vb.left + x, y: vb.top + y, w: w, h: h },
        });
      });
      S.boxesDrawn += boxes.length;
    }
    S.boxes = boxes;
    return boxes;
  }

  function updateLabels(texts) {
    S.labels = texts;
    labelsPending = texts;
    var now = performance.now();
    if (now - labelsLast >= LABELS_EVERY_MS) flushLabels();
    else if (!labelsTimer) labelsTimer = setTimeout(flushLabels, LABELS_EVERY_MS - (now - labelsLast));
  }

  function flushLabels() {
    labelsTimer = null;
    labelsLast = performance.now();
    var texts = labelsPending || [];
    var key = texts.join('\n');
    if (key === labelsShown) return;
    labelsShown = key;
    labelsEl.textContent = '';
    texts.forEach(function (t) {
      var li = document.createElement('li');
      li.textContent = t;
      labelsEl.appendChild(li);
    });
  }

  function showEnvelope(envelope, rtp) {
    drawn = { rtp: rtp, envelope: envelope };
    var boxes = draw(envelope);
    if (boxes.length) S.framesWithBoxes++;
    updateLabels(boxes.map(function (b) { return b.text; }));
  }

  function takeChat(envelope) {
    if (!envelope || !envelope.chat.length) return;
    var now = Date.now();
    envelope.chat.forEach(function (c) {
      if (dedupe.accept({ id: c.id, nick: c.nick, text: c.text, time: c.time }, now)) {
        addChatLine({ nick: c.nick, text: c.text, source: 'sei', id: c.id, time: c.time });
      }
    });
  }

  var lastFrameWall = 0, frameInterval90k = 3000;

  function onVideoFrame(now, meta) {
    try {
      S.framesShown++;
      lastFrameWall = Date.now();
      var rtp = typeof meta.rtpTimestamp === 'number' ? meta.rtpTimestamp : null;
      if (rtp !== null && S.lastRtpTimestamp !== null) {
        var d = (rtp - S.lastRtpTimestamp) >>> 0;
        if (d > 0 && d < 90000) frameInterval90k = d;
      }
      var prevRtp = S.lastRtpTimestamp;
      S.lastRtpTimestamp = rtp;
      S.videoSize = { width: meta.width, height: meta.height };
      var rec = rtp !== null ? frames.get(rtp) : undefined;
      var shownAt = performance.timeOrigin + now;
      if (rec) {
        S.syncedFrames++;
        showEnvelope(rec.envelope, rtp);
        takeChat(rec.envelope);
      } else {
        S.unsyncedFrames++;
        if (rtp === null) {
          // no RTP timestamp from the browser: newest envelope is the best guess
          var last = null;
          frames.forEach(function (v) { last = v; });
          if (last) { showEnvelope(last.envelope, null); takeChat(last.envelope); }
        } else if (drawn.rtp === null || prevRtp === null ||
                   ((rtp - drawn.rtp) >>> 0) > frameInterval90k * 1.5) {
          showEnvelope(null, rtp);
        } else {
          draw(drawn.envelope);   // keep the previous frame's boxes (re-layout only)
        }
      }
      var env = rec && rec.envelope;
      var sentAt = env && env.sent_at !== undefined ? Chat.parseTime(env.sent_at) : null;
      S.frameLog.push({
        rtp: rtp,
        receivedAt: rec ? rec.receivedAt : null,
        shownAt: shownAt,
        expectedDisplayAt: meta.expectedDisplayTime ? performance.timeOrigin + meta.expectedDisplayTime : null,
        receiveAt: meta.receiveTime ? performance.timeOrigin + meta.receiveTime : null,
        captureAt: meta.captureTime ? performance.timeOrigin + meta.captureTime : null,
        sentAt: sentAt,
        objects: env && env.det ? env.det.objects.length : 0,
        chat: env ? env.chat.length : 0,
        chatTexts: env ? env.chat.slice(0, 8).map(function (c) { return String(c.text).slice(0, 64); }) : [],
      });
      if (S.frameLog.length > FRAME_LOG_MAX) S.frameLog.shift();
      if (sentAt !== null) {
        S.latencySamples.push(shownAt - sentAt);
        if (S.latencySamples.length > 1000) S.latencySamples.shift();
      }
    } catch (e) {
      error('frame callback: ' + e.message);
    }
    video.requestVideoFrameCallback(onVideoFrame);
  }

  if (hasVideoFrameCallback) video.requestVideoFrameCallback(onVideoFrame);
  new ResizeObserver(function () { draw(drawn.envelope); }).observe(video);

  // ---- WHEP ----
  var pc = null, resourceUrl = null, retryTimer = null, watchTimer = null, generation = 0;
  var whepUrl = '/' + encodeURIComponent(room) + '/whep';

  function preferH264(transceiver) {
    if (!transceiver.setCodecPreferences || !RTCRtpReceiver.getCapabilities) return;
    var caps = RTCRtpReceiver.getCapabilities('video');
    if (!caps) return;
    var rank = function (c) {
      var t = c.mimeType.toLowerCase();
      if (t === 'video/h264') {
        var f = c.sdpFmtpLine || '';
        return (f.indexOf('packetization-mode=1') >= 0 ? 0 : 1) + (f.indexOf('profile-level-id=64') >= 0 ? 0 : 0.5);
      }
      if (t === 'video/rtx' || t === 'video/red' || t === 'video/ulpfec' || t === 'video/flexfec-03') return 5;
      return 3;
    };
    var codecs = caps.codecs.slice().sort(function (a, b) { return rank(a) - rank(b); });
    try { transceiver.setCodecPreferences(codecs); } catch (e) { error('setCodecPreferences: ' + e.message); }
  }

  function waitIceGathering(p, ms) {
    return new Promise(function (resolve) {
      if (p.iceGatheringState === 'complete') return resolve();
      var done = function () { p.removeEventListener('icegatheringstatechange', check); clearTimeout(t); resolve(); };
      var check = function () { if (p.iceGatheringState === 'complete') done(); };
      var t = setTimeout(done, ms);
      p.addEventListener('icegatheringstatechange', check);
    });
  }

  function deleteResource() {
    if (!resourceUrl) return;
    var url = resourceUrl;
    resourceUrl = null;
    S.whepResource = null;
    fetch(url, { method: 'DELETE', keepalive: true }).catch(function () {});
  }

  function closePc() {
    if (watchTimer) { clearInterval(watchTimer); watchTimer = null; }
    deleteResource();
    if (pc) { try { pc.close(); } catch (e) { /* closed */ } }
    pc = null;
  }

  function retry(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(startWhep, ms);
  }

  function restart(reason, ms) {
    closePc();
    S.whepStatus = 'reconnecting';
    setStatus(reason + ' — reconnecting…', 'error');
    retry(ms === undefined ? 1000 : ms);
  }

  function startWhep() {
    clearTimeout(retryTimer);
    closePc();
    var gen = ++generation;
    S.whepAttempts++;
    S.whepStatus = 'connecting';
    if (S.whepAttempts === 1) setStatus('Connecting to ' + channel + '…');
    var config = { iceServers: [] };   // default bundle policy: every m-line carries its own candidates too
    if (!hasScriptTransform && hasInsertable) config.encodedInsertableStreams = true;
    var p;
    try { p = new RTCPeerConnection(config); } catch (e) {
      S.whepStatus = 'error';
      error('RTCPeerConnection: ' + e.message);
      setStatus('This browser cannot play WebRTC (' + e.message + ').', 'error');
      return;
    }
    pc = p;
    var vt = p.addTransceiver('video', { direction: 'recvonly' });
    var at = p.addTransceiver('audio', { direction: 'recvonly' });
    preferH264(vt);
    // ?sei=datachannel: the server's data channel even where the frames could be read here
    // (browsers without encoded transforms get it anyway).
    var forceChannel = /[?&]sei=datachannel\b/.test(location.search);
    try {
      if (forceChannel) S.seiMode = 'none';
      else { attachTransform(vt.receiver, 'video'); attachTransform(at.receiver, 'audio'); }
    } catch (e) {
      error('SEI transform: ' + e.message);
      S.seiMode = 'none';
    }
    if (S.seiMode === 'none') {
      // no encoded-frame access: ask for the server's data channel instead (if it has one)
      var dc = p.createDataChannel('chatcast-sei');
      dc.onmessage = function (ev) {
        try {
          var m = JSON.parse(ev.data);
          if (!m || typeof m.rtpTimestamp !== 'number') return;
          // the server sends the envelope as it was in the stream: judged like one read here
          rememberFrame({ rtpTimestamp: m.rtpTimestamp >>> 0, envelope: SEI.cleanEnvelope(m.envelope, dcStats) });
          S.seiMode = 'data-channel';
        } catch (e) { /* skip */ }
      };
    }
    var stream = new MediaStream();
    p.ontrack = function (ev) {
      if (gen !== generation) return;
      stream.addTrack(ev.track);
      if (video.srcObject !== stream) video.srcObject = stream;
      if (ev.track.kind === 'audio') $('unmute').hidden = false;
      var pr = video.play();
      if (pr && pr.catch) pr.catch(function () { /* autoplay: muted, should not happen */ });
    };
    p.onconnectionstatechange = function () {
      if (gen !== generation) return;
      S.connectionState = p.connectionState;
      if (p.connectionState === 'connected') {
        S.whepStatus = 'live';
        setStatus('Live: ' + channel, 'live');
      } else if (p.connectionState === 'failed') {
        restart('Connection failed');
      }
    };
    var answered = 0, disconnectedSince = 0;
    watchTimer = setInterval(function () {
      if (gen !== generation || !pc) return;
      var now = Date.now();
      if (p.connectionState === 'disconnected') {
        disconnectedSince = disconnectedSince || now;
        if (now - disconnectedSince > 5000) restart('Connection lost');
        return;
      }
      disconnectedSince = 0;
      if (answered && p.connectionState !== 'connected' && now - answered > 15000) {
        restart('Could not connect to the video server (ICE)', 2000);
      } else if (p.connectionState === 'connected' && now - Math.max(lastFrameWall, answered) > 10000) {
        restart('The stream stalled', 2000);
      }
    }, 1000);

    p.createOffer()
      .then(function (offer) { return p.setLocalDescription(offer); })
      .then(function () { return waitIceGathering(p, 3000); })
      .then(function () {
        return fetch(whepUrl, { method: 'POST', headers: { 'Content-Type': 'application/sdp' },
                                body: p.localDescription.sdp, cache: 'no-store' });
      })
      .then(function (res) {
        if (gen !== generation) return null;
        S.whepHttpStatus = res.status;
        if (res.status === 201) {
          var loc = res.headers.get('Location');
          if (loc) { resourceUrl = new URL(loc, location.origin + whepUrl).href; S.whepResource = resourceUrl; }
          return res.text().then(function (sdp) {
            if (gen !== generation) return;
            answered = Date.now();
            S.whepStatus = 'answered';
            setStatus('Connecting to ' + channel + ' (ICE)…');
            return p.setRemoteDescription({ type: 'answer', sdp: sdp });
          });
        }
        return res.text().catch(function () { return ''; }).then(function (body) {
          var why = body && body.length < 300 ? ': ' + body.trim() : '';
          closePc();
          if (res.status === 404) {
            S.whepStatus = 'not-live';
            setStatus('Room ' + channel + ' is not live yet — retrying every 3 s…');
            retry(3000);
          } else if (res.status === 503) {
            S.whepStatus = 'busy';
            error('WHEP 503' + why);
            setStatus('Too many viewers right now (503) — retrying in 10 s…', 'error');
            retry(10000);
          } else if (res.status === 400) {
            S.whepStatus = 'error';
            error('WHEP 400' + why);
            setStatus('The server refused this browser\'s offer (400' + why + ') — retrying in 30 s.', 'error');
            retry(30000);
          } else {
            S.whepStatus = 'error';
            error('WHEP ' + res.status + why);
            setStatus('Video server answered ' + res.status + why + ' — retrying in 10 s…', 'error');
            retry(10000);
          }
        });
      })
      .catch(function (e) {
        if (gen !== generation) return;
        closePc();
        S.whepStatus = 'error';
        error('WHEP: ' + (e && e.message || e));
        setStatus('Cannot reach the video server (' + (e && e.message || e) + ') — retrying in 5 s…', 'error');
        retry(5000);
      });
  }

  // ---- chat ----
  var dedupe = new Chat.Dedupe(30000);

  function addChatLine(line) {
    var nearBottom = chatEl.scrollHeight - chatEl.scrollTop - chatEl.clientHeight < 40;
    var li = document.createElement('li');
    li.dataset.nick = line.nick;
    li.dataset.source = line.source;
    if (line.id) li.dataset.id = line.id;
    if (line.action) li.className = 'action';
    var t = Chat.parseTime(line.time);
    if (t !== null) { li.dataset.time = new Date(t).toISOString(); li.title = new Date(t).toLocaleString(); }
    var nick = document.createElement('span');
    nick.className = 'nick';
    nick.textContent = line.nick;
    li.appendChild(nick);
    li.appendChild(document.createTextNode(': ' + line.text));   // user text: textContent only
    chatEl.appendChild(li);
    while (chatEl.children.length > MAX_CHAT_LINES) chatEl.removeChild(chatEl.firstChild);
    if (nearBottom) chatEl.scrollTop = chatEl.scrollHeight;
    S.chatLines.push(line.nick + ': ' + line.text);
    if (S.chatLines.length > MAX_CHAT_LINES) S.chatLines.shift();
  }

  function storedNick() {
    try { return localStorage.getItem(NICK_KEY); } catch (e) { return null; }
  }
  function storeNick(n) {
    try { localStorage.setItem(NICK_KEY, n); } catch (e) { /* private mode */ }
  }

  var wantedNick = Chat.sanitizeNick(storedNick()) || Chat.randomNick();
  nickEl.value = wantedNick;

  var WANTED_CAPS = ['message-tags', 'server-time', 'echo-message', 'batch', 'multi-prefix',
                     'away-notify', 'labeled-response', 'draft/chathistory'];
  var ws = null, ircBackoff = 2000, ircTimer = null, registered = false, joined = false;
  var offeredCaps = [], enabledCaps = [];

  function setIrcStatus(status, text, isError) {
    S.ircStatus = status;
    ircStatusEl.textContent = text ? '· ' + text : '';
    ircStatusEl.style.color = isError ? 'var(--error)' : '';
  }

  function send(line) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(line); return true; }
    return false;
  }

  function connectIrc() {
    clearTimeout(ircTimer);
    registered = false; joined = false; offeredCaps = []; enabledCaps = [];
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/irc';
    setIrcStatus('connecting', 'connecting…');
    var sock;
    try { sock = new WebSocket(url, ['text.ircv3.net']); } catch (e) {
      error('IRC WebSocket: ' + e.message);
      setIrcStatus('error', 'chat unavailable', true);
      return;
    }
    ws = sock;
    sock.onopen = function () {
      send('CAP LS 302');
      send('NICK ' + wantedNick);
      send('USER ' + (wantedNick.slice(0, 10) || 'web') + ' 0 * :ChatCast web viewer');
    };
    sock.onmessage = function (ev) {
      if (typeof ev.data !== 'string') return;
      ev.data.split(/\r?\n/).forEach(function (line) {
        if (!line) return;
        try { onIrcLine(Chat.parseLine(line)); } catch (e) { error('IRC line: ' + e.message); }
      });
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      ws = null;
      if (S.ircStatus === 'password-needed') return;
      setIrcStatus('closed', 'chat disconnected — retrying in ' + Math.round(ircBackoff / 1000) + ' s', true);
      ircTimer = setTimeout(connectIrc, ircBackoff);
      ircBackoff = Math.min(ircBackoff * 2, 30000);
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  function isOurChannel(target) {
    return target && target.toLowerCase() === channel.toLowerCase();
  }

  function onIrcLine(m) {
    if (!m) return;
    var p = m.params;
    switch (m.command) {
      case 'PING':
        send('PONG :' + (p[0] || ''));
        break;
      case 'CAP': {
        var sub = (p[1] || '').toUpperCase();
        if (sub === 'LS') {
          var more = p[2] === '*';
          var list = more ? p[3] : p[2];
          offeredCaps = offeredCaps.concat((list || '').split(' ').filter(Boolean).map(function (c) { return c.split('=')[0]; }));
          if (!more && !registered) {
            var req = WANTED_CAPS.filter(function (c) { return offeredCaps.indexOf(c) >= 0; });
            if (req.length) send('CAP REQ :' + req.join(' '));
            else send('CAP END');
          }
        } else if (sub === 'ACK') {
          enabledCaps = enabledCaps.concat((p[2] || '').split(' ').filter(Boolean));
          S.ircCaps = enabledCaps.slice();
          if (!registered) send('CAP END');
        } else if (sub === 'NAK') {
          if (!registered) send('CAP END');
        }
        break;
      }
      case '001':
        registered = true;
        ircBackoff = 2000;
        S.nick = p[0];
        wantedNick = p[0];
        nickEl.value = p[0];
        setIrcStatus('registered', 'joining ' + channel + '…');
        send('JOIN ' + channel);
        break;
      case '432': case '433': case '436':
        if (!registered) {
          wantedNick = m.command === '432' ? Chat.randomNick() : Chat.nextNick(wantedNick);
          nickEl.value = wantedNick;
          send('NICK ' + wantedNick);
        } else {
          nickEl.value = S.nick;
          setIrcStatus(S.ircStatus, (m.command === '433' ? 'nick in use: ' : 'nick not allowed: ') + (p[1] || ''), true);
        }
        break;
      case '464':
        setIrcStatus('password-needed', 'this chat server needs a password; chat from the page is off', true);
        error('IRC 464: password required');
        if (ws) ws.close();
        break;
      case '465':
        setIrcStatus('password-needed', 'banned from this chat server', true);
        break;
      case 'JOIN':
        if (m.nick && S.nick && m.nick.toLowerCase() === S.nick.toLowerCase() && isOurChannel(p[0])) {
          joined = true;
          setIrcStatus('joined', 'as ' + S.nick);
        }
        break;
      case 'NICK':
        if (m.nick && S.nick && m.nick.toLowerCase() === S.nick.toLowerCase()) {
          S.nick = p[0];
          wantedNick = p[0];
          nickEl.value = p[0];
          storeNick(p[0]);
          if (joined) setIrcStatus('joined', 'as ' + S.nick);
        }
        break;
      case '332':
        showTopic(p[2]);
        break;
      case 'TOPIC':
        if (isOurChannel(p[0])) showTopic(p[1]);
        break;
      case 'PRIVMSG':
      case 'NOTICE': {
        if (!isOurChannel(p[0]) || !m.nick) break;
        var ct = Chat.chatText(p[1] || '');
        if (!ct) break;
        var time = m.tags.time || null;
        if (dedupe.accept({ msgid: m.tags.msgid, nick: m.nick, text: ct.text, time: time }, Date.now())) {
          addChatLine({ nick: m.nick, text: ct.text, source: 'irc', id: m.tags.msgid || null, time: time,
                        action: ct.action });
        }
        break;
      }
      case 'ERROR':
        setIrcStatus('closed', 'chat server closed the connection: ' + (p[0] || ''), true);
        break;
      default:
        // 422 (no MOTD) is a normal part of registration, not an error.
        if (/^[45]\d\d$/.test(m.command) && m.command !== '422') error('IRC ' + m.command + ' ' + p.slice(1).join(' '));
    }
  }

  function showTopic(topic) {
    var mm = /rtsps?:\/\/\S+/.exec(topic || '');
    if (mm) $('rtsp-url').textContent = mm[0];
  }

  $('chat-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = messageEl.value.trim();
    if (!text) return;
    var m = /^\/(\w+)\s*(.*)$/.exec(text);
    if (m && m[1].toLowerCase() === 'nick') {
      setNick(m[2]);
      messageEl.value = '';
      return;
    }
    var action = false;
    if (m && m[1].toLowerCase() === 'me') { action = true; text = m[2]; }
    if (!joined) {
      setIrcStatus(S.ircStatus, 'not in the chat yet; message kept', true);
      return;
    }
    var body = Chat.fitText(channel, action ? '\x01ACTION ' + text + '\x01' : text);
    if (!send('PRIVMSG ' + channel + ' :' + body)) return;
    messageEl.value = '';
    if (enabledCaps.indexOf('echo-message') < 0) {
      var shown = action ? body.replace(/^\x01ACTION |\x01$/g, '') : body;
      if (dedupe.accept({ nick: S.nick, text: shown }, Date.now())) {
        addChatLine({ nick: S.nick, text: shown, source: 'self', time: new Date().toISOString(), action: action });
      }
    }
  });

  function setNick(value) {
    var n = Chat.sanitizeNick(value);
    if (!n) { nickEl.value = S.nick || wantedNick; return; }
    storeNick(n);
    if (registered) { if (n !== S.nick) send('NICK ' + n); }
    else { wantedNick = n; nickEl.value = n; }
  }
  nickEl.addEventListener('change', function () { setNick(nickEl.value); });

  $('unmute').addEventListener('click', function () {
    video.muted = !video.muted;
    $('unmute').textContent = video.muted ? 'Unmute' : 'Mute';
  });

  window.addEventListener('pagehide', function () {
    generation++;
    closePc();
    if (ws) { try { send('QUIT :page closed'); ws.close(); } catch (e) { /* closing */ } }
  });

  // ---- start ----
  $('irc-channel').textContent = channel;
  if (!room) {
    document.title = 'ChatCast';
    setStatus('No room in this address: open /ROOM (for example /lobby).', 'error');
    S.whepStatus = 'error';
    return;
  }
  document.title = channel + ' — ChatCast';
  $('room-title').textContent = channel;
  if (!hasVideoFrameCallback) error('requestVideoFrameCallback missing: boxes follow the newest frame, not the shown one');
  startWhep();
  connectIrc();
})();
