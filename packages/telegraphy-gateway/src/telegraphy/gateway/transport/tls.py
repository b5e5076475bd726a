"""TLS served by the gateway itself: the certificate and key of `[tls]`, read from PEM files
at start and again on SIGHUP, so a renewed certificate reaches new connections without a
restart (connections already open keep theirs)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from OpenSSL import SSL, crypto
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator, IProtocolFactory
from twisted.internet.ssl import CertificateOptions, TLSVersion
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol
from zope.interface import implementer

from ..config import TlsConfig
from ..errors import ConfigError


class Certificate:
    """A certificate chain and its key, checked to belong together."""

    def __init__(self, config: TlsConfig) -> None:
        chain = _certificates(config.certificate, "tls.certificate")
        if config.chain is not None:
            chain += _certificates(config.chain, "tls.chain")
        key = _private_key(config.key)
        self.subject = chain[0].subject.rfc4514_string()
        self.expires: datetime = chain[0].not_valid_after_utc
        self.options = CertificateOptions(
            privateKey=key,
            certificate=crypto.X509.from_cryptography(chain[0]),
            extraCertChain=[crypto.X509.from_cryptography(c) for c in chain[1:]],
            raiseMinimumTo=TLSVersion.TLSv1_2,
        )
        try:
            self.options.getContext()  # checks that the key is the certificate's
        except SSL.Error:
            raise ConfigError(
                f"tls.key {config.key} is not the key of the certificate in {config.certificate}"
            ) from None

    def describe(self) -> str:
        return f"{self.subject}, expires {self.expires:%Y-%m-%d %H:%M} UTC"


@implementer(IOpenSSLServerConnectionCreator)
class ServerTls:
    """What new TLS connections are made with; `use` swaps the certificate (SIGHUP)."""

    def __init__(self, certificate: Certificate) -> None:
        self.certificate = certificate

    def use(self, certificate: Certificate) -> None:
        self.certificate = certificate

    def serverConnectionForTLS(self, tlsProtocol: TLSMemoryBIOProtocol) -> SSL.Connection:
        return SSL.Connection(self.certificate.options.getContext(), None)

    def wrap(self, factory: IProtocolFactory) -> TLSMemoryBIOFactory:
        return TLSMemoryBIOFactory(self, False, factory)


def _read(path: str, where: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(f"{where}: cannot read {path}: {e.strerror}") from None


def _certificates(path: str, where: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(_read(path, where))
    except ValueError:
        raise ConfigError(f"{where}: {path} holds no PEM certificate") from None


def _private_key(path: str) -> crypto.PKey:
    try:
        key = load_pem_private_key(_read(path, "tls.key"), password=None)
        return crypto.PKey.from_cryptography_key(key)  # type: ignore[arg-type]  # or TypeError
    except (ValueError, TypeError):
        raise ConfigError(
            f"tls.key: {path} is not an unencrypted PEM private key of a kind TLS servers use "
            "(RSA, EC or Ed25519; decrypt it first with openssl pkey -in KEY -out KEY.pem)"
        ) from None
