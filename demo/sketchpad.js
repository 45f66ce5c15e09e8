// The studio's drawing canvas: the body of gr.HTML's js_on_load (given element, props, trigger, watch).
// A plain 2-D canvas at the model's resolution, so a stroke costs no WebGL and reading it back is one
// toDataURL. After every stroke the canvas is snapped to the model's colours (paper + ink, or the label
// palette: no antialiased in-between shades that the model never saw), stored in props.value as a PNG
// data URL (what the page's buttons send) and posted to the stroke route props.translate_url
// (demo/strokes.py); its picture is shown in the picture view props.picture_id. Values set by the server
// (an example, a photo, a fill) are drawn onto the canvas and can be undone like a stroke. props.tool says
// what the model takes: "pencil" (lines), "brushes" (label classes: brush, box, bucket fill; number keys
// pick a class) or "photo" (no drawing tools: a photo is uploaded or picked, then translated).
const size = props.size;
const hexToRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const inks = props.colors.map(hexToRgb);
const paper = hexToRgb(props.background);
const palette = [paper, ...inks];
const HISTORY = 50;
const LIVE_INTERVAL_MS = 100; // while the pen moves, the drawing is sent at most this often (the latest one waits)

const canvas = element.querySelector("canvas.sketch");
canvas.width = canvas.height = size;
const context = canvas.getContext("2d", { willReadFrequently: true });
const undoStack = [];
const redoStack = [];
let color = props.colors[0];
let erasing = false;
let shape = "brush"; // brush | box | fill
let last = null;
let boxStart = null;
let sent = null;
let lastLive = 0;

// The toolbar, built here (not in the template) so that class names reach the page as text, never as HTML.
const toolbar = element.querySelector(".sketch-tools");
const shapes = props.tool === "brushes"
  ? [["brush", "Brush"], ["box", "Box"], ["fill", "Fill"]].map(([name, label]) => {
    const button = tool(label, () => pickShape(name));
    button.dataset.shape = name;
    return button;
  })
  : [];
const swatches = props.colors.map((hex, index) => {
  const button = tool(props.names[index], () => pick(hex, false));
  button.classList.add("swatch");
  button.dataset.color = hex;
  button.prepend(Object.assign(document.createElement("i"), { style: `background:${hex}` }));
  return button;
});
if (shapes.length) toolbar.append(Object.assign(document.createElement("span"), { className: "sketch-break" }));
const eraser = tool("Eraser", () => pick(null, true));
const sizeInput = Object.assign(document.createElement("input"), {
  type: "range", min: 1, max: props.widest, value: props.brush_size, title: "Brush size",
});
sizeInput.setAttribute("aria-label", "Brush size");
const sizeLabel = Object.assign(document.createElement("label"), { className: "sketch-size", textContent: "Size " });
sizeLabel.append(sizeInput);
toolbar.append(sizeLabel);
const liveLabel = Object.assign(document.createElement("label"), { className: "sketch-size", textContent: "Live " });
const liveInput = Object.assign(document.createElement("input"), { type: "checkbox", checked: Boolean(props.live) });
liveInput.title = "The picture follows the pen while it moves, not only when a stroke ends";
liveLabel.append(liveInput);
toolbar.append(liveLabel);
const undoButton = tool("Undo", undo);
const redoButton = tool("Redo", redo);
tool("Clear", () => {
  remember();
  fillPaper();
  commit();
});

function tool(label, action) {
  const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
  button.setAttribute("aria-label", label);
  button.addEventListener("click", action);
  toolbar.append(button);
  return button;
}

function fillPaper() {
  context.fillStyle = props.background;
  context.fillRect(0, 0, size, size);
}

function pick(hex, erase) {
  if (hex) color = hex;
  erasing = erase;
  swatches.forEach((button) => button.setAttribute("aria-pressed", String(!erase && button.dataset.color === color)));
  eraser.setAttribute("aria-pressed", String(erase));
  // The pencil stops at the width its model still fills outlines at; rubbing out goes wider. A narrower
  // maximum pulls the slider's value down with it.
  sizeInput.max = erase ? props.eraser_widest : props.widest;
}

