// The Camera tab's per-frame pipeline, in the page: frame -> face detector -> crop -> preprocessing -> classifier
// -> tracking -> smoothing, as emolens/runtime does it in Python. Every constant comes from the server's
// /emolens/camera-config.json (Python's defaults and the classifier's ONNX metadata): none is typed here.
//
// Images are {data: Uint8ClampedArray RGBA, width, height}, as a canvas's getImageData gives them.
// Python counterparts are named beside each part, so that a change there is easy to carry over.

let ort = null; // onnxruntime-web, imported on first use (11 MB of WASM: only when the camera starts)

/** Python's round(): halves go to the even neighbour (round(2.5) == 2), as the box and crop arithmetic expects. */
export function pyRound(x) {
  const floor = Math.floor(x);
  const frac = x - floor;
  if (frac > 0.5) return floor + 1;
  if (frac < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The server's settings (see docs/browser-camera.md). */
export async function loadConfig(url = "/emolens/camera-config.json") {
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** onnxruntime-web from this server. `threads` 0 keeps its own default (half the cores, at most 4, where the page
 * is cross-origin isolated, else 1): on 2 cores that is 1, which bench_browser_camera.py measured faster than 2. */
export async function loadRuntime(config, threads = 0) {
  if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
  if (!ort) ort = await import(config.ort.bundle_url);
  ort.env.wasm.wasmPaths = config.ort.wasm_dir_url;
  if (threads > 0) ort.env.wasm.numThreads = globalThis.crossOriginIsolated === true ? threads : 1;
  ort.env.wasm.proxy = false;
  return ort;
}

async function session(url) {
  return ort.InferenceSession.create(url, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
}

// --- images: emolens/preprocess.py ------------------------------------------------------------------------------

/** Grayscale as cv2.cvtColor(BGR2GRAY) computes it for uint8: fixed-point weights, rounded. */
export function toGray(image) {
  const { data, width, height } = image;
  const out = new Uint8Array(width * height);
  for (let i = 0, j = 0; j < out.length; i += 4, j++) {
    out[j] = (data[i] * 4899 + data[i + 1] * 9617 + data[i + 2] * 1868 + 8192) >> 14;
  }
  return out;
}

/** OpenCV's area-resize weights (computeResizeAreaTab) along one axis: parallel arrays of source index,
 * destination index and weight. */
function areaTable(srcSize, dstSize) {
  const scale = srcSize / dstSize;
  const src = [];
  const dst = [];
  const weight = [];
  const add = (s, d, w) => src.push(s) && dst.push(d) && weight.push(w);
  for (let dx = 0; dx < dstSize; dx++) {
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cellWidth = Math.min(scale, srcSize - fsx1);
    let sx1 = Math.ceil(fsx1);
    let sx2 = Math.floor(fsx2);
    sx2 = Math.min(sx2, srcSize - 1);
    sx1 = Math.min(sx1, sx2);
    if (sx1 - fsx1 > 1e-3) add(sx1 - 1, dx, (sx1 - fsx1) / cellWidth);
    for (let sx = sx1; sx < sx2; sx++) add(sx, dx, 1 / cellWidth);
    if (fsx2 - sx2 > 1e-3) add(sx2, dx, Math.min(Math.min(fsx2 - sx2, 1), cellWidth) / cellWidth);
  }
  return { src: Int32Array.from(src), dst: Int32Array.from(dst), weight: Float64Array.from(weight) };
}

/** cv2.resize(..., INTER_AREA) for shrinking, `channels` interleaved uint8 planes. */
export function resizeArea(src, width, height, channels, dstWidth, dstHeight) {
  if (width === 2 * dstWidth && height === 2 * dstHeight) return halve(src, width, channels, dstWidth, dstHeight);
  const xs = areaTable(width, dstWidth);
  const ys = areaTable(height, dstHeight);
  const stride = dstWidth * channels;
  const rows = new Float64Array(height * stride); // horizontal pass
  for (let y = 0; y < height; y++) {
    const srcRow = y * width * channels;
    const rowOut = y * stride;
    for (let k = 0; k < xs.src.length; k++) {
      const from = srcRow + xs.src[k] * channels;
      const to = rowOut + xs.dst[k] * channels;
      const w = xs.weight[k];
      for (let c = 0; c < channels; c++) rows[to + c] += src[from + c] * w;
    }
  }
  const sums = new Float64Array(dstHeight * stride); // vertical pass
  for (let k = 0; k < ys.src.length; k++) {
    const from = ys.src[k] * stride;
    const to = ys.dst[k] * stride;
    const w = ys.weight[k];
    for (let i = 0; i < stride; i++) sums[to + i] += rows[from + i] * w;
  }
  const out = new Uint8Array(sums.length);
  for (let i = 0; i < sums.length; i++) out[i] = Math.min(255, Math.max(0, pyRound(sums[i])));
  return out;
}

/** OpenCV's exact-halving path of INTER_AREA (ResizeAreaFastVec): each 2x2 block's sum, plus 2, shifted by 2. */
function halve(src, width, channels, dstWidth, dstHeight) {
  const out = new Uint8Array(dstWidth * dstHeight * channels);
  const row = width * channels;
  for (let y = 0; y < dstHeight; y++) {
    for (let x = 0; x < dstWidth; x++) {
      const top = 2 * y * row + 2 * x * channels;
      for (let c = 0; c < channels; c++) {
        const sum = src[top + c] + src[top + channels + c] + src[top + row + c] + src[top + row + channels + c];
        out[(y * dstWidth + x) * channels + c] = (sum + 2) >> 2;
      }
    }
  }
  return out;
}

/** cv2.resize(..., INTER_LINEAR) of one uint8 plane (enlarging a crop smaller than the model's input), in OpenCV's
 * fixed point: weights rounded to 1/2048 each, rows then columns, as its SIMD path rounds them. */
export function resizeLinear(src, width, height, dstWidth, dstHeight) {
  const taps = (srcSize, dstSize) => {
    const scale = srcSize / dstSize;
    const out = [];
    for (let d = 0; d < dstSize; d++) {
      let f = Math.fround((d + 0.5) * scale - 0.5);
      let s = Math.floor(f);
      f = Math.fround(f - s);
      if (s < 0) [s, f] = [0, 0];
      if (s >= srcSize - 1) [s, f] = [srcSize - 1, 0];
      out.push([s, Math.min(s + 1, srcSize - 1), pyRound(Math.fround(1 - f) * 2048), pyRound(f * 2048)]);
    }
    return out;
  };
  const xs = taps(width, dstWidth);
  const ys = taps(height, dstHeight);
  const rows = new Int32Array(height * dstWidth); // horizontal pass, scaled by 2048
  for (let y = 0; y < height; y++) {
    for (let dx = 0; dx < dstWidth; dx++) {
      const [x0, x1, w0, w1] = xs[dx];
      rows[y * dstWidth + dx] = src[y * width + x0] * w0 + src[y * width + x1] * w1;
    }
  }
  const out = new Uint8Array(dstWidth * dstHeight);
  for (let dy = 0; dy < dstHeight; dy++) {
    const [y0, y1, w0, w1] = ys[dy];
    for (let dx = 0; dx < dstWidth; dx++) {
      const top = (w0 * (rows[y0 * dstWidth + dx] >> 4)) >> 16;
      const bottom = (w1 * (rows[y1 * dstWidth + dx] >> 4)) >> 16;
      out[dy * dstWidth + dx] = Math.min(255, (top + bottom + 2) >> 2);
    }
  }
  return out;
}

/** CropMapping.square (runtime/detectors/base.py): [x1, y1, side] of the crop around a box. */
export function cropSquare(box, crop) {
  const [x1, y1, x2, y2] = box;
  const boxSide = Math.max(x2 - x1, y2 - y1);
  const side = boxSide * crop.side_scale * (1 + 2 * crop.margin);
  const cx = (x1 + x2) / 2 + crop.shift_x * boxSide;
  const cy = (y1 + y2) / 2 + crop.shift_y * boxSide;
  return [pyRound(cx - side / 2), pyRound(cy - side / 2), Math.max(1, pyRound(side))];
}

/** crop_face + preprocess_faces: the gray square around `box` (edges repeated, as BORDER_REPLICATE), resized to
 * the model's input side (area when shrinking, linear when enlarging) and standardised; written into `out`. */
export function faceInput(gray, width, height, box, config, out, offset) {
  const size = config.classifier.input_size_px;
  const [x1, y1, side] = cropSquare(box, config.crop);
  if (x1 >= width || y1 >= height || x1 + side <= 0 || y1 + side <= 0) throw new Error(`box ${box} is outside`);
  const square = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) {
    const sy = Math.min(height - 1, Math.max(0, y1 + y)) * width;
    for (let x = 0; x < side; x++) square[y * side + x] = gray[sy + Math.min(width - 1, Math.max(0, x1 + x))];
  }
  let small = square;
  if (side > size) small = resizeArea(square, side, side, 1, size, size);
  else if (side < size) small = resizeLinear(square, side, side, size, size);
  const { mean, std } = config.classifier;
  for (let i = 0; i < size * size; i++) out[offset + i] = (small[i] / 255 - mean) / std;
}

// --- the classifier: runtime/classifier.py ----------------------------------------------------------------------

export class Classifier {
  static async create(config) {
    return new Classifier(config, await session(config.classifier.url));
  }

  constructor(config, onnxSession) {
    this.config = config;
    this.session = onnxSession;
  }

  /** (N, 7) probabilities of the faces in `boxes` of `image`, one batched call. */
  async classify(image, boxes, gray = null) {
    if (boxes.length === 0) return [];
    const size = this.config.classifier.input_size_px;
    gray = gray || toGray(image);
    const input = new Float32Array(boxes.length * size * size);
    boxes.forEach((box, i) => faceInput(gray, image.width, image.height, box, this.config, input, i * size * size));
    const { input_name: inputName, output_name: outputName } = this.config.classifier;
    const feeds = { [inputName]: new ort.Tensor("float32", input, [boxes.length, 1, size, size]) };
    const probs = (await this.session.run(feeds))[outputName].data;
    const labels = this.config.labels.length;
    return boxes.map((_, i) => Array.from(probs.slice(i * labels, (i + 1) * labels)));
  }
}

// --- the face detector ------------------------------------------------------------------------------------------

/** The scale a frame is shrunk by before detection: runtime/detectors/base.py's detection_scale. */
export function detectionScale(height, width, detection) {
  const longSide = Math.max(height, width, 1);
  return Math.min(
    1,
    Math.max(detection.max_side_px / longSide, detection.smallest_face_px / detection.min_face_px),
    detection.max_detect_side_px / longSide,
  );
}

/** libfacedetection's CNN (models/libfacedetection.onnx), decoded as runtime/detectors/cnn.py's `decode` and
 * `CnnFaceDetector.detect` do: the frame shrunk (area) as detection_scale says, B, G, R planes in 0-255, priors,
 * score = sqrt(cls * obj), the best top_k, greedy NMS, keep_top_k; then boxes back in the frame's pixels, rounded,
 * clipped, faces under min_face_px dropped, left to right. Float32 where the numpy decoder is float32. */
export class Detector {
  static async create(config) {
    if (!config.detector) throw new Error("this installation has no face detector ONNX file");
    return new Detector(config, await session(config.detector.url));
  }

  constructor(config, onnxSession) {
    this.config = config;
    this.session = onnxSession;
  }

  /** Faces in `image`: [{box: [x1, y1, x2, y2], score}], boxes in the image's pixels, left to right. */
  async detect(image) {
    const { width, height, data } = image;
    if (width === 0 || height === 0) return [];
    const detection = this.config.detection;
    const scale = detectionScale(height, width, detection);
    let rgb = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) [rgb[j], rgb[j + 1], rgb[j + 2]] = [data[i], data[i + 1], data[i + 2]];
    let [w, h] = [width, height];
    if (scale < 1) {
      [w, h] = [Math.max(1, pyRound(width * scale)), Math.max(1, pyRound(height * scale))];
      rgb = resizeArea(rgb, width, height, 3, w, h);
    }
    const planes = new Float32Array(3 * w * h);
    for (let p = 0; p < w * h; p++) {
      planes[p] = rgb[3 * p + 2]; // B
      planes[w * h + p] = rgb[3 * p + 1]; // G
      planes[2 * w * h + p] = rgb[3 * p]; // R
    }
    const inputName = this.config.detector.input_name;
    const outputs = await this.session.run({ [inputName]: new ort.Tensor("float32", planes, [1, 3, h, w]) });
    const found = decodeFaces(outputs, h, w, this.config.detector.decoding, detection.min_score);
    const faces = [];
    for (const { score, box: corners } of found) {
      const [x1, y1, x2, y2] = corners.map((v) => v / scale);
      const box = [pyRound(x1), pyRound(y1), pyRound(x2), pyRound(y2)].map((v, k) => Math.min(Math.max(v, 0), k % 2 ? height : width));
      if (Math.max(x2 - x1, y2 - y1) < detection.min_face_px || box[2] - box[0] < 1 || box[3] - box[1] < 1) continue;
      faces.push({ box, score: Math.min(score, 1) });
    }
    return faces.sort((a, b) => a.box[0] - b.box[0] || a.box[1] - b.box[1]);
  }
}

const f32 = Math.fround;

/** runtime/detectors/cnn.py `decode`: the heads of one image -> [{score, box: [x1, y1, x2, y2]}], best first. */
export function decodeFaces(outputs, height, width, decoding, minScore) {
  const pad = decoding.pad_px;
  const paddedH = Math.ceil(height / pad) * pad;
  const paddedW = Math.ceil(width / pad) * pad;
  const threshold = f32(Math.max(minScore, decoding.score_threshold));
  const candidates = [];
  for (const stride of decoding.strides) {
    const columns = paddedW / stride;
    const cls = outputs[`cls_${stride}`].data;
    const obj = outputs[`obj_${stride}`].data;
    const bbox = outputs[`bbox_${stride}`].data;
    if (cls.length !== columns * (paddedH / stride)) throw new Error(`cls_${stride} has ${cls.length} cells`);
    for (let cell = 0; cell < cls.length; cell++) {
      const score = f32(Math.sqrt(f32(cls[cell] * obj[cell])));
      if (!(score >= threshold)) continue; // as numpy: a NaN score (sqrt of a sigmoid rounded below 0) is dropped
      const [px, py] = [f32((cell % columns) * stride), f32(Math.floor(cell / columns) * stride)];
      const cx = f32(f32(bbox[4 * cell] * stride) + px);
      const cy = f32(f32(bbox[4 * cell + 1] * stride) + py);
      const halfW = f32(f32(f32(Math.exp(bbox[4 * cell + 2])) * stride) / 2);
      const halfH = f32(f32(f32(Math.exp(bbox[4 * cell + 3])) * stride) / 2);
      candidates.push({ score, box: [f32(cx - halfW), f32(cy - halfH), f32(cx + halfW), f32(cy + halfH)] });
    }
  }
  const best = candidates
    .map((c, i) => [c, i])
    .sort((a, b) => b[0].score - a[0].score || a[1] - b[1]) // stable, as numpy's argsort(kind="stable")
    .slice(0, decoding.top_k)
    .map(([c]) => c);
  return suppressOverlaps(best, decoding.nms_iou).slice(0, decoding.keep_top_k);
}

/** cnn.py `suppress_overlaps`: greedy NMS over faces sorted best first (no overlap unless both sides > 0). */
function suppressOverlaps(faces, maxIou) {
  const area = (b) => f32(f32(b[2] - b[0]) * f32(b[3] - b[1]));
  let remaining = faces;
  const kept = [];
  while (remaining.length) {
    const [best, ...rest] = remaining;
    kept.push(best);
    remaining = rest.filter(({ box }) => {
      const w = f32(Math.min(best.box[2], box[2]) - Math.max(best.box[0], box[0]));
      const h = f32(Math.min(best.box[3], box[3]) - Math.max(best.box[1], box[1]));
      if (!(w > 0 && h > 0)) return true;
      const inter = f32(w * h);
      return f32(inter / f32(area(best.box) + area(box) - inter)) <= maxIou;
    });
  }
  return kept;
}

// --- tracking and smoothing: runtime/tracker.py, runtime/smoother.py ----------------------------------------------

export function iou(a, b) {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const area = (r) => Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1]);
  const inter = ix * iy;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

function relativeShift(box, last, rules) {
  const area = (r) => Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1]);
  if (area(box) <= 0 || area(last) <= 0) return null;
  const ratio = area(box) / area(last);
  if (ratio < 1 / rules.reid_max_area_ratio || ratio > rules.reid_max_area_ratio) return null;
  const shift = Math.hypot((box[0] + box[2] - last[0] - last[2]) / 2, (box[1] + box[3] - last[1] - last[3]) / 2);
  const relative = shift / Math.max(last[2] - last[0], last[3] - last[1]);
  return relative <= rules.reid_max_shift ? relative : null;
}

