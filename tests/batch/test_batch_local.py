"""The local engine on real media: the Parquet files and their schema, rerun skipping, bad inputs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from batch_support import CLIP_COPIES, ENV, faces_table

from emolens.batch import FACES_SCHEMA, SOURCES_SCHEMA, BatchOptions, run_batch
from emolens.batch.parquet import BatchOutputError
from emolens.runtime.detectors import resolve_detector
from emolens.types import EMOTIONS, LANDMARK_COLUMNS, LANDMARK_POINTS, PROB_COLUMNS
from support import SHARED, run_emolens


def test_faces_and_sources_have_the_documented_schema(local_run: Path) -> None:
    assert pq.read_schema(local_run / "sources.parquet") == SOURCES_SCHEMA
    parts = sorted((local_run / "faces").glob("*.parquet"))
    assert parts
    for part in parts:
        assert pq.read_schema(part).remove_metadata() == FACES_SCHEMA


def test_one_row_per_input_routed_by_content(local_run: Path, archive: Path) -> None:
    sources = pq.read_table(local_run / "sources.parquet").to_pandas().set_index("source")
    assert len(sources) == 4 + CLIP_COPIES
    assert set(sources.status) == {"ok"}
    kinds = {Path(s).name: k for s, k in sources.kind.items()}
    assert kinds["obama.jpg"] == kinds["multi_face.jpg"] == "photo"
    assert kinds["named_like_a_photo.jpg"] == kinds["copy_1.mp4"] == "video"
    clip = sources.loc[str(archive / "clips" / "single_face.mp4")]
    assert clip.frames == 72 and clip.duration_s == pytest.approx(72 / 30)
    assert clip.tracks >= 1 and clip.faces > 0 and clip.wall_s > 0
    # per track, the seconds of each emotion add up to at most the clip's length, and in all to the face-frames
    seconds = [sum(track[f"{e}_s"] for e in EMOTIONS) for track in clip.track_emotion_s]
    assert all(0 < s <= clip.duration_s + 1e-9 for s in seconds)
    faces = faces_table(local_run)
    tracked = faces[(faces.source == clip.name) & faces.track_id.notna()]
    assert sum(seconds) == pytest.approx(len(tracked) / 30)
    photo = sources.loc[str(archive / "photos" / "nested" / "multi_face.jpg")]
    assert photo.frames == 1 and pd.isna(photo.tracks) and pd.isna(photo.duration_s)


def test_face_rows_hold_boxes_probabilities_and_names(local_run: Path, archive: Path) -> None:
    faces = faces_table(local_run)
    sources = pq.read_table(local_run / "sources.parquet").to_pandas()
    assert len(faces) == sources.faces.sum()
    assert not faces.duplicated().any()
    probs = faces[list(PROB_COLUMNS)].to_numpy()
    assert list(PROB_COLUMNS) == [f"p_{e}" for e in EMOTIONS]  # named as in the CSV
    assert abs(probs.sum(axis=1) - 1).max() < 1e-3
    assert (faces.emotion == [EMOTIONS[i] for i in probs.argmax(axis=1)]).all()
    assert ((faces.x2 > faces.x1) & (faces.y2 > faces.y1)).all()
    assert set(faces.model) == {"fast"} and set(faces.detector) == {resolve_detector("auto")}  # the one that ran
    assert json.loads((local_run / "batch.json").read_text())["options"]["detector"] == resolve_detector("auto")
    photos = faces[faces.source.str.endswith("multi_face.jpg")]
    assert len(photos) >= 2 and (photos.frame == 0).all() and photos.track_id.isna().all()
    clip = faces[faces.source == str(archive / "clips" / "single_face.mp4")]
    assert clip.track_id.notna().all() and clip.frame.is_monotonic_increasing
    assert clip.time_s.iloc[-1] == pytest.approx(clip.frame.iloc[-1] / 30, abs=0.05)


def test_face_rows_hold_the_detectors_landmarks(local_run: Path, archive: Path) -> None:
    faces = faces_table(local_run)
    landmarks = faces[list(LANDMARK_COLUMNS)]
    # A face has all ten coordinates or none (Haar, a box followed between detector runs).
    assert (landmarks.isna().all(axis=1) | landmarks.notna().all(axis=1)).all()
    marked = faces[landmarks.notna().all(axis=1)]
    if resolve_detector("auto") == "haar":
        assert marked.empty
        return
    photos = faces[faces.source.str.endswith("multi_face.jpg")]
    assert photos[list(LANDMARK_COLUMNS)].notna().all(axis=None)  # every photo face comes from the detector
    clip = faces[faces.source == str(archive / "clips" / "single_face.mp4")]
    assert 0 < clip.lm_nose_x.notna().sum() < len(clip)  # detector frames only (every 3rd by default)
    # In the original frame's pixels, inside the face's box; the image's left eye left of its right eye.
    for point in LANDMARK_POINTS:
        assert ((marked[f"lm_{point}_x"] >= marked.x1) & (marked[f"lm_{point}_x"] <= marked.x2)).all()
        assert ((marked[f"lm_{point}_y"] >= marked.y1) & (marked[f"lm_{point}_y"] <= marked.y2)).all()
    assert (marked.lm_eye_l_x < marked.lm_eye_r_x).all() and (marked.lm_eye_l_y < marked.lm_mouth_l_y).all()


def test_identical_inputs_give_identical_rows(local_run: Path) -> None:
    faces = faces_table(local_run)
    columns = [c for c in faces.columns if c != "source"]
    one = faces[faces.source.str.endswith("clips/single_face.mp4")][columns].reset_index(drop=True)
    copy = faces[faces.source.str.endswith("clips/copy_1.mp4")][columns].reset_index(drop=True)
    assert len(one) > 0 and one.equals(copy)


def test_rerun_skips_finished_inputs_and_adds_no_rows(local_run: Path, archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(local_run, out)
    before = faces_table(out)
    done = run_emolens("batch", archive, "--out", out, "--workers", "1", env=ENV)
    assert done.returncode == 0, done.stderr
    assert f"({4 + CLIP_COPIES} already done, 0 failed)" in done.stdout
    assert faces_table(out).equals(before)


def test_a_changed_file_is_redone_and_its_old_rows_go(media_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch([media_copy], out, BatchOptions(workers=1))
    first = faces_table(out)
    shutil.copy(SHARED / "media" / "multi_face.jpg", media_copy)  # same path, other content
    summary = run_batch([media_copy], out, BatchOptions(workers=1))
    assert summary.skipped == 0 and summary.rows[0].ok
    second = faces_table(out)
    assert len(second) == summary.rows[0].faces != len(first)


def test_a_folder_made_with_other_options_is_refused(media_copy: Path, tmp_path: Path) -> None:
    from emolens.api import RecognizerOptions

    out = tmp_path / "out"
    run_batch([media_copy], out, BatchOptions(workers=1))
    with pytest.raises(BatchOutputError, match="another model or options"):
        run_batch([media_copy], out, BatchOptions(RecognizerOptions(min_face_px=80), workers=1))


def test_a_folder_with_older_face_columns_is_refused(media_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch([media_copy], out, BatchOptions(workers=1))
    config = json.loads((out / "batch.json").read_text())
    assert config["face_columns"] == list(FACES_SCHEMA.names)
    # As a folder written before the p_ and lm_ columns: new parts beside its old ones would not read as one table.
    del config["face_columns"]
    (out / "batch.json").write_text(json.dumps(config))
    with pytest.raises(BatchOutputError, match="other columns"):
        run_batch([media_copy], out, BatchOptions(workers=1))


@pytest.fixture
def media_copy(tmp_path: Path) -> Path:
    source = SHARED / "media" / "single_face.jpg"
    if not source.is_file():
        pytest.skip(f"needs {source} (the shared data/media folder beside the repository)")
    return Path(shutil.copy(source, tmp_path / "photo.jpg"))


def test_bad_inputs_become_status_rows_and_the_rest_is_processed(tmp_path: Path) -> None:
    media = SHARED / "media"
    if not media.is_dir():
        pytest.skip(f"needs {media} (the shared data/media folder beside the repository)")
    bad = tmp_path / "bad"
    bad.mkdir()
    good = Path(shutil.copy(media / "single_face.jpg", bad / "good.jpg"))
    jpeg = (media / "single_face.jpg").read_bytes()
    (bad / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (bad / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    (bad / "garbage.mp4").write_bytes(os.urandom(5000))
    clip = (media / "single_face.mp4").read_bytes()
    (bad / "truncated.mp4").write_bytes(clip[: len(clip) // 2])
    (bad / "empty.jpg").write_bytes(b"")
    os.mkfifo(bad / "fifo.mp4")
    (bad / "dangling.jpg").symlink_to(bad / "gone.jpg")
    unreadable = Path(shutil.copy(good, bad / "unreadable.jpg"))
    unreadable.chmod(0)
    inputs = [good, *(bad / n for n in ("truncated.jpg", "corrupt.png", "garbage.mp4", "truncated.mp4", "empty.jpg",
                                         "fifo.mp4", "dangling.jpg", "unreadable.jpg", "missing.jpg"))]  # fmt: skip
    out = tmp_path / "out"
    done = run_emolens("batch", *inputs, str(bad / "*.webm"), "--out", out, "--workers", "2", env=ENV)
    assert done.returncode == 1, done.stderr
    status = pq.read_table(out / "sources.parquet").to_pandas().set_index("source").status
    assert status[str(good)] == "ok"
    expected = {
        "truncated.jpg": "truncated JPEG",
        "corrupt.png": "not a readable image",
        "garbage.mp4": "not a readable video",
        "truncated.mp4": "truncated",
        "empty.jpg": "empty file",
        "fifo.mp4": "not a regular file",
        "dangling.jpg": "no such file",
        "missing.jpg": "no such file",
        "*.webm": "glob matches no file",
    }
    if os.geteuid() != 0:  # root reads any file
        expected["unreadable.jpg"] = "cannot be read"
    for name, message in expected.items():
        line = status[str(bad / name)]
        assert message in line and str(bad / name) in line and "\n" not in line, (name, line)
        assert f"emolens: error: {line}" in done.stderr
    assert len(faces_table(out)[lambda f: f.source == str(good)]) >= 1


def test_a_long_video_is_written_in_bounded_part_files(archive: Path, local_run: Path, tmp_path: Path) -> None:
    clip = archive / "clips" / "single_face.mp4"
    out = tmp_path / "out"
    summary = run_batch([clip], out, BatchOptions(workers=1, rows_per_part=10))  # the command line's defaults
    faces = summary.rows[0].faces
    parts = sorted((out / "faces").glob("*.parquet"))
    assert faces > 20 and len(parts) == -(-faces // 10)
    assert all(pq.read_metadata(part).num_rows <= 10 for part in parts)
    reference = faces_table(local_run)
    expected = reference[reference.source == str(clip)].reset_index(drop=True)
    pd.testing.assert_frame_equal(faces_table(out), expected, check_dtype=False)  # photos' null ids: float there
