/**
 * The script of the page at `/`, served as /assets/app.js: lists the channels from /api/channels,
 * plays one over HLS (hls.js where the browser has Media Source Extensions, the browser's own HLS
 * on Apple's), copies stream URLs, and shows the active streams from /api/status, polled while the
 * tab is visible.
 *
 * Plain ES2017 without modules, kept as a string (no template interpolation, no backticks inside):
 * the page needs no bundler, and what is served is exactly this text. Every name from the box goes
 * into the page through textContent or an attribute, never as HTML.
 */
export const APP_JS = String.raw`(function () {
  'use strict';

  var data = document.body.dataset;
  var tokenParams = new URLSearchParams(data.tokenQuery || '');
  var statusPollMs = Number(data.statusPollMs) || 3000;
  var channelsRefreshMs = Number(data.channelsRefreshMs) || 60000;
  var hlsVersion = data.hlsVersion || '';

  function byId(id) { return document.getElementById(id); }
  var ui = {
    player: byId('player'), playerTitle: byId('player-title'), video: byId('video'), audio: byId('audio'),
    playerMessage: byId('player-message'), stop: byId('stop'),
    streams: byId('streams'), streamsMessage: byId('streams-message'), streamsAnnounce: byId('streams-announce'),
    channelsMessage: byId('channels-message'), channelList: byId('channel-list'), notice: byId('notice')
  };

  /** A page-relative URL with the access token (when the page was opened with one). */
  function url(path, params) {
    var query = new URLSearchParams(params || {});
    tokenParams.forEach(function (value, name) { query.append(name, value); });
    var text = query.toString();
    return text ? path + '?' + text : path;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /** GETs JSON; a failure rejects with the server's own sentence. */
  function getJson(path) {
    return fetch(url(path), { cache: 'no-store', headers: { Accept: 'application/json' } }).then(function (response) {
      if (response.ok) return response.json();
      return response.text().then(function (body) {
        throw new Error(body.trim() ? body.trim() + ' (HTTP ' + response.status + ')' : 'the proxy answered HTTP ' + response.status);
      });
    });
  }

  var noticeTimer = null;
  function notice(text, ms) {
    clearTimeout(noticeTimer);
    ui.notice.textContent = text;
    noticeTimer = setTimeout(function () { ui.notice.textContent = ''; }, ms || 4000);
  }

  // ---- Channels ----

  /** receiver index + ':' + channel id → channel (ids are unique per receiver). */
  var channels = new Map();
  var channelsSignature = '';

  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function nowText(now) {
    return now ? clock(now.begin) + '–' + clock(now.end) + ' · ' + now.title : '';
  }

  function channelItem(channel, key) {
    var radio = channel.kind === 'radio';
    var item = el('li', 'channel' + (radio ? ' radio' : ''));
    item.dataset.key = key;

    var logo = el('img', 'logo');
    logo.alt = '';
    logo.width = 64;
    logo.height = 40;
    logo.loading = 'lazy';
    logo.decoding = 'async';
    // A channel without a picon keeps its place in the grid, just without a picture.
    logo.addEventListener('error', function () { logo.classList.add('missing'); }, { once: true });
    logo.src = url('picon/' + encodeURIComponent(channel.ref) + '.png');
    item.appendChild(logo);

    item.appendChild(el('span', 'number', String(channel.number)));
    var info = el('div', 'info');
    info.appendChild(el('span', 'name', channel.name));
    info.appendChild(el('span', 'now', nowText(channel.now)));
    item.appendChild(info);

    var actions = el('div', 'actions');
    var play = el('button', 'play', radio ? 'Listen' : 'Play');
    play.type = 'button';
    play.dataset.action = 'play';
    play.setAttribute('aria-label', (radio ? 'Listen to ' : 'Play ') + channel.name);
    actions.appendChild(play);
    var copy = el('button', 'copy', 'Copy URL');
    copy.type = 'button';
    copy.dataset.action = 'copy';
    copy.setAttribute('aria-label', 'Copy the stream URL of ' + channel.name);
    actions.appendChild(copy);
    // VLC for iOS and macOS registers vlc://; elsewhere the plain URL opens in whatever plays MPEG-TS.
    var vlc = el('a', 'action vlc', 'VLC');
    vlc.href = 'vlc://' + channel.stream;
    vlc.setAttribute('aria-label', 'Open ' + channel.name + ' in VLC');
    actions.appendChild(vlc);
    var link = el('a', 'action link', 'URL');
    link.href = channel.stream;
    link.type = 'video/mp2t';
    link.setAttribute('aria-label', 'Stream URL of ' + channel.name);
    actions.appendChild(link);
    item.appendChild(actions);

    if (current && current.key === key) item.classList.add('playing');
    return item;
  }

  function renderChannels(doc) {
    channels.clear();
    var many = doc.receivers.length > 1;
    var fragment = document.createDocumentFragment();
    doc.receivers.forEach(function (receiver, r) {
      receiver.bouquets.forEach(function (bouquet) {
        var section = el('section', 'bouquet');
        section.appendChild(el('h3', null, bouquet.name + (many ? ' · ' + receiver.name : '')));
        var list = el('ul', 'channel-items');
        bouquet.channels.forEach(function (channel) {
          var key = r + ':' + channel.id;
          channels.set(key, channel);
          list.appendChild(channelItem(channel, key));
        });
        section.appendChild(list);
        fragment.appendChild(section);
      });
    });
    ui.channelList.replaceChildren(fragment);
  }

  /** How many channels, and why a receiver has none; the number of channels found so far. */
  function renderCount(doc) {
    var total = 0;
    var problems = [];
    doc.receivers.forEach(function (receiver) {
      var count = receiver.bouquets.reduce(function (sum, bouquet) { return sum + bouquet.channels.length; }, 0);
      if (count === 0) problems.push(receiver.name + ': no channels' + (receiver.lastError ? ' (' + receiver.lastError + ')' : ' yet'));
      total += count;
    });
    var text = (total === 1 ? '1 channel' : total + ' channels') + '.';
    if (problems.length) text += ' ' + problems.join('; ') + '.';
    if (ui.channelsMessage.textContent !== text) ui.channelsMessage.textContent = text;
    return total;
  }

  /** Same channels as shown: only what is on now changes, in place, so focus and scrolling stay. */
  function updateNow(doc) {
    doc.receivers.forEach(function (receiver, r) {
      receiver.bouquets.forEach(function (bouquet) {
        bouquet.channels.forEach(function (channel) {
          var key = r + ':' + channel.id;
          channels.set(key, channel);
          var item = ui.channelList.querySelector('li[data-key="' + CSS.escape(key) + '"] .now');
          if (item) item.textContent = nowText(channel.now);
        });
      });
    });
  }

  function signature(doc) {
    return JSON.stringify(doc.receivers.map(function (receiver) {
      return [receiver.name, receiver.bouquets.map(function (bouquet) {
        return [bouquet.name, bouquet.channels.map(function (c) { return [c.id, c.name, c.number, c.kind]; })];
      })];
    }));
  }

  var channelsLoadedAt = 0;
  var channelsRetry = null;
  function loadChannels() {
    clearTimeout(channelsRetry);
    channelsLoadedAt = Date.now();
    return getJson('api/channels').then(function (doc) {
      var next = signature(doc);
      if (next === channelsSignature) updateNow(doc);
      else renderChannels(doc);
      channelsSignature = next;
      // Right after a start the receiver's bouquets may still be loading: look again soon.
      if (renderCount(doc) === 0 && document.visibilityState === 'visible') channelsRetry = setTimeout(loadChannels, statusPollMs);
    }, function (error) {
      ui.channelsMessage.textContent = 'The channels could not be loaded: ' + error.message;
      if (document.visibilityState === 'visible') channelsRetry = setTimeout(loadChannels, channelsRefreshMs / 4);
    });
  }

  ui.channelList.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    if (!button) return;
    var item = button.closest('li.channel');
    var channel = item && channels.get(item.dataset.key);
    if (!channel) return;
    if (button.dataset.action === 'play') play(channel, item.dataset.key);
    else copyUrl(channel, button);
  });

  // ---- Copy ----

  function copyUrl(channel, button) {
    var text = channel.stream;
    var done = function () { notice('Copied the stream URL of ' + channel.name + '.'); };
    // The Clipboard API exists only on https and localhost; a LAN address over http needs the old way.
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { copyFallback(text, button, done); });
    } else {
      copyFallback(text, button, done);
    }
  }

  function copyFallback(text, button, done) {
    var area = el('textarea', 'visually-hidden');
    area.value = text;
    area.setAttribute('readonly', '');
    area.setAttribute('aria-hidden', 'true');
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand('copy'); } catch (error) { copied = false; }
    area.remove();
    button.focus();
    if (copied) done();
    // Long enough to copy by hand.
    else notice('Copying is not allowed here. The URL is: ' + text, 20000);
  }

  // ---- Player ----

  var hls = null;
  /** The channel being played, its list key, its media element, and whether the browser's own HLS plays it. */
  var current = null;
  var mediaRecovered = false;

  function playerMessage(text, kind) {
    ui.playerMessage.textContent = text;
    ui.playerMessage.className = 'message' + (kind ? ' ' + kind : '');
  }

  function hlsJsUsable() {
    return typeof window.Hls !== 'undefined' && window.Hls.isSupported();
  }

  /**
   * Safari (and every browser on iOS, all WebKit) plays HLS itself, with AirPlay and the system's
   * controls. Chromium now answers "maybe" too, but hls.js there reports why a stream failed.
   */
  function useNativeHls() {
    var native = ui.video.canPlayType('application/vnd.apple.mpegurl') !== '';
    return native && (/^Apple/.test(navigator.vendor || '') || !hlsJsUsable());
  }

  function markPlaying(key) {
    ui.channelList.querySelectorAll('li.channel.playing').forEach(function (item) { item.classList.remove('playing'); });
    if (key === null) return;
    var item = ui.channelList.querySelector('li[data-key="' + CSS.escape(key) + '"]');
    if (item) item.classList.add('playing');
  }

  function release() {
    if (hls) {
      hls.destroy();
      hls = null;
    }
    [ui.video, ui.audio].forEach(function (media) {
      if (!media.hasAttribute('src')) return;
      media.removeAttribute('src');
      media.load();
    });
  }

  function play(channel, key) {
    release();
    var radio = channel.kind === 'radio';
    // Radio plays in an <audio> element: its controls stay visible, a video's hide while playing.
    var media = radio ? ui.audio : ui.video;
    current = { channel: channel, key: key, media: media, native: false };
    mediaRecovered = false;
    ui.player.hidden = false;
    ui.video.hidden = radio;
    ui.audio.hidden = !radio;
    ui.player.classList.toggle('radio', radio);
    ui.playerTitle.textContent = (radio ? 'Listening to ' : 'Watching ') + channel.name;
    playerMessage('Starting ' + channel.name + '… tuning takes a few seconds.', '');
    markPlaying(key);
    var source = url('hls/' + encodeURIComponent(channel.ref) + '/index.m3u8');
    if (useNativeHls()) {
      current.native = true;
      media.src = source;
      start();
    } else if (hlsJsUsable()) {
      hls = new window.Hls({
        // Live TV has no end: the player shows "live" instead of a few seconds' window.
        liveDurationInfinity: true,
        workerPath: url('assets/hls.worker.js', { v: hlsVersion }),
        // The proxy answers the first playlist once the first segment is cut (up to 15 s) and
        // answers errors with a sentence: wait for it, and show it instead of retrying.
        manifestLoadPolicy: { default: {
          maxTimeToFirstByteMs: Infinity, maxLoadTimeMs: 20000,
          timeoutRetry: { maxNumRetry: 1, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: 0, retryDelayMs: 1000, maxRetryDelayMs: 8000 }
        } }
      });
      hls.on(window.Hls.Events.ERROR, onHlsError);
      hls.on(window.Hls.Events.MANIFEST_PARSED, start);
      hls.loadSource(source);
      hls.attachMedia(media);
    } else {
      failed('This browser cannot play HLS. Use Copy URL or VLC instead.');
    }
    ui.player.scrollIntoView({ block: 'nearest' });
  }

  function start() {
    if (!current) return;
    var started = current.media.play();
    if (started && started.catch) {
      started.catch(function (error) {
        if (error.name === 'NotAllowedError') playerMessage('Press play on the player to start.', '');
        else if (error.name !== 'AbortError') playerMessage('The browser could not start playing: ' + error.message, 'error');
      });
    }
  }

  /** The proxy's own sentence for a failed request (415 MPEG-2, 503 tuners busy, ...). */
  function serverSentence(data) {
    var code = data.response && data.response.code;
    var body = '';
    try {
      var details = data.networkDetails;
      if (details && typeof details.responseText === 'string') body = details.responseText.trim();
    } catch (error) { body = ''; }
    if (code >= 400) return (body || 'The proxy refused the stream.') + ' (HTTP ' + code + ')';
    return '';
  }

  function onHlsError(event, data) {
    if (!data.fatal) return;
    if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR && !mediaRecovered) {
      mediaRecovered = true;
      hls.recoverMediaError();
      return;
    }
    var sentence = serverSentence(data);
    if (!sentence) {
      sentence = data.type === window.Hls.ErrorTypes.MEDIA_ERROR
        ? 'The browser cannot play this channel (' + data.details + '). Use Copy URL or VLC instead.'
        : 'The stream stopped (' + data.details + ').';
    }
    failed(sentence);
  }

  /** The stream cannot play: say why, and leave no spinner turning on an empty player. */
  function failed(sentence) {
    release();
    ui.video.hidden = true;
    ui.audio.hidden = true;
    markPlaying(null);
    if (current) ui.playerTitle.textContent = current.channel.name;
    playerMessage(sentence, 'error');
  }

  function onPlaying() {
    if (current) playerMessage('Playing ' + current.channel.name + '.', 'ok');
  }

  // The browser's own HLS says only that it failed; the proxy says why, so ask it.
  function onMediaError(event) {
    var source = event.target.getAttribute('src');
    if (!current || !current.native || event.target !== current.media || !source) return;
    var playing = current;
    fetch(source, { cache: 'no-store' }).then(function (response) {
      if (current !== playing) return;
      if (response.ok) failed('The browser cannot play this channel. Use Copy URL or VLC instead.');
      else return response.text().then(function (body) {
        if (current === playing) failed((body.trim() || 'The proxy refused the stream.') + ' (HTTP ' + response.status + ')');
      });
    }, function () {
      if (current === playing) failed('The proxy cannot be reached.');
    });
  }

  [ui.video, ui.audio].forEach(function (media) {
    media.addEventListener('playing', onPlaying);
    media.addEventListener('error', onMediaError);
  });

  ui.stop.addEventListener('click', function () {
    var key = current && current.key;
    release();
    current = null;
    markPlaying(null);
    ui.player.hidden = true;
    // Back to where the user was, not to the top of the page.
    var item = key && ui.channelList.querySelector('li[data-key="' + CSS.escape(key) + '"] button.play');
    if (item) item.focus();
  });

  // ---- Active streams ----

  var lastCounters = new Map();
  var lastStreamCount = -1;

  function bitrateText(bitsPerSecond) {
    if (bitsPerSecond === null) return '…';
    if (bitsPerSecond >= 1e6) return (bitsPerSecond / 1e6).toFixed(1) + ' Mbit/s';
    return Math.round(bitsPerSecond / 1e3) + ' kbit/s';
  }

  /** The status's current rate; from the byte counter between two polls if it gives none. */
  function bitrate(session, at, counters) {
    var before = lastCounters.get(session.id);
    counters.set(session.id, { bytes: session.bytesOut, at: at });
    if (typeof session.bitrateOut === 'number') return session.bitrateOut;
    if (!before || at <= before.at || session.bytesOut < before.bytes) return null;
    return ((session.bytesOut - before.bytes) * 8000) / (at - before.at);
  }

  function renderStreams(status) {
    var at = Date.now();
    // Only the sessions still listed are remembered for the next poll.
    var counters = new Map();
    var sessions = status.sessions || [];
    var hlsRefs = new Set((status.hls || []).map(function (h) { return h.receiver + '\n' + h.channel.ref; }));
    var many = (status.receivers || []).length > 1;
    var items = sessions.map(function (session) {
      var item = el('li', 'stream');
      item.appendChild(el('span', 'stream-name', session.channel.name || session.channel.ref));
      var viewers = session.clients === 1 ? '1 viewer' : session.clients + ' viewers';
      item.appendChild(el('span', 'detail viewers', viewers));
      item.appendChild(el('span', 'detail bitrate', bitrateText(bitrate(session, at, counters))));
      item.appendChild(el('span', 'detail state', session.state + (many ? ' · ' + session.receiver : '')));
      if (hlsRefs.has(session.receiver + '\n' + session.channel.ref)) item.appendChild(el('span', 'badge', 'HLS'));
      if (session.lastError) item.appendChild(el('span', 'stream-error', session.lastError));
      return item;
    });
    lastCounters = counters;
    ui.streams.replaceChildren.apply(ui.streams, items);
    ui.streamsMessage.textContent = sessions.length === 0 ? 'None.' : '';
    ui.streamsMessage.hidden = sessions.length > 0;
    // Only a change in the number of streams is announced: bitrates change every poll.
    if (lastStreamCount !== -1 && sessions.length !== lastStreamCount) {
      ui.streamsAnnounce.textContent = sessions.length === 1 ? '1 active stream' : sessions.length + ' active streams';
    }
    lastStreamCount = sessions.length;
  }

  var pollTimer = null;
  var polling = false;
  function poll() {
    if (polling) return;
    clearTimeout(pollTimer);
    polling = true;
    var done = function () {
      polling = false;
      if (document.visibilityState === 'visible') pollTimer = setTimeout(poll, statusPollMs);
    };
    getJson('api/status').then(renderStreams, function (error) {
      ui.streamsMessage.hidden = false;
      ui.streamsMessage.textContent = 'The status could not be loaded: ' + error.message;
    }).then(done, done);
  }

  setInterval(function () {
    if (document.visibilityState === 'visible') loadChannels();
  }, channelsRefreshMs);

  // A hidden tab asks nothing: polling stops, and starts again (at once) when it is shown.
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') {
      poll();
      if (channels.size === 0 || Date.now() - channelsLoadedAt >= channelsRefreshMs) loadChannels();
    } else {
      clearTimeout(pollTimer);
      pollTimer = null;
    }
  });

  loadChannels();
  poll();
})();
`;
