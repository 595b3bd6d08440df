from html.parser import HTMLParser

import pytest

from reviews.safe_markdown import render_markdown


class ElementCollector(HTMLParser):
    """Collect every start tag with its attributes from rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = ElementCollector()
    collector.feed(html)
    return collector.elements


PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    '[click](http://example.com" onmouseover="alert(1))',
    '[click](http://example.com "title\\" onmouseover=\\"alert(1)")',
    "<div onclick=alert(1)>text</div>",
    '<svg><script>alert(1)</script></svg>',
    "<iframe src=//example.com></iframe>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "![x](x\" onerror=\"alert(1))",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_leaves_no_script_tag(payload):
    tags = [tag for tag, _ in elements_of(render_markdown(payload))]

    assert "script" not in tags
    assert "iframe" not in tags
    assert "svg" not in tags
    assert "img" not in tags


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_leaves_no_event_handler(payload):
    for _, attributes in elements_of(render_markdown(payload)):
        assert not [name for name in attributes if name.startswith("on")]
        assert "style" not in attributes or "url(" not in (attributes["style"] or "")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_leaves_only_web_links(payload):
    for tag, attributes in elements_of(render_markdown(payload)):
        if tag == "a" and "href" in attributes:
            assert attributes["href"].startswith(("http://", "https://", "mailto:"))


def test_script_source_shows_as_text():
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in render_markdown("<script>alert(1)</script>")


def test_code_block_keeps_its_text_escaped():
    html = render_markdown('```python\nprint("<b>hi</b>")\n```')

    assert html.startswith("<pre><code>")
    assert 'print("&lt;b&gt;hi&lt;/b&gt;")' in html


def test_markdown_basics_render():
    html = render_markdown("# Title\n\n**bold**, *em*, ~~gone~~ and `code`\n\n- one\n- two")

    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<em>em</em>" in html
    assert "<s>gone</s>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html


def test_table_keeps_alignment_only():
    html = render_markdown("| a | b |\n|:-|-:|\n| 1 | 2 |")

    assert '<td style="text-align:left">1</td>' in html
    assert '<td style="text-align:right">2</td>' in html


def test_web_link_gets_nofollow():
    html = render_markdown("[docs](https://example.com/help)")

    assert '<a href="https://example.com/help" rel="noopener noreferrer nofollow">docs</a>' in html


def test_image_is_not_loaded():
    elements = elements_of(render_markdown("![tracker](https://example.com/pixel.png)"))

    assert [tag for tag, _ in elements] == ["p", "a"]


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_line_breaks_are_kept():
    assert "first<br>\nsecond" in render_markdown("first\nsecond")