/** IouTracker: greedy IoU matching, confirmation after min_hits frames, re-identification after short gaps. */
export class Tracker {
  constructor(rules) {
    this.rules = rules;
    this.tracks = [];
    this.nextId = 1;
    this.droppedIds = [];
  }

  update(boxes, detected) {
    const owner = boxes.map(() => null);
    const pairs = [];
    boxes.forEach((box, b) => this.tracks.forEach((track, t) => pairs.push([iou(box, track.box), b, t])));
    pairs.sort((p, q) => q[0] - p[0]); // stable, as Python's sorted
    const taken = new Set();
    for (const [overlap, b, t] of pairs) {
      if (overlap < this.rules.iou_threshold) break;
      if (owner[b] === null && !taken.has(t)) {
        owner[b] = this.tracks[t];
        taken.add(t);
      }
    }
    const free = this.tracks.filter((t) => t.id !== null && !owner.includes(t));
    const lost = [];
    boxes.forEach((box, b) => {
      if (owner[b] !== null) return;
      free.forEach((track, t) => {
        const shift = relativeShift(box, track.box, this.rules);
        if (shift !== null) lost.push([shift, b, t]);
      });
    });
    lost.sort((p, q) => p[0] - q[0] || p[1] - q[1] || p[2] - q[2]);
    const takenLost = new Set();
    for (const [, b, t] of lost) {
      if (owner[b] === null && !takenLost.has(t)) {
        owner[b] = free[t];
        takenLost.add(t);
      }
    }
    const dropped = [];
    const kept = [];
    for (const track of this.tracks) {
      if (owner.includes(track)) {
        kept.push(track);
        continue;
      }
      track.missed += 1;
      if (track.id === null) continue;
      if (track.missed > this.rules.max_missed) dropped.push(track.id);
      else kept.push(track);
    }
    this.tracks = kept;
    this.droppedIds = dropped;
    return boxes.map((box, b) => {
      let track = owner[b];
      if (track === null) {
        track = { box, seen: 0, hits: 0, missed: 0, id: null };
        this.tracks.push(track);
      } else {
        [track.box, track.missed] = [box, 0];
      }
      track.seen += 1;
      track.hits += detected ? 1 : 0;
      const minHits = this.rules.min_hits;
      if (track.id === null && track.seen >= minHits && track.hits >= Math.min(this.rules.min_detector_hits, minHits)) {
        track.id = this.nextId++;
      }
      return track.id;
    });
  }
}

