//! Mutual TLS for node-to-node connections (feature `tls`).
//!
//! Every node holds one certificate chain, its private key, and the CA roots that define the
//! cluster. A node that dials ([`connect`]) checks the peer's certificate against those roots and
//! against [`TlsConfig::server_name`]; a node that answers ([`accept`]) requires a client
//! certificate issued under the same roots. Thus only holders of a cluster certificate can talk to
//! a node at all, before any of the node protocol runs.
//!
//! The crypto provider is always rustls' `ring` provider, named explicitly rather than taken from
//! the process default, so that another crate in the build enabling a second provider cannot
//! change which one is used or make building the config fail.
//!
//! Neither [`connect`] nor [`accept`] has a timeout of its own: wrap them in
//! [`tokio::time::timeout`] so that a silent peer cannot hold a connection slot forever.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls::crypto::{ring, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::sign::{CertifiedKey, SingleCertAndKey};
use tokio_rustls::rustls::{self, ClientConfig, InconsistentKeys, RootCertStore, ServerConfig};
use tokio_rustls::{client, server, TlsAcceptor, TlsConnector};

use super::transport::{
    bound_addr, Accepted, Connection, DatagramSocket, Listener, Transport, TransportError, TransportFuture,
};

/// The name a node's certificate is checked against when [`TlsConfig::with_server_name`] is not
/// called.
pub const DEFAULT_SERVER_NAME: &str = "localhost";

/// Why a TLS configuration could not be built, or a TLS session could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// No certificate was found: the node's certificate chain or the set of CA roots is empty.
    #[error("no certificate found (the certificate chain or the CA roots are empty)")]
    NoCertificate,
    /// The private key is missing, cannot be parsed, or does not belong to the certificate.
    #[error("bad private key: {0}")]
    BadPrivateKey(String),
    /// A certificate (of the chain or of the CA roots) cannot be parsed or used.
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// The name to verify in the peer's certificate is not a valid DNS name or IP address.
    #[error("invalid server name {0:?}")]
    InvalidServerName(String),
    /// rustls refused the configuration for another reason.
    #[error("TLS configuration error: {0}")]
    Config(String),
    /// The TLS handshake failed: an I/O error, a protocol error, or a certificate the peer's
    /// verifier (or ours) rejected.
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
}

/// Mutual-TLS settings of a node: the configurations of both ends of a connection, since every
/// node both dials and answers.
///
/// Node certificates are used at both ends, so they must allow both the `serverAuth` and the
/// `clientAuth` extended key usage (or carry no extended key usage at all).
///
/// Cheap to clone (the rustls configurations are shared). Its `Debug` output names only the
/// server name, never key material.
#[derive(Clone)]
pub struct TlsConfig {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Builds the configuration from PEM text: the node's certificate chain (leaf first), its
    /// private key (PKCS#8, PKCS#1 or SEC1), and one or more CA certificates to trust.
    pub fn from_pem(cert_chain_pem: &[u8], private_key_pem: &[u8], ca_pem: &[u8]) -> Result<Self, TlsError> {
        let cert_chain = certs_from_pem(cert_chain_pem)?;
        let key = PrivateKeyDer::from_pem_slice(private_key_pem).map_err(|e| match e {
            pem::Error::NoItemsFound => TlsError::BadPrivateKey("no private key in the PEM input".into()),
            e => TlsError::BadPrivateKey(e.to_string()),
        })?;
        let roots = certs_from_pem(ca_pem)?;
        Self::new(cert_chain, key, roots)
    }

