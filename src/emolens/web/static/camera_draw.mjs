// The Camera tab's overlay, drawn on a canvas as emolens/render.py's annotate draws it on a picture: each face's
// box in its emotion's colour, a label "number | name NN%" above it, and the 7 probabilities in a panel beside it
// where one fits. Colours, names and sizes come from the server's config (render.COLORS_BGR, labels.py).

const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

/** render.label_height_px: 1/22 of the shorter side, at least 16 px. */
export function labelHeightPx(height, width) {
  return Math.max(16, Math.round(Math.min(height, width) / 22));
}

function overlaps(a, b) {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

/** Draw `frame` (a video element or canvas) and `faces` (the pipeline's results) onto `canvas`. */
export function drawFrame(canvas, frame, faces, config, lang = "en", fps = null) {
  const width = canvas.width;
  const height = canvas.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(frame, 0, 0, width, height);
  const labelPx = labelHeightPx(height, width);
  const names = config.display_names[lang] || config.display_names.en;
  const taken = faces.map((f) => f.box);
  ctx.textBaseline = "middle";
  faces.forEach((face, i) => {
    const k = config.labels.indexOf(face.emotion);
    const color = config.colors_rgb[k];
    const [x1, y1, x2, y2] = face.box;
    ctx.lineWidth = Math.max(2, Math.floor(labelPx / 8));
    ctx.strokeStyle = rgb(color);
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    ctx.font = `${Math.round(labelPx * 0.7)}px sans-serif`;
    const number = String(face.track_id ?? i + 1);
    const text = `${names[k]} ${Math.round(100 * face.probs[face.emotion])}%`;
    const tagW = ctx.measureText(number).width + labelPx / 2;
    const labelW = tagW + ctx.measureText(text).width + 8;
    const labelX = Math.min(Math.max(x1, 0), Math.max(0, width - labelW));
    const labelY = y1 - labelPx >= 0 ? y1 - labelPx : y1; // above the box, else inside its top edge
    ctx.fillStyle = "white";
    ctx.fillRect(labelX, labelY, tagW, labelPx);
    ctx.fillStyle = rgb(color);
    ctx.fillRect(labelX + tagW, labelY, labelW - tagW, labelPx);
    ctx.fillStyle = "black";
    ctx.fillText(number, labelX + labelPx / 4, labelY + labelPx / 2);
    const light = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2] > 140; // render._ink_for
    ctx.fillStyle = light ? "black" : "white";
    ctx.fillText(text, labelX + tagW + 4, labelY + labelPx / 2);
    taken.push([labelX, labelY, labelX + labelW, labelY + labelPx]);
  });
  faces.forEach((face) => drawBars(ctx, face, config, names, labelPx, taken, width, height));
  if (fps !== null) {
    ctx.font = `${Math.round(labelPx * 0.7)}px sans-serif`;
    const text = `${fps.toFixed(1)} fps`;
    ctx.fillStyle = "black";
    ctx.fillRect(4, 4, ctx.measureText(text).width + 8, labelPx);
    ctx.fillStyle = "white";
    ctx.fillText(text, 8, 4 + labelPx / 2);
  }
}

/** The 7-bar panel right of the box, else left of it; none where neither spot is free (render._draw_bars). */
function drawBars(ctx, face, config, names, labelPx, taken, width, height) {
  const rowPx = Math.max(10, Math.round(labelPx * 0.7));
  ctx.font = `${Math.round(rowPx * 0.8)}px sans-serif`;
  const nameW = Math.max(...names.map((n) => ctx.measureText(n).width));
  const barW = 4 * rowPx;
  const gap = Math.max(4, Math.floor(labelPx / 6));
  const panelW = nameW + barW + 10;
  const panelH = rowPx * names.length + 4;
  const [x1, y1, x2] = face.box;
  const spots = [
    [x2 + gap, y1],
    [x1 - gap - panelW, y1],
  ];
  const spot = spots
    .map(([x, y]) => [x, Math.min(Math.max(0, y), height - panelH)])
    .find(([x, y]) => {
      const rect = [x, y, x + panelW, y + panelH];
      return x >= 0 && x + panelW <= width && !taken.some((r) => overlaps(r, rect));
    });
  if (!spot) return;
  const [px, py] = spot;
  taken.push([px, py, px + panelW, py + panelH]);
  ctx.fillStyle = "rgba(0,0,0,0.55)";
  ctx.fillRect(px, py, panelW, panelH);
  config.labels.forEach((label, k) => {
    const y = py + 2 + k * rowPx;
    ctx.fillStyle = "white";
    ctx.fillText(names[k], px + 2, y + rowPx / 2);
    const bx = px + 6 + nameW;
    ctx.strokeStyle = "rgb(90,90,90)";
    ctx.lineWidth = 1;
    ctx.strokeRect(bx + 0.5, y + 2.5, barW - 1, rowPx - 5);
    const filled = Math.round(barW * Math.min(1, Math.max(0, face.probs[label])));
    ctx.fillStyle = rgb(config.colors_rgb[k]);
    if (filled > 0) ctx.fillRect(bx, y + 2, filled, rowPx - 4);
  });
}
