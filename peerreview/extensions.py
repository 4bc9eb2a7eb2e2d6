"""Flask extensions, created unbound and initialised in create_app."""

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to see that page."
login_manager.session_protection = "basic"
csrf = CSRFProtect()
