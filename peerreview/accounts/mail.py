"""Send invitation and reset links by SMTP, only where SMTP is configured."""

import logging
import smtplib
from email.message import EmailMessage

log = logging.getLogger(__name__)


def send_link(config, to: str, subject: str, body: str) -> bool:
    """Send a message; return False (and send nothing) when SMTP is not configured."""
    if not config.get("MAIL_SERVER"):
        return False
    msg = EmailMessage()
    msg["From"] = config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as s:
            s.send_message(msg)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail to %s", to)
        return False
    return True


def send_invitation(
    config, to: str, *, inviter: str, where: str, role: str, days: int, link: str
) -> bool:
    """Send an invitation link: who invites, into what role, where, and for how long."""
    return send_link(
        config,
        to,
        f"You are invited to join {where} on peerreview",
        f"{inviter} has invited you to join {where} as {role.lower()}.\n\n"
        f"Accept within {days} days: {link}\n",
    )
