/*! chatdesk widget. Embed: <script src="https://HOST/widget.js" data-chatdesk async></script>
 * One classic script with its CSS inside, no dependencies, no build step. The UI lives in a
 * Shadow DOM so the host page's CSS cannot reach it and ours cannot leak out; the only global
 * is `window.chatdesk`. It speaks the visitor socket protocol (docs/protocol.md); options, the
 * JS API and events are in web_widget/README.md. Keep it under 15 KB gzipped (a test checks). */
(() => {
  'use strict';
  const queued = Array.isArray(window.chatdesk) ? window.chatdesk : [];
  if (window.chatdesk && window.chatdesk.version) return; // included twice: the first one wins
  const me = document.currentScript || document.querySelector('script[data-chatdesk]');
  if (!me || !window.WebSocket) return;
  const opt = me.dataset;
  const origin = new URL(me.src, location.href).origin;
  const WS_URL = origin.replace(/^http/, 'ws') + '/ws/visitor';
  const KEY = 'chatdesk:' + origin; // one visitor per chatdesk server, shared by all pages of the site
  const BACKOFF_MS = 500, BACKOFF_MAX_MS = 15000; // doubled per failed attempt, full jitter on top
  // Typing: "off" after 2.5 s idle; "on" repeated every 3 s while typing, because the other
  // side hides the indicator after 8 s without news (a lost "off" must not stick).
  const TYPING_IDLE_MS = 2500, TYPING_REFRESH_MS = 3000, TYPING_SHOW_MS = 8000;

  const T = {
    en: {
      title: 'Chat with us', open: 'Open chat', min: 'Minimize chat', online: "We're online",
      away: "We're away", ph: 'Type your message…', msgl: 'Your message', send: 'Send',
      human: 'Talk to a person', help: 'Did this help?', yes: 'Yes', no: 'No',
      thx: 'Thanks for your feedback!', sugg: 'Did you mean:',
      queue: 'You are number {n} in the queue.', eta: 'Estimated wait: about {n} min.',
      soon: 'Someone will be with you shortly.', with: 'Chatting with {n}', typing: '{n} is typing…',
      agent: 'Agent', no_agents: 'All our agents are away right now.',
      outside_hours: "We're outside our opening hours right now.",
      leave: "Leave us a message and we'll reply by email.", email: 'Your email', text: 'Message',
      lsend: 'Send message', left: "Thank you! We'll reply by email.", ended: 'The chat has ended.',
      rate: 'How was the chat?', star: '{n} of 5', comment: 'Comment (optional)',
      rsend: 'Send rating', rated: 'Thank you for your rating!', again: 'Start a new chat',
      recon: 'Connection lost. Reconnecting…', sending: 'Sending…', failed: 'Not sent.',
      retry: 'Retry', slow: "You're sending messages too fast. Please wait a moment.",
      long: 'That message is too long.', err: 'Something went wrong. Please try again.',
      end: 'End chat', unread: '{n} unread', you: 'You:', log: 'Conversation',
    },
    cs: {
      title: 'Napište nám', open: 'Otevřít chat', min: 'Minimalizovat chat', online: 'Jsme online',
      away: 'Právě nejsme k dispozici', ph: 'Napište zprávu…', msgl: 'Vaše zpráva', send: 'Odeslat',
      human: 'Chci mluvit s člověkem', help: 'Pomohlo vám to?', yes: 'Ano', no: 'Ne',
      thx: 'Děkujeme za zpětnou vazbu!', sugg: 'Mysleli jste:', queue: 'Jste {n}. v pořadí.',
      eta: 'Odhadované čekání: asi {n} min.', soon: 'Za chvíli se vám někdo bude věnovat.',
      with: 'Konzultant: {n}', typing: '{n} píše…', agent: 'Konzultant',
      no_agents: 'Všichni naši konzultanti jsou teď nedostupní.',
      outside_hours: 'Teď je mimo naši pracovní dobu.',
      leave: 'Zanechte nám zprávu a odpovíme e-mailem.', email: 'Váš e-mail', text: 'Zpráva',
      lsend: 'Odeslat zprávu', left: 'Děkujeme! Odpovíme vám e-mailem.', ended: 'Chat byl ukončen.',
      rate: 'Jak jste byli spokojeni?', star: '{n} z 5', comment: 'Komentář (nepovinný)',
      rsend: 'Odeslat hodnocení', rated: 'Děkujeme za hodnocení!', again: 'Začít nový chat',
      recon: 'Spojení bylo přerušeno. Připojuji znovu…', sending: 'Odesílám…',
      failed: 'Neodesláno.', retry: 'Zkusit znovu',
      slow: 'Posíláte zprávy příliš rychle. Chvíli prosím počkejte.',
      long: 'Zpráva je příliš dlouhá.', err: 'Něco se pokazilo. Zkuste to prosím znovu.',
      end: 'Ukončit chat', unread: 'Nepřečtené: {n}', you: 'Vy:', log: 'Konverzace',
    },
    sk: {
      title: 'Napíšte nám', open: 'Otvoriť chat', min: 'Minimalizovať chat', online: 'Sme online',
      away: 'Práve nie sme k dispozícii', ph: 'Napíšte správu…', msgl: 'Vaša správa',
      send: 'Odoslať', human: 'Chcem hovoriť s človekom', help: 'Pomohlo vám to?', yes: 'Áno',
      no: 'Nie', thx: 'Ďakujeme za spätnú väzbu!', sugg: 'Mysleli ste:',
      queue: 'Ste {n}. v poradí.', eta: 'Odhadované čakanie: asi {n} min.',
      soon: 'O chvíľu sa vám bude niekto venovať.', with: 'Konzultant: {n}', typing: '{n} píše…',
      agent: 'Konzultant', no_agents: 'Všetci naši konzultanti sú teraz nedostupní.',
      outside_hours: 'Teraz je mimo našej pracovnej doby.',
      leave: 'Zanechajte nám správu a odpovieme e-mailom.', email: 'Váš e-mail', text: 'Správa',
      lsend: 'Odoslať správu', left: 'Ďakujeme! Odpovieme vám e-mailom.',
      ended: 'Chat bol ukončený.', rate: 'Ako ste boli spokojní?', star: '{n} z 5',
      comment: 'Komentár (nepovinný)', rsend: 'Odoslať hodnotenie', rated: 'Ďakujeme za hodnotenie!',
      again: 'Začať nový chat', recon: 'Spojenie sa prerušilo. Pripájam znova…',
      sending: 'Odosiela sa…', failed: 'Neodoslané.', retry: 'Skúsiť znova',
      slow: 'Posielate správy príliš rýchlo. Chvíľu, prosím, počkajte.',
      long: 'Správa je príliš dlhá.', err: 'Niečo sa pokazilo. Skúste to, prosím, znova.',
      end: 'Ukončiť chat', unread: 'Neprečítané: {n}', you: 'Vy:', log: 'Konverzácia',
    },
    pl: {
      title: 'Napisz do nas', open: 'Otwórz czat', min: 'Zminimalizuj czat', online: 'Jesteśmy online',
      away: 'Jesteśmy teraz niedostępni', ph: 'Napisz wiadomość…', msgl: 'Twoja wiadomość',
      send: 'Wyślij', human: 'Chcę rozmawiać z konsultantem', help: 'Czy to pomogło?', yes: 'Tak',
      no: 'Nie', thx: 'Dziękujemy za opinię!', sugg: 'Czy chodziło o:',
      queue: 'Twoje miejsce w kolejce: {n}.', eta: 'Szacowany czas oczekiwania: ok. {n} min.',
      soon: 'Za chwilę ktoś się Tobą zajmie.', with: 'Konsultant: {n}', typing: '{n} pisze…',
      agent: 'Konsultant', no_agents: 'Wszyscy nasi konsultanci są teraz niedostępni.',
      outside_hours: 'Jesteśmy teraz poza godzinami pracy.',
      leave: 'Zostaw wiadomość, a odpowiemy e-mailem.', email: 'Twój e-mail', text: 'Wiadomość',
      lsend: 'Wyślij wiadomość', left: 'Dziękujemy! Odpowiemy e-mailem.',
      ended: 'Czat został zakończony.', rate: 'Jak oceniasz rozmowę?', star: '{n} z 5',
      comment: 'Komentarz (opcjonalnie)', rsend: 'Wyślij ocenę', rated: 'Dziękujemy za ocenę!',
      again: 'Rozpocznij nowy czat', recon: 'Utracono połączenie. Łączenie ponownie…',
      sending: 'Wysyłanie…', failed: 'Nie wysłano.', retry: 'Ponów',
      slow: 'Wysyłasz wiadomości zbyt szybko. Poczekaj chwilę.', long: 'Wiadomość jest za długa.',
      err: 'Coś poszło nie tak. Spróbuj ponownie.', end: 'Zakończ czat',
      unread: 'Nieprzeczytane: {n}', you: 'Ty:', log: 'Rozmowa',
    },
    et: {
      title: 'Kirjuta meile', open: 'Ava vestlus', min: 'Minimeeri vestlus', online: 'Oleme saadaval',
      away: 'Oleme praegu eemal', ph: 'Kirjuta sõnum…', msgl: 'Sinu sõnum', send: 'Saada',
      human: 'Soovin rääkida inimesega', help: 'Kas see aitas?', yes: 'Jah', no: 'Ei',
      thx: 'Aitäh tagasiside eest!', sugg: 'Kas mõtlesid:', queue: 'Sinu koht järjekorras: {n}.',
      eta: 'Eeldatav ooteaeg: umbes {n} min.', soon: 'Klienditeenindaja vastab peagi.',
      with: 'Klienditeenindaja: {n}', typing: '{n} kirjutab…', agent: 'Klienditeenindaja',
      no_agents: 'Kõik meie klienditeenindajad on praegu eemal.',
      outside_hours: 'Oleme praegu väljaspool tööaega.',
      leave: 'Jäta meile sõnum ja vastame e-posti teel.', email: 'Sinu e-post', text: 'Sõnum',
      lsend: 'Saada sõnum', left: 'Aitäh! Vastame e-posti teel.', ended: 'Vestlus on lõppenud.',
      rate: 'Kuidas vestlus sujus?', star: '{n} / 5', comment: 'Kommentaar (valikuline)',
      rsend: 'Saada hinnang', rated: 'Aitäh hinnangu eest!', again: 'Alusta uut vestlust',
      recon: 'Ühendus katkes. Ühendan uuesti…', sending: 'Saadan…', failed: 'Saatmata.',
      retry: 'Proovi uuesti', slow: 'Saadad sõnumeid liiga kiiresti. Palun oota hetk.',
      long: 'Sõnum on liiga pikk.', err: 'Midagi läks valesti. Palun proovi uuesti.',
      end: 'Lõpeta vestlus', unread: 'Lugemata: {n}', you: 'Sina:', log: 'Vestlus',
    },
    lv: {
      title: 'Raksti mums', open: 'Atvērt tērzēšanu', min: 'Minimizēt tērzēšanu',
      online: 'Esam tiešsaistē', away: 'Pašlaik neesam pieejami', ph: 'Raksti ziņu…',
      msgl: 'Tava ziņa', send: 'Sūtīt', human: 'Vēlos runāt ar cilvēku',
      help: 'Vai tas palīdzēja?', yes: 'Jā', no: 'Nē', thx: 'Paldies par atsauksmi!',
      sugg: 'Vai domāji:', queue: 'Tava vieta rindā: {n}.',
      eta: 'Paredzamais gaidīšanas laiks: apmēram {n} min.', soon: 'Drīz kāds tev atbildēs.',
      with: 'Konsultants: {n}', typing: '{n} raksta…', agent: 'Konsultants',
      no_agents: 'Visi mūsu konsultanti pašlaik nav pieejami.',
      outside_hours: 'Pašlaik ir ārpus mūsu darba laika.',
      leave: 'Atstāj mums ziņu, un mēs atbildēsim pa e-pastu.', email: 'Tavs e-pasts',
      text: 'Ziņa', lsend: 'Sūtīt ziņu', left: 'Paldies! Mēs atbildēsim pa e-pastu.',
      ended: 'Saruna ir beigusies.', rate: 'Kā vērtē sarunu?', star: '{n} no 5',
      comment: 'Komentārs (nav obligāts)', rsend: 'Sūtīt vērtējumu', rated: 'Paldies par vērtējumu!',
      again: 'Sākt jaunu sarunu', recon: 'Savienojums pārtrūka. Savienojas no jauna…',
      sending: 'Sūta…', failed: 'Nav nosūtīts.', retry: 'Mēģināt vēlreiz',
      slow: 'Tu sūti ziņas pārāk ātri. Lūdzu, brīdi pagaidi.', long: 'Ziņa ir pārāk gara.',
      err: 'Kaut kas nogāja greizi. Lūdzu, mēģini vēlreiz.', end: 'Beigt sarunu',
      unread: 'Nelasītas: {n}', you: 'Tu:', log: 'Saruna',
    },
  };
  const pickLang = (l) => (l = String(l || '').slice(0, 2).toLowerCase()) in T && l;
  let lang =
    pickLang(opt.lang) || (navigator.languages || [navigator.language]).map(pickLang).find(Boolean) || 'en';
  const t = (k, n) => (T[lang][k] || T.en[k]).replace('{n}', n);

  // Persisted across reloads and pages: token, conversation, last seq, unsent messages (`out`).
  let S = {};
  try { S = JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { /* storage blocked */ }
  S.out = S.out || [];
  const save = () => { try { localStorage.setItem(KEY, JSON.stringify(S)); } catch (e) { /* ignore */ } };

  // ---- DOM helpers: `i`/`a`/`p` attributes name a string key, re-painted by setLanguage().
  const h = (tag, attrs, kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (v != null && v !== false) el.setAttribute(k === 'i' || k === 'a' || k === 'p' ? 'data-' + k : k, v);
    }
    for (const c of kids || []) if (c) el.append(c);
    return el;
  };
  const paint = (root) => {
    for (const el of root.querySelectorAll('[data-i]')) el.textContent = t(el.dataset.i, el.dataset.n);
    for (const el of root.querySelectorAll('[data-a]')) el.setAttribute('aria-label', t(el.dataset.a));
    for (const el of root.querySelectorAll('[data-p]')) el.placeholder = t(el.dataset.p);
  };

  // ---- Markdown subset for bot answers: bold, italics, lists, line breaks, http(s) links.
  // The text is HTML-escaped first, so raw HTML stays text and only our own tags are created.
  const esc = (s) => s.replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const emph = (s) =>
    s.replace(/\*\*(.+?)\*\*|__(.+?)__/g, '<strong>$1$2</strong>')
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

  // ---- Styles. px only (a host's `html{font-size}` must not scale us); `:host` rules are
  // !important because inside-out !important beats anything the host page declares.
  const CSS = `
:host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483000!important;
width:0!important;height:0!important;bottom:0!important;right:0!important;visibility:visible!important;
opacity:1!important;transform:none!important}
*{box-sizing:border-box}
.w{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328;text-align:left}
.sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
button,input,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer}
:focus-visible{outline:3px solid #e8a317;outline-offset:2px}
[hidden]{display:none!important}
.launch{position:fixed;bottom:20px;right:20px;width:60px;height:60px;border-radius:50%;border:0;padding:0;
background:var(--c);color:var(--t);box-shadow:0 4px 14px rgba(0,0,0,.3);display:grid;place-items:center}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;
background:#b42318;color:#fff;font:700 12px/22px system-ui,sans-serif}
.panel{position:fixed;bottom:92px;right:20px;width:370px;height:580px;max-width:calc(100vw - 40px);
max-height:calc(100vh - 112px);background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);
display:flex;flex-direction:column;overflow:hidden}
.left .launch,.left .panel{right:auto;left:20px}
.hd{background:var(--c);color:var(--t);padding:12px 12px 12px 16px;display:flex;align-items:center;gap:6px}
.hd div{flex:1;min-width:0}
h2{margin:0;font-size:16px;font-weight:700}
.sub{margin:2px 0 0;font-size:13px}
.sub:before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:6px;background:#a0a7b0}
.on .sub:before{background:#3ddc84}
.hd button{background:none;border:1px solid transparent;color:inherit;border-radius:8px;padding:4px 8px}
.hd .x{font-size:22px;line-height:1;padding:2px 8px}
.log{flex:1;overflow-y:auto;padding:12px;background:#f5f6f8}
.m{margin:8px 0;max-width:86%}
.b{padding:8px 11px;border-radius:12px;background:#fff;border:1px solid #dde1e6;white-space:pre-wrap;overflow-wrap:anywhere}
.bot .b{white-space:normal}
.b p{margin:0 0 6px}.b p:last-child{margin:0}.b ul,.b ol{margin:4px 0;padding-left:20px}
.b a{color:inherit}
.visitor{margin-left:auto}
.visitor .b{background:var(--c);color:var(--t);border-color:transparent}
.n,.meta{margin:0 0 2px;font-size:12px;color:#545d68}
.meta{margin:3px 0 0}
.system{max-width:none;text-align:center;font-size:13px;color:#545d68}
.system .b{background:none;border:0;padding:2px}
.sg,.fb{margin-top:6px}
.sg button,.pill{display:block;width:100%;text-align:left;margin:4px 0;padding:7px 10px;border:1px solid var(--c);
border-radius:9px;background:#fff}
.fb button{border:1px solid #8c959f;background:#fff;border-radius:14px;padding:1px 10px;margin-left:6px}
.meta button{border:0;background:none;text-decoration:underline;padding:0;color:#b42318}
.bar{padding:8px 12px;font-size:13px;border-top:1px solid #dde1e6;background:#fff}
.err{background:#fdecea;color:#8a1c12}
.more,.hr{padding:6px 12px;background:#fff}
.more label{display:block;font-size:13px;margin:6px 0 2px}
.more input,.more textarea,.cmp textarea{width:100%;border:1px solid #8c959f;border-radius:8px;padding:7px 9px;background:#fff}
.more fieldset{border:0;padding:0;margin:0}.more legend{padding:0;font-weight:600}
.stars{display:flex;flex-direction:row-reverse;justify-content:flex-end;gap:2px}
.stars input{position:absolute;opacity:0;width:1px;height:1px}
.stars label{font-size:26px;margin:0;color:#8c959f;cursor:pointer}
.stars input:checked~label,.stars label:hover,.stars label:hover~label{color:#b77900}
.stars input:focus-visible+label{outline:3px solid #e8a317}
.go{margin-top:8px;border:0;border-radius:8px;padding:8px 14px;background:var(--c);color:var(--t)}
.cmp{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #dde1e6;background:#fff;align-items:flex-end}
.cmp textarea{resize:none;max-height:120px;min-height:40px}
.cmp .go{margin:0;height:40px}
.pill{width:auto;margin:0;text-align:center;padding:5px 12px;font-size:13px}
@media (max-width:480px){.w .panel{inset:0;width:auto;height:auto;max-width:none;max-height:none;border-radius:0}
.open .launch{display:none}}`;

  // ---- Build the UI.
  const hostEl = document.createElement('chatdesk-widget');
  const shadow = hostEl.attachShadow({ mode: 'open' });
  const color = /^#([0-9a-f]{3}){1,2}$/i.test(opt.color || '') ? opt.color : '#1d4ed8';
  const lum = (() => { // relative luminance (WCAG), to pick readable text on the brand colour
    let x = color.slice(1); if (x.length === 3) x = x.replace(/./g, '$&$&');
    const c = [0, 2, 4].map((i) => parseInt(x.substr(i, 2), 16) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  })();
  const onColor = 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 ? '#fff' : '#111';
  const titleKey = opt.title ? null : 'title';
  const ICON = '<svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"/></svg>';

  const badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
  const launch = h('button', { class: 'launch', type: 'button', 'aria-expanded': 'false',
    'aria-controls': 'cd-panel', onclick: () => (S.open ? api.close() : api.open()) }, [badge]);
  launch.insertAdjacentHTML('afterbegin', ICON);
  const sub = h('p', { class: 'sub' });
  const endBtn = h('button', { type: 'button', i: 'end', hidden: true, onclick: () => send({ type: 'close' }) });
  const header = h('div', { class: 'hd' }, [
    h('div', {}, [h('h2', { id: 'cd-title', i: titleKey, text: opt.title || '' }), sub]),
    endBtn,
    h('button', { type: 'button', class: 'x', a: 'min', text: '×', onclick: () => api.close() }),
  ]);
  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', a: 'log', tabindex: '0' });
  const typingEl = h('div', { class: 'bar', role: 'status', hidden: true });
  const statusEl = h('div', { class: 'bar', role: 'status', hidden: true });
  const errEl = h('div', { class: 'bar err', role: 'alert', hidden: true });
  const more = h('div', { class: 'more', hidden: true });
  const humanBtn = h('button', { type: 'button', class: 'pill', i: 'human', onclick: () => send({ type: 'handoff' }) });
  const input = h('textarea', { id: 'cd-in', rows: '1', p: 'ph', maxlength: '4000' });
  const cmp = h('form', { class: 'cmp' }, [
    h('label', { class: 'sr', for: 'cd-in', i: 'msgl' }), input,
    h('button', { type: 'submit', class: 'go', i: 'send' }),
  ]);
  const panel = h('section', { class: 'panel', id: 'cd-panel', role: 'dialog', 'aria-labelledby': 'cd-title', hidden: true },
    [header, log, h('div', { class: 'hr' }, [humanBtn]), typingEl, statusEl, errEl, more, cmp]);
  const humanRow = humanBtn.parentNode;
  const wrap = h('div', { class: 'w' + (opt.position === 'left' ? ' left' : ''), lang }, [launch, panel]);
  wrap.style.setProperty('--c', color);
  wrap.style.setProperty('--t', onColor);
  shadow.append(h('style', { text: CSS }), wrap);

  // ---- Rendering state.
  let ws = null, live = false, tries = 0, timer = 0, fresh = true, state = null, online = null;
  let agentName = '', typingTimer = 0, sentTyping = 0, idleTimer = 0;
  let seen = {}, pending = {};
  const handlers = {};

  const emit = (name, detail) => {
    for (const fn of handlers[name] || []) try { fn(detail); } catch (e) { setTimeout(() => { throw e; }); }
    window.dispatchEvent(new CustomEvent('chatdesk:' + name, { detail }));
  };
  const show = (el, text) => { el.hidden = !text; el.textContent = text || ''; };
  const scroll = () => { log.scrollTop = log.scrollHeight; };
  const paintHeader = () => {
    wrap.classList.toggle('on', !!online || state === 'assigned');
    sub.textContent = state === 'assigned' && agentName ? t('with', agentName)
      : online == null ? '' : t(online ? 'online' : 'away');
    const n = S.unread || 0;
    badge.hidden = !n; badge.textContent = n;
    launch.setAttribute('aria-label', t('open') + (n ? ', ' + t('unread', n) : ''));
  };
  const setState = (s) => {
    state = s;
    humanRow.hidden = !(s === 'bot' || s == null);
    endBtn.hidden = !['queued', 'offered', 'assigned'].includes(s);
    if (s === 'assigned' || s === 'closed') show(statusEl, '');
    cmp.hidden = s === 'closed';
    paintHeader();
  };
  const send = (frame) => {
    if (ws && live) ws.send(JSON.stringify(frame));
    else if (frame.type !== 'typing') show(statusEl, t('recon'));
  };
  const uid = () => 'w' + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => (b + 256).toString(16).slice(1)).join('');

  const metaLine = (row, key, retry) => {
    let m = row.querySelector('.meta');
    if (!m) row.append((m = h('p', { class: 'meta' })));
    m.replaceChildren(h('span', { i: key, text: t(key) }));
    if (retry) m.append(' ', h('button', { type: 'button', i: 'retry', text: t('retry'), onclick: retry }));
  };
  const bubble = (author, text, name) => {
    const row = h('div', { class: 'm ' + author });
    if (author === 'agent' || author === 'bot') row.append(h('p', { class: 'n', text: name || t('agent') }));
    if (author === 'visitor') row.append(h('span', { class: 'sr', i: 'you', text: t('you') }));
    const b = h('div', { class: 'b' });
    if (author === 'bot') b.innerHTML = markdown(text); else b.textContent = text;
    row.append(b);
    log.append(row);
    return row;
  };
  const showPending = (o) => {
    const row = (pending[o.client_id] = bubble('visitor', o.text));
    metaLine(row, 'sending');
    scroll();
  };
  const addMessage = (m, isLive) => {
    if (m.conversation_id && S.cid && m.conversation_id !== S.cid) { // a new conversation after a closed one
      for (const row of [...log.children]) if (!Object.values(pending).includes(row)) row.remove();
      seen = {}; S.seq = 0; S.cid = m.conversation_id; more.hidden = true; setState('bot');
    }
    if (seen[m.id]) return;
    seen[m.id] = 1;
    if (m.seq > (S.seq || 0)) S.seq = m.seq;
    if (m.client_id) S.out = S.out.filter((o) => o.client_id !== m.client_id);
    const mine = m.client_id && pending[m.client_id];
    if (mine) {
      delete pending[m.client_id];
      mine.querySelector('.meta').remove();
    } else {
      const row = bubble(m.author, m.text, m.author_name);
      if (m.author === 'bot' && m.suggestions && m.suggestions.length) {
        const box = h('div', { class: 'sg', role: 'group', 'aria-label': t('sugg') }, [h('p', { class: 'n', i: 'sugg', text: t('sugg') })]);
        for (const s of m.suggestions) {
          box.append(h('button', { type: 'button', text: s.question, onclick: () => {
            send({ type: 'choose', entry_id: s.entry_id });
            for (const b of box.querySelectorAll('button')) b.disabled = true; // one choice per question
            input.focus();
          } }));
        }
        row.append(box);
      }
      if (m.author === 'bot' && m.bot && m.bot.outcome === 'answer' && !(S.fb || []).includes(m.id)) {
        const fb = h('div', { class: 'fb' }, [h('span', { i: 'help', text: t('help') })]);
        const vote = (helpful) => {
          send({ type: 'feedback', message_id: m.id, helpful });
          S.fb = (S.fb || []).concat(m.id).slice(-50); save();
          fb.replaceChildren(h('span', { i: 'thx', text: t('thx') }));
        };
        fb.append(h('button', { type: 'button', i: 'yes', text: t('yes'), onclick: () => vote(true) }),
          h('button', { type: 'button', i: 'no', text: t('no'), onclick: () => vote(false) }));
        row.append(fb);
      }
      if (m.author === 'agent') show(typingEl, '');
      if (isLive && m.author !== 'visitor' && !S.open) S.unread = (S.unread || 0) + 1;
    }
    if (isLive) emit('message', m);
    save(); paintHeader(); scroll();
  };
  const clearLog = () => { log.replaceChildren(); seen = {}; pending = {}; S.seq = 0; };
  const sendOut = (o) => send({ type: 'message', client_id: o.client_id, text: o.text });

  const queueText = (q) => {
    const eta = q.eta_seconds == null ? '' : q.eta_seconds < 60 ? t('soon') : t('eta', Math.ceil(q.eta_seconds / 60));
    show(statusEl, t('queue', q.position) + ' ' + eta);
  };
  const formField = (key, el) => { const id = 'cd-' + key; el.id = id; return [h('label', { for: id, i: key, text: t(key) }), el]; };
  const showOffline = (reason) => {
    if (S.left && S.left === S.cid) { more.replaceChildren(h('p', { i: 'left', text: t('left') })); more.hidden = false; return; }
    const email = h('input', { type: 'email', required: true, autocomplete: 'email' });
    const text = h('textarea', { rows: '3', required: true });
    const form = h('form', { onsubmit: (e) => {
      e.preventDefault();
      send({ type: 'leave_message', email: email.value.trim(), text: text.value.trim() });
      S.left = S.cid; save();
      more.replaceChildren(h('p', { role: 'status', i: 'left', text: t('left') }));
      cmp.hidden = false;
    } }, [h('p', { i: reason === 'outside_hours' ? reason : 'no_agents' }), h('p', { i: 'leave' }),
      ...formField('email', email), ...formField('text', text), h('button', { class: 'go', i: 'lsend' })]);
    paint(form);
    more.replaceChildren(form); more.hidden = false; cmp.hidden = true;
    email.focus();
  };
  const showClosed = () => {
    show(typingEl, '');
    // The server opens a new conversation with the visitor's next message.
    const again = h('button', { type: 'button', class: 'go', i: 'again', text: t('again'), onclick: () => {
      log.replaceChildren(); more.hidden = true; setState('bot'); input.focus();
    } });
    if (S.rated === S.cid) { more.replaceChildren(h('p', { i: 'rated', text: t('rated') }), again); more.hidden = false; return; }
    const stars = h('div', { class: 'stars' });
    for (let n = 5; n >= 1; n--) {
      stars.append(h('input', { type: 'radio', name: 'cd-score', id: 'cd-s' + n, value: n, required: true }),
        h('label', { for: 'cd-s' + n }, [h('span', { 'aria-hidden': 'true', text: '★' }), h('span', { class: 'sr', i: 'star', 'data-n': n })]));
    }
    const comment = h('textarea', { rows: '2' });
    const form = h('form', { onsubmit: (e) => {
      e.preventDefault();
      const score = +form.querySelector('input:checked').value;
      send({ type: 'rating', score, ...(comment.value.trim() && { comment: comment.value.trim() }) });
      S.rated = S.cid; save();
      more.replaceChildren(h('p', { role: 'status', i: 'rated', text: t('rated') }), again);
    } }, [h('p', { i: 'ended' }), h('fieldset', {}, [h('legend', { i: 'rate' }), stars]),
      ...formField('comment', comment), h('button', { class: 'go', i: 'rsend' })]);
    paint(form);
    more.replaceChildren(form); more.hidden = false;
  };

  // ---- Server frames.
  const on = {
    welcome(f) {
      live = true; tries = 0;
      S.token = f.token;
      const resumed = !fresh && f.conversation_id === S.cid;
      if (!resumed) clearLog();
      fresh = false;
      S.cid = f.conversation_id;
      if (f.agent_name) agentName = f.agent_name;
      if ('online' in f) online = !!f.online;
      show(statusEl, ''); more.hidden = true;
      setState(f.state);
      for (const m of f.messages || []) addMessage(m, resumed);
      for (const o of S.out) { if (!pending[o.client_id]) showPending(o); sendOut(o); }
      if (f.queue && (f.state === 'queued' || f.state === 'offered')) queueText(f.queue);
      if (f.state === 'closed') showClosed();
      if (f.state === 'pending') showOffline();
      save(); paintHeader();
      emit('connected', { conversation_id: S.cid, state });
    },
    message: (f) => addMessage(f, true),
    queued(f) { if (state !== 'assigned') { setState(state === 'offered' ? state : 'queued'); queueText(f); } emit('queued', f); },
    agent_joined(f) { agentName = f.agent_name; setState('assigned'); emit('agent_joined', f); },
    typing(f) {
      clearTimeout(typingTimer);
      show(typingEl, f.on && f.author !== 'visitor' ? t('typing', f.author_name || agentName || t('agent')) : '');
      if (f.on) typingTimer = setTimeout(() => show(typingEl, ''), TYPING_SHOW_MS);
    },
    offline(f) { if (state === 'bot' || state == null) setState('pending'); showOffline(f.reason); emit('offline', f); },
    closed() { setState('closed'); showClosed(); emit('closed', { conversation_id: S.cid }); },
    error(f) {
      const row = f.client_id && pending[f.client_id];
      if (row) {
        const o = S.out.find((x) => x.client_id === f.client_id);
        S.out = S.out.filter((x) => x !== o); save();
        metaLine(row, 'failed', () => { S.out.push(o); save(); metaLine(row, 'sending'); sendOut(o); });
      }
      show(errEl, t({ rate_limited: 'slow', too_large: 'long' }[f.code] || 'err'));
      clearTimeout(errEl.timer);
      errEl.timer = setTimeout(() => show(errEl, ''), 8000);
      emit('error', f);
    },
  };

  // ---- Connection: reconnect with jittered exponential backoff; resume with after_seq.
  const connect = () => {
    clearTimeout(timer);
    if (ws) return;
    const sock = (ws = new WebSocket(WS_URL));
    sock.onopen = () => {
      const hello = { type: 'hello', token: S.token || null, lang, page_url: location.href.slice(0, 2000) };
      if (opt.department) hello.department = opt.department;
      if (S.cid) { hello.conversation_id = S.cid; if (!fresh) hello.after_seq = S.seq || 0; }
      sock.send(JSON.stringify(hello));
    };
    sock.onmessage = (e) => {
      let f; try { f = JSON.parse(e.data); } catch (x) { return; }
      if (on[f.type]) on[f.type](f);
    };
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null; live = false;
      if (e.code === 1008) { show(errEl, t('err')); return; } // policy (e.g. foreign origin): retrying won't help
      if (S.open || S.cid) show(statusEl, t('recon'));
      const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MS * 2 ** tries++);
      timer = setTimeout(connect, cap / 2 + Math.random() * cap / 2);
    };
  };
  const reconnect = () => { const old = ws; ws = null; live = false; if (old) old.close(1000); tries = 0; connect(); };
  window.addEventListener('online', () => { if (!ws) { tries = 0; connect(); } });

  // ---- Composer.
  cmp.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    stopTyping();
    const o = { client_id: uid(), text };
    S.out.push(o); save();
    showPending(o);
    if (live) sendOut(o); else connect();
  });
  const stopTyping = () => { clearTimeout(idleTimer); if (sentTyping) { sentTyping = 0; send({ type: 'typing', on: false }); } };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); cmp.requestSubmit(); }
  });
  input.addEventListener('input', () => {
    input.style.height = 'auto'; input.style.height = input.scrollHeight + 2 + 'px';
    if (!['queued', 'offered', 'assigned'].includes(state)) return;
    if (Date.now() - sentTyping > TYPING_REFRESH_MS) { sentTyping = Date.now(); send({ type: 'typing', on: true }); }
    clearTimeout(idleTimer); idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { api.close(); launch.focus(); } });

  // ---- Public API (window.chatdesk). Events also fire on window as `chatdesk:NAME`.
  const openPanel = (focus) => {
    S.open = true; S.unread = 0; save();
    panel.hidden = false; wrap.classList.add('open');
    launch.setAttribute('aria-expanded', 'true');
    paintHeader(); scroll(); connect();
    if (focus) (more.hidden ? input : more.querySelector('input,textarea,button') || input).focus();
  };
  const api = {
    version: '1',
    open() { if (!S.open || panel.hidden) { openPanel(true); emit('open'); } },
    close() {
      if (!S.open) return;
      S.open = false; save();
      panel.hidden = true; wrap.classList.remove('open');
      launch.setAttribute('aria-expanded', 'false');
      if (shadow.activeElement) launch.focus();
      emit('close');
    },
    setLanguage(l) {
      const next = pickLang(l);
      if (!next) throw new Error('chatdesk: unsupported language ' + l);
      lang = next; wrap.lang = lang;
      paint(shadow); paintHeader();
      if (ws) reconnect(); // the next hello carries the language to the bot
      emit('language', { lang });
    },
    on(name, fn) { (handlers[name] = handlers[name] || []).push(fn); return api; },
    off(name, fn) { handlers[name] = (handlers[name] || []).filter((x) => x !== fn); return api; },
    push([name, ...args]) { if (typeof api[name] === 'function') api[name](...args); }, // the pre-load queue's method
  };
  window.chatdesk = api;

  paint(shadow); setState(null);
  (document.body || document.documentElement).append(hostEl);
  if (S.open) openPanel(false);
  else if (S.cid || S.out.length) connect(); // an ongoing conversation: get agent replies and unread counts
  queued.forEach(api.push);
  emit('ready', { lang });
})();
