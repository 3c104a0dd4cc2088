"""The interactive API docs: one self-contained HTML page, no CDN.

These machines have no internet, so the page loads nothing from outside:
it fetches the service's own /openapi.json, lists every endpoint with its
summary, parameters and example body, and lets you send a request (with
your API key) and see the answer. The raw document is at /openapi.json.
"""

from __future__ import annotations

import html

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>__TITLE__ - API</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.4em; } code, textarea, pre { font-family: ui-monospace, monospace; }
.op { border: 1px solid #ccc; border-radius: 6px; margin: 1em 0; padding: .6em 1em; }
.method { display: inline-block; min-width: 4.5em; font-weight: bold; }
.get { color: #0a6; } .post { color: #06c; } .delete { color: #c30; }
textarea { width: 100%; height: 9em; } pre { background: #f6f6f6; padding: .6em;
  overflow: auto; max-height: 20em; }
</style></head><body>
<h1>__TITLE__</h1>
<p>API key: <input id="key" size="50" placeholder="the key shown at export">
&nbsp; Raw document: <a id="raw" href="openapi.json">openapi.json</a></p>
<div id="ops">Loading /openapi.json ...</div>
<script>
// Where the service is mounted (a reverse proxy may serve it under a prefix).
const root = location.pathname.replace(/docs\\/?$/, "") || "/";
async function main() {
  document.getElementById("raw").href = root + "openapi.json";
  const answer = await fetch(root + "openapi.json");
  if (!answer.ok) throw new Error(answer.status + " " + (await answer.text()));
  const spec = await answer.json();
  const list = document.getElementById("ops");
  list.textContent = "";
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const box = document.createElement("div");
      box.className = "op";
      const head = document.createElement("div");
      const verb = document.createElement("span");
      verb.className = "method " + method; verb.textContent = method.toUpperCase();
      const where = document.createElement("code"); where.textContent = path;
      const what = document.createElement("span"); what.textContent = "  " + (op.summary || "");
      head.append(verb, where, what); box.append(head);
      const url = document.createElement("input"); url.size = 80;
      url.value = root + path.slice(1).replace("{workspace}", "ws")
        .replace("{service_id}", "svc")
        + (path.startsWith("/workspaces") ? "?api-version=2.0" : "");
      box.append(url);
      let body = null;
      const content = op.requestBody && op.requestBody.content["application/json"];
      if (content) {
        body = document.createElement("textarea");
        body.value = JSON.stringify(content.example || {}, null, 2);
        box.append(body);
      }
      const send = document.createElement("button"); send.textContent = "Send";
      const out = document.createElement("pre");
      send.onclick = async () => {
        const headers = {"Content-Type": "application/json"};
        const key = document.getElementById("key").value.trim();
        if (key) headers["Authorization"] = "Bearer " + key;
        const answer = await fetch(url.value, {method: method.toUpperCase(), headers,
          body: body ? body.value : undefined});
        out.textContent = answer.status + " " + answer.statusText + "\\n" + await answer.text();
      };
      box.append(document.createElement("br"), send, out);
      list.append(box);
    }
  }
}
main().catch(e => { document.getElementById("ops").textContent = "Cannot load: " + e; });
</script></body></html>
"""


def docs_html(title: str) -> str:
    """The docs page for a service called ``title``."""
    return _PAGE.replace("__TITLE__", html.escape(title))
