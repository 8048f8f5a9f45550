// A client test against the fake: arm a Sovos 401, send a saldos, read the journal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFake } from 'einvoice-mock';

test('an armed 401 answers the next saldos, and the journal shows it', async (t) => {
  const fake = await startFake({ junit: 'contract.xml' });
  t.after(() => fake.stop());

  await fake.arm({ operation: 'saldos', respond: '401' });
  const response = await fetch(`${fake.url}/api/rest/Timbre/saldos`, {
    method: 'POST',
    headers: { RCApiKey: 'my-key', 'Content-Type': 'application/json' },
    body: JSON.stringify({ MesConsulta: '2019-11' }),
  });
  assert.equal(response.status, 401);

  const { requests } = await fake.journal();
  assert.equal(requests.length, 1);
  assert.equal(requests[0].operation, 'saldos');
  assert.equal(requests[0].verdict, 'conforms');
  assert.equal(requests[0].status, 401);

  const { operations } = await fake.coverage();
  const saldos = operations.find((o) => o.operation === 'saldos');
  assert.equal(saldos.responses.find((r) => r.code === '401').hits, 1);
});