function pickShape(name) {
  shape = name;
  shapes.forEach((button) => button.setAttribute("aria-pressed", String(button.dataset.shape === shape)));
}

const ink = () => (erasing ? props.background : color);

function remember() {
  undoStack.push(context.getImageData(0, 0, size, size));
  if (undoStack.length > HISTORY) undoStack.shift();
  redoStack.length = 0;
  updateHistoryButtons();
}

function updateHistoryButtons() {
  undoButton.disabled = undoStack.length === 0;
  redoButton.disabled = redoStack.length === 0;
}

// Undo and redo: the canvas moves onto one stack and the top of the other becomes the canvas.
function travel(from, to) {
  if (!from.length) return;
  to.push(context.getImageData(0, 0, size, size));
  context.putImageData(from.pop(), 0, 0);
  updateHistoryButtons();
  commit();
}
function undo() { travel(undoStack, redoStack); }
function redo() { travel(redoStack, undoStack); }

// Every pixel to the nearest of the model's colours (RGB distance, pix2pix/canvas.py's rule too): what is sent
// is exactly what is shown. Each distinct colour is looked up once: a drawing holds a handful of them.
const packed = palette.map(([r, g, b]) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0);

function nearestInk(value) {
  const [r, g, b] = [value & 255, (value >>> 8) & 255, (value >>> 16) & 255];
  let best = 0;
  let bestDistance = Infinity;
  palette.forEach((rgb, index) => {
    const distance = (r - rgb[0]) ** 2 + (g - rgb[1]) ** 2 + (b - rgb[2]) ** 2;
    if (distance < bestDistance) [best, bestDistance] = [index, distance];
  });
  return packed[best];
}

function snapToPalette() {
  const image = context.getImageData(0, 0, size, size);
  const pixels = new Uint32Array(image.data.buffer); // RGBA bytes, little-endian words
  const nearest = new Map();
  for (let i = 0; i < pixels.length; i++) {
    let snapped = nearest.get(pixels[i]);
    if (snapped === undefined) nearest.set(pixels[i], (snapped = nearestInk(pixels[i])));
    pixels[i] = snapped;
  }
  context.putImageData(image, 0, 0);
}

function commit() {
  if (props.tool !== "photo") snapToPalette();
  sent = canvas.toDataURL("image/png");
  props.value = sent;
  requestPicture(sent);
}

// The picture for the latest drawing: one request out at a time; a drawing made meanwhile waits, and a newer
// one replaces it (stale drawings are dropped, never queued), so the last picture is the final drawing's.
const message = element.querySelector(".sketch-message");
let asking = false;
let waiting = null;
let pictureUrl = null;

async function requestPicture(drawing) {
  if (asking) {
    waiting = drawing;
    return;
  }
  asking = true;
  try {
    const response = await fetch(new URL(props.translate_url, document.baseURI), {
      method: "POST", headers: { "Content-Type": "image/png" }, body: pngBytes(drawing),
    });
    if (response.ok) showPicture(await response.blob());
    else report((await response.json().catch(() => ({}))).error || `The studio answered ${response.status}.`);
  } catch (error) {
    report(`The studio cannot be reached (${error.message}); your drawing is kept.`);
  }
  asking = false;
  if (waiting) {
    const next = waiting;
    waiting = null;
    requestPicture(next);
  }
}

function pngBytes(dataUrl) {
  const text = atob(dataUrl.slice(dataUrl.indexOf(",") + 1));
  return Uint8Array.from(text, (character) => character.charCodeAt(0));
}

function showPicture(blob) {
  const view = document.getElementById(props.picture_id);
  const url = URL.createObjectURL(blob);
  view.querySelector("img").src = url;
  view.querySelector("a").href = url;
  if (pictureUrl) URL.revokeObjectURL(pictureUrl);
  pictureUrl = url;
  report("");
}

function report(text) {
  message.textContent = text;
  message.hidden = !text;
}

function point(event) {
  const box = canvas.getBoundingClientRect();
  return [((event.clientX - box.left) * size) / box.width, ((event.clientY - box.top) * size) / box.height];
}

