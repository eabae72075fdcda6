package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestPasswordHashing(t *testing.T) {
	hash, err := HashPassword("correct horse battery", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not in PHC argon2id form", hash)
	}
	if !VerifyPassword("correct horse battery", hash) {
		t.Error("the right password does not verify")
	}
	for _, wrong := range []string{"correct horse batterY", "", "correct horse battery "} {
		if VerifyPassword(wrong, hash) {
			t.Errorf("%q verifies, want it refused", wrong)
		}
	}
	again, _ := HashPassword("correct horse battery", DefaultParams)
	if again == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=0,t=0,p=0$AA$AA", "$bcrypt$x$y$z$w"} {
		if VerifyPassword("x", bad) {
			t.Errorf("malformed hash %q verifies", bad)
		}
	}
}

func TestUnknownAccountTakesAsLongAsAWrongPassword(t *testing.T) {
	hash, _ := HashPassword("correct horse battery", DefaultParams)
	// The fastest of several tries is what the work costs; slower tries only measure a busy
	// machine, which is what makes timing comparisons flaky.
	measure := func(f func()) time.Duration {
		best := time.Duration(1 << 62)
		for range 7 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	wrong := measure(func() { VerifyPassword("wrong password", hash) })
	unknown := measure(func() { VerifyNoAccount("wrong password") })
	if ratio := float64(unknown) / float64(wrong); ratio < 0.5 || ratio > 2 {
		t.Errorf("unknown account took %v, wrong password %v; want about the same", unknown, wrong)
	}
}

func TestPasswordStrength(t *testing.T) {
	tests := map[string]bool{"short": false, "aaaaaaaaaaaa": false, "ten chars!": true, strings.Repeat("x", 257): false, "long enough passphrase": true}
	for pw, ok := range tests {
		err := CheckPasswordStrength(pw)
		if (err == nil) != ok {
			t.Errorf("%q: got %v, want ok=%v", pw, err, ok)
		}
		if err != nil && !errors.Is(err, ErrWeakPassword) {
			t.Errorf("%q: error %v is not ErrWeakPassword", pw, err)
		}
	}
}

func TestTokens(t *testing.T) {
	token, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if HashToken(token) != hash || strings.Contains(hash, token) {
		t.Errorf("hash %q of token %q: want a SHA-256 that does not hold the token", hash, token)
	}
	got, err := ParseBearer("Bearer " + token)
	if err != nil || got != token {
		t.Errorf("ParseBearer: got %q %v, want the token", got, err)
	}
	if got, err := ParseBearer(""); got != "" || err != nil {
		t.Errorf("empty header: got %q %v, want anonymous", got, err)
	}
	for _, bad := range []string{"Basic abc", "Bearer", "Bearer mdb_short", "Bearer " + token[:len(token)-1] + "!", "bearer" + token} {
		if _, err := ParseBearer(bad); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("%q: got %v, want ErrMalformedToken", bad, err)
		}
	}
	other, _, _ := NewToken()
	if other == token {
		t.Error("two tokens are equal")
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	for i := range 3 {
		if !l.Allow("ada@example.com") {
			t.Fatalf("attempt %d refused, want the burst of 3 allowed", i+1)
		}
	}
	if l.Allow("ada@example.com") {
		t.Error("fourth attempt allowed, want refused")
	}
	if !l.Allow("grace@example.com") {
		t.Error("another key refused, want keys independent")
	}
	now = now.Add(time.Minute)
	if !l.Allow("ada@example.com") {
		t.Error("attempt after a refill refused")
	}
}

func FuzzParseBearer(f *testing.F) {
	token, _, _ := NewToken()
	for _, s := range []string{"Bearer " + token, "", "Bearer", "Bearer  mdb_", "Basic x", "bearer " + token + " extra"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := ParseBearer(header)
		if err == nil && tok != "" && (!strings.HasPrefix(tok, tokenPrefix) || len(tok) != len(tokenPrefix)+43) {
			t.Fatalf("%q accepted as token %q", header, tok)
		}
	})
}

func TestViewerInContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := FromContext(ctx); ok {
		t.Error("a bare context carries a viewer")
	}
	if IsSystem(ctx) {
		t.Error("a bare context is the system's")
	}
	id := uuid.Must(uuid.NewV7())
	cases := []struct {
		v                Viewer
		anonymous, admin bool
		name             string
	}{
		{Viewer{}, true, false, "anonymous"},
		{Viewer{UserID: id, Role: RoleUser}, false, false, id.String()},
		{Viewer{UserID: id, Role: RoleAdmin}, false, true, id.String()},
		// A role with no user is no admin.
		{Viewer{Role: RoleAdmin}, true, false, "anonymous"},
	}
	for _, c := range cases {
		got, ok := FromContext(NewContext(ctx, c.v))
		if !ok || got != c.v || got.Anonymous() != c.anonymous || got.Admin() != c.admin || got.String() != c.name {
			t.Errorf("%+v: got %+v (ok %v), anonymous %v, admin %v, %q", c.v, got, ok, got.Anonymous(), got.Admin(), got.String())
		}
	}
	if !IsSystem(SystemContext(ctx)) {
		t.Error("SystemContext is not the system's")
	}
}
