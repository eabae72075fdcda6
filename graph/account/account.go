// Package account signs users up and in: it checks passwords, issues, checks and revokes
// session tokens, and limits log-in attempts. It is the one place that reads and writes with
// auth.SystemContext, for what no viewer may do by themselves: finding an account by its
// email, creating an account and its sessions, and turning a token into a viewer.
package account

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/ent/users/session"
	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
)

// DefaultSessionTTL is how long a session lasts unless Options say otherwise: 30 days.
const DefaultSessionTTL = 720 * time.Hour

// ErrInvalidSession is the error of a token that names no live session: unknown, expired or
// revoked. The three are not told apart, so that a token cannot be probed.
var ErrInvalidSession = errors.New("invalid, expired or revoked session; log in again")

// errCredentials is the one answer to a failed log-in, whether the email exists or not.
var errCredentials = apierror.Unauthenticatedf("wrong email or password")

// errTooMany is the answer over a rate limit; it says nothing of the account either.
var errTooMany = &apierror.Error{Code: apierror.TooManyRequests, Message: "too many attempts; wait a minute and try again"}

// Options configure a Service.
type Options struct {
	// SessionTTL is how long a session lasts; DefaultSessionTTL when zero.
	SessionTTL time.Duration
	// PerEmail limits logIn attempts on one email from one client address, so that what a
	// stranger tries elsewhere never counts against the owner's address. PerIP limits logIn,
	// signUp and email changes (updateUser) per client address. PerAccount limits failed
	// logIn attempts on one email from all addresses together, so that guessing from many
	// addresses stays bounded; past it, only addresses the account logged in from before
	// (Known) may still try. Nil means no limit.
	PerEmail, PerIP, PerAccount *auth.Limiter
	// Known remembers the addresses each account logged in from; a default one when nil.
	Known *auth.KnownAddresses
	// Hashes bounds the argon2id hashes running and waiting; a default gate when nil.
	Hashes *auth.HashGate
	// SessionCacheTTL is how long Authenticate reuses a session lookup (0: not at all), and
	// SessionCacheEntries how many it keeps (DefaultSessionCacheEntries when zero).
	SessionCacheTTL     time.Duration
	SessionCacheEntries int
}

// Service signs users up and in over a users client of package access.
type Service struct {
	users    *users.Client
	o        Options
	now      func() time.Time
	sessions *sessionCache // nil when off
}

// New returns a Service over c, a client whose rules let auth.SystemContext through.
func New(c *users.Client, o Options) *Service {
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.Hashes == nil {
		o.Hashes = auth.NewHashGate(0, -1, 0)
	}
	if o.Known == nil {
		o.Known = auth.NewKnownAddresses(o.SessionTTL, 100_000)
	}
	if o.SessionCacheEntries <= 0 {
		o.SessionCacheEntries = DefaultSessionCacheEntries
	}
	s := &Service{users: c, o: o, now: time.Now, sessions: newSessionCache(o.SessionCacheTTL, o.SessionCacheEntries)}
	if s.sessions != nil {
		c.User.Use(s.sessions.hook)
		c.Session.Use(s.sessions.hook)
	}
	return s
}

// Session is a session just issued. Token is its only copy: only its hash is stored.
type Session struct {
	Token     string
	ExpiresAt time.Time
	User      *users.User
}

// SignUp creates a USER account and its first session. ip is the client's address, for the
// rate limit.
func (s *Service) SignUp(ctx context.Context, email, password, name, ip string) (*Session, error) {
	if !s.allow(s.o.PerIP, ip) {
		return nil, errTooMany
	}
	hash, err := s.hashNew(ctx, password)
	if err != nil {
		return nil, err
	}
	u, err := s.users.User.Create().
		SetEmail(email).SetName(name).SetRole(user.RoleUSER).SetPasswordHash(hash).
		Save(auth.SystemContext(ctx))
	if err != nil {
		if database.UniqueViolation(err) {
			return nil, apierror.BadInput("email already in use")
		}
		return nil, apierror.Database("users", err)
	}
	return s.issue(ctx, u)
}

