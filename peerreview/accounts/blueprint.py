"""The accounts blueprint ("auth"): the sign-in, two-step sign-in and
provider sign-in view modules all add their routes to it, and the app
factory registers it once."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
