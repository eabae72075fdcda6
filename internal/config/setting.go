package config

import (
	"fmt"
	"strconv"
	"time"
)

// Duration reads the duration setting key: def when unset, an ErrConfig naming key and hint
// when it is not a duration from min to max (max 0: no upper bound).
func (c *Config) Duration(key string, def, min, max time.Duration, hint string) (time.Duration, error) {
	v, ok := c.Lookup(key)
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil || d < min:
		return def, fmt.Errorf("%w: %s=%q is not a duration of at least %s; %s", ErrConfig, key, v, min, hint)
	case max > 0 && d > max:
		return def, fmt.Errorf("%w: %s=%q is over %s; %s", ErrConfig, key, v, max, hint)
	}
	return d, nil
}

// Int reads the whole-number setting key: def when unset, an ErrConfig naming key and hint
// when it is not from min to max.
func (c *Config) Int(key string, def, min, max int, hint string) (int, error) {
	v, ok := c.Lookup(key)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return def, fmt.Errorf("%w: %s=%q is not a whole number from %d to %d; %s", ErrConfig, key, v, min, max, hint)
	}
	return n, nil
}
