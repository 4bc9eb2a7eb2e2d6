"""The one way HTML becomes a PDF, and the fetcher that keeps it to our files.

WeasyPrint would otherwise fetch any URL a document names: user-entered
text that slipped through escaping could embed ``/etc/passwd`` or make the
renderer call a server. ``SafeFetcher`` serves files under the package's
static folder only (after resolving symbolic links and ``..``) and refuses
everything else: other ``file:`` paths, ``http:``, ``https:``, ``data:`` and
any other scheme. Nothing is fetched over the network, so no redirect can
be followed.
"""

import io
import logging
import mimetypes
import pathlib
import threading
from functools import cache
from urllib.parse import unquote, urlsplit

# WeasyPrint is imported when a report is first laid out, not with the app:
# importing it takes over a second and logs its stylesheet parsing, which
# every `flask` command would otherwise pay and print. A process that forks
# renderers (the report worker, `flask reports governors`) calls preload()
# first, so that its children start with it imported.

log = logging.getLogger(__name__)

STATIC = (pathlib.Path(__file__).resolve().parent.parent / "static").resolve()
BASE_URL = STATIC.as_uri() + "/"
# The reports' print stylesheet, relative to the static folder. The PDF's
# HTML does not link it: the renderer applies it, parsed once per process.
PRINT_STYLESHEET = "print/report.css"


class RefusedURL(ValueError):
    """A URL the report renderer will not fetch."""


def static_path(url: str) -> pathlib.Path:
    """Return the real path of a static file a URL names, or raise RefusedURL."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"refused URL {url[:200]!r}: only the package's static files")
    path = pathlib.Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        raise RefusedURL(f"refused URL {url[:200]!r}: not a static file")
    return path


@cache
def _safe_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        """A WeasyPrint URL fetcher that serves only files under peerreview/static/."""

        def __init__(self):
            super().__init__(allowed_protocols=("file",), allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            try:
                path = static_path(url)
            except RefusedURL:
                self.refused.append(url)
                log.warning("report renderer refused %s", url[:200])
                raise
            mime, _ = mimetypes.guess_type(path.name)
            return URLFetcherResponse(
                path.as_uri(),
                io.BytesIO(path.read_bytes()),
                {"Content-Type": mime or "application/octet-stream"},
            )

    return SafeFetcher


def __getattr__(name: str):
    """Give `SafeFetcher` on first use (it subclasses WeasyPrint's fetcher)."""
    if name == "SafeFetcher":
        return _safe_fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_local = threading.local()


def font_config():
    """Return this thread's font configuration, made once.

    WeasyPrint otherwise loads Fontconfig's configuration and starts an empty
    Pango font map for every document; a worker that renders many reports
    keeps the loaded fonts instead. The reports have no @font-face rules, so
    nothing a document brings stays behind in it. Pango's font map is not
    shared between threads, hence one per thread.
    """
    if getattr(_local, "font_config", None) is None:
        from weasyprint.text.fonts import FontConfiguration

        _local.font_config = FontConfiguration()
    return _local.font_config


@cache
def stylesheet(name: str):
    """Return a static stylesheet parsed, once per process.

    It is read through ``static_path`` (a name outside the static folder is
    refused) and parsed with the safe fetcher, so an ``@import`` or ``url()``
    in it reaches nothing but the package's own files. WeasyPrint's parsed
    stylesheet holds no state of the documents it is applied to.
    """
    from weasyprint import CSS

    path = static_path(BASE_URL + name)
    return CSS(
        string=path.read_text(),
        base_url=path.as_uri(),
        url_fetcher=_safe_fetcher_class()(),
    )


def preload() -> None:
    """Import WeasyPrint and parse the print stylesheet in this process.

    Call it before forking renderers: each child then starts with both done
    instead of paying for them on its first report.
    """
    import weasyprint.pdf  # noqa: F401  (write_pdf's part, imported on first use)

    stylesheet(PRINT_STYLESHEET)


def _layout(html: str, base_url: str, style: str | None):
    from weasyprint import HTML

    fetcher = _safe_fetcher_class()()
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        font_config=font_config(),
        stylesheets=[stylesheet(style)] if style else None,
    )


def render_pdf(
    html: str,
    *,
    base_url: str = BASE_URL,
    style: str | None = PRINT_STYLESHEET,
    title=None,
    author=None,
):
    """Render an HTML document to PDF bytes: tagged (PDF/UA-1), static files only.

    ``style``: the static stylesheet applied to it (the reports' print
    stylesheet unless told otherwise; None for none but its own).
    """
    document = _layout(html, base_url, style)
    if title:
        document.metadata.title = title
    if author:
        document.metadata.authors = [author]
    return document.write_pdf(pdf_variant="pdf/ua-1")


def render_document(
    html: str, *, base_url: str = BASE_URL, style: str | None = PRINT_STYLESHEET
):
    """Lay out an HTML document (for page counts and tests)."""
    return _layout(html, base_url, style)
