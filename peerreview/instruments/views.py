"""Pages of the instrument library: list, preview, download and upload."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from .. import catalogue
from .. import permissions as perm
from ..cycles.forms import answer_choices, shows_descriptors
from ..db import get_db
from ..loaders import load_instrument
from ..organisations import service as orgs
from ..plans.forms import EmptyForm
from ..reports.cache import report_key
from ..reports.responses import (
    PDF_STYLESHEET,
    pdf_response,
    preview_response,
    queue_render,
    report_cache,
)
from . import spreadsheet
from .forms import PLATFORM, ItemsCsvForm, UploadForm
from .loader import InstrumentInvalid
from .uploads import MAX_UPLOAD_BYTES, UploadRefused, store_upload

bp = Blueprint("instruments", __name__, url_prefix="/instruments")

# Who each instrument is for, in the words the library and the print use.
AUDIENCES = {
    "school_leadership_team": "A school's senior leadership team, rating their own school",
    "trust_board": "A trust board: the trustees, rating how they govern the trust",
    "partnership": (
        "A school's senior leadership team, rating the partnership their school "
        "works in"
    ),
}
SCALE_KINDS = {
    "agreement": "Agreement",
    "maturity": "Maturity levels (a rubric)",
    "letter": "Letter grades",
    "yes_no": "Yes / In part / No",
    "custom": "Custom scale",
}


@bp.app_template_filter("audience")
def audience_label(code: str) -> str:
    return AUDIENCES.get(code, code)


@bp.app_template_filter("scale_kind")
def scale_kind_label(code: str) -> str:
    return SCALE_KINDS.get(code, code)


def _member_ids(db) -> set[int]:
    return catalogue.member_partnership_ids(db, current_user)


@bp.route("")
@login_required
def index():
    """The library: every instrument this person may see, with its facts."""
    db = get_db()
    perm.require(perm.can_view_instrument_library(current_user))
    admin = perm.is_admin(current_user)
    entries = catalogue.entries(db, _member_ids(db), everything=admin)
    return render_template(
        "instruments/index.html",
        entries=entries,
        can_upload=perm.can_upload_instruments(current_user),
        problems=catalogue.library().problems if admin else [],
    )


@bp.route("/<instrument_id>")
@login_required
def preview(instrument_id):
    """A read-only preview that looks like the form a respondent sees."""
    found = load_instrument(get_db(), instrument_id)
    snapshot = found.instrument.snapshot()
    return render_template(
        "instruments/preview.html",
        pdf=pdf_state(found),
        entry=found,
        instrument=snapshot,
        choices=answer_choices(snapshot["scale"]),
        descriptors=shows_descriptors(snapshot["scale"], snapshot["sections"]),
        actions=_actions_by_item(snapshot),
        item_count=found.instrument.item_count,
        # Where the text was taken from is internal: platform admins only.
        provenance=perm.is_admin(current_user) and snapshot["source"].get("provenance"),
        can_upload=perm.can_upload_instruments(current_user),
    )


def _actions_by_item(snapshot: dict) -> dict[str, list[str]]:
    """Return the suggested actions' texts keyed by the items they name."""
    actions: dict[str, list[str]] = {}
    for action in snapshot["actions"]:
        for item_id in action["items"]:
            actions.setdefault(item_id, []).append(action["text"])
    return actions


def _print_data(found) -> dict:
    snapshot = found.instrument.snapshot()
    return {
        "instrument": snapshot,
        "actions": _actions_by_item(snapshot),
        "item_count": found.instrument.item_count,
        "kind": "instrument",
    }


def _print_html(found, stylesheet: str) -> str:
    return render_template(
        "instruments/print.html", stylesheet=stylesheet, **_print_data(found)
    )


def _pdf_job(found):
    """Return the render job (key, html, title, author) of an instrument's PDF."""
    html = _print_html(found, PDF_STYLESHEET)
    title = f"{found.instrument.title}, version {found.instrument.version}"
    return report_key("instrument", html), html, title, "peerreview"


@bp.route("/<instrument_id>/print")
@login_required
def printable(instrument_id):
    """The instrument as a printed document, in the browser (print it, or read it)."""
    found = load_instrument(get_db(), instrument_id)
    stylesheet = url_for("static", filename=PDF_STYLESHEET)
    return preview_response(_print_html(found, stylesheet))


@bp.route("/<instrument_id>.pdf", methods=["POST"])
@login_required
def prepare_pdf(instrument_id):
    """Queue the instrument's PDF for the render worker."""
    found = load_instrument(get_db(), instrument_id)
    if EmptyForm().validate_on_submit():
        queue_render(
            _pdf_job(found), f"instrument {found.id} {found.instrument.version}"
        )
    return redirect(url_for("instruments.preview", instrument_id=found.id) + "#pdf")


