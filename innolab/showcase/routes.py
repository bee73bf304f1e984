"""The public showcase: home, challenges, pilots, organisation profiles, footer pages.

What is public is decided in innolab.domain.showcase only; these views never query models.
"""
from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..domain import accessibility, audit, criteria, legal, permissions, storage
from ..domain import pages as page_texts
from ..domain import showcase
from ..domain.topics import all_topics
from ..i18n import LOCALES
from ..extensions import csrf, db, limiter
from ..web.pagecache import cacheable
from ..web import page_number, redirect_to, render, safe_next, send_from_storage
from ..web.forms import text_of
from . import bp
from .forms import (
    ChallengeFilterForm, FeedbackForm, OrganisationFilterForm, PilotFilterForm, ResultsFilterForm,
)
from flask_babel import get_locale
from ..domain.results import recommendation_label

LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def _locale() -> str:
    return str(get_locale() or "de")



@bp.get("/")
@cacheable
def home():
    return render("showcase/home.html", challenges=showcase.newest_open_challenges(3),
                  pilots=showcase.newest_pilots(3))


@bp.post("/language")
@csrf.exempt
def set_language():
    # A visitor's choice is a cookie of their own browser and nothing else, so a visitor's
    # form carries no CSRF token: a token would need a session, and a session cookie on the
    # first visit would keep every public page out of shared caches. Nothing is stored for
    # a visitor; whoever forged the post could only switch the victim's page language. A
    # signed-in person's choice is also stored on the account (and audited), so their form
    # carries the token and it is checked here (docs/security.md).
    if current_user.is_authenticated and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    lang = request.form.get("lang")
    response = make_response(redirect(safe_next(request.form.get("next"), "/"), code=303))
    if lang in LOCALES:
        response.set_cookie("lang", lang, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax",
                            httponly=True)
        if current_user.is_authenticated and current_user.locale != lang:
            audit.record(current_user, "user.set_locale", current_user,
                         old=current_user.locale, new=lang)
            current_user.locale = lang
            db.session.commit()
    return response


@bp.get("/challenges")
@cacheable
def challenges():
    form = ChallengeFilterForm(request.args)
    form.set_choices(all_topics(), showcase.challenge_authorities(), _locale())
    f = showcase.ChallengeFilter(**form.cleaned())
    page = showcase.search_challenges(f, page=page_number())
    return render("showcase/challenges.html", block="results", form=form,
                  page=page, args=form.args(), filtered=bool(form.args()))


@bp.get("/challenges/<int:challenge_id>")
@cacheable
def challenge(challenge_id: int):
    c = showcase.public_challenge(challenge_id)
    if c is None:
        abort(404)
    return render("showcase/challenge.html", challenge=c, is_open=c.is_open(),
                  pilots=showcase.pilots_for_challenge(c), criteria=criteria.of_challenge(c))


@bp.get("/pilots")
@cacheable
def pilots():
    form = PilotFilterForm(request.args)
    form.set_choices(all_topics(), showcase.pilot_authorities(), _locale())
    f = showcase.PilotFilter(**form.cleaned())
    page = showcase.search_pilots(f, page=page_number())
    return render("showcase/pilots.html", block="results", form=form,
                  page=page, args=form.args(), filtered=bool(form.args()))


@bp.get("/pilots/<int:proposal_id>")
@cacheable
def pilot(proposal_id: int):
    p = showcase.public_pilot(proposal_id)
    if p is None:
        abort(404)
    return render("showcase/pilot.html", pilot=p, results=showcase.public_results(proposal_id),
                  recommendation_label=_recommendation_label)


def _recommendation_label(value):
    return recommendation_label(value)


@bp.get("/results")
@cacheable
def results():
    """Every published results report of a public pilot, with search and filters."""
    form = ResultsFilterForm(request.args)
    form.set_choices(all_topics(), showcase.pilot_authorities(), _locale())
    f = showcase.ResultsFilter(**form.filters())
    page = showcase.search_results(f, page=page_number())
    return render("showcase/results.html", block="results", form=form,
                  page=page, args=form.args(), filtered=bool(form.args()),
                  recommendation_label=_recommendation_label)


