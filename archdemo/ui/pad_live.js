// The drawing pad's live route (archdemo/ui/live.py), appended to pad.js by pad.py: ask(pixels) sends the
// reduced drawing (784 bytes) and resolves to the answer. One WebSocket per visitor, opened at the first
// update and again after it closes; where it never opens (a proxy that refuses WebSockets), a POST of the
// same bytes; where that route is missing too, and always for a visitor's own model (the pad's `model`
// property), the pad's Gradio server function.

// How the last live answer came: "socket", "post" or "server" (the pad's data-live-transport).
let transport = typeof WebSocket === "function" ? "socket" : "post";

function liveUrl(socket) {
  // The app's root as Gradio resolves it (a Space or a proxy may serve the app below a path).
  const root = (window.gradio_config && window.gradio_config.root) || ".";
  const base = new URL(new URL(root, location.href).pathname.replace(/\/?$/, "/"), location.href);
  const url = new URL(LIVE_PATH, base);
  if (socket) url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

let socket = null, opening = null;
const waiting = []; // the answers due on the socket, oldest first (the server answers in order)

function openSocket() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    const ws = new WebSocket(liveUrl(true));
    ws.onopen = () => {
      socket = ws;
      resolve(ws);
    };
    ws.onmessage = (e) => {
      const due = waiting.shift();
      if (!due) return;
      try {
        due.resolve(JSON.parse(e.data));
      } catch (err) {
        due.reject(err);
      }
    };
    ws.onclose = () => {
      if (socket !== ws) transport = "post"; // never opened: this network refuses WebSockets
      socket = opening = null; // one that was open is opened again for the next update
      reject(new Error("live socket closed"));
      while (waiting.length) waiting.shift().reject(new Error("live socket closed"));
    };
  });
  return opening;
}

function viaSocket(pixels) {
  return openSocket().then((ws) => new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    ws.send(pixels);
  }));
}

function viaPost(pixels) {
  return fetch(liveUrl(false), { method: "POST", body: pixels, headers: { "Content-Type": "application/octet-stream" } })
    .then((r) => {
      if (!r.ok) throw new Error(`live POST: HTTP ${r.status}`);
      return r.json();
    });
}

function ask(pixels, tries = 3) {
  // archdemo's CNN on the socket (or the POST); a visitor's own model through the Gradio server function.
  const how = props.model ? "server" : transport;
  const sent =
    how === "socket"
      ? viaSocket(pixels)
      : how === "post"
        ? viaPost(pixels)
        : server.live({ pixels: toBase64(pixels), model: props.model || null });
  return sent.then(
    (answer) => {
      element.dataset.liveTransport = how;
      return answer;
    },
    (err) => {
      if (how === "server" || tries <= 1) throw err;
      if (how === "post") transport = "server"; // no route of ours here: Gradio's own is always there
      return ask(pixels, tries - 1);
    },
  );
}