    /// Builds the configuration from DER: the node's certificate chain (leaf first), its private
    /// key, and the CA certificates to trust.
    pub fn new(
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        roots: Vec<CertificateDer<'static>>,
    ) -> Result<Self, TlsError> {
        if cert_chain.is_empty() || roots.is_empty() {
            return Err(TlsError::NoCertificate);
        }
        let provider = Arc::new(ring::default_provider());
        let certified = Arc::new(certified_key(cert_chain, key, &provider)?);

        let mut store = RootCertStore::empty();
        for root in roots {
            store
                .add(root)
                .map_err(|e| TlsError::BadCertificate(format!("CA root: {e}")))?;
        }
        let store = Arc::new(store);

        let verifier = WebPkiClientVerifier::builder_with_provider(store.clone(), provider.clone())
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(config_error)?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(Arc::clone(&certified))));
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(config_error)?
            .with_root_certificates(store)
            .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));

        Ok(Self {
            server: Arc::new(server),
            client: Arc::new(client),
            server_name: ServerName::try_from(DEFAULT_SERVER_NAME)
                .map_err(|_| TlsError::InvalidServerName(DEFAULT_SERVER_NAME.into()))?,
        })
    }

    /// Sets the name (DNS name or IP address) that a dialled node's certificate must be valid for;
    /// a DNS name is also sent as SNI. All nodes of a cluster usually share one name, e.g.
    /// `"cluster.local"`, so that one name fits every peer whatever its address.
    pub fn with_server_name(mut self, name: &str) -> Result<Self, TlsError> {
        self.server_name =
            ServerName::try_from(name.to_owned()).map_err(|_| TlsError::InvalidServerName(name.into()))?;
        Ok(self)
    }

    /// The name a dialled node's certificate is verified against.
    pub fn server_name(&self) -> &ServerName<'static> {
        &self.server_name
    }
}

/// Runs the client side of the handshake over `stream`, presenting this node's certificate and
/// verifying the peer's against the CA roots and [`TlsConfig::server_name`].
///
/// With TLS 1.3 the server judges our certificate only after this returns, so a rejection by the
/// peer may surface on the first read instead.
pub async fn connect<S>(cfg: &TlsConfig, stream: S) -> Result<client::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    TlsConnector::from(cfg.client.clone())
        .connect(cfg.server_name.clone(), stream)
        .await
        .map_err(|e| handshake_error("connect", e))
}

/// Runs the server side of the handshake over `stream`; fails unless the peer presents a
/// certificate chain issued under the CA roots.
///
/// The client's certificate is not checked against any name: membership in the cluster is
/// decided by the CA alone.
pub async fn accept<S>(cfg: &TlsConfig, stream: S) -> Result<server::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    TlsAcceptor::from(cfg.server.clone())
        .accept(stream)
        .await
        .map_err(|e| handshake_error("accept", e))
}

fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    Ok(certs)
}

/// Loads the key and checks it against the leaf once, so each failure gets its own variant
/// instead of the single `rustls::Error` the config builders would return.
fn certified_key(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| TlsError::BadPrivateKey(e.to_string()))?;
    let certified = CertifiedKey::new(cert_chain, signing_key);
    match certified.keys_match() {
        // Some key types cannot report their public half; rustls itself accepts those.
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::BadPrivateKey(
            "the private key does not match the certificate".into(),
        )),
        Err(e) => Err(TlsError::BadCertificate(e.to_string())),
    }
}

fn config_error(e: rustls::Error) -> TlsError {
    TlsError::Config(e.to_string())
}

fn handshake_error(side: &str, e: std::io::Error) -> TlsError {
    crate::trace::trace_event!(debug, side, error = %e, "TLS handshake failed");
    TlsError::Handshake(e.to_string())
}

/// TLS over TCP: every connection runs the mutual TLS handshake with `config` before the
/// node's own handshake (which still checks the cookie).
#[derive(Clone)]
pub(crate) struct TlsTransport {
    pub(crate) config: TlsConfig,
}

struct TlsListener {
    listener: tokio::net::TcpListener,
    config: TlsConfig,
}

impl Listener for TlsListener {
    fn local_addr(&self) -> SocketAddr {
        bound_addr(&self.listener)
    }

