// The drawing pad (archdemo/ui/pad.py). Runs as gr.HTML's js_on_load: `element` is the pad's root,
// `props` its properties (props.value is the digit as the models see it), `server` the pad's Python
// functions, `trigger` fires its Gradio events, `watch` sees values set from outside (examples, uploads).
//
// While the pen moves, the drawing is reduced here to the 28x28 picture the models read (crop to the
// ink, longer side scaled to 20 px by area averaging, centre of mass put at the centre, the way
// archdemo.image_processing.mnist_style does it) and sent a few times a second, with at most one request
// in flight: a stroke that moves on while a request is out is sent when it returns. The 784 bytes go
// over one WebSocket per visitor (archdemo/ui/live.py), or as a POST to the same route where a network
// refuses WebSockets, or, for a visitor's own model, to the pad's Gradio server function (server.live).
// At pen-up the same 784 numbers become props.value (as base64), which fires `change` once for the insides.
const canvas = element.querySelector("canvas");
const ctx = canvas.getContext("2d", { willReadFrequently: true });
const readout = element.querySelector(".pad-readout");
const clearButton = element.querySelector(".pad-clear");
const PERIOD_MS = 80; // at most ~12 live updates a second while drawing
const PEN = canvas.width / 13; // stroke width: MNIST's pen is about 2 px in its 20 px box
const LIVE_PATH = "archdemo/live"; // archdemo/ui/live.py: PATH, relative to the app's root

let down = false, last = null, mid = null;
let inFlight = false, pending = false, lastSent = 0, timer = null, shown = props.value || "";
let liveSerial = 0;
// Pen-to-answer times (ms) of the last 1,000 pointer samples: each sample's wait until an answer that
// includes it is on screen. Read by bench/pad_latency.py and the browser test; reduce() is exposed too.
let moves = [];
const latencies = (element.latencies = []);
element.reduce = () => reduce();

ctx.lineCap = "round";
ctx.lineJoin = "round";
ctx.strokeStyle = "#000";
ctx.fillStyle = "#000";
ctx.lineWidth = PEN;

function at(e) {
  const r = canvas.getBoundingClientRect();
  return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
}

function dot(p) {
  ctx.beginPath();
  ctx.arc(p[0], p[1], PEN / 2, 0, 2 * Math.PI);
  ctx.fill();
}

function lineTo(p) {
  // Smooth, pen-like strokes: a quadratic curve through the midpoints of successive pointer samples.
  const m = [(last[0] + p[0]) / 2, (last[1] + p[1]) / 2];
  ctx.beginPath();
  ctx.moveTo(mid[0], mid[1]);
  ctx.quadraticCurveTo(last[0], last[1], m[0], m[1]);
  ctx.stroke();
  last = p;
  mid = m;
}

// ---------------------------------------------------------------- reduce to 28x28

function reduce() {
  const pixels = reducePixels();
  return pixels === null ? null : toBase64(pixels);
}

function toBase64(pixels) {
  let text = "";
  for (let i = 0; i < pixels.length; i++) text += String.fromCharCode(pixels[i]);
  return btoa(text);
}

function reducePixels() {
  const W = canvas.width, H = canvas.height;
  const a = ctx.getImageData(0, 0, W, H).data; // RGBA; ink is the alpha channel (strokes on transparency)
  let top = 0;
  for (let i = 3; i < a.length; i += 4) if (a[i] > top) top = a[i];
  if (top < 0.02 * 255) return null;
  const cut = Math.max(0.02 * 255, 0.1 * top);
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      if (a[(y * W + x) * 4 + 3] > cut) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  const w = x1 - x0 + 1, h = y1 - y0 + 1;
  const s = 20 / Math.max(w, h);
  const nw = Math.max(1, Math.round(w * s)), nh = Math.max(1, Math.round(h * s));
  const sx = nw / w, sy = nh / h;
  const box = new Float32Array(nw * nh);
  if (sx <= 1 && sy <= 1) {
    // Area averaging: each source pixel spreads its ink over the (at most 2x2) target pixels it covers.
    for (let y = 0; y < h; y++) {
      const ty0 = y * sy, ty1 = (y + 1) * sy, ya = Math.floor(ty0), yb = Math.min(nh - 1, Math.floor(ty1 - 1e-9));
      for (let x = 0; x < w; x++) {
        const v = a[((y + y0) * W + x + x0) * 4 + 3] / 255;
        if (!v) continue;
        const tx0 = x * sx, tx1 = (x + 1) * sx, xa = Math.floor(tx0), xb = Math.min(nw - 1, Math.floor(tx1 - 1e-9));
        for (let ty = ya; ty <= yb; ty++) {
          const fy = Math.min(ty1, ty + 1) - Math.max(ty0, ty);
          for (let tx = xa; tx <= xb; tx++) box[ty * nw + tx] += v * fy * (Math.min(tx1, tx + 1) - Math.max(tx0, tx));
        }
      }
    }
  } else {
    for (let ty = 0; ty < nh; ty++)
      for (let tx = 0; tx < nw; tx++)
        box[ty * nw + tx] = a[((y0 + Math.floor(ty / sy)) * W + x0 + Math.floor(tx / sx)) * 4 + 3] / 255;
  }
  let total = 0, cy = 0, cx = 0;
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++) {
      const v = box[y * nw + x];
      total += v;
      cy += v * y;
      cx += v * x;
    }
  if (total <= 0) return null;
  const oy = Math.min(Math.max(Math.round(14 - 0.5 - cy / total), 0), 28 - nh);
  const ox = Math.min(Math.max(Math.round(14 - 0.5 - cx / total), 0), 28 - nw);
  const out = new Uint8Array(784);
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++) out[(y + oy) * 28 + x + ox] = Math.round(Math.min(1, box[y * nw + x]) * 255);
  return out;
}

