"""Markup of the shared templates: _macros.html, base.html and the error pages.

Each test renders through a small Flask app built here, so the macros are
checked on their own, without the rest of peerreview.
"""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import (
    Blueprint,
    Flask,
    flash,
    render_template,
    render_template_string,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    FileField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

TEMPLATES = Path(__file__).resolve().parent.parent / "peerreview" / "templates"
AREAS = [
    SelectChoice("lead", "Leadership"),
    SelectChoice("curr", "Curriculum"),
    SelectChoice("beh", "Behaviour"),
]
IMPORT = (
    '{% from "_macros.html" import error_summary, field, button, post_button, '
    "summary_list, tag, back_link %}"
)


class EveryFieldForm(FlaskForm):
    name = StringField(
        "School name",
        validators=[DataRequired(), Length(max=80)],
        description="As it appears on the school's website",
    )
    email = EmailField("Email address", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    pupils = IntegerField(
        "Number of pupils", validators=[DataRequired(), NumberRange(0, 10000)]
    )
    ratio = DecimalField("Pupils per teacher", validators=[Optional()])
    visit = DateField("Date of visit", validators=[DataRequired()])
    website = URLField("Website", validators=[Optional()])
    notes = TextAreaField("Notes", description="Keep it short.")
    phase = SelectField(
        "Phase",
        validators=[DataRequired()],
        choices=[
            SelectChoice("primary", "Primary"),
            SelectChoice("secondary", "Secondary"),
        ],
    )
    rating = RadioField(
        "How well is this embedded?", choices=AREAS, validators=[DataRequired()]
    )
    areas = SelectMultipleField(
        "Areas to review",
        choices=AREAS,
        validators=[DataRequired()],
        description="Select all that apply.",
    )
    agree = BooleanField(
        "I confirm the information is accurate", validators=[DataRequired()]
    )
    evidence = FileField("Upload evidence")
    ref = HiddenField()
    submit = SubmitField("Save and continue")

    def validate(self, extra_validators=None):
        """Add a form-level error whenever a field fails."""
        valid = super().validate(extra_validators)
        if not valid:
            self.form_errors.append("Some answers need checking.")
        return valid


class Element:
    """One start tag: its name, attributes and the text directly inside it."""

    def __init__(self, tag, attrs):
        self.tag = tag
        self.attrs = dict(attrs)
        self.text = ""

    def classes(self):
        return set((self.attrs.get("class") or "").split())


class Page(HTMLParser):
    """Parse rendered HTML into a flat list of elements with their text."""

    VOID = {"input", "br", "meta", "link", "img", "hr"}

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self._open = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs)
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for element in self._open:
            element.text += data

    def find_all(self, tag=None, **attrs):
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag)
            and all(
                e.attrs.get(k.rstrip("_").replace("_", "-")) == v
                for k, v in attrs.items()
            )
        ]

    def by_id(self, element_id):
        found = [e for e in self.elements if e.attrs.get("id") == element_id]
        assert len(found) == 1, (
            f"expected one element with id {element_id!r}, found {len(found)}"
        )
        return found[0]

    def with_class(self, class_name):
        return [e for e in self.elements if class_name in e.classes()]


def text_of(element):
    return " ".join(element.text.split())


class User:
    is_authenticated = True
    name = "Ada Lovelace"


class AnonymousUser:
    is_authenticated = False


@pytest.fixture
def macro_app():
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(TESTING=True, SECRET_KEY="test-only-secret")
    CSRFProtect(app)
    main = Blueprint("main", __name__)
    auth = Blueprint("auth", __name__)
    main.add_url_rule("/", "home", lambda: "home")
    auth.add_url_rule("/login", "login", lambda: "login")
    auth.add_url_rule("/logout", "logout", lambda: "bye", methods=["POST"])
    app.register_blueprint(main)
    app.register_blueprint(auth)
    app.config["test_user"] = AnonymousUser()
    app.config["test_nav"] = []

    @app.context_processor
    def stand_ins():
        return {
            "current_user": app.config["test_user"],
            "nav_items": app.config["test_nav"],
        }

    return app


@pytest.fixture
def render(macro_app):
    """Render a template string, with the macros imported, in a request."""

    def render(source, method="GET", data=None, **context):
        with macro_app.test_request_context("/form", method=method, data=data):
            form = EveryFieldForm()
            if method == "POST":
                form.validate()
            html = render_template_string(IMPORT + source, form=form, **context)
            return Page(html), html

    return render


