"""Sign-in, sign-out, password, language and user administration pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import or_, select

from portal.auth import bp, services, users_bp
from portal.auth.forms import LoginForm, PasswordForm, UserForm
from portal.auth.models import User, UserRole
from portal.core import security_log
from portal.core.forms import submit
from portal.core.pagination import keyset_page
from portal.core.permissions import Permission, Role, require
from portal.extensions import db, limiter


def _login_username() -> str:
    return "login:" + (request.form.get("username") or "").strip().lower()


def _login_ip() -> str:
    return "login-ip:" + (request.remote_addr or "")


def _failed(response) -> bool:
    # A failed sign-in re-renders the form (200); success redirects.
    return request.method == "POST" and response.status_code == 200


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURE_LIMIT"],
    key_func=_login_username,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_ADDRESS_LIMIT"],
    key_func=_login_ip,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            security_log.event("login.failure", user=(form.username.data or "")[:80])
            form.password.errors = [_("The username or password is not correct.")]
        else:
            session.clear()
            services.start_session(
                user, ip=request.remote_addr or "", user_agent=request.user_agent.string
            )
            login_user(user)
            session["lang"] = user.locale or session.get("lang")
            db.session.commit()
            security_log.event("login.success", user=user.username)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    username = current_user.username
    services.end_session(current_user.session_token)
    db.session.commit()
    security_log.event("logout", user=username)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@require(Permission.CHANGE_OWN_PASSWORD)
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        ok, _result = submit(
            form,
            lambda: services.change_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.new_password.data,
            ),
        )
        if ok:
            flash(_("Your password is changed."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        services.set_locale(current_user._get_current_object(), lang)
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


# --- user administration -------------------------------------------------------------------


def _station_choices():
    from portal.stations.models import Station

    rows = db.session.execute(select(Station.id, Station.code, Station.name).order_by(Station.code))
    return [("", "—")] + [(str(i), f"{c} {n}") for i, c, n in rows]


@users_bp.route("/")
@require(Permission.MANAGE_USERS)
def index():
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    status = request.args.get("status") or ""
    stmt = select(User)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(User.username.like(like), User.display_name.ilike(like)))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == Role(role))))
    if status == "active":
        stmt = stmt.where(User.active.is_(True))
    elif status == "inactive":
        stmt = stmt.where(User.active.is_(False))
    page = keyset_page(
        stmt,
        User.username,
        after=request.args.get("after") or None,
        before=request.args.get("before") or None,
        size=current_app.config["PAGE_SIZE"],
    )
    return render_template("auth/users.html", page=page, q=q, role=role, status=status, Role=Role)


def _parse_station(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@users_bp.route("/new", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def create():
    form = UserForm()
    form.station_id.choices = _station_choices()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors = [_("A password is required for a new user.")]
        else:
            ok, user = submit(
                form,
                lambda: services.create_user(
                    current_user._get_current_object(),
                    username=form.username.data,
                    password=form.password.data,
                    roles=form.roles.data,
                    display_name=form.display_name.data,
                    email=form.email.data,
                    station_id=_parse_station(form.station_id.data),
                ),
            )
            if ok:
                flash(_("User %(name)s created.", name=user.username), "success")
                return redirect(url_for("users.index"))
    return render_template("auth/user_form.html", form=form, user=None)


@users_bp.route("/<int:user_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    form.station_id.choices = _station_choices()
    form.username.render_kw = {"readonly": True}
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.role_set)
        form.station_id.data = str(user.station_id or "")
    if form.validate_on_submit():
        ok, _result = submit(
            form,
            lambda: services.update_user(
                current_user._get_current_object(),
                user,
                roles=form.roles.data,
                display_name=form.display_name.data,
                email=form.email.data,
                station_id=_parse_station(form.station_id.data),
                active=form.active.data,
                new_password=form.password.data or None,
            ),
        )
        if ok:
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("users.index"))
    return render_template("auth/user_form.html", form=form, user=user)
