/** The local web chat page: plain HTML and a little script, no build step. */
export const WEB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nanocell</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 720px; margin: 0 auto; padding: 1rem; }
  #log { border: 1px solid #ccc; border-radius: 6px; padding: .5rem; height: 70vh; overflow-y: auto; }
  .m { margin: .3rem 0; white-space: pre-wrap; }
  .out { color: #064; }
  #working { color: #666; min-height: 1.4em; }
  #problem { color: #a00; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  input[name=text] { flex: 1; padding: .4rem; }
</style>
</head>
<body>
<h1>nanocell <small id="chat"></small></h1>
<div id="log" role="log"></div>
<div id="working" aria-live="polite"></div>
<div id="problem" role="alert"></div>
<form id="f"><input name="text" autocomplete="off" placeholder="Message" aria-label="Message"><button>Send</button></form>
<script>
  const params = new URLSearchParams(location.search);
  const chat = params.get('chat') || 'owner';
  // One kept token per chat: opening a member's chat link does not replace the owner's.
  const key = 'nanocell-token:' + chat;
  const token = params.get('token') || localStorage.getItem(key) || '';
  localStorage.setItem(key, token);
  document.getElementById('chat').textContent = chat;
  const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
  const base = '/api/chats/' + encodeURIComponent(chat);
  let last = 0;
  const log = document.getElementById('log');
  const working = document.getElementById('working');
  const problem = document.getElementById('problem');
  function show(m) {
    const div = document.createElement('div');
    div.className = 'm ' + m.direction;
    div.textContent = m.senderName + ': ' + m.text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }
  async function poll() {
    const r = await fetch(base + '/messages?after=' + last, { headers });
    if (!r.ok) { problem.textContent = (await r.json()).error; return; }
    for (const m of (await r.json()).messages) { show(m); last = Math.max(last, m.id); }
  }
  async function post(path, body) {
    const r = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
    problem.textContent = r.ok ? '' : (await r.json()).error;
    return r.ok;
  }
  function extras(e) {
    const row = document.createElement('div');
    for (const a of e.actions || []) {
      const b = document.createElement('button');
      b.textContent = a.label;
      b.onclick = async () => { if (await post('/actions', { actionId: a.id })) row.remove(); poll(); };
      row.appendChild(b);
    }
    for (const f of e.attachments || []) {
      const link = document.createElement('a');
      link.href = f.url + '?token=' + encodeURIComponent(token);
      link.textContent = f.name;
      link.rel = 'noopener';
      link.target = '_blank';
      row.appendChild(link);
    }
    if (row.childNodes.length) log.appendChild(row);
  }
  document.getElementById('f').onsubmit = async (e) => {
    e.preventDefault();
    const input = e.target.text;
    const text = input.value.trim();
    if (!text) return;
    if (await post('/messages', { text })) input.value = '';
    poll();
  };
  const events = new EventSource('/api/events?token=' + encodeURIComponent(token));
  const mine = (ev) => { const d = JSON.parse(ev.data); return d.chatId === chat ? d : null; };
  events.addEventListener('message', async (ev) => {
    const d = mine(ev); if (!d) return;
    working.textContent = '';
    await poll();
    extras(d);
  });
  events.addEventListener('edit', (ev) => {
    if (!mine(ev)) return;
    log.textContent = ''; last = 0; poll();
  });
  events.addEventListener('typing', (ev) => { if (mine(ev)) working.textContent = 'working…'; });
  poll();
</script>
</body>
</html>
`;
