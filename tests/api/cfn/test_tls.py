"""heat-api-cfn over https: ``[heat_api_cfn] cert_file``/``key_file``, and boto3 checking
the server's certificate against the CA it was given."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import subprocess
import sys
from pathlib import Path

from tests.api.conftest import free_port, start_heat_all, stop_heat_all, write_heat_conf
from tests.api.helpers import need


def _self_signed(workdir: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, written as PEM files."""
    x509 = need("cryptography.x509")
    hashes = need("cryptography.hazmat.primitives.hashes")
    serialization = need("cryptography.hazmat.primitives.serialization")
    ec = need("cryptography.hazmat.primitives.asymmetric.ec")
    oid = need("cryptography.x509.oid")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = workdir / "cfn.crt", workdir / "cfn.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_boto3_over_https(tmp_path: Path) -> None:
    boto3 = need("boto3")
    exceptions = need("botocore.exceptions")
    cert_file, key_file = _self_signed(tmp_path)
    port, cfn_port = free_port(), free_port()
    conf = write_heat_conf(
        tmp_path,
        port,
        cfn_port=cfn_port,
        heat_api_cfn=f"cert_file = {cert_file}\nkey_file = {key_file}\n",
    )
    server = start_heat_all(tmp_path, conf, port)
    manage = [sys.executable, "-m", "ember.cmd.manage", "--config-file", str(conf)]
    made = subprocess.run(
        [
            *manage,
            "ec2-credentials",
            "create",
            "--project",
            "tls",
            "--user",
            "u",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    pair = json.loads(made.stdout)
    try:

        def client(verify: str | bool) -> object:
            return boto3.client(
                "cloudformation",
                endpoint_url=f"https://127.0.0.1:{cfn_port}/v1/",
                region_name="RegionOne",
                aws_access_key_id=pair["access"],
                aws_secret_access_key=pair["secret"],
                verify=verify,
            )

        trusting = client(str(cert_file))
        assert trusting.list_stacks()["StackSummaries"] == []  # type: ignore[attr-defined]
        # A client that does not trust the certificate refuses the connection.
        try:
            client(True).list_stacks()  # type: ignore[attr-defined]
        except exceptions.SSLError:
            pass
        else:
            raise AssertionError("an untrusted certificate was accepted")
    finally:
        stop_heat_all(server)