/** EmaSmoother: per-track moving average of probabilities, renormalised. */
export class Smoother {
  constructor(alpha) {
    this.alpha = alpha;
    this.state = new Map();
  }

  update(ids, probs) {
    return probs.map((row, i) => {
      const previous = this.state.get(ids[i]);
      let value = previous ? row.map((p, k) => this.alpha * p + (1 - this.alpha) * previous[k]) : row.slice();
      const total = value.reduce((a, b) => a + b, 0);
      if (total > 0) value = value.map((v) => v / total);
      this.state.set(ids[i], value);
      return value;
    });
  }

  forget(ids) {
    for (const id of ids) this.state.delete(id);
  }
}

// --- one frame's journey: runtime/pipeline.py -------------------------------------------------------------------

/** A face as the page reports it: the JSON shape of `emolens analyze --json` (plus track_id in video mode). */
function faceResult(config, box, score, probs, trackId) {
  let best = 0;
  probs.forEach((p, k) => (best = p > probs[best] ? k : best));
  const face = { box, score, emotion: config.labels[best], probs: Object.fromEntries(config.labels.map((l, k) => [l, probs[k]])) };
  if (trackId !== undefined) face.track_id = trackId;
  return face;
}

/** Recognizer.analyze: one image on its own, no tracking. */
export async function analyzeImage(detector, classifier, image) {
  const faces = await detector.detect(image);
  const probs = await classifier.classify(image, faces.map((f) => f.box));
  return faces.map((f, i) => faceResult(classifier.config, f.box, f.score, probs[i]));
}

