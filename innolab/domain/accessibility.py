"""Feedback on barriers (the feedback mechanism of the accessibility statement) and the video
in German Sign Language (DGS).

Feedback: each report is stored (`AccessibilityFeedback`), mailed to the responsible unit
(the setting `legal.a11y_feedback_email`) and acknowledged to the sender with the period
within which the statement promises an answer. Admins see the reports and mark them answered.

The DGS video is one file (MP4 or WebM) with its transcript, stored through the upload
machinery (`uploads.save_checked`: written under a random name, in place only after the
commit); a new upload replaces the old video and its file.
"""
from __future__ import annotations

import filetype
from flask import current_app
from sqlalchemy import select

from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..links import external_url
from ..models import AccessibilityFeedback, FeedbackStatus, SignLanguageVideo
from ..models._base import utcnow
from . import DomainError, audit, legal, locking, mail_limits, mailer, uploads

STATUS_LABELS = {
    FeedbackStatus.OPEN.value: _l("offen"),
    FeedbackStatus.ANSWERED.value: _l("beantwortet"),
}


class FeedbackRefused(DomainError):
    pass


def answer_weeks(current: dict[str, str] | None = None) -> int:
    current = legal.values() if current is None else current
    try:
        return max(1, int(current.get("a11y_answer_weeks") or 6))
    except ValueError:
        return 6


def submit_feedback(*, email: str, description: str, name: str | None = None,
                    page_url: str | None = None, locale: str = "de") -> AccessibilityFeedback:
    """Store a report, mail it to the responsible unit and acknowledge it to the sender."""
    current = legal.values()
    feedback = AccessibilityFeedback(
        email=email.strip(), description=description.replace("\r\n", "\n").strip(),
        name=(name or "").strip() or None, page_url=(page_url or "").strip() or None,
        locale=locale if locale in ("de", "en") else "de",
        status=FeedbackStatus.OPEN.value)
    db.session.add(feedback)
    db.session.flush()
    audit.record(None, "accessibility.feedback", feedback)
    weeks = answer_weeks(current)
    unit = (current.get("a11y_feedback_email") or "").strip()
    if unit:
        mailer.queue(unit, "accessibility_feedback_unit",
                     _l("Rückmeldung zur Barrierefreiheit (Nr. %(id)d)", id=feedback.id),
                     locale="de", kind="accessibility", feedback=feedback, weeks=weeks,
                     link=external_url("admin.feedback"))
    # The sender's address is typed by anyone: the per-recipient limits keep the form from
    # being used to fill a stranger's mailbox.
    if mail_limits.allow(feedback.email, "accessibility_ack"):
        mailer.queue(feedback.email, "accessibility_feedback_ack",
                     _l("Ihre Rückmeldung zur Barrierefreiheit ist eingegangen"),
                     locale=feedback.locale, kind="accessibility", feedback=feedback,
                     weeks=weeks, statement=external_url("showcase.page",
                                                         slug="barrierefreiheit"))
    return feedback


def feedback_query(status: str | None = None):
    stmt = select(AccessibilityFeedback).order_by(AccessibilityFeedback.created_at.desc(),
                                                  AccessibilityFeedback.id.desc())
    if status in STATUS_LABELS:
        stmt = stmt.where(AccessibilityFeedback.status == status)
    return stmt


def open_feedback_count() -> int:
    return len(db.session.execute(
        select(AccessibilityFeedback.id).where(
            AccessibilityFeedback.status == FeedbackStatus.OPEN.value)).all())


def set_status(actor, feedback: AccessibilityFeedback, status: str) -> bool:
    """Mark a report answered or open again; returns whether it changed."""
    if status not in STATUS_LABELS:
        raise FeedbackRefused(_l("Unbekannter Status."))
    locking.lock(feedback)
    if feedback.status == status:
        return False
    feedback.status = status
    if status == FeedbackStatus.ANSWERED.value:
        feedback.answered_at, feedback.answered_by_id = utcnow(), actor.id
    else:
        feedback.answered_at, feedback.answered_by_id = None, None
    audit.record(actor, "accessibility.feedback_status", feedback, status=status)
    return True


