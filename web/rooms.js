// ChatCast room list: GET /api/rooms every few seconds.
(function () {
  'use strict';
  var REFRESH_MS = 3000;
  var tbody = document.querySelector('#rooms tbody');
  var statusEl = document.getElementById('status');
  var emptyEl = document.getElementById('empty');
  var table = document.getElementById('rooms');
  window.chatcastRooms = { rooms: [], updated: null, error: null };

  function ago(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) return '';
    var s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
    return Math.floor(s / 86400) + ' days ago';
  }

  function cell(tr, text) {
    var td = document.createElement('td');
    if (text !== undefined) td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function render(rooms) {
    tbody.textContent = '';
    rooms.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.dataset.room = r.name;
      var a = document.createElement('a');
      a.href = typeof r.page === 'string' && r.page.charAt(0) === '/' ? r.page : '/' + encodeURIComponent(r.name);
      a.textContent = r.name;
      cell(tr).appendChild(a);
      var v = r.viewers || {};
      var total = (v.rtsp || 0) + (v.webrtc || 0);
      cell(tr, total + ' (RTSP ' + (v.rtsp || 0) + ', WebRTC ' + (v.webrtc || 0) + ')');
      var since = cell(tr, r.since ? ago(r.since) : '');
      if (r.since) {
        var t = new Date(r.since);
        since.title = isNaN(t) ? r.since : t.toLocaleString();
      }
      var code = document.createElement('code');
      code.textContent = r.rtsp || '';
      cell(tr).appendChild(code);
      tbody.appendChild(tr);
    });
    table.hidden = rooms.length === 0;
    emptyEl.hidden = rooms.length !== 0;
  }

  function refresh() {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, 5000);
    fetch('/api/rooms', { cache: 'no-store', signal: ctl.signal })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (body) {
        var rooms = Array.isArray(body && body.rooms) ? body.rooms.filter(function (r) { return r && typeof r.name === 'string'; }) : [];
        rooms.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
        window.chatcastRooms = { rooms: rooms, updated: Date.now(), error: null };
        render(rooms);
        statusEl.className = '';
        statusEl.textContent = rooms.length + (rooms.length === 1 ? ' room live' : ' rooms live') +
          ' · updated ' + new Date().toLocaleTimeString();
      })
      .catch(function (e) {
        window.chatcastRooms.error = String(e && e.message || e);
        statusEl.className = 'error';
        statusEl.textContent = 'Could not load the room list (' + window.chatcastRooms.error + '); retrying…';
      })
      .finally(function () { clearTimeout(timer); setTimeout(refresh, REFRESH_MS); });
  }
  refresh();
})();