FORM_PAGE = """
{{ error_summary(form) }}
<form method="post" novalidate>
{% for f in form %}{{ field(f) }}{% endfor %}
</form>
"""

VISIBLE_FIELDS = [
    "name",
    "email",
    "password",
    "pupils",
    "ratio",
    "visit",
    "website",
    "notes",
    "phase",
    "evidence",
]


def test_every_label_is_tied_to_a_control_by_for_and_id(render):
    page, _ = render(FORM_PAGE)

    labels = page.find_all("label")
    assert labels
    for label in labels:
        control = page.by_id(label.attrs["for"])
        assert control.tag in {"input", "select", "textarea"}
    label_for = {label.attrs["for"]: text_of(label) for label in labels}
    assert label_for["name"] == "School name"
    assert label_for["agree"] == "I confirm the information is accurate"
    assert label_for["rating-1"] == "Curriculum"
    assert label_for["areas-2"] == "Behaviour"


def test_each_field_type_renders_its_govuk_component(render):
    page, _ = render(FORM_PAGE)

    assert page.by_id("name").attrs["type"] == "text"
    assert "govuk-input" in page.by_id("name").classes()
    assert page.by_id("email").attrs["type"] == "email"
    assert page.by_id("password").attrs["type"] == "password"
    pupils = page.by_id("pupils")
    assert (pupils.attrs["type"], pupils.attrs["inputmode"]) == ("text", "numeric")
    assert page.by_id("ratio").attrs["type"] == "text"
    assert page.by_id("visit").attrs["type"] == "date"
    assert page.by_id("website").attrs["type"] == "url"
    assert page.by_id("notes").tag == "textarea"
    assert "govuk-textarea" in page.by_id("notes").classes()
    assert page.by_id("phase").tag == "select"
    assert "govuk-select" in page.by_id("phase").classes()
    assert "govuk-file-upload" in page.by_id("evidence").classes()
    assert page.by_id("evidence").attrs["type"] == "file"
    assert page.by_id("agree").attrs["type"] == "checkbox"
    assert "govuk-checkboxes__input" in page.by_id("agree").classes()
    submit = page.find_all("button", name="submit")
    assert len(submit) == 1 and text_of(submit[0]) == "Save and continue"
    assert "govuk-button" in submit[0].classes()


def test_hidden_fields_render_without_label_or_group(render):
    page, html = render(FORM_PAGE)

    assert page.by_id("ref").attrs["type"] == "hidden"
    assert page.by_id("csrf_token").attrs["type"] == "hidden"
    assert not page.find_all("label", for_="ref")
    assert 'class="govuk-form-group"><input id="ref"' not in html


def test_radios_and_checkboxes_sit_in_a_fieldset_with_a_legend(render):
    page, _ = render(FORM_PAGE)

    legends = [text_of(e) for e in page.find_all("legend")]
    assert legends == ["How well is this embedded?", "Areas to review"]
    radios = page.find_all("input", type="radio")
    assert [r.attrs["id"] for r in radios] == ["rating-0", "rating-1", "rating-2"]
    assert {r.attrs["name"] for r in radios} == {"rating"}
    assert all("govuk-radios__input" in r.classes() for r in radios)
    boxes = [
        e for e in page.find_all("input", type="checkbox") if e.attrs["id"] != "agree"
    ]
    assert [b.attrs["value"] for b in boxes] == ["lead", "curr", "beh"]
    assert {b.attrs["name"] for b in boxes} == {"areas"}
    # `required` on every box would make the browser demand all of them.
    assert not any("required" in b.attrs for b in boxes)
    assert page.with_class("govuk-radios")[0].attrs["data-module"] == "govuk-radios"


def test_submitted_choices_stay_selected(render):
    data = {
        "rating": "curr",
        "areas": ["lead", "beh"],
        "agree": "y",
        "phase": "secondary",
    }
    page, _ = render(FORM_PAGE, method="POST", data=data)

    assert "checked" in page.by_id("rating-1").attrs
    assert "checked" not in page.by_id("rating-0").attrs
    assert ["checked" in page.by_id(f"areas-{i}").attrs for i in range(3)] == [
        True,
        False,
        True,
    ]
    assert "checked" in page.by_id("agree").attrs
    assert "selected" in page.find_all("option", value="secondary")[0].attrs


def test_validators_pass_required_and_maxlength_through(render):
    page, _ = render(FORM_PAGE)

    name = page.by_id("name")
    assert "required" in name.attrs
    assert name.attrs["maxlength"] == "80"
    assert "required" not in page.by_id("ratio").attrs
    assert "required" in page.by_id("rating-0").attrs


