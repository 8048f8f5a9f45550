"""einvoice-mock from Python: the fake provider for tests.

The wheel puts the ``einvoice-mock`` command on the environment's PATH; this package starts it
on a free port and drives its admin API::

    from einvoice_mock import start_fake

    with start_fake(junit="contract.xml") as fake:
        fake.arm({"operation": "saldos", "respond": "401"})
        ...  # your client calls fake.url
        requests = fake.journal()["requests"]

With pytest, the plugin this wheel registers gives the fixture ``einvoice_fake``.
"""

from ._fake import Fake, binary_path, start_fake

__all__ = ["Fake", "binary_path", "start_fake"]
