from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from emolens.types import EMOTIONS, LANDMARK_POINTS
from support import panel_pixels


def check_face_schema(face: dict) -> None:
    assert set(face) == {"box", "score", "emotion", "probs", "landmarks"}
    x1, y1, x2, y2 = face["box"]
    assert all(isinstance(v, int) for v in face["box"]) and x1 < x2 and y1 < y2
    assert face["score"] is None or 0.0 <= face["score"] <= 1.0
    assert list(face["probs"]) == list(EMOTIONS)
    assert all(0.0 <= p <= 1.0 for p in face["probs"].values())
    assert sum(face["probs"].values()) == pytest.approx(1.0, abs=1e-3)
    assert face["emotion"] == max(face["probs"], key=face["probs"].get)
    # The CNN's five points, in the photo's pixels, or null (the Haar cascade, --whole-image).
    points = face["landmarks"]
    assert points is None or (list(points) == list(LANDMARK_POINTS) and all(len(p) == 2 for p in points.values()))
    if points is not None:
        assert all(x1 - 1 <= x <= x2 + 1 and y1 - 1 <= y <= y2 + 1 for x, y in points.values())


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_one_object_per_input(media, emolens_cli):
    done = emolens_cli("analyze", "--json", media / "multi_face.jpg", media / "astronaut.png")
    assert done.returncode == 0, done.stderr
    objects = json_lines(done.stdout)
    assert [o["path"] for o in objects] == [str(media / "multi_face.jpg"), str(media / "astronaut.png")]
    assert [len(o["faces"]) for o in objects] == [5, 1]
    for obj in objects:
        assert set(obj) == {"path", "faces"}
        for face in obj["faces"]:
            check_face_schema(face)


def test_bad_input_gives_an_error_object_exit_1_and_the_rest_still_run(tmp_path, media, emolens_cli):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(media / "single_face.jpg", folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"not a jpeg at all")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    missing = tmp_path / "missing.png"
    done = emolens_cli("analyze", "--json", folder, missing, media / "astronaut.png")
    assert done.returncode == 1
    objects = json_lines(done.stdout)
    assert [o["path"] for o in objects] == [
        str(folder / "a.jpg"),
        str(folder / "b.jpg"),
        str(missing),
        str(media / "astronaut.png"),
    ]
    assert len(objects[0]["faces"]) == 1 and len(objects[3]["faces"]) == 1
    assert str(folder / "b.jpg") in objects[1]["error"]
    assert set(objects[2]) == {"path", "error"} and "no such file" in objects[2]["error"]


def test_text_mode_prints_a_line_per_face_and_one_stderr_line_per_error(tmp_path, media, emolens_cli):
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    done = emolens_cli("analyze", "--lang", "vi", bad, media / "multi_face.jpg")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 5 and all(line.startswith(f"{media / 'multi_face.jpg'}: face ") for line in lines)
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert errors == [f"emolens: error: {bad}: empty file"]


def test_whole_image_mode(tmp_path, emolens_cli):
    crop = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    path = tmp_path / "crop.png"
    cv2.imwrite(str(path), crop)
    done = emolens_cli("analyze", "--json", "--whole-image", path)
    assert done.returncode == 0, done.stderr
    (obj,) = json_lines(done.stdout)
    (face,) = obj["faces"]
    assert face["box"] == [0, 0, 48, 48]
    check_face_schema(face)
    plain = emolens_cli("analyze", "--json", path)  # noise: no face without --whole-image
    assert json_lines(plain.stdout)[0]["faces"] == []


def test_out_writes_annotated_copies(tmp_path, media, emolens_cli):
    out = tmp_path / "annotated"
    done = emolens_cli("analyze", "--out", out, media / "multi_face.jpg", media / "astronaut.png")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["astronaut.png", "multi_face.jpg"]
    original = cv2.imread(str(media / "astronaut.png"))
    annotated = cv2.imread(str(out / "astronaut.png"))
    assert annotated.shape == original.shape
    assert np.abs(annotated.astype(int) - original).sum() > 0  # something was drawn


def test_labels_only_leaves_the_probability_panel_off(tmp_path, media, emolens_cli):
    photo = media / "astronaut.png"  # PNG in, PNG out: the panel's pixels survive exactly
    done = emolens_cli("analyze", "--out", tmp_path / "panel", photo)
    assert done.returncode == 0, done.stderr
    done = emolens_cli("analyze", "--labels-only", "--out", tmp_path / "labels", photo)
    assert done.returncode == 0, done.stderr
    original = cv2.imread(str(photo))
    with_panel, labels_only = (cv2.imread(str(tmp_path / d / "astronaut.png")) for d in ("panel", "labels"))
    assert panel_pixels(with_panel) > panel_pixels(original) + 200
    assert panel_pixels(labels_only) == panel_pixels(original)
    drawn = np.abs(labels_only.astype(int) - original).max(axis=2) > 0
    assert 0 < drawn.sum() < (np.abs(with_panel.astype(int) - original).max(axis=2) > 0).sum()  # box and label


def test_a_bad_model_is_one_error_line_and_exit_2(tmp_path, media, emolens_cli):
    done = emolens_cli("analyze", "--model", tmp_path / "none.onnx", media / "astronaut.png")
    assert done.returncode == 2
    assert "none.onnx: no such model file" in done.stderr
    assert done.stdout == ""


def test_hints_for_a_video_and_for_a_face_crop(tmp_path, media, emolens_cli):
    crop = tmp_path / "crop.png"
    cv2.imwrite(str(crop), np.full((48, 48), 128, np.uint8))  # a flat 48x48 picture: no face to find
    done = emolens_cli("analyze", media / "single_face.mp4", crop)
    assert done.returncode == 1
    assert "use `emolens video " in done.stderr and "single_face.mp4" in done.stderr
    assert f"{crop}: no face found" in done.stdout and "use `--whole-image`" in done.stdout
    as_json = json_lines(emolens_cli("analyze", "--json", media / "single_face.mp4").stdout)
    assert "use `emolens video" in as_json[0]["error"]


def test_recursive_finds_images_in_sub_folders(tmp_path, media, emolens_cli):
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(media / "single_face.jpg", tmp_path / "top.jpg")
    shutil.copy(media / "single_face.jpg", tmp_path / "a" / "b" / "deep.jpg")
    flat = json_lines(emolens_cli("analyze", "--json", tmp_path).stdout)
    deep = json_lines(emolens_cli("analyze", "--json", "--recursive", tmp_path).stdout)
    assert [o["path"] for o in flat] == [str(tmp_path / "top.jpg")]
    assert [o["path"] for o in deep] == [str(tmp_path / "a" / "b" / "deep.jpg"), str(tmp_path / "top.jpg")]


def test_a_folder_with_images_only_in_sub_folders_suggests_recursive(tmp_path, media, emolens_cli):
    (tmp_path / "a").mkdir()
    shutil.copy(media / "single_face.jpg", tmp_path / "a" / "deep.jpg")
    done = emolens_cli("analyze", tmp_path)
    assert done.returncode == 1
    assert f"{tmp_path}: folder holds no image files" in done.stdout + done.stderr
    assert "its sub-folders do: add `--recursive`" in done.stdout + done.stderr
    empty = tmp_path / "a" / "empty"
    empty.mkdir()
    done = emolens_cli("analyze", empty)
    assert done.returncode == 1 and "--recursive" not in done.stdout + done.stderr
