"""The Daraja client against the fake Daraja: tokens, the push's fields, and what each failure means."""

from __future__ import annotations

import base64
import socket
from datetime import datetime, timezone

import httpx
import pytest

from config import load_settings
from core.providers import AmbiguousSendError, PermanentSendError, ProviderUnavailable, TransientSendError
from core.providers.mpesa import DarajaClient, callback_url
from tests.fakes.daraja import PUSH_PATH, QUERY_PATH, TOKEN_PATH, Script, fake_daraja  # noqa: F401  (fixture)

PUSH = dict(phone="+254712345678", amount_minor=150_000, currency="KES", account_reference="M0042",
            description="Contribution")


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_push_carries_every_field_daraja_needs(fake_daraja):
    # 21:30 UTC is 00:30 the next day in Nairobi: the timestamp is Nairobi's wall time.
    clock = lambda: datetime(2026, 11, 20, 21, 30, 5, tzinfo=timezone.utc)  # noqa: E731
    client = fake_daraja.client(callback_url="https://ofisi.example/mpesa/stk/callback?token=s3cret", clock=clock)
    accepted = client.stk_push(**PUSH)
    client.close()
    assert accepted.checkout_request_id.startswith("ws_CO_") and accepted.merchant_request_id
    token_call, push = fake_daraja.received(TOKEN_PATH)[0], fake_daraja.received(PUSH_PATH)[0]
    basic = base64.b64encode(b"fake-consumer-key:fake-consumer-secret").decode()
    assert token_call.method == "GET" and token_call.headers["authorization"] == f"Basic {basic}"
    assert push.headers["authorization"] == "Bearer fake-token-1"
    expected_password = base64.b64encode(b"174379fake-passkey20261121003005").decode()
    assert push.body == {
        "BusinessShortCode": "174379", "Password": expected_password, "Timestamp": "20261121003005",
        "TransactionType": "CustomerPayBillOnline", "Amount": 1500, "PartyA": "254712345678",
        "PartyB": "174379", "PhoneNumber": "254712345678",
        "CallBackURL": "https://ofisi.example/mpesa/stk/callback?token=s3cret",
        "AccountReference": "M0042", "TransactionDesc": "Contribution",
    }
    assert fake_daraja.refusals == []


def test_the_token_is_reused_until_shortly_before_it_expires(fake_daraja):
    ticks = Ticks()
    client = fake_daraja.client(monotonic=ticks)
    client.stk_push(**PUSH)
    ticks.now += 3000  # within the token's hour, well before the last minute
    client.stk_push(**PUSH)
    assert len(fake_daraja.received(TOKEN_PATH)) == 1
    ticks.now += 560  # now within a minute of expiry: a fresh token first
    client.stk_push(**PUSH)
    client.close()
    assert len(fake_daraja.received(TOKEN_PATH)) == 2
    first, second, third = (r.headers["authorization"] for r in fake_daraja.received(PUSH_PATH))
    assert first == second != third


def test_a_401_renews_the_token_once(fake_daraja):
    client = fake_daraja.client()
    client.stk_push(**PUSH)
    fake_daraja.revoke_tokens()
    client.stk_push(**PUSH)
    assert len(fake_daraja.received(TOKEN_PATH)) == 2 and len(fake_daraja.received(PUSH_PATH)) == 3
    # A token Daraja refuses even fresh is a setting to fix, not something to retry.
    fake_daraja.next_calls(PUSH_PATH, Script(http_status=401), Script(http_status=401))
    with pytest.raises(ProviderUnavailable, match="fresh access token"):
        client.stk_push(**PUSH)
    client.close()
    assert len(fake_daraja.received(PUSH_PATH)) == 5


def test_wrong_consumer_key_is_a_setting_to_fix(fake_daraja):
    client = fake_daraja.client(consumer_key="wrong")
    with pytest.raises(ProviderUnavailable, match="consumer key and secret"):
        client.stk_push(**PUSH)
    client.close()
    assert fake_daraja.received(PUSH_PATH) == []


def test_wrong_passkey_is_refused_by_daraja(fake_daraja):
    client = fake_daraja.client(passkey="not-the-passkey")
    with pytest.raises(PermanentSendError, match="Wrong credentials"):
        client.stk_push(**PUSH)
    client.close()