// LogIn checks an email and password and issues a session. A wrong password and an unknown
// email take the same time and give the same error.
func (s *Service) LogIn(ctx context.Context, email, password, ip string) (*Session, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !s.allow(s.o.PerIP, ip) || !s.allow(s.o.PerEmail, email+"\x00"+ip) {
		return nil, errTooMany
	}
	if s.o.PerAccount != nil && !s.o.PerAccount.Ready(email) && !s.o.Known.Known(email, ip) {
		return nil, errTooMany
	}
	u, err := s.users.User.Query().Where(user.Email(email)).Only(auth.SystemContext(ctx))
	ok := false
	switch {
	case users.IsNotFound(err):
		err = s.verify(ctx, func() { auth.VerifyNoAccount(password) })
	case err != nil:
		return nil, apierror.Database("users", err)
	case u.PasswordHash == "":
		// An account made without a password (by an admin, or a seed) cannot log in.
		err = s.verify(ctx, func() { auth.VerifyNoAccount(password) })
	default:
		err = s.verify(ctx, func() { ok = auth.VerifyPassword(password, u.PasswordHash) })
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		if s.o.PerAccount != nil {
			s.o.PerAccount.Take(email)
		}
		return nil, errCredentials
	}
	s.o.Known.Remember(email, ip)
	return s.issue(ctx, u)
}

// AllowEmailCheck counts an attempt that may tell whether an email is taken (an email change
// through updateUser) against the address's budget, which signUp shares: false over it.
func (s *Service) AllowEmailCheck(ip string) bool {
	return s.allow(s.o.PerIP, ip)
}

// HashForCreate hashes the password of an account an admin creates. The viewer is checked
// first, so that a refused createUser costs no hash; the access rules check it again when
// the account is written.
func (s *Service) HashForCreate(ctx context.Context, password string) (string, error) {
	if v, _ := auth.FromContext(ctx); !v.Admin() {
		return "", apierror.Forbiddenf("only an admin may create users")
	}
	return s.hashNew(ctx, password)
}

// hashNew is HashNewPassword through the gate of the hashes running at once.
func (s *Service) hashNew(ctx context.Context, password string) (hash string, err error) {
	if err := auth.CheckPasswordStrength(password); err != nil {
		return "", &apierror.Error{Code: apierror.BadUserInput, Message: err.Error()}
	}
	if gerr := s.verify(ctx, func() { hash, err = HashNewPassword(password) }); gerr != nil {
		return "", gerr
	}
	return hash, err
}

// verify runs fn, an argon2id hash, through the gate: TOO_MANY_REQUESTS when too many run.
func (s *Service) verify(ctx context.Context, fn func()) error {
	switch err := s.o.Hashes.Do(ctx, fn); {
	case errors.Is(err, auth.ErrBusy):
		return errBusy
	case err != nil:
		return &apierror.Error{Code: apierror.Timeout, Message: "the request ended before the password could be checked", Cause: err}
	}
	return nil
}

// errBusy is the answer when too many passwords are being hashed at once.
var errBusy = &apierror.Error{Code: apierror.TooManyRequests, Message: "too many sign-ins at once; try again in a moment"}

func (s *Service) allow(l *auth.Limiter, key string) bool {
	return l == nil || l.Allow(key)
}

func (s *Service) issue(ctx context.Context, u *users.User) (*Session, error) {
	token, expires, err := Issue(ctx, s.users, u.ID, s.now().Add(s.o.SessionTTL))
	if err != nil {
		return nil, err
	}
	// Each log-in clears the user's dead sessions, so the table holds live ones and the few
	// that ended since: no sweeper to run. A failure here costs nothing but a row kept longer.
	_, _ = s.users.Session.Delete().
		Where(session.UserID(u.ID), session.Or(session.ExpiresAtLT(s.now().UTC()), session.RevokedAtNotNil())).
		Exec(context.WithValue(auth.SystemContext(ctx), keepCacheKey{}, true))
	return &Session{Token: token, ExpiresAt: expires, User: u}, nil
}

