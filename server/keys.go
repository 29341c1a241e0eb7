package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// DevKeyFile is the local development signing key's file name inside the data directory.
const DevKeyFile = "dev-signing-key.pem"

// SigningKey is a private key that signs tokens, with its key id.
type SigningKey struct {
	Key crypto.Signer
	KID string
	Alg string // RS256 or ES256
}

// LoadOrCreateDevKey reads DIR/dev-signing-key.pem, creating an RSA-2048 key there (mode 0600)
// the first time. The key lets the token endpoints and `authlake token` mint tokens this server
// accepts; whoever can read the data directory can mint tokens, which is the trust model of a
// single-node store.
func LoadOrCreateDevKey(dir string) (*SigningKey, error) {
	path := filepath.Join(dir, DevKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		b = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		// If two processes race (a server and `authlake token` started together), one key is
		// published whole and the other process reads it.
		if err := fsutil.CreateExclusive(vfs.Default, path, b, 0o600); errors.Is(err, fs.ErrExist) {
			if b, err = os.ReadFile(path); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
	} else if err != nil {
		return nil, err
	}
	return parseSigningKey(b, path)
}

func parseSigningKey(b []byte, name string) (*SigningKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return &SigningKey{Key: k, KID: thumbprint(publicJWK(&k.PublicKey, "", "")), Alg: "RS256"}, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s: only P-256 EC keys are supported", name)
		}
		return &SigningKey{Key: k, KID: thumbprint(publicJWK(&k.PublicKey, "", "")), Alg: "ES256"}, nil
	}
	return nil, fmt.Errorf("%s: unsupported key type %T", name, k)
}

// JWK is a public JSON Web Key (RFC 7517) of the kinds this server handles.
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS is a key set document.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

var b64 = base64.RawURLEncoding

func publicJWK(pub crypto.PublicKey, kid, alg string) JWK {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return JWK{Kty: "RSA", Use: "sig", Kid: kid, Alg: alg, N: b64.EncodeToString(k.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, err := k.Bytes() // uncompressed point: 0x04 || X || Y
		if err != nil || len(raw) != 65 {
			panic(fmt.Sprintf("BUG: P-256 public key encodes to %d bytes: %v", len(raw), err))
		}
		x, y := raw[1:33], raw[33:]
		return JWK{Kty: "EC", Use: "sig", Kid: kid, Alg: alg, Crv: "P-256", X: b64.EncodeToString(x), Y: b64.EncodeToString(y)}
	}
	panic(fmt.Sprintf("BUG: unsupported public key %T", pub))
}

// thumbprint is the RFC 7638 JWK thumbprint: a stable key id derived from the key itself.
func thumbprint(j JWK) string {
	var s string
	if j.Kty == "RSA" {
		s = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, j.E, j.N)
	} else {
		s = fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, j.Crv, j.X, j.Y)
	}
	h := sha256.Sum256([]byte(s))
	return b64.EncodeToString(h[:])
}

// JWK returns the public half of the key.
func (k *SigningKey) JWK() JWK { return publicJWK(k.Key.Public(), k.KID, k.Alg) }

// verificationKey is a parsed public key usable to check signatures.
type verificationKey struct {
	kid string
	key crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey
}

// parseJWKS turns a JWKS document into verification keys. Keys of other types (and encryption
// keys) are skipped rather than failing the set, since Entra's set may grow new kinds.
func parseJWKS(b []byte) ([]verificationKey, error) {
	var set JWKS
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS document: %w", err)
	}
	var out []verificationKey
	for i, j := range set.Keys {
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		switch j.Kty {
		case "RSA":
			n, err1 := b64.DecodeString(j.N)
			e, err2 := b64.DecodeString(j.E)
			if err1 != nil || err2 != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
				return nil, fmt.Errorf("keys[%d]: bad RSA key (need a modulus of at least 2048 bits)", i)
			}
			out = append(out, verificationKey{kid: j.Kid, key: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}})
		case "EC":
			if j.Crv != "P-256" {
				continue
			}
			x, err1 := b64.DecodeString(j.X)
			y, err2 := b64.DecodeString(j.Y)
			if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
				return nil, fmt.Errorf("keys[%d]: bad P-256 key", i)
			}
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				return nil, fmt.Errorf("keys[%d]: %w", i, err)
			}
			out = append(out, verificationKey{kid: j.Kid, key: pub})
		}
	}
	return out, nil
}
