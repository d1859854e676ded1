// ChatCast chat helpers (no DOM): IRC line parsing/formatting for the IRCv3 WebSocket
// transport (one line per text message, no CRLF), nick rules, and the de-duplication of
// chat lines that arrive both by IRC and inside the video's SEI. Global: ChatCastChat.
(function (root) {
  'use strict';

  var MAX_NICK = 32;
  var MAX_TEXT = 500;

  function unescapeTag(v) {
    return v.replace(/\\(.)?/g, function (_, c) {
      switch (c) {
        case ':': return ';';
        case 's': return ' ';
        case '\\': return '\\';
        case 'r': return '\r';
        case 'n': return '\n';
        case undefined: return '';
        default: return c;
      }
    });
  }

  // "@a=b;c :nick!user@host CMD p1 p2 :trailing" ->
  // {tags:{a:'b',c:''}, prefix, nick, command, params:[p1,p2,trailing]}; null for empty lines.
  function parseLine(line) {
    if (typeof line !== 'string') return null;
    line = line.replace(/[\r\n]+$/, '');
    var i = 0, n = line.length;
    var msg = { tags: {}, prefix: null, nick: null, command: '', params: [] };
    function skipSpaces() { while (i < n && line[i] === ' ') i++; }
    skipSpaces();
    if (line[i] === '@') {
      var end = line.indexOf(' ', i);
      if (end < 0) return null;
      line.slice(i + 1, end).split(';').forEach(function (kv) {
        if (!kv) return;
        var eq = kv.indexOf('=');
        if (eq < 0) msg.tags[kv] = '';
        else msg.tags[kv.slice(0, eq)] = unescapeTag(kv.slice(eq + 1));
      });
      i = end;
      skipSpaces();
    }
    if (line[i] === ':') {
      var pend = line.indexOf(' ', i);
      if (pend < 0) return null;
      msg.prefix = line.slice(i + 1, pend);
      var bang = msg.prefix.indexOf('!');
      msg.nick = bang >= 0 ? msg.prefix.slice(0, bang) : msg.prefix.split('@')[0];
      i = pend;
      skipSpaces();
    }
    var cend = line.indexOf(' ', i);
    if (cend < 0) cend = n;
    msg.command = line.slice(i, cend).toUpperCase();
    if (!msg.command) return null;
    i = cend;
    while (i < n) {
      skipSpaces();
      if (i >= n) break;
      if (line[i] === ':') { msg.params.push(line.slice(i + 1)); break; }
      var e = line.indexOf(' ', i);
      if (e < 0) e = n;
      msg.params.push(line.slice(i, e));
      i = e;
    }
    return msg;
  }

  // Strips mIRC formatting codes and other control characters for display.
  function stripFormatting(text) {
    return String(text)
      .replace(/\x03(\d{1,2}(,\d{1,2})?)?/g, '')
      .replace(/\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?/g, '')
      .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');
  }

  // A PRIVMSG/NOTICE text: CTCP ACTION -> {action:true, text}; other CTCP -> null.
  function chatText(text) {
    if (text.charAt(0) === '\x01') {
      var m = /^\x01ACTION ?(.*?)\x01?$/.exec(text);
      if (!m) return null;
      return { action: true, text: stripFormatting(m[1]) };
    }
    return { action: false, text: stripFormatting(text) };
  }

  // Valid IRC nick (RFC 2812 letters/digits/special), at most 32 characters.
  function sanitizeNick(nick) {
    var s = String(nick || '').replace(/[^A-Za-z0-9\[\]\\`_^{|}\-]/g, '');
    s = s.replace(/^[0-9\-]+/, '');
    return s.slice(0, MAX_NICK);
  }

  function randomNick() {
    return 'web' + Math.floor(1000 + Math.random() * 9000);
  }

  // The next nick to try after 433 (nick in use): add or change a numeric suffix.
  function nextNick(nick) {
    var base = sanitizeNick(nick) || 'web';
    var suffix = String(Math.floor(10 + Math.random() * 90));
    base = base.replace(/_?\d{2}$/, '');
    return (base.slice(0, MAX_NICK - suffix.length - 1) + '_' + suffix);
  }

  // Cuts text so "PRIVMSG #room :text" stays within IRC's 512 bytes (with CRLF) and
  // 500 characters; removes CR/LF.
  function fitText(target, text) {
    text = String(text).replace(/[\r\n]+/g, ' ');
    if (text.length > MAX_TEXT) text = text.slice(0, MAX_TEXT);
    var enc = new TextEncoder();
    var budget = 510 - enc.encode('PRIVMSG ' + target + ' :').length;
    while (enc.encode(text).length > budget) text = text.slice(0, -1);
    return text;
  }

  function privmsg(target, text) {
    return 'PRIVMSG ' + target + ' :' + fitText(target, text);
  }

  function parseTime(t) {
    if (typeof t === 'number' && isFinite(t)) return t;
    if (typeof t !== 'string' || !t) return null;
    var ms = Date.parse(t);
    return isNaN(ms) ? null : ms;
  }

  // De-duplication of chat lines from IRC and SEI: a line is a duplicate when its id
  // was seen (ids are remembered, bounded), or when the same nick+text was seen with a
  // time within windowMs (message times when both are known, else arrival times).
  function Dedupe(windowMs, maxEntries) {
    this.windowMs = windowMs || 30000;
    this.max = maxEntries || 2000;
    this.ids = new Map();        // id -> true (insertion order = age)
    this.texts = new Map();      // nick\ntext -> [times]
  }
  Dedupe.prototype._rememberId = function (id) {
    if (id === null || id === undefined || id === '') return;
    this.ids.delete(id);
    this.ids.set(id, true);
    while (this.ids.size > this.max) this.ids.delete(this.ids.keys().next().value);
  };
  // msg: {id?, msgid?, nick, text, time?}; now: epoch ms of arrival.
  // Returns true when the line is new (and remembers it), false for a duplicate.
  Dedupe.prototype.accept = function (msg, now) {
    var ids = [msg.id, msg.msgid].filter(function (x) { return x !== null && x !== undefined && x !== ''; });
    for (var i = 0; i < ids.length; i++) {
      if (this.ids.has(String(ids[i]))) {
        for (var j = 0; j < ids.length; j++) this._rememberId(String(ids[j]));
        return false;
      }
    }
    var t = parseTime(msg.time);
    if (t === null) t = now;
    var key = msg.nick.toLowerCase() + '\n' + msg.text;
    var times = this.texts.get(key) || [];
    var w = this.windowMs;
    var dup = times.some(function (x) { return Math.abs(x - t) <= w; });
    for (var k = 0; k < ids.length; k++) this._rememberId(String(ids[k]));
    if (dup) return false;
    times.push(t);
    if (times.length > 16) times.shift();
    this.texts.delete(key);
    this.texts.set(key, times);
    while (this.texts.size > this.max) this.texts.delete(this.texts.keys().next().value);
    return true;
  };

  root.ChatCastChat = {
    parseLine: parseLine,
    stripFormatting: stripFormatting,
    chatText: chatText,
    sanitizeNick: sanitizeNick,
    randomNick: randomNick,
    nextNick: nextNick,
    fitText: fitText,
    privmsg: privmsg,
    parseTime: parseTime,
    Dedupe: Dedupe,
    MAX_NICK: MAX_NICK,
    MAX_TEXT: MAX_TEXT,
  };
})(typeof self !== 'undefined' ? self : this);
