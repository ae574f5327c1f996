"""Vendor onnxruntime-web (npm, MIT) into src/emolens/web/static/vendor/ for the Camera tab's in-page pipeline.

Run it once when changing the pinned version; its output is committed and ships in the package, so neither
`pip install` nor `emolens serve` ever downloads anything. It fetches the npm registry's tarball of one pinned
version, checks it against the registry's sha512 integrity string, and extracts only:

- dist/ort.wasm.min.mjs: the WASM-only build of the JS API (48 KB);
- dist/ort-wasm-simd-threaded.mjs and .wasm: the one WASM flavour the page uses, its Emscripten glue and binary
  (SIMD; threads when the page is cross-origin isolated, one thread otherwise);
- the MIT license the package declares, written beside them (the npm package carries no LICENSE file; its
  text is onnxruntime's, Copyright (c) Microsoft Corporation, as the bundle's own banner says).

1.22.0 rather than the newest: its WASM file is 11.2 MB against 14.8 MB for 1.31.1, and it runs every operator of
emolens's models (the int8 QDQ classifier included).

Usage: python scripts/fetch_onnxruntime_web.py [--check]   (--check: verify the vendored files, fetch nothing)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "1.22.0"
TARBALL_URL = f"https://registry.npmjs.org/onnxruntime-web/-/onnxruntime-web-{VERSION}.tgz"
#: `npm view onnxruntime-web@1.22.0 dist.integrity`
INTEGRITY = "sha512-Ud/+EBo6mhuaQWt/OjaOk0iNWjXqJoeeMFr6xQEERZdIZH2OWpGzuujz7lfuOBjUa6TEE/sc4nb7Da5dNL34fg=="
FILES = ("dist/ort.wasm.min.mjs", "dist/ort-wasm-simd-threaded.mjs", "dist/ort-wasm-simd-threaded.wasm")
VENDOR = Path(__file__).resolve().parents[1] / "src" / "emolens" / "web" / "static" / "vendor"
LICENSE_NAME = "LICENSE-onnxruntime-web.txt"
VERSION_NAME = "VERSION-onnxruntime-web.txt"

LICENSE_TEXT = f"""onnxruntime-web {VERSION} (https://www.npmjs.com/package/onnxruntime-web), files
{", ".join(Path(f).name for f in FILES)}, from {TARBALL_URL}
(package.json "license": "MIT"; source: https://github.com/microsoft/onnxruntime)

MIT License

Copyright (c) Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def fetch_tarball() -> bytes:
    """The pinned tarball's bytes, refused unless they match INTEGRITY."""
    with urllib.request.urlopen(TARBALL_URL, timeout=120) as response:
        data: bytes = response.read()
    algorithm, expected = INTEGRITY.split("-", 1)
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{TARBALL_URL}: {algorithm} {digest} differs from the pinned {expected}")
    return data


def extract(data: bytes, out_dir: Path) -> list[Path]:
    """FILES from the tarball into `out_dir` (flat), plus the license and version notes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for name in FILES:
            member = archive.getmember(f"package/{name}")
            source = archive.extractfile(member)
            if source is None:
                raise SystemExit(f"{name} is not a regular file in the tarball")
            target = out_dir / Path(name).name
            target.write_bytes(source.read())
            written.append(target)
    (out_dir / LICENSE_NAME).write_text(LICENSE_TEXT, encoding="utf-8")
    (out_dir / VERSION_NAME).write_text(VERSION + "\n", encoding="utf-8")
    return [*written, out_dir / LICENSE_NAME, out_dir / VERSION_NAME]


def check(out_dir: Path) -> list[str]:
    """What is missing or of another version in `out_dir`; empty when the vendored files are in place."""
    problems = [f"{out_dir / Path(n).name} is missing" for n in FILES if not (out_dir / Path(n).name).is_file()]
    version_file = out_dir / VERSION_NAME
    found = version_file.read_text(encoding="utf-8").strip() if version_file.is_file() else "none"
    if found != VERSION:
        problems.append(f"{version_file} says {found}, the script pins {VERSION}")
    bundle = out_dir / Path(FILES[0]).name
    if bundle.is_file() and f"ONNX Runtime Web v{VERSION}" not in bundle.read_text(encoding="utf-8")[:200]:
        problems.append(f"{bundle} is not onnxruntime-web {VERSION}")
    return problems


def main() -> int:
    """Fetch and extract, or with --check only verify."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the vendored files; fetch nothing")
    parser.add_argument("--out", type=Path, default=VENDOR, help=f"target folder (default {VENDOR})")
    args = parser.parse_args()
    if args.check:
        problems = check(args.out)
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    for path in extract(fetch_tarball(), args.out):
        print(f"{path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
