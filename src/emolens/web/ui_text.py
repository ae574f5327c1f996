"""Every word the web page shows, in each language of `emolens.labels.LANGUAGES`.

Emotion names come from `emolens.labels`; this module holds the rest: headers, buttons, summaries.
"""

from __future__ import annotations

from emolens.labels import LANGUAGES

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "intro": "Finds the faces in a photo, a video or your webcam and names the emotion on each: angry, "
        "disgust, fear, happy, sad, surprise or neutral.\n\nEverything runs on this computer: "
        "no picture, video or result leaves it.",
        "detector": "Face detector: {name}",
        "language": "Language",
        "tab_camera": "Camera",
        "tab_photo": "Photo",
        "tab_video": "Video",
        "webcam": "Webcam",
        "emotions": "Emotions",
        "readout": "Faces and server time",
        "round_trip": "Frame round trip",
        "photo": "Photo",
        "labels_only": "Labels only (no probability panels on the picture)",
        "table": "Probabilities per face",
        "chart": "Probabilities, one chart per face",
        "json": "Result as JSON",
        "examples": "Examples: click one to try it",
        "clip": "Video clip",
        "annotated": "Annotated video",
        "run": "Analyse",
        "stop": "Stop",
        "tracks": "Share of each emotion per tracked face",
        "timeline": "Emotion over time, one chart per tracked face",
        "downloads": "CSV and JSONL",
        "col_face": "face",
        "col_emotion": "emotion",
        "col_confidence": "confidence",
        "col_box": "box x1,y1,x2,y2",
        "col_track": "face",
        "col_frames": "frames",
        "no_face": "No face found.",
        "faces": "{n} face(s)",
        "face": "face {n}",
        "server": "server {ms} ms",
        "fps": "{fps} frames/s",
        "nobody": "no face",
        "video_summary": "{frames} frames, {faces} face detections, {tracks} tracked face(s), "
        "analysed in {seconds} s ({fps} frames/s)",
        "no_video": "Upload a video clip first.",
        "stopped": "Stopped.",
        "no_frames": "{name}: no frames could be decoded",
        "video_in_photo_tab": "⚠ {name} is a video: use the {tab} tab.",
        "photo_in_video_tab": "⚠ {name} is a photo: use the {tab} tab.",
        "not_a_photo": "⚠ {name} is not a picture this tab reads (JPEG, PNG, WebP, BMP, TIFF, GIF or PNM).",
        "not_a_video": "⚠ {name} is not a video clip this tab reads (MP4, MOV, WebM, MKV, AVI, Ogg or MPEG).",
    },
    "vi": {
        "intro": "Tìm các khuôn mặt trong ảnh, video hoặc webcam và gọi tên cảm xúc của từng khuôn mặt: tức "
        "giận, ghê tởm, sợ hãi, vui vẻ, buồn, ngạc nhiên hoặc bình thường.\n\nMọi thứ chạy trên máy tính "
        "này: không ảnh, video hay kết quả nào rời khỏi máy.",
        "detector": "Bộ phát hiện khuôn mặt: {name}",
        "language": "Ngôn ngữ",
        "tab_camera": "Camera",
        "tab_photo": "Ảnh",
        "tab_video": "Video",
        "webcam": "Webcam",
        "emotions": "Cảm xúc",
        "readout": "Khuôn mặt và thời gian máy chủ",
        "round_trip": "Thời gian khứ hồi của khung hình",
        "photo": "Ảnh",
        "labels_only": "Chỉ nhãn (không vẽ bảng xác suất lên ảnh)",
        "table": "Xác suất của từng khuôn mặt",
        "chart": "Xác suất, mỗi khuôn mặt một biểu đồ",
        "json": "Kết quả dạng JSON",
        "examples": "Ví dụ: bấm vào để thử",
        "clip": "Đoạn video",
        "annotated": "Video đã chú thích",
        "run": "Phân tích",
        "stop": "Dừng",
        "tracks": "Tỉ lệ mỗi cảm xúc của từng khuôn mặt được theo dõi",
        "timeline": "Cảm xúc theo thời gian, mỗi khuôn mặt một biểu đồ",
        "downloads": "CSV và JSONL",
        "col_face": "khuôn mặt",
        "col_emotion": "cảm xúc",
        "col_confidence": "độ tin cậy",
        "col_box": "khung x1,y1,x2,y2",
        "col_track": "khuôn mặt",
        "col_frames": "khung hình",
        "no_face": "Không tìm thấy khuôn mặt nào.",
        "faces": "{n} khuôn mặt",
        "face": "khuôn mặt {n}",
        "server": "máy chủ {ms} ms",
        "fps": "{fps} khung hình/giây",
        "nobody": "không có khuôn mặt",
        "video_summary": "{frames} khung hình, {faces} lần phát hiện khuôn mặt, {tracks} khuôn mặt được theo "
        "dõi, phân tích trong {seconds} giây ({fps} khung hình/giây)",
        "no_video": "Hãy tải lên một đoạn video trước.",
        "stopped": "Đã dừng.",
        "no_frames": "{name}: không giải mã được khung hình nào",
        "video_in_photo_tab": "⚠ {name} là video: hãy dùng thẻ {tab}.",
        "photo_in_video_tab": "⚠ {name} là ảnh: hãy dùng thẻ {tab}.",
        "not_a_photo": "⚠ {name} không phải ảnh mà thẻ này đọc được (JPEG, PNG, WebP, BMP, TIFF, GIF hoặc PNM).",
        "not_a_video": "⚠ {name} không phải đoạn video mà thẻ này đọc được (MP4, MOV, WebM, MKV, AVI, Ogg hoặc MPEG).",
    },
    "id": {
        "intro": "Menemukan wajah dalam foto, video, atau webcam Anda dan menamai emosi setiap wajah: marah, "
        "jijik, takut, senang, sedih, terkejut, atau netral.\n\nSemuanya berjalan di komputer ini: tidak ada "
        "foto, video, atau hasil yang keluar darinya.",
        "detector": "Pendeteksi wajah: {name}",
        "language": "Bahasa",
        "tab_camera": "Kamera",
        "tab_photo": "Foto",
        "tab_video": "Video",
        "webcam": "Webcam",
        "emotions": "Emosi",
        "readout": "Wajah dan waktu server",
        "round_trip": "Waktu pulang-pergi bingkai",
        "photo": "Foto",
        "labels_only": "Label saja (tanpa panel probabilitas di gambar)",
        "table": "Probabilitas per wajah",
        "chart": "Probabilitas, satu grafik per wajah",
        "json": "Hasil sebagai JSON",
        "examples": "Contoh: klik untuk mencoba",
        "clip": "Klip video",
        "annotated": "Video beranotasi",
        "run": "Analisis",
        "stop": "Berhenti",
        "tracks": "Porsi setiap emosi per wajah yang dilacak",
        "timeline": "Emosi dari waktu ke waktu, satu grafik per wajah",
        "downloads": "CSV dan JSONL",
        "col_face": "wajah",
        "col_emotion": "emosi",
        "col_confidence": "keyakinan",
        "col_box": "kotak x1,y1,x2,y2",
        "col_track": "wajah",
        "col_frames": "bingkai",
        "no_face": "Tidak ada wajah ditemukan.",
        "faces": "{n} wajah",
        "face": "wajah {n}",
        "server": "server {ms} ms",
        "fps": "{fps} bingkai/dtk",
        "nobody": "tidak ada wajah",
        "video_summary": "{frames} bingkai, {faces} deteksi wajah, {tracks} wajah dilacak, dianalisis dalam "
        "{seconds} dtk ({fps} bingkai/dtk)",
        "no_video": "Unggah klip video terlebih dahulu.",
        "stopped": "Dihentikan.",
        "no_frames": "{name}: tidak ada bingkai yang dapat didekode",
        "video_in_photo_tab": "⚠ {name} adalah video: gunakan tab {tab}.",
        "photo_in_video_tab": "⚠ {name} adalah foto: gunakan tab {tab}.",
        "not_a_photo": "⚠ {name} bukan gambar yang dapat dibaca tab ini (JPEG, PNG, WebP, BMP, TIFF, GIF, atau PNM).",
        "not_a_video": "⚠ {name} bukan klip video yang dapat dibaca tab ini (MP4, MOV, WebM, MKV, AVI, Ogg, atau "
        "MPEG).",
    },
}


def text(key: str, lang: str, **values: object) -> str:
    """The page's text `key` in `lang`, with `values` filled in.

    Args:
        key: one of `keys()`.
        lang: one of LANGUAGES.
        **values: the template's fields ({name}, {n}, ...), filled with str.format.

    Returns:
        The text, as Markdown where the page shows Markdown.

    Raises:
        ValueError: If the language is unknown.
        KeyError: If the key is unknown, or a field of its template is not given.
    """
    if lang not in _TEXT:
        raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGUAGES)}")
    template = _TEXT[lang][key]
    return template.format(**values) if values else template


def keys() -> frozenset[str]:
    """Every text key; each language has them all (tests/web/test_web_units.py checks).

    Returns:
        The keys of the English texts.
    """
    return frozenset(_TEXT["en"])


def languages() -> tuple[str, ...]:
    """The language codes the page has texts for (the web counterpart of labels.LANGUAGES).

    Returns:
        The codes, English first.
    """
    return tuple(_TEXT)
