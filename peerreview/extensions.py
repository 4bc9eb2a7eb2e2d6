"""Flask extensions, created unbound and initialised in create_app."""

from flask import current_app, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect


class HeaderFirstCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF protection, reading a JSON request's token from its header.

    The autosave sends JSON with the token in X-CSRFToken. Flask-WTF looks
    for a form field first, and to do so runs the form parser over a body
    that is not a form, on every save. A JSON request now goes straight to
    the headers; the token is validated exactly as before, and a JSON
    request without the header is refused as before.
    """

    def _get_csrf_token(self):
        if request.is_json:
            for header_name in current_app.config["WTF_CSRF_HEADERS"]:
                token = request.headers.get(header_name)
                if token:
                    return token
            return None
        return super()._get_csrf_token()


login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to see that page."
login_manager.session_protection = "basic"
csrf = HeaderFirstCSRFProtect()