@bp.route("/<instrument_id>.pdf")
@login_required
def pdf(instrument_id):
    """The instrument's PDF once rendered; else back to the preview, which says where it is."""
    found = load_instrument(get_db(), instrument_id)
    rendered = report_cache().get(_pdf_job(found)[0])
    if rendered is None:
        return redirect(url_for("instruments.preview", instrument_id=found.id) + "#pdf")
    return pdf_response(rendered, f"{found.id}-{found.instrument.version}.pdf")


def pdf_state(found) -> dict:
    """Return where the instrument's PDF is: not prepared, queued, rendering, failed or ready."""
    return report_cache().state(_pdf_job(found)[0])


@bp.route("/<instrument_id>.yaml")
@login_required
def download(instrument_id):
    """The instrument's YAML exactly as written (an upload's stored text)."""
    db = get_db()
    found = load_instrument(db, instrument_id)
    try:
        text = catalogue.yaml_text(db, found)
    except (OSError, UnicodeDecodeError):
        abort(404)
    return _attachment(text, f"{found.id}-{found.instrument.version}.yaml")


def _attachment(text: str, name: str, mimetype: str = "text/yaml") -> Response:
    """Return text as a UTF-8 file to save, under this name."""
    return Response(
        text.encode("utf-8"),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/<instrument_id>.csv")
@login_required
def items_csv(instrument_id):
    """The instrument's items as CSV, one row per item, for drafting in a spreadsheet."""
    found = load_instrument(get_db(), instrument_id)
    return _attachment(
        # A byte-order mark, so that Excel reads the text as UTF-8.
        "\ufeff" + spreadsheet.items_csv(found.instrument),
        f"{found.id}-{found.instrument.version}-items.csv",
        "text/csv",
    )


@bp.route("/from-csv", methods=["GET", "POST"])
@login_required
def from_csv():
    """Turn a CSV of items, drafted in a spreadsheet, into an instrument's YAML file."""
    db = get_db()
    perm.require(perm.can_upload_instruments(current_user))
    admin = perm.is_admin(current_user)
    entries = {
        e.id: e for e in catalogue.entries(db, _member_ids(db), everything=admin)
    }
    form = ItemsCsvForm([(e.id, e.instrument.title) for e in entries.values()])
    if request.method == "GET":
        form.instrument.data = request.args.get("instrument")
    if form.validate_on_submit():
        made = _yaml_from_form(db, form, entries[form.instrument.data])
        if made is not None:
            return _attachment(made[0], f"{made[1].id}-{made[1].version}.yaml")
    return render_template("instruments/from_csv.html", form=form)


def _yaml_from_form(db, form: ItemsCsvForm, found: catalogue.Entry):
    """Return (YAML, instrument) made from the form's CSV, or None with its errors set."""
    try:
        return spreadsheet.yaml_from_csv(
            form.text,
            form.filename,
            catalogue.yaml_text(db, found),
            found.instrument,
            form.version.data,
        )
    except (spreadsheet.CsvInvalid, InstrumentInvalid) as invalid:
        form.file.errors = [str(problem) for problem in invalid.problems]
        return None


def _owners(db) -> list[tuple[str, str]]:
    """Return the (value, label) owners this person may upload for."""
    owners = []
    if perm.is_admin(current_user):
        owners.append((PLATFORM, "Every partnership (platform-wide)"))
    led = sorted(current_user.scopes("partnership_lead", "partnership"))
    for partnership in orgs.list_partnerships(db, led) if led else []:
        owners.append((str(partnership["id"]), f"{partnership['name']} only"))
    return owners


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload():
    """Upload a new instrument, or a new version of one (admins, partnership leads)."""
    db = get_db()
    perm.require(perm.can_upload_instruments(current_user))
    form = UploadForm(_owners(db))
    if form.validate_on_submit():
        try:
            stored = store_upload(
                db,
                catalogue.library(),
                form.text,
                form.filename,
                partnership_id=form.partnership_id(),
                actor_id=current_user.id,
            )
        except UploadRefused as refused:
            form.file.errors = list(refused.messages)
        else:
            instrument = stored.instrument
            flash(stored.summary(), "success")
            return redirect(url_for("instruments.preview", instrument_id=instrument.id))
    return render_template(
        "instruments/upload.html", form=form, limit_kb=MAX_UPLOAD_BYTES // 1024
    )