// Issue stores a new session of the user id that lasts until expires, and returns its token.
// Tools and tests that need a bearer token for an existing account use it too.
func Issue(ctx context.Context, c *users.Client, id uuid.UUID, expires time.Time) (token string, _ time.Time, err error) {
	token, hash, err := auth.NewToken()
	if err != nil {
		return "", time.Time{}, err
	}
	// Stored in UTC so that SQLite, which compares times as text, orders them right.
	expires = expires.UTC().Truncate(time.Microsecond)
	err = c.Session.Create().SetUserID(id).SetTokenHash(hash).SetExpiresAt(expires).
		SetCreatedAt(time.Now().UTC()).Exec(auth.SystemContext(ctx))
	if err != nil {
		return "", time.Time{}, apierror.Database("users", err)
	}
	return token, expires, nil
}

// Authenticate returns the viewer of a bearer token, with one indexed statement: the user
// joined to a live session of the token's hash. ErrInvalidSession when there is none. A
// live session's viewer is reused for Options.SessionCacheTTL.
func (s *Service) Authenticate(ctx context.Context, token string) (auth.Viewer, error) {
	hash := auth.HashToken(token)
	now := s.now()
	v, ok, gen := s.sessions.get(hash, now)
	if ok {
		return ownSelf(v), nil
	}
	v, err := s.lookUp(ctx, hash, now)
	if err == nil && s.sessions != nil {
		kept := ownSelf(v)
		if u, ok := kept.Self.(*users.User); ok && u != nil {
			u.PasswordHash = "" // nothing reads it from a viewer; no need to keep it
		}
		s.sessions.put(hash, kept, gen, now)
	}
	return v, err
}

// ownSelf returns v with a copy of its user row: a request never shares a row with another.
func ownSelf(v auth.Viewer) auth.Viewer {
	if u, ok := v.Self.(*users.User); ok && u != nil {
		c := *u
		v.Self = &c
	}
	return v
}

// Recheck is Authenticate without the cache: what the users database says now.
func (s *Service) Recheck(ctx context.Context, token string) (auth.Viewer, error) {
	return s.lookUp(ctx, auth.HashToken(token), s.now())
}

// lookUp reads the viewer of the token hash from the users database.
func (s *Service) lookUp(ctx context.Context, hash string, now time.Time) (auth.Viewer, error) {
	u, err := s.users.User.Query().
		Where(user.HasSessionsWith(session.TokenHash(hash), session.RevokedAtIsNil(), session.ExpiresAtGT(now.UTC()))).
		Only(auth.SystemContext(ctx))
	switch {
	case users.IsNotFound(err):
		return auth.Viewer{}, ErrInvalidSession
	case err != nil:
		return auth.Viewer{}, apierror.Database("users", err)
	}
	return auth.Viewer{UserID: u.ID, Role: auth.Role(u.Role), TokenHash: hash, Self: u}, nil
}

// LogOut revokes the session the viewer's request came with.
func (s *Service) LogOut(ctx context.Context) error {
	// Sessions are internal to the server (no rule opens them to a viewer): the predicate on
	// the viewer's own token is the rule here.
	v, _ := auth.FromContext(ctx)
	_, err := s.users.Session.Update().
		Where(session.UserID(v.UserID), session.TokenHash(v.TokenHash), session.RevokedAtIsNil()).
		SetRevokedAt(s.now().UTC()).Save(auth.SystemContext(ctx))
	return apierror.Database("users", err)
}

// RevokeAll revokes every live session of the viewer, the current one too, and returns how
// many it revoked.
func (s *Service) RevokeAll(ctx context.Context) (int, error) {
	v, _ := auth.FromContext(ctx)
	now := s.now().UTC()
	n, err := s.users.Session.Update().
		Where(session.UserID(v.UserID), session.RevokedAtIsNil(), session.ExpiresAtGT(now)).
		SetRevokedAt(now).Save(auth.SystemContext(ctx))
	return n, apierror.Database("users", err)
}

// HashNewPassword checks a new password against auth's rules and hashes it; a weak one is
// BAD_USER_INPUT, saying what is wrong.
func HashNewPassword(password string) (string, error) {
	if err := auth.CheckPasswordStrength(password); err != nil {
		return "", &apierror.Error{Code: apierror.BadUserInput, Message: err.Error()}
	}
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		return "", &apierror.Error{Code: apierror.Internal, Message: "internal error", Cause: err}
	}
	return hash, nil
}
