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
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  input[name=text] { flex: 1; padding: .4rem; }
</style>
</head>
<body>
<h1>nanocell</h1>
<div id="log"></div>
<form id="f"><input name="text" autocomplete="off" placeholder="Message"><button>Send</button></form>
<script>
  const params = new URLSearchParams(location.search);
  const token = params.get('token') || localStorage.getItem('nanocell-token') || '';
  localStorage.setItem('nanocell-token', token);
  const chat = params.get('chat') || 'owner';
  const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
  let last = 0;
  const log = document.getElementById('log');
  function show(m) {
    const div = document.createElement('div');
    div.className = 'm ' + m.direction;
    div.textContent = m.senderName + ': ' + m.text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }
  async function poll() {
    const r = await fetch('/api/chats/' + chat + '/messages?after=' + last, { headers });
    if (!r.ok) return;
    for (const m of (await r.json()).messages) { show(m); last = Math.max(last, m.id); }
  }
  document.getElementById('f').onsubmit = async (e) => {
    e.preventDefault();
    const input = e.target.text;
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    await fetch('/api/chats/' + chat + '/messages', { method: 'POST', headers, body: JSON.stringify({ text }) });
    poll();
  };
  const events = new EventSource('/api/events?token=' + encodeURIComponent(token));
  events.addEventListener('message', poll);
  poll();
</script>
</body>
</html>
`;
