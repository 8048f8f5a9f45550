# test_plugin.py: the wheel's pytest plugin (fixture einvoice_fake): arm, call, read the journal.
import json
import urllib.error
import urllib.request

import pytest


def test_an_armed_401_answers_the_next_saldos(einvoice_fake):
    einvoice_fake.arm({"operation": "saldos", "respond": "401"})
    request = urllib.request.Request(
        einvoice_fake.url + "/api/rest/Timbre/saldos",
        data=json.dumps({"MesConsulta": "2019-11"}).encode(),
        headers={"RCApiKey": "my-key", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request)
    assert answer.value.code == 401

    [entry] = einvoice_fake.journal(operation="saldos")["requests"]
    assert (entry["status"], entry["verdict"]) == (401, "conforms")
    saldos = next(o for o in einvoice_fake.coverage()["operations"] if o["operation"] == "saldos")
    assert {"code": "401", "hits": 1} in saldos["responses"]
