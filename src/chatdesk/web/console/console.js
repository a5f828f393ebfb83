/* chatdesk agent console: login, the agent socket (docs/protocol.md), the inbox and the
 * supervisor view. Plain browser JavaScript, no framework and no build step.
 *
 * Safety rule for this file: anything a visitor, an agent or the FAQ wrote is put into the
 * page with textContent (the `el()` helper) — the only HTML built from data is the bot's
 * Markdown subset, which escapes its input first (`markdown()`). */
(() => {
  'use strict';

  const RECONNECT_BASE_MS = 500, RECONNECT_MAX_MS = 15000; // doubled per failure, jittered
  const TYPING_IDLE_MS = 2500; // send "typing off" after this much silence
  const TYPING_SHOW_MS = 8000; // hide a visitor's typing indicator if the "off" got lost
  const TYPING_REFRESH_MS = 3000; // repeat "typing on" while typing, well inside TYPING_SHOW_MS
  const OVERVIEW_REFRESH_MS = 3000; // supervisor view: the server pushes only queue totals
  const PENDING_REFRESH_MS = 15000; // pending (left) messages are not pushed at all

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v === true) node.setAttribute(k, '');
      else if (v != null && v !== false) node.setAttribute(k, v);
    }
    for (const kid of kids) if (kid != null && kid !== false) node.append(kid);
    return node;
  };
  const uid = () => 'c' + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => (b + 256).toString(16).slice(1)).join('');
  const fmtDuration = (s) => {
    s = Math.max(0, Math.round(s));
    return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + String(s % 60).padStart(2, '0') + ' s';
  };
  const fmtTime = (ts) => (ts ? new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '');
  const shortId = (id) => String(id).slice(0, 8);

  // ---- Markdown subset (same rules as the widget): escape, then add our own tags.
  const esc = (s) => s.replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const emph = (s) => s.replace(/\*\*(.+?)\*\*|__(.+?)__/g, '<strong>$1$2</strong>')
    .replace(/\*([^*\s][^*]*?)\*|(?<![\w])_([^_]+)_(?![\w])/g, '<em>$1$2</em>');
  const inline = (s) => {
    const re = /\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)|https?:\/\/[^\s<]*[^\s<.,;:!?)]/g;
    let out = '', last = 0, m;
    while ((m = re.exec(s))) {
      out += emph(s.slice(last, m.index)) + '<a href="' + (m[2] || m[0]) +
        '" target="_blank" rel="noopener noreferrer nofollow">' + (m[1] ? emph(m[1]) : m[0]) + '</a>';
      last = re.lastIndex;
    }
    return out + emph(s.slice(last));
  };
  const markdown = (text) => {
    let html = '', list = '', para = [];
    const endPara = () => { if (para.length) html += '<p>' + para.join('<br>') + '</p>'; para = []; };
    const endList = () => { if (list) html += '</' + list + '>'; list = ''; };
    for (const line of esc(text).split(/\r?\n/)) {
      const li = /^\s*([-*+]|\d+[.)])\s+(.*)/.exec(line);
      if (li) {
        endPara();
        const tag = /\d/.test(li[1]) ? 'ol' : 'ul';
        if (list !== tag) { endList(); html += '<' + tag + '>'; list = tag; }
        html += '<li>' + inline(li[2]) + '</li>';
      } else if (!line.trim()) { endPara(); endList(); } else { endList(); para.push(inline(line)); }
    }
    endPara(); endList();
    return html;
  };

  // ---- State.
  const S = {
    me: null, token: null, ws: null, live: false, tries: 0, timer: 0,
    convs: new Map(), // id -> {id, state, lang, visitor, messages: Map(id->msg), order: [], unread, watching, closed, detail}
    offers: new Map(), // id -> {frame, expiresAt}
    current: null, view: 'inbox',
    quick: new Map(), // lang -> {faq, canned}
    agents: [], overview: null, overviewAt: 0, queue: { waiting: 0, oldest_wait_s: 0 },
    pendingList: [], outbox: new Map(), // client_id -> {conversation_id, text}
  };

  // ---- HTTP.
  const api = async (path, opts = {}) => {
    const headers = { Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (S.token) headers.Authorization = 'Bearer ' + S.token;
    const res = await fetch(path, {
      method: opts.method || 'GET', headers, credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
    if (!res.ok) {
      const err = new Error((data && (typeof data.detail === 'string' ? data.detail : data.message)) || res.statusText);
      err.status = res.status;
      throw err;
    }
    return data;
  };

  // ---- Notices and attention (sound, notification, title flash).
  const announce = (text) => { $('announcer').textContent = ''; setTimeout(() => { $('announcer').textContent = text; }, 50); };
  let noticeTimer = 0;
  const notice = (text) => {
    const n = $('notice');
    n.textContent = text; n.hidden = !text;
    clearTimeout(noticeTimer);
    if (text) noticeTimer = setTimeout(() => { n.hidden = true; }, 10000);
  };
  let audio = null;
  const unlockAudio = () => { // browsers only allow sound after a user gesture: create it on one
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === 'suspended') audio.resume();
  };
  const chime = () => {
    if (!audio) return;
    const now = audio.currentTime;
    for (const [i, freq] of [880, 1175].entries()) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.25, now + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.18); osc.stop(now + i * 0.18 + 0.4);
    }
  };
  const baseTitle = document.title;
  let flashTimer = 0;
  const flashTitle = (text) => {
    if (!document.hidden || flashTimer) return;
    let on = false;
    flashTimer = setInterval(() => { on = !on; document.title = on ? text : baseTitle; }, 1000);
  };
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    clearInterval(flashTimer); flashTimer = 0; document.title = baseTitle;
    if (S.current) markRead(S.current);
  });
  const notify = (title, body) => {
    if (!('Notification' in window) || Notification.permission !== 'granted' || !document.hidden) return;
    try { const n = new Notification(title, { body, tag: 'chatdesk' }); n.onclick = () => { window.focus(); n.close(); }; } catch (e) { /* some browsers only allow it from a service worker */ }
  };

  // ---- Login / logout.
  const showLogin = (message) => {
    $('app').hidden = true; $('login-view').hidden = false;
    $('login-error').textContent = message || '';
    $('login-email').focus();
  };
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    unlockAudio();
    $('login-error').textContent = '';
    try {
      const res = await api('/api/v1/auth/login', { method: 'POST', body: { email: $('login-email').value.trim(), password: $('login-password').value } });
      S.token = res.token;
      $('login-password').value = '';
      await start();
    } catch (err) {
      $('login-error').textContent = err.status === 401 ? 'Wrong email or password.'
        : err.status === 403 ? 'This account is disabled.' : 'Sign-in failed: ' + err.message;
    }
  });
  $('logout').addEventListener('click', async () => {
    try { await api('/api/v1/auth/logout', { method: 'POST' }); } catch (e) { /* signed out anyway */ }
    S.token = null; S.me = null;
    const ws = S.ws; S.ws = null; S.live = false; clearTimeout(S.timer);
    if (ws) ws.close(1000);
    S.convs.clear(); S.offers.clear(); S.current = null;
    showLogin('');
  });

  const start = async () => {
    S.me = await api('/api/v1/auth/me');
    $('login-view').hidden = true; $('app').hidden = false;
    $('me-name').textContent = S.me.name + ' (' + S.me.role + ')';
    $('status-select').value = S.me.status || 'offline';
    $('auto-accept').checked = !!S.me.auto_accept;
    $('tab-supervisor').hidden = !['supervisor', 'admin'].includes(S.me.role);
    connect();
    refreshAgents();
    refreshPending();
    renderAll();
  };

  // ---- Socket.
  const send = (frame) => {
    if (!S.ws || !S.live) { notice('Not connected — reconnecting…'); return false; }
    S.ws.send(JSON.stringify(frame));
    return true;
  };
  const setConn = (text) => { $('conn').textContent = text; };
  const connect = () => {
    clearTimeout(S.timer);
    if (S.ws) return;
    const ws = (S.ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws/agent'));
    setConn('Connecting…');
    ws.onopen = () => {
      const resume = {};
      for (const c of S.convs.values()) if (!c.closed) resume[c.id] = c.lastSeq || 0;
      const auth = { type: 'auth' };
      if (S.token) auth.token = S.token;
      if (Object.keys(resume).length) auth.resume = resume;
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = (e) => {
      let f; try { f = JSON.parse(e.data); } catch (x) { return; }
      const fn = handlers[f.type];
      if (fn) fn(f);
    };
    ws.onclose = (e) => {
      if (S.ws !== ws) return;
      S.ws = null; S.live = false;
      if (e.code === 1008) { setConn('Signed out'); showLogin('Your session has ended. Please sign in again.'); return; }
      setConn('Reconnecting…');
      const cap = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** S.tries++);
      S.timer = setTimeout(connect, cap / 2 + Math.random() * cap / 2);
    };
  };
  window.addEventListener('online', () => { if (S.me && !S.ws) { S.tries = 0; connect(); } });

  // ---- Conversations model.
  const conv = (id, data) => {
    let c = S.convs.get(id);
    if (!c) {
      c = { id, state: 'assigned', lang: null, visitor: {}, messages: new Map(), order: [], unread: 0, lastSeq: 0, watching: false, closed: false, detail: null, typing: false };
      S.convs.set(id, c);
    }
    if (data) {
      if (data.state) c.state = data.state;
      if (data.lang) c.lang = data.lang;
      if (data.visitor) c.visitor = { ...c.visitor, ...data.visitor };
      for (const m of data.messages || []) addMessage(c, m, false);
    }
    return c;
  };
  const addMessage = (c, m, live) => {
    if (c.messages.has(m.id)) return false;
    c.messages.set(m.id, m);
    c.order.push(m.id);
    if (m.seq > c.lastSeq) c.lastSeq = m.seq;
    if (m.client_id) S.outbox.delete(m.client_id);
    if (live && m.author !== 'agent' && m.author !== 'note' && !(S.current === c.id && !document.hidden)) c.unread += 1;
    return true;
  };
  const markRead = (id) => { const c = S.convs.get(id); if (c && c.unread) { c.unread = 0; renderLists(); } };

  // ---- Frames from the server.
  const handlers = {
    welcome(f) {
      S.live = true; S.tries = 0; setConn('Connected');
      if (f.agent) {
        S.me = { ...S.me, ...f.agent };
        $('status-select').value = $('status-select').dataset.confirmed = f.agent.status || 'offline';
        if ('auto_accept' in f.agent) $('auto-accept').checked = !!f.agent.auto_accept;
      }
      const live = new Set();
      for (const data of f.conversations || []) { conv(data.id, data).closed = false; live.add(data.id); }
      for (const c of S.convs.values()) {
        if (c.watching) send({ type: 'watch', conversation_id: c.id }); // watching is per connection
        else if (!live.has(c.id) && !c.closed) c.closed = true;
      }
      // Replies typed while the socket was down: same client_id, so the server stores each once.
      for (const [client_id, o] of S.outbox) send({ type: 'message', conversation_id: o.conversation_id, client_id, text: o.text });
      if (!S.current && f.conversations && f.conversations.length) select(f.conversations[0].id);
      renderAll();
    },
    offer(f) {
      S.offers.set(f.conversation_id, { frame: f, expiresAt: Date.now() + (f.expires_in || 20) * 1000 });
      chime();
      const lang = (f.lang || '').toUpperCase();
      announce('New chat offer (' + lang + '): ' + (f.preview || ''));
      flashTitle('★ New chat');
      notify('New chat (' + lang + ')', f.preview || '');
      renderOffers();
    },
    offer_revoked(f) {
      S.offers.delete(f.conversation_id);
      if (f.reason === 'expired') notice('An offer expired before it was accepted.');
      renderOffers();
    },
    assigned(f) {
      S.offers.delete(f.conversation_id);
      const c = conv(f.conversation_id, f);
      c.state = 'assigned'; c.closed = false; c.watching = false;
      announce('Conversation assigned to you.');
      if (!S.current || S.convs.get(S.current)?.closed) select(c.id); else renderAll();
    },
    watching(f) {
      const again = S.convs.get(f.conversation_id)?.watching; // re-sent after a reconnect
      const c = conv(f.conversation_id, f);
      c.watching = true; c.closed = false;
      if (again) { renderAll(); return; }
      switchView('inbox');
      select(c.id);
    },
    message(f) {
      const c = conv(f.conversation_id);
      if (f.author === 'visitor') c.typing = false;
      if (c.takingOver && f.author === 'system') confirmTakeover(c);
      if (addMessage(c, f, true)) {
        if (f.author === 'visitor' && S.current !== f.conversation_id) {
          announce('New message in another conversation.');
        }
        if (f.author === 'visitor' && document.hidden) { flashTitle('● New message'); notify('New message', f.text); }
        if (S.current === c.id) renderMessages(); else renderLists();
      }
    },
    typing(f) {
      const c = S.convs.get(f.conversation_id);
      if (!c || f.author === 'agent') return;
      c.typing = !!f.on;
      clearTimeout(c.typingTimer);
      if (f.on) c.typingTimer = setTimeout(() => { c.typing = false; renderTyping(); }, TYPING_SHOW_MS);
      renderTyping();
    },
    queue(f) {
      S.queue = f;
      renderQueueInfo();
      if (S.view === 'supervisor') refreshOverview();
      refreshPending();
    },
    status(f) {
      $('status-select').value = $('status-select').dataset.confirmed = f.status;
      if (f.auto_accept != null) $('auto-accept').checked = !!f.auto_accept;
      if (f.reason && f.reason !== 'chosen') notice(f.reason === 'missed_offers' || f.reason === 'offers_expired'
        ? 'You were set to "' + f.status + '" after missed offers.' : 'Status: ' + f.status + ' (' + f.reason + ')');
    },
    closed(f) {
      const c = S.convs.get(f.conversation_id);
      if (c) { c.closed = true; c.state = 'closed'; c.typing = false; }
      S.offers.delete(f.conversation_id);
      renderAll();
    },
    transferred(f) {
      const c = S.convs.get(f.conversation_id);
      if (c) { c.closed = true; c.state = 'transferred'; }
      const to = f.to_agent_name || (f.to_department && 'the ' + f.to_department + ' department');
      notice('Conversation transferred' + (to ? ' to ' + to : '') + '.');
      renderAll();
    },
    error(f) {
      if (f.client_id && S.outbox.has(f.client_id)) {
        const o = S.outbox.get(f.client_id);
        S.outbox.delete(f.client_id);
        o.failed = f.message || f.code;
        const c = S.convs.get(o.conversation_id);
        if (c) c.failed = (c.failed || []).concat({ client_id: f.client_id, text: o.text, why: o.failed });
        if (S.current === o.conversation_id) renderMessages();
      }
      if (f.code === 'unauthorized') { showLogin('Please sign in again.'); return; }
      notice(f.code === 'offer_expired' ? 'That offer has expired.' : 'Error: ' + (f.message || f.code));
    },
  };

  // ---- Rendering: lists. Lists are rebuilt on every change; a focused button is found again
  // by its data-focus-key afterwards, so keyboard users keep their place.
  const keepFocus = (render) => {
    const key = document.activeElement && document.activeElement.dataset.focusKey;
    render();
    if (key) document.querySelector('[data-focus-key="' + CSS.escape(key) + '"]')?.focus();
  };
  const renderQueueInfo = () => {
    const q = S.queue;
    $('queue-info').textContent = 'Waiting: ' + (q.waiting || 0) + (q.waiting ? ' · oldest ' + fmtDuration(q.oldest_wait_s || 0) : '');
  };
  const renderOffers = () => keepFocus(() => {
    const ul = $('offers');
    ul.replaceChildren();
    for (const [id, o] of S.offers) {
      const f = o.frame, left = Math.max(0, Math.round((o.expiresAt - Date.now()) / 1000));
      ul.append(el('li', { class: 'offer' },
        el('p', { class: 'offer-head' }, el('strong', { text: (f.lang || '?').toUpperCase() }), ' ', el('span', { class: 'muted countdown', 'data-id': id, text: 'expires in ' + left + ' s' })),
        el('p', { class: 'preview', text: f.preview || '' }),
        f.visitor && f.visitor.page_url ? el('p', { class: 'muted small', text: f.visitor.page_url }) : null,
        el('div', { class: 'row' },
          el('button', { type: 'button', class: 'primary', text: 'Accept', 'data-focus-key': 'accept-' + id, onclick: () => { unlockAudio(); send({ type: 'accept', conversation_id: id }); } }),
          el('button', { type: 'button', text: 'Decline', 'data-focus-key': 'decline-' + id, onclick: () => { send({ type: 'decline', conversation_id: id }); S.offers.delete(id); renderOffers(); } }))));
    }
    $('offers-empty').hidden = S.offers.size > 0;
  });
  const convLabel = (c) => {
    const first = [...c.messages.values()].find((m) => m.author === 'visitor');
    return (first ? first.text.slice(0, 40) : 'Visitor ' + shortId(c.visitor.id || c.id));
  };
  const renderLists = () => keepFocus(() => {
    const ul = $('mine');
    ul.replaceChildren();
    let shown = 0;
    for (const c of S.convs.values()) {
      shown++;
      const label = convLabel(c);
      const tags = [(c.lang || '').toUpperCase(), c.watching ? 'watching' : c.closed ? c.state : ''].filter(Boolean).join(' · ');
      ul.append(el('li', {},
        el('button', { type: 'button', class: 'conv-item' + (S.current === c.id ? ' current' : '') + (c.closed ? ' done' : ''),
          'aria-current': S.current === c.id ? 'true' : null, 'data-focus-key': 'conv-' + c.id,
          'aria-label': label + (tags ? ', ' + tags : '') + (c.unread ? ', ' + c.unread + ' unread' : ''),
          onclick: () => select(c.id) },
        el('span', { class: 'conv-label', text: label }),
        el('span', { class: 'muted small', text: tags }),
        c.unread ? el('span', { class: 'unread', 'aria-hidden': 'true', text: String(c.unread) }) : null)));
    }
    $('mine-empty').hidden = shown > 0;
    const pl = $('pending');
    pl.replaceChildren();
    for (const p of S.pendingList) {
      pl.append(el('li', { class: 'pending-item' },
        el('p', { class: 'preview', text: p.preview || '' }),
        el('p', { class: 'muted small', text: [(p.lang || '').toUpperCase(), p.visitor_email, p.created_at && new Date(p.created_at).toLocaleString()].filter(Boolean).join(' · ') }),
        el('button', { type: 'button', text: 'Take', 'data-focus-key': 'take-' + p.id, onclick: () => send({ type: 'accept', conversation_id: p.id }) })));
    }
    $('pending-empty').hidden = S.pendingList.length > 0;
  });

  // ---- Rendering: one conversation.
  const authorLabel = (m) => ({ visitor: 'Visitor', bot: m.author_name || 'Bot', agent: m.author_name || 'Agent', system: 'System', note: 'Private note' + (m.author_name ? ' · ' + m.author_name : '') })[m.author] || m.author;
  const renderMessage = (m) => {
    const body = el('div', { class: 'body' });
    if (m.author === 'bot') body.innerHTML = markdown(m.text || ''); else body.textContent = m.text || '';
    const meta = [];
    if (m.bot) {
      meta.push('FAQ ' + (m.bot.outcome || '') + (m.bot.entry_id ? ' · ' + m.bot.entry_id : '') +
        (typeof m.bot.score === 'number' ? ' · score ' + m.bot.score.toFixed(2) : ''));
      const others = (Array.isArray(m.bot.candidates) ? m.bot.candidates : []).filter((x) => x && x.entry_id);
      if (others.length) {
        meta.push('· candidates ' + others.slice(0, 3).map((x) => x.entry_id + (typeof x.score === 'number' ? ' ' + x.score.toFixed(2) : '')).join(', '));
      }
    }
    const node = el('article', { class: 'msg ' + m.author, 'aria-label': authorLabel(m) + ' ' + fmtTime(m.ts) },
      el('p', { class: 'who' }, el('span', { text: authorLabel(m) }), ' ', el('time', { datetime: m.ts || '', text: fmtTime(m.ts) })),
      body,
      meta.length ? el('p', { class: 'faq-meta', text: meta.join(' ') }) : null);
    if (m.suggestions && m.suggestions.length) {
      node.append(el('ul', { class: 'suggested', 'aria-label': 'Suggested FAQ entries' },
        ...m.suggestions.map((s) => el('li', { text: s.question + ' (' + s.entry_id + (typeof s.score === 'number' ? ', ' + s.score.toFixed(2) : '') + ')' }))));
    }
    return node;
  };
  const renderMessages = () => {
    const c = S.convs.get(S.current);
    const box = $('messages');
    if (!c) { box.replaceChildren(); return; }
    // Stay where the agent scrolled to, unless they were at the bottom or just switched here.
    const follow = box.dataset.conv !== c.id || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.dataset.conv = c.id;
    box.replaceChildren(...c.order.map((id) => renderMessage(c.messages.get(id))));
    for (const o of S.outbox.values()) {
      if (o.conversation_id === c.id) box.append(el('article', { class: 'msg agent pending' }, el('p', { class: 'who', text: 'You · sending…' }), el('div', { class: 'body', text: o.text })));
    }
    for (const f of c.failed || []) {
      box.append(el('article', { class: 'msg agent failed' }, el('p', { class: 'who', text: 'Not sent: ' + f.why }), el('div', { class: 'body', text: f.text })));
    }
    if (follow) box.scrollTop = box.scrollHeight;
    if (!document.hidden) c.unread = 0;
    renderTyping();
    renderLists();
  };
  const renderTyping = () => {
    const c = S.convs.get(S.current);
    $('typing').textContent = c && c.typing ? 'Visitor is typing…' : '';
  };
  const renderConversation = () => {
    const c = S.convs.get(S.current);
    $('conv-placeholder').hidden = !!c;
    $('conv-body').hidden = !c;
    if (!c) { renderContext(null); return; }
    $('conv-title').textContent = 'Conversation ' + shortId(c.id);
    $('conv-state').textContent = c.watching ? 'watching' : c.state;
    const active = !c.closed && !c.watching;
    for (const id of ['act-transfer', 'act-escalate', 'act-handback', 'act-close']) $(id).hidden = !active;
    $('act-takeover').hidden = !c.watching || !['supervisor', 'admin'].includes(S.me?.role);
    $('act-dismiss').hidden = !c.closed;
    $('composer').hidden = c.closed;
    // Watching supervisors may only add private notes; replying needs a take-over.
    const reply = $('composer').querySelector('input[value="reply"]');
    if (c.watching) $('composer').querySelector('input[value="note"]').checked = true;
    else if (reply.disabled) reply.checked = true;
    reply.disabled = c.watching;
    $('composer').classList.toggle('note-mode', mode() === 'note');
    renderMessages();
    renderContext(c);
  };
  const renderContext = (c) => {
    const dl = $('context-list');
    dl.replaceChildren();
    $('earlier').replaceChildren();
    if (!c) return;
    const v = { ...c.visitor, ...(c.detail && c.detail.visitor) };
    const row = (k, node) => dl.append(el('dt', { text: k }), el('dd', {}, node));
    row('Language', (c.lang || v.lang || '?').toUpperCase() + (v.lang && c.lang && v.lang !== c.lang ? ' (browser: ' + v.lang + ')' : ''));
    if (v.page_url) {
      row('Page', /^https?:\/\//.test(v.page_url)
        ? el('a', { href: v.page_url, target: '_blank', rel: 'noopener noreferrer', text: v.page_url }) : v.page_url);
    }
    if (v.email) row('Email', v.email);
    if (c.detail && c.detail.department) row('Department', c.detail.department);
    row('Visitor', shortId(v.id || '?'));
    const earlier = (c.detail && c.detail.earlier) || [];
    $('earlier').append(...earlier.map((e) => el('li', {},
      el('span', { class: 'small', text: new Date(e.created_at).toLocaleString() + ' · ' + e.state }),
      el('p', { class: 'preview', text: e.last_text || '' }))));
    if (!earlier.length) $('earlier').append(el('li', { class: 'muted', text: 'None' }));
  };
  const renderAll = () => { renderQueueInfo(); renderOffers(); renderLists(); renderConversation(); };

  const select = async (id) => {
    S.current = id;
    const c = conv(id);
    c.unread = 0;
    closeTransfer();
    renderAll();
    $('composer-text').focus();
    try {
      const detail = await api('/api/v1/conversations/' + encodeURIComponent(id));
      c.detail = detail;
      if (detail.lang) c.lang = detail.lang;
      if (detail.state && !c.watching && !c.closed) c.state = detail.state;
      for (const m of detail.messages || []) addMessage(c, m, false);
      c.order.sort((a, b) => (c.messages.get(a).seq || 0) - (c.messages.get(b).seq || 0));
      if (S.current === id) renderConversation();
    } catch (err) { if (err.status !== 404) notice('Could not load the conversation: ' + err.message); }
    loadQuickReplies(c.lang);
  };

  // ---- Composer, typing, quick replies.
  let typingSent = false, typingSentAt = 0, typingTimer = 0;
  const stopTyping = () => {
    clearTimeout(typingTimer);
    if (typingSent && S.current) send({ type: 'typing', conversation_id: S.current, on: false });
    typingSent = false;
  };
  const mode = () => $('composer').querySelector('input[name="mode"]:checked').value;
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const c = S.convs.get(S.current);
    const text = $('composer-text').value.trim();
    if (!c || !text) return;
    if (mode() === 'note') {
      if (!send({ type: 'note', conversation_id: c.id, text })) return;
    } else {
      const client_id = uid();
      S.outbox.set(client_id, { conversation_id: c.id, text });
      send({ type: 'message', conversation_id: c.id, client_id, text });
      renderMessages();
    }
    stopTyping();
    $('composer-text').value = '';
    $('composer').querySelector('input[value="reply"]').checked = !c.watching;
  });
  $('composer-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $('composer').requestSubmit(); }
  });
  $('composer-text').addEventListener('input', () => {
    if (mode() === 'note' || !S.current) return;
    if (!typingSent || Date.now() - typingSentAt > TYPING_REFRESH_MS) {
      typingSent = send({ type: 'typing', conversation_id: S.current, on: true });
      typingSentAt = Date.now();
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  $('composer').addEventListener('change', () => $('composer').classList.toggle('note-mode', mode() === 'note'));

  const loadQuickReplies = async (lang) => {
    const key = lang || '';
    if (!S.quick.has(key)) {
      try { S.quick.set(key, await api('/api/v1/quick-replies' + (lang ? '?lang=' + encodeURIComponent(lang) : ''))); } catch (e) { S.quick.set(key, { faq: [], canned: [] }); }
    }
    renderQuick();
  };
  const renderQuick = () => {
    const c = S.convs.get(S.current);
    const data = S.quick.get((c && c.lang) || '') || { faq: [], canned: [] };
    const q = $('quick-filter').value.trim().toLowerCase();
    const items = [
      ...(data.canned || []).map((r) => ({ kind: 'Canned', title: r.title, text: r.text })),
      ...(data.faq || []).map((r) => ({ kind: 'FAQ', title: r.question, text: r.answer })),
    ].filter((r) => !q || (r.title + ' ' + r.text).toLowerCase().includes(q));
    $('quick-list').replaceChildren(...items.map((r) => el('li', {},
      el('button', { type: 'button', onclick: () => insertReply(r.kind === 'FAQ' ? plainText(r.text) : r.text) },
        el('span', { class: 'kind', text: r.kind }), ' ', el('strong', { text: r.title }),
        el('span', { class: 'quick-text', text: r.text })))));
    if (!items.length) $('quick-list').append(el('li', { class: 'muted', text: 'No quick replies.' }));
  };
  // Agent messages reach the visitor as plain text, so FAQ Markdown is flattened on insertion.
  const plainText = (md) => md.replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, t, u) => (t === u ? u : t + ' (' + u + ')'))
    .replace(/\*\*(.+?)\*\*|__(.+?)__/g, '$1$2').replace(/\*([^*\s][^*]*?)\*|(?<![\w])_([^_]+)_(?![\w])/g, '$1$2');
  const insertReply = (text) => {
    const ta = $('composer-text');
    ta.value = ta.value.trim() ? ta.value.replace(/\s*$/, '\n') + text : text;
    ta.focus();
  };
  $('quick-filter').addEventListener('input', renderQuick);
  $('quick-toggle').addEventListener('click', () => {
    const open = $('quick').hidden;
    $('quick').hidden = !open;
    $('quick-toggle').setAttribute('aria-expanded', String(open));
    if (open) { renderQuick(); $('quick-filter').focus(); }
  });

  // ---- Conversation actions.
  const current = () => S.convs.get(S.current);
  $('act-close').addEventListener('click', () => { const c = current(); if (c) send({ type: 'close', conversation_id: c.id }); });
  $('act-handback').addEventListener('click', () => {
    const c = current();
    if (c && send({ type: 'handback', conversation_id: c.id })) { c.closed = true; c.state = 'handed back'; renderAll(); }
  });
  $('act-escalate').addEventListener('click', () => {
    const c = current();
    if (c && send({ type: 'escalate', conversation_id: c.id })) notice('A supervisor has been asked to help.');
  });
  $('act-takeover').addEventListener('click', () => {
    const c = current();
    if (c && send({ type: 'takeover', conversation_id: c.id })) c.takingOver = true;
  });
  // A supervisor who already watches a chat is sent no `assigned` frame when taking it over;
  // the system message announcing the take-over is the cue to confirm ownership over REST.
  const confirmTakeover = async (c) => {
    try {
      const detail = await api('/api/v1/conversations/' + encodeURIComponent(c.id));
      if (detail.agent_id !== S.me.id) return;
      Object.assign(c, { takingOver: false, watching: false, closed: false, state: 'assigned', detail });
      renderAll();
    } catch (e) { /* the next system message tries again */ }
  };
  $('act-dismiss').addEventListener('click', () => {
    S.convs.delete(S.current); S.current = null;
    const next = [...S.convs.values()].find((c) => !c.closed);
    if (next) select(next.id); else renderAll();
  });
  const closeTransfer = () => { $('transfer-form').hidden = true; };
  $('act-transfer').addEventListener('click', async () => {
    await refreshAgents();
    const c = current();
    const agentSel = $('transfer-agent'), deptSel = $('transfer-dept');
    agentSel.replaceChildren(el('option', { value: '', text: '— choose an agent —' }),
      ...S.agents.filter((a) => a.id !== S.me.id).map((a) => el('option', { value: a.id,
        text: a.name + ' — ' + a.status + (a.connected === false ? ', not connected' : '') + ', ' + (a.active_chats ?? 0) + '/' + a.max_chats +
          (a.languages && a.languages.length ? ', ' + a.languages.join('/') : '') })));
    const depts = [...new Set(S.agents.flatMap((a) => a.departments || []))].sort();
    deptSel.replaceChildren(el('option', { value: '', text: '— or a department —' }), ...depts.map((d) => el('option', { value: d, text: d })));
    if (c && c.detail && c.detail.department) deptSel.value = '';
    $('transfer-form').hidden = false;
    agentSel.focus();
  });
  $('transfer-cancel').addEventListener('click', () => { closeTransfer(); $('act-transfer').focus(); });
  $('transfer-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const c = current();
    const to_agent_id = $('transfer-agent').value, to_department = $('transfer-dept').value;
    if (!c) return;
    if (!to_agent_id && !to_department) { notice('Choose an agent or a department.'); return; }
    const frame = { type: 'transfer', conversation_id: c.id, note: $('transfer-note').value.trim() || undefined };
    if (to_agent_id) frame.to_agent_id = to_agent_id; else frame.to_department = to_department;
    if (send(frame)) { $('transfer-note').value = ''; closeTransfer(); }
  });

  // ---- Status switch.
  $('status-select').addEventListener('change', () => {
    unlockAudio();
    if ($('status-select').value === 'online' && 'Notification' in window && Notification.permission === 'default') {
      Notification.requestPermission().catch(() => {});
    }
    send({ type: 'status', status: $('status-select').value, auto_accept: $('auto-accept').checked });
  });
  $('auto-accept').addEventListener('change', () => {
    unlockAudio();
    send({ type: 'status', status: $('status-select').value, auto_accept: $('auto-accept').checked });
  });

  // ---- Pending list and agents (REST, refreshed on queue changes and a slow timer).
  const refreshPending = async () => {
    try { S.pendingList = await api('/api/v1/conversations?state=pending'); } catch (e) { S.pendingList = []; }
    renderLists();
  };
  const refreshAgents = async () => {
    try { S.agents = await api('/api/v1/agents'); } catch (e) { /* keep the last list */ }
  };
  setInterval(() => { if (S.me) refreshPending(); }, PENDING_REFRESH_MS);
  setInterval(() => { // countdowns and waiting times tick locally between server updates
    if (S.offers.size) { // update countdowns in place (re-rendering would move keyboard focus)
      let gone = false;
      for (const [id, o] of S.offers) if (o.expiresAt < Date.now() - 2000) { S.offers.delete(id); gone = true; }
      if (gone) renderOffers();
      for (const span of $('offers').querySelectorAll('.countdown')) {
        const o = S.offers.get(span.dataset.id);
        if (o) span.textContent = 'expires in ' + Math.max(0, Math.round((o.expiresAt - Date.now()) / 1000)) + ' s';
      }
    }
    if (S.view === 'supervisor' && S.overview) tickOverview();
  }, 1000);

  // ---- Supervisor view.
  const switchView = (view) => {
    S.view = view;
    $('inbox-view').hidden = view !== 'inbox';
    $('supervisor-view').hidden = view !== 'supervisor';
    $('tab-inbox').setAttribute('aria-pressed', String(view === 'inbox'));
    $('tab-supervisor').setAttribute('aria-pressed', String(view === 'supervisor'));
    if (view === 'supervisor') refreshOverview();
  };
  $('tab-inbox').addEventListener('click', () => switchView('inbox'));
  $('tab-supervisor').addEventListener('click', () => switchView('supervisor'));
  let overviewBusy = false;
  const refreshOverview = async () => {
    if (overviewBusy) return;
    overviewBusy = true;
    try { S.overview = await api('/api/v1/supervisor/overview'); S.overviewAt = Date.now(); renderOverview(); } catch (e) { notice('Could not load the overview: ' + e.message); } finally { overviewBusy = false; }
  };
  setInterval(() => { if (S.me && S.view === 'supervisor') refreshOverview(); }, OVERVIEW_REFRESH_MS);
  // Waiting times tick in place every second; the tables are rebuilt only when something
  // else changed, so a keyboard user's focus on a Watch button is not pulled away.
  const ticking = (seconds) => el('span', { class: 'tick', 'data-s': String(seconds), text: fmtDuration(seconds) });
  const tickOverview = () => {
    const since = (Date.now() - S.overviewAt) / 1000;
    for (const span of $('supervisor-view').querySelectorAll('.tick')) span.textContent = fmtDuration(+span.dataset.s + since);
  };
  let overviewKey = '';
  const renderOverview = () => {
    const o = S.overview;
    const key = JSON.stringify([o.queue.map((q) => [q.conversation_id, q.position, q.state, q.escalated]),
      o.agents.map((a) => [a.id, a.status, a.connected, a.active_chats, a.max_chats]),
      o.conversations.map((c) => [c.id, c.state, c.agent_id])]);
    if (key === overviewKey) {
      for (const [i, q] of o.queue.entries()) { const span = $('sv-queue').querySelectorAll('.tick')[i]; if (span) span.dataset.s = q.waiting_s; }
      for (const [i, c] of o.conversations.entries()) { const span = $('sv-convs').querySelectorAll('.tick')[i]; if (span) span.dataset.s = c.since_s ?? 0; }
      tickOverview();
      return;
    }
    overviewKey = key;
    keepFocus(() => rebuildOverview(o));
    tickOverview();
  };
  const rebuildOverview = (o) => {
    const cells = (...xs) => el('tr', {}, ...xs.map((x) => el('td', {}, x)));
    const emptyRow = (n, text) => el('tr', {}, el('td', { colspan: String(n), class: 'muted', text }));
    $('sv-queue').replaceChildren(...o.queue.map((q) => cells(String(q.position ?? '—'), shortId(q.conversation_id),
      (q.state || 'queued') + (q.escalated ? ', escalated' : ''), (q.lang || '').toUpperCase(), q.department || '—',
      ticking(q.waiting_s), String(q.priority ?? ''))));
    if (!o.queue.length) $('sv-queue').append(emptyRow(7, 'Nobody is waiting.'));
    $('sv-agents').replaceChildren(...o.agents.map((a) => {
      const load = el('span', { class: 'load' }, el('meter', { min: '0', max: String(a.max_chats || 1), value: String(a.active_chats ?? 0), 'aria-label': a.name + ' load' }), ' ' + (a.active_chats ?? 0) + ' / ' + a.max_chats);
      return cells(a.name, a.role, el('span', { class: 'status-' + a.status, text: a.status }), a.connected ? 'yes' : 'no', load, (a.languages || []).join(', '));
    }));
    $('sv-convs').replaceChildren(...o.conversations.map((c) => cells(shortId(c.id), c.state, c.agent_name || '—', (c.lang || '').toUpperCase(),
      c.since_s != null ? ticking(c.since_s) : '—',
      el('span', { class: 'row' },
        el('button', { type: 'button', text: 'Watch', 'data-focus-key': 'watch-' + c.id, 'aria-label': 'Watch conversation ' + shortId(c.id), onclick: () => send({ type: 'watch', conversation_id: c.id }) }),
        el('button', { type: 'button', text: 'Take over', 'data-focus-key': 'takeover-' + c.id, 'aria-label': 'Take over conversation ' + shortId(c.id), onclick: () => send({ type: 'takeover', conversation_id: c.id }) })))));
    if (!o.conversations.length) $('sv-convs').append(emptyRow(6, 'No open conversations.'));
  };

  // ---- Boot: an existing session cookie skips the login form.
  (async () => {
    try { await start(); } catch (err) { showLogin(err.status === 401 || err.status === 403 ? '' : 'The server is not reachable: ' + err.message); }
  })();
})();