def test_numbers_and_drop_downs_carry_only_attributes_html_allows(render):
    page, _ = render(FORM_PAGE)

    # A number is typed in a text input, where min, max and step are invalid.
    pupils = page.by_id("pupils")
    assert pupils.attrs["type"] == "text" and "required" in pupils.attrs
    assert not {"min", "max", "step"} & set(pupils.attrs)
    # `required` on a drop-down needs an empty first option; this one has none.
    assert "required" not in page.by_id("phase").attrs


def test_hints_are_described_by_and_no_errors_shown_before_submission(render):
    page, _ = render(FORM_PAGE)

    assert page.by_id("name").attrs["aria-describedby"] == "name-hint"
    assert text_of(page.by_id("name-hint")) == "As it appears on the school's website"
    assert page.by_id("notes").attrs["aria-describedby"] == "notes-hint"
    assert page.by_id("areas-hint").tag == "div"
    assert page.find_all("fieldset")[1].attrs["aria-describedby"] == "areas-hint"
    assert "aria-describedby" not in page.by_id("email").attrs
    assert not page.with_class("govuk-error-summary")
    assert not page.with_class("govuk-error-message")
    assert not page.with_class("govuk-form-group--error")


def test_errors_are_shown_inline_and_described_by(render):
    page, _ = render(FORM_PAGE, method="POST", data={})

    name = page.by_id("name")
    assert name.attrs["aria-describedby"] == "name-hint name-error"
    assert "govuk-input--error" in name.classes()
    message = page.by_id("name-error")
    assert "govuk-error-message" in message.classes()
    assert text_of(message) == "Error: This field is required."
    hidden = [
        e for e in page.with_class("govuk-visually-hidden") if text_of(e) == "Error:"
    ]
    assert len(hidden) == len(page.with_class("govuk-error-message"))
    assert page.by_id("email").attrs["aria-describedby"] == "email-error"
    fieldsets = page.find_all("fieldset")
    assert fieldsets[0].attrs["aria-describedby"] == "rating-error"
    assert fieldsets[1].attrs["aria-describedby"] == "areas-hint areas-error"
    assert page.by_id("agree").attrs["aria-describedby"] == "agree-error"
    groups = page.with_class("govuk-form-group--error")
    # name, email, password, pupils, visit, phase, rating, areas, agree
    assert len(groups) == 9


def test_error_summary_links_every_error_to_its_field(render):
    page, _ = render(FORM_PAGE, method="POST", data={})

    summary = page.with_class("govuk-error-summary")
    assert len(summary) == 1
    assert summary[0].attrs["data-module"] == "govuk-error-summary"
    assert page.find_all("div", role="alert")
    links = [
        e.attrs["href"]
        for e in page.find_all("a")
        if e.attrs.get("href", "").startswith("#")
        and e.attrs["href"] != "#main-content"
    ]
    assert links == [
        "#name",
        "#email",
        "#password",
        "#pupils",
        "#visit",
        "#phase",
        "#rating-0",
        "#areas-0",
        "#agree",
    ]
    for href in links:
        page.by_id(href[1:])
    items = [text_of(e) for e in page.find_all("li")]
    assert items[0] == "Some answers need checking."
    # The CSRF token's error has no field to focus, so it is plain text.
    assert "The CSRF token is missing." in items


def test_field_arguments_change_label_hint_and_classes(render):
    page, _ = render(
        "{{ field(form.name, hint='Hint from the view', label_class='govuk-label--m',"
        " classes='govuk-input--width-20', autocomplete='organization') }}"
        "{{ field(form.email, heading=True) }}"
        "{{ field(form.rating, label_class='govuk-label--m', classes='govuk-radios--inline') }}"
    )

    assert text_of(page.by_id("name-hint")) == "Hint from the view"
    assert "govuk-label--m" in page.find_all("label", for_="name")[0].classes()
    name = page.by_id("name")
    assert {"govuk-input", "govuk-input--width-20"} <= name.classes()
    assert name.attrs["autocomplete"] == "organization"
    heading = page.find_all("h1")
    assert len(heading) == 1 and "govuk-label-wrapper" in heading[0].classes()
    assert text_of(heading[0]) == "Email address"
    assert "govuk-fieldset__legend--m" in page.find_all("legend")[0].classes()
    assert "govuk-radios--inline" in page.with_class("govuk-radios")[0].classes()


