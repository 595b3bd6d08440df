"""Swagger UI at /api/docs/ runs from the app's own static files, with no CDN."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

URL_ATTRIBUTES = {"script": "src", "link": "href", "img": "src", "iframe": "src"}


class ResourceParser(HTMLParser):
    """Collect the URLs that script, link, img and iframe tags load."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attribute = URL_ATTRIBUTES.get(tag)
        value = dict(attrs).get(attribute) if attribute else None
        if value:
            self.urls.append(value)


@pytest.fixture
def page() -> str:
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.fixture
def resource_urls(page) -> list[str]:
    parser = ResourceParser()
    parser.feed(page)
    return parser.urls


def test_docs_page_loads_swagger_ui(resource_urls):
    names = [url.rsplit("/", 1)[-1] for url in resource_urls]

    assert "swagger-ui-bundle.js" in names
    assert "swagger-ui.css" in names


def test_docs_resources_stay_on_site(resource_urls):
    off_site = [url for url in resource_urls if urlsplit(url).scheme or urlsplit(url).netloc]

    assert off_site == []


def test_docs_resources_are_own_static_files(resource_urls):
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    paths = [url for url in resource_urls if url.startswith(prefix)]
    missing = [path for path in paths if finders.find(path.removeprefix(prefix)) is None]

    assert paths == resource_urls
    assert missing == []


def test_docs_inline_script_loads_nothing_off_site(page):
    absolute_urls = re.findall(r"""["'](?:https?:)?//[^"']+["']""", page)

    assert absolute_urls == []


def test_docs_page_points_at_schema(page):
    assert '"/api/schema/"' in page
