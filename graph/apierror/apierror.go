// Package apierror gives every GraphQL error an extensions.code: the codes, the errors the
// graph returns on purpose, and the presenter that classifies all others and hides internals.
package apierror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/multidb/multidb/internal/database"
)

// The codes clients switch on, in extensions.code. gqlgen's own GRAPHQL_PARSE_FAILED and
// GRAPHQL_VALIDATION_FAILED (and APQ's PERSISTED_QUERY_NOT_FOUND) pass through unchanged.
const (
	BadUserInput    = "BAD_USER_INPUT"
	NotFound        = "NOT_FOUND"
	Internal        = "INTERNAL"
	Unauthenticated = "UNAUTHENTICATED"
	Forbidden       = "FORBIDDEN"
	// DatabaseUnavailable means a database could not be reached or had no connection free
	// (database.UnavailableError): the fields from it are null, the rest of the answer stands.
	DatabaseUnavailable = "DATABASE_UNAVAILABLE"
	// TooManyRequests refuses a log-in or sign-up over the rate limit of its email or address.
	TooManyRequests = "TOO_MANY_REQUESTS"
	// Timeout means the request ran out of its time limit and its statements were cancelled.
	// extensions.database names the database it was waiting on, when it was waiting on one.
	Timeout = "TIMEOUT"
	// DatabaseBusy means every connection of a database stayed in use for the whole wait
	// (database.BusyError): the database is up, a retry soon is likely to work.
	DatabaseBusy = "DATABASE_BUSY"
	// BadRequest refuses an HTTP request that carries no GraphQL operation: a body that is
	// not JSON, a query that is missing or not a string, another content type, a batch too big.
	BadRequest = "BAD_REQUEST"
	// SlowConsumer ends a subscription whose client read its messages slower than they came,
	// past the subscription's buffer: resubscribe with the last cursor received.
	SlowConsumer = "SLOW_CONSUMER"
	// MethodNotAllowed refuses a mutation by GET, or a method other than GET and POST.
	MethodNotAllowed = "METHOD_NOT_ALLOWED"
)

// The codes gqlgen and its extensions set, listed here so that every code a client may meet
// has a name in this package (and a line in README).
const (
	ParseFailed             = "GRAPHQL_PARSE_FAILED"
	ValidationFailed        = "GRAPHQL_VALIDATION_FAILED"
	ComplexityLimitExceeded = "COMPLEXITY_LIMIT_EXCEEDED"
	PersistedQueryNotFound  = "PERSISTED_QUERY_NOT_FOUND"
)

// internalMessage is all a client learns of an unexpected error; the log has the rest.
const internalMessage = "internal error"

