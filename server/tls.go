package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// TLS. Microsoft's Graph clients attach the bearer token, and follow nextLinks, only over https,
// and a token is a credential: the server speaks TLS (HTTP/2 and HTTP/1.1) with a certificate
// the operator gives, or with a development certificate it makes in the data directory.

// TLSConfig says how the server speaks TLS.
type TLSConfig struct {
	// CertFile and KeyFile are a PEM certificate (chain) and its private key.
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// SelfSigned makes (once) and uses DIR/tls/dev-cert.pem and dev-key.pem: a development
	// certificate for localhost, 127.0.0.1, ::1 and the listen host. Clients must trust it
	// explicitly (curl --cacert DIR/tls/dev-cert.pem).
	SelfSigned bool `yaml:"selfSigned"`
}

// Enabled reports whether the server speaks TLS.
func (c TLSConfig) Enabled() bool { return c.CertFile != "" || c.SelfSigned }

func (c TLSConfig) validate() error {
	switch {
	case c.SelfSigned && (c.CertFile != "" || c.KeyFile != ""):
		return errors.New("tls: give a certificate and key, or selfSigned, not both")
	case (c.CertFile == "") != (c.KeyFile == ""):
		return errors.New("tls: certFile and keyFile go together")
	}
	return nil
}

// DevCertPaths are the development certificate and key in a data directory.
func DevCertPaths(dataDir string) (cert, key string) {
	d := filepath.Join(dataDir, "tls")
	return filepath.Join(d, "dev-cert.pem"), filepath.Join(d, "dev-key.pem")
}

// loadTLS returns the server's certificate: the configured one, or the data directory's
// development certificate (made on first use, and again when it is about to expire or does not
// name host). A certificate's validity is checked by clients against their real clocks, so it
// is the one decision here made on the wall clock, not on the server's (possibly injected) one.
func loadTLS(c TLSConfig, dataDir, host string) (tls.Certificate, error) {
	now := time.Now()
	if !c.SelfSigned {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return cert, fmt.Errorf("tls: load %s and %s: %w", c.CertFile, c.KeyFile, err)
		}
		return cert, nil
	}
	certPath, keyPath := DevCertPaths(dataDir)
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && cert.Leaf != nil &&
		now.Before(cert.Leaf.NotAfter.Add(-24*time.Hour)) && cert.Leaf.VerifyHostname(host) == nil {
		return cert, nil
	}
	if err := makeDevCert(certPath, keyPath, host, now); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

func makeDevCert(certPath, keyPath, host string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "authlake development certificate", Organization: []string{"authlake"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// Its own issuer: clients trust this one certificate (curl --cacert), nothing else.
		BasicConstraintsValid: true, IsCA: true,
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host != "" && host != "localhost" {
		if ip := net.ParseIP(host); ip != nil {
			if !ip.IsLoopback() && !ip.IsUnspecified() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, host)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return err
	}
	if err := writePrivate(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return err
	}
	return writePrivate(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// writePrivate replaces path atomically (and durably) with mode 0600.
func writePrivate(path string, b []byte) error {
	return fsutil.WriteFileAtomic(vfs.Default, path, b, 0o600, false)
}

// Fingerprint is the SHA-256 fingerprint of a certificate, as browsers show it.
func Fingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
