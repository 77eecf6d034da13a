"""Test certificates made with Debian's `openssl` CLI: CAs, server and client certificates signed by
them, each checked with `openssl verify` as it is made. EC P-256 keys (quick to generate), PEM files
(PKCS#8 keys), two days of validity, explicit serial numbers."""

import subprocess
from pathlib import Path
from types import SimpleNamespace

OPENSSL = "/usr/bin/openssl"
NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
DAYS = "2"

# Our own configuration (not the system's openssl.cnf): one section of extensions per kind.
CONFIG = """\
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def openssl(*args, stdin=None, cwd=None) -> bytes:
    result = subprocess.run([OPENSSL, *map(str, args)], input=stdin, capture_output=True, cwd=cwd, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))} exited {result.returncode}:\n"
                           f"{result.stderr.decode(errors='replace')}")
    return result.stdout


class PKI:
    """Makes certificates in `directory`: `ca()` a self-signed CA (or an intermediate when `issuer`
    is given), `issue()` a server or client certificate. Each is a namespace with `cert` and `key`
    (paths), `cn`, `serial` (as `ssl.getpeercert()` prints it) and `pem` (the certificate's bytes)."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = self.dir / "openssl.cnf"
        self.config.write_text(CONFIG)
        self.serial = 0x1000

    def _made(self, name, cn, serial):
        cert, key = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        return SimpleNamespace(name=name, cert=cert, key=key, cn=cn, serial=f"{serial:X}", pem=cert.read_bytes())

    def ca(self, name, cn, issuer=None):
        self.serial += 1
        if issuer is None:
            openssl("req", "-x509", "-config", self.config, "-extensions", "ca", *NEW_KEY, "-keyout", f"{name}.key",
                    "-out", f"{name}.pem", "-subj", f"/CN={cn}", "-days", DAYS, "-set_serial", self.serial,
                    cwd=self.dir)
        else:
            self._sign(name, cn, issuer, "ca")
        return self._made(name, cn, self.serial)

    def issue(self, name, cn, issuer, kind="server", root=None):
        """A `kind` ("server" or "client") certificate signed by `issuer`. With `root`, `issuer` is an
        intermediate CA under it and the certificate file holds the chain: leaf, then intermediate."""
        self.serial += 1
        self._sign(name, cn, issuer, kind)
        made = self._made(name, cn, self.serial)
        purpose = "sslserver" if kind == "server" else "sslclient"
        if root is None:
            openssl("verify", "-CAfile", issuer.cert, "-purpose", purpose, made.cert)
        else:
            openssl("verify", "-CAfile", root.cert, "-untrusted", issuer.cert, "-purpose", purpose, made.cert)
            made.cert.write_bytes(made.pem + issuer.pem)
        return made

    def _sign(self, name, cn, issuer, section):
        openssl("req", "-new", "-config", self.config, *NEW_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={cn}", cwd=self.dir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", issuer.cert, "-CAkey", issuer.key,
                "-set_serial", self.serial, "-days", DAYS, "-extfile", self.config, "-extensions", section,
                "-out", f"{name}.pem", cwd=self.dir)


def spki_sha256(cert) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo DER)) of a PEM certificate: what Chromium's
    --ignore-certificate-errors-spki-list takes."""
    public = openssl("x509", "-in", cert, "-pubkey", "-noout")
    der = openssl("pkey", "-pubin", "-outform", "der", stdin=public)
    digest = openssl("dgst", "-sha256", "-binary", stdin=der)
    return openssl("base64", "-A", stdin=digest).decode().strip()


def make(directory) -> SimpleNamespace:
    """Every certificate the TLS tests use."""
    pki = PKI(directory)
    ca = pki.ca("ca", "Baton Test CA")
    other_ca = pki.ca("other-ca", "Other Test CA")
    client_ca = pki.ca("client-ca", "Baton Client CA")
    intermediate = pki.ca("intermediate", "Baton Test Intermediate", issuer=ca)
    return SimpleNamespace(
        dir=pki.dir, ca=ca, other_ca=other_ca, client_ca=client_ca,
        server=pki.issue("server-a", "baton-a", ca),
        server_b=pki.issue("server-b", "baton-b", ca),
        other_server=pki.issue("other-server", "baton-other", other_ca),
        chained=pki.issue("chained", "baton-chained", intermediate, root=ca),
        client=pki.issue("client", "baton-client", client_ca, kind="client"),
        rogue_client=pki.issue("rogue-client", "rogue-client", other_ca, kind="client"),
    )