    fn accept(&mut self) -> TransportFuture<'_, std::io::Result<(Accepted, SocketAddr)>> {
        Box::pin(async move {
            let (stream, addr) = self.listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let config = self.config.clone();
            let accepted: Accepted = Box::pin(async move {
                let stream = accept(&config, stream)
                    .await
                    .map_err(|error| TransportError::Security(error.to_string()))?;
                let (read, write) = tokio::io::split(stream);
                Ok(Connection::new(read, write))
            });
            Ok((accepted, addr))
        })
    }
}

impl Transport for TlsTransport {
    fn listen(&self, addr: SocketAddr) -> TransportFuture<'_, std::io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let config = self.config.clone();
            Ok(Box::new(TlsListener { listener, config }) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: SocketAddr) -> TransportFuture<'_, Result<Connection, TransportError>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let _ = stream.set_nodelay(true);
            let stream = connect(&self.config, stream)
                .await
                .map_err(|error| TransportError::Security(error.to_string()))?;
            let (read, write) = tokio::io::split(stream);
            Ok(Connection::new(read, write))
        })
    }

    /// Membership gossip goes over UDP beside TLS, authenticated with the cookie's key.
    fn bind_datagram(
        &self,
        addr: SocketAddr,
    ) -> TransportFuture<'_, std::io::Result<Box<dyn DatagramSocket>>> {
        Box::pin(async move { super::TcpTransport.bind_datagram(addr).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    struct Pem {
        cert: String,
        key: String,
        ca: String,
    }

    fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    /// A node certificate for "localhost" usable at both ends of a connection.
    fn new_node(ca: &CertifiedIssuer<'static, KeyPair>) -> Pem {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, ca).unwrap();
        Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
            ca: ca.pem(),
        }
    }

    fn config(p: &Pem) -> TlsConfig {
        TlsConfig::from_pem(p.cert.as_bytes(), p.key.as_bytes(), p.ca.as_bytes()).unwrap()
    }

    /// Binds a listener and runs `accept` on its first connection in a task.
    async fn serve_once(
        cfg: TlsConfig,
    ) -> (
        std::net::SocketAddr,
        tokio::task::JoinHandle<Result<server::TlsStream<TcpStream>, TlsError>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            accept(&cfg, tcp).await
        });
        (addr, task)
    }

    #[tokio::test]
    async fn mutual_tls_round_trips_both_ways() {
        let ca = new_ca("cluster CA");
        let server_cfg = config(&new_node(&ca));
        let client_cfg = config(&new_node(&ca));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = accept(&server_cfg, tcp).await.unwrap();
            let mut buf = [0u8; 4];
            tls.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
            tls.write_all(b"pong").await.unwrap();
            tls.shutdown().await.unwrap();
        });

        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = connect(&client_cfg, tcp).await.unwrap();
        tls.write_all(b"ping").await.unwrap();
        tls.flush().await.unwrap();
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"pong");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn client_from_another_ca_is_rejected() {
        let ca = new_ca("cluster CA");
        let (addr, server) = serve_once(config(&new_node(&ca))).await;

        // The intruder trusts the cluster CA, so only the server's check can stop it.
        let mut intruder = new_node(&new_ca("rogue CA"));
        intruder.ca = ca.pem();
        let client_cfg = config(&intruder);

        let tcp = TcpStream::connect(addr).await.unwrap();
        let client_failed = match connect(&client_cfg, tcp).await {
            Err(TlsError::Handshake(_)) => true,
            Err(e) => panic!("unexpected error {e:?}"),
            Ok(mut tls) => {
                let _ = tls.write_all(b"hello").await;
                let mut buf = [0u8; 1];
                tls.read(&mut buf).await.is_err()
            }
        };
        assert!(client_failed, "the client must see the rejection");
        assert!(matches!(server.await.unwrap(), Err(TlsError::Handshake(_))));
    }

    #[tokio::test]
    async fn plaintext_client_is_rejected() {
        let ca = new_ca("cluster CA");
        let (addr, server) = serve_once(config(&new_node(&ca))).await;

        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"garbage").await.unwrap();
        assert!(matches!(server.await.unwrap(), Err(TlsError::Handshake(_))));
    }

    #[tokio::test]
    async fn server_with_wrong_name_is_rejected_by_client() {
        let ca = new_ca("cluster CA");
        let (addr, server) = serve_once(config(&new_node(&ca))).await;
        let client_cfg = config(&new_node(&ca)).with_server_name("other.example").unwrap();

        let tcp = TcpStream::connect(addr).await.unwrap();
        assert!(matches!(
            connect(&client_cfg, tcp).await,
            Err(TlsError::Handshake(_))
        ));
        assert!(matches!(server.await.unwrap(), Err(TlsError::Handshake(_))));
    }

    #[test]
    fn bad_pem_input_is_classified() {
        let node = new_node(&new_ca("cluster CA"));
        let (cert, key, ca) = (node.cert.as_bytes(), node.key.as_bytes(), node.ca.as_bytes());

        let no_pem = TlsConfig::from_pem(b"garbage", key, ca);
        assert!(matches!(no_pem, Err(TlsError::NoCertificate)), "{no_pem:?}");
        let no_roots = TlsConfig::from_pem(cert, key, b"garbage");
        assert!(matches!(no_roots, Err(TlsError::NoCertificate)), "{no_roots:?}");
        let no_key = TlsConfig::from_pem(cert, b"garbage", ca);
        assert!(matches!(no_key, Err(TlsError::BadPrivateKey(_))), "{no_key:?}");

        let bad_base64 = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let r = TlsConfig::from_pem(bad_base64, key, ca);
        assert!(matches!(r, Err(TlsError::BadCertificate(_))), "{r:?}");
        // Well-formed PEM around bytes that are no certificate.
        let junk_der = b"-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n";
        let r = TlsConfig::from_pem(junk_der, key, ca);
        assert!(matches!(r, Err(TlsError::BadCertificate(_))), "{r:?}");
        let r = TlsConfig::from_pem(cert, key, junk_der);
        assert!(matches!(r, Err(TlsError::BadCertificate(_))), "{r:?}");
        let junk_key = b"-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n";
        let r = TlsConfig::from_pem(cert, junk_key, ca);
        assert!(matches!(r, Err(TlsError::BadPrivateKey(_))), "{r:?}");

        let other = new_node(&new_ca("cluster CA"));
        let mismatched = TlsConfig::from_pem(cert, other.key.as_bytes(), ca);
        assert!(
            matches!(mismatched, Err(TlsError::BadPrivateKey(_))),
            "{mismatched:?}"
        );
    }

    #[test]
    fn server_name_and_debug() {
        let node = new_node(&new_ca("cluster CA"));
        let cfg = config(&node);
        assert_eq!(cfg.server_name().to_str(), DEFAULT_SERVER_NAME);
        assert!(matches!(
            cfg.clone().with_server_name("not a name!"),
            Err(TlsError::InvalidServerName(_))
        ));
        let cfg = cfg.with_server_name("127.0.0.1").unwrap();
        assert_eq!(cfg.server_name().to_str(), "127.0.0.1");

        let debug = format!("{cfg:?}");
        let key_body = node.key.lines().nth(1).unwrap();
        assert!(!debug.contains(key_body) && !debug.contains("PRIVATE"), "{debug}");
    }

    #[test]
    fn new_accepts_der() {
        let ca = new_ca("cluster CA");
        let node = new_node(&ca);
        let chain = vec![CertificateDer::from_pem_slice(node.cert.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(node.key.as_bytes()).unwrap();
        assert!(TlsConfig::new(chain.clone(), key.clone_key(), vec![ca.der().clone()]).is_ok());
        assert!(matches!(
            TlsConfig::new(chain, key, Vec::new()),
            Err(TlsError::NoCertificate)
        ));
    }
}
