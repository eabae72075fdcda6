package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// tokenPrefix marks multidb session tokens, so that leaked ones are easy to scan for.
const tokenPrefix = "mdb_"

// ErrMalformedToken is returned for a bearer token that multidb could not have issued.
var ErrMalformedToken = errors.New("malformed session token")

// NewToken returns a random opaque session token (32 bytes of entropy) and the hash to store.
// Only the hash is kept: a leaked database does not leak usable tokens.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns the stored form of a token. SHA-256 suffices: tokens are random, not
// guessable like passwords.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ParseBearer extracts the token from an Authorization header value. It returns "" and no
// error when the header is empty (an anonymous caller).
func ParseBearer(header string) (string, error) {
	if header == "" {
		return "", nil
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrMalformedToken
	}
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return "", ErrMalformedToken
	}
	if _, err := base64.RawURLEncoding.DecodeString(token[len(tokenPrefix):]); err != nil {
		return "", ErrMalformedToken
	}
	return token, nil
}
