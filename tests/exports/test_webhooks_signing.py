import pytest

from exports.webhooks.signing import sign, verify

SECRET = "whsec-test-0123456789"
TIMESTAMP = 1767225600
BODY = b'{"id":"evt"}'
# Computed independently with: printf '%s' '1767225600.{"id":"evt"}' | openssl dgst -sha256 -hmac 'whsec-test-0123456789'
EXPECTED = "sha256=6399dd59613243ec8c1347b9a516ceb83ae289efd524c97d1a7ae279c9306f69"


def test_sign_matches_openssl_vector():
    assert sign(secret=SECRET, timestamp=TIMESTAMP, body=BODY) == EXPECTED


def test_verify_accepts_signature_within_tolerance():
    assert verify(secret=SECRET, timestamp=str(TIMESTAMP), body=BODY, signature=EXPECTED, now=TIMESTAMP + 299)


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("wrong secret", {"secret": "whsec-other-0123456789"}),
        ("changed body", {"body": b'{"id":"evt2"}'}),
        ("changed timestamp", {"timestamp": str(TIMESTAMP + 1)}),
        ("timestamp too old", {"now": TIMESTAMP + 301}),
        ("timestamp in the future", {"now": TIMESTAMP - 301}),
        ("timestamp not a number", {"timestamp": "1767225600.5"}),
        ("timestamp with non-ASCII digits", {"timestamp": "١٧٦٧٢٢٥٦٠٠"}),
        ("digest without prefix", {"signature": EXPECTED.removeprefix("sha256=")}),
        ("empty signature", {"signature": ""}),
    ],
)
def test_verify_rejects(case, changes):
    arguments = {"secret": SECRET, "timestamp": str(TIMESTAMP), "body": BODY, "signature": EXPECTED,
                 "now": TIMESTAMP, **changes}

    assert verify(**arguments) is False, case