@pytest.mark.parametrize(("script", "error", "match"), [
    (Script(http_status=500, error_code="500.001.1001"), TransientSendError, "HTTP 500"),
    (Script(http_status=503), TransientSendError, "HTTP 503"),
    (Script(http_status=429), TransientSendError, "HTTP 429"),
    (Script(http_status=400, error_code="400.002.02"), PermanentSendError, "400.002.02"),
    (Script(http_status=404), PermanentSendError, "HTTP 404"),
    (Script(drop=True), AmbiguousSendError, "may have been received"),
])
def test_push_failures_are_classified(fake_daraja, script, error, match):
    client = fake_daraja.client()
    fake_daraja.next_calls(PUSH_PATH, script)
    with pytest.raises(error, match=match):
        client.stk_push(**PUSH)
    client.close()


def test_a_timeout_after_the_push_left_is_ambiguous(fake_daraja):
    client = fake_daraja.client(timeout=httpx.Timeout(0.3, connect=2.0))
    fake_daraja.next_calls(PUSH_PATH, Script(hang=True))
    with pytest.raises(AmbiguousSendError, match="ReadTimeout"):
        client.stk_push(**PUSH)
    fake_daraja.release()
    client.close()
    assert len(fake_daraja.received(PUSH_PATH)) == 1  # Daraja did receive it


def test_no_connection_is_transient():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = DarajaClient(base_url=f"http://127.0.0.1:{port}", consumer_key="k", consumer_secret="s",
                          shortcode="174379", passkey="p", callback_url="http://127.0.0.1:9/cb")
    with pytest.raises(TransientSendError, match="access token"):
        client.stk_push(**PUSH)
    client.close()


def test_token_service_down_is_transient(fake_daraja):
    client = fake_daraja.client()
    fake_daraja.next_calls(TOKEN_PATH, Script(http_status=503))
    with pytest.raises(TransientSendError, match="token service"):
        client.stk_push(**PUSH)
    client.close()


@pytest.mark.parametrize(("changes", "match"), [
    ({"amount_minor": 150_050}, "whole shillings"),
    ({"amount_minor": 0}, "whole shillings"),
    ({"currency": "UGX"}, "Kenyan shillings"),
    ({"account_reference": "M0042-CONTRIBUTION"}, "account reference"),
    ({"description": "Monthly contribution"}, "description"),
])
def test_what_daraja_cannot_take_never_leaves(fake_daraja, changes, match):
    client = fake_daraja.client()
    with pytest.raises(PermanentSendError, match=match):
        client.stk_push(**{**PUSH, **changes})
    client.close()
    assert fake_daraja.requests == []


def test_stk_query_while_processing_then_with_a_result(fake_daraja):
    client = fake_daraja.client()
    checkout = client.stk_push(**PUSH).checkout_request_id
    assert client.stk_query(checkout).processing
    fake_daraja.complete(checkout, 1032, post=False)
    answer = client.stk_query(checkout)
    assert (answer.result_code, answer.result_desc) == (1032, "Request cancelled by user")
    query = fake_daraja.received(QUERY_PATH)[-1].body
    assert query["CheckoutRequestID"] == checkout
    assert query["Password"] == fake_daraja.password_for(query["Timestamp"])
    fake_daraja.next_calls(QUERY_PATH, Script(drop=True))
    with pytest.raises(TransientSendError):  # a query is a read: losing its answer is harmless
        client.stk_query(checkout)
    client.close()


def test_client_from_settings(fake_daraja):
    settings = load_settings(fake_daraja.env(public_url="https://ofisi.example/", callback_token="a b&c"))
    client = DarajaClient.from_settings(settings)
    assert client.callback_url == "https://ofisi.example/mpesa/stk/callback?token=a%20b%26c"
    assert client.stk_push(**PUSH).checkout_request_id
    client.close()
    assert callback_url("https://x.example", None) == "https://x.example/mpesa/stk/callback"
    with pytest.raises(ProviderUnavailable, match="OFISI_MPESA_SHORTCODE"):
        DarajaClient.from_settings(load_settings({}))
    env = fake_daraja.env()
    del env["OFISI_MPESA_PASSKEY"]
    with pytest.raises(ProviderUnavailable, match="ofisi secrets set mpesa_passkey"):
        DarajaClient.from_settings(load_settings(env))
