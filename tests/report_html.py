#!/usr/bin/env python3
"""Opens an HTML report in headless Chromium through the DevTools protocol and prints what a reader would see, as
JSON: console errors and uncaught exceptions, the page's size, whether the key elements are visible (laid out
with a non-empty box inside the page), the numbers of the model card and the layer table, the layer table sorted
by a click on its MACs header, and a full-page screenshot written to SCREENSHOT.

    python3 tests/report_html.py CHROMIUM PAGE.html SCREENSHOT.png     (needs websocket-client)
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

chromium, page, screenshot = sys.argv[1:4]
profile = tempfile.mkdtemp(prefix="ompqc-chromium-")
browser = subprocess.Popen(
    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--remote-debugging-port=0",
     f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    port_file = os.path.join(profile, "DevToolsActivePort")
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.1)
    port = open(port_file).read().split()[0]
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
    ws = websocket.create_connection(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"],
                                     timeout=60)
    ids = iter(range(1, 1_000_000))
    events = []

    def call(method, **params):
        i = next(ids)
        ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            message = json.loads(ws.recv())
            if message.get("id") == i:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            events.append(message)

    for domain in ["Page", "Runtime", "Log"]:
        call(f"{domain}.enable")
    call("Page.navigate", url="file://" + os.path.abspath(page))
    while not any(e.get("method") == "Page.loadEventFired" for e in events):
        events.append(json.loads(ws.recv()))

    def evaluate(expression):
        result = call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    seen = evaluate("""(() => {
      const visible = id => { const e = document.getElementById(id); if (!e) return false;
        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
      const text = id => { const e = document.getElementById(id); return e ? e.textContent : null; };
      const rows = () => Array.from(document.querySelectorAll('#layer-table tbody tr'))
        .map(r => Array.from(r.cells).map(c => c.textContent));
      const ids = ['card', 'layer-table', 'orm', 'allocation', 'memory-chart', 'size-table', 'size-chart',
                   'profile-chart', 'candidates'];
      // Pairs of (unrotated) axis labels whose boxes intersect.
      const overlaps = selector => { const boxes = Array.from(document.querySelectorAll(selector))
          .map(e => e.getBoundingClientRect()).filter(r => r.width > 0);
        let n = 0; for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i], b = boxes[j];
          const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (w > 1 && h > 1) n++; } return n; };
      const before = rows();
      const macs = Array.from(document.querySelectorAll('#layer-table th')).findIndex(h => h.textContent === 'MACs');
      document.querySelectorAll('#layer-table th')[macs].click();
      const sorted = rows();
      return { width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight,
        visible: Object.fromEntries(ids.map(id => [id, visible(id)])),
        numbers: { weight_bytes: text('weight-bytes'), arena_bytes: text('arena-bytes'), macs: text('macs'),
                   model_hash: text('model-hash') },
        layers: before, sorted_by_macs: sorted, macs_column: macs,
        label_overlaps: overlaps('#orm svg text[text-anchor="end"]') + overlaps('#allocation svg text[text-anchor="end"]'),
        svgs: document.querySelectorAll('svg').length,
        titles: document.querySelectorAll('svg title').length };
    })()""")
    shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": 1280, "height": min(seen["height"], 12000), "scale": 1})
    with open(screenshot, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    errors = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(params["entry"].get("text", ""))
    seen["console_errors"] = errors
    print(json.dumps(seen))
    ws.close()
finally:
    browser.kill()
    browser.wait()
