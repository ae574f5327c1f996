// The Camera tab's in-page camera: starts the camera, runs camera_pipeline.mjs on each new frame, draws with
// camera_draw.mjs, and keeps the page's own counter (window.emolensCamera.stats()). No frame leaves the page.
// Where WebAssembly, the camera or the models are unavailable, one line says why and points at the server camera
// below it. `?threads=N` sets onnxruntime-web's WASM threads (benchmarks/bench_browser_camera.py).

import { analyzeImage, createPipeline, FramePipeline } from "./camera_pipeline.mjs";
import { drawFrame } from "./camera_draw.mjs";

const WINDOW_FRAMES = 60; // the counter's figures are over the last this many frames
const ids = { start: "emolens-local-start", status: "emolens-local-status", canvas: "emolens-local-canvas" };
const FALLBACK = "the camera below sends frames to the server instead.";

let loaded = null; // the promise of {config, detector, classifier, threads}
let running = null; // {stream, video, pipeline} while the camera runs
const samples = []; // per frame: {t, grab, detect, classify, draw, detected}

function el(id) {
  return document.getElementById(id);
}

function say(text) {
  const status = el(ids.status);
  if (status) status.textContent = text;
}

function lang() {
  return document.querySelector("#lang input:checked")?.value || "en";
}

function load() {
  const threads = Number(new URLSearchParams(location.search).get("threads") || 0);
  loaded = loaded || createPipeline({ threads });
  return loaded;
}

/** Why the page cannot compute here, or null. */
function unavailable() {
  if (typeof WebAssembly !== "object") return "this browser cannot run WebAssembly";
  if (!navigator.mediaDevices?.getUserMedia) return "this page has no camera access (it needs https or localhost)";
  return null;
}

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null;
};
const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

/** The page's counter: frames per second and ms per frame by stage over the last WINDOW_FRAMES frames. */
function stats() {
  const last = samples.slice(-WINDOW_FRAMES);
  const span_s = last.length > 1 ? (last[last.length - 1].t - last[0].t) / 1000 : 0;
  const detections = last.filter((s) => s.detected);
  return {
    running: running !== null,
    on_device: running !== null,
    frames: samples.length,
    fps: span_s > 0 ? (last.length - 1) / span_s : null,
    grab_ms: mean(last.map((s) => s.grab)),
    detect_ms: mean(last.map((s) => s.detect)), // per frame: the detector runs on every detect_every-th frame
    detect_run_ms: median(detections.map((s) => s.detect)), // per detector run
    classify_ms: mean(last.map((s) => s.classify)),
    draw_ms: mean(last.map((s) => s.draw)),
    faces: last.length ? last[last.length - 1].faces : 0,
    threads: running?.threads ?? null,
    isolated: globalThis.crossOriginIsolated === true,
    width: running?.video.videoWidth ?? null,
    height: running?.video.videoHeight ?? null,
  };
}

function nextFrame(video) {
  if (video.requestVideoFrameCallback) return new Promise((resolve) => video.requestVideoFrameCallback(resolve));
  return new Promise((resolve) => requestAnimationFrame(resolve));
}

async function start() {
  const reason = unavailable();
  if (reason) return say(`⚠ ${reason}: ${FALLBACK}`);
  say("Loading the models into this page…");
  let models;
  let stream;
  try {
    models = await load();
    if (!models.detector) throw new Error("this installation has no face detector ONNX file");
  } catch (err) {
    return say(`⚠ the models could not run in this page (${String(err.message || err).split("\n")[0]}): ${FALLBACK}`);
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } } });
  } catch (err) {
    return say(`⚠ no camera (${err.name || err}): ${FALLBACK}`);
  }
  const video = document.createElement("video");
  Object.assign(video, { srcObject: stream, muted: true, playsInline: true });
  await video.play();
  const grab = document.createElement("canvas");
  const canvas = el(ids.canvas);
  [grab.width, grab.height] = [canvas.width, canvas.height] = [video.videoWidth, video.videoHeight];
  const pipeline = new FramePipeline(models.config, models.detector, models.classifier);
  running = { stream, video, pipeline, threads: models.threads };
  samples.length = 0;
  el(ids.start).textContent = "Stop the camera";
  say(`Computed on this device: no frame leaves this page (onnxruntime-web, ${models.threads} thread(s)).`);
  try {
    await loop(video, grab, canvas, pipeline, models);
  } catch (err) {
    stop();
    say(`⚠ the page stopped computing (${String(err.message || err).split("\n")[0]}): ${FALLBACK}`);
  }
}

async function loop(video, grab, canvas, pipeline, models) {
  const grabContext = grab.getContext("2d", { willReadFrequently: true });
  // Ask for the next frame before computing this one: a frame the camera presents while the models run is then
  // taken at once, instead of waiting for the one after it (a detector frame that ran past the camera's interval
  // used to cost a whole frame of idling).
  let next = nextFrame(video);
  while (running && running.pipeline === pipeline) {
    await next;
    next = nextFrame(video);
    const t0 = performance.now();
    grabContext.drawImage(video, 0, 0, grab.width, grab.height);
    const image = grabContext.getImageData(0, 0, grab.width, grab.height);
    const t1 = performance.now();
    const faces = await pipeline.process(image);
    const t2 = performance.now();
    const fps = stats().fps;
    drawFrame(canvas, grab, faces, models.config, lang(), fps);
    const t3 = performance.now();
    const { detect, classify, detected } = pipeline.timings_ms;
    samples.push({ t: t3, grab: t1 - t0, detect, classify, draw: t3 - t2, detected, faces: faces.length });
    if (samples.length > 10 * WINDOW_FRAMES) samples.splice(0, samples.length - WINDOW_FRAMES);
    if (samples.length % 15 === 0) showReadout(faces, models.config);
  }
}

function showReadout(faces, config) {
  const s = stats();
  const names = config.display_names[lang()] || config.display_names.en;
  const who = faces.map((f) => `${f.track_id}: ${names[config.labels.indexOf(f.emotion)]}`).join(", ") || "no face";
  const ms = (v) => (v === null ? "-" : v.toFixed(1));
  say(
    `Computed on this device · ${who} · ${s.fps?.toFixed(1) ?? "-"} frames/s · ms per frame: detect ${ms(s.detect_ms)}, ` +
      `classify ${ms(s.classify_ms)}, draw ${ms(s.draw_ms)}`,
  );
}

function stop() {
  if (!running) return;
  running.stream.getTracks().forEach((track) => track.stop());
  running = null;
  el(ids.start).textContent = "Start the camera on this device";
  say("Stopped.");
}

/** A still image through the page's pipeline (tests): `bytes` base64; `boxes` given: classify those boxes only. */
async function analyzeStill(base64, boxes = null) {
  const { detector, classifier } = await load();
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes]), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  const image = context.getImageData(0, 0, bitmap.width, bitmap.height);
  if (!boxes) return analyzeImage(detector, classifier, image);
  const probs = await classifier.classify(image, boxes);
  return boxes.map((box, i) => ({ box, probs: probs[i] }));
}

document.addEventListener("click", (event) => {
  if (!event.target.closest?.(`#${ids.start}`)) return;
  if (running) stop();
  else start();
});

window.emolensCamera = { start, stop, stats, analyzeStill, load };