def test_buttons(render):
    page, _ = render(
        "{{ button('Save') }}{{ button('Draft', secondary=True, name='action', value='draft') }}"
        "{{ button('Delete', warning=True) }}"
    )

    buttons = page.find_all("button")
    assert [text_of(b) for b in buttons] == ["Save", "Draft", "Delete"]
    assert all(b.attrs["type"] == "submit" for b in buttons)
    assert "govuk-button--secondary" in buttons[1].classes()
    assert (buttons[1].attrs["name"], buttons[1].attrs["value"]) == ("action", "draft")
    assert "govuk-button--warning" in buttons[2].classes()
    assert "name" not in buttons[0].attrs


def test_post_button_is_a_form_with_csrf_and_hidden_fields(render):
    page, _ = render(
        "{{ post_button('/cycles/3/submit', 'Move to moderation', hidden={'step': '2'}) }}"
    )

    form = page.find_all("form")
    assert len(form) == 1
    assert (form[0].attrs["method"], form[0].attrs["action"]) == (
        "post",
        "/cycles/3/submit",
    )
    token = page.find_all("input", name="csrf_token")
    assert (
        len(token) == 1
        and token[0].attrs["type"] == "hidden"
        and token[0].attrs["value"]
    )
    assert page.find_all("input", name="step")[0].attrs["value"] == "2"
    assert text_of(page.find_all("button")[0]) == "Move to moderation"


def test_summary_list_tag_and_back_link(render):
    page, _ = render(
        "{{ summary_list([('Name', 'Hill <School>'), ('Phase', 'Primary', ('/edit', 'Change', 'phase'))]) }}"
        "{{ tag('In progress', 'yellow') }}{{ tag('Done') }}{{ back_link('/cycles') }}"
    )

    assert [text_of(e) for e in page.find_all("dt")] == ["Name", "Phase"]
    assert text_of(page.with_class("govuk-summary-list__value")[0]) == "Hill <School>"
    rows = page.with_class("govuk-summary-list__row")
    assert "govuk-summary-list__row--no-actions" in rows[0].classes()
    change = page.find_all("a", href="/edit")[0]
    assert text_of(change) == "Change phase"
    tags = page.with_class("govuk-tag")
    assert [text_of(t) for t in tags] == ["In progress", "Done"]
    assert "govuk-tag--yellow" in tags[0].classes()
    back = page.find_all("a", href="/cycles")[0]
    assert "govuk-back-link" in back.classes() and text_of(back) == "Back"


def test_values_are_escaped(render):
    _, html = render(
        "{{ field(form.name) }}",
        method="POST",
        data={"name": '"><script>alert(1)</script>'},
    )

    assert "<script>" not in html


CHILD = """{% extends "base.html" %}
{% block title %}School details{% endblock %}
{% block content %}<h1 class="govuk-heading-l">School details</h1>{% endblock %}
{% block scripts %}<script type="module" src="/static/js/extra.js"></script>{% endblock %}
"""


@pytest.fixture
def render_page(macro_app):
    def render_page(source=CHILD, user=None, nav=(), flashes=(), **context):
        macro_app.config["test_user"] = user or AnonymousUser()
        macro_app.config["test_nav"] = list(nav)
        with macro_app.test_request_context("/reviews"):
            for category, message in flashes:
                flash(message, category)
            html = render_template_string(source, **context)
            return Page(html), html

    return render_page


def test_base_page_frame(render_page):
    page, html = render_page()

    assert html.startswith("<!DOCTYPE html>")
    root = page.find_all("html")[0]
    assert (root.attrs["lang"], root.attrs["class"]) == ("en-GB", "govuk-template")
    assert text_of(page.find_all("title")[0]) == "School details – peerreview"
    assert (
        page.find_all("a", href="#main-content")[0].attrs["class"] == "govuk-skip-link"
    )
    main = page.by_id("main-content")
    assert (main.tag, main.attrs["class"]) == ("main", "govuk-main-wrapper")
    home = page.with_class("govuk-generic-header__homepage-link")[0]
    assert (home.attrs["href"], text_of(home)) == ("/", "peerreview")
    footer = page.find_all("footer")[0]
    assert "peerreview — school self-evaluation and peer review" in text_of(footer)
    stylesheets = [e.attrs["href"] for e in page.find_all("link", rel="stylesheet")]
    assert stylesheets == ["/static/css/app.css"]
    scripts = page.find_all("script")
    assert [s.attrs.get("src") for s in scripts] == [
        "/static/js/app.js",
        "/static/js/extra.js",
    ]
    assert all(s.attrs.get("type") == "module" for s in scripts)