# ---------------------------------------------------------------- the DGS video

VIDEO_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}
VIDEO_TYPES_LABEL = "MP4, WebM"
VIDEO_ACCEPT = ".mp4,.webm,video/mp4,video/webm"


class VideoRefused(uploads.UploadRefused):
    pass


def video_max_bytes() -> int:
    return int(current_app.config["SIGN_LANGUAGE_VIDEO_MAX_BYTES"])


def video_limits() -> dict:
    return {"accept": VIDEO_ACCEPT, "allowed_types": VIDEO_TYPES_LABEL,
            "max_mb": video_max_bytes() // (1024 * 1024)}


def current_video() -> SignLanguageVideo | None:
    return db.session.execute(
        select(SignLanguageVideo).order_by(SignLanguageVideo.id.desc()).limit(1)
    ).scalar_one_or_none()


def check_video(file_storage) -> uploads.Checked:
    """Read and check an uploaded video by its content: MP4 or WebM, within the size limit."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise VideoRefused(_l("Bitte wählen Sie eine Videodatei aus."))
    filename = uploads.clean_filename(file_storage.filename)
    expected = VIDEO_TYPES.get(uploads.extension(filename))
    if expected is None:
        raise VideoRefused(_l("Dieser Dateityp ist nicht erlaubt. Erlaubt sind: %(types)s.",
                              types=VIDEO_TYPES_LABEL))
    limit = video_max_bytes()
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise VideoRefused(_l("Die Datei ist größer als %(mb)d MB.", mb=limit // (1024 * 1024)))
    if not data:
        raise VideoRefused(_l("Die Datei ist leer."))
    actual = filetype.guess_mime(data)
    if actual != expected:
        raise VideoRefused(_l("Der Inhalt der Datei ist kein Video im Format %(type)s.",
                              type=filename.rpartition(".")[2].upper()))
    return uploads.Checked(data=data, filename=filename, content_type=actual)


def save_video(actor, file_storage, transcript: str) -> SignLanguageVideo:
    """Keep a new video (replacing the old one) or, without a file, only a new transcript."""
    transcript = (transcript or "").replace("\r\n", "\n").strip()
    if not transcript:
        raise VideoRefused(_l("Bitte geben Sie das Transkript des Videos an."))
    video = current_video()
    has_file = file_storage is not None and getattr(file_storage, "filename", None)
    if not has_file:
        if video is None:
            raise VideoRefused(_l("Bitte wählen Sie eine Videodatei aus."))
        locking.lock(video)
        video.transcript = transcript
        video.uploaded_by_id = actor.id
        audit.record(actor, "sign_language.transcript", video)
        return video
    checked = check_video(file_storage)
    try:
        stored_name = uploads.save_checked(checked, user=actor)
    except uploads.UploadRefused as exc:  # malware found, or the scan could not be made
        raise VideoRefused(exc.reason) from exc
    # Two uploads at once: the second waits here and then replaces the first one's video.
    for old in locking.lock_query(select(SignLanguageVideo)):
        _remove(actor, old)
    video = SignLanguageVideo(stored_name=stored_name, filename=checked.filename,
                              content_type=checked.content_type, size=len(checked.data),
                              transcript=transcript, uploaded_by_id=actor.id)
    db.session.add(video)
    db.session.flush()
    audit.record(actor, "sign_language.upload", video, filename=checked.filename,
                 size=len(checked.data))
    return video


def _remove(actor, video: SignLanguageVideo) -> None:
    audit.record(actor, "sign_language.delete", video, filename=video.filename)
    db.session.delete(video)
    db.session.flush()
    uploads.remove_file(video)


def delete_video(actor) -> bool:
    videos = locking.lock_query(select(SignLanguageVideo))
    for video in videos:
        _remove(actor, video)
    return bool(videos)

