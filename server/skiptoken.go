package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
)

// The query layer's skiptoken says where a page ended. The server seals it with the tenant and
// API version under a key derived from the development signing key, so a token is opaque, cannot
// be edited, and is useless in another tenant or version (it would be a 400 there, not a page
// of someone else's position). Deriving the key from the stored signing key keeps nextLinks
// valid across restarts.
const (
	skipTokenVersion = 1
	skipTokenMACLen  = 12
	maxSkipTokenLen  = 4096
)

var errBadSkipToken = errors.New("the $skiptoken is not valid for this request")

func skipTokenKey(k *SigningKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		panic("BUG: signing key not marshalable: " + err.Error())
	}
	m := hmac.New(sha256.New, der)
	m.Write([]byte("authlake skiptoken v1"))
	return m.Sum(nil)
}

func skipMAC(key []byte, scope string, inner []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write(inner)
	return m.Sum(nil)[:skipTokenMACLen]
}

// sealSkipToken wraps the query layer's token for scope (tenant and version).
func sealSkipToken(key []byte, scope, inner string) string {
	b := make([]byte, 0, 1+skipTokenMACLen+len(inner))
	b = append(b, skipTokenVersion)
	b = append(b, skipMAC(key, scope, []byte(inner))...)
	b = append(b, inner...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// openSkipToken checks and unwraps a token made by sealSkipToken for the same scope.
func openSkipToken(key []byte, scope, tok string) (string, error) {
	if len(tok) == 0 || len(tok) > maxSkipTokenLen {
		return "", errBadSkipToken
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 1+skipTokenMACLen || b[0] != skipTokenVersion {
		return "", errBadSkipToken
	}
	mac, inner := b[1:1+skipTokenMACLen], b[1+skipTokenMACLen:]
	if !hmac.Equal(mac, skipMAC(key, scope, inner)) {
		return "", errBadSkipToken
	}
	return string(inner), nil
}
