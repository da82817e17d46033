"""The gateway against the ways it was abused, over real HTTP in the providers' own formats:
forged callbacks, oversized and slow bodies, slow headers, spoofed X-Forwarded-For, text no
database stores, JSON nested to exhaustion, and a sweep of hostile input over every route that
finds no 5xx."""

from __future__ import annotations

import json
import select
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select as sql_select

from config import load_settings
from core.contacts import add_contact
from core.optouts import is_opted_out
from core.salon.forms import create_form
from db.models_payments import PaymentCallback
from db.models_salon import SalonFormHit
from db.models_ussd import UssdSession
from tests.live_gateway import running_gateway
from tests.payments_support import awaiting, credits, failure, status, success
from tests.salon_support import SYSTEM, make_salon

TOKEN = "cb-token"
ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
MEMBER = "+254712345678"
POST_PATHS = ["/ussd/callback", "/ussd/events", "/sms/inbound", "/sms/delivery", "/mpesa/stk/callback",
              "/whatsapp/webhook", "/forms/leads"]


def signed(**more: str) -> object:
    return load_settings({"OFISI_CALLBACK_TOKEN": TOKEN, **{f"OFISI_{k.upper()}": v for k, v in more.items()}})


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(sql_select(func.count()).select_from(model))


# ---------------------------------------------------------------- raw connections

def connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def head(path: str, length: int | None = None, content_type: str = "application/x-www-form-urlencoded",
         chunked: bool = False) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: gateway", f"Content-Type: {content_type}"]
    lines += ["Transfer-Encoding: chunked"] if chunked else [f"Content-Length: {length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_until_closed(sock: socket.socket, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


# ---------------------------------------------------------------- forged callbacks

def test_a_forged_stop_is_refused_and_the_genuine_one_counts(committed_db, make_org):
    with committed_db.session() as s:
        org = make_org(s, "salon")
        add_contact(s, SYSTEM, org.id, name="Amina", phone=MEMBER)
        s.commit()
    stop = {"from": MEMBER, "to": "22384", "text": "STOP", "date": "2026-01-01 10:00:00"}
    with running_gateway(committed_db, signed()) as base:
        assert httpx.post(f"{base}/sms/inbound", data={**stop, "id": "ATXid_f1"}).status_code == 403
        assert httpx.post(f"{base}/sms/inbound?token=guess", data={**stop, "id": "ATXid_f2"}).status_code == 403
        with committed_db.session() as s:
            assert not is_opted_out(s, org.id, "sms", MEMBER)
        genuine = httpx.post(f"{base}/sms/inbound?token={TOKEN}", data={**stop, "id": "ATXid_g1"})
        assert genuine.status_code == 200
    with committed_db.session() as s:
        assert is_opted_out(s, org.id, "sms", MEMBER)


def test_a_forged_stk_cancel_or_wrong_amount_is_refused_and_the_genuine_success_credits(committed_db, make_org):
    with committed_db.session() as s:
        org_id = make_org(s, "chama").id
        request_id = awaiting(s, org_id)
    with running_gateway(committed_db, signed()) as base:
        url = f"{base}/mpesa/stk/callback"
        forged = [httpx.post(url, json=failure(1032)), httpx.post(f"{url}?token=guess", json=failure(1032)),
                  httpx.post(url, json=success(amount=1)), httpx.post(f"{url}?token=", json=success(amount=1))]
        assert [(a.status_code, a.json()) for a in forged] == [(200, ACCEPTED)] * 4  # Daraja's documented answer
        with committed_db.session() as s:
            assert status(s, request_id) == "awaiting"
        assert count(committed_db, PaymentCallback) == 0  # counted, not kept
        assert httpx.get(f"{base}/health").json()["refused_callbacks"] == 4
        assert httpx.post(f"{url}?token={TOKEN}", json=success()).json() == ACCEPTED
    with committed_db.session() as s:
        assert (status(s, request_id), credits(s, request_id)) == ("succeeded", 1)


def test_unsigned_callbacks_are_counted_and_logged_not_stored(committed_db, caplog):
    padding = "x" * 15_000  # just under the path's limit
    with running_gateway(committed_db, signed()) as base:
        with httpx.Client(base_url=base, timeout=10) as client:
            answers = [client.post("/mpesa/stk/callback", json={**failure(1032), "padding": padding})
                       for _ in range(50)]
        assert {a.status_code for a in answers} == {200}
        assert httpx.get(f"{base}/health").json()["refused_callbacks"] == 50
    assert count(committed_db, PaymentCallback) == 0
    lines = [r.getMessage() for r in caplog.records if "refused a callback" in r.getMessage()]
    assert len(lines) == 1 and "/mpesa/stk/callback" in lines[0] and padding[:100] not in lines[0]


def test_refusals_log_a_line_a_minute_with_the_count_since(caplog):
    from ussd.gateway import Refusals

    now = [0.0]
    refusals = Refusals(clock=lambda: now[0])
    for step in range(130):
        now[0] = step
        refusals.count("/sms/inbound", "203.0.113.9", 10, "without the callback token")
    lines = [r.getMessage() for r in caplog.records if "refused a callback" in r.getMessage()]
    assert refusals.total == 130 and len(lines) == 3
    assert lines[1].endswith("; 59 more refused there since the last line")


# ---------------------------------------------------------------- networks and proxies

def test_callbacks_from_outside_the_providers_networks_are_refused(committed_db, make_org):
    with committed_db.session() as s:
        org_id = make_org(s, "chama").id
        request_id = awaiting(s, org_id)
    daraja = "196.201.214.200"
    url = f"/mpesa/stk/callback?token={TOKEN}"
    # No trusted proxy: the connection's address (loopback) is the caller, whatever the header says.
    with running_gateway(committed_db, signed(mpesa_callback_networks="196.201.214.0/24")) as base:
        spoofed = httpx.post(base + url, json=success(), headers={"X-Forwarded-For": daraja})
        assert spoofed.json() == ACCEPTED
        assert httpx.post(f"{base}/sms/delivery?token={TOKEN}", data={"id": "x", "status": "Success"}).status_code \
            == 200  # another provider's path is not limited by Daraja's networks
    assert count(committed_db, PaymentCallback) == 0
    # Behind a trusted proxy, the address it forwards is the caller.
    with running_gateway(committed_db, signed(mpesa_callback_networks="196.201.214.0/24, 196.201.213.0/24",
                                              trusted_proxies="127.0.0.1")) as base:
        stranger = httpx.post(base + url, json=success(), headers={"X-Forwarded-For": "41.90.1.1"})
        assert stranger.json() == ACCEPTED and count(committed_db, PaymentCallback) == 0
        assert httpx.post(base + url, json=success(), headers={"X-Forwarded-For": daraja}).json() == ACCEPTED
        assert httpx.get(f"{base}/health").json()["refused_callbacks"] == 1
    with committed_db.session() as s:
        assert (status(s, request_id), credits(s, request_id)) == ("succeeded", 1)


def test_a_network_allow_list_reads_ipv4_callers_on_a_dual_stack_socket():
    import ipaddress

    from ussd.gateway import in_networks

    daraja = (ipaddress.ip_network("196.201.214.0/24"),)
    assert in_networks("196.201.214.200", daraja) and in_networks("::ffff:196.201.214.200", daraja)
    assert not in_networks("41.90.1.1", daraja) and not in_networks("not an address", daraja)
    assert not in_networks(None, daraja)


@pytest.fixture
def lead_form(committed_db):
    with committed_db.session() as s:
        salon = make_salon(s)
        create_form(s, SYSTEM, salon.org.id, slug="leads", title="Leads", max_per_ip_hour=5, max_per_phone_hour=2)
    return "/forms/leads"


def test_a_spoofed_forwarded_for_does_not_dodge_the_lead_forms_address_limit(committed_db, lead_form):
    with running_gateway(committed_db) as base:
        codes = [httpx.post(base + lead_form, data={"name": f"Spam {i}", "phone": f"07110002{i:02d}"},
                            headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(8)]
    assert codes == [201] * 5 + [429] * 3
    with committed_db.session() as s:
        assert set(s.scalars(sql_select(SalonFormHit.ip))) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_lead_form_limits_the_forwarded_address(committed_db, lead_form):
    with running_gateway(committed_db, load_settings({"OFISI_TRUSTED_PROXIES": "127.0.0.1"})) as base:
        codes = [httpx.post(base + lead_form, data={"name": f"Visitor {i}", "phone": f"07110003{i:02d}"},
                            headers={"X-Forwarded-For": f"203.0.113.{i % 2}"}).status_code for i in range(12)]
    assert codes == [201] * 10 + [429] * 2  # two visitors, five each
    with committed_db.session() as s:
        assert set(s.scalars(sql_select(SalonFormHit.ip))) == {"203.0.113.0", "203.0.113.1"}


def test_network_settings_are_checked_when_read(tmp_path):
    from config import SettingsError

    toml = tmp_path / "ofisi.toml"
    toml.write_text('mpesa_callback_networks = ["196.201.214.200", "196.201.213.0/24"]\n'
                    'trusted_proxies = "127.0.0.1"\ngateway_body_timeout_seconds = 5\n')
    from_file = load_settings({"OFISI_CONFIG": str(toml)})
    assert from_file.mpesa_callback_networks == ("196.201.214.200/32", "196.201.213.0/24")
    assert from_file.trusted_proxies == ("127.0.0.1/32",) and from_file.gateway_body_timeout_seconds == 5.0

    settings = load_settings({"OFISI_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16",
                              "OFISI_MPESA_CALLBACK_NETWORKS": "196.201.214.0/24"})
    assert settings.trusted_proxies == ("10.0.0.5/32", "10.1.0.0/16")
    assert settings.mpesa_callback_networks == ("196.201.214.0/24",)
    with pytest.raises(SettingsError, match="OFISI_AT_CALLBACK_NETWORKS: 'africastalking.com' is not"):
        load_settings({"OFISI_AT_CALLBACK_NETWORKS": "africastalking.com"})


# ---------------------------------------------------------------- sizes, time, concurrency

def test_a_50_mb_body_is_refused_on_every_path_before_it_is_read(committed_db, lead_form):
    with running_gateway(committed_db, signed()) as base:
        for path in POST_PATHS:
            with connect(base) as sock:
                sock.sendall(head(f"{path}?token={TOKEN}", 50 * 1024 * 1024) + b"text=" + b"1" * 60_000)
                answer = read_until_closed(sock)
            assert answer.startswith(b"HTTP/1.1 413 "), (path, answer[:200])
    assert count(committed_db, UssdSession) == 0


def test_a_path_that_takes_no_body_closes_the_connection_unread(committed_db):
    with running_gateway(committed_db) as base:
        for path in ("/no/such/path", "/health"):  # 404, and 405 (a POST where only GET is served)
            with connect(base) as sock:
                sock.sendall(head(path, 50 * 1024 * 1024) + b"1" * 60_000)
                answer = read_until_closed(sock)
            assert answer.startswith((b"HTTP/1.1 404 ", b"HTTP/1.1 405 ")), answer[:200]
            assert b"connection: close" in answer.lower()


def test_a_50_mb_chunked_ussd_text_is_cut_off_and_never_stored(committed_db):
    sent, answer = 0, b""
    with running_gateway(committed_db, signed()) as base, connect(base) as sock:
        fields = b"sessionId=ATUid_big&phoneNumber=%2B254712345678&serviceCode=*384%23&text="
        sock.sendall(head(f"/ussd/callback?token={TOKEN}", chunked=True) + b"%x\r\n%s\r\n" % (len(fields), fields))
        chunk = b"10000\r\n" + b"1" * 0x10000 + b"\r\n"
        try:
            while sent < 50 * 1024 * 1024:
                if select.select([sock], [], [], 0)[0]:
                    break  # the gateway has answered (or closed)
                sock.sendall(chunk)
                sent += len(chunk)
            answer = read_until_closed(sock)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed with the rest unread, as it should be
    assert sent < 4 * 1024 * 1024
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413 ")
    assert count(committed_db, UssdSession) == 0


def test_a_body_just_over_a_paths_limit_is_413_and_one_at_it_is_read(committed_db):
    with running_gateway(committed_db, signed()) as base:
        url = f"{base}/ussd/callback?token={TOKEN}"
        fields = "sessionId=ATUid_edge&phoneNumber=%2B254712345678&serviceCode=*384%23&text="
        at_limit = (fields + "1" * (8 * 1024 - len(fields))).encode()
        assert httpx.post(url, content=at_limit, headers={
            "content-type": "application/x-www-form-urlencoded"}).text.startswith(("CON ", "END "))
        over = httpx.post(url, content=at_limit + b"1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert over.status_code == 413 and "8 kB at most" in over.text


def test_a_body_sent_a_byte_a_second_is_closed_after_the_timeout(committed_db):
    settings = signed(gateway_body_timeout_seconds="1")
    with running_gateway(committed_db, settings) as base, connect(base) as sock:
        sock.sendall(head(f"/ussd/callback?token={TOKEN}", 1000))
        began = time.monotonic()
        answer = b""
        for _ in range(40):
            if select.select([sock], [], [], 0.1)[0]:
                answer = read_until_closed(sock)
                break
            sock.sendall(b"1")
        took = time.monotonic() - began
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert 0.9 <= took < 3, took


def test_headers_sent_a_byte_at_a_time_are_closed_after_the_timeout(committed_db):
    settings = load_settings({"OFISI_GATEWAY_HEADER_TIMEOUT_SECONDS": "1"})
    with running_gateway(committed_db, settings) as base:
        with connect(base) as idle:  # connects and says nothing
            began = time.monotonic()
            assert read_until_closed(idle) == b""
            assert 0.9 <= time.monotonic() - began < 3
        with connect(base) as sock:
            began = time.monotonic()
            closed = False
            for byte in b"POST /ussd/callback HTTP/1.1\r\nHost: gateway\r\nX-Slow: " + b"a" * 100:
                try:
                    sock.sendall(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                if select.select([sock], [], [], 0.1)[0]:
                    closed = read_until_closed(sock) == b""
                    break
            took = time.monotonic() - began
        assert closed and 0.9 <= took < 3, took
        # A client that keeps its connection and sends requests in good time is not cut off.
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(3):
                assert client.get("/health").status_code == 200
                time.sleep(0.4)


def test_past_the_concurrency_limit_the_gateway_answers_503_at_once(committed_db):
    with running_gateway(committed_db, load_settings({"OFISI_GATEWAY_MAX_CONCURRENCY": "3"})) as base:
        held = [connect(base) for _ in range(3)]
        try:
            assert httpx.get(f"{base}/health", timeout=5).status_code == 503
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.2)
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200


# ---------------------------------------------------------------- text and JSON no store can take

def test_nul_bytes_and_lone_surrogates_get_a_4xx_not_a_500(committed_db, lead_form):
    form = "application/x-www-form-urlencoded"
    with running_gateway(committed_db, signed()) as base:
        def post(path: str, body: bytes, content_type: str = form) -> httpx.Response:
            return httpx.post(f"{base}{path}?token={TOKEN}", content=body, headers={"content-type": content_type})

        assert post("/sms/inbound", b"id=ATXid_n1&from=%2B254712345678&to=22384&text=STOP%00").status_code == 400
        assert post("/sms/delivery", b"id=ATXid_%00&status=Success").status_code == 400
        assert post("/sms/delivery", b"id=ATXid_1&status=Failed&failureReason=%00").status_code == 400
        assert post("/ussd/events", b"sessionId=ATUid_n&status=Failed&errorMessage=%00").status_code == 400
        hop = post("/ussd/callback", b"sessionId=ATUid_n&phoneNumber=%2B254712345678&serviceCode=*384%23&text=1%00")
        assert hop.status_code == 200 and hop.text == "END We could not read what your network sent. Please dial again."
        assert post(lead_form, b"name=Amina%00&phone=0711000001").status_code == 400
        assert post(lead_form, b'{"name": "Amina \\ud800", "phone": "0711000001"}', "application/json") \
            .status_code == 400
        assert post(lead_form, b'{"name": "Amina", "phone": "0711000001", "\\udfff": 1}', "application/json") \
            .status_code == 400
        assert post("/whatsapp/webhook", b'{"entry": [{"id": "\\u0000"}]}', "application/json").status_code == 400
        stk = post("/mpesa/stk/callback", json.dumps(success()).replace("SKL1ABC2DE", "SK\\u0000").encode(),
                   "application/json")
        assert stk.status_code == 200 and stk.json() == ACCEPTED
    with committed_db.session() as s:  # kept for review as the text it was, which the database can store
        kept = s.scalars(sql_select(PaymentCallback)).one()
        assert kept.verdict == "review" and kept.problem == "malformed"
    assert count(committed_db, UssdSession) == 0


@pytest.mark.parametrize("depth", [40, 5000])
def test_deeply_nested_json_is_refused_and_the_stk_callback_still_answers_200(committed_db, lead_form, depth):
    nested = b"[" * depth + b"]" * depth
    wrapped = b'{"Body": {"stkCallback": ' + nested + b"}}"
    json_type = {"content-type": "application/json"}
    with running_gateway(committed_db, signed()) as base:
        stk = httpx.post(f"{base}/mpesa/stk/callback?token={TOKEN}", content=wrapped, headers=json_type)
        assert stk.status_code == 200 and stk.json() == ACCEPTED
        assert httpx.post(f"{base}/whatsapp/webhook?token={TOKEN}", content=nested, headers=json_type) \
            .status_code == 400
        assert httpx.post(f"{base}{lead_form}", content=b'{"name": ' + nested + b"}", headers=json_type) \
            .status_code == 400
    with committed_db.session() as s:
        assert s.scalars(sql_select(PaymentCallback.problem)).one() == "malformed"


@pytest.mark.parametrize("payload", [
    [], "statuses", 7, None, {"entry": 1}, {"entry": [1, None, "x"]}, {"entry": [{"changes": "x"}]},
    {"entry": [{"changes": [{"value": []}]}]}, {"entry": [{"changes": [{"value": {"statuses": {"id": "x"}}}]}]},
    {"entry": [{"changes": [{"value": {"statuses": [None, {"id": {}, "status": []},
                                                    {"id": "wamid.1", "status": "failed", "errors": [1, {"code": 5}]},
                                                    {"id": "wamid.2", "status": "read", "errors": "x"}]}}]}]},
])
def test_wrongly_shaped_whatsapp_payloads_are_answered_not_failed(committed_db, payload):
    with running_gateway(committed_db, signed()) as base:
        answer = httpx.post(f"{base}/whatsapp/webhook?token={TOKEN}", content=json.dumps(payload),
                            headers={"content-type": "application/json"})
    assert answer.status_code == 200 and answer.text.startswith("ok: 0 of ")


def test_whatsapp_statuses_are_read_from_any_shape():
    from ussd.campaigns import statuses

    body = {"entry": [None, {"changes": [{"value": {"statuses": [
        {"id": "wamid.1", "status": "failed", "errors": [1, {"code": 131026}, {"title": "Not on WhatsApp"}]},
        {"id": ["x"], "status": "read"}]}}]}]}
    assert statuses(body) == [("wamid.1", "failed", "131026; Not on WhatsApp")]


# ---------------------------------------------------------------- the sweep

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
HOSTILE: list[tuple[str, bytes]] = [
    (FORM, b""),
    (FORM, b"sessionId=%00&phoneNumber=%00&text=%00&id=%00&from=%00&status=%00&name=%00&phone=%00"),
    (FORM, b"%ff%fe=%ed%a0%80&sessionId=%ff&phoneNumber=%2B254712345678&text=%ed%a0%80&id=%ff&from=%ff"),
    (FORM, b"sessionId=s&phoneNumber=+254712345678&text=" + b"*1" * 2000),
    (FORM, b"&&&===&&%%%&a=%zz&sessionId=x&phoneNumber=garbage&id=1&status=Success&from=garbage"),
    (FORM, b"id=" + b"9" * 300 + b"&from=%2B254712345678&to=" + b"2" * 300 + b"&text=STOP&status=" + b"S" * 300
     + b"&sessionId=" + b"s" * 300 + b"&phoneNumber=%2B254712345678&serviceCode=" + b"*" * 300
     + b"&failureReason=" + b"r" * 3000 + b"&name=" + b"n" * 3000 + b"&phone=0711000009&email=" + b"e" * 300),
    (FORM, "&".join(f"f{i}=1" for i in range(1200)).encode()[:7000]),
    (FORM + "; charset=utf-16", "sessionId=x&text=1".encode("utf-16")),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\n\x00\r\n--x--\r\n'),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n'
                                        b"Content-Type: text/plain\r\n\r\nhello\r\n--x--\r\n"),
    ("multipart/form-data", b"no boundary at all"),
    ("multipart/form-data; boundary=x", b"--x\r\ngarbage without an end"),
    (JSON, b""),
    (JSON, b"\x00\xff\xfe garbage"),
    (JSON, b"[" * 3000 + b"]" * 3000),
    (JSON, b'{"a":' * 40 + b"1" + b"}" * 40),
    (JSON, b'"\\u0000"'),
    (JSON, b'{"\\ud800": "\\udfff"}'),
    (JSON, b"[]"),
    (JSON, b"1e999999"),
    (JSON, b"1" * 5000),
    (JSON, b'{"Body": []}'),
    (JSON, b'{"Body": {"stkCallback": {"ResultCode": "x", "CheckoutRequestID": {}}}}'),
    (JSON, b'{"Body": {"stkCallback": {"ResultCode": 0, "CheckoutRequestID": "ws_CO_1", '
           b'"CallbackMetadata": {"Item": [1, {"Name": "Amount", "Value": "NaN"}, {"Name": {}}]}}}}'),
    (JSON, b'{"entry": "x", "name": {"a": [1]}, "phone": 7}'),
    ("text/plain", b"\x00\x01\x02"),
    ("", b"\xff" * 100),
]


def sweep(base: str, routes: list[tuple[str, str]], token: str | None) -> list[tuple[str, str, int, str]]:
    """Every route with every hostile body; returns what answered 5xx."""
    failures = []
    suffixes = [f"token={token}"] if token else []
    suffixes += ["token=%00", "token=%ff%fe", "hub.mode=subscribe&hub.verify_token=%00&hub.challenge=%ed%a0%80"]
    with httpx.Client(base_url=base, timeout=20) as client:
        for method, path in routes:
            for n, (content_type, body) in enumerate(HOSTILE):
                url = f"{path}?{suffixes[n % len(suffixes)]}"
                headers = {"content-type": content_type} if content_type else {}
                answer = client.request(method, url, content=body, headers=headers)
                if answer.status_code >= 500:
                    failures.append((method, url, answer.status_code, f"{content_type} {body[:60]!r}"))
                elif path == "/ussd/callback" and answer.status_code == 200:
                    assert answer.text.startswith(("CON ", "END ")), answer.text
    return failures


def test_hostile_input_to_every_route_gets_no_5xx(committed_db, lead_form):
    from ussd.gateway import create_app

    app = create_app(committed_db, signed())
    routes = [(method, route.path.replace("{slug}", "leads")) for route in app.routes
              for method in sorted(route.methods - {"HEAD"})]
    routes += [("POST", "/forms/no-such-form"), ("POST", "/no/such/path"), ("GET", "/ussd/callback")]
    assert {path for _method, path in routes} >= set(POST_PATHS) | {"/health"}
    with running_gateway(committed_db, signed()) as base:
        assert sweep(base, routes, TOKEN) == []
    with running_gateway(committed_db) as base:  # unsigned: everything reaches the handlers
        assert sweep(base, routes, None) == []
