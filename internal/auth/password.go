// Package auth hashes passwords, issues and checks session tokens, and limits log-in attempts.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// ErrWeakPassword is returned for a password that breaks the rules; its message says which.
var ErrWeakPassword = errors.New("weak password")

// Params are argon2id's cost parameters. They are stored in every hash, so they can be raised
// later without invalidating existing hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 iterations, 1 thread).
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const saltLen, keyLen = 16, 32

// CheckPasswordStrength rejects passwords that are too short, too long or all one character.
func CheckPasswordStrength(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Errorf("%w: use at most %d characters", ErrWeakPassword, MaxPasswordLength)
	case strings.Count(password, password[:1]) == len(password):
		return fmt.Errorf("%w: use more than one distinct character", ErrWeakPassword)
	}
	return nil
}

// HashPassword returns the PHC-format argon2id hash of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(password string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches hash. A malformed hash never matches.
func VerifyPassword(password, hash string) bool {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

func parseHash(hash string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, err
	}
	if p.Memory == 0 || p.Memory > 1<<22 || p.Time == 0 || p.Time > 20 || p.Threads == 0 {
		return p, nil, nil, errors.New("argon2 parameters out of range")
	}
	enc := base64.RawStdEncoding
	if salt, err = enc.DecodeString(parts[4]); err != nil {
		return p, nil, nil, err
	}
	if key, err = enc.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, errors.New("bad argon2 key")
	}
	return p, salt, key, nil
}

// dummyHash is verified against when an account does not exist, so that a failed log-in
// takes as long for an unknown email as for a wrong password. Only its parameters and salt
// decide that time, so its key is made up rather than hashed: hashing at start-up would cost
// every process DefaultParams' 19 MiB before anyone logs in.
var dummyHash = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
	argon2.Version, DefaultParams.Memory, DefaultParams.Time, DefaultParams.Threads,
	base64.RawStdEncoding.EncodeToString([]byte("multidb-no-salt!")),
	base64.RawStdEncoding.EncodeToString([]byte("multidb: no account has this key")))

// VerifyNoAccount spends the time of one VerifyPassword and reports false.
func VerifyNoAccount(password string) bool {
	VerifyPassword(password, dummyHash)
	return false
}