// Error is an error meant for the client: its message is shown as is, with its code.
// Cause, when set, is what went wrong underneath: it is logged, never shown.
type Error struct {
	Code    string
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// BadInput returns a BAD_USER_INPUT error with a formatted message.
func BadInput(format string, args ...any) error {
	return &Error{Code: BadUserInput, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NOT_FOUND error with a formatted message.
func NotFoundf(format string, args ...any) error {
	return &Error{Code: NotFound, Message: fmt.Sprintf(format, args...)}
}

// Unauthenticatedf returns an UNAUTHENTICATED error with a formatted message.
func Unauthenticatedf(format string, args ...any) error {
	return &Error{Code: Unauthenticated, Message: fmt.Sprintf(format, args...)}
}

// Forbiddenf returns a FORBIDDEN error with a formatted message.
func Forbiddenf(format string, args ...any) error {
	return &Error{Code: Forbidden, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code the client will see for err, as far as it can be told without the
// request: the code of an *Error, or of a gqlerror that carries one; "" otherwise.
func CodeOf(err error) string {
	var own *Error
	if errors.As(err, &own) {
		return own.Code
	}
	var gerr *gqlerror.Error
	if errors.As(err, &gerr) {
		if code, ok := gerr.Extensions["code"].(string); ok {
			return code
		}
	}
	var down *database.UnavailableError
	if errors.As(err, &down) {
		return DatabaseUnavailable
	}
	if errors.As(err, new(*database.ShareExceededError)) {
		return TooManyRequests
	}
	if code := databaseCode(err); code != "" {
		return code
	}
	switch {
	case isInput(err):
		return BadUserInput
	case isNotFound(err):
		return NotFound
	}
	return ""
}

// DatabaseError is a failure of one database. The client sees which database failed, so that
// it can tell a partial result from a wrong one, but never the driver's message.
type DatabaseError struct {
	Database string
	Err      error
}

func (e *DatabaseError) Error() string { return e.Database + ": " + e.Err.Error() }
func (e *DatabaseError) Unwrap() error { return e.Err }

// Database wraps err, a failure of the named database; nil stays nil. Errors meant for the
// client (an *Error, a gqlerror, a validation or not-found error of ent) are returned as they are.
func Database(name string, err error) error {
	if err == nil || errors.As(err, new(*Error)) || errors.As(err, new(*DatabaseError)) ||
		errors.As(err, new(*gqlerror.Error)) || isInput(err) || isNotFound(err) {
		return err
	}
	if typed := database.Classify(name, err); typed != err {
		return typed // a cut connection met while reading rows, outside the driver's guard
	}
	return &DatabaseError{Database: name, Err: err}
}

// Save is Database for the error of a create or update: a unique constraint the row would
// break is the client's input, not a failure of the database.
func Save(name string, err error) error {
	var c interface{ Constraint() bool }
	if errors.As(err, &c) && c.Constraint() {
		return BadInput("a %s row with these values exists already", name)
	}
	return Database(name, err)
}

// validation returns the field and message of an ent validation error of any client (every
// client's ValidationError has a Field method, from ent/xdbgen).
func validation(err error) (field, msg string, ok bool) {
	var v interface {
		Field() string
		Unwrap() error
	}
	if !errors.As(err, &v) {
		return "", "", false
	}
	field, wrapper := v.Field(), v.Unwrap()
	// ent wraps the validator's own error in `<client>: validator failed for field "T.f": ...`;
	// the validator's message reads better after the field name.
	if inner := errors.Unwrap(wrapper); inner != nil {
		return field, fmt.Sprintf("invalid %s: %v", field, inner), true
	}
	return field, wrapper.Error(), true
}

func isInput(err error) bool {
	if _, _, ok := validation(err); ok {
		return true
	}
	for _, spec := range database.Registry {
		if slices.ContainsFunc(spec.InputErrors, func(target error) bool { return errors.Is(err, target) }) {
			return true
		}
	}
	return false
}

// isNotFound reports ent's not-found error of any client.
func isNotFound(err error) bool {
	var nf interface{ NotFound() bool }
	return errors.As(err, &nf) && nf.NotFound()
}

// Presenter returns the error presenter of the handler. Each error leaves with a code:
// one the graph chose (*Error), one gqlgen set (parse and validation errors), BAD_USER_INPUT
// for arguments that do not decode and for ent validation errors, NOT_FOUND for ent's not
// found, and INTERNAL, with a generic message, for everything else, which is logged.
func Presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		code, _ := gerr.Extensions["code"].(string)
		var (
			own   *Error
			down  *database.UnavailableError
			dbErr *DatabaseError
			share *database.ShareExceededError
		)
		switch {
		case code == "INVALID_PAGINATION": // entgql's code for a negative first/last
			set(gerr, BadUserInput, gerr.Message)
		case code == errcode.ValidationFailed && len(gerr.Path) > 0 && gerr.Path[0] == ast.PathName("variable"):
			// The document is valid but a variable's value is not (a level that is no
			// LogEntryLevel, an ID that is not a string): the client's input, not its query.
			// gqlparser's message ("must be defined") needs the variable's path to be clear.
			set(gerr, BadUserInput, "$"+gerr.Path[1:].String()+": "+gerr.Message)
		case code != "":
			// Set by gqlgen or by an extension: clients already know these.
		case errors.As(err, &own):
			if own.Cause != nil {
				log.ErrorContext(ctx, "graphql: "+own.Message, "path", gerr.Path.String(), "err", own.Cause)
			}
			set(gerr, own.Code, own.Message)
		case timedOut(ctx, err):
			// Whatever the driver made of the cancellation, the cause is the request's deadline.
			log.WarnContext(ctx, "graphql: request timed out", "path", gerr.Path.String(), "err", err)
			name := timedOutOn(err) // before set, which cuts gerr (maybe err itself) from its cause
			set(gerr, Timeout, "the request ran out of time and was cancelled")
			if name != "" {
				set(gerr, Timeout, fmt.Sprintf("the request ran out of time waiting for the %s database", name))
				gerr.Extensions["database"] = name
			}
		case errors.As(err, &share):
			// One caller holds their share of the pool: their load, not the database's state.
			set(gerr, TooManyRequests, fmt.Sprintf("you already run as many statements on the %s database as one caller may; retry when they end", share.Database))
			gerr.Extensions["database"] = share.Database
		case errors.As(err, new(*database.BusyError)):
			name := database.Name(err) // before set, as above
			log.WarnContext(ctx, "graphql: database busy", "database", name, "path", gerr.Path.String(), "err", err)
			set(gerr, DatabaseBusy, fmt.Sprintf("the %s database is busy: every connection is in use; retry shortly", name))
			gerr.Extensions["database"] = name
		case errors.As(err, new(*database.TimeoutError)):
			// The server's statement timeout, within the request's own time.
			name := database.Name(err)
			log.WarnContext(ctx, "graphql: statement timed out", "database", name, "path", gerr.Path.String(), "err", err)
			set(gerr, Timeout, fmt.Sprintf("the %s database did not answer in time", name))
			gerr.Extensions["database"] = name
		case errors.As(err, &down):
			log.WarnContext(ctx, "graphql: database unavailable", "database", down.Database, "path", gerr.Path.String(), "err", down.Err)
			set(gerr, DatabaseUnavailable, fmt.Sprintf("the %s database is unavailable", down.Database))
			gerr.Extensions["database"] = down.Database
		case errors.As(err, &dbErr):
			log.ErrorContext(ctx, "graphql: database failed", "database", dbErr.Database, "path", gerr.Path.String(), "err", dbErr.Err)
			set(gerr, Internal, fmt.Sprintf("the %s database failed", dbErr.Database))
			gerr.Extensions["database"] = dbErr.Database
		case introspectionOff(ctx):
			set(gerr, Forbidden, "introspection is disabled")
		case isArgument(ctx, gerr):
			set(gerr, BadUserInput, gerr.Message)
		case isInput(err):
			field, msg, ok := validation(err)
			if !ok {
				msg = gerr.Message
			}
			set(gerr, BadUserInput, msg)
			if field != "" {
				gerr.Extensions["field"] = field
			}
		case isNotFound(err):
			// ent says "<client>: user not found"; the client's name adds nothing.
			msg := err.Error()
			if _, after, ok := strings.Cut(msg, ": "); ok {
				msg = after
			}
			set(gerr, NotFound, msg)
		case gerr.Err == nil && errors.As(err, new(*gqlerror.Error)):
			// A gqlerror built for the client with no cause, such as entgql's refusal of
			// first and last together.
			set(gerr, BadUserInput, gerr.Message)
		default:
			log.ErrorContext(ctx, "graphql: internal error", "path", gerr.Path.String(), "err", err)
			set(gerr, Internal, internalMessage)
		}
		return gerr
	}
}

// timedOut reports whether err comes from the request's deadline: the error says so, or the
// request's context has expired (lib/pq reports a cancelled statement in words of its own).
func timedOut(ctx context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return false
	}
	var down *database.UnavailableError
	var dbErr *DatabaseError
	return errors.As(err, &down) || errors.As(err, &dbErr) || errors.As(err, new(*database.TimeoutError)) ||
		errors.As(err, new(*database.BusyError))
}

// timedOutOn names the database a timed-out error was waiting on, or "".
func timedOutOn(err error) string {
	if name := database.Name(err); name != "" {
		return name
	}
	var dbErr *DatabaseError
	if errors.As(err, &dbErr) {
		return dbErr.Database
	}
	return ""
}

// databaseCode is the code of a failure of a database other than UnavailableError, or "".
func databaseCode(err error) string {
	switch {
	case errors.As(err, new(*database.BusyError)):
		return DatabaseBusy
	case errors.As(err, new(*database.TimeoutError)):
		return Timeout
	}
	return ""
}

// isArgument reports whether err was raised while decoding an argument of the current field:
// gqlgen puts such errors on the argument's path, below the field's own.
func isArgument(ctx context.Context, gerr *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(gerr.Path) == 0 {
		return false
	}
	return len(gerr.Path) > len(fc.Path()) && fc.Args == nil
}

// introspectionOff reports whether the error is gqlgen's refusal of __schema or __type on a
// server whose introspection is off.
func introspectionOff(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || (fc.Field.Name != "__schema" && fc.Field.Name != "__type") || !graphql.HasOperationContext(ctx) {
		return false
	}
	return graphql.GetOperationContext(ctx).DisableIntrospection
}

func set(gerr *gqlerror.Error, code, msg string) {
	if gerr.Extensions == nil {
		gerr.Extensions = map[string]any{}
	}
	gerr.Extensions["code"] = code
	gerr.Message = msg
	// The cause stays in the log: a wrapped driver error must not reach the response.
	gerr.Err = nil
}

// Recover returns the handler's recover func: a panic in a resolver is logged with its stack
// and becomes an INTERNAL error on that field.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql: panic", "panic", p, "stack", string(debug.Stack()))
		return &Error{Code: Internal, Message: internalMessage}
	}
}