// ---------------------------------------------------------------- live answers

const escape = (t) => String(t).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function render(answer) {
  if (!readout) return;
  if (!answer || !answer.probabilities) {
    readout.innerHTML = answer && answer.error ? `<p class="pad-error">${escape(answer.error)}</p>` : readout.dataset.empty;
    return;
  }
  const rows = Object.entries(answer.probabilities).sort((p, q) => q[1] - p[1]);
  const bar = ([label, p]) =>
    `<div class="pad-row"><span class="pad-label">${escape(label)}</span>` +
    `<span class="pad-bar"><span style="width:${(100 * p).toFixed(1)}%"></span></span>` +
    `<span class="pad-pct">${(100 * p).toFixed(0)}%</span></div>`;
  readout.innerHTML = `<div class="pad-top">${escape(answer.label)}</div>` + rows.map(bar).join("");
}

function sendLive() {
  timer = null;
  if (!readout || !server.live) return;
  if (inFlight) {
    pending = true; // one request per visitor at a time: send the newest drawing when this one returns
    return;
  }
  const pixels = reducePixels();
  if (pixels === null) return render(null);
  inFlight = true;
  pending = false;
  lastSent = performance.now();
  const serial = ++liveSerial;
  const covered = moves;
  moves = [];
  element.dataset.liveSent = String(serial);
  ask(pixels)
    .then((answer) => {
      if (serial !== liveSerial) return; // cleared meanwhile
      render(answer);
      const now = performance.now();
      for (const t of covered) latencies.push(now - t);
      if (latencies.length > 1000) latencies.splice(0, latencies.length - 1000);
      element.dataset.liveDone = String(serial);
    })
    .catch(() => render({ error: "The live reading failed; lift the pen to try again." }))
    .finally(() => {
      inFlight = false;
      if (pending) schedule(0);
      else if (timer === null) element.dataset.liveIdle = String(serial); // the readout answers the last drawing
    });
}

function schedule(wait) {
  delete element.dataset.liveIdle;
  if (timer !== null) return;
  const due = wait === undefined ? Math.max(0, PERIOD_MS - (performance.now() - lastSent)) : wait;
  timer = setTimeout(sendLive, due);
}

function commit() {
  // Pen-up (or clear): the reduced digit becomes the pad's value, which fires `change` once.
  const pixels = reduce() || "";
  if (pixels !== shown) {
    shown = pixels;
    props.value = pixels;
  }
  clearTimeout(timer);
  sendLive(); // the finished drawing's answer now, not after the throttle's wait
}

// ---------------------------------------------------------------- pointer, mouse, touch, pen

canvas.addEventListener("pointerdown", (e) => {
  if (e.button !== 0 && e.pointerType === "mouse") return;
  e.preventDefault();
  try {
    canvas.setPointerCapture(e.pointerId); // keep the stroke when the pen leaves the canvas
  } catch (err) {
    // a pointer the browser no longer tracks: draw without capture
  }
  down = true;
  last = mid = at(e);
  dot(last);
  moves.push(performance.now());
  schedule();
});

canvas.addEventListener("pointermove", (e) => {
  if (!down) return;
  e.preventDefault();
  const samples = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (const s of samples.length ? samples : [e]) lineTo(at(s));
  moves.push(performance.now());
  schedule();
});

function penUp(e) {
  if (!down) return;
  down = false;
  if (last && mid) {
    ctx.beginPath();
    ctx.moveTo(mid[0], mid[1]);
    ctx.lineTo(last[0], last[1]);
    ctx.stroke();
  }
  last = mid = null;
  commit();
}
canvas.addEventListener("pointerup", penUp);
canvas.addEventListener("pointercancel", penUp);
canvas.addEventListener("lostpointercapture", penUp);

function clear() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  liveSerial++;
  moves = [];
  render(null);
  commit();
}
if (clearButton) clearButton.addEventListener("click", clear);

// ---------------------------------------------------------------- values set from outside

function show(value) {
  // A digit given as the pad's value (an example, an upload): drawn large, as the models see it.
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!value) return render(null);
  let bytes;
  try {
    bytes = atob(value);
  } catch (err) {
    return;
  }
  if (bytes.length !== 784) return;
  const small = document.createElement("canvas");
  small.width = small.height = 28;
  const sctx = small.getContext("2d");
  const img = sctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) img.data[i * 4 + 3] = bytes.charCodeAt(i);
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  schedule(0);
}

watch("value", () => {
  if ((props.value || "") !== shown) {
    shown = props.value || "";
    show(shown);
  }
});
watch("model", () => schedule(0)); // the visitor loaded their own model (or went back): read again
if (shown) show(shown);
element.dataset.ready = "1";
