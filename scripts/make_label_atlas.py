"""Render the emotion display names (every language in emolens.labels) into a PNG atlas + JSON index.

Build-time only: needs Pillow and the DejaVu Sans font (Debian package fonts-dejavu-core). The
package itself draws by pasting these glyph masks with OpenCV, because cv2.putText only knows ASCII
and would mangle Vietnamese diacritics ("tức giận"). Run again after changing emolens/labels.py:

    .venv/bin/python scripts/make_label_atlas.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from emolens.labels import LANGUAGES, display_names
from emolens.types import EMOTIONS

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "emolens" / "assets"
FONT_PX = 32
PAD_PX = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=Path, default=FONT)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    font = ImageFont.truetype(str(args.font), FONT_PX)
    ascent, descent = font.getmetrics()
    # Vietnamese stacks marks above capitals and ascenders ("ệ"); leave room above the nominal ascent.
    line_px = ascent + descent + 2 * PAD_PX
    entries: dict[str, list[int]] = {}
    strips: list[np.ndarray] = []
    y = 0
    for lang in LANGUAGES:
        for emotion, name in zip(EMOTIONS, display_names(lang), strict=True):
            width = int(np.ceil(font.getlength(name))) + 2 * PAD_PX
            canvas = Image.new("L", (width, line_px), 0)
            ImageDraw.Draw(canvas).text((PAD_PX, PAD_PX), name, font=font, fill=255)
            strips.append(np.asarray(canvas))
            entries[f"{lang}:{emotion}"] = [0, y, width, line_px]
            y += line_px
    atlas = np.zeros((y, max(s.shape[1] for s in strips)), np.uint8)
    for strip, (_, top, width, height) in zip(strips, entries.values(), strict=True):
        atlas[top : top + height, :width] = strip
    args.out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(atlas).save(args.out / "labels.png", optimize=True)
    index = {
        "font": args.font.name,
        "font_px": FONT_PX,
        "line_px": line_px,
        "baseline_px": PAD_PX + ascent,
        "entries": entries,
    }
    (args.out / "labels.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(
        f"wrote {args.out}/labels.png ({atlas.shape[1]}x{atlas.shape[0]}) and labels.json: {len(entries)} names\n"
    )


if __name__ == "__main__":
    main()