def test_base_page_has_no_inline_script_style_or_handlers(render_page):
    page, _ = render_page(
        user=User(),
        nav=[{"label": "Reviews", "url": "/reviews", "active": True}],
        flashes=[("success", "Saved")],
    )

    assert all(text_of(s) == "" and s.attrs.get("src") for s in page.find_all("script"))
    for element in page.elements:
        assert "style" not in element.attrs, element.tag
        assert not [a for a in element.attrs if a.startswith("on")], element.tag
    assert not page.find_all("style")


def test_base_page_has_no_government_branding(render_page):
    _, html = render_page(user=User())

    assert "GOV.UK" not in html
    assert "crown" not in html.lower()
    assert "govuk-header__logotype" not in html
    assert "govuk-footer__licence" not in html


def test_error_prefix_in_title_when_the_form_has_errors(render_page, macro_app):
    with macro_app.test_request_context("/form", method="POST", data={}):
        form = EveryFieldForm()
        form.validate()
        html = render_template_string(CHILD, form=form)
    assert "<title>Error: School details – peerreview</title>" in html


def test_signed_out_header_offers_sign_in_and_no_navigation(render_page):
    page, html = render_page()

    sign_in = page.find_all("a", href="/login")
    assert len(sign_in) == 1 and text_of(sign_in[0]) == "Sign in"
    assert "Sign out" not in html
    assert not page.with_class("govuk-service-navigation")


def test_signed_in_header_shows_name_and_sign_out_form(render_page):
    page, html = render_page(user=User())

    assert "Ada Lovelace" in html
    forms = page.find_all("form", action="/logout")
    assert len(forms) == 1 and forms[0].attrs["method"] == "post"
    token = page.find_all("input", name="csrf_token")
    assert (
        len(token) == 1
        and token[0].attrs["type"] == "hidden"
        and token[0].attrs["value"]
    )
    button = page.find_all("button", type="submit")
    assert [text_of(b) for b in button] == ["Sign out"]
    assert not page.find_all("a", href="/login")


def test_service_navigation_lists_items_and_marks_the_active_one(render_page):
    nav = [
        {"label": "Home", "url": "/", "active": False},
        {"label": "Reviews", "url": "/reviews", "active": True},
    ]
    page, _ = render_page(user=User(), nav=nav)

    assert page.with_class("govuk-service-navigation")[0].attrs["data-module"] == (
        "govuk-service-navigation"
    )
    links = page.with_class("govuk-service-navigation__link")
    assert [(a.attrs["href"], text_of(a)) for a in links] == [
        ("/", "Home"),
        ("/reviews", "Reviews"),
    ]
    assert "aria-current" not in links[0].attrs
    assert links[1].attrs["aria-current"] == "page"
    items = page.with_class("govuk-service-navigation__item")
    assert "govuk-service-navigation__item--active" in items[1].classes()


def test_flashed_messages_become_notification_banners(render_page):
    page, _ = render_page(
        flashes=[("success", "Your answers were saved"), ("info", "Closes Friday")]
    )

    banners = page.with_class("govuk-notification-banner")
    assert len(banners) == 2
    assert "govuk-notification-banner--success" in banners[0].classes()
    assert banners[0].attrs["role"] == "alert"
    assert "govuk-notification-banner--success" not in banners[1].classes()
    assert banners[1].attrs["role"] == "region"
    for banner in banners:
        title = page.by_id(banner.attrs["aria-labelledby"])
        assert text_of(title) in {"Success", "Important"}
    headings = [
        text_of(e) for e in page.with_class("govuk-notification-banner__heading")
    ]
    assert headings == ["Your answers were saved", "Closes Friday"]


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("errors/400.html", "The form had expired or was not valid"),
        ("errors/403.html", "You do not have access to this page"),
        ("errors/404.html", "Page not found"),
        ("errors/429.html", "too many attempts"),
        ("errors/500.html", "Your saved answers are safe"),
    ],
)
def test_error_pages_say_what_happened(macro_app, template, words):
    macro_app.config["test_user"] = User()
    with macro_app.test_request_context("/"):
        html = render_template(template)
    page = Page(html)
    assert words in html
    assert page.find_all("h1")
    assert page.find_all("a", href="/")
    assert page.find_all("title")[0].text.endswith(" – peerreview")