@bp.get("/organisations")
@cacheable
def organisations():
    """The directory of the partner organisations with public pilots."""
    form = OrganisationFilterForm(request.args)
    f = form.cleaned()
    page = showcase.search_organisations(f["q"], f["kind"], page=page_number())
    pilots = showcase.pilots_by_organisation([o.id for o in page.items])
    return render("showcase/organisations.html", block="results", form=form, page=page,
                  pilots=pilots, args=form.args(), filtered=bool(form.args()))


@bp.get("/behoerden")
@cacheable
def authorities():
    return render("showcase/authorities.html", authorities=showcase.public_authorities())


@bp.get("/behoerden/<authority_slug>")
@cacheable
def authority(authority_slug: str):
    found = showcase.public_authority(authority_slug)
    if found is None:
        abort(404)
    return render("showcase/authority.html", page=found,
                  recommendation_label=_recommendation_label)


@bp.get("/organisations/<slug>")
@cacheable
def organisation(slug: str):
    found = showcase.public_organisation(slug)
    if found is None:
        abort(404)
    org, pilots = found
    return render("showcase/organisation.html", org=org, pilots=pilots)


# Per client address; the acknowledgement to the sender also counts per recipient
# (domain/mail_limits.py).
FEEDBACK_LIMIT = "5/minute;30/hour"


def _is_admin() -> bool:
    return bool(current_user.is_authenticated and permissions.administer(current_user))


@bp.get("/pages/<slug>")
@cacheable
def page(slug: str):
    p = page_texts.get_page(slug, _locale())
    if p is None:
        abort(404)
    fields = legal.values() if slug in legal.GROUPS else {}
    # The warning about empty mandatory fields is for admins only, never for visitors.
    missing = legal.missing(slug, fields) if fields and _is_admin() else []
    return render("showcase/page.html", page=p, fields=fields, missing=missing, legal=legal,
                  answer_weeks=accessibility.answer_weeks(fields) if fields else None)


@bp.route("/barrierefreiheit/rueckmeldung", methods=["GET", "POST"])
@limiter.limit(FEEDBACK_LIMIT, methods=["POST"])
def accessibility_feedback():
    """The feedback mechanism of the accessibility statement: report a barrier."""
    form = FeedbackForm()
    if request.method == "GET" and not form.page_url.data:
        form.page_url.data = request.args.get("page", "")[:500]
    if form.validate_on_submit():
        accessibility.submit_feedback(
            name=form.name.data, email=text_of(form.email), page_url=form.page_url.data,
            description=text_of(form.description), locale=_locale())
        db.session.commit()
        flash(_("Vielen Dank für Ihre Rückmeldung. Wir haben sie erhalten und schicken Ihnen "
                "eine Bestätigung an %(email)s. Wir antworten Ihnen innerhalb von %(weeks)d "
                "Wochen.", email=form.email.data, weeks=accessibility.answer_weeks()),
              "success")
        return redirect_to(url_for("showcase.page", slug="barrierefreiheit"))
    return render("legal/feedback.html", status=422 if form.errors else 200, form=form,
                  weeks=accessibility.answer_weeks())


@bp.get("/leichte-sprache")
@cacheable
def easy_read():
    return render("legal/easy_read.html", fields=legal.values())


@bp.get("/gebaerdensprache")
@cacheable
def sign_language():
    return render("legal/sign_language.html", fields=legal.values(),
                  video=accessibility.current_video())


@bp.get("/gebaerdensprache/video")
def sign_language_video():
    video = accessibility.current_video()
    if video is None:
        abort(404)
    try:
        response = send_from_storage(storage.current(), video.stored_name,
                                     mimetype=video.content_type, conditional=True, etag=True)
    except FileNotFoundError:
        abort(404)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
