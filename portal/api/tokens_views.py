"""Pages: a station's API tokens (created, shown once, revoked) and the API documentation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.api import docs_bp, tokens_bp
from portal.api import services as token_services
from portal.api.forms import TokenForm
from portal.api.models import ApiToken
from portal.core.forms import submit
from portal.core.permissions import Permission, require
from portal.core.scoping import get_scoped_or_404


@tokens_bp.route("/", methods=["GET", "POST"])
@require(Permission.MANAGE_API_TOKENS)
def index():
    if current_user.station_id is None:
        abort(404)
    form = TokenForm()
    if form.validate_on_submit():
        ok, created = submit(
            form,
            lambda: token_services.create_token(current_user._get_current_object(), form.name.data),
        )
        if ok:
            token, plain = created
            # Shown on this response only: the portal keeps the hash, never the token.
            return render_template("api/token_created.html", token=token, plain=plain)
    return render_template(
        "api/tokens.html", form=form, tokens=token_services.tokens_of(current_user.station_id)
    )


@tokens_bp.route("/<int:token_id>/revoke", methods=["POST"])
@require(Permission.MANAGE_API_TOKENS)
def revoke(token_id: int):
    token = get_scoped_or_404(ApiToken, token_id, current_user)
    ok, _result = submit(
        None, lambda: token_services.revoke_token(current_user._get_current_object(), token)
    )
    if ok:
        flash(_("Token %(name)s revoked; it no longer works.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))


@docs_bp.route("/api/v1/docs")
def docs():
    """Interactive documentation (Swagger UI served from this portal, no CDN)."""
    return render_template("api/docs.html")
