# test_saldos.py: a client test against the fake.
import json
import urllib.request


def test_saldos_answers_the_documented_balance(einvoice_mock):
    request = urllib.request.Request(
        einvoice_mock + "/api/rest/Timbre/saldos",
        data=json.dumps({"MesConsulta": "2019-11"}).encode(),
        headers={"RCApiKey": "my-key", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        body = json.load(response)
    assert body["TipoConsumo"] == "Postpago"