/** FramePipeline with follow=False: the detector on every detect_every-th frame, its boxes kept in between (the
 * page has no optical flow), tracks confirmed after min_hits frames, probabilities smoothed per track.
 * `timings_ms` holds the last frame's detect and classify times. */
export class FramePipeline {
  constructor(config, detector, classifier) {
    this.config = config;
    this.detector = detector;
    this.classifier = classifier;
    this.tracker = new Tracker(config.tracking);
    this.smoother = config.smoothing.smooth ? new Smoother(config.smoothing.alpha) : null;
    this.framesSeen = 0;
    this.live = [];
    this.timings_ms = { detect: 0, classify: 0 };
  }

  async process(image) {
    const rules = this.config.tracking;
    const t0 = performance.now();
    const detected = this.framesSeen % rules.detect_every === 0;
    if (detected) this.live = await this.detector.detect(image);
    const t1 = performance.now();
    this.framesSeen += 1;
    const ids = this.tracker.update(
      this.live.map((f) => f.box),
      detected,
    );
    const shown = this.live
      .map((face, i) => [face, ids[i]])
      .filter(([f, id]) => id !== null && f.box[2] - f.box[0] >= rules.min_shown_px && f.box[3] - f.box[1] >= rules.min_shown_px);
    let probs = await this.classifier.classify(image, shown.map(([f]) => f.box));
    const shownIds = shown.map(([, id]) => id);
    if (this.smoother) {
      this.smoother.forget(this.tracker.droppedIds);
      probs = this.smoother.update(shownIds, probs);
    }
    const t2 = performance.now();
    this.timings_ms = { detect: detected ? t1 - t0 : 0, classify: t2 - t1, detected };
    return shown.map(([f, id], i) => faceResult(this.config, f.box, f.score, probs[i], id));
  }
}

/** Everything the page needs, loaded once: config, runtime, both models (detector null where none ships). */
export async function createPipeline({ threads = 0 } = {}) {
  const config = await loadConfig();
  await loadRuntime(config, threads);
  const [detector, classifier] = await Promise.all([
    config.detector ? Detector.create(config) : null,
    Classifier.create(config),
  ]);
  return { config, detector, classifier, threads: ort.env.wasm.numThreads };
}
