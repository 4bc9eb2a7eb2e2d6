"""Forms for signing in, invitations and passwords."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..formtools import options
from ..security import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address"), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password"), Length(max=200)]
    )


def _password_field(label="Create a password"):
    return PasswordField(
        label,
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
        validators=[
            DataRequired("Enter a password"),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Password must be between {MIN_PASSWORD_LENGTH} and 200 characters",
            ),
        ],
    )


def _confirm_field():
    return PasswordField(
        "Confirm password",
        validators=[
            DataRequired("Enter the password again"),
            EqualTo("password", "The passwords do not match"),
        ],
    )


class AcceptInvitationForm(FlaskForm):
    name = StringField(
        "Your full name",
        validators=[
            DataRequired("Enter your name"),
            Length(max=120, message="Name must be 120 characters or fewer"),
        ],
    )
    password = _password_field()
    confirm = _confirm_field()


class JoinForm(FlaskForm):
    """Accept an invitation with an account that already exists."""


class ResetPasswordForm(FlaskForm):
    password = _password_field("New password")
    confirm = _confirm_field()


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password")]
    )
    password = _password_field("New password")
    confirm = _confirm_field()


class RemindersForm(FlaskForm):
    wanted = RadioField(
        "Email me reminders",
        choices=options([("yes", "Yes"), ("no", "No")]),
        description="Before a cycle you have not submitted closes, before a "
        "peer-review visit, and once a week while an action you own is overdue.",
    )


class InviteForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter an email address"),
            Email(
                "Enter an email address in the correct format, like name@example.org"
            ),
            Length(max=254),
        ],
    )
    name = StringField(
        "Full name",
        validators=[
            DataRequired("Enter their name"),
            Length(max=120, message="Name must be 120 characters or fewer"),
        ],
    )
    role = SelectField("Role", validators=[DataRequired("Choose a role")])

    def validate_role(self, field):
        if field.data not in {c.value for c in self.role.choices}:
            raise ValidationError("Choose a role")


class EmptyForm(FlaskForm):
    """A form with only a CSRF token, for POST-only buttons."""


class CodeForm(FlaskForm):
    """The second step of signing in, or the check that ends setting it up."""

    code = StringField(
        "Code from your authenticator app",
        description="The 6-digit code the app shows now.",
        validators=[
            DataRequired("Enter the code"),
            Length(max=40, message="Enter the code as the app shows it"),
        ],
        render_kw={
            "inputmode": "numeric",
            "spellcheck": "false",
            "autocapitalize": "off",
            "class": "govuk-input--width-10",
        },
    )


class RecoveryCodeForm(FlaskForm):
    """The second step of signing in with one of the ten recovery codes."""

    code = StringField(
        "Recovery code",
        description="One of the recovery codes you saved, like 2a3b-4c5d-6e7f. "
        "Each works once.",
        validators=[
            DataRequired("Enter a recovery code"),
            Length(max=40, message="Enter the recovery code as it was given"),
        ],
        render_kw={
            "spellcheck": "false",
            "autocapitalize": "off",
            "class": "govuk-input--width-20",
        },
    )
