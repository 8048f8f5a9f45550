# Contract tests against the fake, for CI: starts einvoice-mock, runs your tests against it,
# and always stops it, so that contract.xml (JUnit) is complete even when your tests fail.
# Run with `bash -e`; CLIENT_TESTS is your test command, which reads EINVOICE_MOCK_URL.
: "${CLIENT_TESTS:?set CLIENT_TESTS to your test command}"
einvoice-mock serve --port 0 --junit contract.xml --fail-on-violation >fake.out 2>fake.log &
fake_pid=$!
stop_fake() {
  status=$?
  kill -TERM "$fake_pid" 2>/dev/null || true
  fake_status=0
  wait "$fake_pid" || fake_status=$?
  # The client's failure first; else the fake's verdict (1: a request broke the contract).
  if [ "$status" -eq 0 ]; then status=$fake_status; fi
  exit "$status"
}
trap stop_fake EXIT
for _ in $(seq 100); do grep -q '^listening on ' fake.out && break; sleep 0.1; done
EINVOICE_MOCK_URL=$(sed -n 's/^listening on //p' fake.out)
export EINVOICE_MOCK_URL
bash -c "$CLIENT_TESTS"