function paint(from, to) {
  context.strokeStyle = context.fillStyle = ink();
  context.lineWidth = Number(sizeInput.value);
  context.lineCap = context.lineJoin = "round";
  context.beginPath();
  context.moveTo(...from);
  context.lineTo(...to);
  context.stroke();
}

// A box of the chosen class, dragged from corner to corner; redrawn over the canvas as it was before.
function drawBox(to) {
  context.putImageData(undoStack[undoStack.length - 1], 0, 0);
  const [x0, y0] = boxStart.map(Math.round);
  const [x1, y1] = to.map(Math.round);
  context.fillStyle = ink();
  context.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0) + 1, Math.abs(y1 - y0) + 1);
}

// Bucket fill: the 4-connected region of the clicked pixel's colour (the canvas holds only palette colours).
function floodFill([x, y]) {
  const image = context.getImageData(0, 0, size, size);
  const pixels = new Uint32Array(image.data.buffer);
  const start = Math.floor(y) * size + Math.floor(x);
  const [r, g, b] = hexToRgb(ink());
  const target = pixels[start];
  const paintWith = new Uint32Array(new Uint8ClampedArray([r, g, b, 255]).buffer)[0];
  if (target === paintWith) return false;
  const stack = [start];
  while (stack.length) {
    const index = stack.pop();
    if (pixels[index] !== target) continue;
    pixels[index] = paintWith;
    const column = index % size;
    if (column > 0) stack.push(index - 1);
    if (column < size - 1) stack.push(index + 1);
    if (index >= size) stack.push(index - size);
    if (index < size * (size - 1)) stack.push(index + size);
  }
  context.putImageData(image, 0, 0);
  return true;
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 || props.tool === "photo") return;
  if (event.isTrusted) canvas.setPointerCapture(event.pointerId); // scripted pointers (tests, automation) have none to capture
  remember();
  if (shape === "fill" && !erasing) {
    if (floodFill(point(event))) commit();
    else undoStack.pop(), updateHistoryButtons();
    return;
  }
  if (shape === "box" && !erasing) {
    boxStart = point(event);
    drawBox(boxStart);
    return;
  }
  last = point(event);
  paint(last, last);
});
// Live drawing: mid-stroke, the drawing so far goes out at most every LIVE_INTERVAL_MS (only the latest one
// waiting is sent: requestPicture), and the stroke's end always sends the final drawing.
function sendWhileDrawing() {
  if (!liveInput.checked || performance.now() - lastLive < LIVE_INTERVAL_MS) return;
  lastLive = performance.now();
  commit();
}

canvas.addEventListener("pointermove", (event) => {
  if (boxStart) {
    drawBox(point(event));
    sendWhileDrawing();
    return;
  }
  if (!last) return;
  const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const move of moves.length ? moves : [event]) {
    const next = point(move);
    paint(last, next);
    last = next;
  }
  sendWhileDrawing();
});
const finishStroke = () => {
  if (!last && !boxStart) return;
  last = boxStart = null;
  commit();
};
canvas.addEventListener("pointerup", finishStroke);
canvas.addEventListener("pointercancel", finishStroke);
element.addEventListener("keydown", (event) => {
  if (!(event.ctrlKey || event.metaKey) && /^[1-9]$/.test(event.key) && swatches[Number(event.key) - 1]) {
    swatches[Number(event.key) - 1].click(); // number keys pick the classes in the order shown
    return;
  }
  if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "z") return;
  event.preventDefault();
  event.shiftKey ? redo() : undo();
});

// A drawing from the server (example, photo, fill, initial blank): shown, undoable, not re-sent.
function show(value, undoable) {
  const picture = new Image();
  picture.onload = () => {
    if (undoable) remember();
    context.drawImage(picture, 0, 0, size, size);
  };
  picture.src = value;
  sent = value;
}
watch("value", () => {
  if (props.value && props.value !== sent) show(props.value, true);
});
fillPaper();
if (props.value) show(props.value, false);
pick(color, false);
pickShape(shape);
if (props.tool === "photo") toolbar.hidden = true;
updateHistoryButtons();
