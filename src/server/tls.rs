//! HTTPS for `serve --tls`: both providers refuse plain HTTP, so clients that insist on https
//! can be pointed at the fake. A self-signed certificate is generated at start unless files
//! are given.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// TLS that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate or key file cannot be read or parsed.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The self-signed certificate cannot be generated or written.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    /// rustls refuses the certificate and key.
    #[error("invalid certificate or key")]
    Config(#[from] rustls::Error),
}

/// A ready TLS acceptor and the certificate clients must trust.
#[derive(Clone)]
pub struct Tls {
    /// The acceptor.
    pub acceptor: TlsAcceptor,
    /// The certificate (PEM) to give clients.
    pub certificate: PathBuf,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("certificate", &self.certificate)
            .finish()
    }
}

impl Tls {
    /// A self-signed certificate for `localhost`, `127.0.0.1` and `::1` (plus `host`), written
    /// as `cert.pem` and `key.pem` into `dir`.
    pub fn self_signed(dir: &Path, host: &str) -> Result<Tls, TlsError> {
        let mut names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        if !names.iter().any(|n| n == host) && !host.is_empty() && host != "0.0.0.0" && host != "::"
        {
            names.push(host.to_owned());
        }
        let generated = rcgen::generate_simple_self_signed(names)
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| TlsError::Generate(format!("{}: {e}", dir.display())))?;
        // A directory left by an earlier version may be wider.
        #[cfg(unix)]
        std::fs::set_permissions(
            dir,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700),
        )
        .map_err(|e| TlsError::Generate(format!("{}: {e}", dir.display())))?;
        let certificate = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&certificate, generated.cert.pem())
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        write_private(&key, generated.signing_key.serialize_pem().as_bytes())
            .map_err(|e| TlsError::Generate(format!("{}: {e}", key.display())))?;
        Tls::from_files(&certificate, &key)
    }

    /// A directory for a certificate this run generates for itself: created with an
    /// unpredictable name and mode 0700 under the temporary directory, removed when the
    /// returned value drops (issue 15: a predictable `/tmp` path could be taken over first).
    pub fn private_dir() -> Result<tempfile::TempDir, TlsError> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("einvoice-mock-tls-");
        #[cfg(unix)]
        let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
        #[cfg(unix)]
        builder.permissions(private);
        builder
            .tempdir()
            .map_err(|e| TlsError::Generate(format!("temporary directory: {e}")))
    }

    /// A certificate chain and private key from PEM files.
    ///
    /// The key is the one secret on disk: written readable by its owner only.
    pub fn from_files(certificate: &Path, key: &Path) -> Result<Tls, TlsError> {
        let read_error = |path: &Path, e: rustls_pki_types::pem::Error| TlsError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let chain = CertificateDer::pem_file_iter(certificate)
            .map_err(|e| read_error(certificate, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| read_error(certificate, e))?;
        let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| read_error(key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            certificate: certificate.to_path_buf(),
        })
    }
}

/// Writes a private key readable and writable by its owner only (0600), also when the file was
/// there before with wider permissions.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let mut file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut file = options.open(path)?;
        file.write_all(bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_generated_key_is_0600_in_a_private_directory_with_an_unpredictable_name() {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let first = Tls::private_dir().unwrap();
        let second = Tls::private_dir().unwrap();
        assert_ne!(first.path(), second.path());
        let name = first.path().file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("einvoice-mock-tls-"), "{name}");
        assert!(!name.contains(&std::process::id().to_string()), "{name}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(first.path()), 0o700);
        let tls = Tls::self_signed(first.path(), "localhost").unwrap();
        assert_eq!(mode(&first.path().join("key.pem")), 0o600);
        assert!(tls.certificate.exists());
        let kept = first.path().to_path_buf();
        drop(first);
        assert!(!kept.exists(), "removed when dropped");
    }
}
