/** What `/` shows when the dashboard was not built (a checkout without `npm run build`). */
export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>nanocell</title></head>
<body>
<h1>nanocell</h1>
<p>The dashboard is not built. Run <code>npm run build</code> in the nanocell folder (or
<code>scripts/setup.sh</code>), then restart the host. The JSON API under <code>/api/</code>
works meanwhile.</p>
</body>
</html>
`;

/** A sign-in link whose token is wrong, revoked or from a host that was set up again. */
export const WRONG_LINK_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>nanocell: this link does not work</title></head>
<body>
<main>
<h1>This link does not work</h1>
<p>The sign-in link is wrong, or it was revoked. Nothing was opened.</p>
<ul>
<li>If you are the owner: open the link <code>nanocell start</code> printed. Its token is also in the file <code>web-token</code> in nanocell's data dir (<code>~/.nanocell</code> unless <code>NANOCELL_HOME</code> says otherwise).</li>
<li>If someone shared a chat with you: ask them for a new link (<code>nanocell groups link NAME</code>).</li>
</ul>
</main>
</body>
</html>
`;
