# Contract tests against the fake, for CI: starts einvoice-mock, runs your tests against it,
# and always stops it, so that contract.xml (JUnit) is complete even when your tests fail.
# Run with `bash -e`; CLIENT_TESTS is your test command, which reads EINVOICE_MOCK_URL.
: "${CLIENT_TESTS:?set CLIENT_TESTS to your test command}"
command -v einvoice-mock >/dev/null || {
  echo "contract-tests: einvoice-mock is not on PATH (install it: see the README)" >&2
  exit 127
}
# A previous run's lines must not be read as this one's.
rm -f fake.out fake.log
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
# Up to 10 s for the first line; stop waiting as soon as the fake has exited.
for _ in $(seq 100); do
  grep -q '^listening on ' fake.out && break
  kill -0 "$fake_pid" 2>/dev/null || break
  sleep 0.1
done
EINVOICE_MOCK_URL=$(sed -n 's/^listening on //p' fake.out)
if [ -z "$EINVOICE_MOCK_URL" ]; then
  echo "contract-tests: einvoice-mock did not start:" >&2
  cat fake.log >&2
  exit 1
fi
export EINVOICE_MOCK_URL
bash -c "$CLIENT_TESTS"
